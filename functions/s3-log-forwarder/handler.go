package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"lakestream/shared/batch"
	"lakestream/shared/metrics"
	"lakestream/shared/streamput"
)

// Statuses of an object in a Result.
const (
	// StatusForwarded: every line was read and is in Firehose, skipped,
	// filtered, or in the object's error objects.
	StatusForwarded = "forwarded"
	// StatusIgnored: left alone on purpose (see Reason).
	StatusIgnored = "ignored"
	// StatusFailed: not (completely) forwarded; see Error. The event or
	// SQS message is retried unless the object itself is at fault.
	StatusFailed = "failed"
)

// Result is what one invocation did: the response of S3, SNS and
// EventBridge invocations (SQS gets the batch item failures instead).
type Result struct {
	Source  string         `json:"source"`
	Format  string         `json:"format"`
	Stream  string         `json:"deliveryStream"`
	Objects []ObjectResult `json:"objects"`
}

// ObjectResult is one object's outcome.
type ObjectResult struct {
	// Source is s3://bucket/key (key URL-decoded).
	Source    string `json:"source"`
	MessageID string `json:"messageId,omitempty"`
	Status    string `json:"status"`
	Reason    string `json:"reason,omitempty"`
	Error     string `json:"error,omitempty"`
	Counts
	// ErrorObjects hold the object's failed lines with their numbers and
	// reasons.
	ErrorObjects []string `json:"errorObjects,omitempty"`
	Gzip         bool     `json:"gzip,omitempty"`
	DurationMS   int64    `json:"durationMs"`
}

// ObjectStore is the S3 calls the forwarder makes: it reads the log objects
// and writes the error objects.
type ObjectStore interface {
	ObjectGetter
	ObjectPutter
}

// forwarder forwards the lines of the S3 objects events report to Firehose.
type forwarder struct {
	cfg     *Config
	s3      ObjectStore
	put     *streamput.Writer
	log     *slog.Logger
	metrics *metrics.Recorder
}

// newHandler returns the Lambda handler: S3 notifications, EventBridge
// Object Created events, or SQS or SNS messages carrying either. Objects
// are forwarded one after another; one that fails fails alone.
func newHandler(cfg *Config, s ObjectStore, fh streamput.FirehoseAPI, log *slog.Logger, m *metrics.Recorder) *batch.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &forwarder{cfg: cfg, s3: s, put: streamput.NewFirehose(fh, cfg.DeliveryStream, cfg.Retry), log: log, metrics: m}
	return batch.New(f.start, batch.WithNoun("objects"), batch.WithLogger(log), batch.WithMetrics(m))
}

// invocation is one invocation's objects.
type invocation struct {
	*forwarder
	source  batch.Source
	results []ObjectResult // by item index
	seen    map[string]int
}

func (f *forwarder) start(inv *batch.Invocation) batch.Job {
	x := &invocation{forwarder: f, source: inv.Source, results: make([]ObjectResult, len(inv.Items)), seen: map[string]int{}}
	return batch.Job{Item: x.item, Finish: x.finish}
}

// item forwards one object, all of it, before the next.
func (x *invocation) item(ctx context.Context, it *batch.Item) error {
	switch {
	case it.S3 == nil && it.Event != nil:
		return batch.Skip(fmt.Sprintf("EventBridge %s event %q does not create an object", it.Event.Source, it.Event.DetailType))
	case it.S3 == nil:
		return batch.Permanent(fmt.Errorf("%w: not an S3 notification or an EventBridge Object Created event", batch.ErrUnreadable))
	}
	if reason := x.skipReason(*it.S3); reason != "" {
		return batch.Skip(reason)
	}
	// S3 may deliver an event twice; within one invocation the object is
	// sent once.
	id := it.S3.URI() + "\x00" + it.S3.ETag
	if first, ok := x.seen[id]; ok {
		return batch.Skip(fmt.Sprintf("the same object as item %d", first))
	}
	x.seen[id] = it.Index

	began := time.Now()
	out, err := x.forwardObject(ctx, *it.S3)
	counts, objects := out.Counts, out.ErrorObjects
	r := &x.results[it.Index]
	r.Counts, r.ErrorObjects, r.Gzip, r.DurationMS = counts, objects, out.Gzip, time.Since(began).Milliseconds()
	attrs := []any{"source", it.S3.URI(), "format", x.cfg.Format.Name,
		"lines_read", counts.LinesRead, "lines_sent", counts.LinesSent, "lines_skipped", counts.LinesSkipped,
		"lines_filtered", counts.LinesFiltered, "lines_failed", counts.LinesFailed,
		"records_put", counts.RecordsPut, "bytes_read", counts.BytesRead, "bytes_sent", counts.BytesSent,
		"error_objects", len(objects), "duration_ms", r.DurationMS}
	if err != nil {
		x.log.ErrorContext(ctx, "object failed", append(attrs, "lines_unsent", counts.LinesUnsent, "error", err.Error())...)
		return classify(err)
	}
	x.log.InfoContext(ctx, "object forwarded", attrs...)
	return nil
}

// classify says what a failed object's error means for the invocation: an
// object that changed since its event is skipped (its new version has an
// event of its own); one that is gone, not text or does not decode failed
// in a way no retry cures; anything else is retried.
func classify(err error) error {
	var de *decodeError
	switch {
	case errors.Is(err, ErrChanged):
		return batch.Skip(err.Error())
	case errors.Is(err, ErrGone), errors.Is(err, ErrNotText), errors.As(err, &de):
		return batch.Permanent(err)
	}
	return err
}

// finish says what became of each object and adds the line counts to the
// summary line and the metrics.
func (x *invocation) finish(_ context.Context, items []*batch.Item) (any, []any) {
	res := &Result{Source: string(x.source), Format: x.cfg.Format.Name, Stream: x.cfg.DeliveryStream, Objects: x.results}
	var total Counts
	errorObjects := 0
	for _, it := range items {
		r := &res.Objects[it.Index]
		r.MessageID = it.ID
		if it.S3 != nil {
			r.Source = it.S3.URI()
		}
		switch it.Outcome() {
		case batch.Skipped:
			r.Status, r.Reason = StatusIgnored, it.Reason()
		case batch.Failed:
			r.Status, r.Error = StatusFailed, it.Err().Error()
		default:
			r.Status = StatusForwarded
		}
		total.add(r.Counts)
		errorObjects += len(r.ErrorObjects)
	}
	m := x.metrics
	m.Count("LinesRead", int(total.LinesRead))
	m.Count("LinesSent", int(total.LinesSent))
	m.Count("LinesSkipped", int(total.LinesSkipped))
	m.Count("LinesFiltered", int(total.LinesFiltered))
	m.Count("LinesFailed", int(total.LinesFailed))
	m.Count("RecordsPut", int(total.RecordsPut))
	m.Count("ErrorObjects", errorObjects)
	m.Add("BytesRead", metrics.UnitBytes, float64(total.BytesRead))
	m.Add("BytesSent", metrics.UnitBytes, float64(total.BytesSent))
	return res, []any{"format", x.cfg.Format.Name, "delivery_stream", x.cfg.DeliveryStream,
		"lines_read", total.LinesRead, "lines_sent", total.LinesSent, "lines_skipped", total.LinesSkipped,
		"lines_filtered", total.LinesFiltered, "lines_failed", total.LinesFailed, "records_put", total.RecordsPut,
		"bytes_read", total.BytesRead, "bytes_sent", total.BytesSent, "error_objects", errorObjects}
}
