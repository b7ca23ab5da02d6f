package batch

import (
	"encoding/json"
	"fmt"
	"strings"

	"lakestream/shared/jsonscan"
)

// probe is what the adapter reads of a request, or of a message body,
// before it knows its shape: enough to tell the shape, its records left
// raw (slices of the request) to be decoded once their source is known.
// It reads the request as encoding/json decoded it into this struct
// before:
//
//	struct {
//		Records    []json.RawMessage `json:"Records"`
//		DetailType string            `json:"detail-type"`
//		Event      string            `json:"Event"`   // an S3 test event's
//		Type       string            `json:"Type"`    // an SNS envelope's
//		Message    string            `json:"Message"` // an SNS envelope's
//	}
//
// so the same requests fail, and the same records are found: names match
// ignoring case, a repeated name counts the last time, a null changes
// nothing (Records: makes it nil), and a value of the wrong kind fails the
// request.
type probe struct {
	records    []json.RawMessage // nil: absent or null
	detailType []byte
	event      []byte
	typ        []byte
	message    []byte
	// heads are the stream identifiers of the records, read in the same
	// pass (probe.read with heads), as encoding/json decoded them into
	// []streamHead from the whole request: a repeated Records decodes into
	// the heads the earlier one left, which only matters to absurd input.
	heads []streamHead
	// lists counts the Records arrays the request holds: more than one,
	// and the first record's own eventSource must be read again.
	lists int
	// reader, when set, reads the records of the first Records array in
	// the probe's pass (see StreamReader); preread says which it read, by
	// index, for the array the records are of.
	reader  StreamReader
	preread []bool
	// spareRecords and spareHeads are memory for records and heads, kept
	// from an earlier request (probes): records and heads themselves
	// start nil, as encoding/json's do.
	spareRecords []json.RawMessage
	spareHeads   []streamHead
}

// read reads data, a request or an SNS message or SQS body, into p, with
// the records' stream heads when heads is set.
func (p *probe) read(data []byte, heads bool) error {
	var s jsonscan.Scanner
	s.Reset(data)
	var wrong error // a value of the wrong kind: encoding/json reads on, then fails
	switch k := s.Peek(); {
	case s.Null():
	case k != jsonscan.Object:
		if s.Skip() == nil {
			wrong = fmt.Errorf("the request is %s, not an object", k)
		}
	default:
		for key := range s.Object() {
			var err error
			switch {
			case fieldName(key, "Records"):
				err = p.readRecords(&s, data, heads)
			case fieldName(key, "detail-type"):
				err = readString(&s, &p.detailType, "detail-type")
			case fieldName(key, "Event"):
				err = readString(&s, &p.event, "Event")
			case fieldName(key, "Type"):
				err = readString(&s, &p.typ, "Type")
			case fieldName(key, "Message"):
				err = readString(&s, &p.message, "Message")
			}
			if wrong == nil {
				wrong = err
			}
		}
	}
	if err := s.End(); err != nil {
		return err
	}
	return wrong
}

// readRecords reads the Records array s is at: each record's text, and
// its head when heads is set.
func (p *probe) readRecords(s *jsonscan.Scanner, data []byte, heads bool) error {
	p.lists++
	if s.Null() {
		p.records, p.heads, p.preread = nil, nil, nil
		return nil
	}
	if k := s.Peek(); k != jsonscan.Array {
		_ = s.Skip()
		return fmt.Errorf("Records is %s, not an array", k)
	}
	p.records, p.preread = p.records[:0], p.preread[:0]
	if p.records == nil {
		p.records, p.spareRecords = p.spareRecords[:0], nil
		if p.records == nil {
			p.records = make([]json.RawMessage, 0, 16)
		}
	}
	for i := range s.Array() {
		s.Peek()
		start := s.Offset()
		if heads {
			// As encoding/json decodes into a slice: elements it already
			// holds, even past its length, are decoded into, not replaced.
			if p.heads == nil {
				// Once only: a later Records array after a null one
				// starts empty too, as encoding/json's does.
				p.heads, p.spareHeads = p.spareHeads[:0], nil
			}
			switch {
			case i < len(p.heads):
			case i < cap(p.heads):
				p.heads = p.heads[:i+1]
			default:
				p.heads = append(p.heads, streamHead{})
			}
			// Only the first Records array's heads start empty, as the
			// reader's do; a later one reads into what the first left.
			if p.reader != nil && p.lists == 1 && s.Err() == nil {
				if h, n, ok := readWith(p.reader, i, data[start:], s.Depth()); ok {
					p.heads[i] = streamHead{eventSource: h.EventSource, eventSourceARN: h.EventSourceARN, dynamoDBSeq: h.DynamoDBSequenceNumber, kinesisSeq: h.KinesisSequenceNumber}
					s.Seek(start + n)
					p.records = append(p.records, data[start:start+n])
					p.preread = append(p.preread, true)
					continue
				}
			}
			p.heads[i].read(s)
		} else {
			_ = s.Skip()
		}
		p.records = append(p.records, data[start:s.Offset()])
		p.preread = append(p.preread, false)
	}
	if heads {
		p.heads = p.heads[:len(p.records)]
		if len(p.records) == 0 {
			p.heads = nil
		}
	}
	return nil
}

// readWith has r read record i, which data starts with, depth levels
// deep; a panic, or a length that is no record's, is a record r could not
// read, which the probe then reads itself.
func readWith(r StreamReader, i int, data []byte, depth int) (h StreamHead, n int, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	h, n, ok = r.ReadRecord(i, data, depth)
	return h, n, ok && n > 0 && n <= len(data)
}

// firstSource is the eventSource of the first record, which names the
// source of the event.
func (p *probe) firstSource() string {
	if p.lists == 1 && len(p.heads) > 0 {
		return string(p.heads[0].eventSource)
	}
	var h streamHead
	var s jsonscan.Scanner
	s.Reset(p.records[0])
	h.read(&s)
	return string(h.eventSource)
}

// readString reads a string into dst as encoding/json reads one into a
// string field: null leaves it as it is, another kind is an error.
func readString(s *jsonscan.Scanner, dst *[]byte, name string) error {
	if s.Null() {
		return nil
	}
	if k := s.Peek(); k != jsonscan.String {
		_ = s.Skip()
		return fmt.Errorf("%s is %s, not a string", name, k)
	}
	v, err := s.String(nil)
	if err == nil {
		*dst = v
	}
	return err
}

// fieldName reports whether an object key names the struct field of JSON
// name name, as encoding/json matches them: exactly, or else ignoring case
// under Unicode simple folding (bytes.EqualFold).
func fieldName(key []byte, name string) bool {
	if string(key) == name {
		return true
	}
	// name is ASCII, and a rune that folds to an ASCII letter is never
	// shorter than it, so a shorter key cannot match.
	return len(key) >= len(name) && strings.EqualFold(string(key), name)
}
