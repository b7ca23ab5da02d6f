package batch

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/jsonscan"
)

// The decoder Decode replaced, kept as the oracle of the differential
// tests: encoding/json into a probe struct, then into []streamHead for a
// stream event, and into a probe again for every SQS body and SNS message.

type oracleProbe struct {
	Records    []json.RawMessage `json:"Records"`
	DetailType string            `json:"detail-type"`
	Event      string            `json:"Event"`
	Type       string            `json:"Type"`
	Message    string            `json:"Message"`
}

type oracleHead struct {
	EventSource    string `json:"eventSource"`
	EventSourceARN string `json:"eventSourceARN"`
	DynamoDB       struct {
		SequenceNumber string `json:"SequenceNumber"`
	} `json:"dynamodb"`
	Kinesis struct {
		SequenceNumber string `json:"sequenceNumber"`
	} `json:"kinesis"`
}

func oracleDecode(payload []byte) (*Invocation, error) {
	var p oracleProbe
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnknownEvent, err)
	}
	inv := &Invocation{Size: len(payload)}
	switch {
	case p.Records != nil:
		if len(p.Records) == 0 {
			return inv, nil
		}
		var r struct {
			EventSource string `json:"eventSource"`
		}
		_ = json.Unmarshal(p.Records[0], &r)
		inv.Source = Source(r.EventSource)
		switch inv.Source {
		case SourceDynamoDB, SourceKinesis:
			inv.Items = oracleStream(payload, p.Records)
		case SourceSQS:
			inv.Items = oracleSQS(p.Records)
		case SourceSNS:
			inv.Items = oracleSNS(p.Records)
		case SourceS3:
			inv.Items = decodeS3(p.Records)
		default:
			return nil, fmt.Errorf("%w: records of eventSource %q", ErrUnknownEvent, string(inv.Source))
		}
	case p.Event == s3TestEvent:
		inv.Source = SourceS3
	case p.DetailType != "":
		inv.Source = SourceEventBridge
		inv.Items = []*Item{decodeEventBridge(payload)}
	default:
		return nil, ErrUnknownEvent
	}
	for i, it := range inv.Items {
		it.Index, it.Source = i, inv.Source
	}
	return inv, nil
}

func oracleStream(payload []byte, records []json.RawMessage) []*Item {
	var ev struct{ Records []oracleHead }
	_ = json.Unmarshal(payload, &ev)
	heads := ev.Records
	if len(heads) < len(records) {
		heads = append(heads, make([]oracleHead, len(records)-len(heads))...)
	}
	out := items(len(records))
	for i, raw := range records {
		h := &heads[i]
		r := &StreamRecord{JSON: raw, EventSource: h.EventSource, EventSourceARN: h.EventSourceARN, SequenceNumber: h.DynamoDB.SequenceNumber}
		if h.EventSource == string(SourceKinesis) || r.SequenceNumber == "" {
			r.SequenceNumber = h.Kinesis.SequenceNumber
		}
		out[i].Stream, out[i].ID = r, r.SequenceNumber
	}
	return out
}

func oracleSQS(records []json.RawMessage) []*Item {
	var out []*Item
	for i, raw := range records {
		var m events.SQSMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			out = append(out, &Item{ID: m.MessageId, err: fmt.Errorf("%w: SQS record %d: %w", ErrUnreadable, i, err)})
			continue
		}
		for _, it := range oracleUnwrap([]byte(m.Body), true) {
			it.ID = m.MessageId
			out = append(out, it)
		}
	}
	return out
}

func oracleSNS(records []json.RawMessage) []*Item {
	var out []*Item
	for i, raw := range records {
		var r events.SNSEventRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			out = append(out, &Item{err: fmt.Errorf("%w: SNS record %d: %w", ErrUnreadable, i, err)})
			continue
		}
		out = append(out, oracleUnwrap([]byte(r.SNS.Message), false)...)
	}
	return out
}

func oracleUnwrap(body []byte, sns bool) []*Item {
	var p oracleProbe
	if json.Unmarshal(body, &p) != nil {
		return []*Item{{Message: &Message{Body: body}}}
	}
	switch {
	case p.Event == s3TestEvent:
		return nil
	case p.DetailType != "":
		return []*Item{decodeEventBridge(body)}
	case sns && p.Type == snsNotification && p.Message != "":
		return oracleUnwrap([]byte(p.Message), false)
	case p.Records != nil:
		return decodeS3(p.Records)
	}
	return []*Item{{Message: &Message{Body: body}}}
}

// assertSameInvocation checks that Decode and the oracle read raw alike:
// both refuse it, or find the same source and the same items. Error texts
// of the request differ (the oracle's are encoding/json's), those of
// items do not.
func assertSameInvocation(t *testing.T, raw []byte) {
	t.Helper()
	want, wantErr := oracleDecode(raw)
	got, err := Decode(raw)
	if wantErr != nil {
		require.Error(t, err, "encoding/json refuses %q: %v", raw, wantErr)
		require.ErrorIs(t, err, ErrUnknownEvent)
		return
	}
	require.NoError(t, err, "encoding/json reads %q", raw)
	require.Equal(t, want.Source, got.Source)
	require.Equal(t, want.Size, got.Size)
	require.Len(t, got.Items, len(want.Items))
	for i, w := range want.Items {
		g := got.Items[i]
		assert.Equal(t, w.Index, g.Index)
		assert.Equal(t, w.Source, g.Source)
		assert.Equal(t, w.ID, g.ID, "item %d", i)
		if w.Stream == nil {
			assert.Nil(t, g.Stream)
		} else if assert.NotNil(t, g.Stream) {
			assert.Equal(t, string(w.Stream.JSON), string(g.Stream.JSON), "item %d", i)
			assert.Equal(t, w.Stream.EventSource, g.Stream.EventSource, "item %d", i)
			assert.Equal(t, w.Stream.EventSourceARN, g.Stream.EventSourceARN, "item %d", i)
			assert.Equal(t, w.Stream.SequenceNumber, g.Stream.SequenceNumber, "item %d", i)
		}
		assert.Equal(t, w.S3, g.S3, "item %d", i)
		assert.Equal(t, w.Event, g.Event, "item %d", i)
		assert.Equal(t, w.Message, g.Message, "item %d", i)
		if w.err == nil {
			assert.NoError(t, g.err, "item %d", i)
		} else {
			assert.EqualError(t, g.err, w.err.Error(), "item %d", i)
		}
	}
}

// TestDecodeAsEncodingJSON pins requests where encoding/json's rules show:
// names in any case, repeated names, nulls, values of the wrong kind,
// records that are not objects.
func TestDecodeAsEncodingJSON(t *testing.T) {
	tests := map[string]struct {
		raw string
		ids []string // the items' IDs; nil when Decode fails
	}{
		"records in any case":        {raw: `{"rECORDS":[{"EVENTSOURCE":"aws:dynamodb","DynamoDB":{"sequencenumber":"1"}}]}`, ids: []string{"1"}},
		"Unicode folding":            {raw: `{"Recordſ":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"1"}}]}`, ids: []string{"1"}},
		"names too short":            {raw: `{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumbe":"1"}}]}`, ids: []string{""}},
		"repeated name, last counts": {raw: `{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"1","SequenceNumber":"2"}}]}`, ids: []string{"2"}},
		"null leaves it":             {raw: `{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"1"},"dynamodb":null}]}`, ids: []string{"1"}},
		"wrong kind passed over":     {raw: `{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":1},"kinesis":{"sequenceNumber":"k"}}]}`, ids: []string{"k"}},
		"kinesis number first":       {raw: `{"Records":[{"eventSource":"aws:kinesis","dynamodb":{"SequenceNumber":"d"},"kinesis":{"sequenceNumber":"k"}}]}`, ids: []string{"k"}},
		"record not an object":       {raw: `{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"1"}},7,null]}`, ids: []string{"1", "", ""}},
		"records repeated":           {raw: `{"Records":[{"eventSource":"aws:sqs"}],"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"1"}}]}`, ids: []string{"1"}},
		"repeated records merge":     {raw: `{"Records":[{"eventSource":"aws:kinesis","dynamodb":{"SequenceNumber":"a"}},{"dynamodb":{"SequenceNumber":"b"}}],"Records":[{"eventSource":"aws:dynamodb"}],"Records":[{"eventSource":"aws:dynamodb"},null]}`, ids: []string{"a", "b"}},
		"first source read alone":    {raw: `{"Records":[{"eventSource":"aws:dynamodb"}],"Records":[{"dynamodb":{"SequenceNumber":"1"}}]}`},
		"wrong kind of Type":         {raw: `{"Records":[{"eventSource":"aws:dynamodb"}],"Type":true}`},
		"escaped names and values":   {raw: `{"\u0052ecords":[{"eventSource":"aws:\u0064ynamodb","dynamodb":{"SequenceNumber":"\u0031"}}]}`, ids: []string{"1"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assertSameInvocation(t, []byte(tc.raw))
			inv, err := Decode([]byte(tc.raw))
			if tc.ids == nil {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			var ids []string
			for _, it := range inv.Items {
				ids = append(ids, it.ID)
			}
			assert.Equal(t, tc.ids, ids)
		})
	}
}

// TestDecodeCasesAsEncodingJSON: every decode case and events/ sample is
// read as encoding/json read it.
func TestDecodeCasesAsEncodingJSON(t *testing.T) {
	for name, raw := range cases(t) {
		t.Run(name, func(t *testing.T) { assertSameInvocation(t, raw) })
	}
}

// TestStreamRecordOf: a record read alone is named as Decode names it in
// an event, and input that is not JSON names nothing.
func TestStreamRecordOf(t *testing.T) {
	raw := []byte(`{"eventSource":"aws:kinesis","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","kinesis":{"sequenceNumber":"49"},"dynamodb":{"SequenceNumber":"4"}}`)
	assert.Equal(t, StreamRecord{JSON: raw, EventSource: "aws:kinesis", EventSourceARN: "arn:aws:kinesis:us-east-1:1:stream/s", SequenceNumber: "49"}, StreamRecordOf(raw))
	inv, err := Decode([]byte(`{"Records":[` + string(raw) + `]}`))
	require.NoError(t, err)
	assert.Equal(t, *inv.Items[0].Stream, StreamRecordOf(raw))

	bad := []byte(`{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"4"}`)
	assert.Equal(t, StreamRecord{JSON: bad}, StreamRecordOf(bad))
}

// FuzzDecodeAsEncodingJSON: for any request, Decode and the encoding/json
// decoder it replaced agree: both refuse it, or they find the same items.
func FuzzDecodeAsEncodingJSON(f *testing.F) {
	for _, raw := range cases(f) {
		f.Add(raw)
	}
	f.Add([]byte(`{"records":[{"EventSource":"aws:dynamodb","DYNAMODB":{"SequenceNumber":"1"},"dynamodb":null},7],"Records":[{}]}`))
	f.Add([]byte(`{"Records":[{"eventSource":"aws:kinesis","kinesis":{"sequenceNumber":"1","sequenceNumber":2}}],"detail-type":null}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		assertSameInvocation(t, raw)
		var s jsonscan.Scanner
		s.Reset(raw)
		if s.Skip() != nil || s.End() != nil {
			_, err := Decode(raw)
			require.ErrorIs(t, err, ErrUnknownEvent, "not JSON")
		}
	})
}

// BenchmarkDecodeStream decodes a DynamoDB stream event of 1,000 records
// (the insert sample's record, repeated): the first pass every stream
// invocation pays before its function sees a record; "encoding-json" is
// the decoder it replaced.
func BenchmarkDecodeStream(b *testing.B) {
	sample, err := os.ReadFile("../../events/ddb-stream-forwarder/insert.json")
	require.NoError(b, err)
	var ev struct{ Records []json.RawMessage }
	require.NoError(b, json.Unmarshal(sample, &ev))
	require.NotEmpty(b, ev.Records)
	records := make([]json.RawMessage, 1000)
	for i := range records {
		records[i] = ev.Records[0]
	}
	raw, err := json.Marshal(map[string]any{"Records": records})
	require.NoError(b, err)
	for name, decode := range map[string]func([]byte) (*Invocation, error){"jsonscan": Decode, "encoding-json": oracleDecode} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				inv, err := decode(raw)
				if err != nil || len(inv.Items) != len(records) {
					b.Fatal(err)
				}
			}
		})
	}
}
