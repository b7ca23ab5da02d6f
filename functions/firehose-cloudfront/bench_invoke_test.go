package main

import (
	"testing"

	"lakestream/shared/benchdata"
	"lakestream/shared/boot"
)

// BenchmarkInvoke is the standard whole-invocation benchmark of
// shared/benchdata (make bench): the handler built as main builds it, with
// the template's settings, on the standard batch.
func BenchmarkInvoke(b *testing.B) {
	benchdata.BenchmarkFunction(b, "firehose-cloudfront", func(fn *boot.Function) benchdata.Invoker {
		return newHandler(fn)
	})
}
