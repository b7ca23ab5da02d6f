// Command firehose-logs is a Firehose data transformation for any log
// format lakestream reads, chosen by FORMAT (shared/logformat): alb,
// s3access, vpcflow, cloudtrail and waf besides accesslog, cloudfront,
// syslog and json, whose own functions (firehose-accesslog, ...) are this
// one with the format fixed. Each line becomes a JSON object (or CSV/TSV
// row) with the format's typed fields, through the shared pipeline
// (filter, enrich, mask, validate, select, partition keys from the event
// time); a line that does not parse fails its record, with the reason
// logged. The S3 log forwarder reads the same formats from S3 objects.
package main

import (
	"lakestream/shared/boot"
	"lakestream/shared/firehose"
	"lakestream/shared/logformat"
	"lakestream/shared/transformer"
)

func main() {
	fn := boot.New()
	fn.Start(newHandler(fn))
}

// newHandler builds the transformation from the function's settings; a
// problem is recorded in fn and reported by Start as the init error.
func newHandler(fn *boot.Function) *firehose.Handler {
	return transformer.NewHandler(fn, transformer.FromLogFormat(logformat.LoadFormat(fn.Env)))
}
