package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/cwlogs"
	"lakestream/shared/firehose"
	"lakestream/shared/streamput"
)

// ErrEventTooLarge fails a record one of whose log events alone renders to
// more than a Lambda response (or a re-ingested record) can carry: no split
// can make it fit, so it goes to the processing-failed prefix.
var ErrEventTooLarge = errors.New("a single log event is too large")

// maxReingest is the largest payload re-ingestion writes: Firehose's
// per-record limit, the smaller of Firehose's and Kinesis's.
var maxReingest = streamput.FirehoseLimits.RecordBytes

// transformer turns one CloudWatch Logs subscription payload into log
// lines. It is safe for concurrent use.
type transformer struct {
	maxDecompressed int64
	budget          int
	include         func(string) bool
	exclude         func(string) bool
	render          renderer
	part            *partitioner
	counts          counters
}

func newTransformer(c Config) *transformer {
	t := &transformer{
		maxDecompressed: c.MaxDecompressed,
		budget:          c.Budget,
		render:          newRenderer(c),
		part:            newPartitioner(c.Partition),
	}
	if c.Include != nil {
		t.include = c.Include.MatchString
	}
	if c.Exclude != nil {
		t.exclude = c.Exclude.MatchString
	}
	return t
}

// Transform is the firehose.Transform: CONTROL_MESSAGE is dropped, a
// DATA_MESSAGE becomes its (filtered) log events rendered one per line. A
// payload whose output would not fit in a Lambda response on its own comes
// back as two re-ingested payloads of half its events each, and one whose
// events fall in different partitions as one payload per partition.
func (t *transformer) Transform(ctx context.Context, r firehose.Record) (firehose.Output, error) {
	o, err := t.transform(ctx, r)
	if errors.Is(err, ErrEventTooLarge) {
		t.counts.add(countEventTooLarge, 1)
	}
	return o, err
}

func (t *transformer) transform(ctx context.Context, r firehose.Record) (firehose.Output, error) {
	if err := ctx.Err(); err != nil {
		return firehose.Output{}, err
	}
	d, err := t.decode(r.Data)
	if err != nil {
		return firehose.Output{}, err
	}
	if d.MessageType == cwlogs.MessageTypeControl {
		t.counts.add(countControl, 1)
		return firehose.Output{Drop: true}, nil
	}
	t.counts.add(countEventsIn, len(d.LogEvents))
	if d.LogEvents = t.filter(d.LogEvents); len(d.LogEvents) == 0 {
		t.counts.add(countRecordsFiltered, 1)
		return firehose.Output{Drop: true}, nil
	}
	if groups := t.part.groups(d.LogEvents); groups != nil {
		var payloads [][]byte
		for _, g := range groups {
			part := d
			part.LogEvents = g
			p, err := encodeBounded(part)
			if err != nil {
				return firehose.Output{}, err
			}
			payloads = append(payloads, p...)
		}
		t.counts.add(countRegrouped, 1)
		return firehose.Output{Reingest: payloads}, nil
	}

	// The framework fails a record whose output does not fit in a
	// response on its own; such a record must be split here.
	keys := t.part.keysFor(&d)
	out, ok := t.renderWithin(&d, firehose.MaxDataLen(t.budget, r.ID, keys))
	if !ok {
		if len(d.LogEvents) < 2 {
			return firehose.Output{}, fmt.Errorf("%w: event %s renders to more than the %d-byte response budget",
				ErrEventTooLarge, d.LogEvents[0].ID, t.budget)
		}
		a, b := cwlogs.Split(d)
		payloads, err := encodeBounded(a)
		if err != nil {
			return firehose.Output{}, err
		}
		more, err := encodeBounded(b)
		if err != nil {
			return firehose.Output{}, err
		}
		t.counts.add(countSplit, 1)
		return firehose.Output{Reingest: append(payloads, more...)}, nil
	}
	t.counts.add(countEventsOut, len(d.LogEvents))
	return firehose.Output{Data: out, PartitionKeys: keys}, nil
}

// decode is cwlogs.Decode with the failure counted by kind and, for data
// that is not gzip, the likely cause named.
func (t *transformer) decode(data []byte) (events.CloudwatchLogsData, error) {
	d, err := cwlogs.Decode(data, t.maxDecompressed)
	switch {
	case err == nil:
	case errors.Is(err, cwlogs.ErrNotGzip):
		t.counts.add(countNotGzip, 1)
		err = fmt.Errorf("%w (not a CloudWatch Logs subscription payload, or Firehose's own decompression is on)", err)
	case errors.Is(err, cwlogs.ErrTruncated):
		t.counts.add(countCorrupt, 1)
	case errors.Is(err, cwlogs.ErrTooLarge):
		t.counts.add(countTooLarge, 1)
		err = fmt.Errorf("%w (MAX_DECOMPRESSED_BYTES)", err)
	default:
		t.counts.add(countInvalid, 1)
	}
	return d, err
}

// filter keeps the events INCLUDE_PATTERN matches and EXCLUDE_PATTERN does
// not, in place.
func (t *transformer) filter(evs []events.CloudwatchLogsLogEvent) []events.CloudwatchLogsLogEvent {
	if t.include == nil && t.exclude == nil {
		return evs
	}
	kept := evs[:0]
	for _, ev := range evs {
		if (t.include == nil || t.include(ev.Message)) && (t.exclude == nil || !t.exclude(ev.Message)) {
			kept = append(kept, ev)
		}
	}
	t.counts.add(countEventsFiltered, len(evs)-len(kept))
	return kept
}

// renderWithin renders d's events, giving up (false) when the output is
// bound to pass limit bytes or as soon as it does, so an oversized payload
// costs no more memory than one that fits.
func (t *transformer) renderWithin(d *events.CloudwatchLogsData, limit int) ([]byte, bool) {
	f := t.render.frame(d)
	lower, capacity := t.render.size(f, d.LogEvents)
	if lower > limit {
		return nil, false // no need to render what cannot fit
	}
	out := make([]byte, 0, min(capacity, limit+1))
	for i := range d.LogEvents {
		if out = t.render.appendEvent(out, f, &d.LogEvents[i]); len(out) > limit {
			return nil, false
		}
	}
	return out, true
}

// encodeBounded encodes d as a subscription payload to re-ingest, halving
// it until every payload fits in one Firehose or Kinesis record.
func encodeBounded(d events.CloudwatchLogsData) ([][]byte, error) {
	p, err := cwlogs.Encode(d)
	if err != nil {
		return nil, err
	}
	if len(p) <= maxReingest {
		return [][]byte{p}, nil
	}
	if len(d.LogEvents) < 2 {
		return nil, fmt.Errorf("%w: event %s compresses to %d bytes, more than the %d a re-ingested record may hold",
			ErrEventTooLarge, d.LogEvents[0].ID, len(p), maxReingest)
	}
	a, b := cwlogs.Split(d)
	first, err := encodeBounded(a)
	if err != nil {
		return nil, err
	}
	second, err := encodeBounded(b)
	if err != nil {
		return nil, err
	}
	return append(first, second...), nil
}

// What the function counts beyond the framework's records, by metric name.
const (
	countEventsIn        = iota // log events decoded from DATA_MESSAGE payloads
	countEventsFiltered         // removed by INCLUDE_PATTERN / EXCLUDE_PATTERN
	countEventsOut              // rendered into Ok records (or put, on the direct path)
	countControl                // CONTROL_MESSAGE payloads dropped
	countRecordsFiltered        // payloads dropped because every event was filtered
	countSplit                  // payloads too large for a response, re-ingested in halves
	countRegrouped              // payloads spanning partitions, re-ingested per partition
	countNotGzip                // failed: not gzip
	countCorrupt                // failed: truncated or corrupt gzip
	countTooLarge               // failed: over MAX_DECOMPRESSED_BYTES
	countInvalid                // failed: bad JSON, missing field, unknown messageType
	countEventTooLarge          // failed: one event too large for any record
	numCounts
)

var countNames = [numCounts]string{
	"LogEventsIn", "LogEventsFiltered", "LogEventsOut", "ControlMessages", "RecordsAllFiltered",
	"RecordsSplit", "RecordsRegrouped", "RecordsNotGzip", "RecordsCorrupt", "RecordsTooLarge", "RecordsInvalid",
	"RecordsEventTooLarge",
}

// counters are the per-invocation counts, taken (and reset) once per
// invocation for the summary line and the metrics.
type counters [numCounts]atomic.Int64

func (c *counters) add(i, n int) { c[i].Add(int64(n)) }

func (c *counters) take() []firehose.Count {
	out := make([]firehose.Count, numCounts)
	for i := range c {
		out[i] = firehose.Count{Name: countNames[i], N: int(c[i].Swap(0))}
	}
	return out
}
