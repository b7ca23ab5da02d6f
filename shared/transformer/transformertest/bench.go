package transformertest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lakestream/shared/benchdata"
	"lakestream/shared/boot"
	"lakestream/shared/config"
	"lakestream/shared/firehose"
)

// benchArrival is the arrival time of every benchmark record.
var benchArrival = time.Date(2024, 3, 5, 7, 0, 0, 0, time.UTC)

// Batch builds a Firehose request with at least size bytes of record
// data from the lines line(0), line(1), ..., perRecord lines to a record,
// as a batching producer (Kinesis Agent, Fluent Bit) sends them. It
// returns the request's bytes and its number of lines.
func Batch(line func(i int) []byte, perRecord, size int) ([]byte, int) {
	var records [][]byte
	n := 0
	for total := 0; total < size; {
		var data []byte
		for range perRecord {
			data = append(append(data, line(n)...), '\n')
			n++
		}
		total += len(data)
		records = append(records, data)
	}
	return Request("bench", benchArrival, records), n
}

// Request encodes records as a Firehose transformation request from a
// Direct PUT delivery stream of that name, record i arriving i ms after
// arrival, laid out byte for byte as the reference batch generator
// (Python's json.dump, ../shared/bench/gen_batches.py) lays out its
// batches, so a benchmark here reads what the reference implementations
// read.
func Request(stream string, arrival time.Time, records [][]byte) []byte {
	size := 200
	for _, r := range records {
		size += base64.StdEncoding.EncodedLen(len(r)) + 80
	}
	b := make([]byte, 0, size)
	b = append(b, `{"invocationId": "bench", "region": "us-east-1", "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/`...)
	b = append(b, stream...)
	b = append(b, `", "records": [`...)
	for i, r := range records {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, `{"recordId": "r%06d", "approximateArrivalTimestamp": %d, "data": "`, i, arrival.UnixMilli()+int64(i))
		b = base64.StdEncoding.AppendEncode(b, r)
		b = append(b, `"}`...)
	}
	return append(b, "]}"...)
}

// Benchmark measures a whole invocation of the handler newHandler builds
// from env, as Lambda runs it: the request's bytes in (every record must
// come out Ok), the response's bytes out. It reports MB/s of record data
// per core (b.SetBytes), ns/line, allocs/line, out/in (the ratio of output
// to input bytes that decides how large a Firehose buffer still fits the
// 6 MB response) and cpu-ns/op, the process's CPU time per invocation,
// which on a shared, busy machine varies far less than the wall time.
func Benchmark(b *testing.B, newHandler NewHandler, env map[string]string, request []byte, lines int) {
	fn := boot.NewFrom(config.FromMap(env), io.Discard)
	h := newHandler(fn)
	require.NoError(b, fn.Err())
	ctx := context.Background()

	req, err := firehose.DecodeRequest(request)
	require.NoError(b, err)
	ev, err := req.Event()
	require.NoError(b, err)
	raw, err := h.Invoke(ctx, request)
	require.NoError(b, err)
	var resp firehose.Response
	require.NoError(b, json.Unmarshal(raw, &resp))
	in, out := 0, 0
	for i, r := range resp.Records {
		require.Equal(b, firehose.ResultOk, r.Result, "benchmark record %d", i)
		in += len(ev.Records[i].Data)
		out += len(r.Data)
	}

	b.SetBytes(int64(in))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu := benchdata.CPUTime()
	for b.Loop() {
		if _, err := h.Invoke(ctx, request); err != nil {
			b.Fatal(err)
		}
	}
	cpu = benchdata.CPUTime() - cpu
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	done := float64(b.N) * float64(lines)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/done, "ns/line")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/done, "allocs/line")
	b.ReportMetric(float64(out)/float64(in), "out/in")
}
