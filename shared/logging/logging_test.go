package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/golden"
	"lakestream/shared/logging"
)

// lines decodes every JSON line the logger wrote.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), "line %q is not JSON", l)
		out = append(out, m)
	}
	return out
}

// only decodes the one line the logger must have written.
func only(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	ls := lines(t, buf)
	require.Len(t, ls, 1, "want one line, got %q", buf.String())
	return ls[0]
}

func invocation(requestID string) context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID:       requestID,
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:cwlogs",
	})
}

func TestLevel(t *testing.T) {
	tests := map[string]struct {
		vars map[string]string
		want slog.Level
	}{
		"default info":               {vars: nil, want: slog.LevelInfo},
		"debug":                      {vars: map[string]string{"LOG_LEVEL": "debug"}, want: slog.LevelDebug},
		"info":                       {vars: map[string]string{"LOG_LEVEL": "info"}, want: slog.LevelInfo},
		"warn":                       {vars: map[string]string{"LOG_LEVEL": "warn"}, want: slog.LevelWarn},
		"error":                      {vars: map[string]string{"LOG_LEVEL": "error"}, want: slog.LevelError},
		"upper case":                 {vars: map[string]string{"LOG_LEVEL": "DEBUG"}, want: slog.LevelDebug},
		"mixed case and spaces":      {vars: map[string]string{"LOG_LEVEL": " Warn "}, want: slog.LevelWarn},
		"empty is unset":             {vars: map[string]string{"LOG_LEVEL": ""}, want: slog.LevelInfo},
		"lambda DEBUG":               {vars: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "DEBUG"}, want: slog.LevelDebug},
		"lambda INFO":                {vars: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "INFO"}, want: slog.LevelInfo},
		"lambda WARN":                {vars: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "WARN"}, want: slog.LevelWarn},
		"lambda ERROR":               {vars: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "ERROR"}, want: slog.LevelError},
		"lambda TRACE is debug":      {vars: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "TRACE"}, want: slog.LevelDebug},
		"lambda FATAL is error":      {vars: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "FATAL"}, want: slog.LevelError},
		"LOG_LEVEL wins over lambda": {vars: map[string]string{"LOG_LEVEL": "error", "AWS_LAMBDA_LOG_LEVEL": "DEBUG"}, want: slog.LevelError},
		"blank LOG_LEVEL falls back": {vars: map[string]string{"LOG_LEVEL": "  ", "AWS_LAMBDA_LOG_LEVEL": "WARN"}, want: slog.LevelWarn},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(tc.vars))
			assert.Equal(t, tc.want, logging.Level(env))
			assert.NoError(t, env.Err())
		})
	}
}

func TestLevelInvalid(t *testing.T) {
	tests := map[string]struct {
		vars map[string]string
		want slog.Level // what Level falls back to
	}{
		"word":             {vars: map[string]string{"LOG_LEVEL": "verbose"}, want: slog.LevelInfo},
		"slog offset form": {vars: map[string]string{"LOG_LEVEL": "info+2"}, want: slog.LevelInfo},
		"number":           {vars: map[string]string{"LOG_LEVEL": "4"}, want: slog.LevelInfo},
		"warning spelled":  {vars: map[string]string{"LOG_LEVEL": "warning"}, want: slog.LevelInfo},
		"falls back to lambda level": {
			vars: map[string]string{"LOG_LEVEL": "loud", "AWS_LAMBDA_LOG_LEVEL": "ERROR"},
			want: slog.LevelError,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(tc.vars))
			assert.Equal(t, tc.want, logging.Level(env))
			err := env.Err()
			require.Error(t, err, "an invalid LOG_LEVEL must stop the function")
			var ce *config.Error
			require.True(t, errors.As(err, &ce))
			assert.Equal(t, "LOG_LEVEL", ce.Name)
			assert.Equal(t, tc.vars["LOG_LEVEL"], ce.Value)
			assert.Contains(t, err.Error(), "LOG_LEVEL")
			assert.Contains(t, err.Error(), "one of debug, info, warn, error")
		})
	}
}

func TestLineShape(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelInfo, "cwlogs-decompress")
	log.InfoContext(invocation("req-1"), "batch done", "records", 500, "failed", 2)

	line := only(t, &buf)
	assert.Equal(t, "INFO", line["level"])
	assert.Equal(t, "batch done", line["msg"])
	assert.Equal(t, "cwlogs-decompress", line["function"])
	assert.Equal(t, "req-1", line["request_id"])
	assert.Equal(t, float64(500), line["records"])
	assert.Equal(t, float64(2), line["failed"])
	assert.NotEmpty(t, line["time"])
	assert.True(t, strings.HasSuffix(buf.String(), "}\n"), "one event per line")
}

// TestGolden compares an invocation's summary line, time removed, with
// testdata/summary.golden.json.
func TestGolden(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelInfo, "cwlogs-decompress")
	log.With("stream", "orders").InfoContext(invocation("8476a536-e9f4-11e8-9739-2dfe598c3fcd"), "batch done",
		"records_in", 500, "ok", 480, "dropped", 15, "failed", 5, "reingested", 0,
		"bytes_out", 1048576, "elapsed", 1500*time.Millisecond)
	line := only(t, &buf)
	require.Contains(t, line, "time")
	delete(line, "time")
	golden.JSON(t, "testdata/summary.golden.json", line)
}

func TestLevelFiltering(t *testing.T) {
	logAll := func(log *slog.Logger) {
		ctx := invocation("req")
		log.DebugContext(ctx, "d")
		log.InfoContext(ctx, "i")
		log.WarnContext(ctx, "w")
		log.ErrorContext(ctx, "e")
	}
	tests := map[string]struct {
		logLevel string
		want     []string
	}{
		"debug": {logLevel: "debug", want: []string{"d", "i", "w", "e"}},
		"info":  {logLevel: "info", want: []string{"i", "w", "e"}},
		"warn":  {logLevel: "warn", want: []string{"w", "e"}},
		"error": {logLevel: "error", want: []string{"e"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(map[string]string{"LOG_LEVEL": tc.logLevel}))
			var buf bytes.Buffer
			logAll(logging.New(&buf, logging.Level(env), "fn"))
			require.NoError(t, env.Err())
			var got []string
			for _, l := range lines(t, &buf) {
				got = append(got, l["msg"].(string))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRequestID(t *testing.T) {
	tests := map[string]struct {
		log    func(log *slog.Logger)
		wantID string // "" means no request_id key at all
	}{
		"lambda context": {
			log:    func(log *slog.Logger) { log.InfoContext(invocation("8476a536-e9f4-11e8-9739-2dfe598c3fcd"), "m") },
			wantID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
		},
		"lambda context below other values": {
			log: func(log *slog.Logger) {
				type key struct{}
				ctx := context.WithValue(invocation("req-2"), key{}, "x")
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				log.WarnContext(ctx, "m")
			},
			wantID: "req-2",
		},
		"plain context": {
			log: func(log *slog.Logger) { log.InfoContext(context.Background(), "m") },
		},
		"no context": {
			log: func(log *slog.Logger) { log.Info("m") },
		},
		"Log with level": {
			log:    func(log *slog.Logger) { log.Log(invocation("req-3"), slog.LevelError, "m") },
			wantID: "req-3",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.log(logging.New(&buf, slog.LevelDebug, "fn"))
			line := only(t, &buf)
			assert.Equal(t, "fn", line["function"])
			if tc.wantID == "" {
				assert.NotContains(t, line, "request_id")
				return
			}
			assert.Equal(t, tc.wantID, line["request_id"])
			assert.Equal(t, 1, strings.Count(buf.String(), `"request_id"`), "the id appears once")
		})
	}
}

// TestDerivedLoggers checks that loggers made with With and WithGroup still
// carry the function name and request id at the top level of each line,
// where a CloudWatch Logs Insights query looks for them.
func TestDerivedLoggers(t *testing.T) {
	tests := map[string]struct {
		derive func(log *slog.Logger) *slog.Logger
		check  func(t *testing.T, line map[string]any)
	}{
		"With": {
			derive: func(log *slog.Logger) *slog.Logger { return log.With("stream", "orders") },
			check: func(t *testing.T, line map[string]any) {
				assert.Equal(t, "orders", line["stream"])
			},
		},
		"With twice": {
			derive: func(log *slog.Logger) *slog.Logger { return log.With("a", 1).With("b", 2) },
			check: func(t *testing.T, line map[string]any) {
				assert.Equal(t, float64(1), line["a"])
				assert.Equal(t, float64(2), line["b"])
			},
		},
		"WithGroup": {
			derive: func(log *slog.Logger) *slog.Logger { return log.WithGroup("batch") },
			check: func(t *testing.T, line map[string]any) {
				group, _ := line["batch"].(map[string]any)
				assert.Equal(t, float64(3), group["records"], "the call's own attributes go in the group")
			},
		},
		"WithGroup then With": {
			derive: func(log *slog.Logger) *slog.Logger { return log.WithGroup("batch").With("stream", "orders") },
			check: func(t *testing.T, line map[string]any) {
				group, _ := line["batch"].(map[string]any)
				assert.Equal(t, "orders", group["stream"])
				assert.Equal(t, float64(3), group["records"])
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			log := tc.derive(logging.New(&buf, slog.LevelInfo, "fn"))
			log.InfoContext(invocation("req-7"), "m", "records", 3)
			line := only(t, &buf)
			assert.Equal(t, "fn", line["function"])
			assert.Equal(t, "req-7", line["request_id"], "request_id must stay a top-level key: %s", buf.String())
			tc.check(t, line)

			buf.Reset()
			log.Info("no invocation")
			assert.NotContains(t, buf.String(), "request_id")
		})
	}
}

func TestDerivedLoggerFiltersByLevel(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelWarn, "fn").With("a", 1).WithGroup("g")
	log.InfoContext(invocation("r"), "dropped")
	assert.Empty(t, buf.String())
	log.WarnContext(invocation("r"), "kept")
	assert.NotEmpty(t, buf.String())
}

func BenchmarkInfoContext(b *testing.B) {
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelInfo, "cwlogs-decompress")
	ctx := invocation("8476a536-e9f4-11e8-9739-2dfe598c3fcd")
	log.InfoContext(ctx, "batch done", "records", 500, "ok", 498, "failed", 2)
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		log.InfoContext(ctx, "batch done", "records", 500, "ok", 498, "failed", 2)
	}
}
