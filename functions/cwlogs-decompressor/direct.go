package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/cwlogs"
	"lakestream/shared/metrics"
	"lakestream/shared/pipeline"
	"lakestream/shared/streamput"
)

// ErrNoDestination fails a direct CloudWatch Logs invocation when
// DESTINATION_STREAM is unset: the events have nowhere to go, and failing
// lets Lambda keep the event in the dead-letter queue.
var ErrNoDestination = errors.New("DESTINATION_STREAM is unset: direct CloudWatch Logs subscription invocations need a Firehose delivery stream")

// DirectResult is the response to a direct CloudWatch Logs invocation.
// CloudWatch Logs invokes asynchronously and ignores it; it is there for
// `make invoke` and tests.
type DirectResult struct {
	MessageType       string `json:"messageType"`
	LogGroup          string `json:"logGroup,omitempty"`
	LogEventsIn       int    `json:"logEventsIn"`
	LogEventsFiltered int    `json:"logEventsFiltered"`
	LogEventsOut      int    `json:"logEventsOut"`
	RecordsPut        int    `json:"recordsPut"`
	DeliveryStream    string `json:"deliveryStream"`
}

// handleDirect decodes a subscription payload, renders its events as the
// Firehose path does and puts them into the destination stream, as many
// lines per Firehose record as fit in one. Every event either lands or the
// invocation fails before anything is put (a payload that cannot be
// decoded, an event too large for a record), or after the retries gave up
// (the invocation is retried).
func (h *Handler) handleDirect(ctx context.Context, raw *events.CloudwatchLogsRawData) (io.Reader, error) {
	res := DirectResult{DeliveryStream: h.stream}
	err := h.deliver(ctx, raw, &res)
	h.reportDirect(ctx, res, err)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

func (h *Handler) deliver(ctx context.Context, raw *events.CloudwatchLogsRawData, res *DirectResult) error {
	if h.direct == nil {
		return ErrNoDestination
	}
	payload, err := base64.StdEncoding.DecodeString(raw.Data)
	if err != nil {
		return fmt.Errorf("awslogs.data is not base64: %w", err)
	}
	dec := decoders.Get().(*cwlogs.Decoder)
	defer decoders.Put(dec)
	d, err := h.t.decode(dec, payload)
	if err != nil {
		return err
	}
	// Copies: the data lives in dec, which goes back to the pool.
	res.MessageType, res.LogGroup = strings.Clone(d.MessageType), strings.Clone(d.LogGroup)
	switch {
	case d.MessageType == cwlogs.MessageTypeControl:
		h.t.counts.add(countControl, 1)
		return nil
	case len(d.LogEvents) == 0:
		h.t.counts.add(countEmpty, 1)
		return nil
	}
	res.LogEventsIn = len(d.LogEvents)
	h.t.counts.add(countEventsIn, len(d.LogEvents))
	d.LogEvents = h.t.filter(d.LogEvents)
	entries, stats, err := h.t.records(ctx, d, maxReingest)
	var evErr *pipeline.EventError
	switch {
	case errors.Is(err, ErrEventTooLarge):
		h.t.counts.add(countEventTooLarge, 1)
	case errors.As(err, &evErr):
		h.t.counts.add(countEventFailed, 1)
	}
	if err != nil {
		return err
	}
	written := int(stats.Written)
	res.LogEventsFiltered = res.LogEventsIn - written
	if len(entries) > 0 {
		if _, err := h.direct.Put(ctx, entries); err != nil {
			return fmt.Errorf("put %d records into %s: %w", len(entries), h.stream, err)
		}
	}
	h.t.counts.add(countEventsFiltered, int(stats.Filtered))
	h.t.counts.add(countEventsSkipped, int(stats.Skipped))
	h.t.counts.add(countEventsOut, written)
	res.LogEventsOut, res.RecordsPut = written, len(entries)
	return nil
}

// records runs d's events through the pipeline, without partition keys
// (PutRecordBatch carries none), and packs the lines into Firehose records
// of at most limit bytes, cut between lines, so that the records
// concatenated in the destination are the same lines as the Firehose path
// writes. The stats count what happened to the events.
func (t *transformer) records(ctx context.Context, d *events.CloudwatchLogsData, limit int) ([]streamput.Entry, pipeline.Stats, error) {
	if len(d.LogEvents) == 0 {
		return nil, pipeline.Stats{}, nil
	}
	res, err := t.pipe.Run(ctx, eventsOf(d), time.Now(), pipeline.RunOptions{NoPartition: true, LineEnds: true})
	if err != nil {
		return nil, pipeline.Stats{}, err
	}
	var entries []streamput.Entry
	start, prev := 0, 0 // where the current record and the current line start
	for _, end := range res.LineEnds {
		if n := end - prev; n > limit {
			return nil, pipeline.Stats{}, fmt.Errorf("%w: a line of %d bytes, more than the %d a Firehose record may hold",
				ErrEventTooLarge, n, limit)
		}
		if end-start > limit {
			entries = append(entries, streamput.Entry{Data: res.Data[start:prev:prev]})
			start = prev
		}
		prev = end
	}
	if prev > start {
		entries = append(entries, streamput.Entry{Data: res.Data[start:prev]})
	}
	return entries, res.Stats, nil
}

func (h *Handler) reportDirect(ctx context.Context, res DirectResult, err error) {
	counts := h.t.counts.take()
	attrs := []any{"source", "awslogs", "delivery_stream", res.DeliveryStream, "message_type", res.MessageType, "records_put", res.RecordsPut}
	for _, c := range counts {
		attrs = append(attrs, c.Key(), c.N)
	}
	h.metrics.Count("DirectInvocations", 1)
	h.metrics.Count("DirectRecordsPut", res.RecordsPut)
	for _, c := range counts {
		h.metrics.Count(c.Name, c.N)
	}
	failed := 0
	if err != nil {
		failed = 1
	}
	h.metrics.Count("DirectInvocationsFailed", failed)
	metrics.Report(ctx, h.log, h.metrics, err, attrs...)
}
