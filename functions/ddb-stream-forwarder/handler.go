package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lakestream/shared/batch"
	"lakestream/shared/firehose"
	"lakestream/shared/metrics"
	"lakestream/shared/pipeline"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

// maxLineBytes is Firehose's per-record limit (PutRecordBatch: 1,000 KiB
// per record). A longer line is never cut: it goes to the overflow bucket,
// or fails.
var maxLineBytes = streamput.FirehoseLimits.RecordBytes

// maxLoggedFailures bounds the per-record warnings of one invocation; the
// summary line counts them all.
const maxLoggedFailures = 20

// ObjectPutter is the call the overflow makes to S3.
type ObjectPutter interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// forwarder forwards the records of DynamoDB stream and Kinesis events to
// Firehose delivery streams.
type forwarder struct {
	convert Converter
	// stages, when set, run on every DynamoDB line (Config.Stages);
	// withhold keeps values out of the logs (Config.Withhold).
	stages   *pipeline.Pipeline
	withhold bool
	def      string
	routes   map[string]string
	writers  map[string]*streamput.Writer
	s3       ObjectPutter // nil: oversize lines fail
	bucket   string
	prefix   string
	retry    retry.Policy
	log      *slog.Logger
	metrics  *metrics.Recorder

	// spare is the memory of the last invocation, kept for the next:
	// allocating and clearing an arena the size of the event cost about
	// 5% of an invocation. Concurrent invocations (tests; Lambda runs one
	// at a time) make their own.
	spare atomic.Pointer[scratch]
}

// scratch is what one invocation writes into: the lines' arena and the
// records by item index.
type scratch struct {
	arena []byte
	recs  []Record
	// Of records converted while the request was decoded (preread), by
	// item index: the conversion's error, and whether the record's ID is
	// its item's.
	errs   []error
	itemID []bool
	// A delivery stream's entries and their items, while flush writes it.
	entries []streamput.Entry
	sent    []*batch.Item
}

// newHandler builds the Lambda handler from the settings and clients; s3c
// may be nil when no overflow bucket is set. It answers the partial batch
// response of the event's source, listing every record not delivered by
// its sequence number, and fails the invocation only for an event that is
// not a stream event or a failed record without a sequence number.
func newHandler(cfg Config, fh streamput.FirehoseAPI, s3c ObjectPutter, log *slog.Logger, m *metrics.Recorder) *batch.Handler {
	f := newForwarder(cfg, fh, s3c, log, m)
	// Records are converted as the adapter finds them: one pass over the
	// request (preread).
	return batch.New(f.start, batch.WithNoun("records"), batch.WithLogger(log), batch.WithMetrics(m), batch.WithStreamReader(f.newPreread))
}

// newForwarder builds the forwarder newHandler runs.
func newForwarder(cfg Config, fh streamput.FirehoseAPI, s3c ObjectPutter, log *slog.Logger, m *metrics.Recorder) *forwarder {
	f := &forwarder{
		convert: cfg.Convert, stages: cfg.Stages, withhold: cfg.Withhold,
		def: cfg.DeliveryStream, routes: cfg.Routes,
		writers: map[string]*streamput.Writer{},
		bucket:  cfg.OverflowBucket, prefix: cfg.OverflowPrefix, retry: cfg.Retry,
		log: log, metrics: m,
	}
	for _, s := range cfg.Streams() {
		f.writers[s] = streamput.NewFirehose(fh, s, cfg.Retry)
	}
	if cfg.OverflowBucket != "" {
		f.s3 = s3c
	}
	return f
}

// forward is one invocation: each record converted to its line, then the
// lines written to Firehose, one PutRecordBatch sequence per delivery
// stream.
type forward struct {
	*forwarder
	// Lines are appended to one arena at least the event's size, which
	// they rarely outgrow: JSON lines are smaller than the DynamoDB JSON
	// they come from.
	*scratch
	// now is when the invocation started: the arrival time the stages
	// see for a record without a creation time.
	now        time.Time
	overflowed int
	filtered   int
	bytesOut   int
}

func (f *forwarder) start(inv *batch.Invocation) batch.Job {
	var s *scratch
	if p, ok := inv.StreamReader.(*preread); ok {
		s = p.done(len(inv.Items))
	} else {
		s = f.takeScratch(inv.Size, len(inv.Items))
	}
	w := &forward{forwarder: f, scratch: s, now: time.Now()}
	return batch.Job{Item: w.record, Flush: w.flush, Finish: w.finish}
}

// takeScratch returns the spare scratch, or a new one, with an empty arena
// of at least size bytes and n empty records.
func (f *forwarder) takeScratch(size, n int) *scratch {
	s := f.spare.Swap(nil)
	if s == nil {
		s = &scratch{}
	}
	if cap(s.arena) < size {
		s.arena = make([]byte, 0, size)
	}
	s.arena = s.arena[:0]
	if cap(s.recs) < n {
		s.recs = make([]Record, n)
		s.errs = make([]error, n)
		s.itemID = make([]bool, n)
	}
	s.recs, s.errs, s.itemID = s.recs[:n], s.errs[:n], s.itemID[:n]
	return s
}

// keepScratch keeps s for the next invocation once this one is done with
// its lines (Firehose and S3 have been answered). The records are cleared:
// they point into the event, which must not outlive its invocation.
func (f *forwarder) keepScratch(s *scratch) {
	clear(s.recs[:cap(s.recs)]) // past len too: records read of a Records array the event repeated
	clear(s.errs[:cap(s.errs)])
	clear(s.itemID[:cap(s.itemID)])
	clear(s.sent[:cap(s.sent)])
	f.spare.Store(s)
}

// Why records are skipped, made once: an error value costs an allocation.
var (
	skipRemoves = batch.Skip("REMOVES")
	skipDropIf  = batch.Skip("DROP_IF")
)

// record converts one record and runs the stages on a DynamoDB line; a
// record with a line is deferred to flush.
func (w *forward) record(ctx context.Context, it *batch.Item) error {
	if it.Stream == nil {
		return fmt.Errorf("%w: not a DynamoDB or Kinesis stream record", ErrMalformed)
	}
	var err error
	if it.Stream.Read {
		// Converted while the request was decoded.
		err = w.errs[it.Index]
		if w.itemID[it.Index] {
			w.recs[it.Index].ID = it.ID
		}
	} else {
		var rec Record
		rec, w.arena, err = w.convert.convert(w.arena, it.Stream.JSON, it.ID)
		w.recs[it.Index] = rec
	}
	rec := &w.recs[it.Index]
	switch {
	case err != nil:
		if w.withhold {
			// Read before the masks ran, it may quote any value.
			return pipeline.WithholdValues(err)
		}
		return err
	case rec.Skip:
		return skipRemoves
	case w.route(rec.Source) == "":
		return fmt.Errorf("no delivery stream for source %q: set DELIVERY_STREAM or add it to ROUTES", rec.Source)
	}
	if w.stages != nil && rec.Kind == sourceDynamoDB {
		return w.stage(ctx, rec)
	}
	return batch.Defer
}

// stage runs the pipeline's stages on a DynamoDB line and appends what
// they write to the arena as the record's line (the lines of later
// records may follow the line in the arena, when they were converted
// while the request was decoded): Defer, or Skip when
// DROP_IF drops it, or why it fails (a SCHEMA violation, say), worded
// without masked values. The record's approximate creation time is the
// arrival time the stages see (ARRIVAL_TIME_FIELD; the event time when
// TIME_FIELD is unset).
func (w *forward) stage(ctx context.Context, rec *Record) error {
	arrival := rec.Time
	if arrival.IsZero() {
		arrival = w.now
	}
	out, err := w.stages.Transform(ctx, firehose.Record{ID: rec.ID, Data: rec.Line, ArrivalTime: arrival})
	switch {
	case err != nil:
		rec.Line = nil
		// One line per record: the line number says nothing.
		if le, ok := err.(*pipeline.LineError); ok {
			err = le.Err
		}
		return err
	case out.Drop:
		rec.Line = nil
		w.filtered++
		return skipDropIf
	}
	// The output may share the line's memory, before the arena's end:
	// append copies it from there.
	start := len(w.arena)
	w.arena = append(w.arena, out.Data...)
	rec.Line = w.arena[start:len(w.arena):len(w.arena)]
	return batch.Defer
}

// flush writes the deferred lines, stream by stream; lines over Firehose's
// record limit go to the overflow bucket instead.
func (w *forward) flush(ctx context.Context, deferred []*batch.Item) {
	byStream := map[string][]*batch.Item{}
	for _, it := range deferred {
		stream := w.route(w.recs[it.Index].Source)
		byStream[stream] = append(byStream[stream], it)
	}
	for _, stream := range slices.Sorted(maps.Keys(byStream)) {
		items := byStream[stream]
		entries, sent := w.entries[:0], w.sent[:0]
		for _, it := range items {
			rec := &w.recs[it.Index]
			if len(rec.Line) <= maxLineBytes {
				entries = append(entries, streamput.Entry{Data: rec.Line})
				sent = append(sent, it)
				continue
			}
			err := w.overflow(ctx, rec)
			if err == nil {
				w.overflowed++
				w.bytesOut += len(rec.Line)
			}
			it.Settle(err)
		}
		w.entries, w.sent = entries, sent // grown: kept for the next stream
		failures, _ := w.writers[stream].Put(ctx, entries)
		failed := make(map[int]error, len(failures))
		for _, f := range failures {
			failed[f.Index] = fmt.Errorf("firehose %s: %s", stream, f.Err)
		}
		for i, it := range sent {
			if err := failed[i]; err != nil {
				it.Settle(err)
				continue
			}
			it.Settle(nil)
			w.bytesOut += len(w.recs[it.Index].Line)
		}
	}
}

// finish logs the first failed records with their keys and counts what
// was written.
func (w *forward) finish(ctx context.Context, items []*batch.Item) (any, []any) {
	logged := 0
	for _, it := range items {
		if it.Outcome() != batch.Failed {
			continue
		}
		if logged == maxLoggedFailures {
			break
		}
		logged++
		rec := &w.recs[it.Index]
		w.log.WarnContext(ctx, "record failed", "source", rec.Source, "sequence_number", it.ID, "key", w.key(rec), "error", it.Err().Error())
	}
	w.keepScratch(w.scratch)
	w.metrics.Count("RecordsOverflowed", w.overflowed)
	w.metrics.Count("RecordsFiltered", w.filtered)
	w.metrics.Add("BytesOut", metrics.UnitBytes, float64(w.bytesOut))
	return nil, []any{"overflowed", w.overflowed, "filtered", w.filtered, "bytes_out", w.bytesOut}
}

// key names a record's item for logs: its key, or with fields masked the
// key's attribute names only, since a key attribute may be a masked field.
func (f *forwarder) key(rec *Record) string {
	if f.withhold && rec.Kind == sourceDynamoDB {
		return rec.keyNames()
	}
	return rec.Key()
}

// route is the delivery stream of a source: its ROUTES entry, else
// DELIVERY_STREAM ("" when neither).
func (f *forwarder) route(source string) string {
	if s, ok := f.routes[source]; ok {
		return s
	}
	return f.def
}

// overflowKey names the object of an oversize line: by source and sequence
// number, so a retried record overwrites its own object rather than adding
// a copy.
func (f *forwarder) overflowKey(rec *Record) string {
	ext := ""
	if rec.Kind == sourceDynamoDB {
		ext = ".json"
	}
	return f.prefix + rec.Source + "/" + rec.ID + ext
}

// overflow writes a line over Firehose's record limit to the overflow
// bucket, or fails it when there is none; either way it logs the item's key.
func (f *forwarder) overflow(ctx context.Context, rec *Record) error {
	var err error
	switch {
	case f.s3 == nil:
		err = fmt.Errorf("%w: line of %d bytes, limit %d; set OVERFLOW_BUCKET to keep such records in S3", streamput.ErrRecordTooLarge, len(rec.Line), maxLineBytes)
	case rec.ID == "":
		err = fmt.Errorf("%w: line of %d bytes, limit %d, and no sequence number to name its overflow object", streamput.ErrRecordTooLarge, len(rec.Line), maxLineBytes)
	}
	if err != nil {
		f.log.WarnContext(ctx, "record too large for Firehose", "source", rec.Source, "sequence_number", rec.ID, "key", f.key(rec), "bytes", len(rec.Line), "error", err.Error())
		return err
	}
	key := f.overflowKey(rec)
	err = f.retry.Do(ctx, func(int) error {
		_, err := f.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(f.bucket),
			Key:           aws.String(key),
			Body:          bytes.NewReader(rec.Line),
			ContentLength: aws.Int64(int64(len(rec.Line))),
		})
		return err // the policy's classifier stops at access denied, no such bucket
	})
	if err != nil {
		return fmt.Errorf("overflow to s3://%s/%s: %w", f.bucket, key, err)
	}
	f.log.InfoContext(ctx, "record too large for Firehose, written to the overflow bucket", "source", rec.Source, "sequence_number", rec.ID, "key", f.key(rec), "bytes", len(rec.Line), "object", "s3://"+f.bucket+"/"+key)
	return nil
}
