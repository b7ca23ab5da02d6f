package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"lakestream/shared/batch"
	"lakestream/shared/metrics"
)

// Statuses of an object in a Result.
const (
	// StatusCopied: every copy is in place; the source is kept.
	StatusCopied = "copied"
	// StatusMoved: every copy is in place and the source is deleted (now
	// or by an earlier invocation).
	StatusMoved = "moved"
	// StatusRegistered: the object stays where it is (REGISTER_IN_PLACE)
	// and its partitions are registered; nothing was copied.
	StatusRegistered = "registered"
	// StatusIgnored: left alone on purpose (see Reason).
	StatusIgnored = "ignored"
	// StatusFailed: not (completely) redistributed; see Error. The event
	// or SQS message is retried.
	StatusFailed = "failed"
)

// Invocation kinds in a Result, by what invoked the function.
const (
	kindS3          = "s3"
	kindEventBridge = "eventbridge"
	kindSQS         = "sqs"
	kindSNS         = "sns"
)

// kindOf names an invocation's source in a Result.
func kindOf(s batch.Source) string {
	switch s {
	case batch.SourceS3:
		return kindS3
	case batch.SourceEventBridge:
		return kindEventBridge
	case batch.SourceSQS:
		return kindSQS
	case batch.SourceSNS:
		return kindSNS
	}
	return string(s)
}

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

// redistributor copies the objects events report into their partitioned
// destinations and registers the partitions in Glue.
type redistributor struct {
	cfg     *Config
	copier  *copier
	glue    catalog
	log     *slog.Logger
	metrics *metrics.Recorder
}

// newHandler returns the Lambda handler; log and m may be nil, and g is
// used only when a destination has a Glue table. It accepts S3
// notifications, EventBridge Object Created events, and SQS or SNS messages
// carrying either. An object that cannot be redistributed fails alone and
// the others go on; then an SQS invocation reports its message as a batch
// item failure, and any other invocation fails with an error naming the
// failed objects, so that Lambda retries the event and finally hands it to
// the on-failure destination.
func newHandler(cfg *Config, s objectStore, g catalog, log *slog.Logger, m *metrics.Recorder) *batch.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &redistributor{cfg: cfg, copier: &copier{s3: s, cfg: cfg}, glue: g, log: log, metrics: m}
	return batch.New(r.start, batch.WithNoun("objects"), batch.WithLogger(log), batch.WithMetrics(m))
}

// work is one object's progress through the invocation.
type work struct {
	src   batch.S3Object
	place Placement
	// active marks an object to copy (not ignored, placed); dupOf is the
	// index of the same object met earlier in the invocation (S3 may
	// deliver an event twice), or -1.
	active bool
	dupOf  int
	done   bool
	// gone: the source was not there, an earlier invocation moved it.
	gone bool
	// inPlace: a destination is the source itself, which is never deleted.
	inPlace bool
	// etag is the source's ETag when it was copied; a move deletes it only
	// if every destination holds the copy of that ETag.
	etag       string
	copies     []CopyResult
	partitions []PartitionRef
	err        error
}

// redistribution is one invocation. Each object is placed as it comes (Item); then
// Flush redistributes all of them in three phases: copy (objects in
// parallel), register the partitions of all copies in Glue (in batches),
// then delete the moved sources. The order makes a retry after a crash
// anywhere complete the work: copies already made are found up to date,
// existing partitions count as registered, and a source already deleted is
// verified against its copies.
type redistribution struct {
	*redistributor
	source batch.Source
	works  []work // by item index
	first  map[string]int
	// bound maps each destination of the invocation to the source first
	// placed there: a second source for it fails (ErrCollision) rather than
	// race the first to the same key.
	bound map[string]string
	// partitionsCreated and partitionsExisting count the distinct Glue
	// partitions registered, and those that were there already.
	partitionsCreated, partitionsExisting int
}

func (r *redistributor) start(inv *batch.Invocation) batch.Job {
	x := &redistribution{redistributor: r, source: inv.Source, works: make([]work, len(inv.Items)), first: map[string]int{}, bound: map[string]string{}}
	for i := range x.works {
		x.works[i].dupOf = -1
	}
	return batch.Job{Item: x.item, Flush: x.flush, Finish: x.finish}
}

// item places one object, or says why it is left alone.
func (x *redistribution) item(_ context.Context, it *batch.Item) error {
	switch {
	case it.S3 == nil && it.Event != nil:
		return batch.Skip(fmt.Sprintf("EventBridge %s event %q does not create an object", it.Event.Source, it.Event.DetailType))
	case it.S3 == nil:
		return fmt.Errorf("%w: not an S3 notification or an EventBridge Object Created event", batch.ErrUnreadable)
	case !it.S3.Created():
		return batch.Skip(fmt.Sprintf("event %s does not create an object", it.S3.Event))
	}
	w := &x.works[it.Index]
	w.src = *it.S3
	if reason := x.cfg.ignoreReason(w.src); reason != "" {
		return batch.Skip(reason)
	}
	if i, seen := x.first[w.src.URI()]; seen {
		w.dupOf = i // settled as its first report is
		return batch.Defer
	}
	x.first[w.src.URI()] = it.Index
	if w.place, w.err = x.cfg.place(w.src); w.err != nil {
		if errors.Is(w.err, ErrNotInPlace) {
			return batch.Skip(w.err.Error())
		}
		return w.err
	}
	for _, t := range w.place.Targets {
		if other, taken := x.bound[t.URI()]; taken {
			w.err = fmt.Errorf("%w: %s is also the destination of %s in this invocation; give the layouts a folder that tells the sources apart, or {key}", ErrCollision, t.URI(), other)
			return w.err
		}
	}
	for _, t := range w.place.Targets {
		x.bound[t.URI()] = w.src.URI()
	}
	w.active = true
	return batch.Defer
}

// flush copies, registers and deletes, and settles every object.
func (x *redistribution) flush(ctx context.Context, deferred []*batch.Item) {
	var active []int
	for _, it := range deferred {
		if x.works[it.Index].active {
			active = append(active, it.Index)
		}
	}
	forEach(ctx, len(active), x.cfg.Concurrency, func(k int) {
		x.copyOne(ctx, &x.works[active[k]])
	})
	for _, i := range active {
		if w := &x.works[i]; !w.done && w.err == nil {
			w.err = fmt.Errorf("not copied before the invocation's deadline: %w", context.Cause(ctx))
		}
	}

	if x.cfg.GlueDatabase != "" && x.cfg.registers() {
		x.registerPartitions(ctx, active)
	}

	if x.cfg.DeleteSource {
		var moving []int
		for _, i := range active {
			if w := &x.works[i]; w.err == nil && !w.gone && !w.inPlace {
				moving = append(moving, i)
			}
		}
		forEach(ctx, len(moving), x.cfg.Concurrency, func(k int) {
			w := &x.works[moving[k]]
			w.err = x.copier.remove(ctx, w.src, w.etag, w.place.Targets)
		})
	}

	for _, it := range deferred {
		w := &x.works[it.Index]
		if w.dupOf >= 0 {
			w = &x.works[w.dupOf]
		}
		it.Settle(w.err)
	}
}

// copyOne copies one object to all its destinations, or, when the source
// is gone, checks that an earlier invocation did. It runs on a goroutine
// of its own, so it recovers its own panic: that object fails.
func (x *redistribution) copyOne(ctx context.Context, w *work) {
	defer func() {
		if p := recover(); p != nil {
			x.log.ErrorContext(ctx, "object copy panicked", "source", w.src.URI(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			w.err = fmt.Errorf("panic: %v", p)
		}
		w.done = true
	}()
	head, err := x.copier.head(ctx, w.src.Bucket, w.src.Key)
	if err != nil {
		w.err = err
		return
	}
	if head != nil {
		w.etag = aws.ToString(head.ETag)
	}
	if head == nil {
		w.gone = true
		for _, t := range w.place.Targets {
			if err := x.copier.verifyMoved(ctx, w.src, t); err != nil {
				w.err = err
				return
			}
			w.copies = append(w.copies, CopyResult{Destination: t.URI(), Status: CopyPresent})
		}
		return
	}
	for _, t := range w.place.Targets {
		status, n, err := x.copier.copyTo(ctx, w.src, head, t)
		if err != nil {
			w.err = err
			return
		}
		w.inPlace = w.inPlace || status == CopyInPlace
		w.copies = append(w.copies, CopyResult{Destination: t.URI(), Status: status, Bytes: n})
	}
}

// registerPartitions registers the partitions of every copied object; an
// object whose partition cannot be registered fails, so that its retry
// registers it.
func (x *redistribution) registerPartitions(ctx context.Context, active []int) {
	var wants []partitionWant
	var owner []int
	for _, i := range active {
		w := &x.works[i]
		if w.err != nil {
			continue
		}
		for _, t := range w.place.Targets {
			if t.Table == "" {
				continue
			}
			wants = append(wants, partitionWant{Table: t.Table, Values: t.Values, Location: t.Location, keys: t.layout.PartitionKeys(), layout: t.layout.String()})
			owner = append(owner, i)
			w.partitions = append(w.partitions, PartitionRef{Table: x.cfg.GlueDatabase + "." + t.Table, Values: t.Values, Location: t.Location})
		}
	}
	if len(wants) == 0 {
		return
	}
	reg := newRegistrar(x.glue, x.cfg.GlueDatabase, x.cfg.Retry).register(ctx, wants)
	x.partitionsCreated, x.partitionsExisting = reg.Created, reg.Existing
	for k := range wants {
		if err, failed := reg.Failed[k]; failed && x.works[owner[k]].err == nil {
			x.works[owner[k]].err = err
		}
	}
}

// finish says what became of each object: the Result (the response of S3,
// SNS and EventBridge invocations), an error line per failed object, and
// the counts for the summary line and the metrics.
func (x *redistribution) finish(ctx context.Context, items []*batch.Item) (any, []any) {
	res := &Result{Kind: kindOf(x.source), Objects: make([]ObjectResult, len(items)),
		PartitionsCreated: x.partitionsCreated, PartitionsExisting: x.partitionsExisting}
	for _, it := range items {
		r := &res.Objects[it.Index]
		r.MessageID = it.ID
		if it.S3 != nil {
			r.Source = it.S3.URI()
		}
		w := &x.works[it.Index]
		if w.dupOf >= 0 {
			w = &x.works[w.dupOf] // the same object: the same copies
		}
		if w.active {
			r.Time, r.TimeFrom = w.place.Time.Format(time.RFC3339), w.place.Layout
			r.Copies, r.Partitions = w.copies, w.partitions
		}
		switch it.Outcome() {
		case batch.Skipped:
			r.Status, r.Reason = StatusIgnored, it.Reason()
		case batch.Failed:
			r.Status, r.Error = StatusFailed, it.Err().Error()
			x.log.ErrorContext(ctx, "object failed", "source", r.Source, "message_id", r.MessageID, "error", r.Error)
		case batch.Delivered:
			r.Status = StatusCopied
			switch {
			case onlyInPlace(w.copies):
				r.Status = StatusRegistered
			case x.cfg.DeleteSource && !w.inPlace:
				r.Status = StatusMoved
			}
		}
	}
	return res, x.report(res)
}

// onlyInPlace reports whether an object's every destination is the object
// itself.
func onlyInPlace(copies []CopyResult) bool {
	for _, c := range copies {
		if c.Status != CopyInPlace {
			return false
		}
	}
	return len(copies) > 0
}

// counts tallies a Result for the summary line and the metrics.
type counts struct {
	copied, moved, registered                     int
	copies, multipart, upToDate, present, inPlace int
	bytes                                         int64
}

func (res *Result) counts() counts {
	var c counts
	for _, o := range res.Objects {
		switch o.Status {
		case StatusCopied:
			c.copied++
		case StatusMoved:
			c.moved++
		case StatusRegistered:
			c.registered++
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

// report adds the counts beyond the adapter's (objects in, delivered,
// skipped, failed) to the metrics and returns them for the summary line.
func (x *redistribution) report(res *Result) []any {
	c := res.counts()
	x.metrics.Count("ObjectsCopied", c.copied)
	x.metrics.Count("ObjectsMoved", c.moved)
	x.metrics.Count("ObjectsRegisteredInPlace", c.registered)
	x.metrics.Count("CopiesMade", c.copies)
	x.metrics.Count("MultipartCopies", c.multipart)
	x.metrics.Count("CopiesUpToDate", c.upToDate)
	x.metrics.Add("BytesCopied", metrics.UnitBytes, float64(c.bytes))
	x.metrics.Count("PartitionsCreated", res.PartitionsCreated)
	x.metrics.Count("PartitionsExisting", res.PartitionsExisting)
	return []any{
		"copied", c.copied, "moved", c.moved, "registered_in_place", c.registered,
		"copies_made", c.copies, "multipart_copies", c.multipart, "copies_up_to_date", c.upToDate, "copies_present", c.present,
		"bytes_copied", c.bytes, "partitions_created", res.PartitionsCreated, "partitions_existing", res.PartitionsExisting,
	}
}
