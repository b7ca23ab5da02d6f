package firehose

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/golden"
	"lakestream/shared/jsonenc"
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
	encoded  int // payloads that came as base64 text (Reingest.Encoded)
	header   events.KinesisFirehoseEvent
	err      error
}

func (f *fakeReingester) Reingest(_ context.Context, ev events.KinesisFirehoseEvent, p []Reingest) error {
	f.calls++
	f.header = ev
	for _, r := range p {
		// The data is only valid during the call; a payload that came as
		// its base64 text is kept decoded, so that tests compare values.
		data := r.AppendData([]byte{})
		if r.Len() != len(data) {
			return fmt.Errorf("payload's Len %d, decoded %d bytes", r.Len(), len(data))
		}
		if r.Encoded != nil {
			f.encoded++
			if r.Data != nil {
				return errors.New("payload has both Data and Encoded")
			}
			if want := base64.StdEncoding.EncodeToString(data); string(r.Encoded) != want {
				return fmt.Errorf("encoded payload %q is not its value's encoding %q", r.Encoded, want)
			}
		}
		f.payloads = append(f.payloads, Reingest{Data: data, PartitionKey: r.PartitionKey})
	}
	return f.err
}

// request encodes ev as Firehose sends it: encoding/json of aws-lambda-go's
// type.
func request(t testing.TB, ev events.KinesisFirehoseEvent) []byte {
	t.Helper()
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	return raw
}

// process runs ev through h's one code path, request bytes to response
// bytes, and returns the response decoded and what happened to the
// records.
func process(t testing.TB, h *Handler, ev events.KinesisFirehoseEvent) (*Response, Stats, error) {
	t.Helper()
	return processCtx(t, context.Background(), h, ev)
}

func processCtx(t testing.TB, ctx context.Context, h *Handler, ev events.KinesisFirehoseEvent) (*Response, Stats, error) {
	t.Helper()
	out, stats, err := h.invoke(ctx, request(t, ev))
	if err != nil {
		assert.Nil(t, out, "no response with an error")
		return nil, stats, err
	}
	var resp Response
	require.NoError(t, json.Unmarshal(out, &resp))
	return &resp, stats, nil
}

func TestHandleOneResponsePerRecord(t *testing.T) {
	ev := event("hello", "drop", "fail", "panic", "empty", "key:eu", "world")
	resp, stats, err := process(t, NewHandler(Transform(upper)), ev)
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
	resp, _, err := process(t, NewHandler(Transform(upper)), event("a", "panic", "b"))
	require.NoError(t, err)
	assert.Equal(t, ResultOk, resp.Records[0].Result)
	assert.Equal(t, ResultProcessingFailed, resp.Records[1].Result)
	assert.Equal(t, ResultOk, resp.Records[2].Result)
}

// TestHandlePanicsInARow: panics in consecutive records, the first and the
// last, each fail their record alone, with its data, and the records
// between them are transformed.
func TestHandlePanicsInARow(t *testing.T) {
	resp, stats, err := process(t, NewHandler(Transform(upper)), event("panic", "panic", "a", "panic", "drop", "b", "panic"))
	require.NoError(t, err)
	var results []string
	for _, r := range resp.Records {
		results = append(results, r.Result)
		if r.Result == ResultProcessingFailed {
			assert.Equal(t, "panic", string(r.Data), r.RecordID)
		}
	}
	assert.Equal(t, []string{ResultProcessingFailed, ResultProcessingFailed, ResultOk, ResultProcessingFailed, ResultDropped, ResultOk, ResultProcessingFailed}, results)
	assert.Equal(t, Stats{In: 7, Ok: 2, Dropped: 1, Failed: 4, BytesIn: 26, BytesOut: 2}, stats)
}

// budgetFitting is the smallest budget whose response holds the records
// of ev listed in ok as Ok with their data (upper-cased by the transform),
// every other record taking the entry reserved for it.
func budgetFitting(ev events.KinesisFirehoseEvent, ok ...int) int {
	n := len(emptyResponse)
	for i, in := range ev.Records {
		n += reservedLen(jsonenc.StringLen(in.RecordID))
		if slices.Contains(ok, i) {
			r := ResponseRecord{RecordID: in.RecordID, Result: ResultOk, Data: bytes.ToUpper(in.Data)}
			e := r.entry()
			n += e.extraLen()
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
	resp, stats, err := process(t, NewHandler(Transform(count), WithBudget(budget), WithReingester(re)), ev)
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
	resp, stats, err := process(t, NewHandler(Transform(upper), WithBudget(budget), WithReingester(re)), ev)
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
	resp, _, err = process(t, NewHandler(Transform(upper), WithBudget(budget-1), WithReingester(&fakeReingester{})), ev)
	require.NoError(t, err)
	assert.Equal(t, ResultDropped, resp.Records[1].Result)
}

// TestResponseWithinBudget: whatever the records and the budget, the
// encoded response is never larger than the budget (the sum of data and
// record ids used to be, with partition keys and many small records), nor
// than the buffer Invoke encodes it into.
func TestResponseWithinBudget(t *testing.T) {
	shared := map[string]string{"log_group": "aws_lambda_<orders>", "dt": "2024-05-01", "hour": "13"}
	keys := func(_ context.Context, r Record) (Output, error) {
		switch len(r.Data) % 4 {
		case 0:
			return Output{Drop: true}, nil
		case 1:
			return Output{}, errors.New("bad")
		case 2:
			return Output{Data: r.Data, PartitionKeys: shared}, nil // encoded once, from the memo after
		}
		return Output{Data: r.Data, PartitionKeys: map[string]string{"log_group": "aws_lambda_<orders>", "dt": "2024-05-01", "hour": "1\\3"}}, nil
	}
	for seed := range 200 {
		var data []string
		for i := range seed % 50 { // none, for seed 0
			data = append(data, strings.Repeat("x\u2028\"<", (seed*7+i*13)%23))
		}
		ev := event(data...)
		if len(ev.Records) > 0 {
			ev.Records[0].RecordID = "id-with-<html>&-\xff"
		} else {
			ev.Records = []events.KinesisFirehoseEventRecord{} // "records": [], not null
		}
		for _, budget := range []int{0, 100, 500, 1000, 5000} {
			h := NewHandler(Transform(keys), WithBudget(budget), WithReingester(&fakeReingester{}))
			inv := &invocation{}
			var err error
			inv.data, err = inv.req.decode(&inv.scan, request(t, ev), nil, math.MaxInt)
			require.NoError(t, err)
			stats, size, err := h.process(context.Background(), inv)
			require.NoError(t, err)
			encoded := appendResponse(nil, inv.entries)
			assert.Equal(t, len(encoded), size, "the response takes exactly the size worked out")
			var resp Response
			require.NoError(t, json.Unmarshal(encoded, &resp))
			if base := budgetFitting(ev); base <= budget {
				assert.LessOrEqual(t, len(encoded), budget, "seed %d budget %d", seed, budget)
			}
			assert.Equal(t, stats.In, stats.Ok+stats.Dropped+stats.Failed+stats.Reingested)
			var records []json.RawMessage
			require.NoError(t, json.Unmarshal(encoded[len(`{"records":`):len(encoded)-1], &records))
			for i, r := range resp.Records {
				assert.Equal(t, string(referenceJSON(t, r)), string(records[i]), "record %d as encoding/json writes it", i)
			}
		}
	}
}

// TestMaxDataLen: data of MaxDataLen bytes fits a response on its own,
// one byte more does not.
func TestMaxDataLen(t *testing.T) {
	keys := map[string]string{"dt": "2024-05-01", "group": "a&b"}
	for _, budget := range []int{200, 201, 202, 203, 1000} {
		n := MaxDataLen(budget, "rec-000", keys)
		for _, size := range []int{n, n + 1, n + 2, n + 3} {
			h := NewHandler(Transform(func(context.Context, Record) (Output, error) {
				return Output{Data: bytes.Repeat([]byte("x"), size), PartitionKeys: keys}, nil
			}), WithBudget(budget), WithReingester(&fakeReingester{}))
			resp, _, err := process(t, h, event("in"))
			require.NoError(t, err)
			fits := base64.StdEncoding.EncodedLen(size) == base64.StdEncoding.EncodedLen(n)
			assert.Equal(t, fits, resp.Records[0].Result == ResultOk, "budget %d, %d bytes (max %d)", budget, size, n)
		}
	}
	assert.Zero(t, MaxDataLen(10, "rec-000", nil))
}

func TestHandleSplitRecordIsReingested(t *testing.T) {
	re := &fakeReingester{}
	resp, stats, err := process(t, NewHandler(Transform(upper), WithReingester(re)), event("split:x", "y"))
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
	resp, _, err := process(t, NewHandler(Transform(upper), WithBudget(budgetFitting(ev, 0)), WithReingester(re)), ev)
	require.Error(t, err)
	assert.Nil(t, resp)
	assert.Contains(t, err.Error(), "throttled")
	assert.Equal(t, ev.DeliveryStreamArn, re.header.DeliveryStreamArn, "the re-ingester is told the source")
	assert.Empty(t, re.header.Records)
}

func TestHandleOverBudgetWithoutReingesterFails(t *testing.T) {
	ev := event("aaaaa", "bbbbb")
	resp, stats, err := process(t, NewHandler(Transform(upper), WithBudget(budgetFitting(ev, 0))), ev)
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
	resp, _, err := process(t, NewHandler(Transform(upper), WithBudget(budget), WithReingester(re)), small)
	require.NoError(t, err)
	assert.Equal(t, ResultOk, resp.Records[0].Result)
	assert.Equal(t, ResultProcessingFailed, resp.Records[1].Result)
	assert.Zero(t, re.calls)
}

func TestHandlePassesKinesisMetadata(t *testing.T) {
	type seenRecord struct {
		ID      string
		Data    string
		Arrival time.Time
		Kinesis *events.KinesisFirehoseRecordMetadata
	}
	var seen []seenRecord
	h := NewHandler(Transform(func(_ context.Context, r Record) (Output, error) {
		s := seenRecord{ID: r.ID, Data: string(r.Data), Arrival: r.ArrivalTime}
		if r.Kinesis != nil {
			md := *r.Kinesis // valid only during the call
			s.Kinesis = &md
		}
		seen = append(seen, s)
		return Output{Data: r.Data}, nil
	}))
	ev := event("x", "y")
	ev.Records[1].KinesisFirehoseRecordMetadata = events.KinesisFirehoseRecordMetadata{
		ShardID: "shardId-0", PartitionKey: "pk", SequenceNumber: "4959", SubsequenceNumber: 3,
		ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(1700000000002)},
	}
	_, _, err := process(t, h, ev)
	require.NoError(t, err)
	require.Len(t, seen, 2)
	assert.Equal(t, "rec-000", seen[0].ID)
	assert.Equal(t, "x", seen[0].Data)
	assert.Nil(t, seen[0].Kinesis)
	require.NotNil(t, seen[1].Kinesis)
	assert.Equal(t, "pk", seen[1].Kinesis.PartitionKey)
	assert.Equal(t, "4959", seen[1].Kinesis.SequenceNumber)
	assert.Equal(t, int64(3), seen[1].Kinesis.SubsequenceNumber)
	assert.Equal(t, time.UnixMilli(1700000000002).UTC(), seen[1].Kinesis.ApproximateArrivalTimestamp.UTC())
	assert.Equal(t, time.UnixMilli(1700000000001).UTC(), seen[1].Arrival.UTC())
}

// TestResponseJSON checks the wire form against a golden file: no null
// data on Ok records (even empty ones), no data on Dropped ones, metadata
// only with partition keys, never an empty metadata or otfMetadata object.
func TestResponseJSON(t *testing.T) {
	got, err := NewHandler(Transform(upper)).Invoke(context.Background(), request(t, event("hello", "drop", "fail", "empty", "key:eu")))
	require.NoError(t, err)
	require.True(t, json.Valid(got))
	assert.NotContains(t, string(got), "null")
	assert.NotContains(t, string(got), "otfMetadata")
	assert.NotContains(t, string(got), `"metadata":{}`)
	golden.JSON(t, filepath.Join("testdata", "response.golden.json"), json.RawMessage(got))

	var back Response
	require.NoError(t, json.Unmarshal(got, &back))
	again, err := json.Marshal(&back)
	require.NoError(t, err)
	assert.Equal(t, string(got), string(again), "UnmarshalJSON reads what MarshalJSON writes")
}

// TestWithCounts: a transform's own counts go into the one summary line
// (in snake case) and the one EMF document, taken once per invocation.
func TestWithCounts(t *testing.T) {
	var logs, emf bytes.Buffer
	taken := 0
	h := NewHandler(Transform(upper),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
		WithMetrics(metrics.New(&emf, "test")),
		WithCounts(func() []Count {
			taken++
			return []Count{{Name: "LogEventsIn", N: 7 * taken}, {Name: "RecordsSplit", N: 0}}
		}))
	for range 2 {
		_, _, err := process(t, h, event("a", "drop"))
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
	assert.EqualValues(t, 0, doc["RequestsRejected"])
}

func TestCountKey(t *testing.T) {
	for in, want := range map[string]string{"LogEventsIn": "log_events_in", "Records": "records", "bytesOut": "bytes_out", "": ""} {
		assert.Equal(t, want, Count{Name: in}.Key(), in)
	}
}

// BenchmarkInvoke measures the framework alone (a transform that returns
// its input) on 1,000 records of 1 KB: request bytes in, response bytes
// out.
func BenchmarkInvoke(b *testing.B) {
	line := bytes.Repeat([]byte("x"), 1023)
	ev := event()
	for i := range 1000 {
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{RecordID: fmt.Sprint(i), Data: line})
	}
	payload := request(b, ev)
	h := NewHandler(Transform(func(_ context.Context, r Record) (Output, error) { return Output{Data: r.Data}, nil }))
	b.SetBytes(int64(len(line) * len(ev.Records)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
}

// logged reads a handler's JSON log lines and EMF documents.
func logged(t *testing.T, out *bytes.Buffer) (lines, docs []map[string]any) {
	t.Helper()
	for line := range bytes.Lines(out.Bytes()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m))
		if m["_aws"] != nil {
			docs = append(docs, m)
		} else {
			lines = append(lines, m)
		}
	}
	return lines, docs
}

// TestInvokeRejectsOtherEvents: an event that is not a Firehose request
// (an S3 notification wired to the function by mistake, a record without
// an id) fails the invocation instead of being answered with empty
// records, and the summary line and metrics say so.
func TestInvokeRejectsOtherEvents(t *testing.T) {
	tests := map[string]struct {
		in   string
		want string
	}{
		"S3 event":     {in: `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, want: `it has no "records" array (an S3 or DynamoDB event has "Records")`},
		"no record id": {in: `{"invocationId":"inv-9","records":[{"data":"aGk="}]}`, want: `records[0]: it has no "recordId"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			called := false
			h := NewHandler(Transform(func(context.Context, Record) (Output, error) { called = true; return Output{}, nil }),
				WithLogger(slog.New(slog.NewJSONHandler(&out, nil))), WithMetrics(metrics.New(&out, "test")))
			resp, err := h.Invoke(context.Background(), []byte(tc.in))
			require.Error(t, err)
			assert.Nil(t, resp)
			assert.ErrorIs(t, err, ErrInvalidRequest)
			assert.Equal(t, "firehose: not a Firehose data-transformation request: "+tc.want, err.Error())
			assert.False(t, called)

			lines, docs := logged(t, &out)
			require.Len(t, lines, 1, "one summary line")
			assert.Equal(t, "invocation failed", lines[0]["msg"])
			assert.Equal(t, err.Error(), lines[0]["error"])
			require.Len(t, docs, 1, "one EMF document")
			assert.EqualValues(t, 1, docs[0]["RequestsRejected"])
			assert.EqualValues(t, 0, docs[0]["RecordsIn"])
		})
	}
}

// TestInvokeBadBase64FailsOnlyItsRecord: a record whose data is not base64
// fails alone, without data, with the reason logged; the batch goes on,
// also when the record would have gone back for want of room.
func TestInvokeBadBase64FailsOnlyItsRecord(t *testing.T) {
	ev := event("aaaaa", "", "ccccc", "", "eeeee")
	raw := string(request(t, ev))
	raw = strings.Replace(raw, `"recordId":"rec-001","approximateArrivalTimestamp":1700000000001,"data":""`,
		`"recordId":"rec-001","approximateArrivalTimestamp":1700000000001,"data":"!!not base64"`, 1)
	raw = strings.Replace(raw, `"recordId":"rec-003","approximateArrivalTimestamp":1700000000003,"data":""`,
		`"recordId":"rec-003","approximateArrivalTimestamp":1700000000003,"data":"aGk"`, 1)
	require.Equal(t, 2, strings.Count(raw, "base64")+strings.Count(raw, `"aGk"`))

	var logs bytes.Buffer
	re := &fakeReingester{}
	budget := budgetFitting(ev, 0, 2) // the fifth record goes back
	h := NewHandler(Transform(upper), WithBudget(budget), WithReingester(re), WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	out, stats, err := h.invoke(context.Background(), []byte(raw))
	require.NoError(t, err)
	var resp Response
	require.NoError(t, json.Unmarshal(out, &resp))
	var results []string
	for _, r := range resp.Records {
		results = append(results, r.Result)
	}
	assert.Equal(t, []string{ResultOk, ResultProcessingFailed, ResultOk, ResultProcessingFailed, ResultDropped}, results)
	assert.Nil(t, resp.Records[1].Data, "no data to hand back")
	assert.NotContains(t, string(out), "not base64", "the bad data is not echoed")
	assert.Equal(t, []Reingest{{Data: []byte("eeeee")}}, re.payloads)
	assert.Equal(t, Stats{In: 5, Ok: 2, Failed: 2, Reingested: 1, ReingestedPayloads: 1, BytesIn: 15, BytesOut: 10}, stats)
	assert.Contains(t, logs.String(), `"record_id":"rec-001","error":"data is not valid base64: illegal base64 data at input byte 0"`)
	assert.Contains(t, logs.String(), `"record_id":"rec-003","error":"data is not valid base64`)
}

// blockUntilDone is a transform that, on the record "wait", holds on until
// its context ends, as a slow record does at the deadline.
func blockUntilDone(ctx context.Context, r Record) (Output, error) {
	if string(r.Data) == "wait" {
		<-ctx.Done()
		return Output{}, ctx.Err()
	}
	return upper(ctx, r)
}

// TestInvokeDeadlineMargin: once the reserved time is up, the records not
// transformed go back as they came (with a re-ingester) or fail with their
// original data, and the function answers before Lambda's deadline.
func TestInvokeDeadlineMargin(t *testing.T) {
	// Wide enough for a busy machine: each case asserts the answer comes
	// within one margin of the margin's end (40 ms failed under make test).
	const margin = 250 * time.Millisecond
	ev := event("a", "wait", "c", "d")

	t.Run("without re-ingester", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*margin)
		defer cancel()
		var logs bytes.Buffer
		h := NewHandler(Transform(blockUntilDone), WithMargin(margin), WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
		resp, stats, err := processCtx(t, ctx, h, ev)
		require.NoError(t, err)
		assert.NoError(t, ctx.Err(), "answered before the deadline")
		assert.Equal(t, ResultOk, resp.Records[0].Result)
		for i, data := range []string{"wait", "c", "d"} {
			r := resp.Records[i+1]
			assert.Equal(t, ResultProcessingFailed, r.Result)
			assert.Equal(t, data, string(r.Data), "the original goes to the error prefix")
		}
		assert.Equal(t, Stats{In: 4, Ok: 1, Failed: 3, BytesIn: 7, BytesOut: 1}, stats)
		assert.Equal(t, 3, strings.Count(logs.String(), "not transformed: the invocation reached its deadline margin"))
	})

	t.Run("with re-ingester", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*margin)
		defer cancel()
		lambdaDeadline, _ := ctx.Deadline()
		re := &deadlineReingester{}
		h := NewHandler(Transform(blockUntilDone), WithMargin(margin), WithReingester(re))
		resp, stats, err := processCtx(t, ctx, h, ev)
		require.NoError(t, err)
		assert.NoError(t, ctx.Err(), "answered before the deadline")
		assert.Equal(t, []string{"wait", "c", "d"}, re.data, "re-ingested as they came")
		assert.Equal(t, lambdaDeadline.Add(-margin), re.deadline, "re-ingestion runs under the reserved context")
		assert.Equal(t, ResultOk, resp.Records[0].Result)
		for _, r := range resp.Records[1:] {
			assert.Equal(t, ResultDropped, r.Result)
		}
		assert.Equal(t, 3, stats.Reingested)
	})

	t.Run("re-ingestion still running at the margin", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*margin)
		defer cancel()
		re := &deadlineReingester{block: true}
		h := NewHandler(Transform(blockUntilDone), WithMargin(margin), WithReingester(re))
		resp, _, err := processCtx(t, ctx, h, ev)
		require.Error(t, err, "the invocation fails, so Firehose retries the batch")
		assert.Nil(t, resp)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NoError(t, ctx.Err(), "and it fails before Lambda's deadline")
	})

	t.Run("deadline already within the margin", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), margin/2)
		defer cancel()
		calls := 0
		h := NewHandler(Transform(func(context.Context, Record) (Output, error) { calls++; return Output{}, nil }), WithMargin(margin))
		resp, stats, err := processCtx(t, ctx, h, ev)
		require.NoError(t, err)
		assert.Zero(t, calls, "nothing is transformed")
		assert.Equal(t, 4, stats.Failed)
		assert.Equal(t, "wait", string(resp.Records[1].Data))
	})
}

// deadlineReingester records what it was given and the deadline of its
// context; with block it holds on until the context ends, as a throttled
// re-ingestion does.
type deadlineReingester struct {
	block    bool
	data     []string
	deadline time.Time
}

func (d *deadlineReingester) Reingest(ctx context.Context, _ events.KinesisFirehoseEvent, p []Reingest) error {
	d.deadline, _ = ctx.Deadline()
	for _, r := range p {
		d.data = append(d.data, string(r.AppendData(nil)))
	}
	if d.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// TestInvokeReusesMemory: a warm handler decodes each request into the
// memory the previous one used, and a response outlives the next
// invocation unchanged.
func TestInvokeReusesMemory(t *testing.T) {
	h := NewHandler(Transform(upper))
	first, err := h.Invoke(context.Background(), request(t, event("hello", "world")))
	require.NoError(t, err)
	want := string(first)
	second, err := h.Invoke(context.Background(), request(t, event("other", "words")))
	require.NoError(t, err)
	assert.Equal(t, want, string(first), "the first response is untouched by the second invocation")
	assert.NotEqual(t, string(first), string(second))

	// WithResponseReuse: each response is written where the last was.
	reuse := NewHandler(Transform(upper), WithResponseReuse())
	var last []byte
	for i, words := range [][]string{{"hello", "world"}, {"other", "words"}, {"a"}} {
		out, err := reuse.Invoke(context.Background(), request(t, event(words...)))
		require.NoError(t, err)
		want, err := NewHandler(Transform(upper)).Invoke(context.Background(), request(t, event(words...)))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(out), "invocation %d", i)
		if i > 0 {
			assert.Same(t, &last[:1][0], &out[:1][0], "invocation %d writes over the last response", i)
		}
		last = out
	}

	// Records and entries are reused without being cleared: a smaller
	// request after one with Kinesis metadata, bad base64 and a failure
	// answers as a new handler does.
	tagged := Transform(func(_ context.Context, r Record) (Output, error) {
		if string(r.Data) == "fail" {
			return Output{}, errors.New("told to fail")
		}
		key := "-"
		if r.Kinesis != nil {
			key = r.Kinesis.PartitionKey
		}
		return Output{Data: append(append(r.Out, r.Data...), "|"+key...)}, nil
	})
	kept := NewHandler(tagged, WithOutArena(), WithResponseReuse())
	_, err = kept.Invoke(context.Background(), []byte(`{"invocationId":"i","records":[`+
		`{"recordId":"r1","approximateArrivalTimestamp":1700000000000,"data":"aGVsbG8=","kinesisRecordMetadata":{"shardId":"s","partitionKey":"pk","sequenceNumber":"1"}},`+
		`{"recordId":"r2","data":"!!"},{"recordId":"r3","data":"ZmFpbA=="},{"recordId":"r4","data":"d29ybGQ="}]}`))
	require.NoError(t, err)
	for _, words := range [][]string{{"a", "fail", "c"}, {"z"}} {
		got, err := kept.Invoke(context.Background(), request(t, event(words...)))
		require.NoError(t, err)
		want, err := NewHandler(tagged).Invoke(context.Background(), request(t, event(words...)))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "%q after a larger request", words)
	}

	// Per record, the framework allocates only the record id's string.
	same := NewHandler(Transform(func(_ context.Context, r Record) (Output, error) { return Output{Data: r.Data}, nil }))
	allocs := func(records int) float64 {
		payload := request(t, event(strings.Split(strings.Repeat("some data,", records), ",")[:records]...))
		return testing.AllocsPerRun(20, func() {
			if _, err := same.Invoke(context.Background(), payload); err != nil {
				t.Fatal(err)
			}
		})
	}
	few, many := allocs(300), allocs(600)
	assert.LessOrEqual(t, (many-few)/300, 1.0, "allocations per record (%v for 300 records, %v for 600)", few, many)
}

// TestInvokeConcurrent: invocations running at once (tests, a caller
// other than Lambda) each get their own working memory.
func TestInvokeConcurrent(t *testing.T) {
	h := NewHandler(Transform(upper))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				word := fmt.Sprintf("g%di%d", g, i)
				out, err := h.Invoke(context.Background(), request(t, event(word, word+"x")))
				if !assert.NoError(t, err) {
					return
				}
				var resp Response
				if assert.NoError(t, json.Unmarshal(out, &resp)) {
					assert.Equal(t, strings.ToUpper(word), string(resp.Records[0].Data))
					assert.Equal(t, strings.ToUpper(word+"x"), string(resp.Records[1].Data))
				}
			}
		})
	}
	wg.Wait()
}

// TestRecordOut: with WithOutArena, outputs appended to Record.Out, each
// record's after the last, come back right in every invocation, and a
// warm handler has room for them all; without it, Out is nil.
func TestRecordOut(t *testing.T) {
	var fit, records int
	h := NewHandler(Transform(func(_ context.Context, r Record) (Output, error) {
		records++
		if cap(r.Out) >= len(r.Data)+1 {
			fit++
		}
		// A header byte first: Data need not start where Out does.
		out := append(r.Out, '<')
		out = append(out, strings.ToUpper(string(r.Data))...)
		return Output{Data: out[1:]}, nil
	}), WithOutArena())
	var words []string
	for i := range 200 {
		words = append(words, fmt.Sprintf("%03d-%s", i, strings.Repeat("abcdefgh", 64)))
	}
	for inv := range 3 {
		fit, records = 0, 0
		resp, _, err := process(t, h, event(words...))
		require.NoError(t, err)
		for i, r := range resp.Records {
			require.Equal(t, strings.ToUpper(words[i]), string(r.Data), "invocation %d, record %d", inv, i)
		}
		if inv == 0 {
			assert.Zero(t, fit, "the arena is sized by the invocation before")
		} else {
			assert.Equal(t, records, fit, "a warm arena holds every output")
		}
	}

	var outs int
	without := NewHandler(Transform(func(ctx context.Context, r Record) (Output, error) {
		outs += cap(r.Out)
		return upper(ctx, r)
	}))
	for range 2 {
		_, _, err := process(t, without, event(words...))
		require.NoError(t, err)
	}
	assert.Zero(t, outs, "no Out without WithOutArena")
	assert.Zero(t, cap(without.spare.Load().out.buf))
}

// TestStablePartitionKeys: a partition-key map is encoded once, by the
// first invocation that returns it, with WithStablePartitionKeys, and in
// every invocation without. (The transform here breaks the promise the
// option is, changing its map between invocations, which is how the
// difference shows.)
func TestStablePartitionKeys(t *testing.T) {
	for _, stable := range []bool{false, true} {
		keys := map[string]string{"year": "2024", "hour": "06"}
		var opts []Option
		if stable {
			opts = append(opts, WithStablePartitionKeys())
		}
		h := NewHandler(Transform(func(_ context.Context, r Record) (Output, error) {
			return Output{Data: r.Data, PartitionKeys: keys}, nil
		}), opts...)
		for inv, want := range []map[string]string{{"year": "2024", "hour": "06"}, {"year": "2024", "hour": "07"}} {
			if inv == 1 {
				keys["hour"] = "07"
			}
			resp, _, err := process(t, h, event("a", "b"))
			require.NoError(t, err)
			if stable && inv == 1 {
				want = map[string]string{"year": "2024", "hour": "06"} // remembered
			}
			for _, r := range resp.Records {
				assert.Equal(t, want, r.PartitionKeys, "stable %v, invocation %d", stable, inv)
			}
		}
	}
}

// FuzzLazyDecoding: a record read the plain way is decoded only when it
// is transformed, and goes back to its stream as the text it came in
// when it is not; the general way decodes every record up front, as the
// handler did before. Both give the same response, the same counts and
// the same re-ingested payloads, over any records, budgets and layouts:
// slashes escaped ("\/", which the plain way leaves to the general one)
// and base64 text with stray bits after its last byte ("aGl=" for "hi",
// which must go back decoded and encoded again).
func FuzzLazyDecoding(f *testing.F) {
	f.Add([]byte("aaaaa\x00bbbbb\x00ccccc\x00d"), 300, uint8(0), uint16(0))
	f.Add([]byte("hi\x00Fail\x00Drop\x00Reingest me\x00??>>\x00hi\x00hi"), 400, uint8(3), uint16(7))
	f.Add([]byte("x\x00\x00hi\x00Fx"), 0, uint8(2), uint16(0xffff))
	f.Fuzz(func(t *testing.T, blob []byte, budget int, layout uint8, eager uint16) {
		var data []string
		for _, d := range bytes.Split(blob, []byte{0}) {
			data = append(data, string(d))
		}
		ev := event(data...)
		payload := request(t, ev)
		if layout&1 != 0 {
			payload = bytes.ReplaceAll(payload, []byte("/"), []byte(`\/`))
		}
		if layout&2 != 0 {
			payload = bytes.ReplaceAll(payload, []byte(`"data":"aGk="`), []byte(`"data":"aGl="`))
		}
		transform := func(_ context.Context, r Record) (Output, error) {
			switch {
			case bytes.HasPrefix(r.Data, []byte("F")):
				return Output{}, errors.New("failed")
			case bytes.HasPrefix(r.Data, []byte("D")):
				return Output{Drop: true}, nil
			case bytes.HasPrefix(r.Data, []byte("R")):
				return Output{Reingest: [][]byte{r.Data[:len(r.Data)/2], r.Data[len(r.Data)/2:]}}, nil
			}
			return Output{Data: bytes.Repeat(bytes.ToUpper(r.Data), 2)}, nil
		}
		budget = max(budget%4000, 0)
		run := func(generic bool) ([]byte, Stats, *fakeReingester) {
			re := &fakeReingester{}
			h := NewHandler(Transform(transform), WithBudget(budget), WithReingester(re))
			inv := &invocation{}
			var err error
			// The plain way decodes the first eager bytes' records as it
			// reads them, the rest when first needed.
			inv.data, err = inv.req.decodeAs(&inv.scan, payload, nil, generic, int(eager))
			require.NoError(t, err)
			stats, size, err := h.process(context.Background(), inv)
			require.NoError(t, err)
			resp := appendResponse(nil, inv.entries)
			require.Len(t, resp, size)
			require.Equal(t, stats.In, stats.Ok+stats.Dropped+stats.Failed+stats.Reingested)
			return resp, stats, re
		}
		lazyResp, lazyStats, lazyRe := run(false)
		eagerResp, eagerStats, eagerRe := run(true)
		assert.Equal(t, string(eagerResp), string(lazyResp))
		assert.Equal(t, eagerStats, lazyStats)
		assert.Equal(t, eagerRe.payloads, lazyRe.payloads)
		assert.Zero(t, eagerRe.encoded, "the general way keeps no text")
	})
}

// TestFullResponseReingestsText: the records a full response cannot hold
// go back as the base64 text they came in, never decoded; those whose
// text is not the encoding of their value (stray bits, an escape) go back
// decoded.
func TestFullResponseReingestsText(t *testing.T) {
	ev := event("aaaaa", "bbbbb", "ccccc", "hi", "hi", "d/?")
	payload := request(t, ev)
	// Record 3's text with stray bits, record 5's with an escaped slash.
	payload = bytes.Replace(payload, []byte(`"data":"aGk="`), []byte(`"data":"aGl="`), 1)
	payload = bytes.Replace(payload, []byte(`"ZC8/"`), []byte(`"ZC8\/"`), 1)
	require.Contains(t, string(payload), `"ZC8\/"`)
	re := &fakeReingester{}
	h := NewHandler(Transform(upper), WithBudget(budgetFitting(ev, 0, 1)), WithReingester(re))
	inv := &invocation{}
	var err error
	inv.data, err = inv.req.decode(&inv.scan, payload, nil, 0)
	require.NoError(t, err)
	stats, _, err := h.process(context.Background(), inv)
	require.NoError(t, err)
	assert.Equal(t, Stats{In: 6, Ok: 2, Reingested: 4, ReingestedPayloads: 4, BytesIn: 22, BytesOut: 10}, stats)
	assert.Equal(t, []Reingest{{Data: []byte("ccccc")}, {Data: []byte("hi")}, {Data: []byte("hi")}, {Data: []byte("d/?")}}, re.payloads)
	assert.Equal(t, 2, re.encoded, "the text of records 2 and 4, which are their encodings")
	for i, in := range inv.req.Records {
		// Record 2 was transformed; 3 decoded to go back; 5 read the
		// general way, which decodes as it reads.
		assert.Equal(t, i == 4, in.lazy, "records[%d]: only record 4 is never decoded", i)
	}
}

// TestEagerFollowsLastInvocation: the request is decoded whole as it is
// read until a response fills up; after one that did, only about what
// that invocation transformed is, and after one that did not, all again.
func TestEagerFollowsLastInvocation(t *testing.T) {
	ev := event("aaaaa", "bbbbb", "ccccc", "ddddd")
	h := NewHandler(Transform(upper), WithBudget(budgetFitting(ev, 0, 1)), WithReingester(&fakeReingester{}))
	_, stats, err := h.invoke(context.Background(), request(t, ev))
	require.NoError(t, err)
	require.Equal(t, 2, stats.Reingested)
	transformed := 15 // records 0 to 2, the last over budget
	assert.Equal(t, transformed+transformed/8+64<<10, h.spare.Load().eager)

	_, stats, err = h.invoke(context.Background(), request(t, event("a")))
	require.NoError(t, err)
	require.Zero(t, stats.Reingested)
	assert.Equal(t, math.MaxInt, h.spare.Load().eager)
}
