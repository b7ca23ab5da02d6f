package main

import "context"

var firehoseJSONStage = stage{
	fn:    "firehose-json",
	title: "Firehose transformation of JSON application events",
	run: func(ctx context.Context, d *demo) error {
		const bucket, stream = "lake-json", "json-events"
		if err := d.createLake(ctx, bucket, stream, "events/"); err != nil {
			return err
		}
		if _, err := d.transformAndDeliver(ctx, "firehose-json", "mixed.json", stream, nil); err != nil {
			return err
		}
		_, err := d.listObjects(ctx, bucket, "events/")
		return err
	},
}
