package faulttest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kstypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"lakestream/shared/cwlogs"
)

// The decompressor's run: Firehose requests of 30 subscription payloads,
// each rendering to about 200 KB of lines, so that some 8 of every 30 do
// not fit the 6,000,000-byte response and are re-ingested (Direct PUT:
// PutRecordBatch into the delivery stream; Kinesis source: PutRecords into
// the stream, with the record's partition key).
const (
	decompressorRequests = 10
	decompressorRecords  = 30
	payloadEvents        = 200
	eventBytes           = 1000
	cwlogsBucket         = "cwlogs-lake"
	cwlogsStream         = "lakestream-cwlogs"
	cwlogsSource         = "cwlogs-source"
	// firehoseAttempts is how often Firehose invokes the function with one
	// request: once, and three retries by default.
	firehoseAttempts = 4
)

// runDecompressor: each record is answered Ok (its lines in the response),
// Dropped and found re-ingested in the source, or ProcessingFailed; a
// request whose re-ingestion fails fails the invocation, which Firehose
// retries with the same records, and after its last retry every record of
// it counts as reported failed (Firehose sends them to the error prefix).
func runDecompressor(t *testing.T, e *env, kinesisSource bool) account {
	ctx := t.Context()
	var sourceARN string
	if kinesisSource {
		sourceARN = createSourceStream(t, e)
	} else {
		_, err := e.s3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(cwlogsBucket)})
		require.NoError(t, err)
		_, err = firehose.NewFromConfig(e.cfg).CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
			DeliveryStreamName: aws.String(cwlogsStream),
			DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
			ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
				BucketARN: aws.String("arn:aws:s3:::" + cwlogsBucket), RoleARN: aws.String("arn:aws:iam::123456789012:role/firehose"), Prefix: aws.String("cwlogs/"),
			},
		})
		require.NoError(t, err)
	}
	f := e.start("cwlogs-decompressor", map[string]string{"OUTPUT_FORMAT": "lines"})

	a := account{In: decompressorRequests * decompressorRecords}
	result := map[string]string{} // log group -> what the last answer said
	for req := range decompressorRequests {
		ev := events.KinesisFirehoseEvent{
			InvocationID:           fmt.Sprintf("invocation-%d", req),
			DeliveryStreamArn:      "arn:aws:firehose:us-east-1:123456789012:deliverystream/" + cwlogsStream,
			SourceKinesisStreamArn: sourceARN,
			Region:                 "us-east-1",
		}
		for i := range decompressorRecords {
			group := logGroup(req, i)
			rec := events.KinesisFirehoseEventRecord{RecordID: group, Data: payload(t, group), ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(1714571100000)}}
			if kinesisSource {
				rec.KinesisFirehoseRecordMetadata = events.KinesisFirehoseRecordMetadata{ShardID: "shardId-000000000000", PartitionKey: "pk-" + group, SequenceNumber: strconv.Itoa(req*1000 + i)}
			}
			ev.Records = append(ev.Records, rec)
		}
		raw, err := json.Marshal(ev)
		require.NoError(t, err)
		var resp events.KinesisFirehoseResponse
		answered := false
		for range firehoseAttempts {
			out, err := f.Invoke(ctx, raw)
			if err != nil {
				continue // Firehose retries the whole request
			}
			require.NoError(t, json.Unmarshal(out, &resp))
			answered = true
			break
		}
		if !answered {
			for i := range decompressorRecords {
				result[logGroup(req, i)] = "InvocationFailed"
			}
			continue
		}
		require.Len(t, resp.Records, decompressorRecords)
		for _, r := range resp.Records {
			result[r.RecordID] = r.Result
			if r.Result == events.KinesisFirehoseTransformedStateOk {
				require.Equal(t, payloadEvents, bytes.Count(r.Data, []byte("\n")), "record %s: one line per event", r.RecordID)
			}
		}
	}

	var reingested map[string]int
	if kinesisSource {
		reingested = kinesisPayloads(t, e, sourceARN)
	} else {
		reingested = deliveredPayloads(t, e)
	}
	dropped := 0
	for req := range decompressorRequests {
		for i := range decompressorRecords {
			group := logGroup(req, i)
			n := reingested[group]
			switch result[group] {
			case events.KinesisFirehoseTransformedStateOk:
				a.Delivered++
				a.Duplicates += n // re-ingested by a failed attempt, then answered Ok
			case events.KinesisFirehoseTransformedStateDropped:
				dropped++
				a.Duplicates += max(n-1, 0)
				if n > 0 {
					a.Delivered++
				} else {
					a.Lost++
					t.Errorf("record %s answered Dropped but not re-ingested", group)
				}
			default: // ProcessingFailed, or the invocation failed every time
				a.Failed++
				a.Duplicates += n
			}
		}
	}
	require.Positive(t, dropped, "requests were over the response budget: records were re-ingested")
	return a
}

func logGroup(req, i int) string { return fmt.Sprintf("/fault/request-%d/record-%02d", req, i) }

// payload is a subscription payload of the log group, whose messages render
// to about payloadEvents*eventBytes bytes of lines but compress well.
func payload(t *testing.T, group string) []byte {
	d := events.CloudwatchLogsData{MessageType: cwlogs.MessageTypeData, Owner: "123456789012", LogGroup: group, LogStream: "stream-1"}
	filler := strings.Repeat("GET /api/v1/orders?page=1 status=200 ", eventBytes/37+1)
	for i := range payloadEvents {
		msg := fmt.Sprintf("%s seq=%d %s", group, i, filler)[:eventBytes]
		d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{ID: strconv.Itoa(i), Timestamp: 1714571100000 + int64(i), Message: msg})
	}
	p, err := cwlogs.Encode(d)
	require.NoError(t, err)
	return p
}

// createSourceStream makes the Kinesis stream a delivery stream reads from
// and returns its ARN.
func createSourceStream(t *testing.T, e *env) string {
	ctx := t.Context()
	kc := kinesis.NewFromConfig(e.cfg)
	_, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(cwlogsSource), ShardCount: aws.Int32(1)})
	require.NoError(t, err)
	var arn string
	require.Eventually(t, func() bool {
		out, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(cwlogsSource)})
		if err != nil || out.StreamDescriptionSummary.StreamStatus != kstypes.StreamStatusActive {
			return false
		}
		arn = aws.ToString(out.StreamDescriptionSummary.StreamARN)
		return true
	}, 10*time.Second, 50*time.Millisecond)
	return arn
}

// deliveredPayloads counts, by log group, the payloads the Direct PUT
// delivery stream wrote to S3 (re-ingested records back to back, each a
// gzip member).
func deliveredPayloads(t *testing.T, e *env) map[string]int {
	counts := map[string]int{}
	for key, obj := range e.objects(cwlogsBucket, "cwlogs/") {
		zr, err := gzip.NewReader(bytes.NewReader(obj))
		require.NoError(t, err, key)
		dec := json.NewDecoder(zr)
		for {
			var d events.CloudwatchLogsData
			if err := dec.Decode(&d); errors.Is(err, io.EOF) {
				break
			} else {
				require.NoError(t, err, key)
			}
			counts[d.LogGroup]++
		}
	}
	return counts
}

// kinesisPayloads counts, by log group, the payloads put into the source
// stream, checking each went in with its record's partition key.
func kinesisPayloads(t *testing.T, e *env, arn string) map[string]int {
	ctx := t.Context()
	kc := kinesis.NewFromConfig(e.cfg)
	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: aws.String(arn)})
	require.NoError(t, err)
	counts := map[string]int{}
	for _, shard := range shards.Shards {
		it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: aws.String(arn), ShardId: shard.ShardId, ShardIteratorType: kstypes.ShardIteratorTypeTrimHorizon})
		require.NoError(t, err)
		iterator := it.ShardIterator
		for iterator != nil {
			out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: aws.String(arn), ShardIterator: iterator})
			require.NoError(t, err)
			for _, r := range out.Records {
				d, err := cwlogs.Decode(r.Data, 1<<30)
				require.NoError(t, err)
				require.Equal(t, "pk-"+d.LogGroup, aws.ToString(r.PartitionKey), "re-ingested with its record's partition key")
				counts[d.LogGroup]++
			}
			if len(out.Records) == 0 {
				break
			}
			iterator = out.NextShardIterator
		}
	}
	return counts
}
