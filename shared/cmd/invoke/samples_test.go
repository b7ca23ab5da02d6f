package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
	"lakestream/shared/moto/lake"
)

func TestMain(m *testing.M) { moto.Main(m) }

// expectation is what a sample event is meant to show when invoked out of
// the box: the function's error (or none), its Firehose results or batch
// item failures, and what it changed in the lake (lake.Change summaries,
// in Diff's order). Keep it in step with the functions here, in one place.
type expectation struct {
	shows    string
	err      string // a substring of the function's error; "" for none
	firehose string // "Ok n, Dropped n, ProcessingFailed n" for a transformation
	failures *int   // batchItemFailures of a stream or SQS batch
	changes  []string
}

func failures(n int) *int { return &n }

const (
	orders = "updated Glue table lake.orders: history array<struct<at:string,items:set<bigint>>> -> array<struct<at:string,items:array<bigint>>>; " +
		"profile struct<emails:set<string>,address:struct<zip:string>> -> struct<emails:array<string>,address:struct<zip:string>>; tags set<string> -> array<string>"
	hourly13 = "wrote s3://lakestream-lake/events/hourly/dt=2024-05-01/hour=13/lake-events-stream-1-2024-05-01-13-05-09-3f9a2c1e-8b7d-4e6f-a1b2-c3d4e5f6a7b8 (1342 bytes)"
	minute13 = "wrote s3://lakestream-lake/events/minute/2024/05/01/13/05/lake-events-stream-1-2024-05-01-13-05-09-3f9a2c1e-8b7d-4e6f-a1b2-c3d4e5f6a7b8 (1342 bytes)"
	hourly15 = "wrote s3://lakestream-lake/events/hourly/dt=2024-05-01/hour=15/données été #1.json (512 bytes)"
	minute15 = "wrote s3://lakestream-lake/events/minute/2024/05/01/15/00/données été #1.json (512 bytes)"
	parts13  = "created Glue partition lakestream.events_hourly 2024-05-01/13"
	parts15  = "created Glue partition lakestream.events_hourly 2024-05-01/15"
)

// cfForwarded is what forwarding the sample CloudFront log file changes:
// its two failed lines in an error object, nine lines delivered.
var cfForwarded = []string{
	"wrote s3://lakestream-logs/s3-log-forwarder-errors/lakestream-logs/cloudfront/E2EXAMPLE1234.2024-05-01-13.a1b2c3d4.gz.errors-0001.ndjson (815 bytes)",
	"delivered 9 lines through Firehose stream lakestream-logs",
}

var samples = map[string]expectation{
	"cwlogs-decompressor/awslogs.json": {shows: "a log group subscribed to the function itself: its events delivered as JSON lines",
		changes: []string{"delivered 5 lines through Firehose stream lakestream-cwlogs-direct"}},
	"cwlogs-decompressor/control-message.json": {shows: "CloudWatch Logs' CONTROL_MESSAGE is dropped", firehose: "Ok 0, Dropped 1, ProcessingFailed 0"},
	"cwlogs-decompressor/data-message.json":    {shows: "one subscription payload becomes its log events", firehose: "Ok 1, Dropped 0, ProcessingFailed 0"},
	"cwlogs-decompressor/kinesis-source.json":  {shows: "payloads read from a Kinesis source stream", firehose: "Ok 2, Dropped 1, ProcessingFailed 0"},
	"cwlogs-decompressor/mixed.json":           {shows: "broken payloads fail alone, the rest go on", firehose: "Ok 2, Dropped 1, ProcessingFailed 5"},

	"ddb-stream-forwarder/all-types.json":  {shows: "every attribute type as plain JSON", failures: failures(0), changes: []string{"delivered 1 line through Firehose stream ddb-changes"}},
	"ddb-stream-forwarder/insert.json":     {shows: "an INSERT", failures: failures(0), changes: []string{"delivered 1 line through Firehose stream ddb-changes"}},
	"ddb-stream-forwarder/kinesis.json":    {shows: "Kinesis records forwarded as they are", failures: failures(0), changes: []string{"delivered 3 lines through Firehose stream ddb-changes"}},
	"ddb-stream-forwarder/modify.json":     {shows: "a MODIFY with both images", failures: failures(0), changes: []string{"delivered 1 line through Firehose stream ddb-changes"}},
	"ddb-stream-forwarder/remove.json":     {shows: "a REMOVE", failures: failures(0), changes: []string{"delivered 1 line through Firehose stream ddb-changes"}},
	"ddb-stream-forwarder/ttl-delete.json": {shows: "a Time to Live deletion", failures: failures(0), changes: []string{"delivered 1 line through Firehose stream ddb-changes"}},
	"ddb-stream-forwarder/tweets.json":     {shows: "a tweet inserted, liked, deleted (try OUTPUT_SHAPE=item or projection)", failures: failures(0), changes: []string{"delivered 3 lines through Firehose stream ddb-changes"}},

	"firehose-accesslog/combined.json":       {shows: "combined-format lines parsed; health checks dropped, bad lines fail alone", firehose: "Ok 4, Dropped 1, ProcessingFailed 3"},
	"firehose-accesslog/kinesis-source.json": {shows: "records from a Kinesis source stream", firehose: "Ok 3, Dropped 0, ProcessingFailed 0"},
	"firehose-cloudfront/standard-log.json":  {shows: "CloudFront standard log lines; headers dropped", firehose: "Ok 4, Dropped 2, ProcessingFailed 2"},
	"firehose-json/mixed.json":               {shows: "JSON records validated, masked and partitioned", firehose: "Ok 3, Dropped 1, ProcessingFailed 2"},
	"firehose-logs/waf.json":                 {shows: "AWS WAF log lines (FORMAT=waf); lines of another shape fail alone", firehose: "Ok 4, Dropped 0, ProcessingFailed 2"},
	"firehose-syslog/kinesis-source.json":    {shows: "syslog from a Kinesis source stream", firehose: "Ok 3, Dropped 0, ProcessingFailed 0"},
	"firehose-syslog/mixed.json":             {shows: "RFC 5424 and RFC 3164 messages; debug dropped", firehose: "Ok 5, Dropped 1, ProcessingFailed 2"},

	"glue-catalog-fixer/crawler-succeeded.json": {shows: "a crawl sweeps its database: every table fixed", changes: []string{
		"updated Glue table lake.clicks: labels map<string,set<string>> -> map<string,array<string>>", orders}},
	"glue-catalog-fixer/table-created.json": {shows: "a created table's set<> columns become array<>", changes: []string{orders}},
	"glue-catalog-fixer/table-updated.json": {shows: "an updated table is fixed too", changes: []string{orders}},

	"glue-job-trigger/crawler-succeeded.json": {shows: "a crawl starts the job", changes: []string{"started Glue job run of lake-hourly-etl with --crawl-time 2024-05-01T12:05:00Z --crawler lake-crawler"}},
	"glue-job-trigger/object-created.json": {shows: "a new object starts the job with its path", changes: []string{
		"started Glue job run of lake-hourly-etl with --path s3://lake-raw/incoming/orders/dt=2024-05-01/hour=12/orders-1-2024-05-01-12-58-30-6f1c2a4e-9b7d-4c3a-8e21-0d5f6a7b8c9d.parquet"}},
	"glue-job-trigger/scheduled.json": {shows: "the schedule starts the job for the hour that ended", changes: []string{"started Glue job run of lake-hourly-etl with --date 2024-05-01 --hour 12"}},

	"s3-log-forwarder/cloudfront.json":  {shows: "a CloudFront log file, gzipped, line by line into Firehose; failed lines in the error object", changes: cfForwarded},
	"s3-log-forwarder/eventbridge.json": {shows: "the same file through an EventBridge Object Created event", changes: cfForwarded},
	"s3-log-forwarder/sqs.json":         {shows: "an SQS batch: the s3:TestEvent ignored, the file forwarded", failures: failures(0), changes: cfForwarded},

	"s3-redistributor/bad-key.json": {shows: "a key with no time fails the invocation (S3 retries it, then the failure queue); the other object is copied",
		err: "1 of 2 objects failed", changes: []string{hourly13, minute13, parts13, "created Glue partition lakestream.events_minute 2024/05/01/13/05"}},
	"s3-redistributor/eventbridge.json": {shows: "an EventBridge Object Created event", changes: []string{
		"wrote s3://lakestream-lake/events/hourly/dt=2024-05-01/hour=13/lake-events-stream-1-2024-05-01-13-47-51-9b2d7c61-0e4f-4a3b-8c5d-6e7f8a9b0c1d (2310 bytes)",
		"wrote s3://lakestream-lake/events/minute/2024/05/01/13/47/lake-events-stream-1-2024-05-01-13-47-51-9b2d7c61-0e4f-4a3b-8c5d-6e7f8a9b0c1d (2310 bytes)",
		parts13, "created Glue partition lakestream.events_minute 2024/05/01/13/47"}},
	"s3-redistributor/firehose-key.json": {shows: "a Firehose-named object into hour and minute partitions, registered in Glue", changes: []string{
		hourly13, minute13, parts13, "created Glue partition lakestream.events_minute 2024/05/01/13/05"}},
	"s3-redistributor/hive-key.json": {shows: "Hive-style folders give the time", changes: []string{
		"wrote s3://lakestream-lake/events/hourly/dt=2024-05-01/hour=14/part-00000-5d1c.json (2048 bytes)",
		"wrote s3://lakestream-lake/events/minute/2024/05/01/14/00/part-00000-5d1c.json (2048 bytes)",
		"created Glue partition lakestream.events_hourly 2024-05-01/14", "created Glue partition lakestream.events_minute 2024/05/01/14/00"}},
	"s3-redistributor/sns.json": {shows: "an S3 notification through SNS", changes: []string{
		hourly13, minute13, parts13, "created Glue partition lakestream.events_minute 2024/05/01/13/05"}},
	"s3-redistributor/sqs-sns.json": {shows: "an S3 notification through SNS and SQS", failures: failures(0), changes: []string{
		hourly15, minute15, parts15, "created Glue partition lakestream.events_minute 2024/05/01/15/00"}},
	"s3-redistributor/sqs.json": {shows: "an SQS batch: the s3:TestEvent ignored, two notifications copied", failures: failures(0), changes: []string{
		hourly13,
		"wrote s3://lakestream-lake/events/hourly/dt=2024-05-01/hour=14/part-00000-5d1c.json (2048 bytes)",
		minute13,
		"wrote s3://lakestream-lake/events/minute/2024/05/01/14/00/part-00000-5d1c.json (2048 bytes)",
		parts13, "created Glue partition lakestream.events_hourly 2024-05-01/14",
		"created Glue partition lakestream.events_minute 2024/05/01/13/05", "created Glue partition lakestream.events_minute 2024/05/01/14/00"}},
	"s3-redistributor/test-event.json": {shows: "the s3:TestEvent S3 sends when notifications are set up: ignored"},
	"s3-redistributor/url-encoded-key.json": {shows: "a URL-encoded key with spaces and accents", changes: []string{
		hourly15, minute15, parts15, "created Glue partition lakestream.events_minute 2024/05/01/15/00"}},
}

// TestSampleEventsOutOfTheBox invokes every events/<function>/*.json as
// `make invoke` does with no AWS settings (the embedded emulator, the
// template's resources created in it) and checks the outcome each sample
// is meant to show. On the way it proves the X-Ray wiring of every
// AWS-calling function: each request that reaches the emulator carries the
// invocation's trace and the id of a subsegment the runner's daemon
// received, and each subsegment is exactly one request (one per call).
func TestSampleEventsOutOfTheBox(t *testing.T) {
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	paths, err := filepath.Glob(filepath.Join(root, "events", "*", "*.json"))
	require.NoError(t, err)
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p))
	}
	slices.Sort(names)
	want := slices.Sorted(func(yield func(string) bool) {
		for k := range samples {
			if !yield(k) {
				return
			}
		}
	})
	require.Equal(t, want, names, "every sample event has an expectation, and every expectation a sample")

	// Build every function at once (one go command) rather than one by one.
	var fns []string
	for _, n := range names {
		if fn, _, _ := strings.Cut(n, "/"); !slices.Contains(fns, fn) {
			fns = append(fns, fn)
		}
	}
	_, err = lambdarun.CachedAll(t.Context(), root, fns...)
	require.NoError(t, err)

	srv := moto.Shared(t)
	proxy := newCountingProxy(t, srv.Endpoint)
	emulated := testSession(t, srv, proxy.URL)
	tmpl, err := lambdarun.LoadRepoTemplate()
	require.NoError(t, err)
	callers := map[string]int{} // AWS calls seen, by function
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			exp := samples[name]
			fn, _, _ := strings.Cut(name, "/")
			require.NoError(t, srv.Reset())
			inv, err := prepare(t.Context(), request{fn: fn, eventPath: filepath.Join(root, "events", name), templatePath: filepath.Join(root, "template.yaml")})
			require.NoError(t, err)
			proxy.reset()
			s := emulated
			if !tmpl.CallsAWS(lambdarun.LogicalID(fn)) {
				s = &session{close: func() {}} // as openSession: no emulator for a pure transformation
			}
			out, err := s.invoke(t.Context(), inv)
			require.NoError(t, err)
			logs := string(out.logs)

			if exp.err == "" {
				require.NoError(t, out.err, "function log:\n%s", logs)
			} else {
				require.ErrorContains(t, out.err, exp.err, "function log:\n%s", logs)
			}
			if exp.firehose != "" {
				assert.Equal(t, exp.firehose, firehoseResults(t, out.result.Payload))
			}
			if exp.failures != nil {
				var resp struct {
					BatchItemFailures []json.RawMessage `json:"batchItemFailures"`
				}
				require.NoError(t, json.Unmarshal(out.result.Payload, &resp))
				assert.Len(t, resp.BatchItemFailures, *exp.failures, "batchItemFailures")
			}
			var changes []string
			for _, c := range out.changes {
				changes = append(changes, c.Summary)
			}
			assert.Equal(t, exp.changes, changes, "what changed in the lake")

			// One subsegment per AWS call, each call traced.
			requests := proxy.taken()
			var ids []string
			for _, seg := range out.result.Subsegments {
				ids = append(ids, seg.ID)
				assert.Equal(t, "aws", seg.Namespace, "subsegment %s", seg.Name)
				assert.NotEmpty(t, seg.Operation(), "subsegment %s names its operation", seg.Name)
			}
			var parents []string
			for _, r := range requests {
				assert.Equal(t, out.result.TraceID, r.root, "%s %s carries the invocation's trace", r.service, r.target)
				parents = append(parents, r.parent)
			}
			assert.ElementsMatch(t, ids, parents, "one subsegment per AWS request: %d requests, %d subsegments", len(requests), len(ids))
			callers[fn] += len(requests)
		})
	}
	for _, fn := range fns {
		if tmpl.CallsAWS(lambdarun.LogicalID(fn)) {
			assert.Positive(t, callers[fn], "%s calls AWS, yet its samples made no call to prove its tracing with", fn)
		}
	}
}

// testSession is the embedded session of `make invoke`, on the test
// process's shared moto_server, with the function's calls going through
// the counting proxy.
func testSession(t *testing.T, srv *moto.Server, endpoint string) *session {
	t.Helper()
	cfg, err := srv.Config(t.Context())
	require.NoError(t, err)
	tmpl, err := lambdarun.LoadRepoTemplate()
	require.NoError(t, err)
	env := srv.Env()
	env["AWS_ENDPOINT_URL"] = endpoint
	return &session{describe: "the test's moto_server", awsEnv: env, lake: lake.New(cfg, tmpl), close: func() {}}
}

func firehoseResults(t *testing.T, payload []byte) string {
	t.Helper()
	var resp struct {
		Records []struct{ Result string } `json:"records"`
	}
	require.NoError(t, json.Unmarshal(payload, &resp))
	n := map[string]int{}
	for _, r := range resp.Records {
		n[r.Result]++
	}
	return fmt.Sprintf("Ok %d, Dropped %d, ProcessingFailed %d", n["Ok"], n["Dropped"], n["ProcessingFailed"])
}

// countingProxy forwards requests to the emulator and keeps, for each,
// the X-Ray trace header the SDK's instrumentation set on it.
type countingProxy struct {
	*httptest.Server
	mu       sync.Mutex
	requests []traced
}

type traced struct {
	root, parent    string // from X-Amzn-Trace-Id
	service, target string // the signing service and X-Amz-Target (JSON APIs)
}

var (
	traceRoot   = regexp.MustCompile(`Root=([^;]+)`)
	traceParent = regexp.MustCompile(`Parent=([^;]+)`)
	signingFor  = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/`)
)

func newCountingProxy(t *testing.T, endpoint string) *countingProxy {
	t.Helper()
	target, err := url.Parse(endpoint)
	require.NoError(t, err)
	p := &countingProxy{}
	forward := httputil.NewSingleHostReverseProxy(target)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("X-Amzn-Trace-Id")
		req := traced{target: r.Header.Get("X-Amz-Target")}
		if m := traceRoot.FindStringSubmatch(header); m != nil {
			req.root = m[1]
		}
		if m := traceParent.FindStringSubmatch(header); m != nil {
			req.parent = m[1]
		}
		if m := signingFor.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			req.service = m[1]
		}
		p.mu.Lock()
		p.requests = append(p.requests, req)
		p.mu.Unlock()
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *countingProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = nil
}

func (p *countingProxy) taken() []traced {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests)
}
