package main

import "context"

var firehoseLogsStage = stage{
	fn:    "firehose-logs",
	title: "Firehose transformation of any supported log format (FORMAT; the template's is AWS WAF), partitioned by event time",
	run: func(ctx context.Context, d *demo) error {
		return d.transformAndPartition(ctx, "firehose-logs", "waf.json", "lake-waf", "waf/")
	},
}
