package main

import "context"

var firehoseCloudfrontStage = stage{
	fn:    "firehose-cloudfront",
	title: "Firehose transformation of CloudFront standard logs, partitioned by request time",
	run: func(ctx context.Context, d *demo) error {
		return d.transformAndPartition(ctx, "firehose-cloudfront", "standard-log.json", "lake-cloudfront", "cloudfront/")
	},
}
