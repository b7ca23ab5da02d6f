// Command fuzz runs every fuzz target of the module for a while (`make
// fuzz`), one `go test -fuzz` per target, and prints a summary at the end:
//
//	go run ./shared/cmd/fuzz [-fuzztime 10s] [packages]
//
// Every target runs even when an earlier one fails. A run that fails only
// with the toolchain's "context deadline exceeded" at the -fuzztime
// boundary (go.dev/issue/75804, fixed in Go 1.27) and wrote no failing
// input is run once more; if that fails the same way it is reported as a
// toolchain flake, not a finding. The command exits 1 only for findings:
// a failing input, a crash, a test failure, or any failure it does not
// recognise.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

func main() {
	fuzztime := flag.String("fuzztime", "10s", "how long to fuzz each target (go test -fuzztime)")
	flag.Parse()
	patterns := flag.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	ctx := context.Background()
	targets, err := listTargets(ctx, patterns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzz:", err)
		os.Exit(2)
	}
	results := runAll(targets, goTest(ctx, *fuzztime, os.Stdout), os.Stdout)
	if !summarize(os.Stdout, results) {
		os.Exit(1)
	}
}

// target is one fuzz function of one package.
type target struct{ pkg, name string }

func (t target) String() string { return t.pkg + " " + t.name }

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w*)\(\w+ \*testing\.F\)`)

// listTargets finds the Fuzz functions in the test files of the packages.
func listTargets(ctx context.Context, patterns []string) ([]target, error) {
	out, err := exec.CommandContext(ctx, "go", append([]string{"list", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{join .TestGoFiles \" \"}} {{join .XTestGoFiles \" \"}}"}, patterns...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("list packages: %w", err)
	}
	var targets []target
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), "\t", 3)
		if len(fields) != 3 {
			continue
		}
		for _, f := range strings.Fields(fields[2]) {
			src, err := os.ReadFile(filepath.Join(fields[1], f))
			if err != nil {
				return nil, err
			}
			for _, m := range fuzzFunc.FindAllSubmatch(src, -1) {
				targets = append(targets, target{pkg: fields[0], name: string(m[1])})
			}
		}
	}
	return targets, nil
}

// runner fuzzes one target and returns its output and whether it passed.
type runner func(t target) (output string, ok bool)

// goTest fuzzes with the go command, echoing its output to w.
func goTest(ctx context.Context, fuzztime string, w io.Writer) runner {
	return func(t target) (string, bool) {
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-fuzz", "^"+t.name+"$", "-fuzztime", fuzztime, t.pkg)
		var out bytes.Buffer
		cmd.Stdout = io.MultiWriter(&out, w)
		cmd.Stderr = cmd.Stdout
		err := cmd.Run()
		return out.String(), err == nil
	}
}

// outcome is what became of one target.
type outcome int

const (
	passed        outcome = iota
	passedOnRetry         // the toolchain flake once, then a clean run
	flaky                 // the toolchain flake twice: nothing found, nothing proven
	finding               // a failing input, a crash or a failed test
)

var outcomeNames = map[outcome]string{
	passed:        "ok",
	passedOnRetry: "ok on retry (the first run hit go.dev/issue/75804)",
	flaky:         "toolchain flake twice (go.dev/issue/75804), no finding",
	finding:       "FAILED",
}

type result struct {
	target  target
	outcome outcome
}

// runAll fuzzes every target, retrying a toolchain flake once.
func runAll(targets []target, run runner, w io.Writer) []result {
	var results []result
	for _, t := range targets {
		fmt.Fprintf(w, "== fuzz %s\n", t)
		out, ok := run(t)
		r := result{target: t, outcome: passed}
		if !ok {
			r.outcome = finding
			if toolchainFlake(out) {
				fmt.Fprintf(w, "== %s: only the toolchain's fuzztime deadline race (go.dev/issue/75804); running it once more\n", t)
				out, ok = run(t)
				switch {
				case ok:
					r.outcome = passedOnRetry
				case toolchainFlake(out):
					r.outcome = flaky
				}
			}
		}
		results = append(results, r)
	}
	return results
}

// toolchainFlake reports whether a failed run's output is go.dev/issue/75804
// and nothing else: "context deadline exceeded" as the failure, with no
// failing input written, no panic and no other failure message.
func toolchainFlake(out string) bool {
	if !strings.Contains(out, "context deadline exceeded") ||
		strings.Contains(out, "Failing input written to") ||
		strings.Contains(out, "panic:") {
		return false
	}
	// The failure report is "--- FAIL: FuzzX (10.2s)" followed by indented
	// messages; the deadline must be the only one.
	inFailure := false
	for line := range strings.Lines(out) {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "--- FAIL:"):
			inFailure = true
		case inFailure && strings.HasPrefix(line, "    "):
			if trimmed != "context deadline exceeded" {
				return false
			}
		default:
			inFailure = false
		}
	}
	return true
}

// summarize prints one line per target and reports whether none failed.
func summarize(w io.Writer, results []result) bool {
	counts := map[outcome]int{}
	fmt.Fprintln(w, "\nfuzz summary:")
	for _, r := range results {
		counts[r.outcome]++
		fmt.Fprintf(w, "  %-60s %s\n", r.target, outcomeNames[r.outcome])
	}
	fmt.Fprintf(w, "%d targets: %d ok, %d ok on retry, %d toolchain flakes, %d failed\n",
		len(results), counts[passed], counts[passedOnRetry], counts[flaky], counts[finding])
	return counts[finding] == 0
}
