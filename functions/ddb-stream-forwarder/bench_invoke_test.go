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
// the template's settings, on the standard DynamoDB stream event,
// delivering to a Firehose that accepts everything (benchdata.Firehose).
func BenchmarkInvoke(b *testing.B) {
	for _, c := range benchdata.For("ddb-stream-forwarder") {
		b.Run(c.Name, func(b *testing.B) {
			env, err := c.Environment()
			if err != nil {
				b.Fatal(err)
			}
			fn := boot.NewFrom(config.FromMap(env), io.Discard)
			h := newHandler(loadConfig(fn.Env), benchdata.Firehose{}, nil, fn.Log, fn.Metrics)
			if err := fn.Err(); err != nil {
				b.Fatal(err)
			}
			benchdata.Benchmark(b, c, h)
		})
	}
}
