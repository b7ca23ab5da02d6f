package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// placement is where the measured processes run (the bootstraps, the test
// binaries, the references) and where this one does.
type placement struct {
	cpu int // the core the measured processes run on; -1 for any
	// apart holds this process, and with it the local Runtime API
	// server, to the other cores (-runtime-api-off-core): in Lambda the
	// Runtime API is served by Lambda's own process, not on the
	// function's CPU. Otherwise this process shares the core, and what
	// it starts inherits it.
	apart bool
}

// hold pins this process and says how the run is held: on p.cpu with
// all it starts from now on, or, apart, on the other cores, starting what
// it measures on p.cpu (see start).
func (p placement) hold() string {
	if p.cpu < 0 {
		return "on every core (not pinned)"
	}
	if !p.apart {
		return pin(p.cpu)
	}
	where := holdAway(os.Getpid(), p.cpu)
	return fmt.Sprintf("one core (core %d) for what is measured, started there; the local Runtime API served by this command %s (-runtime-api-off-core)", p.cpu, where)
}

// start calls start, which starts a process to be measured: held apart,
// from a thread held to p.cpu, whose affinity the process inherits from
// its very start (its init included).
func (p placement) start(start func() error) error {
	if !p.apart || p.cpu < 0 {
		return start()
	}
	return startOnCPU(p.cpu, start)
}

// pin holds this process, its threads and everything it starts from now
// on to one core with taskset, and says how the run was held.
func pin(cpu int) string {
	if cpu >= runtime.NumCPU() {
		cpu = runtime.NumCPU() - 1
	}
	out, err := exec.Command("taskset", "-a", "-p", "-c", strconv.Itoa(cpu), strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("on every core (taskset -c %d failed: %s)", cpu, strings.TrimSpace(firstLine(fmt.Errorf("%v %s", err, out))))
	}
	return fmt.Sprintf("one core (taskset -c %d)", cpu)
}

// holdAway holds the process pid, every thread of it, to the cores other
// than cpu, and says where it runs.
func holdAway(pid, cpu int) string {
	if cpu < 0 {
		return "on any core"
	}
	cpu = min(cpu, runtime.NumCPU()-1)
	var others []string
	for c := range runtime.NumCPU() {
		if c != cpu {
			others = append(others, strconv.Itoa(c))
		}
	}
	if len(others) == 0 {
		return "on the same core (there is no other)"
	}
	list := strings.Join(others, ",")
	if out, err := exec.Command("taskset", "-a", "-p", "-c", list, strconv.Itoa(pid)).CombinedOutput(); err != nil {
		return fmt.Sprintf("on any core (taskset -c %s failed: %s)", list, strings.TrimSpace(string(out)))
	}
	if len(others) > 1 {
		return "on cores " + list
	}
	return "on core " + list
}
