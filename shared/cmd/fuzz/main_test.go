package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Outputs of go test -fuzz, as go1.26 prints them.
const (
	clean = "fuzz: elapsed: 0s, gathering baseline coverage: 0/12 completed\n" +
		"fuzz: elapsed: 10s, execs: 81234 (8123/sec), new interesting: 3 (total: 15)\n" +
		"PASS\nok  \tlakestream/shared/syslog\t10.214s\n"
	deadline = "fuzz: elapsed: 9s, execs: 40304 (13431/sec), new interesting: 4 (total: 16)\n" +
		"fuzz: elapsed: 10s, execs: 40304 (0/sec), new interesting: 4 (total: 16)\n" +
		"--- FAIL: FuzzParse (10.20s)\n    context deadline exceeded\nFAIL\nexit status 1\n" +
		"FAIL\tlakestream/shared/syslog\t10.214s\n"
	failingInput = "fuzz: elapsed: 3s, execs: 2211 (737/sec), new interesting: 1 (total: 13)\n" +
		"--- FAIL: FuzzParse (3.01s)\n    --- FAIL: FuzzParse (0.00s)\n        syslog_test.go:88: round trip: got \"a\", want \"b\"\n" +
		"\n    Failing input written to testdata/fuzz/FuzzParse/3f2a\n" +
		"    To re-run:\n    go test -run=FuzzParse/3f2a\nFAIL\nexit status 1\n"
	crashWithDeadline = "--- FAIL: FuzzParse (10.00s)\n    fuzzing process hung or terminated unexpectedly: exit status 2\n" +
		"    context deadline exceeded\nFAIL\n"
	panicked = "panic: runtime error: index out of range [3] with length 3\n\ngoroutine 7 [running]:\n" +
		"--- FAIL: FuzzParse (1.00s)\n    context deadline exceeded\n"
	buildError = "# lakestream/shared/syslog\nshared/syslog/syslog.go:12:2: undefined: x\nFAIL\tlakestream/shared/syslog [build failed]\n"
)

func TestToolchainFlake(t *testing.T) {
	for name, tc := range map[string]struct {
		out  string
		want bool
	}{
		"the deadline race":                   {deadline, true},
		"a failing input":                     {failingInput, false},
		"a crash that also hit the deadline":  {crashWithDeadline, false},
		"a panic":                             {panicked, false},
		"a build error":                       {buildError, false},
		"a passing run is no flake to retry":  {clean, false},
		"the deadline in a test's own output": {"--- FAIL: FuzzX (1s)\n    x_test.go:3: Get: context deadline exceeded\n", false},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, toolchainFlake(tc.out))
		})
	}
}

// TestRunAllRunsEveryTargetAndRetriesFlakesOnce drives runAll with scripted
// outputs: every target runs after a failure, a flake is retried once and
// only once, and only findings fail the run.
func TestRunAllRunsEveryTargetAndRetriesFlakesOnce(t *testing.T) {
	script := map[string][]string{ // outputs of successive runs by target
		"FuzzA": {clean},
		"FuzzB": {failingInput},
		"FuzzC": {deadline, clean},
		"FuzzD": {deadline, deadline},
		"FuzzE": {deadline, failingInput},
		"FuzzF": {clean},
	}
	runs := map[string]int{}
	run := func(t target) (string, bool) {
		out := script[t.name][runs[t.name]]
		runs[t.name]++
		return out, out == clean
	}
	var targets []target
	for _, name := range []string{"FuzzA", "FuzzB", "FuzzC", "FuzzD", "FuzzE", "FuzzF"} {
		targets = append(targets, target{pkg: "lakestream/x", name: name})
	}
	var log strings.Builder
	results := runAll(targets, run, &log)
	got := map[string]outcome{}
	for _, r := range results {
		got[r.target.name] = r.outcome
	}
	assert.Equal(t, map[string]outcome{"FuzzA": passed, "FuzzB": finding, "FuzzC": passedOnRetry, "FuzzD": flaky, "FuzzE": finding, "FuzzF": passed}, got)
	assert.Equal(t, map[string]int{"FuzzA": 1, "FuzzB": 1, "FuzzC": 2, "FuzzD": 2, "FuzzE": 2, "FuzzF": 1}, runs, "a finding is not retried; a flake once")

	var summary strings.Builder
	assert.False(t, summarize(&summary, results), "a finding fails the run")
	assert.Contains(t, summary.String(), "6 targets: 2 ok, 1 ok on retry, 1 toolchain flakes, 2 failed")
	assert.Contains(t, summary.String(), "lakestream/x FuzzD")

	summary.Reset()
	assert.True(t, summarize(&summary, results[2:4]), "flakes alone do not fail it")
}

func TestListTargetsFindsTheModulesFuzzFunctions(t *testing.T) {
	targets, err := listTargets(context.Background(), []string{"lakestream/shared/syslog", "lakestream/shared/cmd/fuzz"})
	require.NoError(t, err)
	var names []string
	for _, tg := range targets {
		assert.Equal(t, "lakestream/shared/syslog", tg.pkg, "this package's tests hold no fuzz target")
		names = append(names, tg.name)
	}
	assert.NotEmpty(t, names)
	for _, n := range names {
		assert.True(t, strings.HasPrefix(n, "Fuzz"), n)
	}
}
