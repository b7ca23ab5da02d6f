package batch

import (
	"encoding/json"

	"lakestream/shared/jsonscan"
)

// streamHead is what the adapter reads of a DynamoDB or Kinesis stream
// record: what names it in a partial batch response and where it came
// from. The rest is the function's to decode. It is read as encoding/json
// decoded a record into
//
//	struct {
//		EventSource    string `json:"eventSource"`
//		EventSourceARN string `json:"eventSourceARN"`
//		DynamoDB       struct{ SequenceNumber string `json:"SequenceNumber"` } `json:"dynamodb"`
//		Kinesis        struct{ SequenceNumber string `json:"sequenceNumber"` } `json:"kinesis"`
//	}
//
// with its errors ignored: a value of the wrong kind is passed over and
// the rest still read, so a record that does not decode is named all the
// same.
type streamHead struct {
	eventSource, eventSourceARN []byte
	dynamoDBSeq, kinesisSeq     []byte
}

// read reads the record s is at into h; what h holds already stays unless
// the record replaces it.
func (h *streamHead) read(s *jsonscan.Scanner) {
	if s.Peek() != jsonscan.Object {
		_ = s.Skip() // null, or a record of the wrong kind: nothing read
		return
	}
	for key := range s.Object() {
		switch {
		case fieldName(key, "eventSource"):
			_ = readString(s, &h.eventSource, "")
		case fieldName(key, "eventSourceARN"):
			_ = readString(s, &h.eventSourceARN, "")
		case fieldName(key, "dynamodb"):
			readSequenceNumber(s, "SequenceNumber", &h.dynamoDBSeq)
		case fieldName(key, "kinesis"):
			readSequenceNumber(s, "sequenceNumber", &h.kinesisSeq)
		}
	}
}

// readSequenceNumber reads the sequence number, named name, of the object
// s is at into dst.
func readSequenceNumber(s *jsonscan.Scanner, name string, dst *[]byte) {
	if s.Peek() != jsonscan.Object {
		_ = s.Skip()
		return
	}
	for key := range s.Object() {
		if fieldName(key, name) {
			_ = readString(s, dst, "")
		}
	}
}

// sequenceNumber is the record's sequence number: dynamodb.SequenceNumber,
// or kinesis.sequenceNumber for a Kinesis record or when it has no other.
func (h *streamHead) sequenceNumber() []byte {
	if string(h.eventSource) == string(SourceKinesis) || len(h.dynamoDBSeq) == 0 {
		return h.kinesisSeq
	}
	return h.dynamoDBSeq
}

// StreamRecordOf reads one stream record from its JSON as the adapter
// reads the records of a stream event: a function that decodes records
// itself names one it cannot read with it, the same way the adapter does.
// Input that is not JSON gives a StreamRecord with only JSON set.
func StreamRecordOf(raw []byte) StreamRecord {
	var s jsonscan.Scanner
	s.Reset(raw)
	var h streamHead
	h.read(&s)
	if s.End() != nil {
		return StreamRecord{JSON: raw}
	}
	return StreamRecord{
		JSON: raw, EventSource: string(h.eventSource), EventSourceARN: string(h.eventSourceARN),
		SequenceNumber: string(h.sequenceNumber()),
	}
}

// StreamHead is what a StreamReader reads of a record for the adapter, as
// the adapter reads it itself (streamHead): the record's eventSource and
// eventSourceARN, its dynamodb.SequenceNumber and kinesis.sequenceNumber,
// strings unescaped, nil where the record has none. When a name is
// repeated the last string counts; null, or a dynamodb or kinesis value
// that is not an object, changes nothing.
type StreamHead struct {
	EventSource, EventSourceARN                   []byte
	DynamoDBSequenceNumber, KinesisSequenceNumber []byte
}

// StreamReader reads the records of a DynamoDB or Kinesis stream event
// for the function while the adapter decodes the request, so that the
// request is read once rather than by the adapter and then again by the
// function (WithStreamReader).
type StreamReader interface {
	// ReadRecord reads the index-th record of the event, the JSON value
	// data starts with (data goes on past it, to the end of the request),
	// nested depth arrays and objects deep in the request (see
	// jsonscan.Scanner.ResetNested). It returns the record's head and the
	// length of its text, or ok false when it does not read the record:
	// it is not valid JSON, does not decode, or is none the reader takes.
	// The adapter then reads that record itself, exactly as without a
	// StreamReader, and the function decodes it from its JSON as usual.
	// The adapter trusts a record read to be valid JSON.
	ReadRecord(index int, data []byte, depth int) (head StreamHead, n int, ok bool)
}

// decodeStream makes one item per record of a DynamoDB or Kinesis event,
// from the records and their heads as Decode's probe read them. A record
// that does not decode still becomes an item, with what could be read of
// it: the function fails it, by sequence number when it has one.
func decodeStream(records []json.RawMessage, heads []streamHead, read []bool) []*Item {
	if len(heads) < len(records) {
		heads = append(heads, make([]streamHead, len(records)-len(heads))...)
	}
	out := items(len(records))
	recs := make([]StreamRecord, len(records))
	// Every record of an event usually comes from one source: one string
	// serves them all.
	var source, arn string
	for i, raw := range records {
		h, r := &heads[i], &recs[i]
		if string(h.eventSource) != source {
			source = string(h.eventSource)
		}
		if string(h.eventSourceARN) != arn {
			arn = string(h.eventSourceARN)
		}
		*r = StreamRecord{JSON: raw, EventSource: source, EventSourceARN: arn, SequenceNumber: string(h.sequenceNumber())}
		r.Read = i < len(read) && read[i]
		out[i].Stream, out[i].ID = r, r.SequenceNumber
	}
	return out
}
