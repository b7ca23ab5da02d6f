package firehose

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

// Reingest is one payload to put back into the stream the batch came from.
type Reingest struct {
	Data []byte
	// PartitionKey is the original record's Kinesis partition key (Kinesis
	// sources only), so the payload lands on the same shard ordering.
	PartitionKey string
}

// Reingester puts payloads back into the batch's source stream. An error
// means some payload was not written after every retry: the handler then
// fails the invocation so Firehose retries the batch and nothing is lost.
type Reingester interface {
	Reingest(ctx context.Context, ev events.KinesisFirehoseEvent, payloads []Reingest) error
}

// SourceReingester re-ingests the way the AWS blueprint does: into the
// Kinesis stream when the delivery stream reads from one
// (sourceKinesisStreamArn set), otherwise into the delivery stream itself
// (Direct PUT). Either client may be nil when the function's template only
// grants the other.
type SourceReingester struct {
	firehose streamput.FirehoseAPI
	kinesis  streamput.KinesisAPI
	policy   retry.Policy
}

// NewSourceReingester returns a SourceReingester writing through the given
// clients and retrying partial failures with policy.
func NewSourceReingester(fh streamput.FirehoseAPI, ks streamput.KinesisAPI, policy retry.Policy) SourceReingester {
	return SourceReingester{firehose: fh, kinesis: ks, policy: policy}
}

// Reingest implements Reingester.
func (s SourceReingester) Reingest(ctx context.Context, ev events.KinesisFirehoseEvent, payloads []Reingest) error {
	entries := make([]streamput.Entry, len(payloads))
	for i, p := range payloads {
		key := p.PartitionKey
		if key == "" {
			// Kinesis requires a key; one derived from the data spreads
			// payloads over shards and stays the same on a retry.
			sum := sha256.Sum256(p.Data)
			key = hex.EncodeToString(sum[:16])
		}
		entries[i] = streamput.Entry{Data: p.Data, PartitionKey: key}
	}
	var w *streamput.Writer
	switch {
	case ev.SourceKinesisStreamArn != "" && s.kinesis != nil:
		w = streamput.NewKinesis(s.kinesis, ev.SourceKinesisStreamArn, s.policy)
	case ev.SourceKinesisStreamArn == "" && s.firehose != nil:
		name, err := StreamName(ev.DeliveryStreamArn)
		if err != nil {
			return err
		}
		w = streamput.NewFirehose(s.firehose, name, s.policy)
	default:
		return fmt.Errorf("firehose: no writer for source %q (delivery stream %q)", ev.SourceKinesisStreamArn, ev.DeliveryStreamArn)
	}
	_, err := w.Put(ctx, entries)
	return err
}

// StreamName returns the delivery stream name from its ARN
// (arn:aws:firehose:<region>:<account>:deliverystream/<name>).
func StreamName(arn string) (string, error) {
	_, name, ok := strings.Cut(arn, ":deliverystream/")
	if !ok || name == "" {
		return "", fmt.Errorf("firehose: %q is not a delivery stream ARN", arn)
	}
	return name, nil
}
