package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"

	"lakestream/shared/moto/sink"
)

// sinkCommand is the argument that makes this command serve a sink
// (shared/moto/sink) instead of benchmarking: see startSink.
const sinkCommand = "serve-sink"

// serveSink serves a sink on a free loopback port, writes its URL as the
// first line of stdout, and exits when stdin closes (when the benchmark
// that started it ends, however it ends).
func serveSink() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("sink: listen: %w", err)
	}
	go http.Serve(ln, sink.New()) //nolint:errcheck // it serves until the process exits.
	fmt.Printf("http://%s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin) //nolint:errcheck // any end of stdin ends it.
	return nil
}

// sinkProcess is a sink served by this command re-run as `bench
// serve-sink`: what the Runtime API cases that put records into Firehose
// (delivering, or re-ingesting what a response cannot hold) put them
// into. It stands in for Firehose as a service does: off the function's
// core (see pinAway), answering at once; real Firehose adds network
// latency to the wall time, not CPU on the function's core.
type sinkProcess struct {
	URL   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
}

// startSink starts the sink's process and waits for its URL.
func startSink(ctx context.Context) (*sinkProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("the sink: %w", err)
	}
	cmd := exec.Command(self, sinkCommand)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("the sink: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("the sink: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("the sink: %w", err)
	}
	p := &sinkProcess{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }() //nolint:errcheck // stop waits for it.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("the sink did not say where it listens: %w", err)
	}
	p.URL = strings.TrimSpace(line)
	return p, nil
}

// take returns the data of the records put since the last take.
func (p *sinkProcess) take(ctx context.Context) ([][]byte, error) {
	records, err := sink.TakeFrom(ctx, p.URL)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(records))
	for i, r := range records {
		out[i] = r.Data
	}
	return out, nil
}

// pinAway holds the sink's process to the cores other than cpu (the
// benchmark's, see pin), and says where it runs.
func (p *sinkProcess) pinAway(cpu int) string { return holdAway(p.cmd.Process.Pid, cpu) }

// stop ends the sink's process.
func (p *sinkProcess) stop() {
	p.stdin.Close()
	select {
	case <-p.done:
	default:
		p.cmd.Process.Kill() //nolint:errcheck // it may have exited already.
		<-p.done
	}
}
