package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Source is an object an event reports as created.
type Source struct {
	Bucket string `json:"bucket"`
	// Key is URL-decoded (events.S3Object.URLDecodedKey for notifications;
	// EventBridge keys arrive decoded).
	Key string `json:"key"`
	// Size and ETag are what the event says, 0 and "" when it says nothing.
	Size int64  `json:"size,omitempty"`
	ETag string `json:"etag,omitempty"`
	// EventTime is when S3 reported the object, the fallback time for keys
	// that carry none (TIME_FALLBACK=event-time); zero when unknown.
	EventTime time.Time `json:"eventTime,omitzero"`
}

// URI is the object as s3://bucket/key, the name logs and errors use; ""
// for a record that names no object.
func (s Source) URI() string {
	if s.Bucket == "" && s.Key == "" {
		return ""
	}
	return "s3://" + s.Bucket + "/" + s.Key
}

// entry is one object a message carries: a Source to process, the reason it
// is ignored on purpose, or why it cannot be read.
type entry struct {
	Source Source
	Ignore string
	Err    error
}

// message is what the invoker retries as a unit: one SQS message, or the
// whole invocation for S3, SNS and EventBridge invocations.
type message struct {
	// ID is the SQS messageId, the identifier of a batch item failure.
	ID      string
	Entries []entry
}

// Invocation kinds, by what invoked the function.
const (
	kindS3          = "s3"
	kindEventBridge = "eventbridge"
	kindSQS         = "sqs"
	kindSNS         = "sns"
)

// invocation is a decoded Lambda event.
type invocation struct {
	Kind     string
	Messages []message
}

// Errors decoding wraps, for callers and tests to branch on.
var (
	// ErrUnknownEvent means the invocation is none of the shapes the
	// function is triggered by.
	ErrUnknownEvent = errors.New("not an S3 notification, an EventBridge Object Created event, or SQS or SNS messages carrying one")
	// ErrBadRecord means one record or message body cannot be read; the
	// others in the event still are.
	ErrBadRecord = errors.New("unreadable event record")
)

// S3 notification constants (the S3 event message structure).
const (
	eventSourceS3  = "aws:s3"
	eventSourceSQS = "aws:sqs"
	eventSourceSNS = "aws:sns"
	s3TestEvent    = "s3:TestEvent"
	// objectCreated is the prefix of every creation eventName
	// (ObjectCreated:Put, :Post, :Copy, :CompleteMultipartUpload).
	objectCreated = "ObjectCreated:"
	// detailTypeObjectCreated is the EventBridge detail-type of a creation.
	detailTypeObjectCreated = "Object Created"
	eventBridgeSourceS3     = "aws.s3"
	snsNotification         = "Notification"
)

// probe is just enough of any event to tell its shape; its records are
// kept raw, to be decoded once their kind is known.
type probe struct {
	Records    []json.RawMessage `json:"Records"`
	DetailType string            `json:"detail-type"`
	Event      string            `json:"Event"`
	Type       string            `json:"Type"`
	Message    string            `json:"Message"`
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

// decodeInvocation reads the event the function was invoked with: an S3
// notification, an EventBridge event, an SQS batch or an SNS notification.
// A record that cannot be read fails that record (or SQS message) only; an
// error is returned only when the event as a whole is not one of these.
func decodeInvocation(raw []byte) (invocation, error) {
	var p probe
	if err := json.Unmarshal(raw, &p); err != nil {
		return invocation{}, fmt.Errorf("%w: %w", ErrUnknownEvent, err)
	}
	source := ""
	if len(p.Records) > 0 {
		source = eventSource(p.Records[0])
	}
	switch {
	case source == eventSourceSQS:
		return decodeSQS(p.Records)
	case source == eventSourceSNS:
		inv := invocation{Kind: kindSNS, Messages: []message{{}}}
		for i, r := range p.Records {
			var rec events.SNSEventRecord
			if err := json.Unmarshal(r, &rec); err != nil {
				return invocation{}, fmt.Errorf("%w: SNS record %d: %w", ErrUnknownEvent, i, err)
			}
			inv.Messages[0].Entries = append(inv.Messages[0].Entries, decodeBody([]byte(rec.SNS.Message), 1)...)
		}
		return inv, nil
	case source == eventSourceS3, p.Event == s3TestEvent, p.Records != nil && len(p.Records) == 0:
		return invocation{Kind: kindS3, Messages: []message{{Entries: decodeProbed(raw, p, 0)}}}, nil
	case p.DetailType != "":
		return invocation{Kind: kindEventBridge, Messages: []message{{Entries: decodeProbed(raw, p, 0)}}}, nil
	}
	return invocation{}, ErrUnknownEvent
}

// decodeSQS reads an SQS batch's records; each message body is decoded on
// its own, so one bad body fails only its message.
func decodeSQS(records []json.RawMessage) (invocation, error) {
	inv := invocation{Kind: kindSQS}
	for i, r := range records {
		var m events.SQSMessage
		if err := json.Unmarshal(r, &m); err != nil || m.MessageId == "" {
			// Without its messageId a message cannot be reported alone:
			// Lambda would treat the whole batch response as invalid.
			return invocation{}, fmt.Errorf("%w: SQS record %d has no readable messageId", ErrUnknownEvent, i)
		}
		inv.Messages = append(inv.Messages, message{ID: m.MessageId, Entries: decodeBody([]byte(m.Body), 0)})
	}
	return inv, nil
}

// maxEnvelopes bounds how deeply bodies may wrap each other (an S3
// notification in an SNS message in an SQS body is one level).
const maxEnvelopes = 1

// decodeBody reads a notification body: an S3 notification, an s3:TestEvent,
// an EventBridge event, or (depth permitting) an SNS envelope holding one.
// It always returns at least one entry, so every message is accounted for.
func decodeBody(body []byte, depth int) []entry {
	var p probe
	if err := json.Unmarshal(body, &p); err != nil {
		return []entry{{Err: fmt.Errorf("%w: body is not JSON: %w", ErrBadRecord, err)}}
	}
	return decodeProbed(body, p, depth)
}

// decodeProbed is decodeBody for a body already probed.
func decodeProbed(body []byte, p probe, depth int) []entry {
	switch {
	case p.Event == s3TestEvent:
		var t events.S3TestEvent
		_ = json.Unmarshal(body, &t) // the probe read it; only the bucket name is wanted
		return []entry{{Source: Source{Bucket: t.Bucket}, Ignore: s3TestEvent}}
	case p.DetailType != "":
		return []entry{decodeEventBridge(body)}
	case p.Type == snsNotification && p.Message != "":
		if depth >= maxEnvelopes {
			return []entry{{Err: fmt.Errorf("%w: SNS envelope nested in another envelope", ErrBadRecord)}}
		}
		return decodeBody([]byte(p.Message), depth+1)
	case p.Records != nil:
		if len(p.Records) == 0 {
			return []entry{{Ignore: "notification without records"}}
		}
		out := make([]entry, 0, len(p.Records))
		for _, r := range p.Records {
			out = append(out, decodeS3Record(r))
		}
		return out
	}
	return []entry{{Err: fmt.Errorf("%w: body is not an S3 notification, an EventBridge event or an SNS envelope", ErrBadRecord)}}
}

// s3Record is an S3 notification record. Its eventTime is read here rather
// than by events.S3EventRecord, whose time.Time rejects a time without a
// zone (some emulators write one), which would lose the whole record for a
// field that is needed only as a fallback.
type s3Record struct {
	events.S3EventRecord
	EventTime string `json:"eventTime"`
}

func decodeS3Record(raw json.RawMessage) entry {
	var r s3Record
	if err := json.Unmarshal(raw, &r); err != nil {
		var rawKey struct {
			S3 struct {
				Bucket struct {
					Name string `json:"name"`
				} `json:"bucket"`
				Object struct {
					Key string `json:"key"`
				} `json:"object"`
			} `json:"s3"`
		}
		if json.Unmarshal(raw, &rawKey) == nil && rawKey.S3.Object.Key != "" {
			// The record is fine but for a key that is not URL-encoded
			// as S3 writes it (a lone '%').
			src := Source{Bucket: rawKey.S3.Bucket.Name, Key: rawKey.S3.Object.Key}
			return entry{Source: src, Err: fmt.Errorf("%w: object key %q is not URL-encoded: %w", ErrBadRecord, src.Key, err)}
		}
		return entry{Err: fmt.Errorf("%w: S3 record: %w", ErrBadRecord, err)}
	}
	obj := r.S3.Object
	src := Source{Bucket: r.S3.Bucket.Name, Key: obj.URLDecodedKey, Size: obj.Size, ETag: obj.ETag, EventTime: parseEventTime(r.EventTime)}
	switch {
	case r.EventSource != eventSourceS3:
		return entry{Err: fmt.Errorf("%w: record eventSource %q is not %s", ErrBadRecord, r.EventSource, eventSourceS3)}
	case !strings.HasPrefix(r.EventName, objectCreated):
		return entry{Source: src, Ignore: fmt.Sprintf("event %s does not create an object", r.EventName)}
	}
	return checked(src)
}

// parseEventTime reads an S3 eventTime (RFC 3339), taking a time without a
// zone as UTC; anything else is an unknown (zero) time.
func parseEventTime(s string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t
	}
	return time.Time{}
}

// objectCreatedDetail is the detail of an EventBridge "Object Created" event
// from S3; aws-lambda-go has a type for the envelope only. Its key is not
// URL-encoded.
type objectCreatedDetail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key  string `json:"key"`
		Size int64  `json:"size"`
		ETag string `json:"etag"`
	} `json:"object"`
}

// eventBridgeEvent is an EventBridge event whose time, like an S3 record's
// eventTime, is read leniently: it is only a fallback.
type eventBridgeEvent struct {
	events.EventBridgeEvent
	Time json.RawMessage `json:"time"`
}

func decodeEventBridge(body []byte) entry {
	var ev eventBridgeEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return entry{Err: fmt.Errorf("%w: EventBridge event: %w", ErrBadRecord, err)}
	}
	if ev.Source != eventBridgeSourceS3 || ev.DetailType != detailTypeObjectCreated {
		return entry{Ignore: fmt.Sprintf("EventBridge %s event %q does not create an object", ev.Source, ev.DetailType)}
	}
	var d objectCreatedDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return entry{Err: fmt.Errorf("%w: EventBridge Object Created detail: %w", ErrBadRecord, err)}
	}
	return checked(Source{Bucket: d.Bucket.Name, Key: d.Object.Key, Size: d.Object.Size, ETag: d.Object.ETag, EventTime: parseEventTime(jsonString(ev.Time))})
}

// jsonString returns a JSON string's value, or "" for any other JSON value.
func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// checked fails a source that names no object.
func checked(src Source) entry {
	switch {
	case src.Bucket == "":
		return entry{Source: src, Err: fmt.Errorf("%w: no bucket name", ErrBadRecord)}
	case src.Key == "":
		return entry{Source: src, Err: fmt.Errorf("%w: no object key", ErrBadRecord)}
	}
	return entry{Source: src}
}
