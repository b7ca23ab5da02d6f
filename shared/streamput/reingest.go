package streamput

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/firehose"
	"lakestream/shared/retry"
)

// SourceReingester is the firehose.Reingester that re-ingests the way the
// AWS blueprint does: into the Kinesis stream when the delivery stream
// reads from one (sourceKinesisStreamArn set), otherwise into the delivery
// stream itself (Direct PUT). Either client may be nil when the function's
// template only grants the other. It lives here, beside the writers, so
// that shared/firehose links no AWS SDK.
type SourceReingester struct {
	firehose FirehoseAPI
	kinesis  KinesisAPI
	policy   retry.Policy
}

// NewSourceReingester returns a SourceReingester writing through the given
// clients and retrying partial failures with policy.
func NewSourceReingester(fh FirehoseAPI, ks KinesisAPI, policy retry.Policy) SourceReingester {
	return SourceReingester{firehose: fh, kinesis: ks, policy: policy}
}

var _ firehose.Reingester = SourceReingester{}

// Reingest implements firehose.Reingester.
func (s SourceReingester) Reingest(ctx context.Context, ev events.KinesisFirehoseEvent, payloads []firehose.Reingest) error {
	var w *Writer
	toKinesis := false
	switch {
	case ev.SourceKinesisStreamArn != "" && s.kinesis != nil:
		w = NewKinesis(s.kinesis, ev.SourceKinesisStreamArn, s.policy)
		toKinesis = true
	case ev.SourceKinesisStreamArn == "" && s.firehose != nil:
		name, err := StreamName(ev.DeliveryStreamArn)
		if err != nil {
			return err
		}
		w = NewFirehose(s.firehose, name, s.policy)
	default:
		return fmt.Errorf("streamput: no writer for source %q (delivery stream %q)", ev.SourceKinesisStreamArn, ev.DeliveryStreamArn)
	}
	entries := make([]Entry, len(payloads))
	var data []byte
	for i, p := range payloads {
		// A payload that came as base64 text goes as that text, never
		// decoded (firehose.Reingest.Encoded).
		e := Entry{Data: p.Data, Encoded: p.Encoded, PartitionKey: p.PartitionKey}
		if e.PartitionKey == "" && toKinesis {
			// Kinesis requires a key; one derived from the data spreads
			// payloads over shards and stays the same on a retry. (A
			// Kinesis source's records all have one: decoding text to
			// hash it is the rare case. Firehose takes no key.)
			data = p.AppendData(data[:0])
			sum := sha256.Sum256(data)
			e.PartitionKey = hex.EncodeToString(sum[:16])
		}
		entries[i] = e
	}
	_, err := w.Put(ctx, entries)
	return err
}

// StreamName returns the delivery stream name from its ARN
// (arn:aws:firehose:<region>:<account>:deliverystream/<name>).
func StreamName(arn string) (string, error) {
	_, name, ok := strings.Cut(arn, ":deliverystream/")
	if !ok || name == "" {
		return "", fmt.Errorf("streamput: %q is not a delivery stream ARN", arn)
	}
	return name, nil
}
