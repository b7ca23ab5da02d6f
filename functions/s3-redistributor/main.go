// Command s3-redistributor copies (or moves) the objects Firehose delivers
// to S3 into time-partitioned destination layouts, such as an hour folder
// and a minute folder, reading each object's time from its key, and
// registers every new partition in the Glue Data Catalog so that Athena
// sees the data at once. It is triggered by S3 event notifications,
// EventBridge "Object Created" events, or SQS / SNS messages carrying them.
//
// Environment: DESTINATIONS, KEY_PATTERNS, TIME_FALLBACK, SOURCE_PREFIX,
// DELETE_SOURCE, KMS_KEY_ID, GLUE_DATABASE, GLUE_TABLES,
// MULTIPART_THRESHOLD, MULTIPART_PART_SIZE, CONCURRENCY, RETRY_ATTEMPTS;
// see README.md.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lakestream/shared/awsclient"
	"lakestream/shared/boot"
)

func main() {
	fn := boot.New()
	cfg := loadConfig(fn.Env)
	aws := awsclient.Config(fn)
	h := newHandler(cfg, s3.NewFromConfig(aws, awsclient.S3PathStyle), glue.NewFromConfig(aws), fn.Log, fn.Metrics)
	fn.Start(h)
}
