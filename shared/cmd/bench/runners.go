package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"lakestream/shared/benchdata"
	"lakestream/shared/lambdarun"
)

// runner takes one sample per round of one implementation (or of two, for
// the floor, which measures both gzip packages in one run). After its
// first failure it is not run again; the failure is reported in its row.
type runner struct {
	job      *job
	impl     string // its series, or the first of them
	kind     kind
	caseName string
	run      func(ctx context.Context) ([]sample, error)
	failed   bool
}

// sample is one round's figure of one series.
type sample struct {
	impl        string
	kind        kind
	fig         figure
	init, first time.Duration // through the Runtime API
	use         *use          // through the Runtime API, where it could be read
}

// use is what the timed invocations of a Runtime API round used, per
// invocation (the mean of the round's): the CPU time of the function's
// process and of this one (the Runtime API server, writing the event and
// reading the response: on the function's core unless
// -runtime-api-off-core), and the function's peak resident memory over
// the whole round, with the memory size it ran with.
type use struct {
	function, runner time.Duration
	peakRSS          int64
	memoryMB         int // AWS_LAMBDA_FUNCTION_MEMORY_SIZE; 0 when not known
}

// take runs r once and files its samples (or its failure) in its job.
func (r *runner) take(ctx context.Context) error {
	samples, err := r.run(ctx)
	if err != nil {
		r.failed = true
		r.job.find(r.impl, r.kind, r.caseName).Err = err
		return err
	}
	for _, s := range samples {
		se := r.job.find(s.impl, s.kind, r.caseName)
		se.Figures = append(se.Figures, s.fig)
		if s.kind == lakestreamRuntime {
			se.Init = append(se.Init, s.init)
			se.First = append(se.First, s.first)
			if s.use != nil {
				se.Use = append(se.Use, *s.use)
			}
		}
	}
	return nil
}

// variant is what sets a case apart from the others on its batch: its
// name past the batch's ("lines" in cwlogs-1mb-lines).
func variant(c benchdata.Case) string {
	return strings.TrimPrefix(strings.TrimPrefix(c.Name, c.Batch), "-")
}

// lakestreamImpl names a lakestream series.
func lakestreamImpl(c benchdata.Case, how string) string {
	if v := variant(c); v != "" {
		return fmt.Sprintf("lakestream %s, %s", v, how)
	}
	return "lakestream, " + how
}

// inProcessRunner runs the case's BenchmarkInvoke in the function's test
// binary (built with go test -c), runs invocations after one to warm up,
// and takes the best of them.
func inProcessRunner(j *job, c benchdata.Case, testBin, dir string, runs int, place placement) *runner {
	impl := lakestreamImpl(c, "in-process")
	return &runner{job: j, impl: impl, kind: lakestreamInProcess, caseName: c.Name, run: func(ctx context.Context) ([]sample, error) {
		cmd := exec.CommandContext(ctx, testBin, "-test.run=^$", "-test.bench=^BenchmarkInvoke$/^"+regexp.QuoteMeta(c.Name)+"$",
			fmt.Sprintf("-test.benchtime=%dx", runs), "-test.cpu=1", "-test.count=1")
		cmd.Dir = dir // the package's folder, as go test runs it
		var output bytes.Buffer
		cmd.Stdout, cmd.Stderr = &output, &output
		err := place.start(cmd.Start)
		if err == nil {
			err = cmd.Wait()
		}
		out := output.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", c.Name, err, tail(out, 2000))
		}
		fig, err := inProcessFigure(out, c.Name)
		if err != nil {
			return nil, err
		}
		return []sample{{impl: impl, kind: lakestreamInProcess, fig: fig}}, nil
	}}
}

// runtimeRunner starts the function's real bootstrap (from the build
// cache) under the local Runtime API with its template environment, the
// case's settings and env, and takes its init, its first invocation
// (checked, see benchdata.Case.Work) and the best of runs more. When the
// function puts records into streams, put takes what it put since the
// last call: every invocation must have delivered or re-ingested the
// rest of the batch's work (benchdata.Case.Delivered).
func runtimeRunner(j *job, c benchdata.Case, request []byte, env map[string]string, put func(context.Context) ([][]byte, error), runs int, place placement) *runner {
	impl := lakestreamImpl(c, "Runtime API")
	return &runner{job: j, impl: impl, kind: lakestreamRuntime, caseName: c.Name, run: func(ctx context.Context) ([]sample, error) {
		if put != nil {
			if _, err := put(ctx); err != nil { // what an earlier run that failed left
				return nil, err
			}
		}
		var logs bytes.Buffer
		opts, err := lambdarun.RepoFunctionOptions(c.Function, lambdarun.Options{Stdout: &logs, Stderr: &logs}, c.Env, env)
		if err != nil {
			return nil, err
		}
		// While the function starts and runs, collection is off (gcOff);
		// the checks between the timed parts collect as usual.
		gcOn := gcOff()
		defer func() { gcOn() }()
		var f *lambdarun.Function
		if err := place.start(func() (err error) { f, err = lambdarun.Start(opts); return err }); err != nil {
			return nil, err
		}
		defer f.Stop()
		fail := func(err error) ([]sample, error) {
			f.Stop() // its output is all in logs once it has exited
			return nil, fmt.Errorf("%s: %w\nfunction log:\n%s", c.Name, err, tail(logs.Bytes(), 2000))
		}
		init, err := f.Init(ctx)
		if err != nil {
			return fail(err)
		}
		start := time.Now()
		resp, err := f.Invoke(ctx, request)
		first := time.Since(start)
		if err != nil {
			return fail(err)
		}
		gcOn()
		work, err := c.Work(request, resp)
		if err != nil {
			return fail(err)
		}
		var firstPut [][]byte
		if put != nil {
			if firstPut, err = put(ctx); err != nil {
				return fail(err)
			}
			if err := c.Delivered(request, work, firstPut); err != nil {
				return fail(err)
			}
		}
		gcOn = gcOff()
		// Each response goes into the memory of the one before (the
		// first's, checked above): copied into new memory instead, with
		// the collector off, every one cost this process page faults on
		// the function's core (a third of its work there on cwlogs-6mb).
		buf := resp
		fnBefore, usageErr := f.Usage()
		runnerBefore := benchdata.CPUTime()
		best := time.Duration(math.MaxInt64)
		for range runs {
			start := time.Now()
			if buf, err = f.InvokeInto(ctx, request, buf); err != nil {
				return fail(err)
			}
			best = min(best, time.Since(start))
		}
		runner := benchdata.CPUTime() - runnerBefore
		fnAfter, err := f.Usage()
		gcOn()
		var u *use
		if usageErr == nil && err == nil {
			// The template's MemorySize, as Lambda gives it; shared/boot
			// sets the Go memory limit from it.
			mem, _ := strconv.Atoi(opts.Env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
			u = &use{function: (fnAfter.CPU - fnBefore.CPU) / time.Duration(runs), runner: runner / time.Duration(runs), peakRSS: fnAfter.PeakRSS, memoryMB: mem}
		}
		if put != nil {
			// The timed invocations put what the first did, each.
			all, err := put(ctx)
			if err != nil {
				return fail(err)
			}
			if n, want := len(all), runs*len(firstPut); n != want || size(all) != runs*size(firstPut) {
				return fail(fmt.Errorf("%d invocations put %d records, %d bytes; the first alone put %d, %d bytes", runs, n, size(all), len(firstPut), size(firstPut)))
			}
		}
		return []sample{{impl: impl, kind: lakestreamRuntime, fig: figure{Time: best, Work: work}, init: init, first: first, use: u}}, nil
	}}
}

// gcOff collects, then turns this process's collector off until the
// function it returns is called (which may be called again). As for
// measureInits: the collector of this process, whose heap holds every
// batch and result, is not to run on the function's core while the
// function starts or runs. With it merely collected before, it still
// ran during most runs: a run allocates a copy of each response (up to
// 6 MB), which soon reaches the next collection's goal. Off, the heap
// grows by those copies, a few tens of MB at most.
func gcOff() (on func()) {
	runtime.GC()
	old := debug.SetGCPercent(-1)
	return sync.OnceFunc(func() { debug.SetGCPercent(old) })
}

// size is the bytes of the records' data.
func size(records [][]byte) int {
	n := 0
	for _, r := range records {
		n += len(r)
	}
	return n
}

// refNames are the reference implementations' names in the tables, by
// the impl they print.
var refNames = map[string]struct {
	name string
	kind kind
}{
	"python-blueprint-steps":              {"Python: the blueprint's steps", python},
	"python-apachelog-blueprint-approach": {"Python: the blueprint's approach (regex, strptime, json)", python},
	"python-syslog-blueprint-approach":    {"Python: the syslog blueprint's approach (regex, strptime, json; lakestream's reference)", python},
	"python-boto3-TypeDeserializer":       {"Python: boto3 TypeDeserializer", python},
	"node-blueprint-steps":                {"Node.js: the blueprint's steps", node},
	"floor-klauspost":                     {"Go floor: base64 + gunzip + base64 (klauspost/compress)", floorKlauspost},
	"floor-stdlib":                        {"Go floor: base64 + gunzip + base64 (standard library)", floorStdlib},
}

// refRunner runs a reference implementation's command (it repeats the
// batch a few times and prints its best) and checks that it did the
// batch's whole work.
func refRunner(j *job, impl string, k kind, dir string, place placement, argv ...string) *runner {
	return &runner{job: j, impl: impl, kind: k, run: func(ctx context.Context) ([]sample, error) {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir = dir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := place.start(cmd.Start)
		if err == nil {
			err = cmd.Wait()
		}
		out := stdout.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, tail(stderr.Bytes(), 2000))
		}
		results, err := parseRef(out)
		if err != nil {
			return nil, err
		}
		var samples []sample
		for _, r := range results {
			if w := r.work(j.Unit); w != 0 && w != j.Total {
				return nil, fmt.Errorf("%s did %d of work on %s, whose whole work is %d: it did not read the same batch", r.Impl, w, j.Batch, j.Total)
			}
			name, ok := refNames[r.Impl]
			if !ok {
				name.name, name.kind = r.Impl, k
			}
			samples = append(samples, sample{impl: name.name, kind: name.kind, fig: figure{Time: time.Duration(r.BestSeconds * float64(time.Second))}})
		}
		return samples, nil
	}}
}

// failedRunner stands for an implementation that cannot run here (a
// missing interpreter): its row says why.
func failedRunner(j *job, impl string, k kind, err error) *runner {
	return &runner{job: j, impl: impl, kind: k, run: func(context.Context) ([]sample, error) { return nil, err }}
}
