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
// the template's settings, on the standard batch.
func BenchmarkInvoke(b *testing.B) {
	for _, c := range benchdata.For("firehose-cloudfront") {
		b.Run(c.Name, func(b *testing.B) {
			env, err := c.Environment()
			if err != nil {
				b.Fatal(err)
			}
			fn := boot.NewFrom(config.FromMap(env), io.Discard)
			h := newHandler(fn)
			if err := fn.Err(); err != nil {
				b.Fatal(err)
			}
			benchdata.Benchmark(b, c, h)
		})
	}
}
