// Package boot is what every lakestream main.go does before and around
// lambda.Start: read settings once from the environment, set up JSON logging
// and EMF metrics, build the one AWS config, and, when any of that fails,
// report an init error naming the problem instead of serving invocations.
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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"lakestream/shared/config"
	"lakestream/shared/logging"
	"lakestream/shared/metrics"
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

// Start serves invocations with handler (any signature lambda.Start
// accepts), or, when configuration or set-up failed, reports the init error
// to the Lambda Runtime API and exits.
func (f *Function) Start(handler any) {
	if err := f.Err(); err != nil {
		f.Log.Error("init failed", "error", err.Error())
		if rerr := reportInitError(os.Getenv("AWS_LAMBDA_RUNTIME_API"), err); rerr != nil {
			f.Log.Error("init error not reported to the runtime API", "error", rerr.Error())
		}
		os.Exit(1)
	}
	lambda.Start(handler)
}

// reportInitError posts to /runtime/init/error so Lambda (and the local
// runner) show the reason, not just "Runtime.ExitError".
func reportInitError(api string, cause error) error {
	if api == "" {
		return nil
	}
	body, _ := json.Marshal(map[string]string{"errorMessage": cause.Error(), "errorType": "InvalidConfiguration"})
	req, err := http.NewRequest(http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("runtime API answered %s", resp.Status)
	}
	return nil
}
