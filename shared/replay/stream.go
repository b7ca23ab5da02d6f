package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Queue is what the stream replay does with the on-failure queue.
type Queue interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// Invoker runs the forwarder on one stream event and returns its answer
// (the partial batch response): the deployed function through Lambda's
// Invoke API, or its binary run locally.
type Invoker interface {
	Invoke(ctx context.Context, event []byte) ([]byte, error)
}

// DefaultVisibility is how long a run keeps the messages it received
// from other consumers while it works on them; messages it did not finish
// with are made visible again when it ends.
const DefaultVisibility = 10 * time.Minute

// Stream replays the batches a stream event source mapping sent to its
// on-failure queue.
type Stream struct {
	Queue    Queue
	QueueURL string
	DynamoDB DynamoDBStreams
	Kinesis  KinesisStreams
	// Invoker runs the forwarder; Function says which, for people.
	Invoker  Invoker
	Function string
	// Apply replays; without it the run is dry (it reads the streams
	// but invokes nothing and leaves the queue as it was).
	Apply bool
	// Visibility is DefaultVisibility when zero.
	Visibility time.Duration
	// Progress receives a line per message; nil discards them.
	Progress io.Writer
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// dynamoDBRetention is how long a DynamoDB stream keeps a record.
const dynamoDBRetention = 24 * time.Hour

// Run replays every message of the queue and returns what it did. Each
// message's batch is read back from its stream and handed to the
// forwarder; a message whose records all went through is deleted, one
// with records the forwarder failed is replaced by one naming only those
// (so a re-run sends nothing twice), and one that could not be replayed
// at all is left as it was. The error joins what went wrong with single
// messages; a failed queue operation stops the run.
func (s Stream) Run(ctx context.Context) (Summary, error) {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Visibility <= 0 {
		s.Visibility = DefaultVisibility
	}
	p := newProgress(s.Progress)
	sum := Summary{DryRun: !s.Apply}
	attrs, err := s.Queue.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(s.QueueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return sum, fmt.Errorf("queue %s: %w", s.QueueURL, err)
	}
	p.total, _ = strconv.Atoi(attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])

	seen := map[string]bool{}    // message ids handled
	created := map[string]bool{} // message ids this run sent
	var release []string         // receipt handles to make visible again
	defer func() {
		// Not under ctx: a run cut short still hands its messages back.
		for _, h := range release {
			s.Queue.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{ //nolint:errcheck // they come back after Visibility anyway
				QueueUrl: aws.String(s.QueueURL), ReceiptHandle: aws.String(h), VisibilityTimeout: 0,
			})
		}
	}()
	var errs []error
	for {
		out, err := s.Queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(s.QueueURL), MaxNumberOfMessages: 10,
			VisibilityTimeout: int32(s.Visibility / time.Second),
			// Long polling asks every SQS server, so an empty answer means
			// the queue has nothing left that this run has not received.
			WaitTimeSeconds: 1,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("receive from %s: %w", s.QueueURL, err))
			break
		}
		fresh := 0
		for _, m := range out.Messages {
			id, handle := aws.ToString(m.MessageId), aws.ToString(m.ReceiptHandle)
			if seen[id] || created[id] {
				release = append(release, handle)
				continue
			}
			seen[id] = true
			fresh++
			sum.Sources++
			deleted, sent, err := s.replay(ctx, m, &sum, p)
			if sent != "" {
				created[sent] = true
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("message %s: %w", id, err))
			}
			if !deleted {
				release = append(release, handle)
			}
		}
		if fresh == 0 {
			break
		}
	}
	sum.Elapsed = time.Since(p.start)
	return sum, errors.Join(errs...)
}

// replay handles one message: it reports whether the message was deleted
// and the id of the message put back in its place, if any.
func (s Stream) replay(ctx context.Context, m sqstypes.Message, sum *Summary, p *progress) (deleted bool, sent string, err error) {
	body := aws.ToString(m.Body)
	rec, err := ParseOnFailure(body)
	if err != nil {
		sum.Skipped++
		p.source("message %s: skipped, %v", aws.ToString(m.MessageId), err)
		return false, "", nil
	}
	info := rec.Batch()
	what := fmt.Sprintf("%s shard %s, %s..%s", streamName(info.StreamARN), info.ShardID, info.StartSequenceNumber, info.EndSequenceNumber)
	want := info.BatchSize
	var pending map[string]bool
	if rec.Replay != nil && len(rec.Replay.Pending) > 0 {
		pending = map[string]bool{}
		for _, seq := range rec.Replay.Pending {
			pending[seq] = true
		}
		want = len(pending)
		what += fmt.Sprintf(" (%d records left by %d earlier runs)", want, rec.Replay.Runs)
	}
	recs, err := readRange(ctx, s.DynamoDB, s.Kinesis, rec.Source(), info, pending)
	if err != nil {
		sum.Failed += want
		p.source("%s: not replayed, %v", what, err)
		if rec.Source() == SourceDynamoDB && s.Now().Sub(info.ApproximateArrivalOfFirstRecord) > dynamoDBRetention {
			p.note("the batch arrived at %s, more than DynamoDB Streams' 24 hours ago", info.ApproximateArrivalOfFirstRecord.Format(time.RFC3339))
		}
		return false, "", err
	}
	if missing := want - len(recs); missing > 0 && pending == nil && info.BatchSize > 0 {
		p.note("%s: %d of the batch's %d records read back (the rest past the stream's retention, or filtered out by the mapping)", what, len(recs), info.BatchSize)
	}
	if len(recs) == 0 {
		sum.Failed += want
		p.source("%s: not replayed, none of its records are in the stream any more", what)
		return false, "", nil
	}
	if !s.Apply {
		sum.Replayed += len(recs)
		p.source("%s: would send %d records (%s) to %s", what, len(recs), describeRecords(recs), s.Function)
		return false, "", nil
	}

	failed, why := s.invoke(ctx, recs)
	replayed := len(recs) - len(failed)
	sum.Replayed += replayed
	sum.Failed += len(failed)
	switch {
	case len(failed) == 0:
		if _, err := s.Queue.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.QueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			p.source("%s: %d records sent to %s, but the message is not deleted (a re-run sends them again): %v", what, replayed, s.Function, err)
			return false, "", fmt.Errorf("delete: %w", err)
		}
		sum.Done++
		p.source("%s: %d records sent to %s; message deleted", what, replayed, s.Function)
		return true, "", nil
	case replayed == 0:
		p.source("%s: the %d records failed again (%s); message kept", what, len(recs), why)
		return false, "", nil
	}
	// Some went through: put back a message naming only the others.
	next, err := narrowed(body, rec, failed, why)
	if err == nil {
		var out *sqs.SendMessageOutput
		out, err = s.Queue.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(s.QueueURL), MessageBody: aws.String(next)})
		if err == nil {
			sent = aws.ToString(out.MessageId)
			_, err = s.Queue.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.QueueURL), ReceiptHandle: m.ReceiptHandle})
		}
	}
	if err != nil {
		// Without a replacement, the original stays: a re-run sends all of
		// it again. With one but the original not deleted, both stay.
		p.source("%s: %d records sent to %s, %d failed (%s), but the message could not be replaced by one naming those (a re-run sends the sent ones again): %v", what, replayed, s.Function, len(failed), why, err)
		return false, sent, fmt.Errorf("replace with the failed records: %w", err)
	}
	sum.Done++
	p.source("%s: %d records sent to %s, %d failed (%s); a message naming those %d replaces it", what, replayed, s.Function, len(failed), why, len(failed))
	return true, sent, nil
}

// invoke hands recs to the forwarder, as many events as they take, and
// returns the sequence numbers it failed, in order, with why.
func (s Stream) invoke(ctx context.Context, recs []streamRecord) (failed []string, why string) {
	for _, batch := range packEvents(recs) {
		out, err := s.Invoker.Invoke(ctx, eventJSON(batch))
		if err != nil {
			why = err.Error()
			for _, r := range batch {
				failed = append(failed, r.seq)
			}
			continue
		}
		// DynamoDB and Kinesis name failures alike (itemIdentifier).
		var resp events.DynamoDBEventResponse
		if len(out) > 0 && string(out) != "null" {
			if err := json.Unmarshal(out, &resp); err != nil {
				why = fmt.Sprintf("the forwarder's answer is not a partial batch response: %v", err)
				for _, r := range batch {
					failed = append(failed, r.seq)
				}
				continue
			}
		}
		names := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			names[f.ItemIdentifier] = true
		}
		// Only the records the forwarder failed: unlike Lambda, which
		// retries from the first of them on, replay keeps to no order and
		// sends nothing twice.
		matched := 0
		for _, r := range batch {
			if names[r.seq] {
				matched++
			}
		}
		for _, r := range batch {
			// A failure naming no record of the batch leaves every record
			// in doubt.
			if names[r.seq] || matched < len(names) {
				failed = append(failed, r.seq)
			}
		}
		if len(names) > 0 {
			why = fmt.Sprintf("the forwarder reported %d batch item failures; its log says why", len(names))
		}
	}
	return failed, why
}

// streamName names a stream for people: "table Orders" or "Kinesis
// stream clicks".
func streamName(arn string) string {
	if _, rest, ok := strings.Cut(arn, ":table/"); ok {
		table, _, _ := strings.Cut(rest, "/")
		return "table " + table
	}
	if _, rest, ok := strings.Cut(arn, ":stream/"); ok {
		return "Kinesis stream " + rest
	}
	return arn
}

// describeRecords counts records by event name: "INSERT x2, MODIFY x1".
func describeRecords(recs []streamRecord) string {
	n := map[string]int{}
	for _, r := range recs {
		n[r.what]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%s x%d", k, n[k]))
	}
	return strings.Join(parts, ", ")
}
