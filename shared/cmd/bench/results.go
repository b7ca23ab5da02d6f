package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"lakestream/shared/benchdata"
)

// kind is who an implementation is.
type kind int

const (
	lakestreamInProcess kind = iota // BenchmarkInvoke in the function's test binary
	lakestreamRuntime               // the real bootstrap under the local Runtime API
	python                          // the blueprint's steps in Python
	node                            // the same in Node.js
	floorKlauspost                  // base64 + gunzip + base64 only, klauspost/compress
	floorStdlib                     // the same with the standard library
)

// figure is one sample: one run of an implementation on a batch, its
// best time over the run's repetitions (every implementation repeats the
// batch a few times per run and reports its best) and the work done.
type figure struct {
	Time time.Duration
	Work int64 // in the job's unit; 0 when the implementation does not say
}

// series is what one implementation measured on one batch, a figure per
// round, or why it could not be measured.
type series struct {
	Impl    string
	Kind    kind
	Case    string // the lakestream case; "" for a reference
	Figures []figure
	// Init and First are, through the Runtime API, each round's init
	// (process start to first /next) and first invocation.
	Init, First []time.Duration
	// Use is, through the Runtime API, each round's use of the machine
	// (where it could be read).
	Use []use
	Err error
}

// best is the fastest figure.
func (s *series) best() time.Duration {
	return slices.MinFunc(s.Figures, func(a, b figure) int { return int(a.Time - b.Time) }).Time
}

// functionCPU and runnerCPU are each round's CPU time per invocation
// of the function and of the runner.
func (s *series) functionCPU() []time.Duration {
	out := make([]time.Duration, len(s.Use))
	for i, u := range s.Use {
		out[i] = u.function
	}
	return out
}

func (s *series) runnerCPU() []time.Duration {
	out := make([]time.Duration, len(s.Use))
	for i, u := range s.Use {
		out[i] = u.runner
	}
	return out
}

// memoryMB is the memory size the function ran with (the first round's;
// every round runs with the same), 0 when not known.
func (s *series) memoryMB() int {
	if len(s.Use) == 0 {
		return 0
	}
	return s.Use[0].memoryMB
}

// peakRSS is the most memory the function held resident in any round.
func (s *series) peakRSS() int64 {
	var peak int64
	for _, u := range s.Use {
		peak = max(peak, u.peakRSS)
	}
	return peak
}

// median is the median figure's time.
func (s *series) median() time.Duration { return median(s.times()) }

func (s *series) times() []time.Duration {
	out := make([]time.Duration, len(s.Figures))
	for i, f := range s.Figures {
		out[i] = f.Time
	}
	return out
}

// work is the work of a run: the median of what the runs reported, or
// total (the whole batch, what a reference implementation does) when
// they did not say.
func (s *series) work(total int64) int64 {
	var ws []int64
	for _, f := range s.Figures {
		if f.Work > 0 {
			ws = append(ws, f.Work)
		}
	}
	if len(ws) == 0 {
		return total
	}
	slices.Sort(ws)
	return ws[len(ws)/2]
}

// rate is the work per second at the median time.
func (s *series) rate(total int64) float64 {
	if len(s.Figures) == 0 {
		return 0
	}
	return float64(s.work(total)) / s.median().Seconds()
}

// median is the middle value (the mean of the two middle ones for an
// even count).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// job is one standard batch and the implementations measured on it.
type job struct {
	Batch   string
	Unit    benchdata.Unit
	Total   int64 // the whole batch's work
	Records int
	Size    int // the request's size in bytes
	Series  []*series
}

// find returns the series of an implementation, made on first use.
func (j *job) find(impl string, k kind, caseName string) *series {
	for _, s := range j.Series {
		if s.Impl == impl {
			return s
		}
	}
	s := &series{Impl: impl, Kind: k, Case: caseName}
	j.Series = append(j.Series, s)
	return s
}

// of returns the first measured series of a kind, or nil.
func (j *job) of(k kind) *series {
	for _, s := range j.Series {
		if s.Kind == k && s.Err == nil && len(s.Figures) > 0 {
			return s
		}
	}
	return nil
}

// floor is the floor's faster series (of its two gzip packages, which
// one wins depends on the machine): no decompressor can do less. Nil when
// neither was measured.
func (j *job) floor() *series {
	k, s := j.of(floorKlauspost), j.of(floorStdlib)
	switch {
	case k == nil:
		return s
	case s == nil:
		return k
	case s.rate(j.Total) > k.rate(j.Total):
		return s
	}
	return k
}

// python is the Python reference's series, or nil.
func (j *job) python() *series { return j.of(python) }

// speedup is how many times more work per second s does than the
// reference ref (median against median): above 1, s is faster. NaN when
// either was not measured.
func (j *job) speedup(s, ref *series) float64 {
	if s == nil || ref == nil || len(s.Figures) == 0 || len(ref.Figures) == 0 {
		return math.NaN()
	}
	return s.rate(j.Total) / ref.rate(j.Total)
}

// benchResult is one line of `go test -bench` output.
type benchResult struct {
	Name    string
	N       int
	Metrics map[string]float64 // by unit: ns/op, MB/s, best-ms, ...
}

// parseBench reads the benchmark result lines of `go test -bench` output,
// such as
//
//	BenchmarkInvoke/json-1mb   5   42239565 ns/op   17.71 MB/s   34.97 best-ms
//
// skipping every other line.
func parseBench(out []byte) ([]benchResult, error) {
	var results []benchResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || len(fields)%2 != 0 {
			continue
		}
		n, err := strconv.Atoi(fields[1])
		if err != nil {
			continue // a log line that starts with the word
		}
		r := benchResult{Name: fields[0], N: n, Metrics: map[string]float64{}}
		for i := 2; i < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark %s: metric %q: %w", r.Name, fields[i+1], err)
			}
			r.Metrics[fields[i+1]] = v
		}
		results = append(results, r)
	}
	return results, sc.Err()
}

// inProcessFigure is the figure of the case's line of BenchmarkInvoke
// output (run with -test.cpu=1): its best invocation (best-ms) and work per invocation.
func inProcessFigure(out []byte, caseName string) (figure, error) {
	results, err := parseBench(out)
	if err != nil {
		return figure{}, err
	}
	for _, r := range results {
		// Exactly: run with -test.cpu=1, go test adds no -GOMAXPROCS
		// suffix, which a case name ending in digits would make ambiguous.
		if r.Name != "BenchmarkInvoke/"+caseName {
			continue
		}
		best, ok := r.Metrics["best-ms"]
		if !ok {
			return figure{}, fmt.Errorf("benchmark %s reports no best-ms", r.Name)
		}
		return figure{Time: msDuration(best), Work: int64(r.Metrics["work/op"])}, nil
	}
	return figure{}, fmt.Errorf("no result for BenchmarkInvoke/%s in:\n%s", caseName, tail(out, 2000))
}

// refResult is a reference implementation's JSON line.
type refResult struct {
	Impl        string  `json:"impl"`
	BestSeconds float64 `json:"best_s"`
	OutputBytes int64   `json:"output_bytes"`
	InputBytes  int64   `json:"input_bytes"`
	Records     int64   `json:"records"`
}

// parseRef reads the JSON lines a reference implementation prints, one per
// implementation it measured (the floor measures two).
func parseRef(out []byte) ([]refResult, error) {
	var results []refResult
	for _, line := range bytes.Split(out, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var r refResult
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("reference output %q: %w", line, err)
		}
		if r.Impl == "" || r.BestSeconds <= 0 {
			return nil, fmt.Errorf("reference output %q: no impl or best_s", line)
		}
		results = append(results, r)
	}
	if len(results) == 0 {
		return nil, fmt.Errorf("reference printed no result: %q", tail(out, 500))
	}
	return results, nil
}

// work is what the reference says it did in the unit, for the check that
// it read the batch lakestream did; 0 when it does not say.
func (r refResult) work(u benchdata.Unit) int64 {
	switch {
	case strings.HasPrefix(r.Impl, "floor-"):
		return 0 // it counts the whole decompressed payloads, not the messages
	case u == benchdata.MessageBytes:
		return r.OutputBytes
	case u == benchdata.InputBytes:
		return r.InputBytes
	}
	return r.Records
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// tail is the end of out, for an error message.
func tail(out []byte, n int) string {
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return string(out)
}
