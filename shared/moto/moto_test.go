package moto

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartResetStop(t *testing.T) {
	ctx := context.Background()
	srv, err := Start(ctx)
	require.NoError(t, err)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, srv.Endpoint)

	cfg, err := srv.Config(ctx)
	require.NoError(t, err)
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")})
	require.NoError(t, err)
	list, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	require.Len(t, list.Buckets, 1)

	require.NoError(t, srv.Reset())
	list, err = client.ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	assert.Empty(t, list.Buckets, "Reset empties every service")

	env := srv.Env()
	assert.Equal(t, srv.Endpoint, env["AWS_ENDPOINT_URL"])
	assert.Equal(t, Region, env["AWS_REGION"])

	srv.Stop()
	_, err = http.Get(srv.Endpoint + "/moto-api/")
	assert.Error(t, err, "the server is gone after Stop")
}

func TestTwoServersDoNotShareState(t *testing.T) {
	ctx := context.Background()
	a, err := Start(ctx)
	require.NoError(t, err)
	defer a.Stop()
	b, err := Start(ctx)
	require.NoError(t, err)
	defer b.Stop()
	assert.NotEqual(t, a.Endpoint, b.Endpoint, "each gets its own free port")
}

func TestMissingMotoServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Start(context.Background())
	require.ErrorIs(t, err, ErrNotInstalled)
	assert.Contains(t, err.Error(), `pip install "moto[server]>=5"`, "the error says what to install")
}

func TestMain(m *testing.M) { Main(m) }

func TestSharedStartsOnce(t *testing.T) {
	a := Shared(t)
	b := Shared(t)
	assert.Same(t, a, b, "every test of the process gets the same server")
	require.NoError(t, a.Reset())
}

// fakeM plays testing.M for lazyServer.run.
type fakeM func() int

func (f fakeM) Run() int { return f() }

func TestRunStopsServerAfterTests(t *testing.T) {
	var l lazyServer
	var srv *Server
	code := l.run(fakeM(func() int {
		srv = l.get(t)
		return 3
	}))
	assert.Equal(t, 3, code, "the tests' exit code")
	require.NotNil(t, srv)
	_, err := http.Get(srv.Endpoint + "/moto-api/")
	assert.Error(t, err, "the server is gone after the tests")

	assert.Equal(t, 0, l.run(fakeM(func() int { return 0 })), "no test asked for a server: none starts, none stops")
}

// recorder is a testing.TB that records Fatal instead of failing t.
type recorder struct {
	testing.TB
	fatal   string
	skipped bool
}

func (r *recorder) Fatal(args ...any)    { r.fatal = fmt.Sprint(args...); runtime.Goexit() }
func (r *recorder) SkipNow()             { r.skipped = true; runtime.Goexit() }
func (r *recorder) Skip(args ...any)     { r.SkipNow() }
func (r *recorder) Skipf(string, ...any) { r.SkipNow() }

// fails runs f with a recorder in its own goroutine, as a test would run,
// and returns what it recorded.
func fails(t *testing.T, f func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); f(r) }()
	<-done
	return r
}

func TestSharedFailsWhenNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	l := lazyServer{running: true}
	r := fails(t, func(tb testing.TB) { l.get(tb) })
	assert.False(t, r.skipped, "a missing moto_server never skips")
	assert.Equal(t, ErrNotInstalled.Error(), r.fatal)
}

func TestSharedNeedsMain(t *testing.T) {
	var l lazyServer
	r := fails(t, func(tb testing.TB) { l.get(tb) })
	assert.Contains(t, r.fatal, "moto.Main(m)")
	assert.Nil(t, l.srv, "nothing would stop it")
}

func TestPatternBus(t *testing.T) {
	srv := Shared(t)
	require.NoError(t, srv.Reset())
	bus := NewPatternBus(t, srv, map[string]string{
		"Orders":  `{"source":["shop"],"detail":{"kind":["order"]}}`,
		"AllShop": `{"source":["shop"]}`,
	})
	order := events.CloudWatchEvent{Source: "shop", DetailType: "Change", Time: time.Now(), Detail: json.RawMessage(`{"kind":"order","id":1}`)}
	assert.Equal(t, []string{"AllShop", "Orders"}, bus.Match(t, order))
	refund := events.CloudWatchEvent{Source: "shop", DetailType: "Change", Detail: json.RawMessage(`{"kind":"refund"}`)}
	assert.Equal(t, []string{"AllShop"}, bus.Match(t, refund))
	other := events.CloudWatchEvent{Source: "bank", DetailType: "Change", Detail: json.RawMessage(`{"kind":"order"}`)}
	assert.Empty(t, bus.Match(t, other), "a non-matching event reaches no rule")

	// Events put by someone else are read back from the rule's queue.
	cfg, err := srv.Config(t.Context())
	require.NoError(t, err)
	_, err = eventbridge.NewFromConfig(cfg).PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String("shop"), DetailType: aws.String("Change"), Detail: aws.String(`{"kind":"order","id":2}`),
	}}})
	require.NoError(t, err)
	got := bus.Delivered(t, "Orders")
	require.Len(t, got, 1)
	var ev events.CloudWatchEvent
	require.NoError(t, json.Unmarshal([]byte(got[0]), &ev))
	assert.JSONEq(t, `{"kind":"order","id":2}`, string(ev.Detail))
	assert.Empty(t, bus.Delivered(t, "Orders"), "Delivered empties the queue")
}

// closedSDKBody plays an SDK request body that the SDK has already closed
// (it does so when the response headers arrive): Read still serves the
// bytes not yet read, as the race allows, but WriteTo fails with io.EOF.
type closedSDKBody struct{ *strings.Reader }

func (closedSDKBody) WriteTo(io.Writer) (int64, error) { return 0, io.EOF }
func (closedSDKBody) Close() error                     { return nil }

// TestConfigSendsBodiesThroughRead: the client Config gives moto_server
// never lets net/http reach a request body's WriteTo, whose io.EOF from a
// body the SDK has closed makes net/http drop the connection under a
// response the server may already have sent (then the SDK sends an
// applied write again). With http.DefaultClient alone, most of these
// requests fail.
func TestConfigSendsBodiesThroughRead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "got %d bytes", len(b))
	}))
	defer srv.Close()
	const body = `{"TableName":"Orders"}`
	request := func() *http.Request {
		req, err := http.NewRequest(http.MethodPost, srv.URL, closedSDKBody{strings.NewReader(body)})
		require.NoError(t, err)
		req.ContentLength = int64(len(body))
		return req
	}

	var seen *http.Request
	_, err := readOnlyBodies{doFunc(func(r *http.Request) (*http.Response, error) { seen = r; return nil, nil })}.Do(request())
	require.NoError(t, err)
	assert.NotImplements(t, (*io.WriterTo)(nil), seen.Body, "net/http can only Read the body")
	b, err := io.ReadAll(seen.Body)
	require.NoError(t, err)
	assert.Equal(t, body, string(b))

	c := readOnlyBodies{http.DefaultClient}
	for range 100 {
		resp, err := c.Do(request())
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, "got 22 bytes", string(got))
	}
}

// doFunc is an HTTP client made of a function.
type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }
