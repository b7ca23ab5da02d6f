// Command ddb-stream-forwarder forwards the records of DynamoDB streams (and
// Kinesis data streams) to Firehose delivery streams as plain JSON lines,
// for an S3 / Athena data lake. Each DynamoDB record becomes one line with
// its table, event, time, keys and images, numbers keeping every digit;
// Kinesis data is forwarded as it is. Records Firehose still rejects after
// retries are returned as batchItemFailures, so Lambda retries from them.
//
// Environment: DELIVERY_STREAM, ROUTES, IMAGES, REMOVES, KINESIS_NEWLINE,
// OVERFLOW_BUCKET, OVERFLOW_PREFIX, PUT_ATTEMPTS; see README.md.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lakestream/shared/awsclient"
	"lakestream/shared/boot"
)

func main() {
	fn := boot.New()
	cfg := loadConfig(fn.Env)
	aws := awsclient.Config(fn)
	h := newHandler(cfg, firehose.NewFromConfig(aws), s3.NewFromConfig(aws, awsclient.S3PathStyle), fn.Log, fn.Metrics)
	fn.Start(h)
}
