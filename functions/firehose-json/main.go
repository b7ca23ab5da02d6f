// Command firehose-json is a Firehose data transformation for records that
// are already JSON (application events, DynamoDB images): each document is
// validated and goes through the shared pipeline (filter, enrich, mask,
// validate, partition keys) to newline-delimited JSON, CSV or TSV.
package main

import (
	"lakestream/shared/boot"
	"lakestream/shared/firehose"
	"lakestream/shared/pipeline"
)

func main() {
	fn := boot.New()
	fn.Start(newHandler(fn).HandleJSON)
}

// newHandler builds the transformation from the function's settings; a
// problem is recorded in fn and reported by Start as the init error.
func newHandler(fn *boot.Function) *firehose.Handler {
	opts := pipeline.Load(fn.Env)
	opts.Split = pipeline.SplitJSON
	p, err := pipeline.New(pipeline.ParseJSON, opts)
	if err != nil {
		fn.Check(err)
		return nil
	}
	return firehose.NewHandler(p.Transform, firehose.WithLogger(fn.Log), firehose.WithMetrics(fn.Metrics))
}
