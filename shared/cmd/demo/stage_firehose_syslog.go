package main

import "context"

var firehoseSyslogStage = stage{
	fn:    "firehose-syslog",
	title: "Firehose transformation of RFC 5424 and RFC 3164 syslog, partitioned by message time",
	run: func(ctx context.Context, d *demo) error {
		return d.transformAndPartition(ctx, "firehose-syslog", "mixed.json", "lake-syslog", "syslog/")
	},
}
