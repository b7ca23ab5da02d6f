// Command firehose-accesslog is a Firehose data transformation for Apache
// httpd and NGINX access logs in the common and combined formats and their
// virtual-host variants: each line becomes a JSON object with typed fields
// (see shared/accesslog) or a CSV/TSV row, through the shared pipeline
// (filter, enrich, mask, validate, partition keys from the request time).
// A line that does not parse fails its record, with the reason logged.
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
	f, _ := logformat.NewFormat(logformat.AccessLog, false)
	return transformer.NewHandler(fn, transformer.FromLogFormat(f))
}
