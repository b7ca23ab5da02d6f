// Package logging sets up log/slog for a Lambda function: JSON, one line per
// event, on stdout (where Lambda's JSON log format expects it), every line
// carrying the function name and the request id of the invocation it belongs
// to. Payloads and record data never go into logs; counts and ids do.
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"lakestream/shared/config"
)

// Levels are the values LOG_LEVEL accepts.
var Levels = []string{"debug", "info", "warn", "error"}

// Level reads LOG_LEVEL (default info). Lambda's own AWS_LAMBDA_LOG_LEVEL,
// set by the template's LoggingConfig.ApplicationLogLevel, is the fallback.
func Level(env *config.Env) slog.Level {
	def := strings.ToLower(env.String("AWS_LAMBDA_LOG_LEVEL", "info"))
	switch def {
	case "trace":
		def = "debug"
	case "fatal":
		def = "error"
	}
	var l slog.Level
	_ = l.UnmarshalText([]byte(env.OneOf("LOG_LEVEL", def, Levels...)))
	return l
}

// New returns a JSON logger writing to w with the function name on every
// line and the request id of the context passed to each *Context call.
func New(w io.Writer, level slog.Level, functionName string) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(requestIDHandler{base: h, current: h}).With("function", functionName)
}

// requestIDHandler adds the Lambda request id from the context, so handler
// code logs with log.InfoContext(ctx, ...) and never threads ids by hand.
// The id is added to the handler as it was before any WithAttrs/WithGroup,
// which are then replayed: added to the record instead, it would land
// inside an open group, where a log query on request_id misses it.
type requestIDHandler struct {
	base    slog.Handler
	derive  []func(slog.Handler) slog.Handler
	current slog.Handler // base with derive applied
}

func (h requestIDHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.current.Enabled(ctx, l)
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok || lc == nil {
		return h.current.Handle(ctx, r)
	}
	out := h.base.WithAttrs([]slog.Attr{slog.String("request_id", lc.AwsRequestID)})
	for _, d := range h.derive {
		out = d(out)
	}
	return out.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.with(func(x slog.Handler) slog.Handler { return x.WithAttrs(attrs) })
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return h.with(func(x slog.Handler) slog.Handler { return x.WithGroup(name) })
}

func (h requestIDHandler) with(d func(slog.Handler) slog.Handler) slog.Handler {
	return requestIDHandler{base: h.base, derive: append(h.derive[:len(h.derive):len(h.derive)], d), current: d(h.current)}
}
