// Package replay sends records that failed through the pipeline again,
// once their cause is fixed. It is the logic of shared/cmd/replay (`make
// replay`), which users run against their account:
//
//   - Firehose (Firehose): the objects a delivery stream wrote to its error
//     output prefix (processing-failed/: JSON lines with each record's
//     rawData in base64, errorCode, errorMessage, attemptsMade, ...) for a
//     prefix and time range go back into the delivery stream (or its
//     Kinesis source), within PutRecordBatch's limits; each object replayed
//     is then tagged, or moved, so that a second run skips it.
//   - Stream (Stream): the messages a stream event source mapping sent to
//     its on-failure queue name a shard and the first and last sequence
//     numbers of a batch Lambda gave up on; the records of that range are
//     read again from the DynamoDB or Kinesis stream (while its retention
//     keeps them) and handed to the forwarder as the stream event Lambda
//     would have built, and the message is deleted once every record went
//     through.
//
// Both are dry runs unless asked to apply: they then only read and print
// what they would replay. They print a line per object or message as they
// go and return a Summary. Re-runs are idempotent: what was replayed is
// marked (tag, move, deleted message) and skipped; what failed is kept, in
// a smaller object or message holding only the records still to send.
package replay

import (
	"fmt"
	"io"
	"time"
)

// Summary counts what a run did (or, dry, would do) with the records.
type Summary struct {
	DryRun bool
	// Sources are the objects or queue messages looked at, Done those
	// finished with (tagged, moved, deleted; none in a dry run).
	Sources, Done int
	// Replayed records went back in (dry: would go back). Skipped ones
	// were replayed by an earlier run, or are in a message that names no
	// stream batch. Failed ones could not be sent: malformed, too large,
	// rejected after every retry, failed by the forwarder, or no longer in
	// the stream; they are kept for the next run where a retry may help.
	Replayed, Skipped, Failed int
	// Elapsed is the run's duration.
	Elapsed time.Duration
}

// String is the summary line a run ends with.
func (s Summary) String() string {
	verb := "replayed"
	if s.DryRun {
		verb = "would replay (dry run: add -apply to replay)"
	}
	return fmt.Sprintf("%s %d records; skipped %d; failed %d; from %d sources, %d done, in %s",
		verb, s.Replayed, s.Skipped, s.Failed, s.Sources, s.Done, s.Elapsed.Round(time.Millisecond))
}

// progress prints a run's lines: one per source, numbered, so that a long
// run shows how far it is.
type progress struct {
	w     io.Writer
	n     int
	total int
	start time.Time
}

func newProgress(w io.Writer) *progress {
	if w == nil {
		w = io.Discard
	}
	return &progress{w: w, start: time.Now()}
}

// source prints what became of the next source.
func (p *progress) source(format string, args ...any) {
	p.n++
	fmt.Fprintf(p.w, "[%d/%d %s] %s\n", p.n, p.total, time.Since(p.start).Round(time.Second), fmt.Sprintf(format, args...))
}

// note prints a line that belongs to the source just printed.
func (p *progress) note(format string, args ...any) {
	fmt.Fprintf(p.w, "    %s\n", fmt.Sprintf(format, args...))
}
