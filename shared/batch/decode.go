package batch

import (
	"errors"
	"fmt"
	"sync"
)

// Errors of decoding, for callers and tests to branch on.
var (
	// ErrUnknownEvent means the request is none of the shapes the adapter
	// reads; the invocation fails.
	ErrUnknownEvent = errors.New("batch: not a DynamoDB or Kinesis stream, SQS, SNS, S3 or EventBridge event")
	// ErrUnreadable wraps the error of an item the adapter could not read
	// (a record or message body that does not decode, an S3 event naming
	// no object): that item fails, the others go on.
	ErrUnreadable = errors.New("unreadable event record")
)

// Wire values the shapes are told apart by.
const (
	s3TestEvent     = "s3:TestEvent"
	snsNotification = "Notification"
)

// Decode reads a request into its items. It is the one place the wire
// shapes are told apart: records by the first one's eventSource (streams,
// SQS, SNS, S3 notifications), an EventBridge event by its detail-type, an
// s3:TestEvent by its Event. A record or body that cannot be read is an
// item with Err; the error is ErrUnknownEvent only when the request as a
// whole is none of these.
//
// The request is read once, without reflection (probe): a stream event,
// the hot path, is sliced into its records and each one's identifiers are
// read on the way; the other shapes' records are then decoded with
// encoding/json, each on its own.
func Decode(payload []byte) (*Invocation, error) {
	return decode(payload, nil)
}

// DecodeWith is Decode with the records of a stream event read by sr in
// the same pass (see StreamReader), as a Handler made WithStreamReader
// decodes a request: Invocation.StreamReader is sr when the request is a
// stream event. A nil sr reads as Decode.
func DecodeWith(payload []byte, sr StreamReader) (*Invocation, error) {
	return decode(payload, sr)
}

// decode is Decode with the records of a stream event read by sr, when
// set, in the probe's pass.
func decode(payload []byte, sr StreamReader) (*Invocation, error) {
	p := probes.Get().(*probe)
	defer p.release()
	p.reader = sr
	if err := p.read(payload, true); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnknownEvent, err)
	}
	inv := &Invocation{Size: len(payload)}
	switch {
	case p.records != nil:
		if len(p.records) == 0 {
			return inv, nil
		}
		inv.Source = Source(p.firstSource())
		switch inv.Source {
		case SourceDynamoDB, SourceKinesis:
			inv.Items = decodeStream(p.records, p.heads, p.preread)
			inv.StreamReader = sr
		case SourceSQS:
			inv.Items = decodeSQS(p.records)
		case SourceSNS:
			inv.Items = decodeSNS(p.records)
		case SourceS3:
			inv.Items = decodeS3(p.records)
		default:
			return nil, fmt.Errorf("%w: records of eventSource %q", ErrUnknownEvent, string(inv.Source))
		}
	case string(p.event) == s3TestEvent:
		// Sent once when a bucket's notifications are configured; it
		// reports no object.
		inv.Source = SourceS3
	case len(p.detailType) > 0:
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

// probes keeps the probes of requests decoded, whose slices of records
// and heads, a few hundred kilobytes for a large stream event, then serve
// the next: nothing Decode returns holds them.
var probes = sync.Pool{New: func() any { return new(probe) }}

// release empties p, all its capacity (the heads point into the request,
// which must not outlive its invocation; a later request's heads must
// start empty, as encoding/json's do), and puts it back in probes.
func (p *probe) release() {
	records, heads := p.records, p.heads
	if cap(p.spareRecords) > cap(records) {
		records = p.spareRecords
	}
	if cap(p.spareHeads) > cap(heads) {
		heads = p.spareHeads
	}
	clear(records[:cap(records)])
	clear(heads[:cap(heads)])
	*p = probe{spareRecords: records[:0], spareHeads: heads[:0], preread: p.preread[:0]}
	probes.Put(p)
}

// unwrap reads a message body (an SQS body, an SNS message) into the items
// it carries: the objects of an S3 notification, an EventBridge event,
// nothing for an s3:TestEvent, and, when sns is set, what an SNS envelope
// carries (S3 and EventBridge deliver to SQS through SNS; one level is all
// they nest). Any other body is a Message for the function.
func unwrap(body []byte, sns bool) []*Item {
	var p probe
	if p.read(body, false) != nil {
		return []*Item{{Message: &Message{Body: body}}}
	}
	switch {
	case string(p.event) == s3TestEvent:
		return nil
	case len(p.detailType) > 0:
		return []*Item{decodeEventBridge(body)}
	case sns && string(p.typ) == snsNotification && len(p.message) > 0:
		return unwrap(p.message, false)
	case p.records != nil:
		return decodeS3(p.records)
	}
	return []*Item{{Message: &Message{Body: body}}}
}

// items returns n items backed by one allocation.
func items(n int) []*Item {
	all := make([]Item, n)
	out := make([]*Item, n)
	for i := range all {
		out[i] = &all[i]
	}
	return out
}
