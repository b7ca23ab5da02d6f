package main

import (
	"context"
	"fmt"
	"sync"

	"lakestream/shared/streamput"
)

// outBatch is output lines to send: their bytes and the end offset of each.
type outBatch struct {
	data []byte
	ends []int
}

// sender puts batches of output lines into the delivery stream on a
// goroutine of its own, so that the next lines are read and parsed while a
// request is in flight. Two batches' memory is in use at most: the one
// being filled and the one being sent.
type sender struct {
	w      *streamput.Writer
	stream string
	jobs   chan outBatch
	free   chan outBatch
	done   chan struct{}

	mu   sync.Mutex
	err  error
	sent sentCounts
}

// sentCounts are what the sender confirmed delivered.
type sentCounts struct {
	lines, records int64
	bytes          int64
}

func newSender(ctx context.Context, w *streamput.Writer, stream string) *sender {
	s := &sender{w: w, stream: stream, jobs: make(chan outBatch, 1), free: make(chan outBatch, 1), done: make(chan struct{})}
	s.free <- outBatch{data: make([]byte, 0, flushAt+recordLimit)}
	go s.run(ctx)
	return s
}

// send hands b over and returns empty memory for the next batch, waiting
// while the previous batch is still being sent.
func (s *sender) send(b outBatch) outBatch {
	next := <-s.free
	s.jobs <- b
	return outBatch{data: next.data[:0], ends: next.ends[:0]}
}

// close waits for every batch handed over to be sent and returns the first
// failure and the counts of what was delivered.
func (s *sender) close() (sentCounts, error) {
	close(s.jobs)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent, s.err
}

// failed reports whether a batch could not be sent: the object has failed,
// and reading on would only send lines its retry sends again.
func (s *sender) failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err != nil
}

func (s *sender) run(ctx context.Context) {
	defer close(s.done)
	for b := range s.jobs {
		if !s.failed() {
			c, err := s.safePut(ctx, b)
			s.mu.Lock()
			s.sent.lines += c.lines
			s.sent.records += c.records
			s.sent.bytes += c.bytes
			if err != nil && s.err == nil {
				s.err = err
			}
			s.mu.Unlock()
		}
		s.free <- b
	}
}

// safePut is put on the sender's own goroutine, where a panic would end
// the process: it fails the batch instead, and the object with it.
func (s *sender) safePut(ctx context.Context, b outBatch) (c sentCounts, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("put into Firehose stream %s panicked: %v", s.stream, p)
		}
	}()
	return s.put(ctx, b)
}

// put packs a batch's lines into Firehose records of at most recordLimit
// bytes, cut between lines, and writes them (streamput splits them into
// requests within PutRecordBatch's limits and retries what is rejected).
func (s *sender) put(ctx context.Context, b outBatch) (sentCounts, error) {
	if len(b.ends) == 0 {
		return sentCounts{}, nil
	}
	var entries []streamput.Entry
	var lines []int64 // lines per entry
	start, prev := 0, 0
	n := int64(0)
	for _, end := range b.ends {
		if end-start > recordLimit && prev > start {
			entries = append(entries, streamput.Entry{Data: b.data[start:prev:prev]})
			lines = append(lines, n)
			start, n = prev, 0
		}
		prev = end
		n++
	}
	entries = append(entries, streamput.Entry{Data: b.data[start:prev:prev]})
	lines = append(lines, n)

	failures, err := s.w.Put(ctx, entries)
	failed := make(map[int]bool, len(failures))
	for _, f := range failures {
		failed[f.Index] = true
	}
	var c sentCounts
	for i, e := range entries {
		if !failed[i] {
			c.lines += lines[i]
			c.records++
			c.bytes += int64(len(e.Data))
		}
	}
	if err != nil {
		return c, fmt.Errorf("put into Firehose stream %s: %w", s.stream, err)
	}
	return c, nil
}
