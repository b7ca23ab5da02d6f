package firehose

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/benchdata"
)

// BenchmarkStages measures the framework's own stages on the standard
// access-log batch (benchdata.AccessLog1MB): decoding the request (and
// the same records as a delivery stream reading from a Kinesis stream
// sends them, kinesisRecordMetadata and all), and a whole invocation of a
// transform that returns its input with partition keys (the framework
// alone).
func BenchmarkStages(b *testing.B) {
	payload, err := benchdata.Batch(benchdata.AccessLog1MB)
	if err != nil {
		b.Fatal(err)
	}
	var ev events.KinesisFirehoseEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		b.Fatal(err)
	}
	ev.SourceKinesisStreamArn = "arn:aws:kinesis:us-east-1:123456789012:stream/access"
	for i := range ev.Records {
		ev.Records[i].KinesisFirehoseRecordMetadata = events.KinesisFirehoseRecordMetadata{
			ShardID: "shardId-000000000003", PartitionKey: fmt.Sprintf("web-%02d", i%16),
			ApproximateArrivalTimestamp: ev.Records[i].ApproximateArrivalTimestamp,
			SequenceNumber:              fmt.Sprintf("49590338271490256608559692538361571095921575989136%06d", i),
		}
	}
	kinesis, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		payload []byte
	}{{"decode-request", payload}, {"decode-request-kinesis", kinesis}} {
		b.Run(c.name, func(b *testing.B) {
			inv := &invocation{}
			b.SetBytes(int64(len(c.payload)))
			for b.Loop() {
				if inv.data, err = inv.req.decode(&inv.scan, c.payload, inv.data, math.MaxInt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	keys := map[string]string{"year": "2024", "month": "11", "day": "05", "hour": "13"}
	for _, c := range []struct {
		name string
		keys map[string]string
	}{{"invoke-copy", nil}, {"invoke-copy-keys", keys}} {
		b.Run(c.name, func(b *testing.B) {
			h := NewHandler(Transform(func(_ context.Context, r Record) (Output, error) {
				return Output{Data: r.Data, PartitionKeys: c.keys}, nil
			}))
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Invoke(context.Background(), payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
