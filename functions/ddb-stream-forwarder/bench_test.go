package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/metrics"
)

// acceptAll is a Firehose that accepts every record and keeps nothing, so
// the benchmark measures the forwarder, not the fake.
type acceptAll struct{}

func (acceptAll) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	return &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0), RequestResponses: make([]fhtypes.PutRecordBatchResponseEntry, len(in.Records))}, nil
}

// BenchmarkHandle forwards one event of 500 records (a full
// PutRecordBatch): DynamoDB records of a typical order item (both images,
// about 1.2 KB of DynamoDB JSON each), or 500 Kinesis records of 500 bytes,
// the whole invocation: request bytes in, response and summary out. It
// reports records/s and allocations per record; MB/s is of event JSON.
func BenchmarkHandle(b *testing.B) {
	const n = 500
	ddb := make([]events.DynamoDBEventRecord, n)
	for i := range ddb {
		r := orderRecord("Orders", i, 64)
		r.EventName = "MODIFY"
		r.Change.OldImage = r.Change.NewImage
		ddb[i] = r
	}
	kin := make([]events.KinesisEventRecord, n)
	for i := range kin {
		data := fmt.Appendf(nil, `{"event":"click","user":"u-%d","ts":"2024-05-01T00:00:00Z","path":"/products/%d"`, i, i)
		for len(data) < 499 {
			data = append(data, `,"pad":"xxxxxxxx"`...)
		}
		data = append(data[:499], '}')
		kin[i] = events.KinesisEventRecord{
			EventSource: sourceKinesis, EventSourceArn: "arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
			Kinesis: events.KinesisRecord{Data: data, PartitionKey: "u", SequenceNumber: fmt.Sprintf("4959033827149025660855969253836157109592157598913%07d", i),
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: time.Unix(1714521600, 0)}},
		}
	}
	for name, event := range map[string]any{"dynamodb": events.DynamoDBEvent{Records: ddb}, "kinesis": events.KinesisEvent{Records: kin}} {
		b.Run(name, func(b *testing.B) {
			raw, err := json.Marshal(event)
			require.NoError(b, err)
			h := newHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(3)}, acceptAll{}, nil,
				slog.New(slog.DiscardHandler), metrics.New(discard{}, "bench"))
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				resp, err := h.Handle(context.Background(), raw)
				if err != nil || len(failures(b, resp)) > 0 {
					b.Fatalf("handle: %v %v", err, resp)
				}
			}
			runtime.ReadMemStats(&after)
			records := float64(b.N) * n
			b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/records, "allocs/record")
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// referenceEvent is the DynamoDB stream event of the reference benchmarks
// (../shared/bench/gen_batches.py, ddb-1000.json) built again in Go, so
// that the tests do not read outside the repository: n INSERT and MODIFY
// records of an order item with every attribute type, a third of them with
// an old image, written as Python's json.dump writes (", " and ": "
// separators, non-ASCII as \u escapes). Its random draws are Go's, not
// Python's, over the same ranges: for n = 1,000 it is the same size
// (about 1.08 MB) and mix.
func referenceEvent(n int) []byte {
	rnd := rand.New(rand.NewPCG(11, 11))
	between := func(lo, hi int) int { return lo + rnd.IntN(hi-lo+1) }
	const arn = "arn:aws:dynamodb:us-east-1:123456789012:table/orders-prod/stream/2024-01-01T00:00:00.000"
	// ann, bob, čeněk and 李, as json.dump escapes them.
	customers := []string{"ann", "bob", `\u010den\u011bk`, `\u674e`}
	item := func(i int) string {
		var b strings.Builder
		fmt.Fprintf(&b, `{"pk": {"S": "order#%06d"}, "sk": {"N": "%d"}, "customer": {"S": "%s"}, `, i, i, customers[rnd.IntN(len(customers))])
		fmt.Fprintf(&b, `"total": {"N": "%d.%02d"}, `, between(1, 9999), between(0, 99))
		b.WriteString(`"tags": {"SS": [`)
		for j, tag := range []string{"a", "b", "c"}[:between(1, 3)] {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", tag)
		}
		fmt.Fprintf(&b, `]}, "qty": {"NS": ["%d", "%d"]}, "paid": {"BOOL": %t}, "note": {"NULL": true}, "lines": {"L": [`, between(1, 9), between(1, 9), rnd.Float64() > 0.5)
		for j := range between(1, 4) {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, `{"M": {"sku": {"S": "sku-%d"}, "n": {"N": "%d"}}}`, j, j)
		}
		blob := make([]byte, 16)
		for j := range blob {
			blob[j] = byte(rnd.IntN(256))
		}
		fmt.Fprintf(&b, `]}, "addr": {"M": {"city": {"S": "Brno"}, "zip": {"S": "60200"}}}, "blob": {"B": "%s"}}`, base64.StdEncoding.EncodeToString(blob))
		return b.String()
	}
	var out bytes.Buffer
	out.WriteString(`{"Records": [`)
	for i := range n {
		if i > 0 {
			out.WriteString(", ")
		}
		name := "MODIFY"
		if i%3 != 0 {
			name = "INSERT"
		}
		img := item(i)
		keys := img[:strings.Index(img, `, "customer"`)] + "}"
		fmt.Fprintf(&out, `{"eventID": "e%05d", "eventName": "%s", "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "eventSourceARN": "%s", `, i, name, arn)
		fmt.Fprintf(&out, `"dynamodb": {"ApproximateCreationDateTime": %d, "Keys": %s, "NewImage": %s, "SequenceNumber": "1%020d", "SizeBytes": %d, "StreamViewType": "NEW_AND_OLD_IMAGES"`,
			1700000000+i, keys, img, i, 100+i)
		if i%3 == 0 {
			fmt.Fprintf(&out, `, "OldImage": %s`, item(i))
		}
		out.WriteString("}}")
	}
	out.WriteString("]}")
	return out.Bytes()
}

// TestReferenceEvent: the event is what BenchmarkInvoke says it is, and
// what the forwarder turns into one line per record.
func TestReferenceEvent(t *testing.T) {
	raw := referenceEvent(1000)
	assert.InDelta(t, 1.08e6, float64(len(raw)), 0.02e6, "the size of the reference ddb-1000.json")
	var ev events.DynamoDBEvent
	require.NoError(t, json.Unmarshal(raw, &ev))
	require.Len(t, ev.Records, 1000)
	assert.Equal(t, "MODIFY", ev.Records[0].EventName)
	assert.NotNil(t, ev.Records[0].Change.OldImage)
	assert.Nil(t, ev.Records[1].Change.OldImage)
	assert.Equal(t, "100000000000000000999", ev.Records[999].Change.SequenceNumber)

	fh := newFakeFirehose()
	resp, err := testHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(3)}, fh, nil, nil).Handle(context.Background(), raw)
	require.NoError(t, err)
	assert.Empty(t, failures(t, resp))
	require.Len(t, fh.accepted["lake"], 1000)
	for i, oracle := range ev.Records {
		rawRecord, err := json.Marshal(oracle)
		require.NoError(t, err)
		want := oracleConvert(both, rawRecord)
		require.NoError(t, want.Err)
		require.Equal(t, string(want.Line), string(fh.accepted["lake"][i]), "record %d", i)
	}
}

// BenchmarkInvoke is the whole invocation on the reference event (1,000
// records, 1.08 MB): request bytes in, response bytes out, through the
// adapter to a Firehose that accepts everything. MB/s is of event JSON;
// compare its records/s with ../shared/bench/ddb_python_baseline.py's.
func BenchmarkInvoke(b *testing.B) {
	const n = 1000
	raw := referenceEvent(n)
	h := newHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(3)}, acceptAll{}, nil,
		slog.New(slog.DiscardHandler), metrics.New(discard{}, "bench"))
	want := `{"batchItemFailures":[]}`
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := h.Invoke(context.Background(), raw)
		if err != nil || string(resp) != want {
			b.Fatalf("invoke: %v %s", err, resp)
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkConvert is the conversion alone on the reference event's
// records (both images): record JSON in, line out, what boto3's
// TypeDeserializer and json.dumps do in the Python baseline, without the
// request's decoding or the Firehose writes. "encoding-json" is the
// conversion Convert replaced (oracleConvert).
func BenchmarkConvert(b *testing.B) {
	raw := referenceEvent(1000)
	var ev struct{ Records []json.RawMessage }
	require.NoError(b, json.Unmarshal(raw, &ev))
	b.Run("jsonscan", func(b *testing.B) {
		arena := make([]byte, 0, len(raw))
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			arena = arena[:0]
			for _, rec := range ev.Records {
				var err error
				if _, arena, err = both.Convert(arena, rec); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N)*float64(len(ev.Records))/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			for _, rec := range ev.Records {
				if r := oracleConvert(both, rec); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		}
		b.ReportMetric(float64(b.N)*float64(len(ev.Records))/b.Elapsed().Seconds(), "records/s")
	})
}
