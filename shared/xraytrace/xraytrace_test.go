package xraytrace

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/faultproxy"
)

// fakeDaemon plays the X-Ray daemon on a loopback UDP port, as
// AWS_XRAY_DAEMON_ADDRESS names it to New.
type fakeDaemon struct {
	t    *testing.T
	conn *net.UDPConn
	docs chan []byte
}

// startDaemon starts a fake daemon and points AWS_XRAY_DAEMON_ADDRESS at it.
func startDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	d := &fakeDaemon{t: t, conn: conn, docs: make(chan []byte, 100)}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(d.docs)
				return
			}
			d.docs <- bytes.Clone(buf[:n])
		}
	}()
	t.Cleanup(func() { conn.Close() })
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", conn.LocalAddr().String())
	return d
}

// next returns the next document, its daemon header checked and removed.
func (d *fakeDaemon) next() map[string]any {
	d.t.Helper()
	select {
	case b := <-d.docs:
		body, ok := bytes.CutPrefix(b, []byte(daemonHeader))
		require.True(d.t, ok, "a datagram starts with the daemon header: %q", b)
		var doc map[string]any
		require.NoError(d.t, json.Unmarshal(body, &doc), "%s", body)
		return doc
	case <-time.After(5 * time.Second):
		require.FailNow(d.t, "no document reached the daemon")
		return nil
	}
}

// none checks that no document came: a marker sent now is queued behind
// any datagram already sent, so it is read first when there is one.
func (d *fakeDaemon) none() {
	d.t.Helper()
	c, err := net.DialUDP("udp", nil, d.conn.LocalAddr().(*net.UDPAddr))
	require.NoError(d.t, err)
	defer c.Close()
	_, err = c.Write([]byte("marker"))
	require.NoError(d.t, err)
	select {
	case b := <-d.docs:
		assert.Equal(d.t, "marker", string(b), "no document is sent")
	case <-time.After(5 * time.Second):
		require.FailNow(d.t, "the marker did not come back")
	}
}

// recorder serves HTTP through a handler, keeping the X-Amzn-Trace-Id of
// every request.
type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	headers []string
}

func record(t *testing.T, h http.Handler) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.headers = append(r.headers, req.Header.Get("X-Amzn-Trace-Id"))
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

// lastHeader is the trace header of the last request.
func (r *recorder) lastHeader() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.headers) == 0 {
		return "(no request)"
	}
	return r.headers[len(r.headers)-1]
}

// missingJob is Glue's answer for a job that does not exist.
const missingJob = `{"__type":"EntityNotFoundException","message":"Job missing not found"}`

// size is a response's length, as decoded from a document.
func size(body string) float64 { return float64(len(body)) }

// glueAPI answers Glue's JSON protocol: StartJobRun succeeds unless the job is
// named "missing" (EntityNotFoundException, HTTP 400).
var glueAPI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "req-1")
	if bytes.Contains(body, []byte(`"missing"`)) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, missingJob) //nolint:errcheck
		return
	}
	io.WriteString(w, `{"JobRunId":"jr_1"}`) //nolint:errcheck
})

func startGlue(t *testing.T) *recorder { return record(t, glueAPI) }

// startFaulty is Glue behind a faultproxy, the requests recorded before
// the proxy (which answers its faults without forwarding).
func startFaulty(t *testing.T) (*faultproxy.Proxy, *recorder) {
	upstream := httptest.NewServer(glueAPI)
	t.Cleanup(upstream.Close)
	proxy, err := faultproxy.Start(upstream.URL, 1)
	require.NoError(t, err)
	t.Cleanup(func() { proxy.Close() })
	return proxy, record(t, proxy)
}

// awsConfig is a config for endpoint whose clients make each call once,
// as awsclient's do.
func awsConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// traced returns a tracer reading the environment (the daemon's address)
// and a Glue client for endpoint traced by it.
func traced(t *testing.T, endpoint string) (*Tracer, *glue.Client) {
	t.Helper()
	tr, err := New()
	require.NoError(t, err)
	cfg := awsConfig(endpoint)
	tr.Instrument(&cfg.APIOptions)
	return tr, glue.NewFromConfig(cfg)
}

const (
	traceID  = "1-5759e988-bd862e3fe1be46a994272793"
	parentID = "53995c3f42cd8ad8"
)

// invocation is a handler's context as aws-lambda-go makes it: the trace
// header under the key "x-amzn-trace-id".
func invocation(header string) context.Context {
	return context.WithValue(context.Background(), "x-amzn-trace-id", header) //nolint:staticcheck // aws-lambda-go's own key
}

func sampled() context.Context {
	return invocation("Root=" + traceID + ";Parent=" + parentID + ";Sampled=1")
}

// TestDocuments: each AWS call of a sampled invocation sends the daemon one
// subsegment of the invocation's segment, naming the service and the
// operation, with the response's status and request id, and for a failure
// the flags and the cause; the request carries the subsegment as its
// parent downstream.
func TestDocuments(t *testing.T) {
	daemon := startDaemon(t)
	proxy, front := startFaulty(t)
	_, client := traced(t, front.URL)

	tests := map[string]struct {
		rates faultproxy.Rates
		job   string
		want  map[string]any // the document, id and times left out
	}{
		"success": {job: "etl", want: map[string]any{
			"http": map[string]any{"response": map[string]any{"status": 200.0, "content_length": size(`{"JobRunId":"jr_1"}`)}},
			"aws":  map[string]any{"operation": "StartJobRun", "region": "eu-west-1", "request_id": "req-1", "retries": 0.0},
		}},
		"throttled": {rates: faultproxy.Rates{Throttle: 1}, job: "etl", want: map[string]any{
			"error": true, "throttle": true,
			"cause": map[string]any{"exceptions": []any{map[string]any{
				"type": "ThrottlingException", "remote": true,
				"message": "https response error StatusCode: 400, RequestID: , ThrottlingException: Rate exceeded (injected by faultproxy)",
			}}},
			"http": map[string]any{"response": map[string]any{"status": 400.0, "content_length": size(`{"__type":"ThrottlingException","message":"Rate exceeded (injected by faultproxy)"}`)}},
			"aws":  map[string]any{"operation": "StartJobRun", "region": "eu-west-1", "retries": 0.0},
		}},
		"client error": {job: "missing", want: map[string]any{
			"error": true,
			"cause": map[string]any{"exceptions": []any{map[string]any{
				"type": "EntityNotFoundException", "remote": true,
				"message": "https response error StatusCode: 400, RequestID: req-1, EntityNotFoundException: Job missing not found",
			}}},
			"http": map[string]any{"response": map[string]any{"status": 400.0, "content_length": size(missingJob)}},
			"aws":  map[string]any{"operation": "StartJobRun", "region": "eu-west-1", "request_id": "req-1", "retries": 0.0},
		}},
		"server error": {rates: faultproxy.Rates{ServerError: 1}, job: "etl", want: map[string]any{
			"fault": true,
			"cause": map[string]any{"exceptions": []any{map[string]any{
				"type": "InternalFailure", "remote": true,
				"message": "https response error StatusCode: 500, RequestID: , api error InternalFailure: internal error (injected by faultproxy)",
			}}},
			"http": map[string]any{"response": map[string]any{"status": 500.0, "content_length": size(`{"__type":"InternalFailure","message":"internal error (injected by faultproxy)"}`)}},
			"aws":  map[string]any{"operation": "StartJobRun", "region": "eu-west-1", "retries": 0.0},
		}},
		"no response": {rates: faultproxy.Rates{DropResponse: 1}, job: "etl", want: map[string]any{
			"fault": true,
			"aws":   map[string]any{"operation": "StartJobRun", "region": "eu-west-1", "retries": 0.0},
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			proxy.SetRates(tc.rates)
			before := float64(time.Now().UnixNano()) / 1e9
			_, callErr := client.StartJobRun(sampled(), &glue.StartJobRunInput{JobName: aws.String(tc.job)})
			after := float64(time.Now().UnixNano()) / 1e9
			doc := daemon.next()

			assert.Equal(t, tc.rates == faultproxy.Rates{} && tc.job != "missing", callErr == nil, "the call's own outcome is untouched: %v", callErr)
			id, _ := doc["id"].(string)
			assert.Regexp(t, `^[0-9a-f]{16}$`, id)
			assert.Equal(t, "Root="+traceID+";Parent="+id+";Sampled=1", front.lastHeader(), "the request names the subsegment as its parent")
			start, _ := doc["start_time"].(float64)
			end, _ := doc["end_time"].(float64)
			assert.True(t, before <= start && start <= end && end <= after, "%f <= %f <= %f <= %f", before, start, end, after)

			cause, _ := doc["cause"].(map[string]any)
			if cause != nil {
				ex := cause["exceptions"].([]any)[0].(map[string]any)
				assert.Regexp(t, `^[0-9a-f]{16}$`, ex["id"])
				delete(ex, "id")
				if tc.rates.DropResponse > 0 { // the message names the connection, its port changing from run to run
					assert.Equal(t, "http.ResponseError", ex["type"])
					assert.Contains(t, ex["message"], "https response error StatusCode: 0, RequestID: , request send failed")
					assert.Contains(t, callErr.Error(), ex["message"])
					delete(doc, "cause")
				}
			}
			for _, k := range []string{"id", "start_time", "end_time"} {
				delete(doc, k)
			}
			want := map[string]any{"name": "Glue", "type": "subsegment", "namespace": "aws", "trace_id": traceID, "parent_id": parentID}
			for k, v := range tc.want {
				want[k] = v
			}
			assert.Equal(t, want, doc)
		})
	}
}

// TestSameDocumentsAsTheXRaySDK makes the same calls through
// aws-xray-sdk-go's instrumentation/awsv2 (in a Lambda invocation's
// context) and through the tracer, and compares the two documents. They
// are the same but for what the tracer does on purpose (see flag): a
// client error is not also a fault, throttling by error code counts as
// throttling, the exception names the service's error code and is remote,
// and the attempts are counted (retries, as the SDK v1 instrumentation
// records them). The X-Ray SDK also writes its struct's untagged Dummy
// field, a stack of the middleware's own frames and the working directory.
func TestSameDocumentsAsTheXRaySDK(t *testing.T) {
	daemon := startDaemon(t)
	proxy, front := startFaulty(t)
	_, ours := traced(t, front.URL)
	xray.SetLogger(xraylog.NewDefaultLogger(io.Discard, xraylog.LogLevelError))
	require.NoError(t, xray.Configure(xray.Config{DaemonAddr: daemon.conn.LocalAddr().String()}))
	sdkCfg := awsConfig(front.URL)
	awsv2.AWSV2Instrumentor(&sdkCfg.APIOptions)
	theirs := glue.NewFromConfig(sdkCfg)

	// normalise removes what differs from call to call (ids, times) and
	// what the two differ in on purpose.
	normalise := func(doc map[string]any) {
		for _, k := range []string{"id", "start_time", "end_time", "Dummy", "fault", "throttle"} {
			delete(doc, k)
		}
		if cause, ok := doc["cause"].(map[string]any); ok {
			delete(cause, "working_directory")
			for _, e := range cause["exceptions"].([]any) {
				for _, k := range []string{"id", "type", "remote", "stack"} {
					delete(e.(map[string]any), k)
				}
			}
		}
		if a, ok := doc["aws"].(map[string]any); ok {
			delete(a, "retries")
		}
	}
	for name, tc := range map[string]struct {
		rates faultproxy.Rates
		job   string
	}{
		"success":      {job: "etl"},
		"throttled":    {rates: faultproxy.Rates{Throttle: 1}, job: "etl"},
		"client error": {job: "missing"},
		"server error": {rates: faultproxy.Rates{ServerError: 1}, job: "etl"},
	} {
		t.Run(name, func(t *testing.T) {
			proxy.SetRates(tc.rates)
			in := &glue.StartJobRunInput{JobName: aws.String(tc.job)}
			_, errTheirs := theirs.StartJobRun(sampled(), in)
			want := daemon.next()
			headerTheirs := strings.Replace(front.lastHeader(), want["id"].(string), "<id>", 1)
			_, errOurs := ours.StartJobRun(sampled(), in)
			got := daemon.next()
			headerOurs := strings.Replace(front.lastHeader(), got["id"].(string), "<id>", 1)

			assert.Equal(t, fmt.Sprint(errTheirs), fmt.Sprint(errOurs))
			assert.Equal(t, headerTheirs, headerOurs, "the same trace header downstream")
			assert.Equal(t, want["fault"] == true, errTheirs != nil, "the X-Ray SDK marks every failure a fault")
			normalise(want)
			normalise(got)
			assert.Equal(t, want, got)
		})
	}
}

// TestRetriesCounted: the attempts the SDK's own retryer makes are one
// call, one subsegment, with their count and the last attempt's response.
func TestRetriesCounted(t *testing.T) {
	daemon := startDaemon(t)
	var calls atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"__type":"InternalServiceException","message":"try again"}`) //nolint:errcheck
			return
		}
		io.WriteString(w, `{"JobRunId":"jr_1"}`) //nolint:errcheck
	}))
	defer upstream.Close()
	tr, err := New()
	require.NoError(t, err)
	cfg := awsConfig(upstream.URL)
	cfg.Retryer = func() aws.Retryer {
		return sdkretry.NewStandard(func(o *sdkretry.StandardOptions) {
			o.Backoff = sdkretry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	tr.Instrument(&cfg.APIOptions)

	_, err = glue.NewFromConfig(cfg).StartJobRun(sampled(), &glue.StartJobRunInput{JobName: aws.String("etl")})
	require.NoError(t, err)
	doc := daemon.next()
	assert.Equal(t, 2.0, doc["aws"].(map[string]any)["retries"])
	assert.Equal(t, 200.0, doc["http"].(map[string]any)["response"].(map[string]any)["status"])
	assert.NotContains(t, doc, "fault")
	daemon.none()
}

// TestNotTraced: a call whose context has no trace header (init, local
// runs, tests), or whose trace header has no Root, or made with tracing
// disabled, sends nothing and succeeds; an unsampled invocation's calls
// send nothing but pass the decision on.
func TestNotTraced(t *testing.T) {
	daemon := startDaemon(t)
	upstream := startGlue(t)
	tests := map[string]struct {
		ctx      context.Context
		disabled string
		header   string // what the request carries
	}{
		"no header":    {ctx: context.Background(), header: ""},
		"empty header": {ctx: invocation(""), header: ""},
		"no root":      {ctx: invocation("Parent=" + parentID + ";Sampled=1"), header: ""},
		"unsampled":    {ctx: invocation("Root=" + traceID + ";Parent=" + parentID + ";Sampled=0"), header: "Root=" + traceID + ";Parent=0000000000000000;Sampled=0"},
		"disabled":     {ctx: sampled(), disabled: "TRUE", header: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv("AWS_XRAY_SDK_DISABLED", tc.disabled)
			_, client := traced(t, upstream.URL)
			out, err := client.StartJobRun(tc.ctx, &glue.StartJobRunInput{JobName: aws.String("etl")})
			require.NoError(t, err)
			assert.Equal(t, "jr_1", aws.ToString(out.JobRunId))
			assert.Equal(t, tc.header, upstream.lastHeader())
			daemon.none()
		})
	}
}

// TestLineagePassedOn: the invocation header's other fields (Lineage,
// which Lambda's recursive-loop detection counts) go downstream with the
// subsegment as parent.
func TestLineagePassedOn(t *testing.T) {
	daemon := startDaemon(t)
	upstream := startGlue(t)
	_, client := traced(t, upstream.URL)
	ctx := invocation("Root=" + traceID + ";Parent=" + parentID + ";Sampled=1;Lineage=a87bd80c:1")
	_, err := client.StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String("etl")})
	require.NoError(t, err)
	doc := daemon.next()
	assert.Equal(t, "Root="+traceID+";Parent="+doc["id"].(string)+";Sampled=1;Lineage=a87bd80c:1", upstream.lastHeader())
}

// TestNoDaemon: with nothing listening at the daemon's address, every call
// still succeeds (a connected UDP socket reports the refusal on the next
// write, which is ignored).
func TestNoDaemon(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", conn.LocalAddr().String())
	conn.Close() // the port is now closed
	upstream := startGlue(t)
	_, client := traced(t, upstream.URL)
	for range 5 {
		_, err := client.StartJobRun(sampled(), &glue.StartJobRunInput{JobName: aws.String("etl")})
		require.NoError(t, err)
	}
}

// TestConcurrentCalls: calls in parallel each get their own subsegment.
func TestConcurrentCalls(t *testing.T) {
	daemon := startDaemon(t)
	upstream := startGlue(t)
	_, client := traced(t, upstream.URL)
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := client.StartJobRun(sampled(), &glue.StartJobRunInput{JobName: aws.String("etl")})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	ids := map[string]bool{}
	for range n {
		ids[daemon.next()["id"].(string)] = true
	}
	assert.Len(t, ids, n, "one subsegment per call, each its own id")
	upstream.mu.Lock()
	defer upstream.mu.Unlock()
	for _, h := range upstream.headers {
		_, parent, _ := strings.Cut(h, ";Parent=")
		assert.True(t, ids[strings.TrimSuffix(parent, ";Sampled=1")], "request header %s names a sent subsegment", h)
	}
}

// TestDaemonAddress: the address comes from AWS_XRAY_DAEMON_ADDRESS through
// the X-Ray SDK's daemoncfg, in both its forms; what the X-Ray SDK rejects
// is an error.
func TestDaemonAddress(t *testing.T) {
	t.Setenv("AWS_XRAY_SDK_DISABLED", "")
	for value, want := range map[string]string{
		"":                                      "127.0.0.1:2000",
		"169.254.79.129:2000":                   "169.254.79.129:2000",
		"tcp:127.0.0.1:2001 udp:127.0.0.2:2002": "127.0.0.2:2002",
	} {
		t.Setenv("AWS_XRAY_DAEMON_ADDRESS", value)
		tr, err := New()
		require.NoError(t, err, value)
		assert.Equal(t, want, tr.daemon.String(), value)
	}
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", "no-port")
	_, err := New()
	require.ErrorContains(t, err, "AWS_XRAY_DAEMON_ADDRESS")
	t.Setenv("AWS_XRAY_SDK_DISABLED", "true")
	_, err = New()
	require.NoError(t, err, "a disabled tracer needs no daemon")
}

func TestMain(m *testing.M) {
	// Neither variable may leak in from the shell running the tests.
	os.Unsetenv("AWS_XRAY_SDK_DISABLED")
	os.Unsetenv("AWS_XRAY_DAEMON_ADDRESS")
	os.Exit(m.Run())
}

// BenchmarkSend is what tracing adds to each call of a sampled invocation
// besides the middleware's bookkeeping: writing its document and sending
// it to the daemon.
func BenchmarkSend(b *testing.B) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(b, err)
	defer conn.Close()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
	b.Setenv("AWS_XRAY_DAEMON_ADDRESS", conn.LocalAddr().String())
	tr, err := New()
	require.NoError(b, err)
	d := document{
		TraceID: traceID, ID: "70de5b6f19ff9a0b", ParentID: parentID, Name: "Firehose", Start: 1478293361.271, End: 1478293361.449,
		Status: 200, ContentLength: 1843, Operation: "PutRecordBatch", Region: "eu-west-1", RequestID: "e5b2c0a1-6f3d-4b8e-9a7c-2d1f0e3b4a5c",
	}
	b.ReportAllocs()
	for b.Loop() {
		tr.send(&d)
	}
}
