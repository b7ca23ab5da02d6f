package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/golden"
)

// fixedTime is the clock every test Recorder reads: 2024-05-06T07:08:09.123Z.
var fixedTime = time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)

// newTest returns a Recorder writing to a buffer with the clock fixed.
func newTest(namespace string, dims ...string) (*Recorder, *bytes.Buffer) {
	var buf bytes.Buffer
	r := New(&buf, namespace, dims...)
	r.now = func() time.Time { return fixedTime }
	return r, &buf
}

// emf is an EMF line decoded into the parts CloudWatch reads.
type emf struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
	root map[string]any
}

// decodeLine checks out holds exactly one newline-terminated JSON object and
// decodes it.
func decodeLine(t *testing.T, out []byte) emf {
	t.Helper()
	require.True(t, bytes.HasSuffix(out, []byte("\n")), "an EMF line ends with a newline: %q", out)
	require.Equal(t, 1, bytes.Count(out, []byte("\n")), "exactly one line: %q", out)
	var doc emf
	require.NoError(t, json.Unmarshal(out, &doc))
	require.NoError(t, json.Unmarshal(out, &doc.root))
	return doc
}

// checkEMF checks the rules of the EMF specification a line must follow:
// every metric and dimension named in the directive is a root member, a
// number for metrics and a string for dimensions.
func checkEMF(t *testing.T, doc emf) {
	t.Helper()
	assert.Equal(t, fixedTime.UnixMilli(), doc.AWS.Timestamp, "Timestamp is epoch milliseconds")
	require.Len(t, doc.AWS.CloudWatchMetrics, 1)
	dir := doc.AWS.CloudWatchMetrics[0]
	assert.NotEmpty(t, dir.Namespace)
	require.Len(t, dir.Dimensions, 1, "one dimension set")
	for _, d := range dir.Dimensions[0] {
		assert.IsType(t, "", doc.root[d], "dimension %s must be a string member of the root", d)
	}
	require.NotEmpty(t, dir.Metrics)
	for _, m := range dir.Metrics {
		assert.IsType(t, float64(0), doc.root[m.Name], "metric %s must be a number member of the root", m.Name)
		assert.NotEmpty(t, m.Unit)
	}
}

// TestFlushGolden compares the EMF line of each case with
// testdata/<case>.golden.json.
func TestFlushGolden(t *testing.T) {
	tests := map[string]struct {
		namespace string
		dims      []string
		record    func(r *Recorder)
	}{
		"counts": {
			namespace: "lakestream",
			dims:      []string{"FunctionName", "cwlogs-decompress"},
			record: func(r *Recorder) {
				r.Count("RecordsIn", 500)
				r.Count("RecordsOk", 480)
				r.Count("RecordsDropped", 15)
				r.Count("RecordsFailed", 5)
				r.Count("RecordsReingested", 0)
			},
		},
		"units": {
			namespace: "lakestream",
			dims:      []string{"FunctionName", "ddb-forward", "Stream", "orders"},
			record: func(r *Recorder) {
				r.Add("BytesOut", UnitBytes, 1<<20)
				r.Add("PutLatency", UnitMs, 12.5)
				r.Add("PutLatency", UnitMs, 7.25)
				r.Count("Records", 3)
				r.Count("Records", 4)
			},
		},
		"no_dimensions": {
			namespace: "lakestream/test",
			record: func(r *Recorder) {
				r.Count("Invocations", 1)
			},
		},
		"odd_dimension_dropped": {
			namespace: "lakestream",
			dims:      []string{"FunctionName", "glue-fix", "Dangling"},
			record: func(r *Recorder) {
				r.Count("TablesFixed", 2)
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, buf := newTest(tc.namespace, tc.dims...)
			tc.record(r)
			require.NoError(t, r.Flush())
			got := buf.Bytes()
			checkEMF(t, decodeLine(t, got))

			golden.JSON(t, filepath.Join("testdata", name+".golden.json"), json.RawMessage(got))
		})
	}
}

func TestFlushContents(t *testing.T) {
	r, buf := newTest("lakestream", "FunctionName", "fn", "Stage", "prod")
	r.Count("RecordsIn", 3)
	r.Add("Bytes", UnitBytes, 1024)
	r.Count("RecordsIn", 2)
	r.Add("Latency", UnitMs, 1.5)
	require.NoError(t, r.Flush())

	doc := decodeLine(t, buf.Bytes())
	checkEMF(t, doc)
	dir := doc.AWS.CloudWatchMetrics[0]
	assert.Equal(t, "lakestream", dir.Namespace)
	assert.Equal(t, [][]string{{"FunctionName", "Stage"}}, dir.Dimensions)
	var names, units []string
	for _, m := range dir.Metrics {
		names = append(names, m.Name)
		units = append(units, m.Unit)
	}
	assert.Equal(t, []string{"RecordsIn", "Bytes", "Latency"}, names, "metrics in the order first added")
	assert.Equal(t, []string{"Count", "Bytes", "Milliseconds"}, units)
	assert.Equal(t, map[string]any{
		"FunctionName": "fn",
		"Stage":        "prod",
		"RecordsIn":    float64(5),
		"Bytes":        float64(1024),
		"Latency":      1.5,
		"_aws":         doc.root["_aws"],
	}, doc.root, "no members beyond dimensions, metrics and _aws")
}

func TestFirstUnitWins(t *testing.T) {
	r, buf := newTest("ns")
	r.Add("Size", UnitBytes, 10)
	r.Add("Size", UnitCount, 5)
	require.NoError(t, r.Flush())
	doc := decodeLine(t, buf.Bytes())
	require.Len(t, doc.AWS.CloudWatchMetrics[0].Metrics, 1, "a name is declared once")
	assert.Equal(t, "Bytes", doc.AWS.CloudWatchMetrics[0].Metrics[0].Unit)
	assert.Equal(t, float64(15), doc.root["Size"])
}

func TestZeroIsWritten(t *testing.T) {
	r, buf := newTest("ns")
	r.Count("RecordsFailed", 0)
	require.NoError(t, r.Flush())
	doc := decodeLine(t, buf.Bytes())
	assert.Equal(t, float64(0), doc.root["RecordsFailed"])
}

func TestFlushResets(t *testing.T) {
	r, buf := newTest("ns", "FunctionName", "fn")
	r.Count("A", 1)
	r.Count("B", 2)
	require.NoError(t, r.Flush())
	buf.Reset()

	require.NoError(t, r.Flush())
	assert.Empty(t, buf.String(), "nothing added since the last Flush: nothing written")

	r.Count("B", 7)
	require.NoError(t, r.Flush())
	doc := decodeLine(t, buf.Bytes())
	checkEMF(t, doc)
	require.Len(t, doc.AWS.CloudWatchMetrics[0].Metrics, 1, "A was not added again")
	assert.Equal(t, "B", doc.AWS.CloudWatchMetrics[0].Metrics[0].Name)
	assert.Equal(t, float64(7), doc.root["B"], "B restarts from zero")
	assert.NotContains(t, doc.root, "A")
	assert.Equal(t, "fn", doc.root["FunctionName"], "dimensions survive a Flush")
}

// failWriter fails the test if anything is written, or fails every write.
type failWriter struct {
	t   *testing.T
	err error
}

func (w failWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.t.Errorf("unexpected write %q", p)
	return len(p), nil
}

func TestFlushEmptyWritesNothing(t *testing.T) {
	r := New(failWriter{t: t}, "ns", "FunctionName", "fn")
	assert.NoError(t, r.Flush())
	assert.NoError(t, r.Flush())
}

func TestFlushWriteError(t *testing.T) {
	errDisk := errors.New("stdout closed")
	r := New(failWriter{err: errDisk}, "ns")
	r.Count("A", 1)
	assert.ErrorIs(t, r.Flush(), errDisk)
}

// TestFlushNotANumber: JSON has no NaN or infinity, so such a value cannot
// be written; Flush must say so rather than write a broken line.
func TestFlushNotANumber(t *testing.T) {
	for name, v := range map[string]float64{"NaN": math.NaN(), "+Inf": math.Inf(1), "-Inf": math.Inf(-1)} {
		t.Run(name, func(t *testing.T) {
			r, buf := newTest("ns")
			r.Add("Ratio", UnitCount, v)
			err := r.Flush()
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "metrics: encode EMF: "), err.Error())
			assert.Empty(t, buf.String(), "no partial line")
		})
	}
}

func TestRealClock(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, "ns")
	before := time.Now().UnixMilli()
	r.Count("A", 1)
	require.NoError(t, r.Flush())
	after := time.Now().UnixMilli()
	var doc emf
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	assert.GreaterOrEqual(t, doc.AWS.Timestamp, before)
	assert.LessOrEqual(t, doc.AWS.Timestamp, after)
}

func TestConcurrentAdd(t *testing.T) {
	r, buf := newTest("ns")
	const workers, each = 8, 1000
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				r.Count("Records", 1)
				r.Add("Bytes", UnitBytes, 2)
			}
		})
	}
	wg.Wait()
	require.NoError(t, r.Flush())
	doc := decodeLine(t, buf.Bytes())
	assert.Equal(t, float64(workers*each), doc.root["Records"])
	assert.Equal(t, float64(2*workers*each), doc.root["Bytes"])
	assert.Len(t, doc.AWS.CloudWatchMetrics[0].Metrics, 2)
}

func BenchmarkFlush(b *testing.B) {
	var buf bytes.Buffer
	r := New(&buf, "lakestream", "FunctionName", "cwlogs-decompress")
	r.now = func() time.Time { return fixedTime }
	invocation := func() {
		buf.Reset()
		r.Count("RecordsIn", 500)
		r.Count("RecordsOk", 480)
		r.Count("RecordsFailed", 20)
		r.Add("BytesOut", UnitBytes, 1<<20)
		if err := r.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	invocation()
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		invocation()
	}
}

func TestReport(t *testing.T) {
	for name, tc := range map[string]struct {
		err       error
		level     string
		msg       string
		wantError string
	}{
		"done":   {level: "INFO", msg: "invocation done"},
		"failed": {err: errors.New("stream gone"), level: "ERROR", msg: "invocation failed", wantError: "stream gone"},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&out, nil))
			r := New(&out, "ns", "FunctionName", "fn")
			r.Count("RecordsIn", 3)
			Report(context.Background(), log, r, tc.err, "records_in", 3)

			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			require.Len(t, lines, 2, "one summary line, one EMF document")
			var summary map[string]any
			require.NoError(t, json.Unmarshal([]byte(lines[0]), &summary))
			assert.Equal(t, tc.level, summary["level"])
			assert.Equal(t, tc.msg, summary["msg"])
			assert.Equal(t, float64(3), summary["records_in"])
			if tc.wantError != "" {
				assert.Equal(t, tc.wantError, summary["error"])
			} else {
				assert.NotContains(t, summary, "error")
			}
			doc := decodeLine(t, []byte(lines[1]+"\n"))
			assert.Equal(t, float64(3), doc.root["RecordsIn"])
		})
	}
}

// TestNilRecorder: handlers built without metrics count and report safely.
func TestNilRecorder(t *testing.T) {
	var r *Recorder
	r.Count("RecordsIn", 1)
	r.Add("BytesIn", UnitBytes, 10)
	assert.NoError(t, r.Flush())
	var out bytes.Buffer
	Report(context.Background(), slog.New(slog.NewJSONHandler(&out, nil)), r, nil)
	assert.Equal(t, 1, strings.Count(out.String(), "\n"), "the summary line alone")
}
