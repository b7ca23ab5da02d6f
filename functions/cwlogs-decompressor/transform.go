package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/cwlogs"
	"lakestream/shared/firehose"
	"lakestream/shared/pipeline"
	"lakestream/shared/streamput"
)

// ErrEventTooLarge fails a record one of whose log events alone renders to
// more than a Lambda response (or a re-ingested record) can carry: no split
// can make it fit, so it goes to the processing-failed prefix.
var ErrEventTooLarge = errors.New("a single log event is too large")

// maxReingest is the largest payload re-ingestion writes: Firehose's
// per-record limit, the smaller of Firehose's and Kinesis's.
var maxReingest = streamput.FirehoseLimits.RecordBytes

// decoders hold the inflate state and buffers of payloads decoded before:
// one per record in flight.
var decoders = sync.Pool{New: func() any { return new(cwlogs.Decoder) }}

// transformer is the source side of the pipeline for CloudWatch Logs: it
// splits a subscription payload into its log events, filters them by
// INCLUDE_PATTERN and EXCLUDE_PATTERN, has the shared pipeline turn them
// into output, and handles what the pipeline cannot: a payload whose
// output does not fit in a response, or whose events fall in different
// partitions, goes back to the stream in pieces. It is safe for concurrent
// use.
type transformer struct {
	maxDecompressed int64
	budget          int
	include         func(string) bool
	exclude         func(string) bool
	pipe            *pipeline.EventPipeline
	counts          counters
}

func newTransformer(c Config) (*transformer, error) {
	pipe, err := pipeline.NewEvents(sharedFields, c.Pipeline)
	if err != nil {
		return nil, err
	}
	t := &transformer{maxDecompressed: c.MaxDecompressed, budget: c.Budget, pipe: pipe}
	if c.Include != nil {
		t.include = c.Include.MatchString
	}
	if c.Exclude != nil {
		t.exclude = c.Exclude.MatchString
	}
	return t, nil
}

// Transform makes t the firehose.Transformer (the handler calls it
// directly, t being handed over rather than the method value):
// CONTROL_MESSAGE and a DATA_MESSAGE without events are dropped, a
// DATA_MESSAGE becomes its (filtered) log events, one output line each. A
// payload whose output would not fit in a Lambda response on its own comes
// back as two re-ingested payloads of half its events each, and one whose
// events fall in different partitions as one payload per partition.
func (t *transformer) Transform(ctx context.Context, r firehose.Record) (firehose.Output, error) {
	o, err := t.transform(ctx, r)
	var evErr *pipeline.EventError
	switch {
	case errors.Is(err, ErrEventTooLarge):
		t.counts.add(countEventTooLarge, 1)
	case errors.As(err, &evErr):
		t.counts.add(countEventFailed, 1)
	}
	return o, err
}

func (t *transformer) transform(ctx context.Context, r firehose.Record) (firehose.Output, error) {
	if err := ctx.Err(); err != nil {
		return firehose.Output{}, err
	}
	dec := decoders.Get().(*cwlogs.Decoder)
	defer decoders.Put(dec)
	d, err := t.decode(dec, r.Data)
	if err != nil {
		return firehose.Output{}, err
	}
	switch {
	case d.MessageType == cwlogs.MessageTypeControl:
		t.counts.add(countControl, 1)
		return firehose.Output{Drop: true}, nil
	case len(d.LogEvents) == 0:
		t.counts.add(countEmpty, 1)
		return firehose.Output{Drop: true}, nil
	}
	t.counts.add(countEventsIn, len(d.LogEvents))
	if d.LogEvents = t.filter(d.LogEvents); len(d.LogEvents) == 0 {
		t.counts.add(countRecordsFiltered, 1)
		return firehose.Output{Drop: true}, nil
	}

	// Partition keys make the response entry longer, so the limit
	// without them bounds the output; the one with them is checked after.
	limit := firehose.MaxDataLen(t.budget, r.ID, nil)
	res, err := t.pipe.Run(ctx, eventsOf(d), r.ArrivalTime, pipeline.RunOptions{Limit: limit, Out: r.Out})
	if err != nil {
		return firehose.Output{}, err
	}
	switch {
	case res.Groups != nil:
		var payloads [][]byte
		for _, g := range res.Groups {
			part := *d
			part.LogEvents = make([]events.CloudwatchLogsLogEvent, len(g))
			for i, j := range g {
				part.LogEvents[i] = d.LogEvents[j]
			}
			p, err := encodeBounded(part)
			if err != nil {
				return firehose.Output{}, err
			}
			payloads = append(payloads, p...)
		}
		t.counts.add(countRegrouped, 1)
		return firehose.Output{Reingest: payloads}, nil
	case res.Over || len(res.Data) > firehose.MaxDataLen(t.budget, r.ID, res.PartitionKeys):
		// The framework fails a record whose output does not fit in a
		// response on its own; such a record must be split here.
		if len(d.LogEvents) < 2 {
			return firehose.Output{}, fmt.Errorf("%w: event %s renders to more than the %d-byte response budget",
				ErrEventTooLarge, d.LogEvents[0].ID, t.budget)
		}
		a, b := cwlogs.Split(*d)
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
	t.counts.add(countEventsFiltered, int(res.Stats.Filtered))
	t.counts.add(countEventsSkipped, int(res.Stats.Skipped))
	if res.Data == nil {
		t.counts.add(countRecordsFiltered, 1)
		return firehose.Output{Drop: true}, nil
	}
	t.counts.add(countEventsOut, int(res.Stats.Written))
	return firehose.Output{Data: res.Data, PartitionKeys: res.PartitionKeys}, nil
}

// eventsOf is the pipeline's view of a payload: its events and the fields
// they share, in sharedFields' order. Decoded JSON strings are valid UTF-8
// (encoding/json, and the scanner where it decodes, replace invalid bytes
// or leave the document to encoding/json).
func eventsOf(d *events.CloudwatchLogsData) *pipeline.LogEvents {
	return &pipeline.LogEvents{Shared: []string{d.LogGroup, d.LogStream, d.Owner}, Events: d.LogEvents, ValidUTF8: true}
}

// decode is the Decoder's Decode with the failure counted by kind and, for
// data that is not gzip, the likely cause named. The data lives in dec.
func (t *transformer) decode(dec *cwlogs.Decoder, data []byte) (*events.CloudwatchLogsData, error) {
	d, err := dec.Decode(data, t.maxDecompressed)
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
	countEventsFiltered         // removed by INCLUDE_PATTERN / EXCLUDE_PATTERN / DROP_IF
	countEventsSkipped          // skipped by PARSE_MESSAGE's parser (a header line)
	countEventsOut              // written into Ok records (or put, on the direct path)
	countControl                // CONTROL_MESSAGE payloads dropped
	countEmpty                  // DATA_MESSAGE payloads without log events dropped
	countRecordsFiltered        // payloads dropped because every event was filtered
	countSplit                  // payloads too large for a response, re-ingested in halves
	countRegrouped              // payloads spanning partitions, re-ingested per partition
	countNotGzip                // failed: not gzip
	countCorrupt                // failed: truncated or corrupt gzip
	countTooLarge               // failed: over MAX_DECOMPRESSED_BYTES
	countInvalid                // failed: bad JSON, missing field, unknown messageType
	countEventTooLarge          // failed: one event too large for any record
	countEventFailed            // failed: a log event failed a stage (PARSE_MESSAGE, SCHEMA, ...)
	numCounts
)

var countNames = [numCounts]string{
	"LogEventsIn", "LogEventsFiltered", "LogEventsSkipped", "LogEventsOut", "ControlMessages", "RecordsEmpty",
	"RecordsAllFiltered", "RecordsSplit", "RecordsRegrouped", "RecordsNotGzip", "RecordsCorrupt", "RecordsTooLarge",
	"RecordsInvalid", "RecordsEventTooLarge", "RecordsEventFailed",
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
