package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"lakestream/shared/config"
	"lakestream/shared/logformat"
	"lakestream/shared/pipeline"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

// Config is the forwarder's settings, read once at start-up.
type Config struct {
	// Format is what the objects hold (FORMAT, with DERIVE_USER_AGENT and
	// VPCFLOW_FIELDS).
	Format logformat.Format
	// Pipeline runs the shared stages over every line (the pipeline's
	// variables; see shared/pipeline).
	Pipeline *pipeline.Pipeline
	// DeliveryStream receives the lines (DELIVERY_STREAM).
	DeliveryStream string
	// ErrorBucket and ErrorPrefix are where each object's failed lines are
	// written (ERROR_BUCKET, default the object's own bucket; ERROR_PREFIX).
	ErrorBucket, ErrorPrefix string
	// MaxLineBytes bounds a line (MAX_LINE_BYTES): a longer one fails, and
	// no more of it is held in memory.
	MaxLineBytes int
	// Retry is the backoff for Firehose, S3 reads and error-object writes
	// (PUT_ATTEMPTS attempts).
	Retry retry.Policy
}

// Defaults and bounds of the settings.
const (
	defaultErrorPrefix = "s3-log-forwarder-errors/"
	// defaultMaxLine is above Firehose's 1,000 KiB record limit, so every
	// line whose output Firehose could take is read.
	defaultMaxLine = 1 << 20
	minMaxLine     = 1 << 10
	maxMaxLine     = 16 << 20
)

// streamName is what Firehose accepts as a delivery stream name.
var streamName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)

// bucketName is the S3 general purpose bucket naming rule, loosely.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// loadConfig reads the settings; problems with them are recorded in env.
// The error is the pipeline's, should it not build from settings env
// found valid.
func loadConfig(env *config.Env) (*Config, error) {
	c := &Config{
		Format:         logformat.LoadFormat(env),
		DeliveryStream: env.Required("DELIVERY_STREAM", "the Firehose delivery stream (Direct PUT) the lines go to"),
		ErrorBucket:    env.String("ERROR_BUCKET", ""),
		ErrorPrefix:    env.String("ERROR_PREFIX", defaultErrorPrefix),
		MaxLineBytes:   int(config.Parse(env, "MAX_LINE_BYTES", int64(defaultMaxLine), "a byte count from 1KiB to 16MiB, such as \"1MiB\"", parseLineBytes)),
		Retry:          retry.Default(),
	}
	c.Retry.MaxAttempts = env.Int("PUT_ATTEMPTS", c.Retry.MaxAttempts, 1, 100)
	if c.DeliveryStream != "" && !streamName.MatchString(c.DeliveryStream) {
		env.Fail("DELIVERY_STREAM", c.DeliveryStream, "a Firehose delivery stream name (1 to 64 of a-z, A-Z, 0-9, _ . -)")
	}
	if c.ErrorBucket != "" && !bucketName.MatchString(c.ErrorBucket) {
		env.Fail("ERROR_BUCKET", c.ErrorBucket, "an S3 bucket name, or empty for the bucket of each object")
	}
	// The prefix keeps error objects apart from the logs: a trigger on the
	// log prefix must never see them, and the policy grants writes under
	// it only.
	if p := strings.TrimPrefix(c.ErrorPrefix, "/"); p == "" || !strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		env.Fail("ERROR_PREFIX", c.ErrorPrefix, `a key prefix ending in "/", such as "s3-log-forwarder-errors/"`)
	} else {
		c.ErrorPrefix = p
	}
	// PutRecordBatch carries no partition keys: refused rather than
	// silently ignored.
	if env.Has("PARTITION_KEYS") {
		env.Fail("PARTITION_KEYS", env.String("PARTITION_KEYS", ""), "unset: PutRecordBatch carries no partition keys; "+
			"partition with the delivery stream's own dynamic partitioning (inline JQ on the JSON lines), see README.md")
	}
	def := c.Format.Defaults
	// Firehose records are cut into lines by their Split; an object is
	// read line by line whatever the format.
	def.Split = pipeline.SplitLines
	if cols := c.Format.KeyColumns.Names(); len(cols) > 0 && def.OutputColumns != "" {
		def.OutputColumns += "," + strings.Join(cols, ",")
	}
	opts := pipeline.LoadDefaults(env, def)
	if env.Err() != nil {
		return c, nil // NewAt would only report the same problems again
	}
	p, err := pipeline.NewAt(c.Format.Parse, opts)
	c.Pipeline = p
	return c, err
}

func parseLineBytes(s string) (int64, error) {
	n, err := config.ParseBytes(s)
	if err == nil && (n < minMaxLine || n > maxMaxLine) {
		err = errors.New("out of range")
	}
	return n, err
}

// errorKey is the key of the n-th error object (from 1) of the source
// object bucket/key: under ERROR_PREFIX, named after the source, so that a
// retried object writes the same keys again.
func (c *Config) errorKey(bucket, key string, n int) string {
	return fmt.Sprintf("%s%s/%s.errors-%04d.ndjson", c.ErrorPrefix, bucket, key, n)
}

// errorBucket is where the failed lines of an object in bucket go.
func (c *Config) errorBucket(bucket string) string {
	if c.ErrorBucket != "" {
		return c.ErrorBucket
	}
	return bucket
}

// recordLimit is Firehose's per-record limit (PutRecordBatch: 1,000 KiB):
// lines are packed into records of at most this, cut between lines.
var recordLimit = streamput.FirehoseLimits.RecordBytes

// flushAt is the output, in bytes, at which the lines written so far are
// sent: under one PutRecordBatch request's 4 MiB, so that a batch is one
// request most of the time.
var flushAt = 3 << 20
