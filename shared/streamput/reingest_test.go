package streamput_test

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/firehose"
	"lakestream/shared/streamput"
)

// TestSourceReingester: payloads go back to the batch's source, the
// Kinesis stream when there is one, else the delivery stream, keyed by
// their original partition key or one derived from the data.
func TestSourceReingester(t *testing.T) {
	const deliveryARN = "arn:aws:firehose:us-east-1:123456789012:deliverystream/" + streamName
	payloads := []firehose.Reingest{{Data: entry(0, 10, "").Data, PartitionKey: "pk-0"}, {Data: entry(1, 10, "").Data}}
	tests := map[string]struct {
		source     string
		delivery   string // the delivery stream's ARN, if not deliveryARN
		noFirehose bool
		noKinesis  bool
		wantTarget string
		wantErr    string
	}{
		"direct put":            {wantTarget: streamName},
		"kinesis source":        {source: streamARN, wantTarget: streamARN},
		"no kinesis client":     {source: streamARN, noKinesis: true, wantErr: "no writer for source"},
		"no firehose client":    {noFirehose: true, wantErr: "no writer for source"},
		"not a delivery stream": {delivery: "arn:aws:s3:::bucket", wantErr: `"arn:aws:s3:::bucket" is not a delivery stream ARN`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			var fh streamput.FirehoseAPI = f
			var ks streamput.KinesisAPI = f
			if tc.noFirehose {
				fh = nil
			}
			if tc.noKinesis {
				ks = nil
			}
			ev := events.KinesisFirehoseEvent{DeliveryStreamArn: deliveryARN, SourceKinesisStreamArn: tc.source}
			if tc.delivery != "" {
				ev.DeliveryStreamArn = tc.delivery
			}
			err := streamput.NewSourceReingester(fh, ks, instant(3)).Reingest(context.Background(), ev, payloads)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Empty(t, f.requests)
				return
			}
			require.NoError(t, err)
			require.Len(t, f.requests, 1)
			assert.Equal(t, tc.wantTarget, f.names[0])
			assert.Equal(t, map[int]int{0: 1, 1: 1}, f.delivered)
			if tc.source != "" {
				assert.Equal(t, "pk-0", f.requests[0][0].key, "the original partition key")
				assert.Len(t, f.requests[0][1].key, 32, "a key derived from the data")
			}
		})
	}
}

func TestSourceReingesterFailure(t *testing.T) {
	f := newFake(t)
	f.fail = func(int) error { return errors.New("throttled") }
	ev := events.KinesisFirehoseEvent{DeliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/" + streamName}
	err := streamput.NewSourceReingester(f, nil, instant(2)).Reingest(context.Background(), ev, []firehose.Reingest{{Data: entry(0, 10, "").Data}})
	assert.ErrorContains(t, err, "throttled")
}

func TestStreamName(t *testing.T) {
	name, err := streamput.StreamName("arn:aws:firehose:eu-west-1:123456789012:deliverystream/my-stream")
	require.NoError(t, err)
	assert.Equal(t, "my-stream", name)
	_, err = streamput.StreamName("arn:aws:kinesis:eu-west-1:123456789012:stream/x")
	assert.Error(t, err)
}

// TestSourceReingesterEncoded: a payload that came as base64 text
// (firehose.Reingest.Encoded) is written as that text, and lands as its
// decoded twin does: the same records, and into a Kinesis source the same
// key derived from the data (the hash of the decoded bytes).
func TestSourceReingesterEncoded(t *testing.T) {
	const deliveryARN = "arn:aws:firehose:us-east-1:123456789012:deliverystream/" + streamName
	data := [][]byte{entry(0, 10, "").Data, entry(1, 11, "").Data, entry(2, 12, "").Data}
	decoded := []firehose.Reingest{{Data: data[0], PartitionKey: "pk-0"}, {Data: data[1]}, {Data: data[2]}}
	encoded := make([]firehose.Reingest, len(decoded))
	for i, p := range decoded {
		encoded[i] = firehose.Reingest{Encoded: []byte(base64.StdEncoding.EncodeToString(p.Data)), PartitionKey: p.PartitionKey}
	}
	for _, source := range []string{"", streamARN} {
		ev := events.KinesisFirehoseEvent{DeliveryStreamArn: deliveryARN, SourceKinesisStreamArn: source}
		var got [2][]sent
		for i, payloads := range [][]firehose.Reingest{decoded, encoded} {
			f := newFake(t)
			require.NoError(t, streamput.NewSourceReingester(f, f, instant(3)).Reingest(context.Background(), ev, payloads))
			assert.Equal(t, map[int]int{0: 1, 1: 1, 2: 1}, f.delivered, "source %q", source)
			require.Len(t, f.requests, 1)
			got[i] = f.requests[0]
		}
		assert.Equal(t, got[0], got[1], "source %q: the encoded payloads land as their decoded twins", source)
		if source != "" {
			assert.Len(t, got[1][1].key, 32, "a key derived from the data")
			assert.NotEqual(t, got[1][1].key, got[1][2].key)
		}
	}
}
