package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kstypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// queue is an in-memory SQS queue: received messages are hidden until
// deleted or made visible again.
type queue struct {
	messages []*queued
	seq      int
}

type queued struct {
	id, body string
	hidden   bool
}

func (q *queue) add(body string) string {
	q.seq++
	id := fmt.Sprintf("m-%d", q.seq)
	q.messages = append(q.messages, &queued{id: id, body: body})
	return id
}

func (q *queue) visible() []string {
	var out []string
	for _, m := range q.messages {
		if !m.hidden {
			out = append(out, m.body)
		}
	}
	return out
}

func (q *queue) GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"ApproximateNumberOfMessages": strconv.Itoa(len(q.visible()))}}, nil
}

func (q *queue) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out := &sqs.ReceiveMessageOutput{}
	for _, m := range q.messages {
		if !m.hidden && len(out.Messages) < int(in.MaxNumberOfMessages) {
			m.hidden = in.VisibilityTimeout > 0
			out.Messages = append(out.Messages, sqstypes.Message{MessageId: aws.String(m.id), ReceiptHandle: aws.String("rh-" + m.id), Body: aws.String(m.body)})
		}
	}
	return out, nil
}

func (q *queue) find(handle *string) int {
	return slices.IndexFunc(q.messages, func(m *queued) bool { return "rh-"+m.id == aws.ToString(handle) })
}

func (q *queue) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	if i := q.find(in.ReceiptHandle); i >= 0 {
		q.messages[i].hidden = in.VisibilityTimeout > 0
	}
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

func (q *queue) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return &sqs.SendMessageOutput{MessageId: aws.String(q.add(aws.ToString(in.MessageBody)))}, nil
}

func (q *queue) DeleteMessage(_ context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	i := q.find(in.ReceiptHandle)
	if i < 0 {
		return nil, errors.New("ReceiptHandleIsInvalid")
	}
	q.messages = slices.Delete(q.messages, i, i+1)
	return &sqs.DeleteMessageOutput{}, nil
}

// ddbShard is a fake DynamoDB stream of one shard: its records, served
// two to a page, then empty pages.
type ddbShard struct {
	arn, shard string
	records    []ddbtypes.Record
	trimmed    bool
}

func (d *ddbShard) GetShardIterator(_ context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	if d.trimmed {
		return nil, &ddbtypes.TrimmedDataAccessException{Message: aws.String("trimmed")}
	}
	if aws.ToString(in.StreamArn) != d.arn || aws.ToString(in.ShardId) != d.shard || in.ShardIteratorType != ddbtypes.ShardIteratorTypeAtSequenceNumber {
		return nil, fmt.Errorf("unexpected iterator request %+v", in)
	}
	i := slices.IndexFunc(d.records, func(r ddbtypes.Record) bool {
		return aws.ToString(r.Dynamodb.SequenceNumber) == aws.ToString(in.SequenceNumber)
	})
	if i < 0 {
		return nil, errors.New("no such sequence number")
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(strconv.Itoa(i))}, nil
}

func (d *ddbShard) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	i, _ := strconv.Atoi(aws.ToString(in.ShardIterator))
	j := min(i+2, len(d.records))
	return &dynamodbstreams.GetRecordsOutput{Records: d.records[min(i, j):j], NextShardIterator: aws.String(strconv.Itoa(j))}, nil
}

// forwarder is a fake Invoker: the events it was given; fail says which
// sequence numbers it reports as batch item failures.
type forwarder struct {
	events [][]events.DynamoDBEventRecord
	fail   map[string]bool
	err    error
}

func (f *forwarder) Invoke(_ context.Context, event []byte) ([]byte, error) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	f.events = append(f.events, ev.Records)
	if f.err != nil {
		return nil, f.err
	}
	var resp events.DynamoDBEventResponse
	for _, r := range ev.Records {
		if f.fail[r.Change.SequenceNumber] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
		}
	}
	return json.Marshal(resp)
}

func (f *forwarder) seqs() []string {
	var out []string
	for _, ev := range f.events {
		for _, r := range ev {
			out = append(out, r.Change.SequenceNumber)
		}
	}
	return out
}

const ordersStream = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2024-05-01T00:00:00.000"

// orders is a DynamoDB stream shard of n INSERTs, sequence numbers
// 400000000000000499660 on.
func orders(n int) *ddbShard {
	d := &ddbShard{arn: ordersStream, shard: "shardId-00000001714521600000-864758bb"}
	for i := range n {
		seq := strconv.Itoa(499660 + i)
		d.records = append(d.records, ddbtypes.Record{
			AwsRegion: aws.String("us-east-1"), EventID: aws.String("e" + seq), EventName: ddbtypes.OperationTypeInsert,
			EventSource: aws.String("aws:dynamodb"), EventVersion: aws.String("1.1"),
			Dynamodb: &ddbtypes.StreamRecord{
				SequenceNumber:              aws.String("400000000000000" + seq),
				ApproximateCreationDateTime: aws.Time(time.Date(2024, 5, 1, 13, 0, i, 0, time.UTC)),
				Keys:                        map[string]ddbtypes.AttributeValue{"order_id": &ddbtypes.AttributeValueMemberN{Value: seq}},
				NewImage:                    map[string]ddbtypes.AttributeValue{"order_id": &ddbtypes.AttributeValueMemberN{Value: seq}},
				StreamViewType:              ddbtypes.StreamViewTypeNewImage,
				SizeBytes:                   aws.Int64(20),
			},
		})
	}
	return d
}

// onFailure is the record a mapping sends for records [first, last] of
// orders.
func onFailure(first, last int, arrival time.Time) string {
	r := OnFailure{DDBStreamBatchInfo: &BatchInfo{
		ShardID: "shardId-00000001714521600000-864758bb", StreamARN: ordersStream,
		StartSequenceNumber: "400000000000000" + strconv.Itoa(499660+first), EndSequenceNumber: "400000000000000" + strconv.Itoa(499660+last),
		BatchSize: last - first + 1, ApproximateArrivalOfFirstRecord: arrival, ApproximateArrivalOfLastRecord: arrival,
	}}
	r.RequestContext.Condition = "RetryAttemptsExhausted"
	b, _ := json.Marshal(r)
	return string(b)
}

var batchTime = time.Date(2024, 5, 1, 13, 5, 0, 0, time.UTC)

func streamRun(t *testing.T, q *queue, d *ddbShard, f *forwarder, apply bool) (Summary, string, error) {
	t.Helper()
	var progress bytes.Buffer
	s := Stream{Queue: q, QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/failures", DynamoDB: d,
		Invoker: f, Function: "the forwarder", Apply: apply, Progress: &progress,
		Now: func() time.Time { return batchTime.Add(time.Hour) }}
	sum, err := s.Run(context.Background())
	return sum, progress.String(), err
}

// TestStreamReplay: a dry run reads the ranges and invokes nothing; a run
// hands each range's records, and no others, to the forwarder as a
// DynamoDB event and deletes the messages; a second run finds none.
func TestStreamReplay(t *testing.T) {
	q := &queue{}
	q.add(onFailure(1, 3, batchTime))
	q.add(onFailure(5, 5, batchTime))
	q.add(`{"requestContext":{"condition":"RetriesExhausted"},"requestPayload":{}}`)
	d, f := orders(8), &forwarder{}

	sum, progress, err := streamRun(t, q, d, f, false)
	require.NoError(t, err)
	assert.Equal(t, Summary{DryRun: true, Sources: 3, Replayed: 4, Skipped: 1}, zeroElapsed(sum))
	assert.Empty(t, f.events)
	assert.Len(t, q.visible(), 3, "a dry run leaves the queue as it was")
	assert.Contains(t, progress, "table Orders shard shardId-00000001714521600000-864758bb, 400000000000000499661..400000000000000499663: would send 3 records (INSERT x3) to the forwarder")
	assert.Contains(t, progress, "skipped, not the on-failure record of a DynamoDB or Kinesis stream mapping")

	sum, _, err = streamRun(t, q, d, f, true)
	require.NoError(t, err)
	assert.Equal(t, Summary{Sources: 3, Done: 2, Replayed: 4, Skipped: 1}, zeroElapsed(sum))
	assert.Equal(t, []string{"400000000000000499661", "400000000000000499662", "400000000000000499663", "400000000000000499665"}, f.seqs())
	require.Len(t, f.events, 2, "one event per message")
	r := f.events[0][0]
	assert.Equal(t, ordersStream, r.EventSourceArn, "the ARN GetRecords leaves out")
	assert.Equal(t, "INSERT", r.EventName)
	assert.Equal(t, "499661", r.Change.Keys["order_id"].Number())
	assert.Equal(t, time.Date(2024, 5, 1, 13, 0, 1, 0, time.UTC), r.Change.ApproximateCreationDateTime.UTC())
	assert.Len(t, q.visible(), 1, "the one message that is no stream batch stays, visible")

	sum, _, err = streamRun(t, q, d, f, true)
	require.NoError(t, err)
	assert.Equal(t, Summary{Sources: 1, Skipped: 1}, zeroElapsed(sum))
	assert.Len(t, f.seqs(), 4, "nothing sent twice")
}

// TestStreamReplayPartial: records the forwarder fails again are put back
// as a message naming only them; the next run sends those and no others.
func TestStreamReplayPartial(t *testing.T) {
	q := &queue{}
	q.add(onFailure(0, 3, batchTime))
	d := orders(4)
	f := &forwarder{fail: map[string]bool{"400000000000000499661": true, "400000000000000499663": true}}

	sum, progress, err := streamRun(t, q, d, f, true)
	require.NoError(t, err)
	assert.Equal(t, Summary{Sources: 1, Done: 1, Replayed: 2, Failed: 2}, zeroElapsed(sum))
	assert.Contains(t, progress, "2 records sent to the forwarder, 2 failed (the forwarder reported 2 batch item failures; its log says why); a message naming those 2 replaces it")
	require.Len(t, q.visible(), 1)
	next, err := ParseOnFailure(q.visible()[0])
	require.NoError(t, err)
	assert.Equal(t, []string{"400000000000000499661", "400000000000000499663"}, next.Replay.Pending)
	assert.Len(t, f.events, 1, "the message put back is not replayed in the same run")

	f.fail = nil
	sum, _, err = streamRun(t, q, d, f, true)
	require.NoError(t, err)
	assert.Equal(t, Summary{Sources: 1, Done: 1, Replayed: 2}, zeroElapsed(sum))
	assert.Equal(t, []string{"400000000000000499661", "400000000000000499663"}, f.seqs()[4:], "only the failed ones")
	assert.Empty(t, q.visible())
}

// TestStreamReplayKept: a batch that fails whole, or whose records the
// stream no longer has, keeps its message as it was.
func TestStreamReplayKept(t *testing.T) {
	q := &queue{}
	body := onFailure(0, 1, batchTime)
	q.add(body)
	d, f := orders(2), &forwarder{err: errors.New("Runtime.ExitError")}
	sum, progress, err := streamRun(t, q, d, f, true)
	require.NoError(t, err)
	assert.Equal(t, Summary{Sources: 1, Failed: 2}, zeroElapsed(sum))
	assert.Contains(t, progress, "the 2 records failed again (Runtime.ExitError); message kept")
	assert.Equal(t, []string{body}, q.visible())

	d.trimmed = true
	sum, progress, err = streamRun(t, q, d, f, true)
	require.ErrorIs(t, err, ErrTrimmed)
	assert.Equal(t, Summary{Sources: 1, Failed: 2}, zeroElapsed(sum))
	assert.Contains(t, progress, "not replayed, the records are no longer in the stream")
	assert.Equal(t, []string{body}, q.visible())
}

// TestStreamReplayExpired: a DynamoDB batch older than the stream's 24
// hours is said to be, when its records cannot be read.
func TestStreamReplayExpired(t *testing.T) {
	q := &queue{}
	q.add(onFailure(0, 0, batchTime.Add(-48*time.Hour)))
	d := orders(1)
	d.trimmed = true
	_, progress, err := streamRun(t, q, d, &forwarder{}, false)
	require.ErrorIs(t, err, ErrTrimmed)
	assert.Contains(t, progress, "more than DynamoDB Streams' 24 hours ago")
}

// TestReadRangeStops: reading stops at the range's end even when the
// shard goes on, and gives up after maxEmptyReads empty pages on an open
// shard whose range never ends.
func TestReadRangeStops(t *testing.T) {
	d := orders(10)
	info := &BatchInfo{ShardID: d.shard, StreamARN: d.arn, StartSequenceNumber: "400000000000000499662", EndSequenceNumber: "400000000000000499664"}
	recs, err := readRange(context.Background(), d, nil, SourceDynamoDB, info, nil)
	require.NoError(t, err)
	var seqs []string
	for _, r := range recs {
		seqs = append(seqs, r.seq)
	}
	assert.Equal(t, []string{"400000000000000499662", "400000000000000499663", "400000000000000499664"}, seqs)

	info.EndSequenceNumber = "400000000000000499999"
	recs, err = readRange(context.Background(), d, nil, SourceDynamoDB, info, map[string]bool{"400000000000000499669": true})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "400000000000000499669", recs[0].seq)
}

// kinesisShard is a fake Kinesis stream of one shard, served whole.
type kinesisShard struct{ records []kstypes.Record }

func (k *kinesisShard) GetShardIterator(_ context.Context, in *kinesis.GetShardIteratorInput, _ ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	return &kinesis.GetShardIteratorOutput{ShardIterator: in.StartingSequenceNumber}, nil
}

func (k *kinesisShard) GetRecords(_ context.Context, in *kinesis.GetRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	var out []kstypes.Record
	for _, r := range k.records {
		if compareSeq(aws.ToString(r.SequenceNumber), aws.ToString(in.ShardIterator)) >= 0 {
			out = append(out, r)
		}
	}
	return &kinesis.GetRecordsOutput{Records: out, MillisBehindLatest: aws.Int64(0)}, nil
}

// TestReadRangeKinesis: Kinesis records become a Lambda Kinesis event's
// records, and an empty page at the stream's tip ends the read.
func TestReadRangeKinesis(t *testing.T) {
	const arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks"
	k := &kinesisShard{}
	for i := range 3 {
		k.records = append(k.records, kstypes.Record{
			SequenceNumber: aws.String(fmt.Sprintf("4960118965842235937883629852%d", i)), PartitionKey: aws.String(fmt.Sprintf("pk-%d", i)),
			Data: []byte(fmt.Sprintf(`{"n":%d}`, i)), ApproximateArrivalTimestamp: aws.Time(time.Date(2024, 5, 1, 13, 0, i, 500_000_000, time.UTC)),
		})
	}
	info := &BatchInfo{ShardID: "shardId-000000000001", StreamARN: arn, StartSequenceNumber: "49601189658422359378836298521", EndSequenceNumber: "49601189658422359378836298529"}
	recs, err := readRange(context.Background(), nil, k, SourceKinesis, info, nil)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	var ev events.KinesisEvent
	require.NoError(t, json.Unmarshal(eventJSON(recs), &ev))
	r := ev.Records[0]
	assert.Equal(t, "aws:kinesis", r.EventSource)
	assert.Equal(t, arn, r.EventSourceArn)
	assert.Equal(t, "eu-west-1", r.AwsRegion)
	assert.Equal(t, "shardId-000000000001:49601189658422359378836298521", r.EventID)
	assert.Equal(t, "pk-1", r.Kinesis.PartitionKey)
	assert.Equal(t, `{"n":1}`, string(r.Kinesis.Data))
	assert.Equal(t, time.Date(2024, 5, 1, 13, 0, 1, 500_000_000, time.UTC), r.Kinesis.ApproximateArrivalTimestamp.UTC())
}

// TestAttributes: every DynamoDB type comes out as the stream event's
// DynamoDB JSON, numbers with every digit.
func TestAttributes(t *testing.T) {
	item := map[string]ddbtypes.AttributeValue{
		"s":    &ddbtypes.AttributeValueMemberS{Value: "text"},
		"n":    &ddbtypes.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"},
		"b":    &ddbtypes.AttributeValueMemberB{Value: []byte{0, 1, 2}},
		"bool": &ddbtypes.AttributeValueMemberBOOL{Value: true},
		"null": &ddbtypes.AttributeValueMemberNULL{Value: true},
		"ss":   &ddbtypes.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":   &ddbtypes.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
		"bs":   &ddbtypes.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
		"l":    &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{&ddbtypes.AttributeValueMemberS{Value: "x"}, &ddbtypes.AttributeValueMemberN{Value: "1"}}},
		"m":    &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{"k": &ddbtypes.AttributeValueMemberS{Value: "v"}}},
		"em":   &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{}},
	}
	got, err := attributeMap(item, "NewImage")
	require.NoError(t, err)
	b, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"s": {"S": "text"}, "n": {"N": "12345678901234567890123456789012345678"}, "b": {"B": "AAEC"},
		"bool": {"BOOL": true}, "null": {"NULL": true}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]},
		"bs": {"BS": ["AQ==", "Ag=="]}, "l": {"L": [{"S": "x"}, {"N": "1"}]}, "m": {"M": {"k": {"S": "v"}}}, "em": {"M": {}}
	}`, string(b))

	_, err = attributeMap(map[string]ddbtypes.AttributeValue{"x": &ddbtypes.UnknownUnionMember{Tag: "X"}}, "Keys")
	assert.ErrorContains(t, err, "attribute Keys.x: unknown DynamoDB type")
}

// TestPackEvents: events stay within one synchronous invocation's payload
// and the record count.
func TestPackEvents(t *testing.T) {
	big := streamRecord{json: json.RawMessage(`"` + strings.Repeat("x", 2_000_000) + `"`)}
	small := streamRecord{json: json.RawMessage(`{}`)}
	packs := packEvents([]streamRecord{big, big, big, small})
	require.Len(t, packs, 2)
	assert.Len(t, packs[0], 2)
	assert.Len(t, packs[1], 2)
	for _, p := range packs {
		assert.LessOrEqual(t, len(eventJSON(p)), maxEventBytes+20)
	}
	assert.Len(t, packEvents(slices.Repeat([]streamRecord{small}, 2500)), 3)
	assert.Empty(t, packEvents(nil))
}
