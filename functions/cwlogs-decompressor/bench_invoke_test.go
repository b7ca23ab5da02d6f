package main

import (
	"testing"

	"lakestream/shared/benchdata"
	"lakestream/shared/boot"
	"lakestream/shared/streamput"
)

// BenchmarkInvoke is the standard whole-invocation benchmark of
// shared/benchdata (make bench): the handler built as main builds it, with
// the template's settings and each case's OUTPUT_FORMAT, on the standard
// VPC flow log batches; what does not fit the response is re-ingested
// into a stream that accepts everything (streamput.Discard).
func BenchmarkInvoke(b *testing.B) {
	benchdata.BenchmarkFunction(b, "cwlogs-decompressor", func(fn *boot.Function) benchdata.Invoker {
		return newHandler(fn, streamput.Discard{}, streamput.Discard{})
	})
}
