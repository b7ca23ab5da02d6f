package batch

import (
	"encoding/json"
	"errors"
	"fmt"
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

// probe is just enough of a request or message body to tell its shape;
// its records stay raw, to be decoded once their source is known.
type probe struct {
	Records    []json.RawMessage `json:"Records"`
	DetailType string            `json:"detail-type"`
	// Event is an S3 test event's "s3:TestEvent".
	Event string `json:"Event"`
	// Type and Message are an SNS envelope's.
	Type    string `json:"Type"`
	Message string `json:"Message"`
}

// Decode reads a request into its items. It is the one place the wire
// shapes are told apart: records by the first one's eventSource (streams,
// SQS, SNS, S3 notifications), an EventBridge event by its detail-type, an
// s3:TestEvent by its Event. A record or body that cannot be read is an
// item with Err; the error is ErrUnknownEvent only when the request as a
// whole is none of these.
func Decode(payload []byte) (*Invocation, error) {
	var p probe
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnknownEvent, err)
	}
	inv := &Invocation{Size: len(payload)}
	switch {
	case p.Records != nil:
		if len(p.Records) == 0 {
			return inv, nil
		}
		inv.Source = Source(eventSource(p.Records[0]))
		switch inv.Source {
		case SourceDynamoDB, SourceKinesis:
			inv.Items = decodeStream(payload, p.Records)
		case SourceSQS:
			inv.Items = decodeSQS(p.Records)
		case SourceSNS:
			inv.Items = decodeSNS(p.Records)
		case SourceS3:
			inv.Items = decodeS3(p.Records)
		default:
			return nil, fmt.Errorf("%w: records of eventSource %q", ErrUnknownEvent, string(inv.Source))
		}
	case p.Event == s3TestEvent:
		// Sent once when a bucket's notifications are configured; it
		// reports no object.
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

// eventSource reads a record's eventSource. encoding/json matches names
// case-insensitively, so this also reads SNS's EventSource.
func eventSource(record json.RawMessage) string {
	var r struct {
		EventSource string `json:"eventSource"`
	}
	_ = json.Unmarshal(record, &r) // a record without one is no known source
	return r.EventSource
}

// unwrap reads a message body (an SQS body, an SNS message) into the items
// it carries: the objects of an S3 notification, an EventBridge event,
// nothing for an s3:TestEvent, and, when sns is set, what an SNS envelope
// carries (S3 and EventBridge deliver to SQS through SNS; one level is all
// they nest). Any other body is a Message for the function.
func unwrap(body []byte, sns bool) []*Item {
	var p probe
	if json.Unmarshal(body, &p) != nil {
		return []*Item{{Message: &Message{Body: body}}}
	}
	switch {
	case p.Event == s3TestEvent:
		return nil
	case p.DetailType != "":
		return []*Item{decodeEventBridge(body)}
	case sns && p.Type == snsNotification && p.Message != "":
		return unwrap([]byte(p.Message), false)
	case p.Records != nil:
		return decodeS3(p.Records)
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
