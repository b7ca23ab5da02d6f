package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
	"lakestream/shared/boot"
	"lakestream/shared/config"
	"lakestream/shared/deadline"
	"lakestream/shared/golden"
	"lakestream/shared/lambdarun"
	"lakestream/shared/logging/logtest"
	"lakestream/shared/metrics"
	"lakestream/shared/pipeline"
	"lakestream/shared/streamput"
)

const tableARN = "arn:aws:dynamodb:us-east-1:123456789012:table/%s/stream/2024-05-01T00:00:00.000"

// orderRecord is a realistic INSERT of order i into table, with a 38-digit
// order number and a note of noteBytes bytes.
func orderRecord(table string, i, noteBytes int) events.DynamoDBEventRecord {
	keys := map[string]events.DynamoDBAttributeValue{
		"customer_id": events.NewStringAttribute(fmt.Sprintf("c-%05d", i%1000)),
		"order_id":    events.NewNumberAttribute(fmt.Sprintf("1%037d", i)),
	}
	item := map[string]events.DynamoDBAttributeValue{
		"customer_id": keys["customer_id"],
		"order_id":    keys["order_id"],
		"status":      events.NewStringAttribute("placed"),
		"total":       events.NewNumberAttribute(fmt.Sprintf("%d.%02d", i%997, i%100)),
		"lines": events.NewListAttribute([]events.DynamoDBAttributeValue{
			events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{
				"sku": events.NewStringAttribute("sku-42"), "qty": events.NewNumberAttribute("2"),
			}),
		}),
		"tags": events.NewStringSetAttribute([]string{"web", "eu"}),
		"note": events.NewStringAttribute(strings.Repeat("n", noteBytes)),
	}
	return events.DynamoDBEventRecord{
		EventID: fmt.Sprintf("%032x", i), EventName: "INSERT", EventVersion: "1.1", EventSource: sourceDynamoDB,
		AWSRegion: "us-east-1", EventSourceArn: fmt.Sprintf(tableARN, table),
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: time.Unix(1714521600+int64(i), 0)},
			Keys:                        keys, NewImage: item,
			SequenceNumber: seq(i), SizeBytes: 200, StreamViewType: "NEW_AND_OLD_IMAGES",
		},
	}
}

// seq is the sequence number of record i: 21 digits, as DynamoDB's.
func seq(i int) string { return fmt.Sprintf("4%020d", i) }

func eventOf(t testing.TB, recs ...events.DynamoDBEventRecord) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(events.DynamoDBEvent{Records: recs})
	require.NoError(t, err)
	return raw
}

func orders(t testing.TB, table string, n int) json.RawMessage {
	recs := make([]events.DynamoDBEventRecord, n)
	for i := range recs {
		recs[i] = orderRecord(table, i, 64)
	}
	return eventOf(t, recs...)
}

// failures is a Handle response's batchItemFailures.
func failures(t testing.TB, resp any) []string {
	t.Helper()
	b, err := json.Marshal(resp)
	require.NoError(t, err)
	var r events.DynamoDBEventResponse
	require.NoError(t, json.Unmarshal(b, &r))
	require.NotNil(t, r.BatchItemFailures, "batchItemFailures is a list, never null: %s", b)
	ids := make([]string, len(r.BatchItemFailures))
	for i, f := range r.BatchItemFailures {
		require.NotEmpty(t, f.ItemIdentifier, "an empty identifier fails the whole batch")
		ids[i] = f.ItemIdentifier
	}
	return ids
}

// sequenceNumbers reads the sequence_number of delivered lines, counting
// each: a record delivered twice would show 2.
func sequenceNumbers(t testing.TB, lines [][]byte) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for _, l := range lines {
		var line struct {
			SequenceNumber string `json:"sequence_number"`
		}
		require.NoError(t, json.Unmarshal(l, &line), "%s", l)
		seen[line.SequenceNumber]++
	}
	return seen
}

// TestSamples runs the handler, configured as the template deploys it, on
// every events/ddb-stream-forwarder sample, and compares its response and
// the lines each delivery stream received with testdata/events/<sample>.golden.json.
func TestSamples(t *testing.T) {
	env := templateEnv(t)
	cfg := loadConfig(config.New(config.FromMap(env)))
	samples, err := filepath.Glob(filepath.Join(eventsDir(t), "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, samples)
	for _, path := range samples {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			fh := newFakeFirehose()
			resp, err := testHandler(cfg, fh, nil, nil).Handle(context.Background(), raw)
			require.NoError(t, err)
			assert.Empty(t, failures(t, resp))
			delivered := map[string][]*lineJSON{}
			for stream, lines := range fh.accepted {
				for _, l := range lines {
					delivered[stream] = append(delivered[stream], showLine(l))
				}
			}
			golden.Bytes(t, filepath.Join("testdata", "events", name+".golden.json"), golden.Marshal(t, map[string]any{"response": resp, "delivered": delivered}))
		})
	}
}

// shapeSettings are the settings TestShapes runs the samples with, over
// the template's: the item, and the projection of AWS's "Top-N DynamoDB
// objects" Athena post with the author's handle from a map.
var shapeSettings = map[string]map[string]string{
	"envelope": {"OUTPUT_SHAPE": "envelope"},
	"item":     {"OUTPUT_SHAPE": "item"},
	"projection": {"OUTPUT_SHAPE": "projection",
		"PROJECTION": "table_name=@table,event=@event_name,user_id,tweet_id,approx_post_time=@approximate_creation_time:epoch-s,handle=author.handle"},
}

// TestShapes runs every events/ddb-stream-forwarder sample with each
// output shape and compares what each delivery stream received with
// testdata/shapes/<shape>.golden.json; the envelope's lines are the
// template's, byte for byte.
func TestShapes(t *testing.T) {
	samples, err := filepath.Glob(filepath.Join(eventsDir(t), "*.json"))
	require.NoError(t, err)
	var envelope map[string][][]byte
	for _, shape := range []string{"envelope", "item", "projection"} {
		t.Run(shape, func(t *testing.T) {
			env := templateEnv(t)
			maps.Copy(env, shapeSettings[shape])
			cfg := loadConfig(config.New(config.FromMap(env)))
			got := map[string]any{}
			lines := map[string][][]byte{}
			for _, path := range samples {
				name := strings.TrimSuffix(filepath.Base(path), ".json")
				raw, err := os.ReadFile(path)
				require.NoError(t, err)
				fh := newFakeFirehose()
				resp, err := testHandler(cfg, fh, nil, nil).Handle(context.Background(), raw)
				require.NoError(t, err)
				assert.Empty(t, failures(t, resp), name)
				var shown []*lineJSON
				for _, l := range fh.accepted[cfg.DeliveryStream] {
					shown = append(shown, showLine(l))
					lines[name] = append(lines[name], l)
				}
				got[name] = shown
			}
			if shape == "envelope" {
				envelope = lines
			}
			golden.Bytes(t, filepath.Join("testdata", "shapes", shape+".golden.json"), golden.Marshal(t, got))
		})
	}
	env := templateEnv(t)
	cfg := loadConfig(config.New(config.FromMap(env)))
	for _, path := range samples {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		fh := newFakeFirehose()
		_, err = testHandler(cfg, fh, nil, nil).Handle(context.Background(), raw)
		require.NoError(t, err)
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		assert.Equal(t, envelope[name], fh.accepted[cfg.DeliveryStream], "%s: OUTPUT_SHAPE=envelope is the default", name)
	}
}

// TestBuiltAsMain: the template's settings are valid, and the handler main
// builds from them answers as the one the tests build.
func TestBuiltAsMain(t *testing.T) {
	env := templateEnv(t)
	fn := boot.NewFrom(config.FromMap(env), &bytes.Buffer{})
	cfg := loadConfig(fn.Env)
	require.NoError(t, fn.Err())
	assert.Equal(t, "ddb-changes", cfg.DeliveryStream)
	assert.Equal(t, Converter{NewImage: true, OldImage: true, KinesisNewline: true, Shape: ShapeEnvelope}, cfg.Convert)
	assert.Nil(t, cfg.Stages, "the template sets no stage: lines are written as the shape makes them")
	assert.Empty(t, cfg.OverflowBucket, "no overflow bucket unless one is named")
}

// TestPartialFailure: Firehose throttles whole calls and rejects records
// at random; some records it rejects every time. In the end every record
// is either delivered, once, or listed in batchItemFailures, never both.
func TestPartialFailure(t *testing.T) {
	const n = 1300 // three PutRecordBatch requests
	rng := rand.New(rand.NewPCG(1, 2))
	poison := map[string]bool{}
	for _, i := range []int{0, 17, 499, 500, 1299} {
		poison[seq(i)] = true
	}
	fh := newFakeFirehose()
	fh.throttle = func(call int) bool { return call%4 == 1 }
	fh.reject = func(_ int, _ string, data []byte) string {
		var line struct {
			SequenceNumber string `json:"sequence_number"`
		}
		_ = json.Unmarshal(data, &line)
		switch {
		case poison[line.SequenceNumber]:
			return "ServiceUnavailableException"
		case rng.IntN(3) == 0:
			return "InternalFailure"
		}
		return ""
	}
	cfg := Config{DeliveryStream: "lake", Convert: both, Retry: instant(8)}
	var logs bytes.Buffer
	h := testHandler(cfg, fh, nil, &logs)
	resp, err := h.Handle(context.Background(), orders(t, "Orders", n))
	require.NoError(t, err)

	failed := failures(t, resp)
	delivered := sequenceNumbers(t, fh.accepted["lake"])
	assert.Positive(t, fh.throttled, "some calls were throttled")
	assert.Greater(t, fh.rejected, len(poison)*8, "records were rejected, and retried")
	for id := range poison {
		assert.Contains(t, failed, id, "a record Firehose always rejects is reported")
	}
	for _, id := range failed {
		assert.Zero(t, delivered[id], "record %s both delivered and reported failed", id)
	}
	for id, times := range delivered {
		assert.Equal(t, 1, times, "record %s delivered %d times", id, times)
	}
	assert.Equal(t, n, len(delivered)+len(failed), "every record delivered or reported: %d delivered, %d failed", len(delivered), len(failed))
	assert.Len(t, failed, len(poison), "what retries could deliver was delivered")
	assert.Contains(t, logs.String(), fmt.Sprintf(`"records":%d,"delivered":%d,"skipped":0,"failed":%d`, n, n-len(poison), len(poison)))
}

// TestEveryRecordAccountedFor runs random failure patterns, including
// records no retry can deliver, and counts: delivered + failed = in.
func TestEveryRecordAccountedFor(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			n := 1 + rng.IntN(1200)
			fh := newFakeFirehose()
			throttleRate, rejectRate := rng.IntN(4), 1+rng.IntN(5)
			fh.throttle = func(int) bool { return throttleRate > 0 && rng.IntN(10) < throttleRate }
			fh.reject = func(int, string, []byte) string {
				if rng.IntN(10) < rejectRate {
					return "ServiceUnavailableException"
				}
				return ""
			}
			h := testHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(1 + rng.IntN(4))}, fh, nil, nil)
			resp, err := h.Handle(context.Background(), orders(t, "Orders", n))
			require.NoError(t, err)
			failed := failures(t, resp)
			delivered := sequenceNumbers(t, fh.accepted["lake"])
			all := map[string]bool{}
			for _, id := range failed {
				assert.Zero(t, delivered[id], "record %s both delivered and failed", id)
				all[id] = true
			}
			for id, times := range delivered {
				assert.Equal(t, 1, times)
				all[id] = true
			}
			assert.Len(t, all, n, "every record delivered or reported failed")
		})
	}
}

// TestRequestsWithinLimits: lines go out in PutRecordBatch requests of at
// most 500 records and 4 MiB.
func TestRequestsWithinLimits(t *testing.T) {
	tests := map[string]struct {
		records, noteBytes, minCalls int
	}{
		"many small records": {records: 1234, noteBytes: 10, minCalls: 3},
		"fewer large ones":   {records: 450, noteBytes: 20 << 10, minCalls: 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			recs := make([]events.DynamoDBEventRecord, tc.records)
			for i := range recs {
				recs[i] = orderRecord("Orders", i, tc.noteBytes)
			}
			fh := newFakeFirehose()
			resp, err := testHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(2)}, fh, nil, nil).Handle(context.Background(), eventOf(t, recs...))
			require.NoError(t, err)
			assert.Empty(t, failures(t, resp))
			assert.Len(t, fh.accepted["lake"], tc.records)
			assert.GreaterOrEqual(t, fh.calls, tc.minCalls)
			assert.LessOrEqual(t, fh.maxRecords, 500)
			assert.LessOrEqual(t, fh.maxBytes, 4<<20)
		})
	}
}

func TestOversize(t *testing.T) {
	// A line of about 1,100 KiB: over Firehose's 1,000 KiB record limit.
	big := orderRecord("Orders", 1, 1100<<10)
	small := orderRecord("Orders", 2, 10)
	event := eventOf(t, small, big, orderRecord("Orders", 3, 10))

	t.Run("failed without an overflow bucket, logged with its key", func(t *testing.T) {
		fh := newFakeFirehose()
		var logs bytes.Buffer
		resp, err := testHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(3)}, fh, nil, &logs).Handle(context.Background(), event)
		require.NoError(t, err)
		assert.Equal(t, []string{seq(1)}, failures(t, resp))
		assert.Len(t, fh.accepted["lake"], 2, "the other records are delivered")
		for _, l := range fh.accepted["lake"] {
			assert.Less(t, len(l), 4096, "nothing cut from the big record was sent")
		}
		assert.Contains(t, logs.String(), `"key":"{\"customer_id\":\"c-00001\",\"order_id\":10000000000000000000000000000000000001}"`)
		assert.Contains(t, logs.String(), "set OVERFLOW_BUCKET")
	})
	t.Run("written whole to the overflow bucket", func(t *testing.T) {
		fh := newFakeFirehose()
		store := &fakeS3{}
		cfg := Config{DeliveryStream: "lake", Convert: both, Retry: instant(3), OverflowBucket: "lake-overflow", OverflowPrefix: "oversize/"}
		var logs bytes.Buffer
		resp, err := testHandler(cfg, fh, store, &logs).Handle(context.Background(), event)
		require.NoError(t, err)
		assert.Empty(t, failures(t, resp))
		summary := logtest.Summary(t, logs.String())
		assert.Equal(t, float64(3), summary["delivered"])
		assert.Equal(t, float64(1), summary["overflowed"])
		obj := store.objects["lake-overflow/oversize/Orders/"+seq(1)+".json"]
		require.NotNil(t, obj, "objects: %v", slices.Collect(maps.Keys(store.objects)))
		assert.Greater(t, len(obj), maxLineBytes)
		want, _, err := both.Convert(nil, mustJSON(t, big))
		require.NoError(t, err)
		assert.Equal(t, string(want.Line), string(obj), "the object is the whole line")
		assert.Len(t, fh.accepted["lake"], 2)
	})
	t.Run("failed when the overflow bucket refuses", func(t *testing.T) {
		fh := newFakeFirehose()
		store := &fakeS3{err: &smithy.GenericAPIError{Code: "AccessDenied", Fault: smithy.FaultClient}}
		cfg := Config{DeliveryStream: "lake", Convert: both, Retry: instant(3), OverflowBucket: "lake-overflow"}
		resp, err := testHandler(cfg, fh, store, nil).Handle(context.Background(), event)
		require.NoError(t, err)
		assert.Equal(t, []string{seq(1)}, failures(t, resp))
	})
}

func TestRouting(t *testing.T) {
	event := eventOf(t, orderRecord("Orders", 1, 1), orderRecord("Customers", 2, 1), orderRecord("Audit", 3, 1))
	tests := map[string]struct {
		cfg    Config
		lines  map[string]int
		failed []string
	}{
		"default only": {
			cfg:   Config{DeliveryStream: "lake"},
			lines: map[string]int{"lake": 3},
		},
		"routes and a default": {
			cfg:   Config{DeliveryStream: "lake", Routes: map[string]string{"Customers": "crm", "Audit": "audit"}},
			lines: map[string]int{"lake": 1, "crm": 1, "audit": 1},
		},
		"a table without a route and no default fails": {
			cfg:    Config{Routes: map[string]string{"Orders": "orders", "Customers": "crm"}},
			lines:  map[string]int{"orders": 1, "crm": 1},
			failed: []string{seq(3)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.cfg.Convert, tc.cfg.Retry = both, instant(2)
			fh := newFakeFirehose()
			resp, err := testHandler(tc.cfg, fh, nil, nil).Handle(context.Background(), event)
			require.NoError(t, err)
			got := map[string]int{}
			for s, l := range fh.accepted {
				got[s] = len(l)
			}
			assert.Equal(t, tc.lines, got)
			assert.Equal(t, append([]string{}, tc.failed...), failures(t, resp))
		})
	}
}

// TestMalformedRecordsFailAlone: the malformed records of an event are
// reported by sequence number, the good ones delivered, and nothing
// panics out of the handler; a failed record without a sequence number
// fails the invocation, since no response could name it.
func TestMalformedRecordsFailAlone(t *testing.T) {
	recs := records(t, filepath.Join("testdata", "malformed.json"))
	identified := recs[:14] // the last two have no sequence number
	raw, err := json.Marshal(map[string]any{"Records": identified})
	require.NoError(t, err)
	fh := newFakeFirehose()
	resp, err := testHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(2)}, fh, nil, nil).Handle(context.Background(), raw)
	require.NoError(t, err)
	want := []string{}
	for i := 400; i <= 413; i++ {
		if i != 401 {
			want = append(want, strconv.Itoa(i))
		}
	}
	assert.Equal(t, want, failures(t, resp))
	assert.Len(t, fh.accepted["lake"], 1, "the one good record")

	raw, err = json.Marshal(map[string]any{"Records": recs})
	require.NoError(t, err)
	_, err = testHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(2)}, newFakeFirehose(), nil, nil).Handle(context.Background(), raw)
	require.ErrorIs(t, err, batch.ErrUnidentified)
}

// TestMalformedEvents: an event that is not a stream event fails the
// invocation, and like every invocation it writes one summary line and the
// metrics (it used to write neither).
func TestMalformedEvents(t *testing.T) {
	tests := map[string]struct {
		event   string
		wantErr error
		resp    string
	}{
		"not JSON":                   {event: `{"Records":[`, wantErr: batch.ErrUnknownEvent},
		"records not a list":         {event: `{"Records":{}}`, wantErr: batch.ErrUnknownEvent},
		"no records":                 {event: `{}`, wantErr: batch.ErrUnknownEvent},
		"empty records":              {event: `{"Records":[]}`, resp: `{"batchItemFailures":[]}`},
		"a record is null":           {event: `{"Records":[null]}`, wantErr: batch.ErrUnknownEvent},
		"a later record is null":     {event: `{"Records":[{"eventSource":"aws:dynamodb"},null]}`, wantErr: batch.ErrUnidentified},
		"an SQS event, by messageId": {event: `{"Records":[{"eventSource":"aws:sqs","messageId":"m1","body":"{}"}]}`, resp: `{"batchItemFailures":[{"itemIdentifier":"m1"}]}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			h := testHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(1)}, newFakeFirehose(), nil, &out)
			resp, err := h.Handle(context.Background(), json.RawMessage(tc.event))
			summary := logtest.Summary(t, out.String())
			assert.Contains(t, out.String(), `"RecordsIn":`, "EMF metrics written")
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Equal(t, "invocation failed", summary["msg"])
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "invocation done", summary["msg"])
			b, err := json.Marshal(resp)
			require.NoError(t, err)
			assert.JSONEq(t, tc.resp, string(b))
		})
	}
}

// panicking is a Firehose that panics, as a bug in a client might.
type panicking struct{}

func (panicking) PutRecordBatch(context.Context, string, []streamput.Entry) ([]streamput.Answer, error) {
	panic("boom")
}

// TestPanic: a panic while writing fails the records being written, not
// the process; they are reported by sequence number, with one summary
// line and the metrics (it used to fail the invocation with neither).
func TestPanic(t *testing.T) {
	var out bytes.Buffer
	h := newHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(1)}, panicking{}, nil,
		slog.New(slog.NewJSONHandler(&out, nil)), metrics.New(&out, "test"))
	var resp any
	var err error
	require.NotPanics(t, func() { resp, err = h.Handle(context.Background(), orders(t, "Orders", 3)) })
	require.NoError(t, err)
	assert.Equal(t, []string{seq(0), seq(1), seq(2)}, failures(t, resp))
	summary := logtest.Summary(t, out.String())
	assert.Equal(t, float64(3), summary["failed"])
	assert.Contains(t, out.String(), `"msg":"flush panicked"`)
	assert.Contains(t, out.String(), `"RecordsFailed":3`)
}

// TestDeadline: while Firehose throttles every call, retrying stops before
// the invocation's deadline and the records are reported failed, rather
// than the function timing out (which would retry the whole batch).
func TestDeadline(t *testing.T) {
	fh := newFakeFirehose()
	fh.throttle = func(int) bool { return true }
	cfg := Config{DeliveryStream: "lake", Convert: both, Retry: instant(1000)}
	cfg.Retry.Sleep = nil // real waits
	ctx, cancel := context.WithTimeout(context.Background(), deadline.Margin+500*time.Millisecond)
	defer cancel()
	start := time.Now()
	resp, err := testHandler(cfg, fh, nil, nil).Handle(ctx, orders(t, "Orders", 10))
	require.NoError(t, err)
	assert.Less(t, time.Since(start), deadline.Margin, "answered before the deadline")
	assert.Len(t, failures(t, resp), 10)
	assert.Greater(t, fh.calls, 1, "it retried while there was time")
}

// TestLogs: one summary line with counts, metrics as EMF, and no item data
// in the logs, only keys.
func TestLogs(t *testing.T) {
	rec := orderRecord("Orders", 5, 0)
	rec.Change.NewImage["secret"] = events.NewStringAttribute("4111-1111-1111-1111")
	var out bytes.Buffer
	fh := newFakeFirehose()
	fh.reject = func(int, string, []byte) string { return "ServiceUnavailableException" }
	_, err := testHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(2)}, fh, nil, &out).Handle(context.Background(), eventOf(t, rec))
	require.NoError(t, err)
	assert.NotContains(t, out.String(), "4111-1111", "no item data in logs")
	assert.Contains(t, out.String(), `"msg":"record failed"`)
	assert.Contains(t, out.String(), `"sequence_number":"`+seq(5)+`"`)
	assert.Contains(t, out.String(), `"msg":"invocation done","source":"aws:dynamodb","records":1,"delivered":0,"skipped":0,"failed":1`)
	assert.Contains(t, out.String(), `"RecordsFailed":1`)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func eventsDir(t testing.TB) string {
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	return filepath.Join(root, "events", "ddb-stream-forwarder")
}

// templateEnv is the function's environment as template.yaml sets it.
func templateEnv(t testing.TB) map[string]string {
	t.Helper()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	tmpl, err := lambdarun.LoadTemplate(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	env, err := tmpl.Environment(lambdarun.LogicalID("ddb-stream-forwarder"))
	require.NoError(t, err)
	return env
}

// TestMemoryReused: an invocation writes into the memory the previous one
// left (the arena the size of the event no longer allocated each time),
// and what each delivers is still its own lines, whatever the previous
// event's size.
func TestMemoryReused(t *testing.T) {
	big, small := orders(t, "Orders", 300), orders(t, "Customers", 2)
	fh := newFakeFirehose()
	h := testHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(1)}, fh, nil, nil)
	for _, ev := range []json.RawMessage{big, small, big, small} {
		_, err := h.Handle(context.Background(), ev)
		require.NoError(t, err)
	}
	lines := fh.accepted["lake"]
	require.Len(t, lines, 604)
	for i, l := range lines {
		want := orderRecord("Orders", i, 64)
		switch {
		case i >= 302:
			want = orderRecord("Orders", i-302, 64)
		case i >= 300:
			want = orderRecord("Customers", i-300, 64)
		}
		if i >= 602 {
			want = orderRecord("Customers", i-602, 64)
		}
		conv, _, err := both.Convert(nil, mustJSON(t, want))
		require.NoError(t, err)
		require.Equal(t, string(conv.Line), string(l), "line %d", i)
	}

	quiet := newHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(1)}, streamput.Discard{}, nil,
		slog.New(slog.NewJSONHandler(io.Discard, nil)), metrics.New(io.Discard, "test"))
	allocated := func() uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := quiet.Handle(context.Background(), big)
		require.NoError(t, err)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	cold, warm := allocated(), allocated()
	assert.Less(t, warm+uint64(len(big))*9/10, cold, "a warm invocation allocates no arena: %d bytes, cold %d, event %d", warm, cold, len(big))
}

// TestStages: the shared pipeline's stages run on DynamoDB lines, after
// the shape: DROP_IF skips a record, a SCHEMA violation fails it (logged
// without masked values), MASK_FIELDS masks, ARRIVAL_TIME_FIELD writes
// the record's creation time, OUTPUT_FORMAT writes CSV; Kinesis records
// pass as they are.
func TestStages(t *testing.T) {
	tests := map[string]struct {
		env      map[string]string
		events   []string // samples, one invocation each
		lines    []string
		failed   []string
		skipped  int
		logs     []string // in the logs
		notLogs  []string // never in the logs
		filtered int
	}{
		"a line no stage changes is written as it came": {
			env:    map[string]string{"DROP_IF": "table=NoSuchTable"},
			events: []string{"insert"},
			lines: []string{`{"table":"Orders","event_name":"INSERT","event_id":"c4ca4238a0b923820dcc509a6f75849b","sequence_number":"400000000000000499660",` +
				`"approximate_creation_time":"2024-05-01T00:00:00Z","approximate_creation_epoch":1714521600,"ttl_delete":false,` +
				`"keys":{"customer_id":"c-1001","order_id":12345678901234567890123456789012345678},` +
				`"new_image":{"customer_id":"c-1001","items":3,"order_id":12345678901234567890123456789012345678,"status":"placed","total":129.90}}`},
		},
		"DROP_IF skips, on the item's fields": {
			env:      map[string]string{"OUTPUT_SHAPE": "item", "DROP_IF": "status=abandoned,status=shipped"},
			events:   []string{"insert", "modify", "ttl-delete"},
			lines:    []string{`{"customer_id":"c-1001","items":3,"order_id":12345678901234567890123456789012345678,"status":"placed","total":129.90}`},
			skipped:  2,
			filtered: 2,
		},
		"SCHEMA fails the record, the reason logged": {
			env:     map[string]string{"OUTPUT_SHAPE": "item", "SCHEMA": "total:float:0..100"},
			events:  []string{"insert", "ttl-delete"},
			lines:   []string{`{"customer_id":"c-1002","expires_at":1714525000,"order_id":42,"status":"abandoned"}`},
			failed:  []string{"400000000000000499660"},
			logs:    []string{`"msg":"record failed"`, `"key":"{\"customer_id\":\"c-1001\",\"order_id\":12345678901234567890123456789012345678}"`, `field \"total\": 129.9 is above the maximum 100`},
			notLogs: []string{"line 1"},
		},
		"masked values stay out of the logs": {
			env: map[string]string{"OUTPUT_SHAPE": "projection", "PROJECTION": "user_id,tweet_id,posted_at,text",
				"MASK_FIELDS": "user_id=hash,posted_at=redact", "HASH_SALT": "pepper", "SCHEMA": "posted_at:timestamp"},
			events:  []string{"tweets"},
			failed:  []string{"500000000000000012301", "500000000000000012302", "500000000000000012303"},
			logs:    []string{`"key":"tweet_id, user_id (value withheld: MASK_FIELDS)"`, `field \"posted_at\": (value withheld: MASK_FIELDS) is not an RFC 3339 timestamp`},
			notLogs: []string{"u-42", "REDACTED", "2024-05-01T09:59:58Z"},
		},
		"MASK_FIELDS masks the lines": {
			env:    map[string]string{"OUTPUT_SHAPE": "projection", "PROJECTION": "user_id,tweet_id", "MASK_FIELDS": "user_id=hash", "HASH_SALT": "pepper"},
			events: []string{"tweets"},
			lines: []string{
				`{"user_id":"` + hmacHex("pepper", "u-42") + `","tweet_id":1785960000000000001}`,
				`{"user_id":"` + hmacHex("pepper", "u-42") + `","tweet_id":1785960000000000001}`,
				`{"user_id":"` + hmacHex("pepper", "u-42") + `","tweet_id":1785960000000000001}`,
			},
		},
		"ARRIVAL_TIME_FIELD is the record's creation time": {
			env:    map[string]string{"OUTPUT_SHAPE": "projection", "PROJECTION": "user_id,likes", "ARRIVAL_TIME_FIELD": "change_time"},
			events: []string{"tweets"},
			lines: []string{
				`{"user_id":"u-42","likes":0,"change_time":"2024-05-01T10:00:00.000Z"}`,
				`{"user_id":"u-42","likes":12,"change_time":"2024-05-01T11:00:00.000Z"}`,
				`{"user_id":"u-42","likes":12,"change_time":"2024-05-01T12:00:00.000Z"}`,
			},
		},
		"OUTPUT_FORMAT writes CSV": {
			env:    map[string]string{"OUTPUT_SHAPE": "item", "OUTPUT_FORMAT": "csv", "OUTPUT_COLUMNS": "user_id,tweet_id,text,hashtags"},
			events: []string{"tweets"},
			lines: []string{
				`u-42,1785960000000000001,Shipping the forwarder today — items land flat in the lake,"[""aws"",""dynamodb""]"`,
				`u-42,1785960000000000001,Shipping the forwarder today — items land flat in the lake,"[""aws"",""dynamodb""]"`,
				`u-42,1785960000000000001,Shipping the forwarder today — items land flat in the lake,"[""aws"",""dynamodb""]"`,
			},
		},
		"FIELDS renames as the line is written, into the envelope too": {
			env:    map[string]string{"FIELDS": "table,status=new_image.status,total=new_image.total"},
			events: []string{"insert"},
			lines:  []string{`{"table":"Orders","status":"placed","total":129.90}`},
		},
		"Kinesis records pass as they are": {
			env:    map[string]string{"DROP_IF": "event=click", "MASK_FIELDS": "user=drop"},
			events: []string{"kinesis"},
			lines:  []string{`{"event":"page_view","user":"u-1","path":"/"}`, `{"event":"click","user":"u-2","amount":12345678901234567890123456789012345678}`, `plain text, not JSON`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := templateEnv(t)
			maps.Copy(env, tc.env)
			cenv := config.New(config.FromMap(env))
			cfg := loadConfig(cenv)
			require.NoError(t, cenv.Err())
			require.NotNil(t, cfg.Stages)
			cfg.Retry = instant(1)
			fh := newFakeFirehose()
			var logs bytes.Buffer
			h := testHandler(cfg, fh, nil, &logs)
			failed := []string{}
			skipped, filtered := 0, 0
			var all strings.Builder
			for _, ev := range tc.events {
				raw, err := os.ReadFile(filepath.Join(eventsDir(t), ev+".json"))
				require.NoError(t, err)
				logs.Reset()
				resp, err := h.Handle(context.Background(), raw)
				require.NoError(t, err)
				failed = append(failed, failures(t, resp)...)
				summary := logtest.Summary(t, logs.String())
				skipped += int(summary["skipped"].(float64))
				filtered += int(summary["filtered"].(float64))
				all.WriteString(logs.String())
			}
			for _, s := range tc.logs {
				assert.Contains(t, all.String(), s)
			}
			for _, s := range tc.notLogs {
				assert.NotContains(t, all.String(), s)
			}
			var lines []string
			for _, l := range fh.accepted[cfg.DeliveryStream] {
				require.True(t, bytes.HasSuffix(l, []byte("\n")), "%q", l)
				lines = append(lines, string(l[:len(l)-1]))
			}
			assert.Equal(t, tc.lines, lines)
			assert.Equal(t, append([]string{}, tc.failed...), failed)
			assert.Equal(t, tc.skipped, skipped)
			assert.Equal(t, tc.filtered, filtered)
		})
	}
}

// hmacHex is what MASK_FIELDS' hash writes: HMAC-SHA256 in lower-case hex.
func hmacHex(key, value string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// TestConversionErrorsWithheld: with fields masked, a record that cannot
// be converted is logged without the values its error would quote (a bad
// number's text), and still fails by its sequence number.
func TestConversionErrorsWithheld(t *testing.T) {
	recs := records(t, filepath.Join("testdata", "malformed.json"))
	raw, err := json.Marshal(map[string]any{"Records": recs[2:3]}) // "n": {"N": "12abc"}
	require.NoError(t, err)
	for _, masked := range []bool{false, true} {
		env := map[string]string{"DELIVERY_STREAM": "lake"}
		if masked {
			env["MASK_FIELDS"] = "n=redact"
		}
		cfg := loadConfig(config.New(config.FromMap(env)))
		var logs bytes.Buffer
		resp, err := testHandler(cfg, newFakeFirehose(), nil, &logs).Handle(context.Background(), raw)
		require.NoError(t, err)
		assert.Equal(t, []string{"402"}, failures(t, resp))
		assert.Contains(t, logs.String(), `"msg":"record failed"`)
		if masked {
			assert.NotContains(t, logs.String(), "12abc")
			assert.Contains(t, logs.String(), pipeline.Withheld)
		} else {
			assert.Contains(t, logs.String(), "12abc", "without masks the reason says all")
		}
	}
}
