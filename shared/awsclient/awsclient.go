// Package awsclient builds the one aws.Config a function process uses for
// all of its SDK v2 clients: credentials and region from the Lambda
// environment, every call traced by X-Ray, and AWS_ENDPOINT_URL honoured so
// the same binary runs against a local emulator (moto_server) unchanged.
//
// # Retries: one layer, lakestream's
//
// The SDK's own retryer is off: every client makes each call once, and
// every call a function makes goes through lakestream's one retry policy
// (package retry), which classifies the error (throttling, retryable,
// permanent) with the SDK's own lists. Two layers would multiply: the SDK's
// default 3 attempts inside a policy of 20 turn one throttled call into 60,
// and the SDK's client-side retry quota turns sustained throttling into
// "retry quota exceeded" errors that no longer look like throttling. One
// layer also lets a caller decide per call what a retry must re-check
// first: glue-job-trigger looks for the run a lost StartJobRun answer may
// have started before it calls again, which a retry hidden in the SDK
// cannot. AWS_MAX_ATTEMPTS and AWS_RETRY_MODE are therefore ignored.
//
// Where there is no X-Ray segment (local runs, tests), set
// AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR or AWS_XRAY_SDK_DISABLED=true in the
// environment; the local runner and the Makefile do.
package awsclient

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"

	"lakestream/shared/boot"
)

// Config is Load for a function's main: a failure is recorded in fn, which
// Start reports as the init error. Call it once and build every client
// from the result.
func Config(fn *boot.Function) aws.Config {
	cfg, err := Load(context.Background())
	fn.Check(err)
	return cfg
}

// Load returns an aws.Config instrumented for X-Ray, whose clients make
// each call once (NoRetries). Call it once, in main, and build every client
// from it: clients reuse connections across invocations of a warm Lambda.
func Load(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	// The X-Ray SDK logs at info level to stdout by default; keep stdout for
	// our JSON logs and EMF metrics and let X-Ray speak only of problems.
	xray.SetLogger(xraylog.NewDefaultLogger(os.Stderr, xraylog.LogLevelWarn))
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
	NoRetries(&cfg)
	return cfg, nil
}

// NoRetries turns the SDK's retries off in cfg: one attempt per call, no
// client-side retry quota. The caller retries, through package retry.
func NoRetries(cfg *aws.Config) {
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	// Either would wrap the retryer again (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE).
	cfg.RetryMaxAttempts = 0
	cfg.RetryMode = ""
}

// S3PathStyle is an s3.Options function: with a custom endpoint (an emulator
// on 127.0.0.1) bucket names cannot be DNS labels, so use path-style URLs.
// Against real S3 it changes nothing.
func S3PathStyle(o *s3.Options) {
	if os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != "" {
		o.UsePathStyle = true
	}
}
