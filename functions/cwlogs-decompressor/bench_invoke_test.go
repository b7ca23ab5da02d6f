package main

import (
	"io"
	"testing"

	"lakestream/shared/benchdata"
	"lakestream/shared/boot"
	"lakestream/shared/config"
)

// BenchmarkInvoke is the standard whole-invocation benchmark of
// shared/benchdata (make bench): the handler built as main builds it, with
// the template's settings and each case's OUTPUT_FORMAT, on the standard
// VPC flow log batches; what does not fit the response is re-ingested
// into a stream that accepts everything (benchdata.Firehose).
func BenchmarkInvoke(b *testing.B) {
	for _, c := range benchdata.For("cwlogs-decompressor") {
		b.Run(c.Name, func(b *testing.B) {
			env, err := c.Environment()
			if err != nil {
				b.Fatal(err)
			}
			fn := boot.NewFrom(config.FromMap(env), io.Discard)
			h := newHandler(fn, benchdata.Firehose{}, benchdata.Kinesis{})
			if err := fn.Err(); err != nil {
				b.Fatal(err)
			}
			benchdata.Benchmark(b, c, h)
		})
	}
}
