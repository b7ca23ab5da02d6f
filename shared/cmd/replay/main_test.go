package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
	"lakestream/shared/moto/lake"
	"lakestream/shared/replay"
)

func TestMain(m *testing.M) { moto.Main(m) }

// emulator resets the shared moto_server and points this process's AWS
// settings at it, as `make aws-local` tells a shell to: the command and
// the -local forwarder (which inherits them) both talk to it.
func emulator(t *testing.T) (*lake.Lake, aws.Config) {
	t.Helper()
	srv := moto.Shared(t)
	require.NoError(t, srv.Reset())
	for k, v := range srv.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_PROFILE", "")
	cfg, err := srv.Config(t.Context())
	require.NoError(t, err)
	tmpl, err := lambdarun.LoadRepoTemplate()
	require.NoError(t, err)
	return lake.New(cfg, tmpl), cfg
}

// replayCmd runs the command and returns its exit code, summary and
// progress lines.
func replayCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr)
	return code, strings.TrimSpace(stdout.String()), stderr.String()
}

// lines returns the lines of every object under prefix.
func lines(t *testing.T, l *lake.Lake, bucket, prefix string) []string {
	t.Helper()
	list, err := l.S3.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	require.NoError(t, err)
	var out []string
	for _, o := range list.Contents {
		obj, err := l.S3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		require.NoError(t, err)
		body, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		require.NoError(t, err)
		out = append(out, strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")...)
	}
	return out
}

// TestFirehoseEndToEnd: a record Firehose wrote to the error output prefix
// goes back into the delivery stream (moto delivers it to S3) once; the
// object is tagged, and a second run skips it.
func TestFirehoseEndToEnd(t *testing.T) {
	l, _ := emulator(t)
	ctx := t.Context()
	_, err := l.DeliveryStream(ctx, "lakestream-json", "lake", "json/")
	require.NoError(t, err)
	doc := `{"event":"click","user_id":"u1","ts":"2024-05-01T13:00:00Z"}` + "\n"
	line, err := json.Marshal(map[string]string{
		"attemptsMade": "1", "arrivalTimestamp": "1714568400000", "errorCode": "Lambda.ProcessingFailedStatus",
		"errorMessage": "ProcessingFailed status set for record", "attemptEndingTimestamp": "1714568401000",
		"rawData": base64.StdEncoding.EncodeToString([]byte(doc)), "lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:json",
	})
	require.NoError(t, err)
	key := "json-errors/processing-failed/2024/05/01/13/lakestream-json-1-2024-05-01-13-00-01-4f1c2a9e-7d43-4b7e-9a55-2f1b3c4d5e6f"
	_, err = l.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(key), Body: bytes.NewReader(append(line, '\n'))})
	require.NoError(t, err)
	args := []string{"firehose", "-source", "s3://lake/json-errors/processing-failed/", "-stream", "lakestream-json", "-from", "2024-05-01", "-to", "2024-05-02"}

	code, summary, progress := replayCmd(t, args...)
	assert.Equal(t, 0, code, progress)
	assert.Contains(t, summary, "would replay (dry run: add -apply to replay) 1 records")
	assert.Contains(t, progress, "would put 1 records into delivery stream lakestream-json (Lambda.ProcessingFailedStatus x1)")
	assert.Empty(t, lines(t, l, "lake", "json/"), "a dry run puts nothing")

	code, summary, progress = replayCmd(t, append(args, "-apply")...)
	assert.Equal(t, 0, code, progress)
	assert.True(t, strings.HasPrefix(summary, "replayed 1 records; skipped 0; failed 0; from 1 sources, 1 done"), summary)
	assert.Equal(t, []string{strings.TrimSuffix(doc, "\n")}, lines(t, l, "lake", "json/"))
	tags, err := l.S3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("lake"), Key: aws.String(key)})
	require.NoError(t, err)
	assert.True(t, slices.ContainsFunc(tags.TagSet, func(t s3types.Tag) bool { return aws.ToString(t.Key) == replay.TagReplayed }))

	code, summary, _ = replayCmd(t, append(args, "-apply")...)
	assert.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(summary, "replayed 0 records; skipped 1; failed 0"), summary)
	assert.Len(t, lines(t, l, "lake", "json/"), 1, "nothing sent twice")
}

// failedBatch sets up what a stream mapping leaves after a batch failed
// for good: the forwarder's delivery stream, a table Orders with three
// records in its stream, and on an on-failure queue one message naming the
// second and third. It returns the queue's URL, the lake prefix the
// forwarder writes under and the stream's shard.
func failedBatch(t *testing.T, l *lake.Lake, cfg aws.Config) (queueURL, prefix, shard string) {
	t.Helper()
	ctx := t.Context()
	env, err := lambdarun.LoadRepoTemplate()
	require.NoError(t, err)
	fwd, err := env.Environment(lambdarun.LogicalID("ddb-stream-forwarder"))
	require.NoError(t, err)
	_, err = l.Setup(ctx, "ddb-stream-forwarder", fwd, nil) // its delivery stream into lake.CDCBucket
	require.NoError(t, err)

	streamARN, shard, seqs := ordersStream(t, cfg, 3)
	sq := sqs.NewFromConfig(cfg)
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ddb-failures")})
	require.NoError(t, err)
	body := fmt.Sprintf(`{"requestContext":{"requestId":"r-1","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:fwd","condition":"RetryAttemptsExhausted","approximateInvokeCount":11},
		"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"%s",
		"DDBStreamBatchInfo":{"shardId":%q,"startSequenceNumber":%q,"endSequenceNumber":%q,"approximateArrivalOfFirstRecord":"%s","approximateArrivalOfLastRecord":"%s","batchSize":2,"streamArn":%q}}`,
		time.Now().UTC().Format(time.RFC3339), shard, seqs[1], seqs[2], time.Now().UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339), streamARN)
	_, err = sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(body)})
	require.NoError(t, err)
	return aws.ToString(q.QueueUrl), fwd["DELIVERY_STREAM"] + "/", shard
}

// TestStreamThroughDeployedFunction: with -function the records go to the
// deployed forwarder through Lambda's Invoke API, synchronously. Lambda is
// played by an endpoint (AWS_ENDPOINT_URL_LAMBDA) that hands each payload
// to the real forwarder under the local Runtime API, writing into the
// emulator; a forwarder that fails makes the records fail, not vanish.
func TestStreamThroughDeployedFunction(t *testing.T) {
	l, cfg := emulator(t)
	queueURL, prefix, _ := failedBatch(t, l, cfg)
	fn, err := lambdarun.StartRepoFunction("ddb-stream-forwarder", lambdarun.Options{InheritAWS: true})
	require.NoError(t, err)
	t.Cleanup(fn.Stop)
	const name = "lakestream-DdbStreamForwarderFunction-AbC123"
	var invoked []string
	var fail atomic.Bool
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		invoked = append(invoked, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Amz-Invocation-Type"))
		if fail.Load() {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			io.WriteString(w, `{"errorMessage":"boom","errorType":"Runtime.ExitError"}`)
			return
		}
		event, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		resp, err := fn.Invoke(r.Context(), event)
		require.NoError(t, err)
		w.Write(resp)
	}))
	t.Cleanup(api.Close)
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", api.URL)
	args := []string{"stream", "-queue", queueURL, "-function", name, "-visibility", "2s", "-apply"}

	fail.Store(true)
	code, summary, progress := replayCmd(t, args...)
	assert.NotEqual(t, 0, code, "records failed: %s", summary)
	assert.Contains(t, summary, "failed 2", progress)
	assert.Contains(t, progress, "boom")
	assert.Empty(t, lines(t, l, lake.CDCBucket, prefix))

	fail.Store(false)
	time.Sleep(3 * time.Second) // the message is visible again (-visibility 2s)
	code, summary, progress = replayCmd(t, args...)
	require.Equal(t, 0, code, progress)
	assert.True(t, strings.HasPrefix(summary, "replayed 2 records; skipped 0; failed 0"), summary)
	assert.Len(t, lines(t, l, lake.CDCBucket, prefix), 2)
	assert.Equal(t, []string{
		"POST /2015-03-31/functions/" + name + "/invocations RequestResponse",
		"POST /2015-03-31/functions/" + name + "/invocations RequestResponse",
	}, invoked, "one synchronous invocation a run")
}

// TestStreamEndToEnd: the on-failure record of a DynamoDB stream mapping
// names two of three records; the real ddb-stream-forwarder binary, run
// locally with the template's environment, gets exactly those two, read
// back from the stream, and writes their lines into its delivery stream;
// the message is deleted and a second run has nothing to do.
func TestStreamEndToEnd(t *testing.T) {
	l, cfg := emulator(t)
	ctx := t.Context()
	queueURL, prefix, shard := failedBatch(t, l, cfg)
	args := []string{"stream", "-queue", queueURL, "-local", "-visibility", "2m"}

	code, summary, progress := replayCmd(t, args...)
	assert.Equal(t, 0, code, progress)
	assert.Contains(t, summary, "would replay (dry run: add -apply to replay) 2 records")
	assert.Contains(t, progress, "table Orders shard "+shard)
	assert.Contains(t, progress, "would send 2 records (INSERT x2) to ddb-stream-forwarder (local)")
	assert.Empty(t, lines(t, l, lake.CDCBucket, prefix))

	code, summary, progress = replayCmd(t, append(args, "-apply", "-logs")...)
	require.Equal(t, 0, code, progress)
	assert.True(t, strings.HasPrefix(summary, "replayed 2 records; skipped 0; failed 0; from 1 sources, 1 done"), summary)
	got := lines(t, l, lake.CDCBucket, prefix)
	require.Len(t, got, 2, "the two records the message names, and not the first")
	var ids []string
	for _, line := range got {
		var v struct {
			Table    string `json:"table"`
			NewImage struct {
				OrderID json.Number `json:"order_id"`
			} `json:"new_image"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &v), line)
		assert.Equal(t, "Orders", v.Table)
		ids = append(ids, v.NewImage.OrderID.String())
	}
	assert.ElementsMatch(t, []string{"12345678901234567890123456789012345671", "12345678901234567890123456789012345672"}, ids, "every digit")

	attrs, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	require.NoError(t, err)
	assert.Equal(t, "0", attrs.Attributes["ApproximateNumberOfMessages"])
	assert.Equal(t, "0", attrs.Attributes["ApproximateNumberOfMessagesNotVisible"])

	code, summary, _ = replayCmd(t, append(args, "-apply")...)
	assert.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(summary, "replayed 0 records; skipped 0; failed 0; from 0 sources"), summary)
	assert.Len(t, lines(t, l, lake.CDCBucket, prefix), 2, "nothing sent twice")
}

// ordersStream creates a table Orders with a stream, puts n items, and
// returns the stream's ARN, its shard and the records' sequence numbers.
func ordersStream(t *testing.T, cfg aws.Config, n int) (string, string, []string) {
	t.Helper()
	ctx := t.Context()
	db := dynamodb.NewFromConfig(cfg)
	table, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Orders"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("order_id"), AttributeType: ddbtypes.ScalarAttributeTypeN}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("order_id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	})
	require.NoError(t, err)
	for i := range n {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Orders"), Item: map[string]ddbtypes.AttributeValue{
			"order_id": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprintf("1234567890123456789012345678901234567%d", i)},
			"status":   &ddbtypes.AttributeValueMemberS{Value: "placed"},
		}})
		require.NoError(t, err)
	}
	streamARN := aws.ToString(table.TableDescription.LatestStreamArn)
	st := dynamodbstreams.NewFromConfig(cfg)
	desc, err := st.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(streamARN)})
	require.NoError(t, err)
	require.Len(t, desc.StreamDescription.Shards, 1)
	shard := aws.ToString(desc.StreamDescription.Shards[0].ShardId)
	it, err := st.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(streamARN), ShardId: aws.String(shard), ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
	require.NoError(t, err)
	recs, err := st.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
	require.NoError(t, err)
	require.Len(t, recs.Records, n)
	var seqs []string
	for _, r := range recs.Records {
		seqs = append(seqs, aws.ToString(r.Dynamodb.SequenceNumber))
	}
	return streamARN, shard, seqs
}

// TestUsage: a usage error exits 2 and says what is wrong.
func TestUsage(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"nothing":           {nil, "usage:"},
		"unknown":           {[]string{"sqs"}, `unknown replay "sqs"`},
		"no source":         {[]string{"firehose", "-stream", "s"}, `-source "": want s3://bucket/prefix`},
		"not s3":            {[]string{"firehose", "-source", "lake/errors/", "-stream", "s"}, "want s3://bucket/prefix"},
		"two targets":       {[]string{"firehose", "-source", "s3://lake/e/", "-stream", "s", "-kinesis-stream", "arn"}, "one of -stream and -kinesis-stream"},
		"bad time":          {[]string{"firehose", "-source", "s3://lake/e/", "-stream", "s", "-from", "yesterday"}, `-from "yesterday"`},
		"no queue":          {[]string{"stream", "-local"}, "-queue is required"},
		"no forwarder":      {[]string{"stream", "-queue", "q"}, "one of -function and -local"},
		"env without local": {[]string{"stream", "-queue", "q", "-function", "f", "-env", "A=b"}, "-env is for -local"},
		"bad env":           {[]string{"stream", "-queue", "q", "-local", "-env", "A"}, `"A": want NAME=VALUE`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, 2, run(context.Background(), tc.args, &stdout, &stderr))
			assert.Contains(t, stderr.String(), tc.want)
			assert.Empty(t, stdout.String())
		})
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2024-05-01T13:04:05Z":      time.Date(2024, 5, 1, 13, 4, 5, 0, time.UTC),
		"2024-05-01T15:04:05+02:00": time.Date(2024, 5, 1, 13, 4, 5, 0, time.UTC),
		"2024-05-01T13:04":          time.Date(2024, 5, 1, 13, 4, 0, 0, time.UTC),
		"2024-05-01T13":             time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC),
		"2024-05-01":                time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		"":                          {},
	} {
		got, err := parseTime("-from", in)
		require.NoError(t, err, in)
		assert.True(t, want.Equal(got), "%s: %s", in, got)
	}
}
