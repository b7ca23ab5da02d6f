// Command firehose-json is a Firehose data transformation for records that
// are already JSON (application events, DynamoDB images): each document is
// validated and goes through the shared pipeline (filter, enrich, mask,
// validate, partition keys) to newline-delimited JSON, CSV or TSV.
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
// problem is recorded in fn and reported by Start as the init error. A
// Firehose record may hold several documents, pretty-printed or not.
func newHandler(fn *boot.Function) *firehose.Handler {
	f, _ := logformat.NewFormat(logformat.JSON, false)
	return transformer.NewHandler(fn, transformer.FromLogFormat(f))
}
