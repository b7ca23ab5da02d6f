package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"lakestream/shared/alarms"
	lfirehose "lakestream/shared/firehose"
	"lakestream/shared/lambdarun"
	"lakestream/shared/moto/lake"
	"lakestream/shared/replay"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

// replayStage shows `make replay` on both kinds of failure, and the
// alarms that would have said something failed.
var replayStage = stage{
	title: "Replay of what failed, and the alarms (shared/cmd/replay, template.yaml)",
	run: func(ctx context.Context, d *demo) error {
		if err := replayFirehose(ctx, d); err != nil {
			return err
		}
		if err := replayStream(ctx, d); err != nil {
			return err
		}
		return listAlarms(d)
	},
}

// replayFirehose: firehose-json fails a record whose user_id is longer
// than the template's SCHEMA allows; Firehose writes it to the error
// output prefix. Once the limit is raised, replay puts it back into the
// delivery stream, and it comes out Ok.
func replayFirehose(ctx context.Context, d *demo) error {
	const fn, bucket, errPrefix = "firehose-json", "lakestream-json-lake", "json-errors/processing-failed/"
	stream, err := d.tmpl.Ref("FirehoseJsonDeliveryStreamName")
	if err != nil {
		return err
	}
	created, err := d.lake.DeliveryStream(ctx, stream, bucket, "json/")
	for _, c := range created {
		d.say("  set up %s", c)
	}
	if err != nil {
		return err
	}
	arrival := time.Date(2024, 5, 1, 13, 45, 0, 0, time.UTC)
	long := `{"event":"signup","user_id":"` + strings.Repeat("u", 150) + `","ts":"2024-05-01T13:45:00Z"}` + "\n"
	req := events.KinesisFirehoseEvent{
		InvocationID: "demo-replay", Region: "us-east-1",
		DeliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/" + stream,
		Records:           []events.KinesisFirehoseEventRecord{{RecordID: "r1", Data: []byte(long), ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: arrival}}},
	}
	resp, err := d.transform(ctx, fn, req, nil)
	if err != nil {
		return err
	}
	if resp.Records[0].Result != lfirehose.ResultProcessingFailed {
		return fmt.Errorf("the long user_id came out %s, not ProcessingFailed", resp.Records[0].Result)
	}
	d.say("  -- a record firehose-json failed: its user_id has 150 characters; the template's SCHEMA allows 128")

	// What Firehose writes for it to the error output prefix.
	line, _ := json.Marshal(map[string]string{
		"attemptsMade": "1", "arrivalTimestamp": fmt.Sprint(arrival.UnixMilli()),
		"errorCode": "Lambda.ProcessingFailedStatus", "errorMessage": "ProcessingFailed status set for record",
		"attemptEndingTimestamp": fmt.Sprint(arrival.Add(time.Minute).UnixMilli()),
		"rawData":                base64.StdEncoding.EncodeToString([]byte(long)),
		"lambdaArn":              "arn:aws:lambda:us-east-1:123456789012:function:lakestream-FirehoseJsonFunction",
	})
	key := errPrefix + arrival.Format("2006/01/02/15/") + stream + "-1-" + arrival.Add(5*time.Minute).Format("2006-01-02-15-04-05") + "-5d0b8f3e-2a41-4c8e-b1f7-9e3c2d4a6b10"
	if _, err := d.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(append(line, '\n'))}); err != nil {
		return err
	}
	d.say("  Firehose wrote it to s3://%s/%s", bucket, key)

	// After the fix (SCHEMA user_id:string:max=256), Firehose runs the
	// transformation on what replay puts back; moto does not, so a writer
	// plays it.
	fixed := map[string]string{"SCHEMA": "event:string:required,user_id:string:max=256,ts:timestamp"}
	f := replay.Firehose{
		S3: d.s3, Bucket: bucket, Prefix: errPrefix, Target: "delivery stream " + stream,
		Writer: &firehosePlayer{d: d, fn: fn, stream: stream, env: fixed}, Progress: indent{d},
	}
	for _, run := range []struct {
		say   string
		apply bool
	}{
		{"dry run: make replay ARGS='firehose -source s3://" + bucket + "/" + errPrefix + " -stream " + stream + "'", false},
		{"with SCHEMA's user_id limit raised to 256, the same with -apply", true},
		{"and again: the object is tagged as replayed, so nothing is sent twice", true},
	} {
		d.say("  -- %s", run.say)
		f.Apply = run.apply
		sum, err := f.Run(ctx)
		if err != nil {
			return err
		}
		d.say("  %s", sum)
	}
	_, err = d.listObjects(ctx, bucket, "json/")
	return err
}

// firehosePlayer is the Writer replayFirehose puts records back with: it
// plays Firehose, running the records through fn with env over the
// template's, and putting what comes out Ok into the delivery stream.
type firehosePlayer struct {
	d      *demo
	fn     string
	stream string
	env    map[string]string
}

func (p *firehosePlayer) Put(ctx context.Context, entries []streamput.Entry) ([]streamput.Failure, error) {
	req := events.KinesisFirehoseEvent{InvocationID: "demo-replayed", Region: "us-east-1", DeliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/" + p.stream}
	for i, e := range entries {
		req.Records = append(req.Records, events.KinesisFirehoseEventRecord{RecordID: fmt.Sprint(i), Data: e.Data, ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.Now()}})
	}
	resp, err := p.d.transform(ctx, p.fn, req, p.env)
	if err != nil {
		return nil, err
	}
	var ok []streamput.Entry
	var failures []streamput.Failure
	for i, r := range resp.Records {
		switch r.Result {
		case lfirehose.ResultOk:
			ok = append(ok, streamput.Entry{Data: r.Data})
			p.d.say("      %s transformed it: %s", p.fn, firstLine(r.Data, 120))
		case lfirehose.ResultProcessingFailed:
			failures = append(failures, streamput.Failure{Index: i, Err: "ProcessingFailed again"})
		}
	}
	if len(ok) > 0 {
		if _, err := streamput.NewFirehose(p.d.streams, p.stream, retry.Default()).Put(ctx, ok); err != nil {
			return nil, err
		}
	}
	return failures, nil
}

// transform runs fn's real binary on a Firehose request.
func (d *demo) transform(ctx context.Context, fn string, req events.KinesisFirehoseEvent, env map[string]string) (*lfirehose.Response, error) {
	raw, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	out, err := d.invoke(ctx, fn, raw, env)
	if err != nil {
		return nil, err
	}
	var resp lfirehose.Response
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("response: %w", err)
	}
	return &resp, nil
}

// replayStream: the forwarder's mapping gave up on two records of table
// Shipments' stream and sent their range to the failure queue; replay reads
// them back from the stream and runs the forwarder on them.
func replayStream(ctx context.Context, d *demo) error {
	const fn = "ddb-stream-forwarder"
	env, err := d.tmpl.Environment(lambdarun.LogicalID(fn))
	if err != nil {
		return err
	}
	if err := d.setup(ctx, fn, nil); err != nil {
		return err
	}
	cfg, err := d.moto.Config(ctx)
	if err != nil {
		return err
	}
	db, st, sq := dynamodb.NewFromConfig(cfg), dynamodbstreams.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	table, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Shipments"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("order_id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("order_id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		return fmt.Errorf("create table Shipments: %w", err)
	}
	streamARN := aws.ToString(table.TableDescription.LatestStreamArn)
	for i, status := range []string{"placed", "paid", "shipped"} {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Shipments"), Item: map[string]ddbtypes.AttributeValue{
			"order_id": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("o-%d", i+1)},
			"status":   &ddbtypes.AttributeValueMemberS{Value: status},
			"total":    &ddbtypes.AttributeValueMemberN{Value: "129.90"},
		}}); err != nil {
			return err
		}
	}
	desc, err := st.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(streamARN)})
	if err != nil {
		return err
	}
	shard := aws.ToString(desc.StreamDescription.Shards[0].ShardId)
	it, err := st.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(streamARN), ShardId: aws.String(shard), ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		return err
	}
	recs, err := st.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		return err
	}
	if len(recs.Records) != 3 {
		return fmt.Errorf("the Shipments stream holds %d records, want 3", len(recs.Records))
	}
	// The template's queue, named here as lambdarun resolves its !Ref.
	queueName, err := d.tmpl.Ref("DdbStreamForwarderFailureQueue")
	if err != nil {
		return err
	}
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queueName)})
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	info := replay.OnFailure{Version: "1.0", Timestamp: now.Format(time.RFC3339), DDBStreamBatchInfo: &replay.BatchInfo{
		ShardID: shard, StreamARN: streamARN, BatchSize: 2,
		StartSequenceNumber: aws.ToString(recs.Records[1].Dynamodb.SequenceNumber), EndSequenceNumber: aws.ToString(recs.Records[2].Dynamodb.SequenceNumber),
		ApproximateArrivalOfFirstRecord: now, ApproximateArrivalOfLastRecord: now,
	}}
	info.RequestContext.RequestID = "316aa6d0-8154-4e66-9af7-85d5f4a6bc81"
	info.RequestContext.FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:lakestream-DdbStreamForwarderFunction"
	info.RequestContext.Condition, info.RequestContext.ApproximateInvokeCount = "RetryAttemptsExhausted", 11
	info.ResponseContext.StatusCode, info.ResponseContext.ExecutedVersion, info.ResponseContext.FunctionError = 200, "$LATEST", "Unhandled"
	body, _ := json.Marshal(info)
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(string(body))}); err != nil {
		return err
	}
	d.say("  -- table Shipments got 3 changes; its mapping gave up on the last 2 (say Firehose throttled for longer than the retries) and sent their range to the failure queue:")
	d.say("  %s", firstLine(body, 400))

	s := replay.Stream{
		Queue: sq, QueueURL: aws.ToString(q.QueueUrl), DynamoDB: st, Kinesis: kinesis.NewFromConfig(cfg),
		Invoker:  invokerFunc(func(ctx context.Context, event []byte) ([]byte, error) { return d.invoke(ctx, fn, event, nil) }),
		Function: fn, Progress: indent{d}, Visibility: time.Minute,
	}
	for _, run := range []struct {
		say   string
		apply bool
	}{
		{"dry run: make replay ARGS='stream -queue <DdbStreamForwarderFailureQueueUrl> -function <the forwarder>'", false},
		{"the same with -apply: the two records are read back from the stream and the forwarder runs on them", true},
		{"and again: the message is gone, so nothing is sent twice", true},
	} {
		d.say("  -- %s", run.say)
		s.Apply = run.apply
		sum, err := s.Run(ctx)
		if err != nil {
			return err
		}
		d.say("  %s", sum)
	}
	prefix := env["DELIVERY_STREAM"] + "/"
	list, err := d.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(lake.CDCBucket), Prefix: aws.String(prefix)})
	if err != nil {
		return err
	}
	for _, o := range list.Contents {
		obj, err := d.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(lake.CDCBucket), Key: o.Key},
			func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true }) // moto sends no checksums
		if err != nil {
			return err
		}
		b, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		if err != nil {
			return err
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if strings.Contains(l, `"table":"Shipments"`) {
				d.say("  in s3://%s/%s: %s", lake.CDCBucket, aws.ToString(o.Key), firstLine([]byte(l), 160))
			}
		}
	}
	return nil
}

// listAlarms lists what template.yaml alarms on.
func listAlarms(d *demo) error {
	t, err := alarms.Load(filepath.Join(d.root, "template.yaml"))
	if err != nil {
		return err
	}
	d.say("  -- the template's %d CloudWatch alarms (they notify AlarmTopicArn when it is set) and its dashboard:", len(t.Alarms))
	for _, a := range t.Alarms {
		d.say("  alarm %s", a)
	}
	for _, id := range t.OfType("AWS::CloudWatch::Dashboard") {
		d.say("  dashboard %s: a widget per function with every EMF metric it emits (output DashboardUrl)", id)
	}
	return nil
}

// invokerFunc is a replay.Invoker from a function.
type invokerFunc func(ctx context.Context, event []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, event []byte) ([]byte, error) { return f(ctx, event) }

// indent writes replay's progress lines into the demo's output, indented.
type indent struct{ d *demo }

func (w indent) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.d.say("    %s", l)
	}
	return len(p), nil
}
