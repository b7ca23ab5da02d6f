// Package runtimeapi serves a function's invocations from the Lambda
// Runtime API, as aws-lambda-go's lambda.Start does for a lambda.Handler
// (request bytes in, response bytes out), and reports init errors to it.
//
// It exists for speed. aws-lambda-go posts every response chunked, copied
// through a 32 KB buffer in as many writes, because it takes responses as
// streams; here a response goes out with its length in one write, and an
// event is read at its stated length into the last one's memory. On the
// 1 MB Firehose batches that cuts the CPU an invocation costs the
// function and the Runtime API together by 15-25% (see README,
// Performance). What a handler sees is what aws-lambda-go gives it: a
// context with the deadline, lambdacontext's values and the X-Ray trace
// header (also in _X_AMZN_TRACE_ID), and AWS_LAMBDA_MAX_CONCURRENCY loops.
// Errors are reported as aws-lambda-go reports them, and a panic, after
// it is reported, ends the process.
package runtimeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Serve takes events from the Runtime API at api (host:port) and answers
// each with h, in lambdacontext.MaxConcurrency() loops. It returns only
// when it cannot go on: the Runtime API failed or a handler panicked. The
// process should then exit, as Lambda expects.
func Serve(api string, h lambda.Handler, log *slog.Logger) error {
	return serve(api, h, log, lambdacontext.MaxConcurrency())
}

func serve(api string, h lambda.Handler, log *slog.Logger, n int) error {
	if api == "" {
		return errors.New("AWS_LAMBDA_RUNTIME_API is not set: this binary runs under Lambda, sam local invoke or the local runner (make invoke)")
	}
	stopped := make(chan error, n)
	for range n {
		go func() {
			s := server{client: client{addr: api}, handler: h, log: log, traceEnv: n == 1}
			stopped <- s.loop()
		}()
	}
	return <-stopped
}

// server is one loop: one connection, one invocation at a time.
type server struct {
	client
	handler lambda.Handler
	log     *slog.Logger
	// traceEnv: also put the trace header into _X_AMZN_TRACE_ID, which is
	// the process's and so only right when one loop runs.
	traceEnv bool
}

func (s *server) loop() error {
	for {
		event, header, err := s.next()
		if err != nil {
			return err
		}
		if err := s.invoke(event, header); err != nil {
			return err
		}
	}
}

// invoke runs the handler on one event and posts its response or error.
func (s *server) invoke(event []byte, header map[string][]string) error {
	id := first(header, "Lambda-Runtime-Aws-Request-Id")
	path := "invocation/" + url.PathEscape(id)
	ctx, cancel, err := s.context(id, header)
	if err != nil {
		return s.fail(path, errorResponse(err))
	}
	defer cancel()
	response, failure := call(ctx, s.handler, event)
	if failure != nil {
		if err := s.fail(path, failure); err != nil {
			return err
		}
		if failure.ShouldExit {
			return fmt.Errorf("the handler panicked: %s", failure.Message)
		}
		return nil
	}
	return s.post(path+"/response", response)
}

// context is the invocation's: its deadline, lambdacontext's values and
// the trace header under aws-lambda-go's key (see shared/xraytrace).
func (s *server) context(id string, header map[string][]string) (context.Context, context.CancelFunc, error) {
	ms, err := strconv.ParseInt(first(header, "Lambda-Runtime-Deadline-Ms"), 10, 64)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse deadline: %w", err)
	}
	lc := &lambdacontext.LambdaContext{
		AwsRequestID:       id,
		InvokedFunctionArn: first(header, "Lambda-Runtime-Invoked-Function-Arn"),
		TenantID:           first(header, "Lambda-Runtime-Aws-Tenant-Id"),
	}
	if v := first(header, "Lambda-Runtime-Cognito-Identity"); v != "" {
		if err := json.Unmarshal([]byte(v), &lc.Identity); err != nil {
			return nil, nil, fmt.Errorf("failed to unmarshal cognito identity json: %w", err)
		}
	}
	if v := first(header, "Lambda-Runtime-Client-Context"); v != "" {
		if err := json.Unmarshal([]byte(v), &lc.ClientContext); err != nil {
			return nil, nil, fmt.Errorf("failed to unmarshal client context json: %w", err)
		}
	}
	trace := first(header, "Lambda-Runtime-Trace-Id")
	if s.traceEnv {
		os.Setenv("_X_AMZN_TRACE_ID", trace)
	}
	ctx, cancel := context.WithDeadline(context.Background(), time.UnixMilli(ms))
	ctx = lambdacontext.NewContext(ctx, lc)
	ctx = context.WithValue(ctx, "x-amzn-trace-id", trace) //nolint:staticcheck // aws-lambda-go's own key, which the X-Ray SDK reads
	return ctx, cancel, nil
}

// first is a header's value; the Runtime API's names are canonical.
func first(header map[string][]string, name string) string {
	if v := header[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// call runs the handler, turning an error or a panic into the Runtime
// API's error body.
func call(ctx context.Context, h lambda.Handler, event []byte) (response []byte, failure *messages.InvokeResponse_Error) {
	defer func() {
		if v := recover(); v != nil {
			failure = &messages.InvokeResponse_Error{Message: fmt.Sprint(v), Type: typeName(v), StackTrace: stack(), ShouldExit: true}
		}
	}()
	response, err := h.Invoke(ctx, event)
	if err != nil {
		return nil, errorResponse(err)
	}
	return response, nil
}

// errorResponse is err as the Runtime API's error body: its message and
// its type's name, as aws-lambda-go names it.
func errorResponse(err error) *messages.InvokeResponse_Error {
	if e, ok := err.(messages.InvokeResponse_Error); ok {
		return &e
	}
	return &messages.InvokeResponse_Error{Message: err.Error(), Type: typeName(err)}
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// stack is the panicking goroutine's stack, from the panic's caller on.
func stack() []*messages.InvokeResponse_Error_StackFrame {
	pc := make([]uintptr, 32)
	pc = pc[:runtime.Callers(4, pc)] // runtime.Callers, stack, call's deferred func
	var frames []*messages.InvokeResponse_Error_StackFrame
	for f, more := runtime.CallersFrames(pc), true; more; {
		var frame runtime.Frame
		frame, more = f.Next()
		frames = append(frames, &messages.InvokeResponse_Error_StackFrame{Path: frame.File, Line: int32(frame.Line), Label: frame.Function})
	}
	return frames
}

// fail logs an invocation's failure and posts it to path/error, with the
// cause X-Ray records for the invocation's segment.
func (s *server) fail(path string, failure *messages.InvokeResponse_Error) error {
	s.log.Error("invocation failed", "errorType", failure.Type, "errorMessage", failure.Message)
	body, _ := json.Marshal(failure) // strings and numbers: it cannot fail
	return s.post(path+"/error", body,
		header{"Lambda-Runtime-Function-Error-Type", failure.Type},
		header{"Lambda-Runtime-Function-Xray-Error-Cause", xrayCause(failure)})
}

// xrayCause is the error's cause as X-Ray records it.
func xrayCause(failure *messages.InvokeResponse_Error) string {
	type exception struct {
		Type    string                                      `json:"type"`
		Message string                                      `json:"message"`
		Stack   []*messages.InvokeResponse_Error_StackFrame `json:"stack"`
	}
	cause := struct {
		WorkingDirectory string      `json:"working_directory"`
		Exceptions       []exception `json:"exceptions"`
		Paths            []string    `json:"paths"`
	}{Exceptions: []exception{{failure.Type, failure.Message, failure.StackTrace}}, Paths: []string{}}
	cause.WorkingDirectory, _ = os.Getwd()
	if cause.Exceptions[0].Stack == nil {
		cause.Exceptions[0].Stack = []*messages.InvokeResponse_Error_StackFrame{}
	}
	for _, f := range failure.StackTrace {
		if !slices.Contains(cause.Paths, f.Path) {
			cause.Paths = append(cause.Paths, f.Path)
		}
	}
	b, _ := json.Marshal(cause)
	return string(b)
}

// ReportInitError tells the Runtime API at api that start-up failed, so
// Lambda (and the local runner) show the reason, not just
// "Runtime.ExitError". Outside Lambda (no api) there is nobody to tell.
func ReportInitError(api string, cause error) error {
	if api == "" {
		return nil
	}
	body, _ := json.Marshal(messages.InvokeResponse_Error{Message: cause.Error(), Type: "InvalidConfiguration"})
	c := client{addr: api}
	defer c.close()
	return c.post("init/error", body, header{"Lambda-Runtime-Function-Error-Type", "Runtime.InitError"})
}
