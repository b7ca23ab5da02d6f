// Command firehose-syslog is a Firehose data transformation for syslog
// messages, RFC 5424 and RFC 3164 (BSD) told apart per line: each becomes a
// JSON object (or CSV/TSV row) with priority, facility and severity names,
// timestamp, hostname, app name, procid, msgid, structured data and message
// (see shared/syslog), through the shared pipeline (filter, enrich, mask,
// validate, partition keys from the message time). An RFC 3164 timestamp
// has no year: it is dated against the record's Firehose arrival time, so
// a retried or re-driven record is dated the same.
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
	f, _ := logformat.NewFormat(logformat.Syslog, false)
	return transformer.NewHandler(fn, transformer.FromLogFormat(f))
}
