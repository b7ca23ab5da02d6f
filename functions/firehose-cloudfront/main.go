// Command firehose-cloudfront is a Firehose data transformation for Amazon
// CloudFront standard logs: each tab-separated line becomes a JSON object
// (or CSV/TSV row) with the documented fields in their documented order,
// URL-decoded, "#" header lines dropped (see shared/cloudfront), through
// the shared pipeline (filter, enrich, mask, validate, partition keys from
// the request time). DERIVE_USER_AGENT=true adds browser_family, os_family
// and is_bot.
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
	f, _ := logformat.NewFormat(logformat.CloudFront, fn.Env.Bool("DERIVE_USER_AGENT", false))
	return transformer.NewHandler(fn, transformer.FromLogFormat(f))
}
