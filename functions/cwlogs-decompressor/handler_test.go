package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/boot"
	"lakestream/shared/config"
	"lakestream/shared/cwlogs"
	"lakestream/shared/firehose"
	"lakestream/shared/golden"
	"lakestream/shared/lambdarun"
	"lakestream/shared/logging/logtest"
	"lakestream/shared/metrics"
	"lakestream/shared/pipeline"
	"lakestream/shared/streamput"
)

// fakeReingester records what the handler re-ingests.
type fakeReingester struct {
	sources  []string
	payloads []firehose.Reingest
	err      error
}

func (f *fakeReingester) Reingest(_ context.Context, ev events.KinesisFirehoseEvent, p []firehose.Reingest) error {
	f.sources = append(f.sources, ev.SourceKinesisStreamArn+ev.DeliveryStreamArn)
	f.payloads = append(f.payloads, p...)
	return f.err
}

// fakeWriter records what the direct path puts.
type fakeWriter struct {
	entries []streamput.Entry
	err     error
}

func (f *fakeWriter) Put(_ context.Context, e []streamput.Entry) ([]streamput.Failure, error) {
	f.entries = append(f.entries, e...)
	return nil, f.err
}

// templateEnv is the function's environment as template.yaml sets it.
func templateEnv(t testing.TB) map[string]string {
	t.Helper()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	tmpl, err := lambdarun.LoadTemplate(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	env, err := tmpl.Environment(lambdarun.LogicalID("cwlogs-decompressor"))
	require.NoError(t, err)
	return env
}

// sampleEvents lists events/cwlogs-decompressor/*.json.
func sampleEvents(t testing.TB) []string {
	t.Helper()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	paths, err := filepath.Glob(filepath.Join(root, "events", "cwlogs-decompressor", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	return paths
}

// testHandler builds the handler from env as main does, with fakes for
// AWS, logging and metrics into buffers.
func testHandler(t testing.TB, env map[string]string) (*Handler, *fakeReingester, *fakeWriter, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	fn := boot.NewFrom(config.FromMap(env), &out)
	cfg := loadConfig(fn.Env)
	require.NoError(t, fn.Err())
	re, w := &fakeReingester{}, &fakeWriter{}
	h, err := build(cfg, fn.Log, fn.Metrics, re, w)
	require.NoError(t, err)
	return h, re, w, &out
}

// TestSampleEvents runs every events/cwlogs-decompressor sample through the
// handler with the template's settings and compares what it answered,
// re-ingested and delivered with testdata/events/<sample>.golden.json.
func TestSampleEvents(t *testing.T) {
	for _, path := range sampleEvents(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			var ev Event
			require.NoError(t, json.Unmarshal(raw, &ev))
			h, re, w, logs := testHandler(t, templateEnv(t))
			r, err := h.Handle(context.Background(), ev)
			require.NoError(t, err)
			body, err := io.ReadAll(r)
			require.NoError(t, err)

			got := map[string]any{}
			if ev.AWSLogs != nil {
				got["response"] = json.RawMessage(body)
				var lines []string
				for _, e := range w.entries {
					lines = append(lines, splitLines(e.Data)...)
				}
				got["delivered"] = lines
			} else {
				var resp firehose.Response
				require.NoError(t, json.Unmarshal(body, &resp))
				require.Len(t, resp.Records, len(ev.Records), "one response record per input record")
				var records []map[string]any
				for i, rec := range resp.Records {
					assert.Equal(t, ev.Records[i].RecordID, rec.RecordID)
					records = append(records, describeRecord(rec))
				}
				got["records"] = records
			}
			got["reingested"] = describeReingested(t, re.payloads)
			summary := summaryLine(t, logs.String())
			got["summary"] = summary
			golden.JSON(t, filepath.Join("testdata", "events", name+".golden.json"), got)
		})
	}
}

func splitLines(b []byte) []string {
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func describeRecord(r firehose.ResponseRecord) map[string]any {
	m := map[string]any{"result": r.Result}
	switch {
	case r.Result == firehose.ResultOk:
		m["lines"] = splitLines(r.Data)
	case len(r.Data) > 0:
		m["data"] = base64.StdEncoding.EncodeToString(r.Data)
	}
	if r.PartitionKeys != nil {
		m["partitionKeys"] = r.PartitionKeys
	}
	return m
}

func describeReingested(t testing.TB, payloads []firehose.Reingest) []map[string]any {
	out := []map[string]any{}
	for _, p := range payloads {
		d, err := cwlogs.Decode(p.Data, 1<<30)
		require.NoError(t, err)
		out = append(out, map[string]any{"partitionKey": p.PartitionKey, "payload": d})
	}
	return out
}

// summaryLine returns the invocation's one summary line, without the
// time, which changes between runs.
func summaryLine(t testing.TB, logs string) map[string]any {
	t.Helper()
	m := logtest.Summary(t, logs)
	delete(m, "time")
	return m
}

// TestFailedRecordsAreLoggedWithReason: each failed record's log line
// names the record and the reason, never its data.
func TestFailedRecordsAreLoggedWithReason(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "cwlogs-decompressor", "mixed.json"))
	require.NoError(t, err)
	var ev Event
	require.NoError(t, json.Unmarshal(raw, &ev))
	h, _, _, logs := testHandler(t, templateEnv(t))
	_, err = h.Handle(context.Background(), ev)
	require.NoError(t, err)

	reasons := map[string]string{}
	for _, m := range logtest.Lines(t, logs.String()) {
		if m["msg"] == "record failed" {
			reasons[m["record_id"].(string)] = m["error"].(string)
		}
	}
	require.Len(t, reasons, 5)
	assert.Contains(t, reasons[ev.Records[2].RecordID], "not gzip")
	assert.Contains(t, reasons[ev.Records[3].RecordID], "truncated")
	assert.Contains(t, reasons[ev.Records[4].RecordID], "not a CloudWatch Logs JSON document")
	assert.Contains(t, reasons[ev.Records[5].RecordID], "logGroup")
	assert.Contains(t, reasons[ev.Records[6].RecordID], "unknown messageType")
	assert.NotContains(t, logs.String(), "ACCEPT OK", "no payload in the logs")
}

// TestMetricsCountEverything: the invocation's EMF document carries the
// framework's record counts and the function's own.
func TestMetricsCountEverything(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "cwlogs-decompressor", "mixed.json"))
	require.NoError(t, err)
	var ev Event
	require.NoError(t, json.Unmarshal(raw, &ev))
	env := templateEnv(t)
	env["EXCLUDE_PATTERN"] = "REJECT"
	h, _, _, out := testHandler(t, env)
	_, err = h.Handle(context.Background(), ev)
	require.NoError(t, err)

	var emf map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n") {
		if strings.Contains(line, `"_aws"`) {
			require.Nil(t, emf, "one EMF document per invocation")
			require.NoError(t, json.Unmarshal([]byte(line), &emf))
		}
	}
	require.NotNil(t, emf)
	want := map[string]float64{
		"RecordsIn": 8, "RecordsOk": 2, "RecordsDropped": 1, "RecordsFailed": 5, "RecordsReingested": 0,
		"LogEventsIn": 8, "LogEventsFiltered": 1, "LogEventsOut": 7, "ControlMessages": 1, "RecordsAllFiltered": 0,
		"RecordsSplit": 0, "RecordsRegrouped": 0, "RecordsNotGzip": 1, "RecordsCorrupt": 1, "RecordsTooLarge": 0,
		"RecordsInvalid": 3, "RecordsEventTooLarge": 0,
	}
	for name, n := range want {
		assert.Equal(t, n, emf[name], name)
	}
}

// TestHandleMalformedEvents: events the handler cannot serve fail the
// invocation with a reason, a payload that is neither event too (it used
// to be answered with no records); a Firehose batch of bad records never
// does.
func TestHandleMalformedEvents(t *testing.T) {
	tests := map[string]struct {
		event   string
		wantErr string
	}{
		"both shapes":            {event: `{"records":[{"recordId":"1","data":""}],"awslogs":{"data":""}}`, wantErr: "both Firehose records and awslogs"},
		"awslogs not base64":     {event: `{"awslogs":{"data":"%%%"}}`, wantErr: "awslogs.data is not base64"},
		"awslogs not gzip":       {event: `{"awslogs":{"data":"eyJhIjoxfQ=="}}`, wantErr: "not gzip"},
		"awslogs empty":          {event: `{"awslogs":{}}`, wantErr: "not gzip"},
		"no records":             {event: `{}`, wantErr: `not a Firehose data-transformation request: it has no "records" array`},
		"empty records":          {event: `{"invocationId":"i","records":[]}`},
		"records of empty data":  {event: `{"deliveryStreamArn":"arn:aws:firehose:us-east-1:1:deliverystream/s","records":[{"recordId":"a","data":""},{"recordId":"b"}]}`},
		"records of random data": {event: `{"deliveryStreamArn":"arn:aws:firehose:us-east-1:1:deliverystream/s","records":[{"recordId":"a","data":"H4sIAAAAAAAA/w=="},{"recordId":"b","data":"H4sI"}]}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var ev Event
			require.NoError(t, json.Unmarshal([]byte(tc.event), &ev))
			h, re, w, _ := testHandler(t, templateEnv(t))
			body, err := h.Invoke(context.Background(), []byte(tc.event))
			assert.Empty(t, re.payloads)
			assert.Empty(t, w.entries)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			var resp firehose.Response
			require.NoError(t, json.Unmarshal(body, &resp))
			require.Len(t, resp.Records, len(ev.Records))
			for _, rec := range resp.Records {
				assert.Equal(t, firehose.ResultProcessingFailed, rec.Result)
			}
		})
	}
}

// TestEveryTruncationFailsOnlyItsRecord cuts a valid payload at every
// length: each cut record fails alone, with the intact record beside it Ok.
func TestEveryTruncationFailsOnlyItsRecord(t *testing.T) {
	payload := input(t, "lines")
	ev := Event{KinesisFirehoseEvent: events.KinesisFirehoseEvent{DeliveryStreamArn: "arn:aws:firehose:us-east-1:1:deliverystream/s"}}
	for n := range len(payload) {
		ev.Records = append(ev.Records,
			events.KinesisFirehoseEventRecord{RecordID: "cut", Data: payload[:n]},
			events.KinesisFirehoseEventRecord{RecordID: "whole", Data: payload})
	}
	h, _, _, _ := testHandler(t, nil)
	r, err := h.Handle(context.Background(), ev)
	require.NoError(t, err)
	body, err := io.ReadAll(r)
	require.NoError(t, err)
	var resp firehose.Response
	require.NoError(t, json.Unmarshal(body, &resp))
	require.Len(t, resp.Records, len(ev.Records))
	for i, r := range resp.Records {
		want := firehose.ResultOk
		if r.RecordID == "cut" {
			want = firehose.ResultProcessingFailed
		}
		assert.Equal(t, want, r.Result, "record %d (%s)", i, r.RecordID)
	}
}

// TestDirectPathFailures: a direct invocation fails, putting nothing, when
// there is no destination or an event cannot fit a Firehose record; a put
// that finally fails fails the invocation so Lambda retries it.
func TestDirectPathFailures(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "cwlogs-decompressor", "awslogs.json"))
	require.NoError(t, err)
	var ev Event
	require.NoError(t, json.Unmarshal(raw, &ev))

	env := templateEnv(t)
	delete(env, "DESTINATION_STREAM")
	h, _, _, _ := testHandler(t, env)
	h.direct = nil // as newHandler leaves it without DESTINATION_STREAM
	_, err = h.Handle(context.Background(), ev)
	assert.ErrorIs(t, err, ErrNoDestination)

	h, _, w, logs := testHandler(t, templateEnv(t))
	w.err = errors.New("throttled for good")
	_, err = h.Handle(context.Background(), ev)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "throttled for good")
	assert.Equal(t, "invocation failed", summaryLine(t, logs.String())["msg"])

	old := maxReingest
	maxReingest = 100
	t.Cleanup(func() { maxReingest = old })
	h, _, w, _ = testHandler(t, templateEnv(t))
	_, err = h.Handle(context.Background(), ev)
	assert.ErrorIs(t, err, ErrEventTooLarge)
	assert.Empty(t, w.entries, "nothing is put when one event cannot be")
}

// TestDirectRecordsCutBetweenLines: the direct path packs lines into
// records of at most the limit, never splitting a line, and they are the
// lines the Firehose path writes.
func TestDirectRecordsCutBetweenLines(t *testing.T) {
	d := events.CloudwatchLogsData{MessageType: cwlogs.MessageTypeData, Owner: "1", LogGroup: "g", LogStream: "s"}
	for i := range 500 {
		d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{ID: "x", Timestamp: 1714571100000 + int64(i), Message: randomText(i, i%97)})
	}
	for _, format := range []string{"lines", "json", "splunk"} {
		tr := newTestTransformer(t, testConfig(t, map[string]string{"OUTPUT_FORMAT": format}))
		entries, stats, err := tr.records(context.Background(), &d, 1000)
		require.NoError(t, err)
		assert.Equal(t, int64(len(d.LogEvents)), stats.Written)
		whole, err := tr.pipe.Run(context.Background(), eventsOf(&d), time.Now(), pipeline.RunOptions{})
		require.NoError(t, err)
		var joined []byte
		for i, e := range entries {
			assert.LessOrEqual(t, len(e.Data), 1000, "%s record %d", format, i)
			assert.True(t, bytes.HasSuffix(e.Data, []byte("\n")), "%s record %d ends a line", format, i)
			if i+1 < len(entries) {
				assert.Greater(t, len(e.Data)+len(splitLines(entries[i+1].Data)[0]), 1000, "%s record %d is full", format, i)
			}
			joined = append(joined, e.Data...)
		}
		assert.Equal(t, string(whole.Data), string(joined), format)
	}
}

// TestReingestFailureFailsInvocation: when re-ingestion finally fails the
// invocation fails, so Firehose retries the batch and nothing is lost.
func TestReingestFailureFailsInvocation(t *testing.T) {
	cfg := baseConfig(t)
	cfg.Budget = 300
	re := &fakeReingester{err: errors.New("PutRecordBatch: attempts exhausted")}
	h, err := build(cfg, slog.New(slog.DiscardHandler), metrics.New(io.Discard, "test"), re, nil)
	require.NoError(t, err)
	ev := Event{KinesisFirehoseEvent: events.KinesisFirehoseEvent{
		DeliveryStreamArn: "arn:aws:firehose:us-east-1:1:deliverystream/s",
		Records:           []events.KinesisFirehoseEventRecord{{RecordID: "r", Data: input(t, "split")}},
	}}
	_, err = h.Handle(context.Background(), ev)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "attempts exhausted")
	assert.Len(t, re.payloads, 2, "the two halves were offered for re-ingestion")
}
