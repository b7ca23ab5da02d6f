// Command cwlogs-decompressor is the Firehose data transformation for
// CloudWatch Logs subscriptions: it gunzips each record's subscription
// payload, drops CONTROL_MESSAGE records and writes the log events as
// lines, JSON objects or Splunk HEC events, with optional filtering and
// dynamic-partitioning keys. Records too large for one Lambda response are
// split and re-ingested into the source stream. A log group subscribed to
// the function directly has its events put into DESTINATION_STREAM.
package main

import (
	sdkfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"lakestream/shared/awsclient"
	"lakestream/shared/boot"
)

func main() {
	fn := boot.New()
	cfg := awsclient.Config(fn)
	h := newHandler(fn, sdkfirehose.NewFromConfig(cfg), kinesis.NewFromConfig(cfg))
	fn.Start(h)
}
