package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// nullS3 answers at once: every source exists, no copy does yet, every
// write succeeds. It measures the handler's own work per object.
type nullS3 struct{ objectStore }

var modified = time.Date(2024, 5, 1, 13, 5, 10, 0, time.UTC)

func (nullS3) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	if aws.ToString(in.Bucket) == lake {
		return nil, &types.NotFound{}
	}
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(1 << 20), ETag: aws.String(`"e"`), LastModified: &modified}, nil
}

func (nullS3) CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	return &s3.CopyObjectOutput{}, nil
}

// nullGlue has the template's tables and creates every partition.
type nullGlue struct{ tables *fakeGlue }

func (g nullGlue) GetTable(ctx context.Context, in *glue.GetTableInput, opt ...func(*glue.Options)) (*glue.GetTableOutput, error) {
	return g.tables.GetTable(ctx, in, opt...)
}

func (nullGlue) BatchCreatePartition(context.Context, *glue.BatchCreatePartitionInput, ...func(*glue.Options)) (*glue.BatchCreatePartitionOutput, error) {
	return &glue.BatchCreatePartitionOutput{}, nil
}

// BenchmarkHandleSQS runs a batch of 10 notifications through the handler
// (decode, place, two copies each, partitions, response) with S3 and Glue
// answering at once.
func BenchmarkHandleSQS(b *testing.B) {
	const objects = 10
	bodies := make([]string, objects)
	for i := range bodies {
		bodies[i] = notification(fmt.Sprintf("incoming/2024/05/01/13/lake-events-stream-1-2024-05-01-13-%02d-09-%s", i, uuid), 1<<20)
	}
	raw := sqsEvent(b, bodies...)
	h := newHandler(mustConfig(b, templateEnv(b)), nullS3{}, nullGlue{lakeGlue()}, nil, nil)
	ctx := context.Background()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		resp, err := h.Handle(ctx, raw)
		if err != nil {
			b.Fatal(err)
		}
		if f := resp.(events.SQSEventResponse).BatchItemFailures; len(f) > 0 {
			b.Fatalf("failures: %v", f)
		}
	}
	b.ReportMetric(float64(b.N*objects)/time.Since(start).Seconds(), "objects/s")
}
