// Command bench runs lakestream's whole-invocation benchmarks (`make
// bench`): each standard case of shared/benchdata (a function on a
// standard batch, request bytes in and response bytes out) in-process,
// through BenchmarkInvoke in the function's test binary, and through the
// local Runtime API against the real bootstrap (start-up, transport and
// all, as Lambda runs it), there splitting each invocation's CPU time
// between the function's process and this one (which serves the Runtime
// API on the same core) and reading the function's peak resident memory;
// then every function's init (process start to its first GET /next,
// median of 15) beside a minimal aws-lambda-go function's, and the size
// of each linux/arm64 bootstrap.
//
// With -ref (`make bench-compare BENCH_REF=<dir>`) it also runs, on the
// very same batches, the reference implementations in that folder: the
// AWS blueprints' steps in Python and Node.js and the Go floor (base64 +
// gunzip + base64 only). Every implementation runs in turn, A, B, A, B,
// for -rounds rounds, on one core (taskset, when there is one), and the
// report gives best and median per batch, throughput, the ratios, the
// issue's targets and a Lambda cost model, as Markdown on stdout and in
// <out>/results.md.
//
// Where a function puts records into Firehose on a batch (re-ingesting
// what does not fit the response, delivering), through the Runtime API
// it puts them into a stand-in for Firehose: shared/moto/sink, a Go
// endpoint that accepts every record, served by this command re-run as
// `bench serve-sink` in a process held to the other cores, since real
// Firehose's processing is not on the function's CPU (real Firehose adds
// network latency to the wall time). Every run checks that the records
// put, with the response, make the batch's whole work. In-process the
// function hands them to a Firehose that accepts everything, without a
// call.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"lakestream/shared/benchdata"
	"lakestream/shared/lambdarun"
	"lakestream/shared/moto/sink"
)

// options are the command's flags.
type options struct {
	rounds, runs, initRounds, cpu  int
	ref, cases, arm64, out, readme string
	python, node                   string
	apiOffCore                     bool
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == sinkCommand {
		if err := serveSink(); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.IntVar(&o.rounds, "rounds", 5, "rounds: each implementation runs once per round, in turn")
	flag.IntVar(&o.runs, "runs", 5, "lakestream's invocations per round (after a first one), of which the best counts")
	flag.IntVar(&o.initRounds, "init-rounds", 15, "starts per function for the init figure (0 skips start-up)")
	flag.IntVar(&o.cpu, "cpu", 1, "the core to run on (taskset -c), -1 for any")
	flag.StringVar(&o.ref, "ref", "", "folder of the reference implementations (cwl_python_baseline.py, floor/, ...) to run beside lakestream")
	flag.StringVar(&o.cases, "cases", "", "regular expression choosing the cases by name (default all)")
	flag.StringVar(&o.arm64, "arm64", ".build/arm64", "where make build wrote the linux/arm64 bootstraps, <dir>/<function>/bootstrap")
	flag.StringVar(&o.out, "out", ".build/bench", "folder for the batches, the test binaries and results.md")
	flag.StringVar(&o.readme, "readme", "", "also put the report into this Markdown file, between its "+beginMarker+" and "+endMarker+" lines")
	flag.StringVar(&o.python, "python", "python3", "Python interpreter for the references")
	flag.StringVar(&o.node, "node", "node", "Node.js for the reference")
	flag.BoolVar(&o.apiOffCore, "runtime-api-off-core", false, "serve the local Runtime API from the other cores, as Lambda's own process serves it, and start only what is measured on -cpu (default: this command, its Runtime API server included, shares -cpu with the function)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run measures and reports.
func run(ctx context.Context, o options, stdout, progress io.Writer) error {
	root, err := lambdarun.RepoRoot(".")
	if err != nil {
		return err
	}
	// Paths are the caller's, relative to where it runs.
	for _, p := range []*string{&o.out, &o.ref, &o.arm64, &o.readme} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return err
			}
		}
	}
	if err := os.Chdir(root); err != nil { // lambdarun finds the template and the build cache from here
		return err
	}
	out := o.out
	place := placement{cpu: min(o.cpu, runtime.NumCPU()-1), apart: o.apiOffCore}
	cases, err := chooseCases(o.cases)
	if err != nil {
		return err
	}
	tmpl, err := lambdarun.LoadRepoTemplate()
	if err != nil {
		return err
	}

	fmt.Fprintln(progress, "writing the batches, building the test binaries and bootstraps")
	jobs, err := writeBatches(cases, filepath.Join(out, "batches"))
	if err != nil {
		return err
	}
	functions := caseFunctions(cases)
	testBins, err := buildTestBinaries(ctx, root, functions, filepath.Join(out, "bin"))
	if err != nil {
		return err
	}
	all, err := allFunctions(root)
	if err != nil {
		return err
	}
	if _, err := lambdarun.CachedAll(ctx, root, all...); err != nil {
		return err
	}
	minimalBin, err := lambdarun.CachedMain(ctx, root, minimalDir)
	if err != nil {
		return err
	}

	// The sink starts before the pinning, and is then held to the other
	// cores: it stands in for Firehose, whose work is not on the
	// function's core.
	var sk *sinkProcess
	awsEnv := map[string]string{}
	if needsAWS(cases) {
		if sk, err = startSink(ctx); err != nil {
			return err
		}
		defer sk.stop()
		awsEnv = sink.Env(sk.URL)
	}

	var runners []*runner
	for _, c := range cases {
		j := jobs[c.Batch]
		runners = append(runners, inProcessRunner(j, c, testBins[c.Function], filepath.Join(root, "functions", c.Function), o.runs, place))
		request, err := c.Request()
		if err != nil {
			return err
		}
		var put func(context.Context) ([][]byte, error)
		env := map[string]string{}
		if c.AWS {
			env, put = awsEnv, sk.take
		}
		runners = append(runners, runtimeRunner(j, c, request, env, put, o.runs, place))
	}
	if o.ref != "" {
		refs, err := referenceRunners(ctx, o, root, jobs, filepath.Join(out, "batches"), filepath.Join(out, "bin"), place)
		if err != nil {
			return err
		}
		runners = append(runners, refs...)
	}

	pinned := place.hold()
	fmt.Fprintln(progress, pinned)
	var sinkCores string
	if sk != nil {
		sinkCores = sk.pinAway(o.cpu)
		fmt.Fprintln(progress, "the sink standing in for Firehose runs", sinkCores)
	}
	for round := range o.rounds {
		for _, r := range runners {
			if r.failed {
				continue
			}
			if err := r.take(ctx); err != nil {
				fmt.Fprintf(progress, "%s failed: %v\n", r.impl, err)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		fmt.Fprintf(progress, "round %d/%d\n", round+1, o.rounds)
	}

	rep := &report{Machine: machine(), Pinned: pinned, APIOffCore: place.apart && place.cpu >= 0, SinkCores: sinkCores, Rounds: o.rounds, Runs: o.runs, Cases: cases, InitRounds: o.initRounds}
	for _, b := range benchdata.Batches {
		if j, ok := jobs[b]; ok {
			rep.Jobs = append(rep.Jobs, j)
		}
	}
	if o.initRounds > 0 {
		for _, fn := range all {
			rep.Starts = append(rep.Starts, &startup{Function: fn, CallsAWS: tmpl.CallsAWS(lambdarun.LogicalID(fn))})
		}
		rep.Starts = append(rep.Starts, &startup{Function: minimalName})
		measureInits(ctx, rep.Starts, minimalBin, o.initRounds, place, progress)
		measureSizes(ctx, root, rep.Starts, o.arm64, out)
	}
	rep.Costs, rep.CostNote = costs(rep)

	f, err := os.Create(filepath.Join(out, "results.md"))
	if err != nil {
		return err
	}
	defer f.Close()
	var md bytes.Buffer
	rep.markdown(io.MultiWriter(stdout, f, &md))
	if err := f.Close(); err != nil {
		return err
	}
	if o.readme != "" {
		return replaceInFile(o.readme, md.Bytes())
	}
	return nil
}

// The lines that delimit the report in a Markdown file (-readme).
const (
	beginMarker = "<!-- bench:begin -->"
	endMarker   = "<!-- bench:end -->"
)

// replaceInFile puts report between the markers of the file at path.
func replaceInFile(path string, report []byte) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := replaceBetween(doc, report)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}

// replaceBetween replaces what lies between the begin and end marker
// lines of doc with report.
func replaceBetween(doc, report []byte) ([]byte, error) {
	begin := bytes.Index(doc, []byte(beginMarker+"\n"))
	end := bytes.Index(doc, []byte(endMarker))
	if begin < 0 || end < begin {
		return nil, fmt.Errorf("no %s line followed by a %s line", beginMarker, endMarker)
	}
	begin += len(beginMarker) + 1
	out := append([]byte{}, doc[:begin]...)
	out = append(out, report...)
	if !bytes.HasSuffix(report, []byte("\n")) {
		out = append(out, '\n')
	}
	return append(out, doc[end:]...), nil
}

// chooseCases returns the standard cases whose names match pattern.
func chooseCases(pattern string) ([]benchdata.Case, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("-cases: %w", err)
	}
	var out []benchdata.Case
	for _, c := range benchdata.Cases {
		if re.MatchString(c.Name) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no case matches %q", pattern)
	}
	return out, nil
}

// writeBatches writes every standard batch (the reference generator's
// files and lakestream's own) as <dir>/<name>.json, for the references
// and for anyone to invoke with, and returns a job for each batch the
// cases run.
func writeBatches(cases []benchdata.Case, dir string) (map[string]*job, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, name := range benchdata.Batches {
		b, err := benchdata.Batch(name)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644); err != nil {
			return nil, err
		}
	}
	jobs := map[string]*job{}
	for _, c := range cases {
		if jobs[c.Batch] != nil {
			continue
		}
		request, err := c.Request()
		if err != nil {
			return nil, err
		}
		total, err := c.Total(request)
		if err != nil {
			return nil, err
		}
		records, err := countRecords(request)
		if err != nil {
			return nil, err
		}
		jobs[c.Batch] = &job{Batch: c.Batch, Unit: c.Unit, Total: total, Records: records, Size: len(request)}
	}
	return jobs, nil
}

// countRecords counts a request's records (Firehose "records" or stream
// "Records").
func countRecords(request []byte) (int, error) {
	var ev struct {
		Lower []struct{} `json:"records"`
		Upper []struct{} `json:"Records"`
	}
	if err := json.Unmarshal(request, &ev); err != nil {
		return 0, fmt.Errorf("count records: %w", err)
	}
	return len(ev.Lower) + len(ev.Upper), nil
}

func caseFunctions(cases []benchdata.Case) []string {
	var fns []string
	seen := map[string]bool{}
	for _, c := range cases {
		if !seen[c.Function] {
			seen[c.Function] = true
			fns = append(fns, c.Function)
		}
	}
	return fns
}

func needsAWS(cases []benchdata.Case) bool {
	for _, c := range cases {
		if c.AWS {
			return true
		}
	}
	return false
}

// allFunctions lists the folders under functions/.
func allFunctions(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, err
	}
	var fns []string
	for _, e := range entries {
		if e.IsDir() {
			fns = append(fns, e.Name())
		}
	}
	return fns, nil
}

// buildTestBinaries builds the functions' test binaries (go test -c, one
// go command for all) into dir, as <function>.test.
func buildTestBinaries(ctx context.Context, root string, functions []string, dir string) (map[string]string, error) {
	args := []string{"test", "-c", "-o", dir + string(filepath.Separator)}
	bins := map[string]string{}
	for _, fn := range functions {
		args = append(args, "./functions/"+fn)
		bins[fn] = filepath.Join(dir, fn+".test")
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go test -c: %w\n%s", err, out)
	}
	return bins, nil
}

// referenceRunners runs the reference implementations in o.ref on the
// batches they read, and lakestream's own syslog reference (reference/,
// in the repository at root, as BENCH_REF has none for syslog): the floor
// is built once into binDir; an interpreter that is missing makes its rows
// say so.
func referenceRunners(ctx context.Context, o options, root string, jobs map[string]*job, batchDir, binDir string, place placement) ([]*runner, error) {
	ref := o.ref
	if _, err := os.Stat(filepath.Join(ref, "cwl_python_baseline.py")); err != nil {
		return nil, fmt.Errorf("-ref %s is not the reference folder: %w", o.ref, err)
	}
	runs := strconv.Itoa(5)
	file := func(batch string) string { return filepath.Join(batchDir, batch+".json") }
	pythonErr := lookPath(o.python)
	boto3Err := pythonErr
	if pythonErr == nil {
		if out, err := exec.CommandContext(ctx, o.python, "-c", "import boto3").CombinedOutput(); err != nil {
			boto3Err = fmt.Errorf("boto3 is not installed for %s: %s", o.python, strings.TrimSpace(string(out)))
		}
	}
	nodeErr := lookPath(o.node)
	floorBin := filepath.Join(binDir, "floor")
	build := exec.CommandContext(ctx, "go", "build", "-o", floorBin, ".")
	build.Dir = filepath.Join(ref, "floor")
	var floorErr error
	if out, err := build.CombinedOutput(); err != nil {
		floorErr = fmt.Errorf("build the floor: %w: %s", err, firstLine(errors.New(string(out))))
	}

	var runners []*runner
	add := func(j *job, impl string, k kind, err error, argv ...string) {
		if err != nil {
			runners = append(runners, failedRunner(j, impl, k, err))
			return
		}
		runners = append(runners, refRunner(j, impl, k, ref, place, argv...))
	}
	for _, batch := range benchdata.Batches {
		j := jobs[batch]
		if j == nil {
			continue
		}
		switch batch {
		case benchdata.CWLogs1MB, benchdata.CWLogs6MB:
			add(j, refNames["python-blueprint-steps"].name, python, pythonErr, o.python, "cwl_python_baseline.py", file(batch), runs)
			add(j, refNames["node-blueprint-steps"].name, node, nodeErr, o.node, "cwl_node_baseline.js", file(batch), runs)
			add(j, refNames["floor-klauspost"].name, floorKlauspost, floorErr, floorBin, file(batch))
		case benchdata.AccessLog1MB:
			add(j, refNames["python-apachelog-blueprint-approach"].name, python, pythonErr, o.python, "accesslog_python_baseline.py", file(batch))
		case benchdata.Syslog1MB:
			add(j, refNames["python-syslog-blueprint-approach"].name, python, pythonErr, o.python, filepath.Join(root, "shared/cmd/bench/reference/syslog_python_approach.py"), file(batch))
		case benchdata.DynamoDB1000:
			add(j, refNames["python-boto3-TypeDeserializer"].name, python, boto3Err, o.python, "ddb_python_baseline.py", file(batch))
		}
	}
	return runners, nil
}

func lookPath(name string) error {
	if _, err := exec.LookPath(name); err != nil {
		return fmt.Errorf("%s is not installed", name)
	}
	return nil
}

// machine describes the CPU, the OS and the architecture.
func machine() string {
	model := "an unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s (%s/%s, %d cores)", model, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
}

// costs is the cost model of the CloudWatch Logs job from the cwlogs-1mb
// lines case: lakestream through the Runtime API (in-process when that
// was not measured) and the Python blueprint's steps, when measured.
func costs(r *report) ([]cost, string) {
	c := r.caseNamed("cwlogs-1mb-lines")
	if c == nil {
		return nil, "the cwlogs-1mb-lines case did not run"
	}
	j, s := r.lakestream(*c, lakestreamRuntime)
	how := "Runtime API"
	if s == nil {
		j, s = r.lakestream(*c, lakestreamInProcess)
		how = "in-process"
	}
	if s == nil {
		return nil, "cwlogs-1mb-lines was not measured"
	}
	request, err := c.Request()
	if err != nil {
		return nil, err.Error()
	}
	events, err := countEvents(request)
	if err != nil {
		return nil, err.Error()
	}
	// Per batch of the whole work: a run that re-ingested part of the
	// batch is scaled to all of it.
	perBatch := func(s *series) cost {
		scale := float64(j.Total) / float64(s.work(j.Total))
		return cost{CoreTime: scaleDuration(s.median(), scale), MessageBytes: j.Total, Events: events}
	}
	lk := perBatch(s)
	lk.Impl = "lakestream (" + how + ")"
	out := []cost{lk}
	if py := j.python(); py != nil {
		p := perBatch(py)
		p.Impl = py.Impl
		out = append(out, p)
	}
	return out, ""
}
