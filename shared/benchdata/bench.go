package benchdata

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
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

// Firehose is a delivery stream that accepts every record and keeps none:
// what an in-process benchmark gives a function that re-ingests or
// delivers, so that the figure is the function's own.
type Firehose struct{}

// PutRecordBatch accepts every record.
func (Firehose) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	return &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0), RequestResponses: make([]fhtypes.PutRecordBatchResponseEntry, len(in.Records))}, nil
}

// Kinesis is a data stream that accepts every record and keeps none.
type Kinesis struct{}

// PutRecords accepts every record.
func (Kinesis) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	return &kinesis.PutRecordsOutput{FailedRecordCount: aws.Int32(0), Records: make([]kinesistypes.PutRecordsResultEntry, len(in.Records))}, nil
}
