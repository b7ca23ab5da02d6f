package lambdarun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// echoBin is the test function testdata/echo, from the build cache (which
// shared/cmd/invoke's tests share).
var echoBin string

func TestMain(m *testing.M) {
	root, err := RepoRoot(".")
	if err == nil {
		echoBin, err = CachedMain(context.Background(), root, "shared/lambdarun/testdata/echo")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func start(t *testing.T, env map[string]string) (*Function, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	f, err := Start(Options{Binary: echoBin, Env: env, Stdout: &logs, Stderr: &logs, Timeout: 20 * time.Second})
	require.NoError(t, err)
	t.Cleanup(f.Stop)
	return f, &logs
}

func TestInvokeRealBinary(t *testing.T) {
	f, logs := start(t, map[string]string{"ECHO_MODE": "upper"})
	for _, msg := range []string{"hello", "again"} {
		resp, err := f.Invoke(context.Background(), []byte(`{"message":"`+msg+`"}`))
		require.NoError(t, err)
		assert.JSONEq(t, `{"message":"`+strings.ToUpper(msg)+`","fail":false,"panic":false,"exit":false}`, string(resp))
	}
	f.Stop() // waits for the process, so its logs are all in
	assert.Contains(t, logs.String(), `"request_id":"00000000-0000-4000-8000-000000000002"`, "the binary saw the request id header")
}

func TestInvokeFile(t *testing.T) {
	f, _ := start(t, map[string]string{"ECHO_MODE": "upper"})
	path := filepath.Join(t.TempDir(), "event.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"message":"file"}`), 0o644))
	var out struct{ Message string }
	require.NoError(t, f.InvokeFile(context.Background(), path, &out))
	assert.Equal(t, "FILE", out.Message)
	assert.ErrorContains(t, f.InvokeFile(context.Background(), filepath.Join(t.TempDir(), "none.json"), &out), "lambdarun: open")
}

func TestInvokeFunctionError(t *testing.T) {
	f, _ := start(t, nil)
	_, err := f.Invoke(context.Background(), []byte(`{"fail":true}`))
	var fe *FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, FunctionError{Type: "errorString", Message: "asked to fail"}, *fe)

	// The process survives a returned error and serves the next event.
	resp, err := f.Invoke(context.Background(), []byte(`{"message":"ok"}`))
	require.NoError(t, err)
	assert.Contains(t, string(resp), `"ok"`)

	// A panic is reported, then aws-lambda-go ends the process, as on Lambda.
	_, err = f.Invoke(context.Background(), []byte(`{"panic":true}`))
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Message, "asked to panic")
	assert.False(t, fe.Init)
}

func TestInitErrorNamesVariable(t *testing.T) {
	f, _ := start(t, map[string]string{"ECHO_MODE": "shout"})
	_, err := f.Invoke(context.Background(), []byte(`{}`))
	require.Error(t, err)
	assert.True(t, IsInit(err))
	var fe *FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "InvalidConfiguration", fe.Type)
	assert.Contains(t, fe.Message, `ECHO_MODE="shout" is invalid: one of plain, upper`)
}

// TestInit: the init is measured from the process's start to its first
// GET /next, before any event is sent, and is what the first invocation
// waited for; a function that fails its init reports that error instead.
func TestInit(t *testing.T) {
	before := time.Now()
	f, _ := start(t, nil)
	d, err := f.Init(context.Background())
	require.NoError(t, err)
	assert.Positive(t, d)
	assert.Less(t, d, time.Since(before), "counted from the process's start, not before")
	again, err := f.Init(context.Background())
	require.NoError(t, err)
	assert.Equal(t, d, again, "the first /next, not a later one")
	_, err = f.Invoke(context.Background(), []byte(`{"message":"ok"}`))
	require.NoError(t, err)
	after, err := f.Init(context.Background())
	require.NoError(t, err)
	assert.Equal(t, d, after, "invocations do not move it")

	failing, _ := start(t, map[string]string{"ECHO_MODE": "shout"})
	_, err = failing.Init(context.Background())
	assert.True(t, IsInit(err), "an init error, not a duration: %v", err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stopped := &Server{asked: make(chan struct{}), failed: make(chan struct{})}
	_, err = stopped.Ready(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestProcessExitFailsInvocation(t *testing.T) {
	f, _ := start(t, nil)
	_, err := f.Invoke(context.Background(), []byte(`{"exit":true}`))
	var fe *FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Runtime.ExitError", fe.Type)
	assert.Contains(t, fe.Message, "exit status 3")
	_, err = f.Invoke(context.Background(), []byte(`{}`))
	assert.True(t, IsInit(err), "later invocations fail too")
}

func TestInvokeTimesOut(t *testing.T) {
	srv, err := NewServer()
	require.NoError(t, err)
	defer srv.Close()
	_, err = srv.Invoke(context.Background(), []byte(`{}`), 100*time.Millisecond)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrTimedOut)
}

// TestTimedOutProcessIsKilled: a function that does not answer within its
// timeout is reported and killed, as Lambda ends the sandbox; nothing of
// it keeps running, and later invocations say why they fail.
func TestTimedOutProcessIsKilled(t *testing.T) {
	f, err := Start(Options{Binary: echoBin, Timeout: 500 * time.Millisecond})
	require.NoError(t, err)
	defer f.Stop()
	pid := f.cmd.Process.Pid

	began := time.Now()
	_, err = f.Invoke(context.Background(), []byte(`{"sleep":"1h"}`))
	require.ErrorIs(t, err, ErrTimedOut)
	var fe *FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, FunctionError{Type: "Sandbox.Timedout", Message: "task timed out after 0.50 seconds; the process was killed, as Lambda does", cause: ErrTimedOut}, *fe)
	assert.Less(t, time.Since(began), 10*time.Second)
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "the process is gone")

	_, err = f.Invoke(context.Background(), []byte(`{}`))
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Runtime.ExitError", fe.Type)
	assert.Equal(t, "killed after a task timed out", fe.Message)
}

// TestDeadlineIsTheTimeout: the deadline the function sees is its timeout
// from when it took the event, not from process start.
func TestDeadlineIsTheTimeout(t *testing.T) {
	f, err := Start(Options{Binary: echoBin, Timeout: 7 * time.Second})
	require.NoError(t, err)
	defer f.Stop()
	resp, err := f.Invoke(context.Background(), []byte(`{"deadline":true}`))
	require.NoError(t, err)
	var out struct {
		LeftS float64 `json:"left_s"`
	}
	require.NoError(t, json.Unmarshal(resp, &out))
	assert.InDelta(t, 7, out.LeftS, 1)
}

// TestRunnerPlaysTheXRayDaemon: each invocation carries a sampled trace
// header, the function's subsegments reach the runner's daemon through
// AWS_XRAY_DAEMON_ADDRESS, and each invocation gets its own.
func TestRunnerPlaysTheXRayDaemon(t *testing.T) {
	f, logs := start(t, nil)
	first, err := f.InvokeResult(context.Background(), []byte(`{"trace":"fetch"}`))
	require.NoError(t, err, logs.String())
	require.Len(t, first.Subsegments, 1, logs.String())
	s := first.Subsegments[0]
	assert.Equal(t, "fetch", s.Name)
	assert.Equal(t, first.TraceID, s.TraceID)
	assert.Equal(t, "subsegment", s.Type)
	assert.Regexp(t, `^1-[0-9a-f]{8}-[0-9a-f]{24}$`, first.TraceID)
	assert.Empty(t, s.Failure())
	assert.GreaterOrEqual(t, s.Duration(), time.Duration(0))

	second, err := f.InvokeResult(context.Background(), []byte(`{"trace":"fail-store"}`))
	require.NoError(t, err)
	assert.NotEqual(t, first.TraceID, second.TraceID, "a trace per invocation")
	require.Len(t, second.Subsegments, 1)
	assert.Equal(t, "fail-store", second.Subsegments[0].Name)
	assert.Equal(t, "asked to fail fail-store", second.Subsegments[0].Failure())

	none, err := f.InvokeResult(context.Background(), []byte(`{"message":"x"}`))
	require.NoError(t, err)
	assert.Empty(t, none.Subsegments, "no call, no subsegment")
}

// TestEnvironmentKeepsTheShellsAWSOut: a developer's AWS settings reach
// the function only when asked (real AWS), and the SDK never waits for EC2
// instance metadata.
func TestEnvironmentKeepsTheShellsAWSOut(t *testing.T) {
	t.Setenv("AWS_PROFILE", "production")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAREAL")
	event := []byte(`{"getenv":["AWS_PROFILE","AWS_ACCESS_KEY_ID","AWS_CONFIG_FILE","AWS_EC2_METADATA_DISABLED","AWS_XRAY_DAEMON_ADDRESS","OWN"]}`)
	get := func(inherit bool) map[string]string {
		f, err := Start(Options{Binary: echoBin, Env: map[string]string{"OWN": "mine"}, InheritAWS: inherit})
		require.NoError(t, err)
		defer f.Stop()
		resp, err := f.Invoke(context.Background(), event)
		require.NoError(t, err)
		var out struct{ Env map[string]string }
		require.NoError(t, json.Unmarshal(resp, &out))
		return out.Env
	}
	isolated := get(false)
	assert.Equal(t, "", isolated["AWS_PROFILE"])
	assert.Equal(t, "", isolated["AWS_ACCESS_KEY_ID"])
	assert.Equal(t, os.DevNull, isolated["AWS_CONFIG_FILE"], "not even ~/.aws")
	assert.Equal(t, "true", isolated["AWS_EC2_METADATA_DISABLED"])
	assert.Regexp(t, `^127\.0\.0\.1:\d+$`, isolated["AWS_XRAY_DAEMON_ADDRESS"])
	assert.Equal(t, "mine", isolated["OWN"])

	inherited := get(true)
	assert.Equal(t, "production", inherited["AWS_PROFILE"])
	assert.Equal(t, "AKIAREAL", inherited["AWS_ACCESS_KEY_ID"])
	assert.Equal(t, "true", inherited["AWS_EC2_METADATA_DISABLED"])
}

func TestTemplateTimeout(t *testing.T) {
	tmpl, err := LoadTemplate("testdata/template.yaml")
	require.NoError(t, err)
	got, err := tmpl.Timeout("EchoFunction")
	require.NoError(t, err)
	assert.Equal(t, 7*time.Second, got, "its own, a parameter's default")
	got, err = tmpl.Timeout("SmallFunction")
	require.NoError(t, err)
	assert.Equal(t, time.Minute, got, "Globals'")
	require.NoError(t, tmpl.Override(map[string]string{"EchoTimeout": "12"}))
	got, err = tmpl.Timeout("EchoFunction")
	require.NoError(t, err)
	assert.Equal(t, 12*time.Second, got)
	require.NoError(t, tmpl.Override(map[string]string{"EchoTimeout": "soon"}))
	_, err = tmpl.Timeout("EchoFunction")
	assert.ErrorContains(t, err, `EchoFunction Timeout "soon" is not a whole number of seconds`)
	_, err = tmpl.Timeout("Stream")
	assert.ErrorContains(t, err, "no function Stream")

	tmpl.Globals.Function.Timeout = yaml.Node{}
	got, err = tmpl.Timeout("SmallFunction")
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, got, "SAM's default")

	env, err := tmpl.Environment("SmallFunction")
	require.NoError(t, err)
	assert.Equal(t, "128", env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "its own memory size, though smaller than Globals'")
}

func TestServerRejectsUnknownRequestID(t *testing.T) {
	srv, err := NewServer()
	require.NoError(t, err)
	defer srv.Close()
	resp, err := http.Post("http://"+srv.Addr()+apiPrefix+"/invocation/nope/response", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestTemplateEnvironment(t *testing.T) {
	tmpl, err := LoadTemplate("testdata/template.yaml")
	require.NoError(t, err)
	env, err := tmpl.Environment("EchoFunction")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "EchoFunction",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"LOG_LEVEL":                       "warn",
		"SHARED":                          "own",
		"STREAM":                          "lakestream-lake-stream",
		"STREAM_ARN":                      "arn:aws:firehose:us-east-1:123456789012:deliverystream/lakestream-lake-stream",
		"BUCKET_ARN":                      "arn:aws:s3:::Bucket",
		"REGIONAL":                        "in us-east-1 to lakestream-lake-stream",
		"LONG_FORM":                       "lake-stream",
		"NUMBER":                          "42",
		"CHOSEN":                          "created",
		"NOT_CHOSEN":                      "incoming/",
	}, env)

	_, err = tmpl.Environment("Stream")
	assert.ErrorContains(t, err, "no function Stream")
}

func TestTemplateEventPatterns(t *testing.T) {
	tmpl, err := LoadTemplate("testdata/template.yaml")
	require.NoError(t, err)
	const changed = `{"detail":{"databaseName":["lake-stream"],"retry":[false],"version":[{"numeric":[">",1]}]},"source":["aws.glue"]}`
	got, err := tmpl.EventPatterns("EchoFunction")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"Changed": changed}, got, "the rule's condition is false with the defaults; the schedule has no pattern")

	require.NoError(t, tmpl.Override(map[string]string{"SourceBucket": "landing"}))
	got, err = tmpl.EventPatterns("EchoFunction")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"Changed":           changed,
		"ObjectCreatedRule": `{"detail":{"bucket":{"name":["landing"]},"object":{"key":[{"prefix":"incoming/"}]}},"source":["aws.s3"]}`,
	}, got, "a rule resource targeting the function, by its logical id")

	require.NoError(t, tmpl.Override(map[string]string{"SourcePrefix": ""}))
	got, err = tmpl.EventPatterns("EchoFunction")
	require.NoError(t, err)
	assert.Equal(t, `{"detail":{"bucket":{"name":["landing"]}},"source":["aws.s3"]}`, got["ObjectCreatedRule"], "!If takes the false branch")

	assert.ErrorContains(t, tmpl.Override(map[string]string{"Nope": "x"}), "no parameter Nope")
	_, err = tmpl.EventPatterns("OtherRule")
	assert.ErrorContains(t, err, "no function OtherRule")
}

func TestApplyEnvFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"Parameters":{"A":"all","B":"all"},"EchoFunction":{"B":"mine","N":3}}`), 0o644))
	env := map[string]string{"A": "template"}
	require.NoError(t, ApplyEnvFile(env, path, "EchoFunction"))
	assert.Equal(t, map[string]string{"A": "all", "B": "mine", "N": "3"}, env)

	require.NoError(t, os.WriteFile(path, []byte(`[1,2]`), 0o644))
	assert.ErrorContains(t, ApplyEnvFile(env, path, "EchoFunction"), "not a SAM env-vars file")
}

func TestBuildOnce(t *testing.T) {
	// A missing function keeps the test cheap; the build's outcome, error
	// included, is shared by every caller, concurrent ones too.
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := BuildOnce("no-such-function")
			errs <- err
		}()
	}
	first, second := <-errs, <-errs
	require.ErrorContains(t, first, "lambdarun: build no-such-function")
	assert.True(t, first == second, "one build, one error value")
}

func TestCallsAWS(t *testing.T) {
	tmpl, err := LoadRepoTemplate()
	require.NoError(t, err)
	assert.True(t, tmpl.CallsAWS("S3RedistributorFunction"))
	assert.False(t, tmpl.CallsAWS("FirehoseJsonFunction"), "a pure transformation")
	assert.False(t, tmpl.CallsAWS("NoSuchFunction"))
}

func TestLogicalID(t *testing.T) {
	assert.Equal(t, "CwlogsDecompressorFunction", LogicalID("cwlogs-decompressor"))
	assert.Equal(t, "FirehoseJsonFunction", LogicalID("firehose-json"))
}

// TestServerBodies plays the function over HTTP: every event comes with
// its Content-Length (not chunked), and every response, chunked as
// aws-lambda-go sends it or of stated length, large or small, comes back
// whole in a payload of its own that later responses do not overwrite.
func TestServerBodies(t *testing.T) {
	srv, err := NewServer()
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	base := "http://" + srv.Addr() + apiPrefix + "/invocation/"

	responses := [][]byte{
		bytes.Repeat([]byte("a"), 1<<20), []byte(`{"small":1}`), bytes.Repeat([]byte("b"), 3<<20+17), {},
		bytes.Repeat([]byte("c"), 5000),
	}
	go func() {
		for i := 0; ; i++ {
			resp, err := http.Get(base + "next")
			if err != nil {
				return // the server closed
			}
			event, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return
			}
			// The event says how the test wants its answer sent.
			var ask struct {
				N       int
				Chunked bool
			}
			if json.Unmarshal(event, &ask) != nil || resp.ContentLength != int64(len(event)) || len(resp.TransferEncoding) > 0 {
				ask.N = -1 // answer something the test rejects
			}
			var body io.Reader = bytes.NewReader([]byte("not the event's length"))
			if ask.N >= 0 {
				body = bytes.NewReader(responses[ask.N])
			}
			if ask.Chunked {
				body = io.MultiReader(body) // no length: chunked
			}
			id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
			post, err := http.Post(base+id+"/response", "application/json", body)
			if err == nil {
				post.Body.Close()
			}
		}
	}()

	var got [][]byte
	for round, chunked := range []bool{true, false} {
		for i := range responses {
			// Large enough that net/http would not count it by itself.
			event := fmt.Sprintf(`{"N":%d,"Chunked":%t,"Pad":"%s"}`, i, chunked, strings.Repeat("p", 100_000))
			resp, err := srv.Invoke(context.Background(), []byte(event), 10*time.Second)
			require.NoError(t, err, "round %d, response %d", round, i)
			require.Equal(t, responses[i], resp, "round %d, response %d", round, i)
			got = append(got, resp)
		}
	}
	for k, resp := range got {
		assert.Equal(t, responses[k%len(responses)], resp, "payload %d changed after later invocations", k)
	}

	// Into the caller's memory (InvokeInto): each response whole, in buf
	// when it fits, in what buf grew into when it did not.
	buf := make([]byte, 0, 2<<20)
	for round, chunked := range []bool{true, false} {
		for i := range responses {
			event := fmt.Sprintf(`{"N":%d,"Chunked":%t,"Pad":"%s"}`, i, chunked, strings.Repeat("p", 100_000))
			inv := srv.newInvocation([]byte(event), 10*time.Second)
			inv.into, inv.reuse = buf, true
			resp, err := srv.invoke(context.Background(), inv)
			require.NoError(t, err, "into, round %d, response %d", round, i)
			require.Equal(t, responses[i], resp, "into, round %d, response %d", round, i)
			if len(resp) > 0 {
				fits := len(resp) <= cap(buf)
				assert.Equal(t, fits, &resp[:1][0] == &buf[:1][0], "into, round %d, response %d: in buf exactly when it fits", round, i)
			}
			buf = resp
		}
	}
}

// TestInvokeIntoAndUsage: the real binary's responses come back whole in
// the caller's memory, and its process's CPU time and peak memory grow
// with what it is asked to do.
func TestInvokeIntoAndUsage(t *testing.T) {
	f, _ := start(t, map[string]string{"ECHO_MODE": "plain"})
	ctx := context.Background()
	_, err := f.Invoke(ctx, []byte(`{"message":"warm"}`))
	require.NoError(t, err)
	before, err := f.Usage()
	require.NoError(t, err)
	assert.Positive(t, before.CPU)
	assert.Positive(t, before.PeakRSS)

	buf := make([]byte, 0, 64)
	big := strings.Repeat("m", 32<<20) // a 32 MB message: decoded, held and encoded again
	for _, msg := range []string{"x", big, "y"} {
		resp, err := f.InvokeInto(ctx, []byte(`{"message":"`+msg+`"}`), buf)
		require.NoError(t, err)
		require.JSONEq(t, `{"message":"`+msg+`","fail":false,"panic":false,"exit":false}`, string(resp))
		buf = resp
	}
	assert.GreaterOrEqual(t, cap(buf), 32<<20, "buf grew to the largest response and was kept")

	after, err := f.Usage()
	require.NoError(t, err)
	assert.Greater(t, after.PeakRSS, before.PeakRSS+32<<20, "it held the 32 MB message at least once")
	assert.Greater(t, after.CPU, before.CPU+time.Millisecond, "reading and writing 64 MB of JSON takes CPU")

	_, err = f.InvokeInto(ctx, []byte(`{"fail":true}`), buf)
	var fe *FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "asked to fail", fe.Message)

	f.Stop()
	_, err = f.Usage()
	assert.Error(t, err, "no usage once the process has gone")
}

func TestUsageParsers(t *testing.T) {
	ns, err := schedstatRunTime([]byte("131110325 97193566 447\n"))
	require.NoError(t, err)
	assert.Equal(t, 131110325*time.Nanosecond, ns)
	for _, bad := range []string{"", "1 2", "x 2 3", "1 2 3 4"} {
		_, err := schedstatRunTime([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}

	status := []byte("Name:\tbootstrap\nVmPeak:\t  812344 kB\nVmHWM:\t   81304 kB\nVmRSS:\t   71520 kB\n")
	hwm, err := statusKB(status, "VmHWM")
	require.NoError(t, err)
	assert.Equal(t, int64(81304<<10), hwm)
	for _, bad := range []string{"VmRSS:\t1 kB\n", "VmHWM:\t1 MB\n", "VmHWM:\tx kB\n", "VmHWM:\n"} {
		_, err := statusKB([]byte(bad), "VmHWM")
		assert.Error(t, err, "%q", bad)
	}
}
