package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/metrics"
)

// Statuses of an object in a Result.
const (
	// StatusCopied: every copy is in place; the source is kept.
	StatusCopied = "copied"
	// StatusMoved: every copy is in place and the source is deleted (now
	// or by an earlier invocation).
	StatusMoved = "moved"
	// StatusIgnored: left alone on purpose (see Reason).
	StatusIgnored = "ignored"
	// StatusFailed: not (completely) redistributed; see Error. The event
	// or SQS message is retried.
	StatusFailed = "failed"
)

// Result is what one invocation did: the response of S3, SNS and
// EventBridge invocations and the source of the summary log line. SQS
// invocations answer with the batch item failures instead.
type Result struct {
	Kind    string         `json:"kind"`
	Objects []ObjectResult `json:"objects"`
	// PartitionsCreated and PartitionsExisting count the distinct Glue
	// partitions registered, and those that were there already.
	PartitionsCreated  int `json:"partitionsCreated"`
	PartitionsExisting int `json:"partitionsExisting"`
}

// ObjectResult is one object's outcome.
type ObjectResult struct {
	// Source is s3://bucket/key (key URL-decoded).
	Source    string `json:"source"`
	MessageID string `json:"messageId,omitempty"`
	Status    string `json:"status"`
	Reason    string `json:"reason,omitempty"`
	Error     string `json:"error,omitempty"`
	// Time is the object's time (RFC 3339) and TimeFrom where it was found:
	// firehose, hive, pattern or event-time.
	Time       string         `json:"time,omitempty"`
	TimeFrom   string         `json:"timeFrom,omitempty"`
	Copies     []CopyResult   `json:"copies,omitempty"`
	Partitions []PartitionRef `json:"partitions,omitempty"`
}

// CopyResult is one destination of an object.
type CopyResult struct {
	Destination string `json:"destination"`
	Status      string `json:"status"`
	Bytes       int64  `json:"bytes,omitempty"`
}

// PartitionRef is a Glue partition an object's copy belongs to.
type PartitionRef struct {
	Table    string   `json:"table"`
	Values   []string `json:"values"`
	Location string   `json:"location"`
}

// Handler copies the objects events report into their partitioned
// destinations and registers the partitions in Glue.
type Handler struct {
	cfg     *Config
	copier  *copier
	glue    catalog
	log     *slog.Logger
	metrics *metrics.Recorder
}

// newHandler returns a Handler; log and m may be nil, and g is used only
// when a destination has a Glue table.
func newHandler(cfg *Config, s objectStore, g catalog, log *slog.Logger, m *metrics.Recorder) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, copier: &copier{s3: s, cfg: cfg}, glue: g, log: log, metrics: m}
}

// reportMargin is kept from the invocation's deadline to report what was
// done: an SQS batch that times out is retried whole.
const reportMargin = 2 * time.Second

// Handle is the Lambda entry point. It accepts S3 notifications, EventBridge
// Object Created events, and SQS or SNS messages carrying either. An object
// that cannot be redistributed fails alone and the others go on; then an SQS
// invocation reports its message as a batch item failure, and any other
// invocation returns an error naming the failed objects, so that Lambda
// retries the event and finally hands it to the on-failure destination.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (resp any, err error) {
	started := time.Now()
	res := &Result{Objects: []ObjectResult{}}
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "redistributor panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp, err = nil, fmt.Errorf("s3-redistributor panicked: %v", p)
		}
		h.report(ctx, res, err, time.Since(started))
	}()

	inv, err := decodeInvocation(raw)
	if err != nil {
		return nil, err
	}
	res.Kind = inv.Kind
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-reportMargin))
		defer cancel()
	}
	h.process(ctx, inv, res)

	if inv.Kind == kindSQS {
		return batchResponse(res), nil
	}
	return res, failure(res)
}

// work is one object's progress through the invocation.
type work struct {
	src   Source
	place Placement
	// active marks an object to redistribute (not ignored, readable,
	// placed); dupOf is the index of the same object met earlier in the
	// invocation (S3 may deliver an event twice), or -1.
	active bool
	dupOf  int
	done   bool
	// gone: the source was not there, an earlier invocation moved it.
	gone bool
	// inPlace: a destination is the source itself, which is never deleted.
	inPlace bool
	err     error
}

// process redistributes every object of the invocation in three phases:
// copy (objects in parallel), register the partitions of all copies in
// Glue (in batches), then delete the moved sources. The order makes a retry
// after a crash anywhere complete the work: copies already made are found
// up to date, existing partitions count as registered, and a source already
// deleted is verified against its copies.
func (h *Handler) process(ctx context.Context, inv invocation, res *Result) {
	var works []work
	first := map[string]int{}
	for _, m := range inv.Messages {
		for _, e := range m.Entries {
			r := ObjectResult{Source: e.Source.URI(), MessageID: m.ID}
			w := work{src: e.Source, dupOf: -1}
			switch {
			case e.Err != nil:
				w.err = e.Err
			case e.Ignore != "":
				r.Status, r.Reason = StatusIgnored, e.Ignore
			default:
				if reason := h.cfg.ignoreReason(e.Source); reason != "" {
					r.Status, r.Reason = StatusIgnored, reason
					break
				}
				if i, seen := first[r.Source]; seen {
					w.dupOf = i
					break
				}
				first[r.Source] = len(works)
				if w.place, w.err = h.cfg.place(e.Source); w.err == nil {
					w.active = true
					r.Time, r.TimeFrom = w.place.Time.Format(time.RFC3339), w.place.Layout
				}
			}
			works = append(works, w)
			res.Objects = append(res.Objects, r)
		}
	}

	var active []int
	for i := range works {
		if works[i].active {
			active = append(active, i)
		}
	}
	forEach(ctx, len(active), h.cfg.Concurrency, func(k int) {
		i := active[k]
		h.copyOne(ctx, &works[i], &res.Objects[i])
	})
	for _, i := range active {
		if !works[i].done && works[i].err == nil {
			works[i].err = fmt.Errorf("not copied before the invocation's deadline: %w", context.Cause(ctx))
		}
	}

	if h.cfg.GlueDatabase != "" && h.cfg.registers() {
		h.registerPartitions(ctx, works, res)
	}

	if h.cfg.DeleteSource {
		var moving []int
		for _, i := range active {
			if w := &works[i]; w.err == nil && !w.gone && !w.inPlace {
				moving = append(moving, i)
			}
		}
		forEach(ctx, len(moving), h.cfg.Concurrency, func(k int) {
			w := &works[moving[k]]
			w.err = h.copier.remove(ctx, w.src)
		})
	}

	for i := range works {
		w, r := &works[i], &res.Objects[i]
		if w.dupOf >= 0 {
			orig := res.Objects[w.dupOf]
			orig.MessageID = r.MessageID
			*r, w.err = orig, works[w.dupOf].err
			continue
		}
		switch {
		case r.Status == StatusIgnored:
		case w.err != nil:
			r.Status, r.Error = StatusFailed, w.err.Error()
			h.log.ErrorContext(ctx, "object failed", "source", r.Source, "message_id", r.MessageID, "error", r.Error)
		case h.cfg.DeleteSource && !w.inPlace:
			r.Status = StatusMoved
		default:
			r.Status = StatusCopied
		}
	}
}

// copyOne copies one object to all its destinations, or, when the source
// is gone, checks that an earlier invocation did.
func (h *Handler) copyOne(ctx context.Context, w *work, r *ObjectResult) {
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "object copy panicked", "source", r.Source, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			w.err = fmt.Errorf("panic: %v", p)
		}
		w.done = true
	}()
	head, err := h.copier.head(ctx, w.src.Bucket, w.src.Key)
	if err != nil {
		w.err = err
		return
	}
	if head == nil {
		w.gone = true
		for _, t := range w.place.Targets {
			if err := h.copier.verifyMoved(ctx, w.src, t); err != nil {
				w.err = err
				return
			}
			r.Copies = append(r.Copies, CopyResult{Destination: t.URI(), Status: CopyPresent})
		}
		return
	}
	for _, t := range w.place.Targets {
		status, n, err := h.copier.copyTo(ctx, w.src, head, t)
		if err != nil {
			w.err = err
			return
		}
		w.inPlace = w.inPlace || status == CopyInPlace
		r.Copies = append(r.Copies, CopyResult{Destination: t.URI(), Status: status, Bytes: n})
	}
}

// registerPartitions registers the partitions of every copied object; an
// object whose partition cannot be registered fails, so that its retry
// registers it.
func (h *Handler) registerPartitions(ctx context.Context, works []work, res *Result) {
	var wants []partitionWant
	var owner []int
	for _, i := range activeOK(works) {
		for _, t := range works[i].place.Targets {
			if t.Table == "" {
				continue
			}
			wants = append(wants, partitionWant{Table: t.Table, Values: t.Values, Location: t.Location, keys: t.layout.PartitionKeys(), layout: t.layout.String()})
			owner = append(owner, i)
			res.Objects[i].Partitions = append(res.Objects[i].Partitions, PartitionRef{Table: h.cfg.GlueDatabase + "." + t.Table, Values: t.Values, Location: t.Location})
		}
	}
	if len(wants) == 0 {
		return
	}
	reg := newRegistrar(h.glue, h.cfg.GlueDatabase, h.cfg.Retry).register(ctx, wants)
	res.PartitionsCreated, res.PartitionsExisting = reg.Created, reg.Existing
	for k := range wants {
		if err, failed := reg.Failed[k]; failed && works[owner[k]].err == nil {
			works[owner[k]].err = err
		}
	}
}

// activeOK lists the objects being redistributed that have not failed.
func activeOK(works []work) []int {
	var out []int
	for i := range works {
		if works[i].active && works[i].err == nil {
			out = append(out, i)
		}
	}
	return out
}

// batchResponse reports each SQS message with a failed object, once, so
// that only those messages are retried.
func batchResponse(res *Result) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	seen := map[string]bool{}
	for _, o := range res.Objects {
		if o.Status == StatusFailed && !seen[o.MessageID] {
			seen[o.MessageID] = true
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: o.MessageID})
		}
	}
	return resp
}

// maxNamedFailures bounds the objects an invocation error names.
const maxNamedFailures = 5

// failure returns an error naming the failed objects, or nil.
func failure(res *Result) error {
	var named []string
	failed := 0
	for _, o := range res.Objects {
		if o.Status != StatusFailed {
			continue
		}
		failed++
		if len(named) < maxNamedFailures {
			name := o.Source
			if name == "" {
				name = "unreadable record"
			}
			named = append(named, name+": "+o.Error)
		}
	}
	if failed == 0 {
		return nil
	}
	if failed > len(named) {
		named = append(named, fmt.Sprintf("and %d more", failed-len(named)))
	}
	return fmt.Errorf("%d of %d objects failed: %s", failed, len(res.Objects), strings.Join(named, "; "))
}

// counts tallies a Result for the summary line and the metrics.
type counts struct {
	objects, copied, moved, ignored, failed       int
	copies, multipart, upToDate, present, inPlace int
	bytes                                         int64
}

func (res *Result) counts() counts {
	var c counts
	for _, o := range res.Objects {
		c.objects++
		switch o.Status {
		case StatusCopied:
			c.copied++
		case StatusMoved:
			c.moved++
		case StatusIgnored:
			c.ignored++
		case StatusFailed:
			c.failed++
		}
		for _, cp := range o.Copies {
			switch cp.Status {
			case CopyCopied:
				c.copies++
			case CopyMultipart:
				c.copies++
				c.multipart++
			case CopyUpToDate:
				c.upToDate++
			case CopyPresent:
				c.present++
			case CopyInPlace:
				c.inPlace++
			}
			c.bytes += cp.Bytes
		}
	}
	return c
}

// report writes the invocation's summary log line and metrics.
func (h *Handler) report(ctx context.Context, res *Result, err error, took time.Duration) {
	c := res.counts()
	attrs := []any{
		"kind", res.Kind, "objects", c.objects, "copied", c.copied, "moved", c.moved, "ignored", c.ignored, "failed", c.failed,
		"copies_made", c.copies, "multipart_copies", c.multipart, "copies_up_to_date", c.upToDate, "copies_present", c.present,
		"bytes_copied", c.bytes, "partitions_created", res.PartitionsCreated, "partitions_existing", res.PartitionsExisting,
		"duration_ms", took.Milliseconds(),
	}
	h.metrics.Count("ObjectsIn", c.objects)
	h.metrics.Count("ObjectsCopied", c.copied)
	h.metrics.Count("ObjectsMoved", c.moved)
	h.metrics.Count("ObjectsIgnored", c.ignored)
	h.metrics.Count("ObjectsFailed", c.failed)
	h.metrics.Count("CopiesMade", c.copies)
	h.metrics.Count("MultipartCopies", c.multipart)
	h.metrics.Count("CopiesUpToDate", c.upToDate)
	h.metrics.Add("BytesCopied", metrics.UnitBytes, float64(c.bytes))
	h.metrics.Count("PartitionsCreated", res.PartitionsCreated)
	h.metrics.Count("PartitionsExisting", res.PartitionsExisting)
	metrics.Report(ctx, h.log, h.metrics, err, attrs...)
}
