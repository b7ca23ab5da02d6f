package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"lakestream/shared/benchdata"
)

// smallestMemoryMB is Lambda's smallest memory size, which issue 11 asks
// a full 6 MB batch to run within.
const smallestMemoryMB = 128

// report is everything one run measured.
type report struct {
	Machine    string // CPU model, OS and architecture
	Pinned     string // how the run was held to one core
	APIOffCore bool   // the Runtime API was served from other cores (-runtime-api-off-core)
	SinkCores  string // where the stand-in for Firehose ran (see sinkProcess), if it did
	Rounds     int
	Runs       int // lakestream's invocations per round
	Jobs       []*job
	Cases      []benchdata.Case
	Starts     []*startup
	InitRounds int
	Costs      []cost // the CloudWatch Logs cost model, lakestream first
	CostNote   string // why there is no cost model, when there is none
}

// jobOf returns the job of a batch.
func (r *report) jobOf(batch string) *job {
	for _, j := range r.Jobs {
		if j.Batch == batch {
			return j
		}
	}
	return nil
}

// lakestream returns a case's series of a kind, or nil.
func (r *report) lakestream(c benchdata.Case, k kind) (*job, *series) {
	j := r.jobOf(c.Batch)
	if j == nil {
		return nil, nil
	}
	for _, s := range j.Series {
		if s.Case == c.Name && s.Kind == k && s.Err == nil && len(s.Figures) > 0 {
			return j, s
		}
	}
	return j, nil
}

// markdown writes the report as Markdown: the ratios first, then every
// figure per batch, start-up and sizes, the targets and the cost
// model.
func (r *report) markdown(w io.Writer) {
	fmt.Fprintf(w, "Measured on %s, %s, %d rounds interleaved (A, B, A, B, …). A round's figure is an implementation's best of its own repetitions (lakestream: %d invocations after a first one; the Python and Node.js references: 5; the Go floor: 7); the tables give the best and the median of the rounds. Ratios compare work per second at the median.\n\n",
		r.Machine, r.Pinned, r.Rounds, r.Runs)

	fmt.Fprintln(w, "**Ratios.** × Python: how many times faster than the reference in Python on the same batch. ÷ floor: lakestream's time over the floor's (base64 + gunzip + base64, the faster of its two gzip packages) for the same work.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| case | × Python, Runtime API | × Python, in-process | ÷ floor, Runtime API | ÷ floor, in-process | median ms, Runtime API | median ms, in-process | throughput, Runtime API |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, c := range r.Cases {
		j, rt := r.lakestream(c, lakestreamRuntime)
		_, ip := r.lakestream(c, lakestreamInProcess)
		if j == nil {
			continue
		}
		py, fl := j.python(), j.floor()
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", c.Name,
			times(j.speedup(rt, py)), times(j.speedup(ip, py)), times(1/j.speedup(rt, fl)), times(1/j.speedup(ip, fl)),
			medianMS(rt), medianMS(ip), rate(j, rt))
	}
	fmt.Fprintln(w)

	for _, j := range r.Jobs {
		fmt.Fprintf(w, "**%s**: %d records, a %.2f MB request; the work: %s.", j.Batch, j.Records, float64(j.Size)/1e6, amount(j.Unit, j.Total))
		if r.putsRecords(j) {
			where := "beside the function"
			if r.SinkCores != "" {
				where = r.SinkCores
			}
			fmt.Fprintf(w, " The function puts records into Firehose on this batch (delivering them, or re-ingesting what its response cannot hold): through the Runtime API into a stand-in for Firehose, a Go endpoint %s that accepts every record (shared/moto/sink), each run checked to have put all the work its response does not hold; real Firehose adds network latency to the wall time, not CPU on the function's core. In-process they go to a Firehose that accepts everything, without a call.", where)
		}
		fmt.Fprint(w, "\n\n")
		fmt.Fprintf(w, "| implementation | best ms | median ms | %s/s | init + first invocation, median ms |\n", unitName(j.Unit))
		fmt.Fprintln(w, "|---|---|---|---|---|")
		for _, s := range j.Series {
			if s.Err != nil || len(s.Figures) == 0 {
				fmt.Fprintf(w, "| %s | not measured: %s | | | |\n", s.Impl, firstLine(s.Err))
				continue
			}
			cold := ""
			if s.Kind == lakestreamRuntime {
				cold = fmt.Sprintf("%s + %s", ms(median(s.Init)), ms(median(s.First)))
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", s.Impl, ms(s.best()), ms(s.median()), perSecond(j.Unit, s.rate(j.Total)), cold)
		}
		fmt.Fprintln(w)
	}

	r.useTable(w)
	if len(r.Starts) > 0 {
		r.startupTable(w)
	}
	r.targetList(w)
	r.costTable(w)
}

// useTable splits the Runtime API figures into the CPU time of the
// function and of the runner, both on the one core, and gives the
// function's peak memory.
func (r *report) useTable(w io.Writer) {
	type row struct {
		c benchdata.Case
		s *series
	}
	var rows []row
	for _, c := range r.Cases {
		if _, s := r.lakestream(c, lakestreamRuntime); s != nil && len(s.Use) > 0 {
			rows = append(rows, row{c, s})
		}
	}
	if len(rows) == 0 {
		return
	}
	where := "on the same core"
	if r.APIOffCore {
		where = "on the other cores, apart from the function (-runtime-api-off-core)"
	}
	fmt.Fprintf(w, "**Through the Runtime API, per invocation**: the CPU time of the timed invocations (their mean, the median of the rounds) of the function's process — handler, the Runtime API client (shared/runtimeapi) reading the event and posting the response, garbage collector — and of the runner (this command: the local Runtime API server writing the event and reading the response, %s; in Lambda its own process serves the Runtime API); and the function's peak resident memory (VmHWM) over a round, the most of the rounds, with the memory size it ran with (its template MemorySize, which Lambda gives it as AWS_LAMBDA_FUNCTION_MEMORY_SIZE and from which shared/boot sets the Go memory limit, three quarters of it). In-process is the handler alone, with a Firehose that takes records without a call.\n\n", where)
	fmt.Fprintln(w, "| case | median ms, Runtime API | function CPU ms | runner CPU ms | median ms, in-process | peak RSS MiB | memory size MB |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, x := range rows {
		_, ip := r.lakestream(x.c, lakestreamInProcess)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.1f | %s |\n", x.c.Name, medianMS(x.s), ms(median(x.s.functionCPU())), ms(median(x.s.runnerCPU())), medianMS(ip), float64(x.s.peakRSS())/(1<<20), memorySize(x.s))
	}
	fmt.Fprintln(w)
}

// memorySize is the memory size a series ran with, for a table.
func memorySize(s *series) string {
	if s.memoryMB() == 0 {
		return "not known"
	}
	return strconv.Itoa(s.memoryMB())
}

// putsRecords reports whether a case run on j's batch puts records into
// streams (benchdata.Case.AWS).
func (r *report) putsRecords(j *job) bool {
	for _, c := range r.Cases {
		if c.Batch == j.Batch && c.AWS {
			return true
		}
	}
	return false
}

// minimal is the minimal function's start-up, or nil.
func (r *report) minimal() *startup {
	for _, s := range r.Starts {
		if s.Function == minimalName && s.Err == nil && len(s.Inits) > 0 {
			return s
		}
	}
	return nil
}

func (r *report) startupTable(w io.Writer) {
	fmt.Fprintf(w, "**Start-up**: init is the time from the process's start to its first request for an event (GET /next) on the local Runtime API, median of %d starts, interleaved; the size is the linux/arm64 bootstrap `make build` writes.\n\n", r.InitRounds)
	fmt.Fprintln(w, "| function | calls AWS | init, median ms | × minimal | arm64 bootstrap MB |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	m := r.minimal()
	for _, s := range r.Starts {
		init, ratio := "failed: "+firstLine(s.Err), ""
		if s.Err == nil && len(s.Inits) > 0 {
			init = ms(median(s.Inits))
			if m != nil && s != m {
				ratio = times(median(s.Inits).Seconds() / median(m.Inits).Seconds())
			}
		}
		size := firstLine(s.SizeErr)
		if s.SizeErr == nil {
			size = fmt.Sprintf("%.1f", float64(s.Size)/1e6)
		}
		aws := "no"
		if s.CallsAWS {
			aws = "yes"
		}
		if s.Function == minimalName {
			aws = ""
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", s.Function, aws, init, ratio, size)
	}
	fmt.Fprintln(w)
}

// check is one of the targets, measured.
type check struct {
	What     string
	Measured string // "" when it could not be measured
	OK       bool
}

// targets checks the targets of issue 11 against what was measured:
// through the Runtime API unless said otherwise.
func (r *report) targets() []check {
	var out []check
	ratio := func(what, caseName string, k kind, ref func(*job) *series, min float64, inverse bool) {
		c := r.caseNamed(caseName)
		if c == nil {
			return
		}
		j, s := r.lakestream(*c, k)
		var v float64 = math.NaN()
		if j != nil {
			v = j.speedup(s, ref(j))
			if inverse {
				v = 1 / v
			}
		}
		if math.IsNaN(v) {
			out = append(out, check{What: what})
			return
		}
		ok := v >= min
		if inverse {
			ok = v <= min
		}
		out = append(out, check{What: what, Measured: times(v), OK: ok})
	}
	throughput := func(what, caseName string, mbps float64) {
		c := r.caseNamed(caseName)
		if c == nil {
			return
		}
		j, s := r.lakestream(*c, lakestreamRuntime)
		if s == nil {
			out = append(out, check{What: what})
			return
		}
		v := s.rate(j.Total) / 1e6
		out = append(out, check{What: what, Measured: fmt.Sprintf("%.0f MB/s", v), OK: v >= mbps})
	}
	ratio("cwlogs-1mb-lines ≤ 1.5 × the floor's time", "cwlogs-1mb-lines", lakestreamRuntime, (*job).floor, 1.5, true)
	ratio("cwlogs-1mb-lines ≥ 1.5 × faster than Python", "cwlogs-1mb-lines", lakestreamRuntime, (*job).python, 1.5, false)
	for _, c := range r.Cases {
		if c.Batch != benchdata.CWLogs6MB {
			continue
		}
		what := fmt.Sprintf("%s (a full 6 MB batch) runs within %d MB", c.Name, smallestMemoryMB)
		if _, s := r.lakestream(c, lakestreamRuntime); s != nil && len(s.Use) > 0 {
			// Run with a larger memory size (as deployed), the Go memory
			// limit is higher and the collector no keener: a peak within
			// 128 MB there is within it at 128 MB too.
			peak := s.peakRSS()
			out = append(out, check{What: what, Measured: fmt.Sprintf("peak RSS %.1f MiB, run at %s MB", float64(peak)/(1<<20), memorySize(s)),
				OK: peak <= smallestMemoryMB<<20 && s.memoryMB() >= smallestMemoryMB})
		} else {
			out = append(out, check{What: what})
		}
	}
	ratio("accesslog-1mb ≥ 10 × faster than Python", "accesslog-1mb", lakestreamRuntime, (*job).python, 10, false)
	throughput("cloudfront-1mb ≥ 100 MB/s of log in", "cloudfront-1mb", 100)
	ratio("syslog-1mb ≥ 10 × faster than Python (lakestream's reference: the syslog blueprint's approach)", "syslog-1mb", lakestreamRuntime, (*job).python, 10, false)
	throughput("syslog-1mb ≥ 100 MB/s of log in", "syslog-1mb", 100)
	throughput("json-1mb ≥ 150 MB/s of log in", "json-1mb", 150)
	ratio("ddb-1000 ≥ 5 × faster than boto3 (Runtime API, Firehose: a Go endpoint on another core accepting every record)", "ddb-1000", lakestreamRuntime, (*job).python, 5, false)
	ratio("ddb-1000 ≥ 5 × faster than boto3 (in-process, Firehose accepting everything, without a call)", "ddb-1000", lakestreamInProcess, (*job).python, 5, false)
	if m := r.minimal(); m != nil {
		for _, s := range r.Starts {
			if s == m || s.CallsAWS {
				continue
			}
			what := s.Function + " init ≤ 1.5 × the minimal function's"
			if s.Err != nil || len(s.Inits) == 0 {
				out = append(out, check{What: what})
				continue
			}
			v := median(s.Inits).Seconds() / median(m.Inits).Seconds()
			out = append(out, check{What: what, Measured: times(v), OK: v <= 1.5})
		}
	}
	for _, s := range r.Starts {
		if s.Function == minimalName {
			continue
		}
		what := s.Function + " arm64 bootstrap ≤ 20 MB"
		if s.SizeErr != nil {
			out = append(out, check{What: what})
			continue
		}
		out = append(out, check{What: what, Measured: fmt.Sprintf("%.1f MB", float64(s.Size)/1e6), OK: s.Size <= 20e6})
	}
	return out
}

func (r *report) caseNamed(name string) *benchdata.Case {
	for i := range r.Cases {
		if r.Cases[i].Name == name {
			return &r.Cases[i]
		}
	}
	return nil
}

func (r *report) targetList(w io.Writer) {
	checks := r.targets()
	if len(checks) == 0 {
		return
	}
	fmt.Fprintln(w, "**Targets** (issue 11; through the Runtime API unless said):")
	fmt.Fprintln(w)
	for _, c := range checks {
		switch {
		case c.Measured == "":
			fmt.Fprintf(w, "- [ ] %s: not measured\n", c.What)
		case c.OK:
			fmt.Fprintf(w, "- [x] %s: %s\n", c.What, c.Measured)
		default:
			fmt.Fprintf(w, "- [ ] %s: %s, missed\n", c.What, c.Measured)
		}
	}
	fmt.Fprintln(w)
}

func (r *report) costTable(w io.Writer) {
	if len(r.Costs) == 0 {
		if r.CostNote != "" {
			fmt.Fprintf(w, "**Cost model**: not computed: %s.\n", r.CostNote)
		}
		return
	}
	c0 := r.Costs[0]
	fmt.Fprintf(w, "**Cost model**: CloudWatch Logs through the cwlogs-1mb batch (%s events, %.2f MB of messages, OUTPUT_FORMAT=lines) at %d MB on arm64: a core's time stretched by %d/%d (the share of a vCPU %d MB gets), billed per 1 ms, $%.10f per GB-second and $%.2f per million requests; %s events a day.\n\n",
		groupDigits(float64(c0.Events)), float64(c0.MessageBytes)/1e6, memoryMB, fullCoreMB, memoryMB, memoryMB, pricePerGBSecond, pricePerRequest*1e6, groupDigits(eventsPerDay))
	fmt.Fprintln(w, "| implementation | ms per batch, one core | billed ms at 128 MB | GB-s per TB | $ per TB | invocations a day | GB-s a day | $ a day | $ a month (30 days) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, c := range r.Costs {
		fmt.Fprintf(w, "| %s | %s | %.0f | %s | %.2f | %s | %s | %.2f | %.0f |\n", c.Impl, ms(c.CoreTime), c.billedMS(),
			groupDigits(c.gbSeconds()*c.perTB()), c.dollars(c.perTB()), groupDigits(c.perDay()), groupDigits(c.gbSeconds()*c.perDay()),
			c.dollars(c.perDay()), 30*c.dollars(c.perDay()))
	}
	fmt.Fprintln(w)
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string {
	v := d.Seconds() * 1000
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func medianMS(s *series) string {
	if s == nil {
		return "–"
	}
	return ms(s.median())
}

// times formats a ratio; NaN (not measured) is a dash.
func times(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", v)
}

func rate(j *job, s *series) string {
	if s == nil {
		return "–"
	}
	return perSecond(j.Unit, s.rate(j.Total)) + " " + unitName(j.Unit) + "/s"
}

// perSecond formats a work rate: MB/s, or records/s.
func perSecond(u benchdata.Unit, v float64) string {
	if u == benchdata.Records {
		return groupDigits(v)
	}
	return fmt.Sprintf("%.1f", v/1e6)
}

// unitName is the unit of perSecond's figure.
func unitName(u benchdata.Unit) string { return u.String() }

// amount formats a quantity of work.
func amount(u benchdata.Unit, n int64) string {
	if u == benchdata.Records {
		return fmt.Sprintf("%d records", n)
	}
	return fmt.Sprintf("%.2f %s", float64(n)/1e6, u)
}

// groupDigits formats a number rounded to a whole one, thousands
// separated by commas.
func groupDigits(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// firstLine is an error's first line, for a table cell.
func firstLine(err error) string {
	if err == nil {
		return "no figure"
	}
	line, _, _ := strings.Cut(err.Error(), "\n")
	return strings.ReplaceAll(line, "|", "/")
}
