// Package awsclient builds the one aws.Config a function process uses for
// all of its SDK v2 clients: credentials and region from the Lambda
// environment, every call traced by X-Ray, and AWS_ENDPOINT_URL honoured so
// the same binary runs against a local emulator (moto_server) unchanged.
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

// Load returns an aws.Config instrumented for X-Ray. Call it once, in main,
// and build every client from it: clients reuse connections across
// invocations of a warm Lambda.
func Load(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	// The X-Ray SDK logs at info level to stdout by default; keep stdout for
	// our JSON logs and EMF metrics and let X-Ray speak only of problems.
	xray.SetLogger(xraylog.NewDefaultLogger(os.Stderr, xraylog.LogLevelWarn))
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
	return cfg, nil
}

// S3PathStyle is an s3.Options function: with a custom endpoint (an emulator
// on 127.0.0.1) bucket names cannot be DNS labels, so use path-style URLs.
// Against real S3 it changes nothing.
func S3PathStyle(o *s3.Options) {
	if os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != "" {
		o.UsePathStyle = true
	}
}
