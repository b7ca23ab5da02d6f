package benchdata

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"lakestream/shared/boot"
	"lakestream/shared/config"
)

// Invoker is a Lambda handler as aws-lambda-go runs it (lambda.Handler):
// the request's bytes in, the response's bytes out.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Benchmark measures whole invocations of h, built as the function's main
// builds it from c.Environment(), on c's batch: the request's bytes in,
// the response's bytes out, as Lambda hands them over. One invocation
// first checks the response (see Case.Work) and warms h up. Besides the
// mean (ns/op, and MB/s of c's unit) it reports the best and the median
// invocation (best-ms, median-ms), which shared/cmd/bench reads, and the
// work per invocation (work/op, in c's unit: bytes or records). Run with
// -cpu 1 for figures per core.
func Benchmark(b *testing.B, c Case, h Invoker) {
	ctx := context.Background()
	request, err := c.Request()
	if err != nil {
		b.Fatal(err)
	}
	response, err := h.Invoke(ctx, request)
	if err != nil {
		b.Fatalf("%s: invoke: %v", c.Name, err)
	}
	work, err := c.Work(request, response)
	if err != nil {
		b.Fatal(err)
	}
	if c.Unit == Records {
		b.SetBytes(int64(len(request)))
	} else {
		b.SetBytes(work)
	}
	b.ReportAllocs()
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := h.Invoke(ctx, request); err != nil {
			b.Fatalf("%s: invoke: %v", c.Name, err)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	b.ReportMetric(ms(times[0]), "best-ms")
	b.ReportMetric(ms(times[len(times)/2]), "median-ms")
	b.ReportMetric(float64(work), "work/op")
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// BenchmarkFunction is the BenchmarkInvoke of every function's
// bench_invoke_test.go, which stays in the function's package main for
// its unexported constructor: for each of the function's cases (see For)
// it builds the handler as main builds it, with build from a boot.Function
// reading the case's environment (Case.Environment: the template's
// settings and the case's own) and logging nowhere, fails on a
// configuration error the function reports, and runs Benchmark on it.
func BenchmarkFunction(b *testing.B, function string, build func(fn *boot.Function) Invoker) {
	cases := For(function)
	if len(cases) == 0 {
		b.Fatalf("no benchmark cases for function %q", function)
	}
	for _, c := range cases {
		b.Run(c.Name, func(b *testing.B) {
			env, err := c.Environment()
			if err != nil {
				b.Fatal(err)
			}
			fn := boot.NewFrom(config.FromMap(env), io.Discard)
			h := build(fn)
			if err := fn.Err(); err != nil {
				b.Fatal(err)
			}
			Benchmark(b, c, h)
		})
	}
}
