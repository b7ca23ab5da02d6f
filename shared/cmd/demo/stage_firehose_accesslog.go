package main

import "context"

var firehoseAccesslogStage = stage{
	fn:    "firehose-accesslog",
	title: "Firehose transformation of Apache and NGINX access logs, partitioned by request time",
	run: func(ctx context.Context, d *demo) error {
		return d.transformAndPartition(ctx, "firehose-accesslog", "combined.json", "lake-access", "access/")
	},
}
