//go:build unix

package benchdata

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time the process has used, user and system, all
// threads (the garbage collector's included): on a machine shared with
// other work it varies far less than the wall clock, so the benchmarks
// report throughput per CPU second beside it.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
