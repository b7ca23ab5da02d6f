// Package lambdarun runs a real Lambda `bootstrap` binary locally: it serves
// the Lambda Runtime API (next, response, error, init error) on loopback,
// starts the binary with the function's environment (template.yaml's, with
// its Timeout), hands it events with a sampled X-Ray trace header, plays
// the X-Ray daemon to collect the subsegments of its AWS calls, and returns
// what it answered, as `sam local invoke` does without Docker. Binaries
// come from a build cache in .build/cache shared by every process of the
// repository, keyed by the sources they are built from.
package lambdarun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const apiPrefix = "/2018-06-01/runtime"

// FunctionError is an error the function reported: from an invocation
// (POST .../invocation/{id}/error) or from start-up (POST .../init/error, or
// the process exiting).
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
	Init    bool   `json:"-"`
	cause   error  // ErrTimedOut for a timeout
}

// Unwrap gives ErrTimedOut for a timeout.
func (e *FunctionError) Unwrap() error { return e.cause }

func (e *FunctionError) Error() string {
	if e.Init {
		return fmt.Sprintf("init error %s: %s", e.Type, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Type, e.Message)
}

// Invocation is one event handed to the function.
type Invocation struct {
	RequestID   string
	Payload     []byte
	Deadline    time.Time
	FunctionARN string
	TraceID     string // the Lambda-Runtime-Trace-Id header
	traceRoot   string // its Root: the X-Ray trace id
	timeout     time.Duration
	done        chan result
	// into, when reuse is set, is the caller's memory for the response
	// (see Function.InvokeInto).
	into  []byte
	reuse bool
}

type result struct {
	payload []byte
	err     *FunctionError
}

// Server is the Runtime API for one function process.
type Server struct {
	listener net.Listener
	http     *http.Server
	queue    chan *Invocation
	failed   chan struct{} // closed on init error or process exit
	mu       sync.Mutex
	inflight map[string]*Invocation
	initErr  *FunctionError
	seq      int
	// asked is closed, and askedAt set, when the function first asks for
	// an event (GET /next): the end of its init.
	asked     chan struct{}
	askedOnce sync.Once
	askedAt   time.Time
	// body is the buffer responses of unknown length are read into
	// (see appendAll), kept for the next one. Only copies of it leave the
	// server (callers keep the payload).
	bodyMu sync.Mutex
	body   []byte
}

// NewServer listens on a free loopback port.
func NewServer() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdarun: listen: %w", err)
	}
	s := &Server{listener: ln, queue: make(chan *Invocation), failed: make(chan struct{}), inflight: map[string]*Invocation{}, asked: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"/invocation/next", s.next)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/response", s.response)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/error", s.invocationError)
	mux.HandleFunc("POST "+apiPrefix+"/init/error", s.initError)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go s.http.Serve(ln) //nolint:errcheck // Serve returns when Close is called.
	return s, nil
}

// Addr is host:port, the value of AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Close stops serving.
func (s *Server) Close() error { return s.http.Close() }

// ErrTimedOut is the error of an invocation the function did not answer
// within its timeout (or, for its first, did not ask for in that time): a
// *FunctionError of type Sandbox.Timedout, as Lambda reports it, wraps it.
var ErrTimedOut = errors.New("task timed out")

func timedOut(format string, args ...any) *FunctionError {
	return &FunctionError{Type: "Sandbox.Timedout", Message: fmt.Sprintf(format, args...), cause: ErrTimedOut}
}

// Invoke hands payload to the function and waits for its answer. A function
// error (including an init error) is returned as *FunctionError; no answer
// within timeout, counted from when the function takes the event (as
// Lambda counts it, init apart), wraps ErrTimedOut.
func (s *Server) Invoke(ctx context.Context, payload []byte, timeout time.Duration) ([]byte, error) {
	return s.invoke(ctx, s.newInvocation(payload, timeout))
}

// newInvocation numbers an invocation and gives it a sampled X-Ray trace of
// its own, as Lambda does with active tracing.
func (s *Server) newInvocation(payload []byte, timeout time.Duration) *Invocation {
	s.mu.Lock()
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	root := newTraceID()
	return &Invocation{
		RequestID:   fmt.Sprintf("00000000-0000-4000-8000-%012d", seq),
		Payload:     payload,
		FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:local",
		TraceID:     "Root=" + root + ";Parent=" + newID(8) + ";Sampled=1",
		traceRoot:   root,
		timeout:     timeout,
		done:        make(chan result, 1),
	}
}

func (s *Server) invoke(ctx context.Context, inv *Invocation) ([]byte, error) {
	timeout := inv.timeout
	waiting := time.NewTimer(timeout)
	defer waiting.Stop()
	select {
	case s.queue <- inv:
	case <-s.failed:
		return nil, s.failure()
	case <-waiting.C:
		return nil, timedOut("the function never asked for the event within %.2f seconds", timeout.Seconds())
	case <-ctx.Done():
		return nil, fmt.Errorf("lambdarun: function never asked for the event: %w", ctx.Err())
	}
	running := time.NewTimer(timeout)
	defer running.Stop()
	select {
	case r := <-inv.done:
		if r.err != nil {
			return nil, r.err
		}
		return r.payload, nil
	case <-s.failed:
		return nil, s.failure()
	case <-running.C:
		return nil, timedOut("task timed out after %.2f seconds", timeout.Seconds())
	case <-ctx.Done():
		return nil, fmt.Errorf("lambdarun: invocation %s: %w", inv.RequestID, ctx.Err())
	}
}

// Exited tells the server the process is gone: pending and later
// invocations fail with err (unless an init error already explains it).
func (s *Server) Exited(err error) {
	msg := "process exited"
	if err != nil {
		msg = err.Error()
	}
	s.fail(&FunctionError{Type: "Runtime.ExitError", Message: msg, Init: true})
}

func (s *Server) fail(e *FunctionError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.initErr != nil {
		return
	}
	s.initErr = e
	close(s.failed)
}

// Ready waits until the function first asks for an event and returns
// when it did, or its init error (or exit) if it never does.
func (s *Server) Ready(ctx context.Context) (time.Time, error) {
	select {
	case <-s.asked:
		return s.askedAt, nil
	case <-s.failed:
		return time.Time{}, s.failure()
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("lambdarun: function never asked for an event: %w", ctx.Err())
	}
}

func (s *Server) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initErr
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.askedOnce.Do(func() {
		s.askedAt = time.Now()
		close(s.asked)
	})
	var inv *Invocation
	select {
	case inv = <-s.queue:
	case <-s.failed:
		http.Error(w, "runtime failed", http.StatusGone)
		return
	case <-r.Context().Done():
		return
	}
	s.mu.Lock()
	// The clock starts when the function takes the event.
	inv.Deadline = time.Now().Add(inv.timeout)
	s.inflight[inv.RequestID] = inv
	s.mu.Unlock()
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.RequestID)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.Deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.FunctionARN)
	h.Set("Lambda-Runtime-Trace-Id", inv.TraceID)
	h.Set("Content-Type", "application/json")
	// As Lambda's Runtime API does; without it the event goes chunked.
	h.Set("Content-Length", strconv.Itoa(len(inv.Payload)))
	w.Write(inv.Payload) //nolint:errcheck // the function retries /next if this fails.
}

func (s *Server) take(w http.ResponseWriter, r *http.Request) (*Invocation, []byte, bool) {
	id := r.PathValue("id")
	s.mu.Lock()
	inv := s.inflight[id]
	delete(s.inflight, id)
	s.mu.Unlock()
	if inv == nil {
		http.Error(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return nil, nil, false
	}
	body, err := s.readBody(r, inv)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		inv.done <- result{err: &FunctionError{Type: "Runtime.ReadError", Message: err.Error()}}
		return nil, nil, false
	}
	w.WriteHeader(http.StatusAccepted)
	return inv, body, true
}

// readBody returns r's body: in the invocation's own memory when it
// brought some (InvokeInto), else in a slice of its own, read into
// exactly that when the request says its length, or (aws-lambda-go's
// lambda.Start sends its responses chunked) into the server's reused
// buffer, then copied once.
func (s *Server) readBody(r *http.Request, inv *Invocation) ([]byte, error) {
	n := r.ContentLength
	if n > maxBody {
		n = -1
	}
	var (
		body []byte
		err  error
	)
	switch {
	case inv.reuse && n >= 0:
		body = slices.Grow(inv.into[:0], int(n))[:n]
		_, err = io.ReadFull(r.Body, body)
	case inv.reuse:
		body, err = appendAll(inv.into[:0], r.Body)
	case n >= 0:
		body = make([]byte, n)
		_, err = io.ReadFull(r.Body, body)
	default:
		s.bodyMu.Lock()
		s.body, err = appendAll(s.body[:0], r.Body)
		if err == nil {
			body = slices.Clone(s.body)
		}
		s.bodyMu.Unlock()
	}
	if err != nil {
		return nil, fmt.Errorf("lambdarun: read the body: %w", err)
	}
	return body, nil
}

// appendAll appends what r holds to buf, growing it only when full: read
// with io.ReadAll, a chunked 1.3 MB response cost its growth copies,
// clearing and page faults on every invocation.
func appendAll(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // room to read into
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// maxBody bounds a body read at its stated length: a response larger
// than Lambda's 6 MB limit several times over is read as one of unknown
// length, growing the buffer only as far as it really goes.
const maxBody = 64 << 20

func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	if inv, body, ok := s.take(w, r); ok {
		inv.done <- result{payload: body}
	}
}

func (s *Server) invocationError(w http.ResponseWriter, r *http.Request) {
	if inv, body, ok := s.take(w, r); ok {
		inv.done <- result{err: decodeError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"), false)}
	}
}

func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.WriteHeader(http.StatusAccepted)
	s.fail(decodeError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"), true))
}

func decodeError(body []byte, headerType string, init bool) *FunctionError {
	e := &FunctionError{Init: init}
	if err := json.Unmarshal(body, e); err != nil || (e.Message == "" && e.Type == "") {
		e.Message = strings.TrimSpace(string(body))
	}
	if e.Type == "" {
		e.Type = headerType
	}
	if e.Type == "" {
		e.Type = "Unhandled"
	}
	return e
}

// IsInit reports whether err is a start-up failure of the function.
func IsInit(err error) bool {
	var fe *FunctionError
	return errors.As(err, &fe) && fe.Init
}
