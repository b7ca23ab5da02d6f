package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"lakestream/shared/batch"
	"lakestream/shared/metrics"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

// maxLineBytes is Firehose's per-record limit (PutRecordBatch: 1,000 KiB
// per record). A longer line is never cut: it goes to the overflow bucket,
// or fails.
var maxLineBytes = streamput.FirehoseLimits.RecordBytes

// deadlineReserve is the time kept back from the invocation's deadline for
// answering: retries stop this long before it, so that records still
// rejected are reported in the response instead of the invocation timing
// out (which would retry the whole batch).
const deadlineReserve = 2 * time.Second

// maxLoggedFailures bounds the per-record warnings of one invocation; the
// summary line counts them all.
const maxLoggedFailures = 20

// ObjectPutter is the call the overflow makes to S3.
type ObjectPutter interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Handler forwards the records of DynamoDB stream and Kinesis events to
// Firehose delivery streams.
type Handler struct {
	convert Converter
	def     string
	routes  map[string]string
	writers map[string]*streamput.Writer
	s3      ObjectPutter // nil: oversize lines fail
	bucket  string
	prefix  string
	retry   retry.Policy
	log     *slog.Logger
	metrics *metrics.Recorder
}

// newHandler builds the handler from its settings and clients; s3c may be
// nil when no overflow bucket is set.
func newHandler(cfg Config, fh streamput.FirehoseAPI, s3c ObjectPutter, log *slog.Logger, m *metrics.Recorder) *Handler {
	h := &Handler{
		convert: cfg.Convert, def: cfg.DeliveryStream, routes: cfg.Routes,
		writers: map[string]*streamput.Writer{},
		bucket:  cfg.OverflowBucket, prefix: cfg.OverflowPrefix, retry: cfg.Retry,
		log: log, metrics: m,
	}
	for _, s := range cfg.Streams() {
		h.writers[s] = streamput.NewFirehose(fh, s, cfg.Retry)
	}
	if cfg.OverflowBucket != "" {
		h.s3 = s3c
	}
	return h
}

// Result is what one invocation did with its records.
type Result struct {
	// Kind is the event's source (sourceDynamoDB, sourceKinesis), "" for
	// an event without records.
	Kind string
	// Outcomes holds each record's sequence number and outcome.
	Outcomes *batch.Outcomes
	// Errors holds why each failed record failed, by index.
	Errors []error
	// Overflowed counts the delivered records written to the overflow
	// bucket; BytesOut the bytes delivered to Firehose and S3.
	Overflowed, BytesOut int
}

// Handle is the Lambda entry point. It answers the partial batch response
// for the event's source: events.DynamoDBEventResponse or
// events.KinesisEventResponse, the same JSON, listing every record not
// delivered. It fails the invocation only when the event is not a stream
// event at all or a failed record carries no sequence number to report.
func (h *Handler) Handle(ctx context.Context, event json.RawMessage) (resp any, err error) {
	defer func() {
		// Nothing should panic here (records are decoded under recover); if
		// something does, Lambda retries the batch rather than losing it.
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp, err = nil, fmt.Errorf("ddb-stream-forwarder: panic: %v", p)
		}
	}()
	start := time.Now()
	res, err := h.Process(ctx, event)
	if err != nil {
		h.log.ErrorContext(ctx, "event not processed", "error", err.Error())
		return nil, err
	}
	if res.Kind == sourceKinesis {
		resp, err = res.Outcomes.KinesisResponse()
	} else {
		resp, err = res.Outcomes.DynamoDBResponse()
	}
	h.report(ctx, res, time.Since(start), err)
	if err != nil {
		// Lambda reads an empty itemIdentifier as a failure of the whole
		// batch; say so plainly instead.
		return nil, fmt.Errorf("ddb-stream-forwarder: %w", err)
	}
	return resp, nil
}

// Process forwards an event's records and says what happened to each. Its
// error is only for an event that is not a list of records.
func (h *Handler) Process(ctx context.Context, event json.RawMessage) (*Result, error) {
	var ev struct {
		Records []eventRecord `json:"Records"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("event is not a stream event: %w", err)
	}
	res := &Result{Outcomes: batch.New(len(ev.Records)), Errors: make([]error, len(ev.Records))}
	fail := func(i int, err error) {
		res.Outcomes.Set(i, batch.Failed)
		res.Errors[i] = err
	}

	// Lines are appended to one arena sized like the event, which they
	// rarely outgrow: JSON lines are smaller than the DynamoDB JSON they
	// come from.
	arena := make([]byte, 0, len(event))
	recs := make([]Record, len(ev.Records))
	byStream := map[string][]int{}
	for i := range ev.Records {
		rec, out, err := h.convert.convert(arena, &ev.Records[i])
		arena = out
		recs[i] = rec
		res.Outcomes.SetID(i, rec.ID)
		if res.Kind == "" || rec.Kind == sourceDynamoDB {
			res.Kind = rec.Kind
		}
		if err != nil {
			fail(i, err)
			continue
		}
		if rec.Skip {
			res.Outcomes.Set(i, batch.Skipped)
			continue
		}
		stream := h.route(rec.Source)
		if stream == "" {
			fail(i, fmt.Errorf("no delivery stream for source %q: set DELIVERY_STREAM or add it to ROUTES", rec.Source))
			continue
		}
		byStream[stream] = append(byStream[stream], i)
	}

	putCtx, cancel := reserveDeadline(ctx)
	defer cancel()
	for _, stream := range slices.Sorted(maps.Keys(byStream)) {
		idx := byStream[stream]
		entries := make([]streamput.Entry, 0, len(idx))
		sent := make([]int, 0, len(idx))
		for _, i := range idx {
			if len(recs[i].Line) <= maxLineBytes {
				entries = append(entries, streamput.Entry{Data: recs[i].Line})
				sent = append(sent, i)
				continue
			}
			if err := h.overflow(putCtx, &recs[i]); err != nil {
				fail(i, err)
				continue
			}
			res.Outcomes.Set(i, batch.Delivered)
			res.Overflowed++
			res.BytesOut += len(recs[i].Line)
		}
		failures, _ := h.writers[stream].Put(putCtx, entries)
		for _, f := range failures {
			fail(sent[f.Index], fmt.Errorf("firehose %s: %s", stream, f.Err))
		}
		for _, i := range sent {
			if res.Outcomes.Get(i) == batch.Pending {
				res.Outcomes.Set(i, batch.Delivered)
				res.BytesOut += len(recs[i].Line)
			}
		}
	}
	h.logFailures(ctx, res, recs)
	return res, nil
}

// route is the delivery stream of a source: its ROUTES entry, else
// DELIVERY_STREAM ("" when neither).
func (h *Handler) route(source string) string {
	if s, ok := h.routes[source]; ok {
		return s
	}
	return h.def
}

// reserveDeadline returns ctx shortened by deadlineReserve when it has a
// deadline (Lambda's always does).
func reserveDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, d.Add(-deadlineReserve))
	}
	return context.WithCancel(ctx)
}

// overflowKey names the object of an oversize line: by source and sequence
// number, so a retried record overwrites its own object rather than adding
// a copy.
func (h *Handler) overflowKey(rec *Record) string {
	ext := ""
	if rec.Kind == sourceDynamoDB {
		ext = ".json"
	}
	return h.prefix + rec.Source + "/" + rec.ID + ext
}

// overflow writes a line over Firehose's record limit to the overflow
// bucket, or fails it when there is none; either way it logs the item's key.
func (h *Handler) overflow(ctx context.Context, rec *Record) error {
	var err error
	switch {
	case h.s3 == nil:
		err = fmt.Errorf("%w: line of %d bytes, limit %d; set OVERFLOW_BUCKET to keep such records in S3", streamput.ErrRecordTooLarge, len(rec.Line), maxLineBytes)
	case rec.ID == "":
		err = fmt.Errorf("%w: line of %d bytes, limit %d, and no sequence number to name its overflow object", streamput.ErrRecordTooLarge, len(rec.Line), maxLineBytes)
	}
	if err != nil {
		h.log.WarnContext(ctx, "record too large for Firehose", "source", rec.Source, "sequence_number", rec.ID, "key", rec.Key(), "bytes", len(rec.Line), "error", err.Error())
		return err
	}
	key := h.overflowKey(rec)
	err = h.retry.Do(ctx, func(int) error {
		_, err := h.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(h.bucket),
			Key:           aws.String(key),
			Body:          bytes.NewReader(rec.Line),
			ContentLength: aws.Int64(int64(len(rec.Line))),
		})
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorFault() == smithy.FaultClient {
			// Access denied, no such bucket: waiting does not help.
			return retry.Permanent(err)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("overflow to s3://%s/%s: %w", h.bucket, key, err)
	}
	h.log.InfoContext(ctx, "record too large for Firehose, written to the overflow bucket", "source", rec.Source, "sequence_number", rec.ID, "key", rec.Key(), "bytes", len(rec.Line), "object", "s3://"+h.bucket+"/"+key)
	return nil
}

// logFailures warns about the first failed records, with their keys.
func (h *Handler) logFailures(ctx context.Context, res *Result, recs []Record) {
	logged := 0
	for i, err := range res.Errors {
		if err == nil {
			continue
		}
		if logged == maxLoggedFailures {
			break
		}
		logged++
		h.log.WarnContext(ctx, "record failed", "source", recs[i].Source, "sequence_number", recs[i].ID, "key", recs[i].Key(), "error", err.Error())
	}
}

// report writes the invocation's summary line and metrics.
func (h *Handler) report(ctx context.Context, res *Result, took time.Duration, err error) {
	c := res.Outcomes.Counts()
	attrs := []any{
		"source", res.Kind, "records", c.In, "delivered", c.Delivered, "skipped", c.Skipped,
		"failed", c.Failed, "overflowed", res.Overflowed, "bytes_out", res.BytesOut, "ms", took.Milliseconds(),
	}
	h.metrics.Count("RecordsIn", c.In)
	h.metrics.Count("RecordsDelivered", c.Delivered)
	h.metrics.Count("RecordsSkipped", c.Skipped)
	h.metrics.Count("RecordsFailed", c.Failed)
	h.metrics.Count("RecordsOverflowed", res.Overflowed)
	h.metrics.Add("BytesOut", metrics.UnitBytes, float64(res.BytesOut))
	metrics.Report(ctx, h.log, h.metrics, err, attrs...)
}
