// Package awsclient builds the one aws.Config a function process uses for
// all of its SDK v2 clients: credentials and region from the Lambda
// environment, every call traced by X-Ray (package xraytrace: one
// subsegment per call, without linking the X-Ray SDK's core), and
// AWS_ENDPOINT_URL honoured so the same binary runs against a local
// emulator (moto_server) unchanged.
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
// Where there is no X-Ray trace header in a call's context (local runs,
// tests) the call is simply not traced; AWS_XRAY_SDK_DISABLED=true turns
// tracing off altogether.
package awsclient

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lakestream/shared/boot"
	"lakestream/shared/streamput"
	"lakestream/shared/xraytrace"
)

// Config is Load for a function's main: a failure is recorded in fn, which
// Start reports as the init error. Call it once and build every client
// from the result.
func Config(fn *boot.Function) aws.Config {
	cfg, err := Load(context.Background())
	fn.Check(err)
	return cfg
}

// Streams is the client of Firehose's PutRecordBatch and Kinesis's
// PutRecords (streamput.Client) on cfg, for a function's main: a failure is
// recorded in fn. Functions use it instead of the SDK's Firehose and
// Kinesis clients, which cost start-up time and per-call CPU (see
// streamput.Client).
func Streams(fn *boot.Function, cfg aws.Config) *streamput.Client {
	c, err := streamput.NewClient(cfg, os.Getenv)
	fn.Check(err)
	return c
}

// Load returns an aws.Config instrumented for X-Ray, whose clients make
// each call once (NoRetries). Call it once, in main, and build every client
// from it: clients reuse connections across invocations of a warm Lambda.
func Load(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	tracer, err := xraytrace.New()
	if err != nil {
		return aws.Config{}, fmt.Errorf("set up X-Ray tracing: %w", err)
	}
	tracer.Resources = s3Resources
	tracer.Instrument(&cfg.APIOptions)
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

// s3Resources names the bucket and key of an S3 object call in its X-Ray
// subsegment ("bucket_name", "key"), as the X-Ray SDK's parameter whitelist
// does for GetObject, PutObject and DeleteObject, and for the other object
// calls lakestream makes (the whitelist predates them). The other services
// lakestream calls (Glue, Firehose, Kinesis) have no whitelist entry.
func s3Resources(params any, dst []xraytrace.Field) []xraytrace.Field {
	var bucket, key *string
	switch in := params.(type) {
	case *s3.GetObjectInput:
		bucket, key = in.Bucket, in.Key
	case *s3.PutObjectInput:
		bucket, key = in.Bucket, in.Key
	case *s3.DeleteObjectInput:
		bucket, key = in.Bucket, in.Key
	case *s3.HeadObjectInput:
		bucket, key = in.Bucket, in.Key
	case *s3.CopyObjectInput:
		bucket, key = in.Bucket, in.Key
	case *s3.CreateMultipartUploadInput:
		bucket, key = in.Bucket, in.Key
	case *s3.UploadPartCopyInput:
		bucket, key = in.Bucket, in.Key
	case *s3.CompleteMultipartUploadInput:
		bucket, key = in.Bucket, in.Key
	case *s3.AbortMultipartUploadInput:
		bucket, key = in.Bucket, in.Key
	default:
		return dst
	}
	if bucket != nil {
		dst = append(dst, xraytrace.Field{Key: "bucket_name", Value: *bucket})
	}
	if key != nil {
		dst = append(dst, xraytrace.Field{Key: "key", Value: *key})
	}
	return dst
}
