package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kstypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// DynamoDBStreams is what the stream replay reads a DynamoDB stream with.
type DynamoDBStreams interface {
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// KinesisStreams is what the stream replay reads a Kinesis stream with.
type KinesisStreams interface {
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, opts ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// streamRecord is one record read back, as the stream event Lambda would
// have given the forwarder holds it.
type streamRecord struct {
	seq  string
	json json.RawMessage // an events.DynamoDBEventRecord or events.KinesisEventRecord
	// what describes it for a dry run: its eventName, or "record".
	what string
}

// maxEmptyReads bounds the empty GetRecords pages read in a row before a
// range is given up as incomplete: an open shard answers empty pages past
// its last record, and a trimmed range never fills.
const maxEmptyReads = 5

// ErrTrimmed marks a range the stream no longer holds.
var ErrTrimmed = errors.New("the records are no longer in the stream (past its retention: 24 hours for a DynamoDB stream, the stream's retention period for Kinesis)")

// readRange reads the records of info's range from its shard, keeping only
// those in pending when it is not nil. It stops at the first record past
// the range's end, at the shard's end, or after maxEmptyReads empty pages.
func readRange(ctx context.Context, ddb DynamoDBStreams, ks KinesisStreams, source string, info *BatchInfo, pending map[string]bool) ([]streamRecord, error) {
	var page func(ctx context.Context, iterator *string) ([]streamRecord, *string, bool, error)
	var iterator *string
	switch source {
	case SourceDynamoDB:
		if ddb == nil {
			return nil, errors.New("no DynamoDB Streams client")
		}
		out, err := ddb.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: aws.String(info.StreamARN), ShardId: aws.String(info.ShardID),
			ShardIteratorType: ddbtypes.ShardIteratorTypeAtSequenceNumber, SequenceNumber: aws.String(info.StartSequenceNumber),
		})
		if err != nil {
			return nil, readError("DynamoDB stream", err)
		}
		iterator = out.ShardIterator
		page = func(ctx context.Context, it *string) ([]streamRecord, *string, bool, error) {
			out, err := ddb.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
			if err != nil {
				return nil, nil, false, readError("DynamoDB stream", err)
			}
			recs := make([]streamRecord, 0, len(out.Records))
			for _, r := range out.Records {
				rec, err := dynamoDBRecord(r, info.StreamARN)
				if err != nil {
					return nil, nil, false, err
				}
				recs = append(recs, rec)
			}
			return recs, out.NextShardIterator, false, nil
		}
	case SourceKinesis:
		if ks == nil {
			return nil, errors.New("no Kinesis client")
		}
		out, err := ks.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamARN: aws.String(info.StreamARN), ShardId: aws.String(info.ShardID),
			ShardIteratorType: kstypes.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(info.StartSequenceNumber),
		})
		if err != nil {
			return nil, readError("Kinesis stream", err)
		}
		iterator = out.ShardIterator
		page = func(ctx context.Context, it *string) ([]streamRecord, *string, bool, error) {
			out, err := ks.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: aws.String(info.StreamARN), ShardIterator: it})
			if err != nil {
				return nil, nil, false, readError("Kinesis stream", err)
			}
			recs := make([]streamRecord, 0, len(out.Records))
			for _, r := range out.Records {
				rec, err := kinesisRecord(r, info.StreamARN, info.ShardID)
				if err != nil {
					return nil, nil, false, err
				}
				recs = append(recs, rec)
			}
			// Nothing behind the tip: an empty page is the end.
			atTip := out.MillisBehindLatest != nil && *out.MillisBehindLatest == 0
			return recs, out.NextShardIterator, atTip, nil
		}
	default:
		return nil, fmt.Errorf("unknown source %q", source)
	}

	var recs []streamRecord
	for empty := 0; iterator != nil && empty < maxEmptyReads; {
		got, next, atTip, err := page(ctx, iterator)
		if err != nil {
			return recs, err
		}
		if len(got) == 0 {
			if atTip {
				break
			}
			empty++
		} else {
			empty = 0
		}
		for _, r := range got {
			if compareSeq(r.seq, info.StartSequenceNumber) < 0 {
				continue
			}
			c := compareSeq(r.seq, info.EndSequenceNumber)
			if c > 0 {
				return recs, nil
			}
			if pending == nil || pending[r.seq] {
				recs = append(recs, r)
			}
			if c == 0 {
				return recs, nil
			}
		}
		iterator = next
	}
	return recs, nil
}

// readError says what a failed read means: a trimmed range or an expired
// stream are ErrTrimmed, which no re-run cures.
func readError(what string, err error) error {
	var trimmed *ddbtypes.TrimmedDataAccessException
	var expired *ddbtypes.ExpiredIteratorException
	var gone *ddbtypes.ResourceNotFoundException
	var kgone *kstypes.ResourceNotFoundException
	var kexpired *kstypes.ExpiredIteratorException
	if errors.As(err, &trimmed) || errors.As(err, &expired) || errors.As(err, &gone) || errors.As(err, &kgone) || errors.As(err, &kexpired) {
		return fmt.Errorf("%w: %w", ErrTrimmed, err)
	}
	return fmt.Errorf("read the %s: %w", what, err)
}

// dynamoDBRecord is a DynamoDB Streams record as a Lambda DynamoDB event
// holds it, with the eventSourceARN GetRecords leaves out.
func dynamoDBRecord(r ddbtypes.Record, streamARN string) (streamRecord, error) {
	ev := events.DynamoDBEventRecord{
		AWSRegion:      aws.ToString(r.AwsRegion),
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    aws.ToString(r.EventSource),
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: streamARN,
	}
	if ev.EventSource == "" {
		ev.EventSource = SourceDynamoDB
	}
	if ev.AWSRegion == "" {
		ev.AWSRegion = arnRegion(streamARN)
	}
	if u := r.UserIdentity; u != nil {
		ev.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(u.Type), PrincipalID: aws.ToString(u.PrincipalId)}
	}
	if d := r.Dynamodb; d != nil {
		var err error
		ev.Change.SequenceNumber = aws.ToString(d.SequenceNumber)
		ev.Change.SizeBytes = aws.ToInt64(d.SizeBytes)
		ev.Change.StreamViewType = string(d.StreamViewType)
		if d.ApproximateCreationDateTime != nil {
			ev.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
		}
		if ev.Change.Keys, err = attributeMap(d.Keys, "Keys"); err != nil {
			return streamRecord{}, err
		}
		if ev.Change.NewImage, err = attributeMap(d.NewImage, "NewImage"); err != nil {
			return streamRecord{}, err
		}
		if ev.Change.OldImage, err = attributeMap(d.OldImage, "OldImage"); err != nil {
			return streamRecord{}, err
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return streamRecord{}, fmt.Errorf("record %s: %w", ev.Change.SequenceNumber, err)
	}
	return streamRecord{seq: ev.Change.SequenceNumber, json: b, what: ev.EventName}, nil
}

// kinesisRecord is a Kinesis record as a Lambda Kinesis event holds it.
func kinesisRecord(r kstypes.Record, streamARN, shardID string) (streamRecord, error) {
	seq := aws.ToString(r.SequenceNumber)
	ev := events.KinesisEventRecord{
		AwsRegion:      arnRegion(streamARN),
		EventID:        shardID + ":" + seq,
		EventName:      "aws:kinesis:record",
		EventSource:    SourceKinesis,
		EventSourceArn: streamARN,
		EventVersion:   "1.0",
		Kinesis: events.KinesisRecord{
			Data:                 r.Data,
			EncryptionType:       string(r.EncryptionType),
			PartitionKey:         aws.ToString(r.PartitionKey),
			SequenceNumber:       seq,
			KinesisSchemaVersion: "1.0",
		},
	}
	if r.ApproximateArrivalTimestamp != nil {
		ev.Kinesis.ApproximateArrivalTimestamp = events.SecondsEpochTime{Time: *r.ApproximateArrivalTimestamp}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return streamRecord{}, fmt.Errorf("record %s: %w", seq, err)
	}
	return streamRecord{seq: seq, json: b, what: "record"}, nil
}

// attributeMap converts an SDK item (keys or image) into aws-lambda-go's
// attribute values, which marshal as the stream event's DynamoDB JSON.
func attributeMap(m map[string]ddbtypes.AttributeValue, path string) (map[string]events.DynamoDBAttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		av, err := attribute(v, path+"."+k)
		if err != nil {
			return nil, err
		}
		out[k] = av
	}
	return out, nil
}

// attribute converts one attribute value; numbers stay the strings they
// are, every digit kept.
func attribute(v ddbtypes.AttributeValue, path string) (events.DynamoDBAttributeValue, error) {
	switch v := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value), nil
	case *ddbtypes.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value), nil
	case *ddbtypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value), nil
	case *ddbtypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value), nil
	case *ddbtypes.AttributeValueMemberNULL:
		return events.NewNullAttribute(), nil
	case *ddbtypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value), nil
	case *ddbtypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value), nil
	case *ddbtypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value), nil
	case *ddbtypes.AttributeValueMemberL:
		list := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			av, err := attribute(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return av, err
			}
			list[i] = av
		}
		return events.NewListAttribute(list), nil
	case *ddbtypes.AttributeValueMemberM:
		m, err := attributeMap(v.Value, path)
		if err != nil {
			return events.DynamoDBAttributeValue{}, err
		}
		if m == nil {
			m = map[string]events.DynamoDBAttributeValue{}
		}
		return events.NewMapAttribute(m), nil
	default:
		return events.DynamoDBAttributeValue{}, fmt.Errorf("attribute %s: unknown DynamoDB type %T", path, v)
	}
}

// arnRegion is the region field of an ARN.
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

// maxEventBytes and maxEventRecords bound one invocation's event: Lambda
// takes at most 6 MB (6,291,456 bytes) in a synchronous request, and a
// stream mapping hands a function at most 10,000 records; the forwarder
// puts them 500 at a time either way.
const (
	maxEventBytes   = 5_000_000
	maxEventRecords = 1000
)

// packEvents packs records into stream events ({"Records":[...]}) of at most
// maxEventBytes and maxEventRecords each.
func packEvents(recs []streamRecord) [][]streamRecord {
	var out [][]streamRecord
	start, size := 0, 0
	for i, r := range recs {
		if i > start && (size+len(r.json)+1 > maxEventBytes || i-start == maxEventRecords) {
			out = append(out, recs[start:i])
			start, size = i, 0
		}
		size += len(r.json) + 1
	}
	if start < len(recs) {
		out = append(out, recs[start:])
	}
	return out
}

// eventJSON is the stream event holding recs.
func eventJSON(recs []streamRecord) []byte {
	b := []byte(`{"Records":[`)
	for i, r := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r.json...)
	}
	return append(b, "]}"...)
}
