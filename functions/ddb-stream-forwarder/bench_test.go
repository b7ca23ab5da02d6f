package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
	"lakestream/shared/benchdata"
	"lakestream/shared/config"
	"lakestream/shared/metrics"
	"lakestream/shared/streamput"
)

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
	// The item of each record through three of the pipeline's stages.
	env := config.New(config.FromMap(map[string]string{
		"DELIVERY_STREAM": "lake", "OUTPUT_SHAPE": "item",
		"MASK_FIELDS": "customer_id=hash", "HASH_SALT": "s", "DROP_IF": "status=cancelled", "SCHEMA": "total:float:0..,status:string:required",
	}))
	staged := loadConfig(env)
	require.NoError(b, env.Err())
	staged.Retry = instant(3)
	for name, c := range map[string]struct {
		event any
		cfg   Config
	}{
		"dynamodb":             {events.DynamoDBEvent{Records: ddb}, Config{DeliveryStream: "lake", Convert: both, Retry: instant(3)}},
		"dynamodb-item-stages": {events.DynamoDBEvent{Records: ddb}, staged},
		"kinesis":              {events.KinesisEvent{Records: kin}, Config{DeliveryStream: "lake", Convert: both, Retry: instant(3)}},
	} {
		b.Run(name, func(b *testing.B) {
			raw, err := json.Marshal(c.event)
			require.NoError(b, err)
			h := newHandler(c.cfg, streamput.Discard{}, nil, slog.New(slog.DiscardHandler), metrics.New(discard{}, "bench"))
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

// TestReferenceEvent: the standard benchmark event (benchdata.DynamoDB,
// what make bench and BenchmarkInvoke run) is what it says it is, and the
// forwarder turns each record into the line the old conversion wrote.
func TestReferenceEvent(t *testing.T) {
	raw := benchdata.DynamoDB(1000)
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

// BenchmarkConvertRequest is the conversion alone as the Python baseline
// (../shared/bench/ddb_python_baseline.py) times it: the reference event's
// request bytes in, decoded by the adapter as the handler has it decoded
// (batch.DecodeWith and the forwarder's StreamReader), every record's
// line out (keys and both images, into one arena), without the Firehose
// writes, the response or the summary line. best-ms compares with the
// baseline's best_s, both run with taskset -c 1:
//
//	go test -run '^$' -bench ConvertRequest ./functions/ddb-stream-forwarder/
func BenchmarkConvertRequest(b *testing.B) {
	raw := benchdata.DynamoDB(1000)
	f := &forwarder{convert: both, def: "lake"}
	ctx := context.Background()
	lines := 0
	convert := func() {
		inv, err := batch.DecodeWith(raw, f.newPreread(len(raw)))
		if err != nil {
			b.Fatal(err)
		}
		w := &forward{forwarder: f, scratch: inv.StreamReader.(*preread).done(len(inv.Items))}
		lines = 0
		for _, it := range inv.Items {
			if err := w.record(ctx, it); !errors.Is(err, batch.Defer) {
				b.Fatal(err)
			}
			if len(w.recs[it.Index].Line) > 0 {
				lines++
			}
		}
		f.keepScratch(w.scratch)
	}
	convert()
	require.Equal(b, 1000, lines, "every record of the reference event makes a line")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		convert()
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[0].Nanoseconds())/1e6, "best-ms")
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds())/1e6, "median-ms")
	b.ReportMetric(float64(b.N)*float64(lines)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkConvert is the conversion alone on the reference event's
// records (both images): record JSON in, line out, what boto3's
// TypeDeserializer and json.dumps do in the Python baseline, without the
// request's decoding or the Firehose writes. "encoding-json" is the
// conversion Convert replaced (oracleConvert).
func BenchmarkConvert(b *testing.B) {
	raw := benchdata.DynamoDB(1000)
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
	for _, shape := range []struct {
		name string
		c    Converter
	}{
		{"item", Converter{NewImage: true, OldImage: true, Shape: ShapeItem}},
		{"projection", Converter{NewImage: true, OldImage: true, Shape: ShapeProjection,
			Projection: mustProjection("table_name=@table,pk,sk,t=@approximate_creation_time:epoch-s,*")}},
	} {
		b.Run(shape.name, func(b *testing.B) {
			arena := make([]byte, 0, len(raw))
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				arena = arena[:0]
				for _, rec := range ev.Records {
					var err error
					if _, arena, err = shape.c.Convert(arena, rec); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N)*float64(len(ev.Records))/b.Elapsed().Seconds(), "records/s")
		})
	}
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
