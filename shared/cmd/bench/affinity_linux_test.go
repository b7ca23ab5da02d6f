package main

import (
	"bytes"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cpusAllowed is what a command started by start reports as its cores.
func cpusAllowed(t *testing.T, start func(func() error) error) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", "grep Cpus_allowed_list /proc/self/status")
	var out bytes.Buffer
	cmd.Stdout = &out
	require.NoError(t, start(cmd.Start))
	require.NoError(t, cmd.Wait())
	_, list, ok := strings.Cut(strings.TrimSpace(out.String()), ":")
	require.True(t, ok, "%q", out.String())
	return strings.TrimSpace(list)
}

// TestStartOnCPU: a process started apart runs on the measured core from
// its start; the thread that started it, and so what starts later, keeps
// the cores it had.
func TestStartOnCPU(t *testing.T) {
	last := runtime.NumCPU() - 1
	before := cpusAllowed(t, func(start func() error) error { return start() })
	threadMask := func() cpuMask {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var m cpuMask
		require.NoError(t, threadAffinity(&m))
		return m
	}
	maskBefore := threadMask()

	apart := placement{cpu: last, apart: true}
	assert.Equal(t, strconv.Itoa(last), cpusAllowed(t, apart.start))
	assert.Equal(t, before, cpusAllowed(t, func(start func() error) error { return start() }), "this process's cores are as they were")

	assert.Equal(t, maskBefore, threadMask(), "no thread left on the core alone")

	shared := placement{cpu: last}
	assert.Equal(t, before, cpusAllowed(t, shared.start), "not apart, what starts inherits this process's cores")

	assert.ErrorContains(t, startOnCPU(-1, func() error { return nil }), "no such core")
}
