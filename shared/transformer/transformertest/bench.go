package transformertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"lakestream/shared/boot"
	"lakestream/shared/config"
	"lakestream/shared/firehose"
)

// benchArrival is the arrival time of every benchmark record.
var benchArrival = time.Date(2024, 3, 5, 7, 0, 0, 0, time.UTC)

// Batch builds a Firehose event with at least size bytes of record data
// from the lines line(0), line(1), ..., perRecord lines to a record, as a
// batching producer (Kinesis Agent, Fluent Bit) sends them. It returns the
// event and its number of lines.
func Batch(line func(i int) []byte, perRecord, size int) (events.KinesisFirehoseEvent, int) {
	ev := events.KinesisFirehoseEvent{
		InvocationID:      "bench",
		DeliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/bench",
		Region:            "us-east-1",
	}
	n := 0
	for total := 0; total < size; {
		var data []byte
		for range perRecord {
			data = append(append(data, line(n)...), '\n')
			n++
		}
		total += len(data)
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{
			RecordID:                    fmt.Sprintf("%08d", len(ev.Records)),
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: benchArrival},
			Data:                        data,
		})
	}
	return ev, n
}

// Benchmark measures the handler newHandler builds from env on ev, whose
// records must all come out Ok, two ways: "transform" calls Handle on the
// decoded event (lakestream's own code: split, parse, stages, write, the
// response), "invocation" also decodes the event JSON and encodes the
// response, as the Lambda runtime does around it. Both report MB/s of
// record data per core (b.SetBytes), ns/line, allocs/line and out/in, the
// ratio of output to input bytes that decides how large a Firehose buffer
// still fits the 6 MB response.
func Benchmark(b *testing.B, newHandler NewHandler, env map[string]string, ev events.KinesisFirehoseEvent, lines int) {
	fn := boot.NewFrom(config.FromMap(env), io.Discard)
	h := newHandler(fn)
	require.NoError(b, fn.Err())
	ctx := context.Background()

	resp, err := h.Handle(ctx, ev)
	require.NoError(b, err)
	in, out := 0, 0
	for i, r := range resp.Records {
		require.Equal(b, firehose.ResultOk, r.Result, "benchmark record %d", i)
		in += len(ev.Records[i].Data)
		out += len(r.Data)
	}
	raw, err := json.Marshal(ev)
	require.NoError(b, err)

	b.Run("transform", func(b *testing.B) {
		measure(b, in, out, lines, func() error {
			_, err := h.Handle(ctx, ev)
			return err
		})
	})
	b.Run("invocation", func(b *testing.B) {
		measure(b, in, out, lines, func() error {
			var e events.KinesisFirehoseEvent
			if err := json.Unmarshal(raw, &e); err != nil {
				return err
			}
			r, err := h.HandleJSON(ctx, e)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, r)
			return err
		})
	})
}

func measure(b *testing.B, in, out, lines int, run func() error) {
	b.SetBytes(int64(in))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	done := float64(b.N) * float64(lines)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/done, "ns/line")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/done, "allocs/line")
	b.ReportMetric(float64(out)/float64(in), "out/in")
}
