package firehose

import (
	"context"
	"testing"

	"lakestream/shared/benchdata"
)

// BenchmarkStages measures the framework's own stages on the standard
// access-log batch (benchdata.AccessLog1MB): decoding the request,
// decoding every record's data, and a whole invocation of a transform
// that returns its input with partition keys (the framework alone).
func BenchmarkStages(b *testing.B) {
	payload, err := benchdata.Batch(benchdata.AccessLog1MB)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode-request", func(b *testing.B) {
		inv := &invocation{}
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			if inv.data, err = inv.req.decode(&inv.scan, payload, inv.data); err != nil {
				b.Fatal(err)
			}
		}
	})
	keys := map[string]string{"year": "2024", "month": "11", "day": "05", "hour": "13"}
	for _, c := range []struct {
		name string
		keys map[string]string
	}{{"invoke-copy", nil}, {"invoke-copy-keys", keys}} {
		b.Run(c.name, func(b *testing.B) {
			h := NewHandler(func(_ context.Context, r Record) (Output, error) {
				return Output{Data: r.Data, PartitionKeys: c.keys}, nil
			})
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Invoke(context.Background(), payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
