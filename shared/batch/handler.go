package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"lakestream/shared/deadline"
	"lakestream/shared/metrics"
)

// Invocation is one decoded request.
type Invocation struct {
	// Source is what invoked the function; "" for a stream or notification
	// event with no records.
	Source Source
	// Items are every item of the request, in its order.
	Items []*Item
	// Size is the request's length in bytes, for sizing buffers.
	Size int
	// StreamReader is the reader WithStreamReader's function made for
	// this invocation, when the request is a stream event; nil otherwise.
	StreamReader StreamReader
}

// Job is what a function does with one invocation's items; see the package
// doc for the stages. Item is required, Flush and Finish optional.
type Job struct {
	// Item handles one item: nil delivers it, Skip skips it, Defer leaves
	// it to Flush, any other error fails it.
	Item func(ctx context.Context, it *Item) error
	// Flush settles the deferred items with Item.Settle.
	Flush func(ctx context.Context, deferred []*Item)
	// Finish sees every item with its outcome. It returns the response of
	// S3, SNS and EventBridge invocations (encoded as JSON; streams and SQS
	// get the partial batch response instead) and the attributes the
	// summary line adds to the adapter's own.
	Finish func(ctx context.Context, items []*Item) (response any, attrs []any)
}

// Handler is a Lambda handler running a function's Job on every
// invocation. It is an aws-lambda-go lambda.Handler: boot's fn.Start(h).
type Handler struct {
	start     func(inv *Invocation) Job
	newReader func(size int) StreamReader
	noun      string
	log       *slog.Logger
	metrics   *metrics.Recorder
}

// Option configures a Handler.
type Option func(*Handler)

// WithNoun names the items in the summary line and the metrics: "records"
// writes "records": n and RecordsIn, RecordsDelivered, RecordsSkipped,
// RecordsFailed. The default is "items".
func WithNoun(plural string) Option { return func(h *Handler) { h.noun = plural } }

// WithLogger sets the logger of the summary line and of panics.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithMetrics sets where the counts are emitted (EMF), with whatever the
// function's Finish adds.
func WithMetrics(m *metrics.Recorder) Option { return func(h *Handler) { h.metrics = m } }

// WithStreamReader has the adapter hand the records of every DynamoDB or
// Kinesis stream event to a StreamReader while it decodes the request, a
// new one per invocation from newReader (size is the request's length).
// The Job finds it in Invocation.StreamReader, and the records it read by
// StreamRecord.Read.
func WithStreamReader(newReader func(size int) StreamReader) Option {
	return func(h *Handler) { h.newReader = newReader }
}

// New returns a Handler that calls start once per invocation, after
// decoding, for the Job that handles its items.
func New(start func(inv *Invocation) Job, opts ...Option) *Handler {
	h := &Handler{start: start, noun: "items", log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Invoke is the Lambda entry point: the request's bytes in, the response's
// bytes out (aws-lambda-go's lambda.Handler).
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	_, body, err := h.serve(ctx, payload, true)
	return body, err
}

// Handle is Invoke before the response is encoded: the response value (a
// partial batch response of aws-lambda-go's types, or the Job's response)
// and the invocation's error. Unlike Lambda, which drops the response of a
// failed invocation, it returns both, so tests see what was done.
func (h *Handler) Handle(ctx context.Context, payload []byte) (any, error) {
	resp, _, err := h.serve(ctx, payload, false)
	return resp, err
}

// serve runs one invocation and writes its summary line and metrics,
// whatever happens.
func (h *Handler) serve(ctx context.Context, payload []byte, encode bool) (resp any, body []byte, err error) {
	began := time.Now()
	var inv *Invocation
	var attrs []any
	defer func() {
		// The Job's panics are caught nearer; this one is the adapter's own.
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "invocation panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp, body, err = nil, nil, fmt.Errorf("batch: panic: %v", p)
		}
		h.report(ctx, inv, attrs, err, time.Since(began))
	}()

	var sr StreamReader
	if h.newReader != nil {
		sr = h.newReader(len(payload))
	}
	inv, err = decode(payload, sr)
	if err != nil {
		return nil, nil, err
	}
	resp, attrs = h.run(ctx, inv)
	resp, err = h.answer(inv, resp)
	if encode && err == nil {
		body, err = encodeJSON(resp)
	}
	return resp, body, err
}

// encodeJSON writes the response as aws-lambda-go does for a typed
// handler: HTML characters (in object keys, say) are not escaped.
func encodeJSON(resp any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		return nil, fmt.Errorf("batch: encode response: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// run makes the invocation's Job and runs its stages; every item is decided
// when it returns.
func (h *Handler) run(ctx context.Context, inv *Invocation) (response any, attrs []any) {
	for _, it := range inv.Items {
		if it.err != nil {
			it.outcome = Failed // unreadable: the function never sees it
		}
	}
	job, err := h.startJob(ctx, inv)
	if err != nil {
		for _, it := range inv.Items {
			it.fail(err)
		}
		return nil, nil
	}
	work, cancel := deadline.Reserve(ctx, deadline.Margin)
	defer cancel()

	var deferred []*Item
	for _, it := range inv.Items {
		switch {
		case it.outcome != Pending:
		case work.Err() != nil:
			it.fail(fmt.Errorf("not handled before the invocation's deadline: %w", context.Cause(work)))
		default:
			h.item(work, job, it)
			if it.deferred {
				deferred = append(deferred, it)
			}
		}
	}
	switch {
	case len(deferred) == 0:
	case work.Err() != nil:
		for _, it := range deferred {
			it.fail(fmt.Errorf("not settled before the invocation's deadline: %w", context.Cause(work)))
		}
	case job.Flush != nil:
		h.flush(work, job, deferred)
	}
	for _, it := range inv.Items {
		it.fail(ErrUndecided) // deferred and never settled
	}
	return h.finish(ctx, job, inv)
}

// startJob calls the function's start, turning a panic into an error.
func (h *Handler) startJob(ctx context.Context, inv *Invocation) (job Job, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "job start panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("job start panicked: %v", p)
		}
	}()
	job = h.start(inv)
	if job.Item == nil {
		return job, errors.New("batch: the Job has no Item function")
	}
	return job, nil
}

// item runs the Job's Item on one item; a panic fails that item alone.
func (h *Handler) item(ctx context.Context, job Job, it *Item) {
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "item panicked", "index", it.Index, "id", it.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			it.outcome, it.deferred, it.err = Failed, false, fmt.Errorf("panic: %v", p)
		}
	}()
	err := job.Item(ctx, it)
	if errors.Is(err, Defer) {
		it.deferred = true
		return
	}
	it.set(err)
}

// flush runs the Job's Flush; a panic fails the deferred items it had not
// settled. Those it settled keep their outcome: a delivered item was
// delivered, and failing it would only repeat the work.
func (h *Handler) flush(ctx context.Context, job Job, deferred []*Item) {
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "flush panicked", "deferred", len(deferred), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			for _, it := range deferred {
				it.fail(fmt.Errorf("flush panicked: %v", p))
			}
		}
	}()
	job.Flush(ctx, deferred)
}

// finish runs the Job's Finish; a panic leaves the response and the
// function's attributes out, the items as they are.
func (h *Handler) finish(ctx context.Context, job Job, inv *Invocation) (response any, attrs []any) {
	if job.Finish == nil {
		return nil, nil
	}
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "finish panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			response, attrs = nil, nil
		}
	}()
	return job.Finish(ctx, inv.Items)
}

// Counts are the items of one invocation by outcome: In = Delivered +
// Skipped + Failed.
type Counts struct {
	In, Delivered, Skipped, Failed int
}

// Count counts items by outcome; an item still Pending counts as Failed.
func Count(items []*Item) Counts {
	c := Counts{In: len(items)}
	for _, it := range items {
		switch it.outcome {
		case Delivered:
			c.Delivered++
		case Skipped:
			c.Skipped++
		default:
			c.Failed++
		}
	}
	return c
}

// report writes the summary line, "source", the counts under the noun,
// the Job's attributes and the duration, and the metrics.
func (h *Handler) report(ctx context.Context, inv *Invocation, jobAttrs []any, err error, took time.Duration) {
	var c Counts
	var source Source
	if inv != nil {
		c, source = Count(inv.Items), inv.Source
	}
	attrs := make([]any, 0, 10+len(jobAttrs)+2)
	attrs = append(attrs, "source", string(source), h.noun, c.In, "delivered", c.Delivered, "skipped", c.Skipped, "failed", c.Failed)
	attrs = append(attrs, jobAttrs...)
	attrs = append(attrs, "duration_ms", took.Milliseconds())
	prefix := metricPrefix(h.noun)
	h.metrics.Count(prefix+"In", c.In)
	h.metrics.Count(prefix+"Delivered", c.Delivered)
	h.metrics.Count(prefix+"Skipped", c.Skipped)
	h.metrics.Count(prefix+"Failed", c.Failed)
	metrics.Report(ctx, h.log, h.metrics, err, attrs...)
}

// metricPrefix is the noun as a metric name: "records" is "Records".
func metricPrefix(noun string) string {
	if noun == "" {
		return "Items"
	}
	return strings.ToUpper(noun[:1]) + noun[1:]
}
