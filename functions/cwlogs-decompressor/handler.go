package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/boot"
	"lakestream/shared/firehose"
	"lakestream/shared/jsonscan"
	"lakestream/shared/metrics"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

// Event is either invocation the function accepts: a Firehose
// data-transformation event (records, from Direct PUT or a Kinesis stream
// source) or a CloudWatch Logs subscription event ({"awslogs":{"data":...}})
// when a log group is subscribed to the function itself. Invoke reads the
// bytes; Handle takes an Event a test built.
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
	h, err := build(cfg, fn.Log, fn.Metrics, streamput.NewSourceReingester(fh, ks, retry.Default()), direct)
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
		firehose: firehose.NewHandler(t,
			firehose.WithReingester(re),
			firehose.WithBudget(cfg.Budget),
			firehose.WithLogger(log),
			firehose.WithMetrics(m),
			firehose.WithCounts(t.counts.take),
			// The pipeline writes each record's output there (Record.Out).
			firehose.WithOutArena()),
		t:       t,
		direct:  direct,
		stream:  cfg.DestinationStream,
		log:     log,
		metrics: m,
	}, nil
}

// Invoke is the Lambda entry point (fn.Start(h)), request bytes in and
// response bytes out. A Firehose request goes to the shared framework,
// which decodes it without reflection and answers the transformation
// response; a CloudWatch Logs event gets a short summary of what was
// delivered. The error is non-nil only when the whole invocation must be
// retried or cannot succeed: a payload that is neither event, a
// re-ingestion or delivery that finally failed, or a direct payload that
// cannot be delivered (Lambda then retries it and keeps it in the
// dead-letter queue).
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	raw, err := awsLogs(payload)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return h.firehose.Invoke(ctx, payload)
	}
	r, err := h.handleDirect(ctx, raw)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// Handle is Invoke for an event already decoded.
func (h *Handler) Handle(ctx context.Context, ev Event) (io.Reader, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(out), nil
}

// awsLogs returns the "awslogs" member of a CloudWatch Logs subscription
// event, or nil for any other payload, which the Firehose framework then
// reads (or rejects). Only a payload holding the quoted key at all is
// scanned, and then only its top-level keys are read: a Firehose request
// is never decoded twice.
func awsLogs(payload []byte) (*events.CloudwatchLogsRawData, error) {
	if !bytes.Contains(payload, []byte(`"awslogs"`)) {
		return nil, nil
	}
	s := jsonscan.New(payload)
	if s.Peek() != jsonscan.Object {
		return nil, nil
	}
	var raw *events.CloudwatchLogsRawData
	records := false
	for key := range s.Object() {
		switch string(key) {
		case "awslogs":
			if s.Null() {
				break
			}
			raw = &events.CloudwatchLogsRawData{}
			for key := range s.Object() {
				if string(key) == "data" {
					data, _ := s.String(nil) // an error stops the scan
					raw.Data = string(data)
				}
			}
		case "records":
			if s.Peek() == jsonscan.Array {
				for range s.Array() {
					records = true
					break
				}
			}
		}
	}
	if err := s.End(); err != nil {
		if raw == nil {
			return nil, nil // not an awslogs event: the Firehose framework says what it is
		}
		return nil, fmt.Errorf("invalid CloudWatch Logs event: %w", err)
	}
	if raw != nil && records {
		return nil, errors.New("event has both Firehose records and awslogs data; expected one or the other")
	}
	return raw, nil
}
