package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"lakestream/shared/benchdata"
	"lakestream/shared/cwlogs"
	"lakestream/shared/firehose"
	metricsemf "lakestream/shared/metrics"
)

// benchEvents is the number of log events in a benchmark record: a busy
// Lambda function's subscription batch, about 130 KB of JSON that gzips to
// about 25 KB.
const benchEvents = 500

// benchPayload is one realistic subscription payload: application log
// lines with request ids, paths, durations and a JSON line now and then,
// varied enough to compress about as much as real logs (5 to 6 times).
func benchPayload(t testing.TB, seq int) []byte {
	d := events.CloudwatchLogsData{
		MessageType: cwlogs.MessageTypeData, Owner: "123456789012",
		LogGroup: "/aws/lambda/orders-api", LogStream: fmt.Sprintf("2024/05/01/[$LATEST]%032x", seq),
		SubscriptionFilters: []string{"to-lake"},
	}
	for i := range benchEvents {
		ts := int64(1714571100000 + seq*1000 + i)
		var msg string
		switch i % 10 {
		case 0:
			msg = fmt.Sprintf(`{"level":"INFO","msg":"order accepted","order_id":"o-%d","amount":%d.%02d,"customer":"%s"}`, seq*1000+i, i*7%500, i%100, randomText(seq*benchEvents+i, 12))
		case 9:
			msg = fmt.Sprintf("REPORT RequestId: %s\tDuration: %d.%02d ms\tBilled Duration: %d ms\tMemory Size: 256 MB\tMax Memory Used: %d MB\t\n", randomText(i, 36), i%900, i%100, i%900+1, 60+i%30)
		default:
			msg = fmt.Sprintf("2024-05-01T13:45:%02d.%03dZ\t%s\tINFO\tGET /api/v1/orders/%d?page=%d status=%d duration_ms=%d user=%s ua=%q\n",
				i%60, i%1000, randomText(seq+i, 36), i*31, i%9, 200+i%3*100, i%700, randomText(i*3, 10), "Mozilla/5.0 (X11; Linux x86_64)")
		}
		d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{ID: fmt.Sprintf("%d%043d", ts, seq*benchEvents+i), Timestamp: ts, Message: msg})
	}
	p, err := cwlogs.Encode(d)
	require.NoError(t, err)
	return p
}

// benchBatch is a Firehose event whose records' base64 data add up to
// about size bytes, as Firehose would invoke the function, JSON-encoded.
func benchBatch(t testing.TB, size int) (raw []byte, records int) {
	ev := events.KinesisFirehoseEvent{
		InvocationID:      "bench",
		DeliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/lakestream-cwlogs",
		Region:            "us-east-1",
	}
	total := 0
	for seq := 0; total < size; seq++ {
		p := benchPayload(t, seq)
		if total+(len(p)+2)/3*4 > size {
			break
		}
		total += (len(p) + 2) / 3 * 4
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{
			RecordID:                    fmt.Sprintf("49590338271490256608559692538361571095921575989136588%06d", seq),
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(1714571102000)},
			Data:                        p,
		})
	}
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	return raw, len(ev.Records)
}

// nopReingester accepts what does not fit, as a stream with room would.
type nopReingester struct{}

func (nopReingester) Reingest(context.Context, events.KinesisFirehoseEvent, []firehose.Reingest) error {
	return nil
}

// benchHandler is the handler with the template's partition keys and the
// given output format.
func benchHandler(tb testing.TB, format string) *Handler {
	cfg := testConfig(tb, map[string]string{"OUTPUT_FORMAT": format, "PARTITION_KEYS": "log_group,dt=date,hour"})
	h, err := build(cfg, slog.New(slog.DiscardHandler), metricsemf.New(io.Discard, "bench"), nopReingester{}, nil)
	require.NoError(tb, err)
	return h
}

// invoke does what the Lambda runtime does with one raw event: hand its
// bytes to the handler and take the encoded response.
func invoke(tb testing.TB, h *Handler, raw []byte) []byte {
	response, err := h.Invoke(context.Background(), raw)
	if err != nil {
		tb.Fatal(err)
	}
	return response
}

// okBytes is how many bytes of transformed data a response carries.
func okBytes(tb testing.TB, response []byte) int {
	var resp firehose.Response
	if err := json.Unmarshal(response, &resp); err != nil {
		tb.Fatal(err)
	}
	out := 0
	for _, rec := range resp.Records {
		out += len(rec.Data) * btoi(rec.Result == firehose.ResultOk)
	}
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// BenchmarkTransform is the per-record work: decode, render, partition
// keys. Bytes are output bytes.
func BenchmarkTransform(b *testing.B) {
	payload := benchPayload(b, 1)
	for _, format := range []string{"lines", "json", "splunk"} {
		b.Run(format, func(b *testing.B) {
			h := benchHandler(b, format)
			r := firehose.Record{ID: "r", Data: payload}
			out, err := h.t.Transform(context.Background(), r)
			require.NoError(b, err)
			require.NotEmpty(b, out.Data)
			b.SetBytes(int64(len(out.Data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.t.Transform(context.Background(), r); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(payload)), "gzip-B/record")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchEvents), "ns/event")
		})
	}
}

// BenchmarkHandle is a whole invocation on a 1 MB and a 6 MB batch (base64
// data in the request): the event decoded, every record transformed, the
// response encoded. Bytes are the transformed bytes in the response; what
// does not fit is re-ingested (into a no-op here). Run with -cpu 1 for
// figures per core.
func BenchmarkHandle(b *testing.B) {
	for _, size := range []int{1_000_000, 6_000_000} {
		raw, records := benchBatch(b, size)
		for _, format := range []string{"lines", "json"} {
			b.Run(fmt.Sprintf("%dMB/%s", size/1_000_000, format), func(b *testing.B) {
				h := benchHandler(b, format)
				b.SetBytes(int64(okBytes(b, invoke(b, h, raw))))
				b.ReportAllocs()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for b.Loop() {
					invoke(b, h, raw)
				}
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*records), "allocs/record")
				b.ReportMetric(float64(len(raw))/1e6/b.Elapsed().Seconds()*float64(b.N), "request-MB/s")
				b.ReportMetric(float64(records), "records")
			})
		}
	}
}

// BenchmarkPeakHeap6MB reports the largest heap (live and not yet swept
// objects, sampled every 50µs) while one 6 MB batch is decoded, handled
// and answered, starting from a collected heap: the figure that decides
// whether the function fits in 128 MB. TestFull6MBBatchFitsIn128MB checks
// the real binary's resident memory.
func BenchmarkPeakHeap6MB(b *testing.B) {
	raw, _ := benchBatch(b, 6_000_000)
	for _, format := range []string{"lines", "json"} {
		b.Run(format, func(b *testing.B) {
			h := benchHandler(b, format)
			var peak uint64
			for b.Loop() {
				peak = max(peak, peakHeap(func() { invoke(b, h, raw) }))
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// peakHeap runs fn after a collection and returns the most heap memory in
// use (runtime/metrics /memory/classes/heap/objects:bytes) seen meanwhile.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done, result := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				result <- peak
				return
			case <-time.After(50 * time.Microsecond):
			}
		}
	}()
	fn()
	close(done)
	return <-result
}

// BenchmarkBatch is a whole invocation, request bytes in and response
// bytes out, on the benchmark batch of VPC flow log payloads (or the
// request in the file CWLOGS_BENCH_BATCH names, such as the reference
// generator's cwlogs-1mb.json, to run beside the reference
// implementations), with OUTPUT_FORMAT=lines and json and no partition
// keys, as the AWS blueprint works. It reports the best and the median
// invocation besides the mean.
func BenchmarkBatch(b *testing.B) {
	raw := benchRequest(b)
	for _, format := range []string{"lines", "json"} {
		b.Run(format, func(b *testing.B) {
			cfg := testConfig(b, map[string]string{"OUTPUT_FORMAT": format})
			h, err := build(cfg, slog.New(slog.DiscardHandler), metricsemf.New(io.Discard, "bench"), nopReingester{}, nil)
			require.NoError(b, err)
			b.SetBytes(int64(okBytes(b, invoke(b, h, raw))))
			b.ReportAllocs()
			var times, cpu []time.Duration
			for b.Loop() {
				start, startCPU := time.Now(), benchdata.CPUTime()
				invoke(b, h, raw)
				times = append(times, time.Since(start))
				cpu = append(cpu, benchdata.CPUTime()-startCPU)
			}
			reportTimes(b, times, cpu)
		})
	}
}

// reportTimes reports the best and the median of the invocations' wall
// and CPU times (the process's, garbage collection included), in ms.
func reportTimes(b *testing.B, times, cpu []time.Duration) {
	slices.Sort(times)
	slices.Sort(cpu)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(times[0]), "best-ms")
	b.ReportMetric(ms(times[len(times)/2]), "median-ms")
	b.ReportMetric(ms(cpu[0]), "best-cpu-ms")
	b.ReportMetric(ms(cpu[len(cpu)/2]), "median-cpu-ms")
}

// BenchmarkBatchDecoded is BenchmarkBatch with the request's JSON decoded
// beforehand, all but the records' base64, which is decoded in the loop as
// the floor decodes it: what the invocation costs once the request is
// decoded without reflection, as the framework is going to.
func BenchmarkBatchDecoded(b *testing.B) {
	var req struct {
		events.KinesisFirehoseEvent
		Records []struct {
			RecordID                    string                       `json:"recordId"`
			ApproximateArrivalTimestamp events.MilliSecondsEpochTime `json:"approximateArrivalTimestamp"`
			Data                        string                       `json:"data"`
		} `json:"records"`
	}
	require.NoError(b, json.Unmarshal(benchRequest(b), &req))
	for _, format := range []string{"lines", "json"} {
		b.Run(format, func(b *testing.B) {
			cfg := testConfig(b, map[string]string{"OUTPUT_FORMAT": format})
			h, err := build(cfg, slog.New(slog.DiscardHandler), metricsemf.New(io.Discard, "bench"), nopReingester{}, nil)
			require.NoError(b, err)
			b.ReportAllocs()
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				ev := Event{KinesisFirehoseEvent: req.KinesisFirehoseEvent}
				ev.Records = make([]events.KinesisFirehoseEventRecord, len(req.Records))
				for i, r := range req.Records {
					data, err := base64.StdEncoding.DecodeString(r.Data)
					if err != nil {
						b.Fatal(err)
					}
					ev.Records[i] = events.KinesisFirehoseEventRecord{RecordID: r.RecordID, ApproximateArrivalTimestamp: r.ApproximateArrivalTimestamp, Data: data}
				}
				if _, err := h.Handle(context.Background(), ev); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[0].Microseconds())/1000, "best-ms")
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
		})
	}
}

// benchRequest is the request the whole-invocation benchmarks send: the
// file CWLOGS_BENCH_BATCH names, or benchdata's standard 1 MB batch.
func benchRequest(tb testing.TB) []byte {
	if path := os.Getenv("CWLOGS_BENCH_BATCH"); path != "" {
		raw, err := os.ReadFile(path)
		require.NoError(tb, err)
		return raw
	}
	return benchdata.VPCFlowLogs(1_000_000)
}
