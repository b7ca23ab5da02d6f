package faulttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"
)

// The forwarder's run: 300 DynamoDB stream records, in batches of 10 as an
// event source mapping with BatchSize 10 hands them over.
const (
	forwarderRecords = 300
	forwarderBatch   = 10
	cdcBucket        = "lake"
	cdcStream        = "orders-cdc"
	cdcPrefix        = "cdc/"
)

// runForwarder: each record ends as a line in the delivery stream's S3
// destination, or in the batch item failures (which the event source
// mapping retries).
func runForwarder(t *testing.T, e *env) account {
	ctx := t.Context()
	e.deliveryStream(cdcStream, cdcBucket, cdcPrefix)
	f := e.start("ddb-stream-forwarder", map[string]string{"DELIVERY_STREAM": cdcStream, "ROUTES": "", "OVERFLOW_BUCKET": "", "PUT_ATTEMPTS": "3"})

	failed := map[string]bool{}
	for start := 0; start < forwarderRecords; start += forwarderBatch {
		var recs []json.RawMessage
		for i := start; i < start+forwarderBatch; i++ {
			recs = append(recs, streamRecord(i))
		}
		raw, err := json.Marshal(map[string]any{"Records": recs})
		require.NoError(t, err)
		out, err := f.Invoke(ctx, raw)
		require.NoError(t, err, "a stream batch is answered with its failures, not failed")
		var resp events.DynamoDBEventResponse
		require.NoError(t, json.Unmarshal(out, &resp), "%s", out)
		for _, item := range resp.BatchItemFailures {
			failed[item.ItemIdentifier] = true
		}
	}

	copies := map[string]int{}
	for _, body := range e.objects(cdcBucket, cdcPrefix) {
		for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
			var l struct {
				SequenceNumber string `json:"sequence_number"`
			}
			require.NoError(t, json.Unmarshal(line, &l), "%.200s", line)
			copies[l.SequenceNumber]++
		}
	}
	a := account{In: forwarderRecords}
	for i := range forwarderRecords {
		seq := sequenceNumber(i)
		n := copies[seq]
		a.Duplicates += max(n-1, 0)
		switch {
		case failed[seq]:
			a.Failed++
		case n > 0:
			a.Delivered++
		default:
			a.Lost++
			t.Errorf("record %s neither delivered nor reported failed", seq)
		}
	}
	return a
}

func sequenceNumber(i int) string { return fmt.Sprintf("4%020d", i) }

// streamRecord is record i of an Orders table's stream, an INSERT, as
// Lambda hands it to the function.
func streamRecord(i int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"eventID":"e%d","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",`+
		`"dynamodb":{"ApproximateCreationDateTime":1714571100,"Keys":{"pk":{"S":"order#%d"}},`+
		`"NewImage":{"pk":{"S":"order#%d"},"amount":{"N":"9%037d"},"status":{"S":"placed"}},`+
		`"SequenceNumber":%q,"SizeBytes":80,"StreamViewType":"NEW_AND_OLD_IMAGES"},`+
		`"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2024-05-01T00:00:00.000"}`,
		i, i, i, i, sequenceNumber(i)))
}
