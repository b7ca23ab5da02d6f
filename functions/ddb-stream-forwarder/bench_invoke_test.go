package main

import (
	"testing"

	"lakestream/shared/benchdata"
	"lakestream/shared/boot"
	"lakestream/shared/streamput"
)

// BenchmarkInvoke is the standard whole-invocation benchmark of
// shared/benchdata (make bench): the handler built as main builds it, with
// the template's settings, on the standard DynamoDB stream event,
// delivering to a Firehose that accepts everything (streamput.Discard).
func BenchmarkInvoke(b *testing.B) {
	benchdata.BenchmarkFunction(b, "ddb-stream-forwarder", func(fn *boot.Function) benchdata.Invoker {
		return newHandler(loadConfig(fn.Env), streamput.Discard{}, nil, fn.Log, fn.Metrics)
	})
}
