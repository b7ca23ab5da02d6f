package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/functions/s3-redistributor/partition"
	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

const (
	landing = "lakestream-landing"
	lake    = "lakestream-lake"
	account = "123456789012"
)

// awsLake is moto with the template's buckets and Glue tables, and clients.
type awsLake struct {
	s3       *s3.Client
	glue     *glue.Client
	firehose *firehose.Client
	sqs      *sqs.Client
}

func newLake(t *testing.T) *awsLake {
	t.Helper()
	srv := moto.Shared(t)
	require.NoError(t, srv.Reset())
	ctx := context.Background()
	cfg, err := srv.Config(ctx)
	require.NoError(t, err)
	l := &awsLake{
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = true
			// moto sends no checksums; do not log that on every GetObject.
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}),
		glue:     glue.NewFromConfig(cfg),
		firehose: firehose.NewFromConfig(cfg),
		sqs:      sqs.NewFromConfig(cfg),
	}
	for _, b := range []string{landing, lake} {
		_, err := l.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		require.NoError(t, err)
	}
	_, err = l.glue.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gtypes.DatabaseInput{Name: aws.String("lakestream")}})
	require.NoError(t, err)
	l.createTable(t, "events_hourly", "hourly", "dt", "hour")
	l.createTable(t, "events_minute", "minute", "year", "month", "day", "hour", "minute")
	return l
}

// createTable makes a JSON table partitioned by keys, as a data engineer
// would for the template's layouts.
func (l *awsLake) createTable(t *testing.T, name, folder string, keys ...string) {
	t.Helper()
	in := &gtypes.TableInput{
		Name:      aws.String(name),
		TableType: aws.String("EXTERNAL_TABLE"),
		StorageDescriptor: &gtypes.StorageDescriptor{
			Columns:      []gtypes.Column{{Name: aws.String("event"), Type: aws.String("string")}, {Name: aws.String("n"), Type: aws.String("int")}},
			Location:     aws.String("s3://" + lake + "/events/" + folder + "/"),
			InputFormat:  aws.String("org.apache.hadoop.mapred.TextInputFormat"),
			OutputFormat: aws.String("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
			SerdeInfo:    &gtypes.SerDeInfo{SerializationLibrary: aws.String("org.openx.data.jsonserde.JsonSerDe")},
		},
	}
	for _, k := range keys {
		in.PartitionKeys = append(in.PartitionKeys, gtypes.Column{Name: aws.String(k), Type: aws.String("string")})
	}
	_, err := l.glue.CreateTable(context.Background(), &glue.CreateTableInput{DatabaseName: aws.String("lakestream"), TableInput: in})
	require.NoError(t, err)
}

// partitions lists a table's partitions as "values -> location".
func (l *awsLake) partitions(t *testing.T, table string) []string {
	t.Helper()
	out, err := l.glue.GetPartitions(context.Background(), &glue.GetPartitionsInput{DatabaseName: aws.String("lakestream"), TableName: aws.String(table)})
	require.NoError(t, err)
	var got []string
	for _, p := range out.Partitions {
		require.NotNil(t, p.StorageDescriptor)
		assert.Equal(t, "org.openx.data.jsonserde.JsonSerDe", aws.ToString(p.StorageDescriptor.SerdeInfo.SerializationLibrary), "the table's SerDe")
		assert.Len(t, p.StorageDescriptor.Columns, 2, "the table's columns")
		got = append(got, strings.Join(p.Values, "/")+" -> "+aws.ToString(p.StorageDescriptor.Location))
	}
	slices.Sort(got)
	return got
}

// objects lists a bucket's keys with their ETag and last-modified time,
// which change whenever an object is written again.
func (l *awsLake) objects(t *testing.T, bucket string) map[string]string {
	t.Helper()
	out, err := l.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	got := map[string]string{}
	for _, o := range out.Contents {
		got[aws.ToString(o.Key)] = aws.ToString(o.ETag) + " " + aws.ToTime(o.LastModified).Format(time.RFC3339Nano)
	}
	return got
}

func (l *awsLake) body(t *testing.T, bucket, key string) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := l.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err, "s3://%s/%s", bucket, key)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	return b, out
}

// queue creates an SQS queue and returns its URL and ARN.
func (l *awsLake) queue(t *testing.T, name string) (string, string) {
	t.Helper()
	out, err := l.sqs.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	require.NoError(t, err)
	return aws.ToString(out.QueueUrl), fmt.Sprintf("arn:aws:sqs:%s:%s:%s", moto.Region, account, name)
}

// receive reads n messages from a queue as the SQS event Lambda would be
// invoked with.
func (l *awsLake) receive(t *testing.T, url string, n int) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	for try := 0; try < 10 && len(ev.Records) < n; try++ {
		out, err := l.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		require.NoError(t, err)
		for _, m := range out.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
				EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:" + url[strings.LastIndexByte(url, '/')+1:], AWSRegion: moto.Region,
			})
		}
	}
	require.Len(t, ev.Records, n, "messages on the queue")
	return ev
}

// run invokes the real binary once with the template's environment, moto's
// endpoint and overrides; it returns the response and the function's logs.
func run(t *testing.T, event any, overrides map[string]string) ([]byte, error, string) {
	t.Helper()
	raw, ok := event.([]byte)
	if !ok {
		var err error
		raw, err = json.Marshal(event)
		require.NoError(t, err)
	}
	var logs bytes.Buffer
	f, err := lambdarun.StartRepoFunction("s3-redistributor", lambdarun.Options{Stdout: &logs, Stderr: &logs, Timeout: 60 * time.Second}, moto.Shared(t).Env(), overrides)
	require.NoError(t, err)
	resp, ierr := f.Invoke(context.Background(), raw)
	f.Stop()
	return resp, ierr, logs.String()
}

// TestIntegrationFirehoseToLake: a real Firehose delivery (DirectPut to S3)
// notifies an SQS queue; the real binary, invoked with that batch, copies
// every object into the hour and minute layouts and registers the
// partitions in Glue. The same batch again changes nothing; with
// DELETE_SOURCE it then completes the move, as after a crash between copy
// and delete; and once more it finds the sources moved.
func TestIntegrationFirehoseToLake(t *testing.T) {
	l := newLake(t)
	ctx := context.Background()
	queueURL, queueARN := l.queue(t, "landing-events")
	_, err := l.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(landing),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
			QueueArn: aws.String(queueARN), Events: []types.Event{"s3:ObjectCreated:*"},
			Filter: &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: []types.FilterRule{{Name: types.FilterRuleNamePrefix, Value: aws.String("incoming/")}}}},
		}}},
	})
	require.NoError(t, err)

	_, err = l.firehose.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("lake-events-stream"),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::" + landing), Prefix: aws.String("incoming/"),
			RoleARN: aws.String("arn:aws:iam::123456789012:role/firehose-delivery"),
		},
	})
	require.NoError(t, err)
	records := []fhtypes.Record{{Data: []byte(`{"event":"click","n":1}` + "\n")}, {Data: []byte(`{"event":"view","n":2}` + "\n")}, {Data: []byte(`{"event":"buy","n":3}` + "\n")}}
	_, err = l.firehose.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("lake-events-stream"), Records: records})
	require.NoError(t, err)

	hiveKey := "incoming/exports/région=eu west/dt=2024-05-01/hour=15/données été #1.json"
	_, err = l.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(landing), Key: aws.String(hiveKey), Body: strings.NewReader(`{"event":"export","n":4}` + "\n"),
		ContentType: aws.String("application/x-ndjson"), ContentEncoding: aws.String("identity"), Metadata: map[string]string{"origin": "nightly-export"},
	})
	require.NoError(t, err)
	_, err = l.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(landing), Key: aws.String("incoming/manual-upload/readme.txt"), Body: strings.NewReader("no time here")})
	require.NoError(t, err)

	// The Firehose object, named as Firehose names it.
	var firehoseKey string
	for k := range l.objects(t, landing) {
		if strings.Contains(k, "lake-events-stream-1-") {
			firehoseKey = k
		}
	}
	require.NotEmpty(t, firehoseKey, "moto wrote a Firehose-named object")
	m, ok := (*partition.Parser)(nil).KeyTime(firehoseKey)
	require.True(t, ok, "%s is a Firehose default key", firehoseKey)
	require.Equal(t, partition.LayoutFirehose, m.Layout)
	require.Equal(t, "lake-events-stream", m.Stream)
	name := firehoseKey[strings.LastIndexByte(firehoseKey, '/')+1:]

	// The queue holds the s3:TestEvent S3 sent when notifications were
	// configured, and one notification per object.
	batch := l.receive(t, queueURL, 4)
	var readmeMessage string
	for _, r := range batch.Records {
		if strings.Contains(r.Body, "readme.txt") {
			readmeMessage = r.MessageId
		}
	}
	require.NotEmpty(t, readmeMessage)
	wantFailures := `{"batchItemFailures":[{"itemIdentifier":"` + readmeMessage + `"}]}`

	resp, err, logs := run(t, batch, nil)
	require.NoError(t, err, logs)
	assert.JSONEq(t, wantFailures, string(resp), "only the object without a time fails")
	assert.Contains(t, logs, `"msg":"object failed"`)
	assert.Contains(t, logs, `"source":"s3://lakestream-landing/incoming/manual-upload/readme.txt"`)
	assert.Contains(t, logs, `"copies_made":4`)

	hour, minute := m.Time.Format("2006-01-02/15"), m.Time.Format("2006/01/02/15/04")
	hourly := "events/hourly/dt=" + strings.Replace(hour, "/", "/hour=", 1) + "/" + name
	minutely := "events/minute/" + minute + "/" + name
	want := []string{
		hourly, minutely,
		"events/hourly/dt=2024-05-01/hour=15/données été #1.json",
		"events/minute/2024/05/01/15/00/données été #1.json",
	}
	copies := l.objects(t, lake)
	assert.ElementsMatch(t, want, keys(copies))

	delivered := bytes.Join([][]byte{records[0].Data, records[1].Data, records[2].Data}, nil)
	for _, k := range want[:2] {
		b, _ := l.body(t, lake, k)
		assert.Equal(t, delivered, b, "%s holds what Firehose delivered", k)
	}
	b, out := l.body(t, lake, want[2])
	assert.Equal(t, `{"event":"export","n":4}`+"\n", string(b))
	assert.Equal(t, "application/x-ndjson", aws.ToString(out.ContentType), "content type kept")
	assert.Equal(t, "identity", aws.ToString(out.ContentEncoding), "content encoding kept")
	assert.Equal(t, "nightly-export", out.Metadata["origin"], "user metadata kept")
	assert.Equal(t, copySource(landing, hiveKey), out.Metadata[metaSource], "the copy names its source")

	wantHourly := []string{
		"2024-05-01/15 -> s3://lakestream-lake/events/hourly/dt=2024-05-01/hour=15/",
		m.Time.Format("2006-01-02/15") + " -> s3://lakestream-lake/events/hourly/dt=" + m.Time.Format("2006-01-02") + "/hour=" + m.Time.Format("15") + "/",
	}
	wantMinute := []string{
		"2024/05/01/15/00 -> s3://lakestream-lake/events/minute/2024/05/01/15/00/",
		minute + " -> s3://lakestream-lake/events/minute/" + minute + "/",
	}
	slices.Sort(wantHourly)
	slices.Sort(wantMinute)
	assert.Equal(t, wantHourly, l.partitions(t, "events_hourly"))
	assert.Equal(t, wantMinute, l.partitions(t, "events_minute"))

	// The same batch again: nothing is written, nothing registered.
	resp, err, logs = run(t, batch, nil)
	require.NoError(t, err, logs)
	assert.JSONEq(t, wantFailures, string(resp))
	assert.Equal(t, copies, l.objects(t, lake), "no object written again")
	assert.Equal(t, wantHourly, l.partitions(t, "events_hourly"))
	assert.Equal(t, wantMinute, l.partitions(t, "events_minute"))
	assert.Contains(t, logs, `"copies_made":0`)
	assert.Contains(t, logs, `"copies_up_to_date":4`)
	assert.Contains(t, logs, `"partitions_existing":4`)

	// Moving: the copies made above are found, the sources deleted.
	resp, err, logs = run(t, batch, map[string]string{"DELETE_SOURCE": "true"})
	require.NoError(t, err, logs)
	assert.JSONEq(t, wantFailures, string(resp))
	assert.Equal(t, copies, l.objects(t, lake))
	assert.Equal(t, []string{"incoming/manual-upload/readme.txt"}, keys(l.objects(t, landing)), "moved sources are deleted; the failed one stays")
	assert.Contains(t, logs, `"moved":2`)

	// And once more: the sources are gone, their copies there.
	resp, err, logs = run(t, batch, map[string]string{"DELETE_SOURCE": "true"})
	require.NoError(t, err, logs)
	assert.JSONEq(t, wantFailures, string(resp))
	assert.Contains(t, logs, `"copies_present":4`)
	assert.Equal(t, copies, l.objects(t, lake))
}

// TestIntegrationMultipartKMS copies an object over the multipart threshold
// (lowered to 5 MiB, as moto holds no 5 GiB objects) in 5 MiB parts with
// UploadPartCopy, and a small one with CopyObject, both under SSE-KMS, from
// a direct S3 notification.
func TestIntegrationMultipartKMS(t *testing.T) {
	l := newLake(t)
	ctx := context.Background()
	big := make([]byte, 11<<20+100)
	for i := range big {
		big[i] = byte(i % 251)
	}
	bigKey := "incoming/2024/05/01/13/big-stream-1-2024-05-01-13-05-09-" + uuid + ".gz"
	smallKey := "incoming/2024/05/01/13/big-stream-1-2024-05-01-13-05-10-" + uuid + ".gz"
	for key, body := range map[string][]byte{bigKey: big, smallKey: []byte("small")} {
		_, err := l.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(landing), Key: aws.String(key), Body: bytes.NewReader(body),
			ContentType: aws.String("application/x-ndjson"), ContentEncoding: aws.String("gzip"), Metadata: map[string]string{"schema": "v2"},
		})
		require.NoError(t, err)
	}
	event := []byte(`{"Records":[` + notificationRecord(bigKey, len(big)) + `,` + notificationRecord(smallKey, 5) + `]}`)
	resp, err, logs := run(t, event, map[string]string{
		"MULTIPART_THRESHOLD": "5MiB", "MULTIPART_PART_SIZE": "5MiB", "KMS_KEY_ID": kmsKey,
	})
	require.NoError(t, err, logs)
	var res Result
	require.NoError(t, json.Unmarshal(resp, &res))
	require.Len(t, res.Objects, 2)
	assert.Equal(t, []CopyResult{
		{Destination: "s3://lakestream-lake/events/hourly/dt=2024-05-01/hour=13/big-stream-1-2024-05-01-13-05-09-" + uuid + ".gz", Status: CopyMultipart, Bytes: int64(len(big))},
		{Destination: "s3://lakestream-lake/events/minute/2024/05/01/13/05/big-stream-1-2024-05-01-13-05-09-" + uuid + ".gz", Status: CopyMultipart, Bytes: int64(len(big))},
	}, res.Objects[0].Copies)
	assert.Equal(t, CopyCopied, res.Objects[1].Copies[0].Status)

	for _, c := range append(res.Objects[0].Copies, res.Objects[1].Copies...) {
		key := strings.TrimPrefix(c.Destination, "s3://"+lake+"/")
		b, out := l.body(t, lake, key)
		if c.Status == CopyMultipart {
			assert.True(t, bytes.Equal(big, b), "%s is the object byte for byte", key)
		} else {
			assert.Equal(t, "small", string(b))
		}
		assert.Equal(t, "application/x-ndjson", aws.ToString(out.ContentType), key)
		assert.Equal(t, "gzip", aws.ToString(out.ContentEncoding), key)
		assert.Equal(t, "v2", out.Metadata["schema"], key)
		assert.NotEmpty(t, out.Metadata[metaSource], key)
		assert.NotEmpty(t, out.Metadata[metaSourceETag], key)
		assert.Equal(t, types.ServerSideEncryptionAwsKms, out.ServerSideEncryption, key)
		assert.Equal(t, kmsKey, aws.ToString(out.SSEKMSKeyId), key)
	}
	uploads, err := l.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(lake)})
	require.NoError(t, err)
	assert.Empty(t, uploads.Uploads, "no upload left open")
}

// TestIntegrationEventBridgeRule proves the template's EventBridge rule: in
// moto, with the template's patterns for an existing bucket on the bus and
// the bucket's EventBridge notifications on, S3's Object Created events
// for keys under the prefix arrive and others do not; the arriving event,
// given to the real binary, is copied.
func TestIntegrationEventBridgeRule(t *testing.T) {
	l := newLake(t)
	ctx := context.Background()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	tmpl, err := lambdarun.LoadTemplate(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	logicalID := lambdarun.LogicalID("s3-redistributor")
	patterns, err := tmpl.EventPatterns(logicalID)
	require.NoError(t, err)
	assert.Empty(t, patterns, "by default the template creates the landing bucket, which notifies the function itself")
	require.NoError(t, tmpl.Override(map[string]string{"S3RedistributorSourceBucket": landing, "S3RedistributorSourcePrefix": "incoming/"}))
	patterns, err = tmpl.EventPatterns(logicalID)
	require.NoError(t, err)
	const rule = "S3RedistributorObjectCreatedRule"
	require.Equal(t, []string{rule}, keys(patterns))
	bus := moto.NewPatternBus(t, moto.Shared(t), patterns)
	_, err = l.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket:                    aws.String(landing),
		NotificationConfiguration: &types.NotificationConfiguration{EventBridgeConfiguration: &types.EventBridgeConfiguration{}},
	})
	require.NoError(t, err)

	key := "incoming/2024/05/01/13/lake-events-stream-1-2024-05-01-13-47-51-9b2d7c61-0e4f-4a3b-8c5d-6e7f8a9b0c1d"
	for _, k := range []string{"elsewhere/2024/05/01/13/x.json", key} {
		_, err := l.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(landing), Key: aws.String(k), Body: strings.NewReader("{}\n")})
		require.NoError(t, err)
	}
	delivered := bus.Delivered(t, rule)
	require.Len(t, delivered, 1, "the object outside the prefix did not match")
	body := delivered[0]
	assert.Contains(t, body, `"detail-type": "Object Created"`)
	assert.Contains(t, body, key, "the object under the prefix matched")

	resp, err, logs := run(t, []byte(body), map[string]string{"SOURCE_PREFIX": "incoming/"})
	require.NoError(t, err, logs)
	var res Result
	require.NoError(t, json.Unmarshal(resp, &res))
	assert.Equal(t, kindEventBridge, res.Kind)
	require.Len(t, res.Objects, 1)
	assert.Equal(t, StatusCopied, res.Objects[0].Status)
	assert.Equal(t, []string{"2024-05-01/13 -> s3://lakestream-lake/events/hourly/dt=2024-05-01/hour=13/"}, l.partitions(t, "events_hourly"))
}

// TestIntegrationInitError: an invalid variable stops the real binary at
// start-up with an error naming it.
func TestIntegrationInitError(t *testing.T) {
	_, err, _ := run(t, []byte(`{}`), map[string]string{"DESTINATIONS": "s3://lake/{yyyy}/fixed.json", "GLUE_DATABASE": ""})
	require.Error(t, err)
	assert.True(t, lambdarun.IsInit(err))
	assert.ErrorContains(t, err, `DESTINATIONS="s3://lake/{yyyy}/fixed.json" is invalid`)
}

// notificationRecord is one S3 notification record for key, URL-encoded as S3 does.
func notificationRecord(key string, size int) string {
	return fmt.Sprintf(`{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2024-05-01T13:05:11Z","s3":{"bucket":{"name":%q},"object":{"key":%q,"size":%d}}}`,
		landing, strings.ReplaceAll(url.QueryEscape(key), "%2F", "/"), size)
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
