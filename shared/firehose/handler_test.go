package firehose

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/golden"
	"lakestream/shared/metrics"
)

// upper is a transform with every outcome, chosen by the record's data.
func upper(_ context.Context, r Record) (Output, error) {
	switch s := string(r.Data); {
	case s == "drop":
		return Output{Drop: true}, nil
	case s == "fail":
		return Output{}, errors.New("bad record")
	case s == "panic":
		panic("boom")
	case s == "empty":
		return Output{Data: []byte{}}, nil
	case strings.HasPrefix(s, "split:"):
		return Output{Reingest: [][]byte{[]byte("a"), []byte("b")}}, nil
	case strings.HasPrefix(s, "key:"):
		return Output{Data: []byte(strings.ToUpper(s)), PartitionKeys: map[string]string{"k": s[4:]}}, nil
	default:
		return Output{Data: []byte(strings.ToUpper(s))}, nil
	}
}

func event(data ...string) events.KinesisFirehoseEvent {
	ev := events.KinesisFirehoseEvent{
		InvocationID:      "inv-1",
		DeliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/lake",
		Region:            "us-east-1",
	}
	for i, d := range data {
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{
			RecordID:                    fmt.Sprintf("rec-%03d", i),
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(1700000000000 + int64(i))},
			Data:                        []byte(d),
		})
	}
	return ev
}

type fakeReingester struct {
	calls    int
	payloads []Reingest
	err      error
}

func (f *fakeReingester) Reingest(_ context.Context, _ events.KinesisFirehoseEvent, p []Reingest) error {
	f.calls++
	f.payloads = append(f.payloads, p...)
	return f.err
}

func TestHandleOneResponsePerRecord(t *testing.T) {
	ev := event("hello", "drop", "fail", "panic", "empty", "key:eu", "world")
	resp, stats, err := NewHandler(upper).Process(context.Background(), ev)
	require.NoError(t, err)
	require.Len(t, resp.Records, len(ev.Records))
	want := []string{ResultOk, ResultDropped, ResultProcessingFailed, ResultProcessingFailed, ResultOk, ResultOk, ResultOk}
	for i, r := range resp.Records {
		assert.Equal(t, ev.Records[i].RecordID, r.RecordID, "record %d", i)
		assert.Equal(t, want[i], r.Result, "record %d", i)
	}
	assert.Equal(t, []byte("HELLO"), resp.Records[0].Data)
	assert.Equal(t, []byte("fail"), resp.Records[2].Data, "a failed record keeps its data for the error prefix")
	assert.Equal(t, []byte("panic"), resp.Records[3].Data)
	assert.Equal(t, map[string]string{"k": "eu"}, resp.Records[5].PartitionKeys)
	assert.Equal(t, Stats{In: 7, Ok: 4, Dropped: 1, Failed: 2, BytesIn: 34, BytesOut: 16}, stats)
}

func TestHandlePanicFailsOnlyItsRecord(t *testing.T) {
	resp, err := NewHandler(upper).Handle(context.Background(), event("a", "panic", "b"))
	require.NoError(t, err)
	assert.Equal(t, ResultOk, resp.Records[0].Result)
	assert.Equal(t, ResultProcessingFailed, resp.Records[1].Result)
	assert.Equal(t, ResultOk, resp.Records[2].Result)
}

// budgetFitting is the smallest budget whose response holds the records
// of ev listed in ok as Ok with their data (upper-cased by the transform),
// every other record taking the entry reserved for it.
func budgetFitting(ev events.KinesisFirehoseEvent, ok ...int) int {
	n := len(emptyResponse)
	for i, in := range ev.Records {
		n += reservedLen(in.RecordID)
		if slices.Contains(ok, i) {
			r := ResponseRecord{RecordID: in.RecordID, Result: ResultOk, Data: bytes.ToUpper(in.Data)}
			n += r.extraLen()
		}
	}
	return n
}

// TestHandleFullResponseStopsTransforming: once a record had to go back
// for want of room, the records after it go back as they came, even one
// small enough to fit, and are not transformed only to be thrown away.
func TestHandleFullResponseStopsTransforming(t *testing.T) {
	re := &fakeReingester{}
	ev := event("aaaaa", "bbbbb", "ccccc", "d")
	budget := budgetFitting(ev, 0, 1)
	require.Less(t, budget, budgetFitting(ev, 0, 1, 2), "a third Ok record would not fit")
	require.GreaterOrEqual(t, budget, budgetFitting(ev, 0, 1, 3), "the small fourth one would")
	var transformed []string
	count := func(ctx context.Context, r Record) (Output, error) {
		transformed = append(transformed, r.ID)
		return upper(ctx, r)
	}
	resp, stats, err := NewHandler(count, WithBudget(budget), WithReingester(re)).Process(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, []string{"rec-000", "rec-001", "rec-002"}, transformed)
	assert.Equal(t, ResultDropped, resp.Records[3].Result)
	assert.Equal(t, []Reingest{{Data: []byte("ccccc")}, {Data: []byte("d")}}, re.payloads)
	assert.Equal(t, 2, stats.Reingested)
}

func TestHandleOverBudgetIsReingested(t *testing.T) {
	re := &fakeReingester{}
	ev := event("aaaaa", "bbbbb", "ccccc", "ddddd")
	ev.Records[3].KinesisFirehoseRecordMetadata.PartitionKey = "pk-3"
	budget := budgetFitting(ev, 0, 1)
	require.Less(t, budget, budgetFitting(ev, 0, 1, 2), "a third Ok record would not fit")
	resp, stats, err := NewHandler(upper, WithBudget(budget), WithReingester(re)).Process(context.Background(), ev)
	require.NoError(t, err)
	got := []string{}
	for _, r := range resp.Records {
		got = append(got, r.Result)
	}
	assert.Equal(t, []string{ResultOk, ResultOk, ResultDropped, ResultDropped}, got)
	assert.Nil(t, resp.Records[2].Data)
	assert.Equal(t, 1, re.calls)
	assert.Equal(t, []Reingest{{Data: []byte("ccccc")}, {Data: []byte("ddddd"), PartitionKey: "pk-3"}}, re.payloads,
		"re-ingested as they came, with their Kinesis partition keys")
	assert.Equal(t, Stats{In: 4, Ok: 2, Reingested: 2, ReingestedPayloads: 2, BytesIn: 20, BytesOut: 10}, stats)
	encoded, err := resp.MarshalJSON()
	require.NoError(t, err)
	assert.LessOrEqual(t, len(encoded), budget)

	// One byte less and the second record no longer fits.
	resp, _, err = NewHandler(upper, WithBudget(budget-1), WithReingester(&fakeReingester{})).Process(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, ResultDropped, resp.Records[1].Result)
}

// TestResponseWithinBudget: whatever the records and the budget, the
// encoded response is never larger than the budget (the sum of data and
// record ids used to be, with partition keys and many small records).
func TestResponseWithinBudget(t *testing.T) {
	keys := func(_ context.Context, r Record) (Output, error) {
		switch len(r.Data) % 4 {
		case 0:
			return Output{Drop: true}, nil
		case 1:
			return Output{}, errors.New("bad")
		}
		return Output{Data: r.Data, PartitionKeys: map[string]string{"log_group": "aws_lambda_<orders>", "dt": "2024-05-01", "hour": "13"}}, nil
	}
	for seed := range 200 {
		var data []string
		for i := range 1 + seed%50 {
			data = append(data, strings.Repeat("x\u2028\"<", (seed*7+i*13)%23))
		}
		ev := event(data...)
		ev.Records[0].RecordID = "id-with-<html>&-\xff"
		for _, budget := range []int{0, 100, 500, 1000, 5000} {
			resp, stats, err := NewHandler(keys, WithBudget(budget), WithReingester(&fakeReingester{})).Process(context.Background(), ev)
			require.NoError(t, err)
			encoded, err := resp.MarshalJSON()
			require.NoError(t, err)
			if base := budgetFitting(ev); base <= budget {
				assert.LessOrEqual(t, len(encoded), budget, "seed %d budget %d", seed, budget)
			}
			assert.Equal(t, stats.In, stats.Ok+stats.Dropped+stats.Failed+stats.Reingested)
			for _, r := range resp.Records {
				assert.Equal(t, r.encodedLen(), len(must(r.MarshalJSON())), "encodedLen of %s", r.RecordID)
			}
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestMaxDataLen: data of MaxDataLen bytes fits a response on its own,
// one byte more does not.
func TestMaxDataLen(t *testing.T) {
	keys := map[string]string{"dt": "2024-05-01", "group": "a&b"}
	for _, budget := range []int{200, 201, 202, 203, 1000} {
		n := MaxDataLen(budget, "rec-000", keys)
		for _, size := range []int{n, n + 1, n + 2, n + 3} {
			h := NewHandler(func(context.Context, Record) (Output, error) {
				return Output{Data: bytes.Repeat([]byte("x"), size), PartitionKeys: keys}, nil
			}, WithBudget(budget), WithReingester(&fakeReingester{}))
			resp, _, err := h.Process(context.Background(), event("in"))
			require.NoError(t, err)
			fits := base64.StdEncoding.EncodedLen(size) == base64.StdEncoding.EncodedLen(n)
			assert.Equal(t, fits, resp.Records[0].Result == ResultOk, "budget %d, %d bytes (max %d)", budget, size, n)
		}
	}
	assert.Zero(t, MaxDataLen(10, "rec-000", nil))
}

func TestHandleSplitRecordIsReingested(t *testing.T) {
	re := &fakeReingester{}
	resp, stats, err := NewHandler(upper, WithReingester(re)).Process(context.Background(), event("split:x", "y"))
	require.NoError(t, err)
	assert.Equal(t, ResultDropped, resp.Records[0].Result)
	assert.Equal(t, ResultOk, resp.Records[1].Result)
	assert.Equal(t, []Reingest{{Data: []byte("a")}, {Data: []byte("b")}}, re.payloads)
	assert.Equal(t, 1, stats.Reingested)
	assert.Equal(t, 2, stats.ReingestedPayloads)
	assert.Equal(t, stats.In, stats.Ok+stats.Dropped+stats.Failed+stats.Reingested)
}

func TestHandleReingestFailureFailsInvocation(t *testing.T) {
	re := &fakeReingester{err: errors.New("throttled")}
	ev := event("aaaaa", "bbbbb")
	resp, err := NewHandler(upper, WithBudget(budgetFitting(ev, 0)), WithReingester(re)).Handle(context.Background(), ev)
	require.Error(t, err)
	assert.Nil(t, resp)
	assert.Contains(t, err.Error(), "throttled")
}

func TestHandleOverBudgetWithoutReingesterFails(t *testing.T) {
	ev := event("aaaaa", "bbbbb")
	resp, stats, err := NewHandler(upper, WithBudget(budgetFitting(ev, 0))).Process(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, ResultOk, resp.Records[0].Result)
	assert.Equal(t, ResultProcessingFailed, resp.Records[1].Result)
	assert.Equal(t, 1, stats.Failed)
}

func TestHandleRecordLargerThanBudgetFails(t *testing.T) {
	// Re-ingesting a record whose output alone exceeds the budget would loop forever.
	re := &fakeReingester{}
	small := event("a", "0123456789")
	budget := budgetFitting(small, 0)
	require.Less(t, budget, budgetFitting(small, 1), "the long record does not fit even without the short one")
	resp, _, err := NewHandler(upper, WithBudget(budget), WithReingester(re)).Process(context.Background(), small)
	require.NoError(t, err)
	assert.Equal(t, ResultOk, resp.Records[0].Result)
	assert.Equal(t, ResultProcessingFailed, resp.Records[1].Result)
	assert.Zero(t, re.calls)
}

func TestHandlePassesKinesisMetadata(t *testing.T) {
	var seen []Record
	h := NewHandler(func(_ context.Context, r Record) (Output, error) {
		seen = append(seen, r)
		return Output{Data: r.Data}, nil
	})
	ev := event("x", "y")
	ev.Records[1].KinesisFirehoseRecordMetadata = events.KinesisFirehoseRecordMetadata{ShardID: "shardId-0", PartitionKey: "pk"}
	_, err := h.Handle(context.Background(), ev)
	require.NoError(t, err)
	require.Len(t, seen, 2)
	assert.Nil(t, seen[0].Kinesis)
	require.NotNil(t, seen[1].Kinesis)
	assert.Equal(t, "pk", seen[1].Kinesis.PartitionKey)
	assert.Equal(t, time.UnixMilli(1700000000001).UTC(), seen[1].ArrivalTime.UTC())
}

// TestResponseJSON checks the wire form against a golden file: no null
// data on Ok records (even empty ones), no data on Dropped ones, metadata
// only with partition keys, never an empty metadata or otfMetadata object.
func TestResponseJSON(t *testing.T) {
	resp, err := NewHandler(upper).Handle(context.Background(), event("hello", "drop", "fail", "empty", "key:eu"))
	require.NoError(t, err)
	got, err := json.MarshalIndent(resp, "", "  ")
	require.NoError(t, err)
	assert.NotContains(t, string(got), "null")
	assert.NotContains(t, string(got), "otfMetadata")
	assert.NotContains(t, string(got), `"metadata": {}`)
	golden.JSON(t, filepath.Join("testdata", "response.golden.json"), json.RawMessage(got))

	raw, err := NewHandler(upper).HandleJSON(context.Background(), event("hello", "drop", "fail", "empty", "key:eu"))
	require.NoError(t, err)
	rawBytes, err := io.ReadAll(raw)
	require.NoError(t, err)
	assert.JSONEq(t, string(got), string(rawBytes), "HandleJSON writes the same response")

	var back Response
	require.NoError(t, json.Unmarshal(got, &back))
	assert.Equal(t, resp, &back, "UnmarshalJSON reads what MarshalJSON writes")
}

// TestWithCounts: a transform's own counts go into the one summary line
// (in snake case) and the one EMF document, taken once per invocation.
func TestWithCounts(t *testing.T) {
	var logs, emf bytes.Buffer
	taken := 0
	h := NewHandler(upper,
		WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
		WithMetrics(metrics.New(&emf, "test")),
		WithCounts(func() []Count {
			taken++
			return []Count{{Name: "LogEventsIn", N: 7 * taken}, {Name: "RecordsSplit", N: 0}}
		}))
	for range 2 {
		_, err := h.Handle(context.Background(), event("a", "drop"))
		require.NoError(t, err)
	}
	assert.Equal(t, 2, taken, "taken once per invocation")

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 2, "one summary line per invocation")
	var summary map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &summary))
	assert.Equal(t, "invocation done", summary["msg"])
	assert.EqualValues(t, 14, summary["log_events_in"])
	assert.EqualValues(t, 0, summary["records_split"])
	assert.EqualValues(t, 1, summary["dropped"])

	docs := strings.Split(strings.TrimSpace(emf.String()), "\n")
	require.Len(t, docs, 2, "one EMF document per invocation")
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(docs[1]), &doc))
	assert.EqualValues(t, 14, doc["LogEventsIn"])
	assert.EqualValues(t, 0, doc["RecordsSplit"], "zero counts are written too")
	assert.EqualValues(t, 2, doc["RecordsIn"])
}

func TestCountKey(t *testing.T) {
	for in, want := range map[string]string{"LogEventsIn": "log_events_in", "Records": "records", "bytesOut": "bytes_out", "": ""} {
		assert.Equal(t, want, Count{Name: in}.Key(), in)
	}
}

func TestStreamName(t *testing.T) {
	name, err := StreamName("arn:aws:firehose:eu-west-1:123456789012:deliverystream/my-stream")
	require.NoError(t, err)
	assert.Equal(t, "my-stream", name)
	_, err = StreamName("arn:aws:kinesis:eu-west-1:123456789012:stream/x")
	assert.Error(t, err)
}

func BenchmarkHandle(b *testing.B) {
	line := bytes.Repeat([]byte("x"), 1023)
	ev := event()
	for i := range 1000 {
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{RecordID: fmt.Sprint(i), Data: line})
	}
	h := NewHandler(func(_ context.Context, r Record) (Output, error) { return Output{Data: r.Data}, nil })
	b.SetBytes(int64(len(line) * len(ev.Records)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.HandleJSON(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	}
}
