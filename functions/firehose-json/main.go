// Command firehose-json is a Firehose data transformation for records that
// are already JSON (application events, DynamoDB images): each document is
// validated and goes through the shared pipeline (enrich, mask, filter,
// validate, partition keys) to newline-delimited JSON, CSV or TSV.
package main

import (
	"lakestream/shared/boot"
	"lakestream/shared/firehose"
	"lakestream/shared/pipeline"
)

func main() {
	fn := boot.New()
	opts := pipeline.Load(fn.Env)
	opts.Split = pipeline.SplitJSON
	p, err := pipeline.New(pipeline.ParseJSON, opts)
	fn.Check(err)
	h := firehose.NewHandler(p.Transform, firehose.WithLogger(fn.Log), firehose.WithMetrics(fn.Metrics))
	fn.Start(h.HandleJSON)
}
