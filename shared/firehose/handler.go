package firehose

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/events"

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

// Handler turns one Transform into a Firehose data-transformation Lambda
// handler.
type Handler struct {
	transform Transform
	reingest  Reingester
	budget    int
	log       *slog.Logger
	metrics   *metrics.Recorder
	counts    func() []Count
}

// Option configures a Handler.
type Option func(*Handler)

// WithReingester sets where records that do not fit in the response go.
// Without one, such records fail (ProcessingFailed) rather than vanish.
func WithReingester(r Reingester) Option { return func(h *Handler) { h.reingest = r } }

// WithBudget overrides DefaultBudget (tests use small budgets).
func WithBudget(bytes int) Option { return func(h *Handler) { h.budget = bytes } }

// WithLogger sets the logger for the per-invocation summary and record failures.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

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

// NewHandler returns a Handler running t on every record.
func NewHandler(t Transform, opts ...Option) *Handler {
	h := &Handler{transform: t, budget: DefaultBudget, log: slog.New(slog.DiscardHandler)}
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

// Handle is the Lambda entry point: lambda.Start(h.Handle). It returns an
// error only when re-ingestion finally failed, so that Firehose retries the
// whole batch and nothing is lost.
func (h *Handler) Handle(ctx context.Context, ev events.KinesisFirehoseEvent) (*Response, error) {
	resp, stats, err := h.Process(ctx, ev)
	h.report(ctx, ev, stats, err)
	return resp, err
}

// HandleJSON is Handle for lambda.Start(h.HandleJSON): it returns the
// response already encoded. aws-lambda-go passes an io.Reader through as it
// is, where it would re-scan a Marshaler's output, which for a 6 MB
// response costs more than the transformation framework itself.
func (h *Handler) HandleJSON(ctx context.Context, ev events.KinesisFirehoseEvent) (io.Reader, error) {
	resp, err := h.Handle(ctx, ev)
	if err != nil {
		return nil, err
	}
	b, err := resp.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("firehose: encode response: %w", err)
	}
	return bytes.NewReader(b), nil
}

// Process is Handle without the logging and metrics: the response and what
// happened to each record.
func (h *Handler) Process(ctx context.Context, ev events.KinesisFirehoseEvent) (*Response, Stats, error) {
	resp := &Response{Records: make([]ResponseRecord, len(ev.Records))}
	stats := Stats{In: len(ev.Records)}
	var reingest []Reingest
	reingestedRecords := make([]int, 0)
	// The budget covers the whole response, not only the data: the JSON
	// around each record, partition keys and Dropped entries add up to
	// hundreds of KB over thousands of records. Every record's smallest
	// entry is reserved up front, so those handled later always fit; a
	// record with data then takes what it adds to that.
	used := len(emptyResponse)
	for _, in := range ev.Records {
		used += reservedLen(in.RecordID)
	}
	base := used

	// full is set once a record had to be re-ingested for want of room:
	// the records after it go back as they came, untransformed, as the
	// blueprint does, rather than being transformed only to be thrown away.
	full := false
	requeue := func(i int, in events.KinesisFirehoseEventRecord) {
		out := &resp.Records[i]
		out.Result, out.Data, out.PartitionKeys = ResultDropped, nil, nil
		reingest = append(reingest, Reingest{Data: in.Data, PartitionKey: partitionKey(in)})
		reingestedRecords = append(reingestedRecords, i)
	}
	// fail turns a record that cannot be returned Ok into ProcessingFailed,
	// with its original data when that still fits.
	fail := func(out *ResponseRecord, in events.KinesisFirehoseEventRecord, reason string) {
		out.Result, out.Data, out.PartitionKeys = ResultProcessingFailed, in.Data, nil
		h.log.WarnContext(ctx, "record failed", "record_id", in.RecordID, "error", reason)
		if size := out.extraLen(); used+size <= h.budget {
			used += size
		} else {
			out.Data = nil // Firehose accepts a failed record without data.
		}
	}

	for i, in := range ev.Records {
		stats.BytesIn += len(in.Data)
		out := &resp.Records[i]
		out.RecordID = in.RecordID
		if full {
			requeue(i, in)
			continue
		}
		o, err := h.run(ctx, in)
		switch {
		case err != nil:
			out.Result = ResultProcessingFailed
			out.Data = in.Data // Firehose writes failed records' data to the error prefix.
			h.log.WarnContext(ctx, "record failed", "record_id", in.RecordID, "error", err.Error())
		case len(o.Reingest) > 0:
			out.Result = ResultDropped
			for _, p := range o.Reingest {
				reingest = append(reingest, Reingest{Data: p, PartitionKey: partitionKey(in)})
			}
			reingestedRecords = append(reingestedRecords, i)
		case o.Drop:
			out.Result = ResultDropped
		default:
			out.Result = ResultOk
			out.Data = o.Data
			out.PartitionKeys = o.PartitionKeys
		}
		if out.Result == ResultDropped {
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
		case base+size > h.budget && out.Result == ResultOk:
			// Re-ingested as it came, it would come back just as large,
			// forever; only the transform can split it (Output.Reingest).
			fail(out, in, fmt.Sprintf("output of %d base64 bytes exceeds the %d-byte response budget on its own",
				base64.StdEncoding.EncodedLen(len(o.Data)), h.budget))
		case h.reingest == nil:
			fail(out, in, "response budget exceeded and no re-ingestion configured")
		default:
			// Over budget: put the record back as it came; a later
			// invocation transforms it again.
			requeue(i, in)
			full = true
		}
	}

	for _, r := range resp.Records {
		switch r.Result {
		case ResultOk:
			stats.Ok++
			stats.BytesOut += len(r.Data)
		case ResultDropped:
			stats.Dropped++
		case ResultProcessingFailed:
			stats.Failed++
		}
	}
	stats.Reingested = len(reingestedRecords)
	stats.Dropped -= stats.Reingested
	stats.ReingestedPayloads = len(reingest)

	if len(reingest) > 0 {
		if h.reingest == nil {
			return nil, stats, fmt.Errorf("firehose: %d records need re-ingestion but no re-ingester is configured", len(reingestedRecords))
		}
		if err := h.reingest.Reingest(ctx, ev, reingest); err != nil {
			return nil, stats, fmt.Errorf("firehose: re-ingest %d payloads: %w", len(reingest), err)
		}
	}
	return resp, stats, nil
}

// run calls the transform, turning a panic into that record's error.
func (h *Handler) run(ctx context.Context, in events.KinesisFirehoseEventRecord) (o Output, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "transform panicked", "record_id", in.RecordID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("transform panicked: %v", p)
		}
	}()
	r := Record{ID: in.RecordID, Data: in.Data, ArrivalTime: in.ApproximateArrivalTimestamp.Time}
	if in.KinesisFirehoseRecordMetadata.PartitionKey != "" || in.KinesisFirehoseRecordMetadata.ShardID != "" {
		md := in.KinesisFirehoseRecordMetadata
		r.Kinesis = &md
	}
	return h.transform(ctx, r)
}

func partitionKey(in events.KinesisFirehoseEventRecord) string {
	return in.KinesisFirehoseRecordMetadata.PartitionKey
}

func (h *Handler) report(ctx context.Context, ev events.KinesisFirehoseEvent, s Stats, err error) {
	attrs := []any{
		"invocation_id", ev.InvocationID, "records_in", s.In, "ok", s.Ok, "dropped", s.Dropped,
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
