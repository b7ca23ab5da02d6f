package transformer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/boot"
	"lakestream/shared/config"
	"lakestream/shared/firehose"
	"lakestream/shared/reingest"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
	"lakestream/shared/transformer/transformertest"
)

// streams is a fake Firehose and Kinesis: what each PutRecordBatch and
// PutRecords call wrote, by stream.
type streams struct {
	put map[string][]string // stream name or ARN: data
	// keys are the Kinesis partition keys, in the order of put.
	keys []string
}

// data is an entry's data, decoded when it came as base64 text.
func data(e streamput.Entry) string {
	b, err := e.AppendData(nil)
	if err != nil {
		return "undecodable: " + err.Error() // fails the comparison
	}
	return string(b)
}

func (s *streams) PutRecordBatch(_ context.Context, stream string, in []streamput.Entry) ([]streamput.Answer, error) {
	for _, r := range in {
		s.put[stream] = append(s.put[stream], data(r))
	}
	return make([]streamput.Answer, len(in)), nil
}

func (s *streams) PutRecords(_ context.Context, streamARN string, in []streamput.Entry) ([]streamput.Answer, error) {
	for _, r := range in {
		s.put[streamARN] = append(s.put[streamARN], data(r))
		s.keys = append(s.keys, r.PartitionKey)
	}
	return make([]streamput.Answer, len(in)), nil
}

// TestNewHandlerReingests: records whose output does not fit in the
// response go back, as they came, into the stream they came from (the
// delivery stream for Direct PUT, the Kinesis source with each record's
// partition key), through clients built on the first such record only.
func TestNewHandlerReingests(t *testing.T) {
	const (
		deliveryARN = "arn:aws:firehose:us-east-1:123456789012:deliverystream/words-stream"
		kinesisARN  = "arn:aws:kinesis:us-east-1:123456789012:stream/words-source"
	)
	tests := map[string]struct {
		source string
		target string
	}{
		"direct put":     {target: "words-stream"},
		"kinesis source": {source: kinesisARN, target: kinesisARN},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fake := &streams{put: map[string][]string{}}
			builds := 0
			lazy := reingest.NewFunc(func(context.Context) (firehose.Reingester, error) {
				builds++
				return streamput.NewSourceReingester(fake, fake, retry.Policy{MaxAttempts: 1}), nil
			})
			fn := boot.NewFrom(config.FromMap(nil), &bytes.Buffer{})
			// Room for about three of the ten records' output.
			h := NewHandler(fn, words, firehose.WithReingester(lazy), firehose.WithBudget(700))
			require.NoError(t, fn.Err())
			assert.Zero(t, builds, "no client at start-up")

			small := event("what=a\n")
			small.DeliveryStreamArn, small.SourceKinesisStreamArn = deliveryARN, tc.source
			resp := transformertest.InvokeEvent(t, h, small)
			assert.Equal(t, firehose.ResultOk, resp.Records[0].Result)
			assert.Zero(t, builds, "no client while everything fits")

			var lines []string
			for i := range 10 {
				lines = append(lines, fmt.Sprintf("what=record-%d when=2024-03-05T06:00:%02dZ\n", i, i))
			}
			ev := event(lines...)
			ev.DeliveryStreamArn, ev.SourceKinesisStreamArn = deliveryARN, tc.source
			var wantKeys []string
			for i := range ev.Records {
				if tc.source != "" {
					ev.Records[i].KinesisFirehoseRecordMetadata = events.KinesisFirehoseRecordMetadata{ShardID: "shardId-0", PartitionKey: "pk-" + ev.Records[i].RecordID}
				}
			}
			for range 2 {
				resp = transformertest.InvokeEvent(t, h, ev)
				var ok, back []string
				for i, r := range resp.Records {
					switch r.Result {
					case firehose.ResultOk:
						require.Empty(t, back, "records after the first one that did not fit go back too")
						ok = append(ok, lines[i])
					case firehose.ResultDropped:
						back = append(back, lines[i])
						if tc.source != "" {
							wantKeys = append(wantKeys, "pk-"+r.RecordID)
						}
					default:
						t.Fatalf("record %s: %s", r.RecordID, r.Result)
					}
				}
				require.NotEmpty(t, ok)
				require.NotEmpty(t, back, "the budget holds only some of the records")
				assert.Equal(t, back, fake.put[tc.target][len(fake.put[tc.target])-len(back):], "re-ingested as they came, in order")
			}
			assert.Len(t, fake.put, 1, "into the source stream only")
			assert.Equal(t, wantKeys, fake.keys, "the original partition keys")
			assert.Equal(t, 1, builds, "the clients are built once, on first use")
			assert.Equal(t, "what=record-9 when=2024-03-05T06:00:09Z\n", fake.put[tc.target][len(fake.put[tc.target])-1])
		})
	}
}

// TestNewHandlerReingestFailure: when the clients cannot be built (no
// credentials), the invocation fails, so that Firehose retries the batch
// and nothing is lost, and the next invocation tries again.
func TestNewHandlerReingestFailure(t *testing.T) {
	builds := 0
	lazy := reingest.NewFunc(func(context.Context) (firehose.Reingester, error) {
		builds++
		return nil, fmt.Errorf("no credentials")
	})
	fn := boot.NewFrom(config.FromMap(nil), &bytes.Buffer{})
	h := NewHandler(fn, words, firehose.WithReingester(lazy), firehose.WithBudget(700))
	require.NoError(t, fn.Err())
	ev := event(slices.Repeat([]string{"what=a-record-of-some-length\n"}, 10)...)
	ev.DeliveryStreamArn = "arn:aws:firehose:us-east-1:123456789012:deliverystream/words-stream"
	payload, err := json.Marshal(ev)
	require.NoError(t, err)
	for range 2 {
		_, err := h.Invoke(t.Context(), payload)
		assert.ErrorContains(t, err, "no credentials")
	}
	assert.Equal(t, 2, builds)
}
