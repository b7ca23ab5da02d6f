// Package cwlogs reads and writes CloudWatch Logs subscription payloads: the
// gzip-compressed JSON documents that a subscription filter delivers to
// Firehose or Kinesis. The CloudWatch Logs decompressor decodes every record
// with a Decoder, and uses Split and Encode to re-ingest a record too large
// for one Lambda response as two smaller ones; tests use Decode and Encode
// to build and read fixtures. It is the codec of a wire format, kept apart
// from what the decompressor does with the events (as aws-lambda-go keeps
// its event types apart from handlers): any consumer of a subscription
// filter's Firehose or Kinesis stream reads the same payloads.
//
// Decoded payloads are aws-lambda-go's events.CloudwatchLogsData, so code
// that already knows that type needs nothing new. The JSON is read without
// reflection, on shared/jsonscan, into the type's fields; encoding/json
// decides (and words the error of) the odd document the scanner leaves to
// it (a syntax error, a key given twice), and a differential fuzz test
// (FuzzScanAgrees) proves the two agree.
package cwlogs

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/excerpt"
)

// The two values of a payload's messageType.
const (
	// MessageTypeData carries log events from a subscribed log group.
	MessageTypeData = "DATA_MESSAGE"
	// MessageTypeControl is CloudWatch Logs checking that the destination is
	// reachable; it carries no log data and consumers drop it.
	MessageTypeControl = "CONTROL_MESSAGE"
)

// Errors Decode wraps, so callers can tell a payload that is not for them
// (ErrNotGzip), a damaged one (ErrTruncated), one over budget (ErrTooLarge)
// and one with bad content (ErrInvalidJSON, ErrUnknownMessageType,
// *MissingFieldError) apart with errors.Is and errors.As.
var (
	// ErrNotGzip means the payload does not start with the gzip magic
	// number: it is not a subscription payload, or something upstream (such
	// as Firehose's own CloudWatch Logs decompression) already unpacked it.
	ErrNotGzip = errors.New("payload is not gzip")
	// ErrTruncated means the gzip stream ends early or is corrupt (bad
	// header, bad deflate data, checksum or length mismatch).
	ErrTruncated = errors.New("gzip stream is truncated or corrupt")
	// ErrTooLarge means the payload decompresses to more than the caller's
	// limit; Decode stops reading at the limit instead of inflating a
	// decompression bomb into memory.
	ErrTooLarge = errors.New("decompressed payload exceeds the limit")
	// ErrInvalidJSON means the decompressed bytes are not one JSON object
	// of the subscription payload's shape (a syntax error, trailing data or
	// a field of the wrong JSON type).
	ErrInvalidJSON = errors.New("decompressed payload is not a CloudWatch Logs JSON document")
	// ErrUnknownMessageType means messageType is neither DATA_MESSAGE nor
	// CONTROL_MESSAGE.
	ErrUnknownMessageType = errors.New("unknown messageType")
)

// MissingFieldError reports a required field that is absent, null or
// empty (for logEvents: absent or null; an empty array is a payload
// without events, which is well-formed).
type MissingFieldError struct {
	// Field is the JSON name of the field, with the event's index for a
	// field of a log event: "logGroup", "logEvents[3].timestamp".
	Field string
}

// Error implements error.
func (e *MissingFieldError) Error() string {
	return fmt.Sprintf("cwlogs: required field %s is missing or empty", e.Field)
}

// validate checks what every consumer relies on. A CONTROL_MESSAGE needs
// only its type and owner: CloudWatch Logs sends it with an empty logGroup,
// logStream and event id.
func validate(d *events.CloudwatchLogsData) error {
	switch d.MessageType {
	case "":
		return &MissingFieldError{Field: "messageType"}
	case MessageTypeData, MessageTypeControl:
	default:
		return fmt.Errorf("cwlogs: %w %s, want %s or %s",
			ErrUnknownMessageType, excerpt.Quote(d.MessageType), MessageTypeData, MessageTypeControl)
	}
	if d.Owner == "" {
		return &MissingFieldError{Field: "owner"}
	}
	if d.MessageType == MessageTypeControl {
		return nil
	}
	switch {
	case d.LogGroup == "":
		return &MissingFieldError{Field: "logGroup"}
	case d.LogStream == "":
		return &MissingFieldError{Field: "logStream"}
	case d.LogEvents == nil:
		// An empty array is well-formed: a payload with nothing to say.
		return &MissingFieldError{Field: "logEvents"}
	}
	for i, ev := range d.LogEvents {
		// Timestamp 0 is what an absent timestamp decodes to; CloudWatch Logs
		// does not accept events from 1970, so it is never a real one.
		switch {
		case ev.ID == "":
			return &MissingFieldError{Field: "logEvents[" + strconv.Itoa(i) + "].id"}
		case ev.Timestamp == 0:
			return &MissingFieldError{Field: "logEvents[" + strconv.Itoa(i) + "].timestamp"}
		}
	}
	return nil
}
