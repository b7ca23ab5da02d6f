//go:build !linux

package main

import "fmt"

// startOnCPU cannot hold a thread to a core here (see the Linux one).
func startOnCPU(cpu int, start func() error) error {
	return fmt.Errorf("start on core %d: -runtime-api-off-core needs Linux", cpu)
}
