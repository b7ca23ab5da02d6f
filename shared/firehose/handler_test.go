package firehose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

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

func TestHandleOverBudgetIsReingested(t *testing.T) {
	// Each Ok record costs base64(5 bytes)=8 + len("rec-000")=7 = 15 bytes.
	re := &fakeReingester{}
	ev := event("aaaaa", "bbbbb", "ccccc", "ddddd")
	ev.Records[3].KinesisFirehoseRecordMetadata.PartitionKey = "pk-3"
	resp, stats, err := NewHandler(upper, WithBudget(30), WithReingester(re)).Process(context.Background(), ev)
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
	resp, err := NewHandler(upper, WithBudget(15), WithReingester(re)).Handle(context.Background(), event("aaaaa", "bbbbb"))
	require.Error(t, err)
	assert.Nil(t, resp)
	assert.Contains(t, err.Error(), "throttled")
}

func TestHandleOverBudgetWithoutReingesterFails(t *testing.T) {
	resp, stats, err := NewHandler(upper, WithBudget(15)).Process(context.Background(), event("aaaaa", "bbbbb"))
	require.NoError(t, err)
	assert.Equal(t, ResultOk, resp.Records[0].Result)
	assert.Equal(t, ResultProcessingFailed, resp.Records[1].Result)
	assert.Equal(t, 1, stats.Failed)
}

func TestHandleRecordLargerThanBudgetFails(t *testing.T) {
	// Re-ingesting a record whose output alone exceeds the budget would loop forever.
	re := &fakeReingester{}
	resp, _, err := NewHandler(upper, WithBudget(12), WithReingester(re)).Process(context.Background(), event("a", "0123456789"))
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
	golden := filepath.Join("testdata", "response.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(golden, append(got, '\n'), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))

	raw, err := NewHandler(upper).HandleJSON(context.Background(), event("hello", "drop", "fail", "empty", "key:eu"))
	require.NoError(t, err)
	rawBytes, err := io.ReadAll(raw)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(rawBytes), "HandleJSON writes the same response")

	var back Response
	require.NoError(t, json.Unmarshal(got, &back))
	assert.Equal(t, resp, &back, "UnmarshalJSON reads what MarshalJSON writes")
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
