package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
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
