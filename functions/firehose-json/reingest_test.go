package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kstypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/firehose"
	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
	"lakestream/shared/moto/lake"
	"lakestream/shared/transformer/transformertest"
)

// bigEvent is a Firehose request of 16 records of 250 KB of documents
// each: 4 MB of data in, more than 6 MB of base64 out once every line has
// its arrival_time, so only part of the output fits in one response.
func bigEvent(stream, kinesisSource string) events.KinesisFirehoseEvent {
	ev := events.KinesisFirehoseEvent{
		InvocationID:           "big",
		DeliveryStreamArn:      "arn:aws:firehose:us-east-1:123456789012:deliverystream/" + stream,
		SourceKinesisStreamArn: kinesisSource,
		Region:                 "us-east-1",
	}
	arrival := time.Date(2024, 5, 1, 13, 30, 0, 0, time.UTC)
	for r := range 16 {
		var data bytes.Buffer
		for i := 0; data.Len() < 250_000; i++ {
			fmt.Fprintf(&data, `{"event":"click","user_id":"u%d-%d","ts":"2024-05-01T13:%02d:00Z"}`+"\n", r, i, i%60)
		}
		rec := events.KinesisFirehoseEventRecord{
			RecordID:                    fmt.Sprintf("r%02d", r),
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: arrival},
			Data:                        data.Bytes(),
		}
		if kinesisSource != "" {
			rec.KinesisFirehoseRecordMetadata = events.KinesisFirehoseRecordMetadata{ShardID: "shardId-000000000000", PartitionKey: "pk-" + rec.RecordID}
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

// invokeBig runs the real binary against moto on ev and returns the data
// of the records it answered Dropped (re-ingested), in order, and the
// function's log.
func invokeBig(t *testing.T, srv *moto.Server, ev events.KinesisFirehoseEvent) ([]string, string) {
	t.Helper()
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	var logs bytes.Buffer
	f, err := lambdarun.Start(lambdarun.Options{
		Binary: transformertest.Binary(t, function),
		Env:    transformertest.Env(t, function, srv.Env()),
		Stdout: &logs, Stderr: &logs,
	})
	require.NoError(t, err)
	out, err := f.Invoke(t.Context(), raw)
	f.Stop()
	require.NoError(t, err, "function output:\n%s", logs.String())
	assert.LessOrEqual(t, len(out), firehose.DefaultBudget)

	var resp firehose.Response
	require.NoError(t, json.Unmarshal(out, &resp))
	require.Len(t, resp.Records, len(ev.Records))
	var back []string
	for i, r := range resp.Records {
		switch r.Result {
		case firehose.ResultOk:
			require.Empty(t, back, "%s Ok after a record that did not fit", r.RecordID)
		case firehose.ResultDropped:
			back = append(back, string(ev.Records[i].Data))
		default:
			t.Fatalf("%s: %s", r.RecordID, r.Result)
		}
	}
	require.NotEmpty(t, back, "some records must not fit")
	require.Less(t, len(back), len(ev.Records), "some records must fit")
	assert.Contains(t, logs.String(), fmt.Sprintf(`"RecordsReingested":%d`, len(back)))
	return back, logs.String()
}

// TestReingestDirectPut: with the template's environment and credentials
// for moto, the real binary puts the records that did not fit in its
// response back into the Direct PUT delivery stream they came from, as
// they came; moto writes them to S3.
func TestReingestDirectPut(t *testing.T) {
	srv := moto.Shared(t)
	require.NoError(t, srv.Reset())
	cfg, err := srv.Config(t.Context())
	require.NoError(t, err)
	l := lake.New(cfg, nil)
	_, err = l.DeliveryStream(t.Context(), "json-events", "json-lake", "raw/")
	require.NoError(t, err)

	back, _ := invokeBig(t, srv, bigEvent("json-events", ""))

	list, err := l.S3.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String("json-lake")})
	require.NoError(t, err)
	require.Len(t, list.Contents, 1, "one PutRecordBatch")
	obj, err := l.S3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("json-lake"), Key: list.Contents[0].Key})
	require.NoError(t, err)
	body, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	require.NoError(t, err)
	assert.True(t, string(body) == strings.Join(back, ""), "the delivery holds the re-ingested records as they came (%d bytes, want %d)", len(body), len(strings.Join(back, "")))
}

// TestReingestKinesisSource: with a Kinesis stream as the delivery
// stream's source, they go back into that stream with their partition keys.
func TestReingestKinesisSource(t *testing.T) {
	srv := moto.Shared(t)
	require.NoError(t, srv.Reset())
	cfg, err := srv.Config(t.Context())
	require.NoError(t, err)
	kc := kinesis.NewFromConfig(cfg)
	ctx := t.Context()
	_, err = kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("json-source"), ShardCount: aws.Int32(1)})
	require.NoError(t, err)
	var arn string
	require.Eventually(t, func() bool {
		out, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("json-source")})
		if err != nil || out.StreamDescriptionSummary.StreamStatus != kstypes.StreamStatusActive {
			return false
		}
		arn = aws.ToString(out.StreamDescriptionSummary.StreamARN)
		return true
	}, 10*time.Second, 50*time.Millisecond)

	ev := bigEvent("json-events", arn)
	back, _ := invokeBig(t, srv, ev)

	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: aws.String(arn)})
	require.NoError(t, err)
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamARN: aws.String(arn), ShardId: shards.Shards[0].ShardId, ShardIteratorType: kstypes.ShardIteratorTypeTrimHorizon,
	})
	require.NoError(t, err)
	out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: aws.String(arn), ShardIterator: it.ShardIterator})
	require.NoError(t, err)
	require.Len(t, out.Records, len(back))
	first := len(ev.Records) - len(back)
	for i, r := range out.Records {
		assert.Equal(t, "pk-"+ev.Records[first+i].RecordID, aws.ToString(r.PartitionKey), "the original partition key")
		assert.True(t, string(r.Data) == back[i], "record %d as it came", i)
	}
}
