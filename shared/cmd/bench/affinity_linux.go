package main

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"unsafe"
)

// cpuMask is a kernel CPU set (cpu_set_t) of up to 1,024 cores.
type cpuMask [16]uint64

// threadAffinity and setThreadAffinity read and set the calling thread's
// CPU set (sched_getaffinity and sched_setaffinity of thread 0, the
// caller).
func threadAffinity(m *cpuMask) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m))); e != 0 {
		return fmt.Errorf("sched_getaffinity: %w", e)
	}
	return nil
}

func setThreadAffinity(m *cpuMask) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m))); e != 0 {
		return fmt.Errorf("sched_setaffinity: %w", e)
	}
	return nil
}

// startOnCPU calls start with the calling goroutine's thread, and only
// it, held to cpu: a process started then (os/exec forks from the calling
// thread) inherits the affinity from its first instruction, while this
// process's other threads, and those the Go runtime creates meanwhile
// (from its template thread, since this one is locked), keep theirs.
// The thread gets its own affinity back before it is unlocked; if that
// fails it stays locked, and so ends with its goroutine rather than run
// other goroutines on cpu.
func startOnCPU(cpu int, start func() error) error {
	if cpu < 0 || cpu >= len(cpuMask{})*64 {
		return fmt.Errorf("start on core %d: no such core", cpu)
	}
	runtime.LockOSThread()
	var old, one cpuMask
	if err := threadAffinity(&old); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("start on core %d: %w", cpu, err)
	}
	one[cpu/64] = 1 << (cpu % 64)
	if err := setThreadAffinity(&one); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("start on core %d: %w", cpu, err)
	}
	err := start()
	if rerr := setThreadAffinity(&old); rerr != nil {
		return errors.Join(err, fmt.Errorf("start on core %d: restore the thread's cores: %w", cpu, rerr))
	}
	runtime.UnlockOSThread()
	return err
}
