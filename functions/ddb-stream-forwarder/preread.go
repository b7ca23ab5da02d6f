package main

import (
	"bytes"

	"lakestream/shared/batch"
)

// preread converts the records of one invocation's stream event while the
// adapter decodes the request (batch.StreamReader): the request is read
// once, by the reader, where the adapter would otherwise check and skip
// every image only for the function to read it again. A record it cannot
// read (malformed, or too deep) is left to the adapter and then to
// Converter.convert, which word its failure as they always have.
type preread struct {
	convert *Converter
	rd      *reader
	*scratch
}

// newPreread starts an invocation of size request bytes: its scratch, and
// a reader held until the Job starts.
func (f *forwarder) newPreread(size int) batch.StreamReader {
	return &preread{convert: &f.convert, rd: readers.Get().(*reader), scratch: f.takeScratch(size, 0)}
}

// ReadRecord reads and converts record index, the JSON value data starts
// with, into the scratch: its Record, its error and whether its ID is the
// adapter's sequence number (set by forward.record from the item).
func (p *preread) ReadRecord(index int, data []byte, depth int) (batch.StreamHead, int, bool) {
	rd := p.rd
	n, err := rd.readNested(data, depth)
	if err != nil {
		return batch.StreamHead{}, 0, false
	}
	raw := data[:n]
	rec, arena, err := p.convert.line(p.arena, rd, raw)
	head := rd.head()
	// Where the ID is the item's, the same text, the item's string serves.
	id := rd.id()
	same := bytes.Equal(id, sequenceNumber(head))
	if !same {
		rec.ID = string(id)
	}
	p.arena = arena
	for len(p.recs) <= index {
		p.recs = append(p.recs, Record{})
		p.errs = append(p.errs, nil)
		p.itemID = append(p.itemID, false)
	}
	p.recs[index], p.errs[index], p.itemID[index] = rec, err, same
	return head, n, true
}

// done gives the reader back once the request is decoded, and returns the
// scratch, sized for n records.
func (p *preread) done(n int) *scratch {
	if p.rd != nil {
		p.rd.release()
		readers.Put(p.rd)
		p.rd = nil
	}
	s := p.scratch
	for len(s.recs) < n {
		s.recs = append(s.recs, Record{})
		s.errs = append(s.errs, nil)
		s.itemID = append(s.itemID, false)
	}
	s.recs, s.errs, s.itemID = s.recs[:n], s.errs[:n], s.itemID[:n]
	return s
}

// sequenceNumber is the sequence number the adapter reads from a head, as
// batch names a stream record: dynamodb.SequenceNumber, or
// kinesis.sequenceNumber for a Kinesis record or when it has no other.
func sequenceNumber(h batch.StreamHead) []byte {
	if string(h.EventSource) == sourceKinesis || len(h.DynamoDBSequenceNumber) == 0 {
		return h.KinesisSequenceNumber
	}
	return h.DynamoDBSequenceNumber
}
