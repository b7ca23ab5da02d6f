package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/boot"
	"lakestream/shared/firehose"
	"lakestream/shared/metrics"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

// Event is either invocation the function accepts, decoded in one pass: a
// Firehose data-transformation event (records, from Direct PUT or a Kinesis
// stream source) or a CloudWatch Logs subscription event
// ({"awslogs":{"data":...}}) when a log group is subscribed to the function
// itself.
type Event struct {
	events.KinesisFirehoseEvent
	AWSLogs *events.CloudwatchLogsRawData `json:"awslogs,omitempty"`
}

// entryWriter is where the direct path puts its records: a Firehose
// delivery stream through streamput, which keeps within PutRecordBatch's
// limits and retries partial failures.
type entryWriter interface {
	Put(ctx context.Context, entries []streamput.Entry) ([]streamput.Failure, error)
}

// Handler serves both event shapes with one transformation.
type Handler struct {
	firehose *firehose.Handler
	t        *transformer
	// direct and stream are the direct path's destination; nil and "" when
	// DESTINATION_STREAM is unset.
	direct  entryWriter
	stream  string
	log     *slog.Logger
	metrics *metrics.Recorder
}

// newHandler builds the handler from the function's settings and AWS
// clients, as main does; a setting problem is recorded in fn and reported
// by Start as the init error. Re-ingestion and the direct path retry with
// the shared policy (20 attempts, as the AWS blueprint re-ingests).
func newHandler(fn *boot.Function, fh streamput.FirehoseAPI, ks streamput.KinesisAPI) *Handler {
	cfg := loadConfig(fn.Env)
	if fn.Err() != nil {
		return nil // Start reports the settings' problems
	}
	var direct entryWriter
	if cfg.DestinationStream != "" {
		direct = streamput.NewFirehose(fh, cfg.DestinationStream, retry.Default())
	}
	h, err := build(cfg, fn.Log, fn.Metrics, firehose.NewSourceReingester(fh, ks, retry.Default()), direct)
	fn.Check(err)
	return h
}

// build wires a Handler from plain values, for newHandler and tests.
func build(cfg Config, log *slog.Logger, m *metrics.Recorder, re firehose.Reingester, direct entryWriter) (*Handler, error) {
	t, err := newTransformer(cfg)
	if err != nil {
		return nil, err
	}
	return &Handler{
		firehose: firehose.NewHandler(t.Transform,
			firehose.WithReingester(re),
			firehose.WithBudget(cfg.Budget),
			firehose.WithLogger(log),
			firehose.WithMetrics(m),
			firehose.WithCounts(t.counts.take)),
		t:       t,
		direct:  direct,
		stream:  cfg.DestinationStream,
		log:     log,
		metrics: m,
	}, nil
}

// Handle is the Lambda entry point. A Firehose event gets its
// transformation response, already encoded (firehose.HandleJSON); a
// CloudWatch Logs event gets a short summary of what was delivered. The
// error is non-nil only when the whole invocation must be retried: a
// re-ingestion or delivery that finally failed, or a direct payload that
// cannot be delivered (Lambda then retries it and keeps it in the
// dead-letter queue).
func (h *Handler) Handle(ctx context.Context, ev Event) (io.Reader, error) {
	if ev.AWSLogs != nil {
		if len(ev.Records) > 0 {
			return nil, errors.New("event has both Firehose records and awslogs data; expected one or the other")
		}
		return h.handleDirect(ctx, ev.AWSLogs)
	}
	return h.firehose.HandleJSON(ctx, ev.KinesisFirehoseEvent)
}
