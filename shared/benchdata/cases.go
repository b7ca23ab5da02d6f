// Package benchdata is what lakestream's whole-invocation benchmarks
// share: the standard batches (built here, deterministically, in the shape
// and layout of the reference generator gen_batches.py, so that the
// reference implementations of the AWS blueprints can read the very bytes
// lakestream reads), the cases that run them through the functions (which
// batch, which settings, what the work done is counted in), and
// BenchmarkFunction, the Go benchmark each function's bench_invoke_test.go
// runs in-process.
// shared/cmd/bench runs the same cases through the Runtime API against the
// real binaries and beside the references. Only tests and that command
// import it.
package benchdata

import (
	"fmt"
	"maps"

	"lakestream/shared/lambdarun"
)

// Unit is what a case's work is counted in, the same for lakestream and
// the reference implementation of the same job.
type Unit int

const (
	// MessageBytes counts the log messages delivered: each CloudWatch Logs
	// event's message and its newline, for every record answered Ok (what
	// the blueprint writes out; a record re-ingested is not done yet).
	MessageBytes Unit = iota
	// InputBytes counts the log lines read: the data of every record
	// answered Ok or Dropped (filtered).
	InputBytes
	// Records counts the stream records forwarded.
	Records
)

// String names the unit in a table.
func (u Unit) String() string {
	switch u {
	case MessageBytes:
		return "MB of messages out"
	case InputBytes:
		return "MB of log in"
	case Records:
		return "records"
	}
	return fmt.Sprintf("Unit(%d)", int(u))
}

// Case is one whole-invocation benchmark: a function run on a standard
// batch with its deployed settings and a few overrides.
type Case struct {
	// Name names the case: the sub-benchmark of BenchmarkInvoke and the
	// row of the tables, such as cwlogs-1mb-lines.
	Name string
	// Function is the folder under functions/.
	Function string
	// Batch is the batch's name (see Batches).
	Batch string
	// Env is set over the function's template.yaml environment.
	Env map[string]string
	// Unit is what the work is counted in.
	Unit Unit
	// AWS says the function may call AWS on this batch (re-ingesting what
	// does not fit the response, delivering to Firehose): through the
	// Runtime API it then needs an endpoint that takes its records
	// (shared/cmd/bench gives it shared/moto/sink), and what it put
	// counts in its work (see Delivered).
	AWS bool
}

// Cases are the standard cases, in the order the tables list them.
var Cases = []Case{
	{Name: "cwlogs-1mb-lines", Function: "cwlogs-decompressor", Batch: CWLogs1MB, Env: map[string]string{"OUTPUT_FORMAT": "lines"}, Unit: MessageBytes, AWS: true},
	{Name: "cwlogs-1mb-json", Function: "cwlogs-decompressor", Batch: CWLogs1MB, Env: map[string]string{"OUTPUT_FORMAT": "json"}, Unit: MessageBytes, AWS: true},
	{Name: "cwlogs-6mb-lines", Function: "cwlogs-decompressor", Batch: CWLogs6MB, Env: map[string]string{"OUTPUT_FORMAT": "lines"}, Unit: MessageBytes, AWS: true},
	{Name: "cwlogs-6mb-json", Function: "cwlogs-decompressor", Batch: CWLogs6MB, Env: map[string]string{"OUTPUT_FORMAT": "json"}, Unit: MessageBytes, AWS: true},
	{Name: "accesslog-1mb", Function: "firehose-accesslog", Batch: AccessLog1MB, Unit: InputBytes},
	{Name: "cloudfront-1mb", Function: "firehose-cloudfront", Batch: CloudFront1MB, Unit: InputBytes},
	{Name: "syslog-1mb", Function: "firehose-syslog", Batch: Syslog1MB, Unit: InputBytes},
	{Name: "json-1mb", Function: "firehose-json", Batch: JSON1MB, Unit: InputBytes},
	{Name: "ddb-1000", Function: "ddb-stream-forwarder", Batch: DynamoDB1000, Unit: Records, AWS: true},
}

// For returns the cases of one function.
func For(function string) []Case {
	var out []Case
	for _, c := range Cases {
		if c.Function == function {
			out = append(out, c)
		}
	}
	return out
}

// Request returns the case's batch: the request the function is invoked
// with.
func (c Case) Request() ([]byte, error) { return Batch(c.Batch) }

// Environment returns the function's environment for the case: its
// variables in the template.yaml of the repository holding the working
// directory (parameter defaults resolved, as deployed), then c.Env.
func (c Case) Environment() (map[string]string, error) {
	tmpl, err := lambdarun.LoadRepoTemplate()
	if err != nil {
		return nil, fmt.Errorf("benchdata: %s: %w", c.Name, err)
	}
	env, err := tmpl.Environment(lambdarun.LogicalID(c.Function))
	if err != nil {
		return nil, fmt.Errorf("benchdata: %s: %w", c.Name, err)
	}
	maps.Copy(env, c.Env)
	return env, nil
}
