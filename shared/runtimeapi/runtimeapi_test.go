package runtimeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/lambdarun"
)

// handlerFunc makes a function a lambda.Handler.
type handlerFunc func(context.Context, []byte) ([]byte, error)

func (f handlerFunc) Invoke(ctx context.Context, event []byte) ([]byte, error) { return f(ctx, event) }

var quiet = slog.New(slog.DiscardHandler)

// start serves h in n loops from api until the test ends; the error
// Serve stopped with arrives on the channel.
func start(t *testing.T, api string, h handlerFunc, n int) <-chan error {
	t.Helper()
	stopped := make(chan error, 1)
	go func() { stopped <- serve(api, h, quiet, n) }()
	return stopped
}

// TestThroughTheLocalRunner serves invocations from lambdarun's Runtime
// API (what make invoke and the benchmarks run bootstraps under): events
// of changing sizes arrive whole in the memory reused between them, the
// context carries what aws-lambda-go's does, and errors and a panic are
// reported as it reports them.
func TestThroughTheLocalRunner(t *testing.T) {
	srv, err := lambdarun.NewServer()
	require.NoError(t, err)
	defer srv.Close()
	var seen []string
	stopped := start(t, srv.Addr(), func(ctx context.Context, event []byte) ([]byte, error) {
		lc, ok := lambdacontext.FromContext(ctx)
		require.True(t, ok)
		deadline, ok := ctx.Deadline()
		require.True(t, ok)
		trace, _ := ctx.Value("x-amzn-trace-id").(string)
		seen = append(seen, fmt.Sprintf("%s %s %v %v %v", lc.AwsRequestID, lc.InvokedFunctionArn, time.Until(deadline) > 0,
			strings.HasPrefix(trace, "Root=1-"), os.Getenv("_X_AMZN_TRACE_ID") == trace))
		switch {
		case bytes.Equal(event, []byte(`"fail"`)):
			return nil, errors.New("told to fail")
		case bytes.Equal(event, []byte(`"panic"`)):
			panic("told to panic")
		}
		return append([]byte(`{"got":`), append(event, '}')...), nil
	}, 1)

	ctx := context.Background()
	for _, event := range [][]byte{[]byte(`"a"`), []byte(`"` + strings.Repeat("b", 1<<20) + `"`), []byte(`"c"`)} {
		got, err := srv.Invoke(ctx, event, time.Minute)
		require.NoError(t, err)
		assert.Equal(t, `{"got":`+string(event)+`}`, string(got))
	}
	_, err = srv.Invoke(ctx, []byte(`"fail"`), time.Minute)
	var fe *lambdarun.FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "errorString", fe.Type, "the error's type, named as aws-lambda-go names it")
	assert.Equal(t, "told to fail", fe.Message)

	got, err := srv.Invoke(ctx, []byte(`"d"`), time.Minute)
	require.NoError(t, err, "an error fails its invocation, not the function")
	assert.Equal(t, `{"got":"d"}`, string(got))

	_, err = srv.Invoke(ctx, []byte(`"panic"`), time.Minute)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "string", fe.Type)
	assert.Equal(t, "told to panic", fe.Message)
	select {
	case err := <-stopped:
		assert.ErrorContains(t, err, "the handler panicked: told to panic", "after a panic the process is to exit")
	case <-time.After(10 * time.Second):
		t.Fatal("Serve went on after a panic")
	}
	require.Len(t, seen, 6)
	for i, s := range seen {
		assert.Equal(t, fmt.Sprintf("00000000-0000-4000-8000-%012d arn:aws:lambda:us-east-1:123456789012:function:local true true true", i+1), s)
	}
}

// fakeAPI is a Runtime API that hands out the events it is given and
// records what the function sends it.
type fakeAPI struct {
	*httptest.Server
	events chan fakeEvent
	posts  chan fakePost
	conns  atomic.Int32
	// answer is the status of the next post; 202 when it gives 0.
	answer func(path string) int
	quit   chan struct{} // closed when the test ends: /next gives up
	// drop, when set, closes the connection of the next post once it is
	// answered, without saying so.
	drop atomic.Bool
}

type fakeEvent struct {
	id, deadline string
	header       map[string]string
	body         []byte
	chunked      bool // sent without a length, in pieces
	closeAfter   bool // "Connection: close"
}

type fakePost struct {
	path, contentType string
	header            http.Header
	length            int64 // -1 when chunked
	body              []byte
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{events: make(chan fakeEvent, 8), posts: make(chan fakePost, 8), quit: make(chan struct{}), answer: func(string) int { return 0 }}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		var ev fakeEvent
		select {
		case ev = <-f.events:
		case <-f.quit:
			panic(http.ErrAbortHandler) // closes the connection: Serve stops
		}
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", ev.id)
		h.Set("Lambda-Runtime-Deadline-Ms", ev.deadline)
		for k, v := range ev.header {
			h.Set(k, v)
		}
		if ev.closeAfter {
			h.Set("Connection", "close")
		}
		if !ev.chunked {
			h.Set("Content-Length", strconv.Itoa(len(ev.body)))
			w.Write(ev.body)
			return
		}
		for piece := range slicesChunk(ev.body, 1000) {
			w.Write(piece)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("POST /2018-06-01/runtime/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.posts <- fakePost{path: r.URL.Path, contentType: r.Header.Get("Content-Type"), header: r.Header, length: r.ContentLength, body: body}
		status := f.answer(r.URL.Path)
		if status == 0 {
			status = http.StatusAccepted
		}
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(status)
		if f.drop.CompareAndSwap(true, false) {
			w.(http.Flusher).Flush()
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
		}
	})
	f.Server = httptest.NewUnstartedServer(mux)
	f.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.Start()
	t.Cleanup(f.Close)
	t.Cleanup(func() { close(f.quit) }) // first: Close waits for the requests it ends
	return f
}

func (f *fakeAPI) addr() string { return strings.TrimPrefix(f.URL, "http://") }

func (f *fakeAPI) post(t *testing.T) fakePost {
	t.Helper()
	select {
	case p := <-f.posts:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("nothing was posted")
		return fakePost{}
	}
}

func slicesChunk(b []byte, n int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			k := min(n, len(b))
			if !yield(b[:k]) {
				return
			}
			b = b[k:]
		}
	}
}

func deadlineIn(d time.Duration) string {
	return strconv.FormatInt(time.Now().Add(d).UnixMilli(), 10)
}

func echo(_ context.Context, event []byte) ([]byte, error) { return bytes.Clone(event), nil }

// TestResponsesGoWithTheirLength: a response is posted with its
// Content-Length (not chunked, as aws-lambda-go posts it), and an event is
// read whole whether the Runtime API states its length or sends it in
// chunks.
func TestResponsesGoWithTheirLength(t *testing.T) {
	f := newFakeAPI(t)
	start(t, f.addr(), echo, 1)
	big := bytes.Repeat([]byte("0123456789"), 50_000)
	f.events <- fakeEvent{id: "r1", deadline: deadlineIn(time.Minute), body: big}
	f.events <- fakeEvent{id: "r2", deadline: deadlineIn(time.Minute), body: big[:123_457], chunked: true}
	f.events <- fakeEvent{id: "r3", deadline: deadlineIn(time.Minute), body: []byte("{}")}

	for _, want := range []struct {
		id   string
		body []byte
	}{{"r1", big}, {"r2", big[:123_457]}, {"r3", []byte("{}")}} {
		p := f.post(t)
		assert.Equal(t, "/2018-06-01/runtime/invocation/"+want.id+"/response", p.path)
		assert.Equal(t, int64(len(want.body)), p.length, "posted with its length")
		assert.Equal(t, "application/json", p.contentType)
		assert.True(t, bytes.Equal(want.body, p.body), "%s: the event came back as it was sent", want.id)
	}
	assert.EqualValues(t, 1, f.conns.Load(), "one connection, kept")
}

// TestConnections: an answer that says "Connection: close" is honoured,
// and a GET on a kept connection the Runtime API has dropped is made
// again on a new one.
func TestConnections(t *testing.T) {
	f := newFakeAPI(t)
	start(t, f.addr(), echo, 1)
	f.events <- fakeEvent{id: "r1", deadline: deadlineIn(time.Minute), body: []byte(`1`), closeAfter: true}
	assert.Equal(t, "1", string(f.post(t).body))
	f.events <- fakeEvent{id: "r2", deadline: deadlineIn(time.Minute), body: []byte(`2`)}
	assert.Equal(t, "2", string(f.post(t).body))
	assert.EqualValues(t, 2, f.conns.Load(), "a new connection after Connection: close")

	f.drop.Store(true)
	f.events <- fakeEvent{id: "r3", deadline: deadlineIn(time.Minute), body: []byte(`3`)}
	assert.Equal(t, "3", string(f.post(t).body))
	f.events <- fakeEvent{id: "r4", deadline: deadlineIn(time.Minute), body: []byte(`4`)}
	assert.Equal(t, "4", string(f.post(t).body), "the GET after the dropped connection went on a new one")
	assert.EqualValues(t, 3, f.conns.Load())
}

// TestContext: the invocation's context carries the Runtime API's
// headers as aws-lambda-go's does, and a header it cannot read fails that
// invocation, not the function.
func TestContext(t *testing.T) {
	f := newFakeAPI(t)
	got := make(chan *lambdacontext.LambdaContext, 4)
	start(t, f.addr(), func(ctx context.Context, _ []byte) ([]byte, error) {
		lc, _ := lambdacontext.FromContext(ctx)
		got <- lc
		return []byte("{}"), nil
	}, 1)
	f.events <- fakeEvent{id: "r1", deadline: deadlineIn(time.Minute), body: []byte(`{}`), header: map[string]string{
		"Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:eu-west-1:123456789012:function:f",
		"Lambda-Runtime-Aws-Tenant-Id":        "tenant-7",
		"Lambda-Runtime-Cognito-Identity":     `{"CognitoIdentityID":"id-1","CognitoIdentityPoolID":"pool-1"}`,
		"Lambda-Runtime-Client-Context":       `{"Client":{"installation_id":"i-1"},"env":{"k":"v"},"custom":{"n":{"x":1}}}`,
	}}
	f.post(t)
	lc := <-got
	assert.Equal(t, "r1", lc.AwsRequestID)
	assert.Equal(t, "arn:aws:lambda:eu-west-1:123456789012:function:f", lc.InvokedFunctionArn)
	assert.Equal(t, "tenant-7", lc.TenantID)
	assert.Equal(t, lambdacontext.CognitoIdentity{CognitoIdentityID: "id-1", CognitoIdentityPoolID: "pool-1"}, lc.Identity)
	assert.Equal(t, "i-1", lc.ClientContext.Client.InstallationID)
	assert.Equal(t, map[string]string{"k": "v"}, lc.ClientContext.Env)
	assert.Equal(t, map[string]string{"n": `{"x":1}`}, lc.ClientContext.Custom)

	for _, bad := range []fakeEvent{
		{id: "r2", deadline: "soon"},
		{id: "r3", deadline: deadlineIn(time.Minute), header: map[string]string{"Lambda-Runtime-Client-Context": `{`}},
		{id: "r4", deadline: deadlineIn(time.Minute), header: map[string]string{"Lambda-Runtime-Cognito-Identity": `[`}},
	} {
		f.events <- bad
		p := f.post(t)
		assert.Equal(t, "/2018-06-01/runtime/invocation/"+bad.id+"/error", p.path)
		assert.Contains(t, string(p.body), "failed to")
	}
	f.events <- fakeEvent{id: "r5", deadline: deadlineIn(time.Minute), body: []byte(`{}`)}
	assert.Equal(t, "/2018-06-01/runtime/invocation/r5/response", f.post(t).path, "still serving")
	assert.Equal(t, "r5", (<-got).AwsRequestID, "the handler did not run for the bad ones")
}

// TestErrors: an error is posted as aws-lambda-go posts it, with its type
// in a header and its cause for X-Ray; a panic also with its stack, and
// then Serve stops.
func TestErrors(t *testing.T) {
	f := newFakeAPI(t)
	stopped := start(t, f.addr(), func(_ context.Context, event []byte) ([]byte, error) {
		if string(event) == "panic" {
			var m map[string]int
			m["boom"]++ // a runtime error
		}
		return nil, &os.PathError{Op: "open", Path: "x", Err: os.ErrNotExist}
	}, 1)

	f.events <- fakeEvent{id: "r1", deadline: deadlineIn(time.Minute), body: []byte(`err`)}
	p := f.post(t)
	assert.Equal(t, "/2018-06-01/runtime/invocation/r1/error", p.path)
	assert.JSONEq(t, `{"errorMessage":"open x: file does not exist","errorType":"PathError"}`, string(p.body))
	assert.Equal(t, "PathError", p.header.Get("Lambda-Runtime-Function-Error-Type"))
	var cause struct {
		Exceptions []struct{ Type, Message string } `json:"exceptions"`
	}
	require.NoError(t, json.Unmarshal([]byte(p.header.Get("Lambda-Runtime-Function-Xray-Error-Cause")), &cause))
	require.Len(t, cause.Exceptions, 1)
	assert.Equal(t, "PathError", cause.Exceptions[0].Type)

	f.events <- fakeEvent{id: "r2", deadline: deadlineIn(time.Minute), body: []byte(`panic`)}
	p = f.post(t)
	assert.Equal(t, "/2018-06-01/runtime/invocation/r2/error", p.path)
	var failure struct {
		Message    string `json:"errorMessage"`
		Type       string `json:"errorType"`
		StackTrace []struct {
			Label string `json:"label"`
		} `json:"stackTrace"`
	}
	require.NoError(t, json.Unmarshal(p.body, &failure))
	assert.Equal(t, "assignment to entry in nil map", failure.Message)
	assert.Equal(t, "plainError", failure.Type)
	require.Greater(t, len(failure.StackTrace), 2)
	assert.Equal(t, "runtime.mapassign_faststr", failure.StackTrace[0].Label, "the stack starts where it panicked")
	assert.Equal(t, "lakestream/shared/runtimeapi.TestErrors.func1", failure.StackTrace[1].Label)
	select {
	case err := <-stopped:
		assert.ErrorContains(t, err, "the handler panicked")
	case <-time.After(10 * time.Second):
		t.Fatal("Serve went on after a panic")
	}
}

// TestStops: Serve stops, with an error saying why, when the Runtime API
// refuses what it posts, cannot be reached, or is not set.
func TestStops(t *testing.T) {
	f := newFakeAPI(t)
	f.answer = func(string) int { return http.StatusRequestEntityTooLarge }
	stopped := start(t, f.addr(), echo, 1)
	f.events <- fakeEvent{id: "r1", deadline: deadlineIn(time.Minute), body: []byte(`{}`)}
	f.post(t)
	assert.ErrorContains(t, <-stopped, "invocation/r1/response answered 413 Request Entity Too Large")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	ln.Close()
	assert.ErrorContains(t, serve(closed, handlerFunc(echo), quiet, 1), "runtime API: dial tcp")
	assert.ErrorContains(t, serve("", handlerFunc(echo), quiet, 1), "AWS_LAMBDA_RUNTIME_API is not set")
}

// TestConcurrency: with AWS_LAMBDA_MAX_CONCURRENCY above one, that many
// loops take events at once, each on its own connection.
func TestConcurrency(t *testing.T) {
	f := newFakeAPI(t)
	both := make(chan struct{})
	var in atomic.Int32
	start(t, f.addr(), func(_ context.Context, event []byte) ([]byte, error) {
		if in.Add(1) == 2 {
			close(both)
		}
		select {
		case <-both:
		case <-time.After(10 * time.Second):
			return nil, errors.New("alone")
		}
		return bytes.Clone(event), nil
	}, 2)
	f.events <- fakeEvent{id: "r1", deadline: deadlineIn(time.Minute), body: []byte(`1`)}
	f.events <- fakeEvent{id: "r2", deadline: deadlineIn(time.Minute), body: []byte(`2`)}
	bodies := []string{string(f.post(t).body), string(f.post(t).body)}
	assert.ElementsMatch(t, []string{"1", "2"}, bodies)
	assert.EqualValues(t, 2, f.conns.Load())
}

func TestReportInitError(t *testing.T) {
	f := newFakeAPI(t)
	require.NoError(t, ReportInitError(f.addr(), errors.New(`X="y" is invalid`)))
	p := f.post(t)
	assert.Equal(t, "/2018-06-01/runtime/init/error", p.path)
	assert.Equal(t, "Runtime.InitError", p.header.Get("Lambda-Runtime-Function-Error-Type"))
	assert.JSONEq(t, `{"errorMessage":"X=\"y\" is invalid","errorType":"InvalidConfiguration"}`, string(p.body))

	assert.NoError(t, ReportInitError("", errors.New("x")), "outside Lambda there is nobody to tell")
}
