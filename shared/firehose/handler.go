package firehose

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/deadline"
	"lakestream/shared/jsonscan"
	"lakestream/shared/metrics"
)

// Result statuses of a transformed record, as Firehose spells them.
const (
	ResultOk               = events.KinesisFirehoseTransformedStateOk
	ResultDropped          = events.KinesisFirehoseTransformedStateDropped
	ResultProcessingFailed = events.KinesisFirehoseTransformedStateProcessingFailed
)

// DefaultBudget is how many bytes an encoded response may take. Lambda caps
// a synchronous response at 6 MB (6,291,456 bytes). The AWS blueprints
// budget 6,000,000 bytes of data and record ids and trust the rest to
// cover the JSON around them, which partition keys and thousands of small
// records overrun; here the 6,000,000 bytes are the whole response.
const DefaultBudget = 6_000_000

// Handler turns one Transformer into a Firehose data-transformation Lambda
// handler. It is aws-lambda-go's lambda.Handler: it takes the request's
// bytes and answers the response's, decoding the request without
// reflection (DecodeRequest) and encoding the response in one buffer.
type Handler struct {
	transform Transformer
	reingest  Reingester
	budget    int
	margin    time.Duration
	log       *slog.Logger
	metrics   *metrics.Recorder
	counts    func() []Count
	outArena  bool
	reuseResp bool
	// stableKeys is WithStablePartitionKeys.
	stableKeys bool
	// spare is the last invocation's working memory, kept for the next.
	spare atomic.Pointer[invocation]
}

// Option configures a Handler.
type Option func(*Handler)

// WithReingester sets where records that do not fit in the response go.
// Without one, such records fail (ProcessingFailed) rather than vanish.
func WithReingester(r Reingester) Option { return func(h *Handler) { h.reingest = r } }

// WithBudget overrides DefaultBudget (tests use small budgets).
func WithBudget(bytes int) Option { return func(h *Handler) { h.budget = bytes } }

// WithMargin overrides deadline.Margin, the time kept back from the
// invocation's deadline (tests use short deadlines).
func WithMargin(d time.Duration) Option { return func(h *Handler) { h.margin = d } }

// WithLogger sets the logger for the per-invocation summary and record failures.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithOutArena gives every record a Record.Out to append its output to,
// memory the handler keeps for the next invocation, sized by what the
// last one's outputs took. For a transform that builds its output in new
// memory (rather than returning its input or part of it); one that does
// not use Out should not ask for it, which would only hold the memory.
func WithOutArena() Option { return func(h *Handler) { h.outArena = true } }

// WithResponseReuse makes Invoke write each response into the memory of
// the response before it, so that a warm function allocates none:
// megabytes an invocation, and the garbage collections they bring about
// (with the write barriers on while one runs, a tenth of a JSON
// transformation's time). A response is then valid only until the next
// Invoke begins. That is how Lambda uses it, its runtime loop sending the
// response before it asks for the next event; a caller that keeps
// responses, or invokes a handler from many goroutines at once, must not
// ask for it.
func WithResponseReuse() Option { return func(h *Handler) { h.reuseResp = true } }

// WithStablePartitionKeys tells the handler that the transform never
// changes a partition-key map it returned (Output.PartitionKeys), not even
// in a later invocation: the handler then remembers each map's encoding
// from one invocation to the next, instead of encoding it again in each.
// A stream whose batches span many partitions (a month of hourly
// partitions, say) has as many maps, each otherwise encoded, keys sorted,
// in every invocation. The shared pipeline keeps its maps unchanged as
// long as it hands them out.
func WithStablePartitionKeys() Option { return func(h *Handler) { h.stableKeys = true } }

// WithMetrics sets where the per-invocation counts are emitted (EMF).
func WithMetrics(m *metrics.Recorder) Option { return func(h *Handler) { h.metrics = m } }

// Count is one of a transform's own per-invocation counts, such as the log
// events it filtered out. Name is the metric name ("LogEventsFiltered");
// the summary line carries it in snake case ("log_events_filtered").
type Count struct {
	Name string
	N    int
}

// Key is the count's name in a summary line: "LogEventsIn" is
// "log_events_in".
func (c Count) Key() string { return snakeCase(c.Name) }

// WithCounts adds a transform's own counts to each invocation's summary
// line and metrics, so one line and one EMF document describe the whole
// invocation. take is called once per invocation, after the last record,
// and returns the counts since its previous call.
func WithCounts(take func() []Count) Option { return func(h *Handler) { h.counts = take } }

// NewHandler returns a Handler running t on every record (a func is a
// Transform: NewHandler(firehose.Transform(f))).
func NewHandler(t Transformer, opts ...Option) *Handler {
	h := &Handler{transform: t, budget: DefaultBudget, margin: deadline.Margin, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Stats counts what one invocation did with its records. In = Ok + Dropped
// + Failed + Reingested: every record is accounted for.
type Stats struct {
	In, Ok, Dropped, Failed, Reingested int
	BytesIn, BytesOut                   int
	// ReingestedPayloads counts the payloads put back into the source
	// stream, which may exceed Reingested when a transform split a record.
	ReingestedPayloads int
}

// Invoke is the Lambda entry point (fn.Start(h)): the request's bytes in,
// the encoded response out. It returns an error, failing the invocation
// so that Firehose retries the batch and nothing is lost, only when the
// payload is not a Firehose request (ErrInvalidRequest) or re-ingestion
// finally failed. Either way the summary line and metrics are written.
//
// It keeps deadline.Margin back from the invocation's deadline to answer
// in: records not transformed by then go back to the source stream as
// they came (with a re-ingester, whose own work stops at the margin) or
// fail with their original data, so they reach the error output prefix.
// With a re-ingester, transformation stops a second margin earlier, so
// that putting the rest back has time too.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, _, err := h.invoke(ctx, payload)
	return out, err
}

// invoke is Invoke, also returning what happened to the records.
func (h *Handler) invoke(ctx context.Context, payload []byte) ([]byte, Stats, error) {
	inv := h.spare.Swap(nil)
	if inv == nil {
		inv = &invocation{}
	}
	defer h.keep(inv)
	var err error
	if inv.eager == 0 {
		inv.eager = math.MaxInt // nothing known yet: decode every record
	}
	if inv.data, err = inv.req.decode(&inv.scan, payload, inv.data, inv.eager); err != nil {
		err = fmt.Errorf("firehose: %w", err)
		h.report(ctx, &inv.req, Stats{}, true, err)
		return nil, Stats{}, err
	}
	stats, size, err := h.process(ctx, inv)
	var out []byte
	if err == nil {
		buf := inv.resp
		if !h.reuseResp || cap(buf) < size {
			buf = newResponse(size)
		}
		out = appendResponse(buf[:0], inv.entries)
		if h.reuseResp {
			inv.resp = out
		}
	}
	h.report(ctx, &inv.req, stats, false, err)
	return out, stats, err
}

// newResponse returns memory for a response of n bytes. It is not
// cleared first: every byte of it is written. (make clears what it
// allocates, and a response is megabytes: clearing it took 3% of an
// access-log invocation. strings.Builder allocates without clearing,
// which is safe for the same reason; if it ever did clear, this would
// only be slower.) The response outlives the invocation, so it is new
// memory every time (unless the handler reuses it: WithResponseReuse).
func newResponse(n int) []byte {
	if n < 4<<10 {
		return make([]byte, 0, n)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('{')
	s := b.String()
	// The builder's buffer, which nothing else refers to once b and s
	// are gone: at least n bytes from its first.
	return unsafe.Slice(unsafe.StringData(s), n)[:0]
}

// invocation is the working memory of one invocation, kept for the next
// so that a warm function allocates little: the scanner, the decoded
// request, the buffer every record's data is decoded into, the response's
// entries, the payloads to re-ingest and (WithResponseReuse) the response.
type invocation struct {
	scan     jsonscan.Scanner
	req      Request
	data     []byte
	out      outArena
	entries  []entry
	meta     metadataMemo
	reingest []Reingest
	resp     []byte // the last response, with WithResponseReuse
	// eager is how many bytes of data the request's decoding decodes as
	// it reads them (see Request.decode): all of them, unless the last
	// response filled up, and then an eighth more than the last
	// invocation transformed before it did, the rest being likely to go
	// back to the stream undecoded. (Checking text without decoding it,
	// then decoding it when the record is transformed, is slower than
	// decoding it as it is read.)
	eager int
}

// keep keeps inv for the next invocation. Its records and entries are
// emptied but not cleared: the next request's decoding writes each record
// whole (a zero one appended, then filled), process writes each entry
// whole, and what they still point to is the payload, which the Runtime
// API client (shared/runtimeapi) reads the next event into, and memory
// inv itself keeps. (Clearing them took 1.2% of a syslog invocation;
// under a runtime that reads every event into new memory, it would only
// have let the last payload go a little sooner.)
func (h *Handler) keep(inv *invocation) {
	inv.req.Records = inv.req.Records[:0]
	inv.entries = inv.entries[:0]
	if !h.stableKeys {
		inv.meta.reset()
	}
	clear(inv.reingest)
	inv.reingest = inv.reingest[:0]
	inv.scan.Reset(nil)
	h.spare.Store(inv)
}

// process runs the transform on every record of inv.req into inv.entries
// and re-ingests what has to go back. size is the encoded response's
// length; the budget accounting counted at least as much, every record's
// smallest entry reserved (Dropped ones take less) plus what those with
// data add.
func (h *Handler) process(ctx context.Context, inv *invocation) (stats Stats, size int, err error) {
	req := &inv.req
	n := len(req.Records)
	entries := slices.Grow(inv.entries[:0], n)[:n]
	inv.entries = entries
	inv.out.on = h.outArena
	inv.out.reset(h.budget)

	answer, cancel := deadline.Reserve(ctx, h.margin)
	defer cancel()
	work := answer
	if h.reingest != nil {
		var cancelWork context.CancelFunc
		work, cancelWork = deadline.Reserve(answer, h.margin)
		defer cancelWork()
	}

	stats = Stats{In: n}
	reingested := 0
	// The budget covers the whole response, not only the data: the JSON
	// around each record, partition keys and Dropped entries add up to
	// hundreds of KB over thousands of records. Every record's smallest
	// entry is reserved up front, so those handled later always fit; a
	// record with data then takes what it adds to that. (reservedLen is
	// the same for every record but for its id, whose lengths the
	// request adds up as it is decoded: going over thousands of records
	// for them here took a pass through memory long gone from the cache.)
	used := len(emptyResponse) + n*reservedLen(0) + req.idLens
	base := used

	// full is set once a record had to be re-ingested for want of room:
	// the records after it go back as they came, untransformed, as the
	// blueprint does, rather than being transformed only to be thrown away.
	full := false
	// requeue puts a record back as it came: as the base64 text it came
	// in when that is its encoding (RequestRecord.encoded), so that a
	// record not transformed is never decoded, nor encoded again to be
	// written. Its data, when needed, cannot fail to decode: a record
	// whose data does not fails before it could be re-ingested.
	requeue := func(out *entry, in *RequestRecord) {
		out.result, out.data, out.meta = ResultDropped, nil, nil
		p := Reingest{Encoded: in.encoded(), PartitionKey: in.Kinesis.PartitionKey}
		if p.Encoded == nil {
			p.Data, _ = req.data(in)
		}
		inv.reingest = append(inv.reingest, p)
		reingested++
	}
	// fail turns a record that cannot be returned Ok into ProcessingFailed,
	// with its original data when that still fits.
	fail := func(out *entry, in *RequestRecord, data []byte, reason string) {
		out.result, out.data, out.meta = ResultProcessingFailed, data, nil
		h.log.WarnContext(ctx, "record failed", "record_id", in.RecordID, "error", reason)
		if size := out.extraLen(); used+size <= h.budget {
			used += size
		} else {
			out.data = nil // Firehose accepts a failed record without data.
		}
	}
	// untransformed handles a record the deadline margin left no time to
	// transform: back to the source stream as it came when there is a
	// re-ingester, otherwise failed with its original data.
	untransformed := func(out *entry, in *RequestRecord) {
		if h.reingest != nil {
			requeue(out, in)
			return
		}
		data, _ := req.data(in) // see requeue
		fail(out, in, data, "not transformed: the invocation reached its deadline margin")
	}

	for i := range req.Records {
		in := &req.Records[i]
		out := &entries[i]
		*out = entry{id: in.RecordID, idLen: in.idLen}
		// A record not decoded yet is plain base64 (it cannot fail to
		// decode): one that will not be transformed is left as it is.
		if in.lazy && (full || work.Err() != nil) {
			stats.BytesIn += in.dataLen()
			if full {
				requeue(out, in)
			} else {
				untransformed(out, in)
			}
			continue
		}
		data, err := req.data(in)
		if err != nil {
			// Nothing to transform, re-ingest or hand back: the record
			// fails alone, without data, and the batch goes on.
			fail(out, in, nil, err.Error())
			continue
		}
		stats.BytesIn += len(data)
		if full {
			requeue(out, in)
			continue
		}
		if work.Err() != nil {
			untransformed(out, in)
			continue
		}
		var o Output
		err = h.run(work, in, data, inv.out.free(), &o)
		inv.out.keep(o.Data)
		switch {
		case err != nil && work.Err() != nil:
			// Cut short by the deadline: not this record's fault.
			untransformed(out, in)
			continue
		case err != nil:
			out.result = ResultProcessingFailed
			out.data = data // Firehose writes failed records' data to the error prefix.
			h.log.WarnContext(ctx, "record failed", "record_id", in.RecordID, "error", err.Error())
		case len(o.Reingest) > 0:
			out.result = ResultDropped
			for _, p := range o.Reingest {
				inv.reingest = append(inv.reingest, Reingest{Data: p, PartitionKey: in.Kinesis.PartitionKey})
			}
			reingested++
		case o.Drop:
			out.result = ResultDropped
		default:
			out.result = ResultOk
			out.data = o.Data
			out.meta = inv.meta.get(o.PartitionKeys)
		}
		if out.result == ResultDropped {
			continue
		}
		// Failed records carry their data back too, so they count against
		// the budget like Ok ones.
		size := out.extraLen()
		if used+size <= h.budget {
			used += size
			continue
		}
		switch {
		case base+size > h.budget && out.result == ResultOk:
			// Re-ingested as it came, it would come back just as large,
			// forever; only the transform can split it (Output.Reingest).
			fail(out, in, data, fmt.Sprintf("output of %d base64 bytes exceeds the %d-byte response budget on its own",
				base64.StdEncoding.EncodedLen(len(o.Data)), h.budget))
		case h.reingest == nil:
			fail(out, in, data, "response budget exceeded and no re-ingestion configured")
		default:
			// Over budget: put the record back as it came; a later
			// invocation transforms it again.
			requeue(out, in)
			full = true
			inv.eager = stats.BytesIn + stats.BytesIn/8 + 64<<10
		}
	}

	if !full {
		inv.eager = math.MaxInt
	}

	// The counts, and the response's length (responseLen) in the same
	// pass over the entries.
	size = len(emptyResponse) - 1 // no comma after the last entry
	for i := range entries {
		e := &entries[i]
		switch e.result {
		case ResultOk:
			stats.Ok++
			stats.BytesOut += len(e.data)
		case ResultDropped:
			stats.Dropped++
		case ResultProcessingFailed:
			stats.Failed++
		}
		size += e.encodedLen() + 1
	}
	if n == 0 {
		size = len(emptyResponse)
	}
	stats.Reingested = reingested
	stats.Dropped -= stats.Reingested
	stats.ReingestedPayloads = len(inv.reingest)

	if len(inv.reingest) > 0 {
		if h.reingest == nil {
			return stats, 0, fmt.Errorf("firehose: %d records need re-ingestion but no re-ingester is configured", reingested)
		}
		// Under the reserved context: a re-ingestion still retrying at the
		// margin fails the invocation, which Firehose retries, instead of
		// running into Lambda's timeout.
		if err := h.reingest.Reingest(answer, req.header(), inv.reingest); err != nil {
			return stats, 0, fmt.Errorf("firehose: re-ingest %d payloads: %w", len(inv.reingest), err)
		}
	}
	return stats, size, nil
}

// run calls the transform, turning a panic into that record's error, its
// output written into o rather than copied out of one more call.
func (h *Handler) run(ctx context.Context, in *RequestRecord, data, out []byte, o *Output) (err error) {
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "transform panicked", "record_id", in.RecordID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("transform panicked: %v", p)
		}
	}()
	r := Record{ID: in.RecordID, Data: data, ArrivalTime: in.ArrivalTime, Out: out}
	if in.Kinesis.PartitionKey != "" || in.Kinesis.ShardID != "" {
		r.Kinesis = &in.Kinesis
	}
	*o, err = h.transform.Transform(ctx, r)
	return err
}

// outArena is the memory behind Record.Out (WithOutArena): one buffer the
// transforms' outputs are appended to one after another, kept from one
// invocation to the next so that a warm function does not allocate (and
// the garbage collector clear and collect) megabytes of output per
// invocation.
type outArena struct {
	on  bool
	buf []byte
	// want is the memory the invocation's outputs took: buf's size for
	// the next invocation.
	want int
}

// reset empties the arena for a new invocation, first growing it to what
// the last one's outputs took, and an eighth more for a batch a little
// larger (at most the response budget, which no response's data exceeds).
func (a *outArena) reset(budget int) {
	if !a.on {
		return
	}
	if size := min(a.want+a.want/8, budget); cap(a.buf) < size {
		a.buf = make([]byte, 0, size)
	}
	a.buf, a.want = a.buf[:0], 0
}

// free is the arena's unused memory, for the next record's Out.
func (a *outArena) free() []byte { return a.buf[len(a.buf):len(a.buf)] }

// keep takes note of a transform's output: when data lies in the free
// memory the transform was given, that memory up to data's end is taken,
// so that the next record's output goes after it.
func (a *outArena) keep(data []byte) {
	free := a.buf[len(a.buf):cap(a.buf)]
	if len(data) == 0 || len(free) == 0 {
		a.want += len(data)
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(free)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	if p < start || p >= start+uintptr(len(free)) {
		a.want += len(data) // elsewhere: the transform's own memory, or its input
		return
	}
	taken := int(p-start) + len(data)
	a.buf = a.buf[:len(a.buf)+taken]
	a.want += taken
}

func (h *Handler) report(ctx context.Context, req *Request, s Stats, rejected bool, err error) {
	attrs := []any{
		"invocation_id", req.InvocationID, "records_in", s.In, "ok", s.Ok, "dropped", s.Dropped,
		"failed", s.Failed, "reingested", s.Reingested, "reingested_payloads", s.ReingestedPayloads,
		"bytes_in", s.BytesIn, "bytes_out", s.BytesOut,
	}
	var extra []Count
	if h.counts != nil {
		extra = h.counts()
	}
	for _, c := range extra {
		attrs = append(attrs, c.Key(), c.N)
	}
	rej := 0
	if rejected {
		rej = 1
	}
	h.metrics.Count("RequestsRejected", rej)
	h.metrics.Count("RecordsIn", s.In)
	h.metrics.Count("RecordsOk", s.Ok)
	h.metrics.Count("RecordsDropped", s.Dropped)
	h.metrics.Count("RecordsFailed", s.Failed)
	h.metrics.Count("RecordsReingested", s.Reingested)
	h.metrics.Add("BytesIn", metrics.UnitBytes, float64(s.BytesIn))
	h.metrics.Add("BytesOut", metrics.UnitBytes, float64(s.BytesOut))
	for _, c := range extra {
		h.metrics.Count(c.Name, c.N)
	}
	metrics.Report(ctx, h.log, h.metrics, err, attrs...)
}

// snakeCase turns a metric name into a log key: "LogEventsIn" is
// "log_events_in".
func snakeCase(name string) string {
	b := make([]byte, 0, len(name)+4)
	for i, c := range []byte(name) {
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b = append(b, '_')
			}
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}
