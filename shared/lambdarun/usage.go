package lambdarun

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Usage is what a function's process has used of the machine so far.
type Usage struct {
	// CPU is the time its threads have run, user and system together,
	// from the scheduler's own count in nanoseconds
	// (/proc/<pid>/task/*/schedstat): /proc/<pid>/stat counts in 10 ms
	// ticks, too coarse for one invocation. A thread that has exited is
	// no longer counted; the Go runtime keeps its threads.
	CPU time.Duration
	// PeakRSS is the most memory the process has held resident, in bytes
	// (VmHWM): what outgrowing Lambda's memory size is about.
	PeakRSS int64
}

// Usage reads what the process has used so far (see Usage), from Linux's
// /proc; elsewhere, or once the process has exited, it fails.
func (f *Function) Usage() (Usage, error) {
	u, err := processUsage(f.cmd.Process.Pid)
	if err != nil {
		return Usage{}, fmt.Errorf("lambdarun: usage of the function's process: %w", err)
	}
	return u, nil
}

// processUsage reads the usage of the process pid.
func processUsage(pid int) (Usage, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return Usage{}, err
	}
	peak, err := statusKB(status, "VmHWM")
	if err != nil {
		return Usage{}, err
	}
	tasks, err := filepath.Glob(filepath.Join(dir, "task", "*", "schedstat"))
	if err != nil || len(tasks) == 0 {
		return Usage{}, fmt.Errorf("no threads under %s/task", dir)
	}
	var cpu time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if errors.Is(err, os.ErrNotExist) {
			continue // a thread that exited meanwhile
		}
		if err != nil {
			return Usage{}, err
		}
		ns, err := schedstatRunTime(b)
		if err != nil {
			return Usage{}, fmt.Errorf("%s: %w", t, err)
		}
		cpu += ns
	}
	return Usage{CPU: cpu, PeakRSS: peak}, nil
}

// schedstatRunTime is the first of the three numbers of a schedstat
// file: the nanoseconds the task has run.
func schedstatRunTime(b []byte) (time.Duration, error) {
	f := bytes.Fields(b)
	if len(f) != 3 {
		return 0, fmt.Errorf("schedstat %q: not three numbers", b)
	}
	ns, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("schedstat %q: %w", b, err)
	}
	return time.Duration(ns), nil
}

// statusKB is the value in bytes of a "<key>: <n> kB" line of a
// /proc/<pid>/status file.
func statusKB(status []byte, key string) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte(key+":"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			break
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			break
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("status: no %q line in kB", key)
}
