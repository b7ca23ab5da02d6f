package batch

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/jsonscan"
)

// headReader is a StreamReader that reads each record's head as the
// adapter does, on a scanner of its own, refusing the records refuse
// says and panicking on those panic says; it keeps the indices it read.
type headReader struct {
	refuse, panic func(i int) bool
	read          map[int]bool
}

func (r *headReader) ReadRecord(i int, data []byte, depth int) (StreamHead, int, bool) {
	if r.panic != nil && r.panic(i) {
		panic(fmt.Sprintf("record %d", i))
	}
	if r.refuse != nil && r.refuse(i) {
		return StreamHead{}, 0, false
	}
	var s jsonscan.Scanner
	s.ResetNested(data, depth)
	var h streamHead
	h.read(&s)
	if s.Err() != nil {
		return StreamHead{}, 0, false
	}
	r.read[i] = true
	return StreamHead{EventSource: h.eventSource, EventSourceARN: h.eventSourceARN, DynamoDBSequenceNumber: h.dynamoDBSeq, KinesisSequenceNumber: h.kinesisSeq}, s.Offset(), true
}

// assertSameWithReader checks that DecodeWith, with StreamReaders that
// read every record, some, or panic, decodes raw exactly as Decode does
// (the same error, or the same items), and that it says which records
// the reader read.
func assertSameWithReader(t *testing.T, raw []byte) {
	t.Helper()
	want, wantErr := Decode(raw)
	for name, r := range map[string]*headReader{
		"all":   {},
		"some":  {refuse: func(i int) bool { return i%2 == 1 }},
		"panic": {panic: func(i int) bool { return i == 1 }},
	} {
		r.read = map[int]bool{}
		got, err := DecodeWith(raw, r)
		if wantErr != nil {
			require.EqualError(t, err, wantErr.Error(), "%s: %q", name, raw)
			continue
		}
		require.NoError(t, err, "%s: %q", name, raw)
		require.Equal(t, want.Source, got.Source, name)
		require.Len(t, got.Items, len(want.Items), name)
		stream := want.Source == SourceDynamoDB || want.Source == SourceKinesis
		if stream {
			assert.Same(t, r, got.StreamReader, name)
		} else {
			assert.Nil(t, got.StreamReader, name)
		}
		for i, w := range want.Items {
			g := got.Items[i]
			if g.Stream != nil && g.Stream.Read {
				assert.True(t, r.read[i], "%s: item %d is marked read, and was not", name, i)
				ws := *w.Stream
				ws.Read = true
				w = &Item{Index: w.Index, Source: w.Source, ID: w.ID, Stream: &ws, err: w.err}
			}
			assert.Equal(t, w, g, "%s: item %d of %q", name, i, raw)
		}
	}
}

// TestDecodeWith: a StreamReader changes nothing but who reads the
// records, whatever the request: the decode cases and events/ samples,
// and requests where the adapter's rules show.
func TestDecodeWith(t *testing.T) {
	for name, raw := range cases(t) {
		t.Run(name, func(t *testing.T) { assertSameWithReader(t, raw) })
	}
	for name, raw := range readerCases {
		t.Run(name, func(t *testing.T) { assertSameWithReader(t, []byte(raw)) })
	}
}

// readerCases are requests where a StreamReader could go wrong.
var readerCases = map[string]string{
	"records repeated merge": `{"Records":[{"eventSource":"aws:kinesis","dynamodb":{"SequenceNumber":"a"}},{"dynamodb":{"SequenceNumber":"b"}}],"Records":[{"eventSource":"aws:dynamodb"}],"Records":[{"eventSource":"aws:dynamodb"},null]}`,
	"records then null":      `{"Records":[{"eventSource":"aws:dynamodb"}],"Records":null}`,
	"wrong kinds":            `{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":1},"kinesis":{"sequenceNumber":"k"}},7,null,"x",[1]]}`,
	"syntax error in record": `{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"1"}},{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"2",}}]}`,
	"syntax error after":     `{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"1"}}]]`,
	"truncated":              `{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"1"}},{"eventSource":"aws:dynamodb","dynamodb":{"Seq`,
	"sqs records":            `{"Records":[{"eventSource":"aws:sqs","messageId":"m","body":"b"}]}`,
	"whitespace":             " { \"Records\" : [ {\"eventSource\" : \"aws:kinesis\" , \"kinesis\" : {\"sequenceNumber\":\"9\"}} , null ] } ",
}

// TestDecodeWithDepth: a record the reader reads is nested as deep as it
// is in the request, so a record too deep for the whole request fails it
// as it does without a reader.
func TestDecodeWithDepth(t *testing.T) {
	deep := func(n int) []byte {
		b := []byte(`{"Records":[{"eventSource":"aws:dynamodb","x":`)
		for range n {
			b = append(b, '[')
		}
		for range n {
			b = append(b, ']')
		}
		return append(b, "}]}"...)
	}
	ok := deep(jsonscan.MaxDepth - 3) // the request, Records and the record hold it
	inv, err := DecodeWith(ok, &headReader{read: map[int]bool{}})
	require.NoError(t, err)
	assert.True(t, inv.Items[0].Stream.Read)

	_, err = DecodeWith(deep(jsonscan.MaxDepth-2), &headReader{read: map[int]bool{}})
	require.ErrorIs(t, err, ErrUnknownEvent)
	_, want := Decode(deep(jsonscan.MaxDepth - 2))
	assert.EqualError(t, err, want.Error())
	assertSameWithReader(t, deep(jsonscan.MaxDepth-2))
}

// FuzzDecodeWith: for any request, DecodeWith decodes as Decode does
// (assertSameWithReader).
func FuzzDecodeWith(f *testing.F) {
	for _, raw := range cases(f) {
		f.Add(raw)
	}
	for _, raw := range readerCases {
		f.Add([]byte(raw))
	}
	f.Fuzz(assertSameWithReader)
}

// TestDecodeReusesNothing: a request decoded after another, with the
// memory of the first, reads as it does alone (heads left by an earlier
// request, or by a Records array before a null one, are not merged).
func TestDecodeReusesNothing(t *testing.T) {
	first := []byte(`{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"1"}},{"dynamodb":{"SequenceNumber":"2"}},{"dynamodb":{"SequenceNumber":"3"}}]}`)
	later := map[string]string{
		"after another":     `{"Records":[{"eventSource":"aws:dynamodb"},{},{}]}`,
		"after a null list": `{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"1"}},{"dynamodb":{"SequenceNumber":"2"}}],"Records":null,"Records":[{"eventSource":"aws:dynamodb"},{}]}`,
	}
	for name, raw := range later {
		t.Run(name, func(t *testing.T) {
			for range 3 {
				_, err := Decode(first)
				require.NoError(t, err)
				inv, err := Decode([]byte(raw))
				require.NoError(t, err)
				for _, it := range inv.Items {
					assert.Empty(t, it.ID)
				}
				assertSameInvocation(t, []byte(raw))
			}
		})
	}
}
