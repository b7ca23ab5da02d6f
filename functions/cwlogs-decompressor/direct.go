package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/cwlogs"
	"lakestream/shared/metrics"
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
	d, err := h.t.decode(payload)
	if err != nil {
		return err
	}
	res.MessageType, res.LogGroup = d.MessageType, d.LogGroup
	if d.MessageType == cwlogs.MessageTypeControl {
		h.t.counts.add(countControl, 1)
		return nil
	}
	res.LogEventsIn = len(d.LogEvents)
	h.t.counts.add(countEventsIn, len(d.LogEvents))
	d.LogEvents = h.t.filter(d.LogEvents)
	res.LogEventsFiltered = res.LogEventsIn - len(d.LogEvents)
	entries, err := h.t.records(&d, maxReingest)
	if err != nil {
		h.t.counts.add(countEventTooLarge, 1)
		return err
	}
	if len(entries) > 0 {
		if _, err := h.direct.Put(ctx, entries); err != nil {
			return fmt.Errorf("put %d records into %s: %w", len(entries), h.stream, err)
		}
	}
	h.t.counts.add(countEventsOut, len(d.LogEvents))
	res.LogEventsOut, res.RecordsPut = len(d.LogEvents), len(entries)
	return nil
}

// records renders d's events into Firehose records of at most limit bytes,
// cut between lines, so that the records concatenated in the destination
// are the same lines as the Firehose path writes.
func (t *transformer) records(d *events.CloudwatchLogsData, limit int) ([]streamput.Entry, error) {
	f := t.render.frame(d)
	_, capacity := t.render.size(f, d.LogEvents)
	buf := make([]byte, 0, capacity)
	var entries []streamput.Entry
	start := 0 // where the current record starts in buf
	for i := range d.LogEvents {
		end := len(buf)
		buf = t.render.appendEvent(buf, f, &d.LogEvents[i])
		if n := len(buf) - end; n > limit {
			return nil, fmt.Errorf("%w: event %s renders to %d bytes, more than the %d a Firehose record may hold",
				ErrEventTooLarge, d.LogEvents[i].ID, n, limit)
		}
		if len(buf)-start > limit {
			entries = append(entries, streamput.Entry{Data: buf[start:end:end]})
			start = end
		}
	}
	if len(buf) > start {
		entries = append(entries, streamput.Entry{Data: buf[start:]})
	}
	return entries, nil
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
