// Command cwlogs-decompressor is the Firehose data transformation for
// CloudWatch Logs subscriptions: it gunzips each record's subscription
// payload, drops CONTROL_MESSAGE records and writes the log events as
// lines, JSON objects or Splunk HEC events, with optional filtering and
// dynamic-partitioning keys. Records too large for one Lambda response are
// split and re-ingested into the source stream. A log group subscribed to
// the function directly has its events put into DESTINATION_STREAM.
package main

import (
	"lakestream/shared/awsclient"
	"lakestream/shared/boot"
)

func main() {
	fn := boot.New()
	streams := awsclient.Streams(fn, awsclient.Config(fn))
	h := newHandler(fn, streams, streams)
	fn.Start(h)
}
