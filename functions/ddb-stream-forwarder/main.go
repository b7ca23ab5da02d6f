// Command ddb-stream-forwarder forwards the records of DynamoDB streams (and
// Kinesis data streams) to Firehose delivery streams as plain JSON lines,
// for an S3 / Athena data lake. Each DynamoDB record becomes one line,
// numbers keeping every digit: its table, event, time, keys and images
// (the envelope), the item itself, or a projection of both; the shared
// pipeline's stages (mask, filter, validate, ...) then run on it when set.
// Kinesis data is forwarded as it is. Records Firehose still rejects after
// retries are returned as batchItemFailures, so Lambda retries from them.
//
// Environment: DELIVERY_STREAM, ROUTES, IMAGES, REMOVES, OUTPUT_SHAPE,
// PROJECTION, KINESIS_NEWLINE, OVERFLOW_BUCKET, OVERFLOW_PREFIX,
// PUT_ATTEMPTS, and shared/pipeline's but PARTITION_KEYS; see README.md.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lakestream/shared/awsclient"
	"lakestream/shared/boot"
)

func main() {
	fn := boot.New()
	cfg := loadConfig(fn.Env)
	aws := awsclient.Config(fn)
	h := newHandler(cfg, awsclient.Streams(fn, aws), s3.NewFromConfig(aws, awsclient.S3PathStyle), fn.Log, fn.Metrics)
	fn.Start(h)
}
