package main

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/benchdata"
)

const benchOutput = `goos: linux
goarch: amd64
pkg: lakestream/functions/cwlogs-decompressor
cpu: Intel(R) Xeon(R) Processor @ 2.60GHz
BenchmarkInvoke/cwlogs-1mb-lines         	       3	  63636577 ns/op	  55.10 MB/s	        58.21 best-ms	        65.96 median-ms	   3506589 work/op	 9890477 B/op	    2275 allocs/op
BenchmarkInvoke/cwlogs-1mb-json          	       3	  63468525 ns/op	  25.22 MB/s	        58.91 best-ms	        63.67 median-ms	   1600359 work/op
Benchmark setup logged this line
BenchmarkInvoke/no-best          	       3	  63468525 ns/op
PASS
ok  	lakestream/functions/cwlogs-decompressor	6.914s
`

func TestParseBench(t *testing.T) {
	results, err := parseBench([]byte(benchOutput))
	require.NoError(t, err)
	require.Len(t, results, 3)
	assert.Equal(t, benchResult{Name: "BenchmarkInvoke/cwlogs-1mb-lines", N: 3, Metrics: map[string]float64{
		"ns/op": 63636577, "MB/s": 55.10, "best-ms": 58.21, "median-ms": 65.96, "work/op": 3506589, "B/op": 9890477, "allocs/op": 2275,
	}}, results[0])
	assert.Equal(t, "BenchmarkInvoke/cwlogs-1mb-json", results[1].Name)

	_, err = parseBench([]byte("BenchmarkX 3 abc ns/op\n"))
	assert.ErrorContains(t, err, `benchmark BenchmarkX: metric "ns/op"`)
}

func TestInProcessFigure(t *testing.T) {
	f, err := inProcessFigure([]byte(benchOutput), "cwlogs-1mb-json")
	require.NoError(t, err)
	assert.Equal(t, figure{Time: 58910 * time.Microsecond, Work: 1600359}, f)
	_, err = inProcessFigure([]byte(benchOutput), "no-best")
	assert.ErrorContains(t, err, "reports no best-ms")
	_, err = inProcessFigure([]byte(benchOutput), "cwlogs-1mb")
	assert.ErrorContains(t, err, "no result for BenchmarkInvoke/cwlogs-1mb", "names match exactly")
	_, err = inProcessFigure([]byte(benchOutput), "cwlogs-6mb-lines")
	assert.ErrorContains(t, err, "no result for BenchmarkInvoke/cwlogs-6mb-lines")
}

func TestParseRef(t *testing.T) {
	results, err := parseRef([]byte(`{"impl": "python-blueprint-steps", "event_bytes": 1017791, "records": 82, "output_bytes": 3464167, "best_s": 0.0452, "output_MBps": 76.6}` + "\n"))
	require.NoError(t, err)
	assert.Equal(t, []refResult{{Impl: "python-blueprint-steps", BestSeconds: 0.0452, OutputBytes: 3464167, Records: 82}}, results)
	assert.Equal(t, int64(3464167), results[0].work(benchdata.MessageBytes))

	floor, err := parseRef([]byte("{\"impl\":\"floor-stdlib\",\"records\":82,\"output_bytes\":6900000,\"best_s\":0.0301,\"output_MBps\":229.2}\n{\"impl\":\"floor-klauspost\",\"records\":82,\"output_bytes\":6900000,\"best_s\":0.0160,\"output_MBps\":431.2}\n"))
	require.NoError(t, err)
	require.Len(t, floor, 2)
	assert.Zero(t, floor[1].work(benchdata.MessageBytes), "the floor's bytes are whole payloads, not messages")

	access, err := parseRef([]byte(`{"impl": "python-apachelog-blueprint-approach", "records": 4185, "input_bytes": 750000, "best_s": 0.1, "input_MBps": 7.5, "records_per_s": 41850}`))
	require.NoError(t, err)
	assert.Equal(t, int64(750000), access[0].work(benchdata.InputBytes))
	ddb, err := parseRef([]byte(`{"impl": "python-boto3-TypeDeserializer", "records": 1000, "best_s": 0.07, "records_per_s": 14285}`))
	require.NoError(t, err)
	assert.Equal(t, int64(1000), ddb[0].work(benchdata.Records))

	for in, want := range map[string]string{
		"":                              "printed no result",
		"Traceback (most recent call)":  "printed no result",
		`{"impl": "x"}`:                 "no impl or best_s",
		`{"impl": "x", "best_s": "1"}`:  "reference output",
		`{"best_s": 0.1, "records": 1}`: "no impl or best_s",
	} {
		_, err := parseRef([]byte(in))
		assert.ErrorContains(t, err, want, "%q", in)
	}
}

func TestSeriesStatistics(t *testing.T) {
	s := &series{Figures: []figure{{Time: 30 * time.Millisecond, Work: 100}, {Time: 10 * time.Millisecond, Work: 100}, {Time: 20 * time.Millisecond, Work: 80}}}
	assert.Equal(t, 10*time.Millisecond, s.best())
	assert.Equal(t, 20*time.Millisecond, s.median())
	assert.Equal(t, int64(100), s.work(500), "the median work of the runs")
	assert.InDelta(t, 5000, s.rate(500), 1e-9, "100 units in 20 ms")

	s.Figures = append(s.Figures, figure{Time: 50 * time.Millisecond, Work: 100})
	assert.Equal(t, 25*time.Millisecond, s.median(), "the mean of the middle two")

	ref := &series{Figures: []figure{{Time: 100 * time.Millisecond}}}
	assert.Equal(t, int64(500), ref.work(500), "a reference that does not say did the whole batch")
	assert.Zero(t, (&series{}).rate(500))
	assert.Zero(t, median(nil))
}

func TestSpeedup(t *testing.T) {
	j := &job{Total: 1000}
	fast := &series{Figures: []figure{{Time: 50 * time.Millisecond, Work: 1000}}}
	slow := &series{Figures: []figure{{Time: 100 * time.Millisecond}}}
	assert.InDelta(t, 2.0, j.speedup(fast, slow), 1e-9)
	assert.InDelta(t, 0.5, j.speedup(slow, fast), 1e-9)

	// A run that re-ingested half the batch did half the work: per unit of
	// work it is as fast as the reference.
	half := &series{Figures: []figure{{Time: 50 * time.Millisecond, Work: 500}}}
	assert.InDelta(t, 1.0, j.speedup(half, slow), 1e-9)

	assert.True(t, math.IsNaN(j.speedup(nil, slow)))
	assert.True(t, math.IsNaN(j.speedup(fast, &series{})))
}

func TestFloorIsTheFasterPackage(t *testing.T) {
	j := &job{Total: 100}
	assert.Nil(t, j.floor())
	k := j.find("klauspost", floorKlauspost, "")
	k.Figures = millis(20)
	assert.Same(t, k, j.floor())
	s := j.find("stdlib", floorStdlib, "")
	s.Figures = millis(30)
	assert.Same(t, k, j.floor())
	s.Figures = millis(10)
	assert.Same(t, s, j.floor())
	k.Err = assert.AnError
	s.Figures = millis(40)
	assert.Same(t, s, j.floor())
}

func TestJobSeries(t *testing.T) {
	j := &job{}
	a := j.find("a", python, "")
	assert.Same(t, a, j.find("a", python, ""), "found again, not made twice")
	assert.Nil(t, j.of(python), "no figure yet")
	a.Figures = append(a.Figures, figure{Time: time.Millisecond})
	assert.Same(t, a, j.of(python))
	a.Err = assert.AnError
	assert.Nil(t, j.of(python), "a failed series is not a reference")
}

// TestRefRunner runs a stand-in reference (a shell printing what a
// reference prints) and checks that a reference that did other work than
// the batch's is refused.
func TestRefRunner(t *testing.T) {
	j := &job{Batch: "b", Unit: benchdata.MessageBytes, Total: 3464167}
	r := refRunner(j, "Python", python, t.TempDir(), placement{cpu: 0, apart: true}, "sh", "-c", `echo '{"impl": "python-blueprint-steps", "output_bytes": 3464167, "best_s": 0.05}'`)
	require.NoError(t, r.take(context.Background()))
	require.NoError(t, r.take(context.Background()))
	require.Len(t, j.Series, 1)
	assert.Equal(t, refNames["python-blueprint-steps"].name, j.Series[0].Impl)
	assert.Equal(t, []figure{{Time: 50 * time.Millisecond}, {Time: 50 * time.Millisecond}}, j.Series[0].Figures)

	other := refRunner(j, "Node", node, t.TempDir(), placement{cpu: -1}, "sh", "-c", `echo '{"impl": "node-blueprint-steps", "output_bytes": 12, "best_s": 0.05}'`)
	assert.ErrorContains(t, other.take(context.Background()), "did not read the same batch")
	assert.True(t, other.failed)
	assert.Error(t, j.find("Node", node, "").Err, "its row says why")

	broken := refRunner(j, "Broken", python, t.TempDir(), placement{cpu: -1}, "sh", "-c", "echo oops >&2; exit 3")
	err := broken.take(context.Background())
	assert.ErrorContains(t, err, "exit status 3")
	assert.ErrorContains(t, err, "oops")
}

func TestVariant(t *testing.T) {
	assert.Equal(t, "lakestream lines, Runtime API", lakestreamImpl(benchdata.Case{Name: "cwlogs-1mb-lines", Batch: "cwlogs-1mb"}, "Runtime API"))
	assert.Equal(t, "lakestream, in-process", lakestreamImpl(benchdata.Case{Name: "ddb-1000", Batch: "ddb-1000"}, "in-process"))
}
