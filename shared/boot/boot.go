// Package boot is what every lakestream main.go does before and around
// serving invocations: read settings once from the environment, set up
// JSON logging and EMF metrics, build the one AWS config, and, when any of
// that fails, report an init error naming the problem instead of serving
// invocations.
//
//	fn := boot.New()
//	cfg := loadConfig(fn.Env)
//	h := newHandler(cfg, firehose.NewFromConfig(awsclient.Config(fn)))
//	fn.Start(h)
//
// boot itself links no AWS SDK: a function that makes no AWS call (the
// Firehose transformers) starts as fast as a minimal Lambda function, and
// only the functions that call AWS pay for the SDK and X-Ray (awsclient).
package boot

import (
	"errors"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"lakestream/shared/config"
	"lakestream/shared/logging"
	"lakestream/shared/metrics"
	"lakestream/shared/runtimeapi"
)

// Namespace is the CloudWatch metrics namespace of every lakestream function.
const Namespace = "lakestream"

// Function holds what a function's main needs to build its handler.
type Function struct {
	Name    string
	Env     *config.Env
	Log     *slog.Logger
	Metrics *metrics.Recorder
	errs    []error
}

// New reads LOG_LEVEL and the Lambda function name from the process
// environment; logs and metrics go to stdout, where Lambda collects them.
// It also sets the Go runtime's soft memory limit from the function's
// memory size (see limitMemory).
func New() *Function {
	fn := NewFrom(os.Getenv, os.Stdout)
	limitMemory(fn.Env)
	return fn
}

// NewFrom is New with the environment and output given, so tests build a
// function's handler exactly as its main does.
func NewFrom(getenv func(string) string, out io.Writer) *Function {
	env := config.New(getenv)
	name := env.String("AWS_LAMBDA_FUNCTION_NAME", "local")
	return &Function{
		Name:    name,
		Env:     env,
		Log:     logging.New(out, logging.Level(env), name),
		Metrics: metrics.New(out, Namespace, "FunctionName", name),
	}
}

// Err is every start-up problem so far: invalid settings and failed set-up.
func (f *Function) Err() error {
	return errors.Join(append([]error{f.Env.Err()}, f.errs...)...)
}

// Check records a start-up error (a handler that could not be built); Start
// then reports it as the init error.
func (f *Function) Check(err error) {
	if err != nil {
		f.errs = append(f.errs, err)
	}
}

// Start serves invocations with handler from the Lambda Runtime API
// (shared/runtimeapi), or, when configuration or set-up failed, reports
// the init error to it. Either way the process exits when Lambda is done
// with it.
func (f *Function) Start(handler lambda.Handler) {
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	if err := f.Err(); err != nil {
		f.Log.Error("init failed", "error", err.Error())
		if rerr := runtimeapi.ReportInitError(api, err); rerr != nil {
			f.Log.Error("init error not reported to the runtime API", "error", rerr.Error())
		}
		os.Exit(1)
	}
	err := runtimeapi.Serve(api, handler, f.Log)
	f.Log.Error("stopped serving invocations", "error", err.Error())
	os.Exit(1)
}
