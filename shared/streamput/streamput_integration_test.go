package streamput_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kstypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/moto"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

func TestMain(m *testing.M) { moto.Main(m) }

// awsConfig resets moto and returns a config pointing at it.
func awsConfig(t *testing.T) aws.Config {
	t.Helper()
	srv := moto.Shared(t)
	require.NoError(t, srv.Reset())
	cfg, err := srv.Config(t.Context())
	require.NoError(t, err)
	return cfg
}

// client is the package's Client on cfg, with no endpoint variables.
func client(t *testing.T, cfg aws.Config) *streamput.Client {
	t.Helper()
	c, err := streamput.NewClient(cfg, func(string) string { return "" })
	require.NoError(t, err)
	return c
}

// lines are n distinct newline-terminated records, as a Firehose producer
// sends them so the delivered objects split back into records.
func lines(n int) []streamput.Entry {
	out := make([]streamput.Entry, n)
	for i := range out {
		out[i] = streamput.Entry{
			Data:         fmt.Appendf(nil, `{"seq":%d,"order":"o-%05d"}`+"\n", i, i),
			PartitionKey: fmt.Sprintf("customer-%d", i%7),
		}
	}
	return out
}

func TestFirehoseIntegration(t *testing.T) {
	ctx := t.Context()
	cfg := awsConfig(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true                              // moto on 127.0.0.1 has no bucket subdomains
		o.DisableLogOutputChecksumValidationSkipped = true // moto sends no checksums; keep test output quiet
	})
	fh := firehose.NewFromConfig(cfg)

	const bucket, stream = "lake-raw", "orders-to-lake"
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	_, err = fh.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(stream),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			RoleARN:        aws.String("arn:aws:iam::123456789012:role/firehose"),
			BucketARN:      aws.String("arn:aws:s3:::" + bucket),
			Prefix:         aws.String("raw/"),
			BufferingHints: &fhtypes.BufferingHints{IntervalInSeconds: aws.Int32(60), SizeInMBs: aws.Int32(1)},
		},
	})
	require.NoError(t, err)

	in := lines(1200)
	failures, err := streamput.NewFirehose(client(t, cfg), stream, retry.Default()).Put(ctx, in)
	require.NoError(t, err)
	require.Empty(t, failures)

	// moto writes each PutRecordBatch as one object of the records
	// concatenated, so 1200 records make 500 + 500 + 200 in 3 objects.
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	require.Len(t, list.Contents, 3, "one object per request")
	seen := map[string]int{}
	var perObject []int
	for _, obj := range list.Contents {
		assert.Regexp(t, `^raw/\d{4}/\d{2}/\d{2}/\d{2}/`+stream+`-`, aws.ToString(obj.Key))
		got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: obj.Key})
		require.NoError(t, err)
		body, err := io.ReadAll(got.Body)
		got.Body.Close()
		require.NoError(t, err)
		records := bytes.SplitAfter(body, []byte("\n"))
		if len(records[len(records)-1]) == 0 {
			records = records[:len(records)-1]
		}
		perObject = append(perObject, len(records))
		for _, r := range records {
			seen[string(r)]++
		}
	}
	assert.ElementsMatch(t, []int{500, 500, 200}, perObject)
	require.Len(t, seen, len(in), "every record arrived")
	for i, e := range in {
		assert.Equal(t, 1, seen[string(e.Data)], "record %d arrived %d times", i, seen[string(e.Data)])
	}
}

func TestKinesisIntegration(t *testing.T) {
	ctx := t.Context()
	cfg := awsConfig(t)
	kc := kinesis.NewFromConfig(cfg)

	const stream = "orders"
	_, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)})
	require.NoError(t, err)
	var summary *kstypes.StreamDescriptionSummary
	require.Eventually(t, func() bool {
		out, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		if err != nil {
			return false
		}
		summary = out.StreamDescriptionSummary
		return summary.StreamStatus == kstypes.StreamStatusActive
	}, 10*time.Second, 50*time.Millisecond, "stream never became ACTIVE")
	streamARN := aws.ToString(summary.StreamARN)
	require.NotEmpty(t, streamARN)

	in := lines(1200)
	failures, err := streamput.NewKinesis(client(t, cfg), streamARN, retry.Default()).Put(ctx, in)
	require.NoError(t, err)
	require.Empty(t, failures)

	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: aws.String(streamARN)})
	require.NoError(t, err)
	require.Len(t, shards.Shards, 1)
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamARN:         aws.String(streamARN),
		ShardId:           shards.Shards[0].ShardId,
		ShardIteratorType: kstypes.ShardIteratorTypeTrimHorizon,
	})
	require.NoError(t, err)

	var got []kstypes.Record
	iterator := it.ShardIterator
	for range 100 {
		out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: aws.String(streamARN), ShardIterator: iterator})
		require.NoError(t, err)
		got = append(got, out.Records...)
		if len(out.Records) == 0 || len(got) >= len(in) {
			break
		}
		iterator = out.NextShardIterator
	}
	require.Len(t, got, len(in), "every record arrived, once")
	// One shard keeps the order records were written in.
	for i, r := range got {
		assert.Equal(t, string(in[i].Data), string(r.Data), "record %d", i)
		assert.Equal(t, in[i].PartitionKey, aws.ToString(r.PartitionKey), "record %d", i)
	}
}
