package batch

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Source is what invoked the function: the outermost envelope of the
// request. A stream source is Lambda's eventSource of its records.
type Source string

// The sources an invocation comes from.
const (
	SourceDynamoDB    Source = "aws:dynamodb"
	SourceKinesis     Source = "aws:kinesis"
	SourceSQS         Source = "aws:sqs"
	SourceSNS         Source = "aws:sns"
	SourceS3          Source = "aws:s3"
	SourceEventBridge Source = "aws:events"
)

// partial reports whether the source reads a partial batch response
// (event source mappings with ReportBatchItemFailures).
func (s Source) partial() bool {
	return s == SourceDynamoDB || s == SourceKinesis || s == SourceSQS
}

// Item is one piece of work of an invocation. One of Stream, S3, Event and
// Message is set, except on an item the adapter could not read (Err), which
// may have none; an S3 object reported through EventBridge has both S3 and
// Event.
type Item struct {
	// Index is the item's position in the invocation, from 0: functions
	// keep per-item state in a slice of len(Invocation.Items).
	Index int
	// Source is what invoked the function (an object from an SQS message
	// has SourceSQS).
	Source Source
	// ID names the item in a partial batch response: a stream record's
	// sequence number, or the messageId of the SQS message the item came
	// in (every item of one message has the same). "" for sources without
	// a partial response, or when the record did not say.
	ID string

	// Stream is a DynamoDB or Kinesis stream record.
	Stream *StreamRecord
	// S3 is an object an S3 notification or EventBridge event reports.
	S3 *S3Object
	// Event is an EventBridge event. Its Time is zero when the event's
	// time is missing or not RFC 3339 (emulators write other forms).
	Event *events.EventBridgeEvent
	// Message is an SQS or SNS message whose body is none of the
	// envelopes the adapter unwraps.
	Message *Message

	outcome   Outcome
	deferred  bool
	err       error
	reason    string
	permanent bool
}

// StreamRecord is one record of a DynamoDB or Kinesis stream event. The
// function decodes JSON itself (into aws-lambda-go's
// events.DynamoDBEventRecord or events.KinesisEventRecord, or with a faster
// decoder); the adapter reads only what it needs.
type StreamRecord struct {
	// JSON is the record as it came in the event.
	JSON []byte
	// EventSource is aws:dynamodb or aws:kinesis ("" when the record did
	// not say); a record of an event may differ from the first's.
	EventSource string
	// EventSourceARN is the table's stream ARN, or the Kinesis stream's.
	EventSourceARN string
	// SequenceNumber is dynamodb.SequenceNumber or kinesis.sequenceNumber.
	SequenceNumber string
	// Read says the invocation's StreamReader read the record while the
	// request was decoded (its ReadRecord returned ok for it): the
	// function has what it needs of the record already.
	Read bool
}

// S3Object is an object an S3 event reports, the same whether it came in a
// notification or through EventBridge.
type S3Object struct {
	Bucket string `json:"bucket"`
	// Key is the object key, decoded: a notification's key is URL-encoded
	// with '+' for a space (events.S3Object.URLDecodedKey), EventBridge's
	// is not encoded.
	Key string `json:"key"`
	// Size, ETag, VersionID and Sequencer are what the event says; zero
	// when it says nothing.
	Size      int64  `json:"size,omitempty"`
	ETag      string `json:"etag,omitempty"`
	VersionID string `json:"versionId,omitempty"`
	Sequencer string `json:"sequencer,omitempty"`
	// Event is what happened to the object: a notification's eventName
	// ("ObjectCreated:Put", "ObjectRemoved:Delete") or EventBridge's
	// detail-type ("Object Created").
	Event string `json:"event,omitempty"`
	// Time is when S3 reported the event, zero when the event's time is
	// missing or unreadable (a time without a zone is taken as UTC).
	Time time.Time `json:"time,omitzero"`
}

// Created reports whether the event created the object.
func (o *S3Object) Created() bool {
	return strings.HasPrefix(o.Event, "ObjectCreated:") || o.Event == "Object Created"
}

// URI is the object as s3://bucket/key, the name logs and errors use.
func (o *S3Object) URI() string { return "s3://" + o.Bucket + "/" + o.Key }

// Message is an SQS or SNS message the adapter does not unwrap.
type Message struct {
	// Body is the SQS body or the SNS Message.
	Body []byte
}

// Outcome is what happened to an item.
type Outcome uint8

// Outcomes of an item. An item still Pending after Flush counts as Failed:
// a record the function forgot to decide is retried, never lost.
const (
	Pending   Outcome = iota // not decided yet
	Delivered                // done
	Skipped                  // dropped on purpose
	Failed                   // not done: the invoker must retry it
)

func (o Outcome) String() string {
	switch o {
	case Pending:
		return "pending"
	case Delivered:
		return "delivered"
	case Skipped:
		return "skipped"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Outcome is what happened to the item so far.
func (it *Item) Outcome() Outcome { return it.outcome }

// Err is why the item failed, or why the adapter could not read it before
// the function saw it; nil otherwise.
func (it *Item) Err() error { return it.err }

// Reason is why a skipped item was skipped.
func (it *Item) Reason() string { return it.reason }

// Settle decides a deferred item in Flush: err is read as Item's return
// value is (nil delivered, Skip skipped, any other error failed). It is
// safe to call from several goroutines for different items. An item that
// was not deferred keeps the outcome it has.
func (it *Item) Settle(err error) {
	if it.deferred {
		it.set(err)
	}
}

// set records the outcome err stands for.
func (it *Item) set(err error) {
	if err == nil {
		it.outcome, it.err = Delivered, nil
		return
	}
	if reason, ok := skipReason(err); ok {
		it.outcome, it.err, it.reason = Skipped, nil, reason
		return
	}
	switch {
	case errors.Is(err, Defer):
		it.outcome, it.err = Failed, ErrUndecided
	default:
		var p permanentError
		it.outcome, it.err, it.permanent = Failed, err, errors.As(err, &p)
	}
}

// fail fails the item unless it is decided already.
func (it *Item) fail(err error) {
	if it.outcome == Pending {
		it.outcome, it.err = Failed, err
	}
}

// Defer is what a Job's Item returns to leave the item to Flush.
var Defer = errors.New("batch: deferred to Flush")

// ErrUndecided is the error of a deferred item Flush did not settle.
var ErrUndecided = errors.New("batch: deferred item left undecided by Flush")

type skipped struct{ reason string }

// skipReason reports whether err is, or wraps, a Skip, and its reason.
// Skip's own value is told by a type assertion first: errors.As needs a
// pointer to a variable, which would then live on the heap, one
// allocation for every item set, delivered ones included.
func skipReason(err error) (string, bool) {
	if s, ok := err.(skipped); ok {
		return s.reason, true
	}
	var s skipped
	if errors.As(err, &s) {
		return s.reason, true
	}
	return "", false
}

func (s skipped) Error() string { return "skipped: " + s.reason }

// Skip is what a Job's Item returns, or Settle is given, for an item
// dropped on purpose (filtered by configuration, an event that asks
// nothing); reason says why, for the function's own report.
func Skip(reason string) error { return skipped{reason} }

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks an item's failure as one a retry of the invocation cannot
// cure (the input itself is wrong). For S3, SNS and EventBridge
// invocations it is reported but does not fail the invocation; streams and
// SQS still list the item as failed, so that it reaches the on-failure
// destination rather than being lost.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}
