package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/ddbjson"
	"lakestream/shared/jsonenc"
)

// Event sources as Lambda names them in a record's eventSource.
const (
	sourceDynamoDB = "aws:dynamodb"
	sourceKinesis  = "aws:kinesis"
)

// TTL deletions are REMOVE records made by this service principal
// (DynamoDB developer guide, "Time to Live: streams").
const (
	ttlIdentityType      = "Service"
	ttlIdentityPrincipal = "dynamodb.amazonaws.com"
)

// Converter turns one stream record into the line the forwarder writes.
type Converter struct {
	// NewImage and OldImage say which item images a DynamoDB line carries
	// (when the stream's view type holds them).
	NewImage, OldImage bool
	// SkipRemoves skips every REMOVE record; SkipTTLRemoves only those
	// that Time to Live made.
	SkipRemoves, SkipTTLRemoves bool
	// KinesisNewline ends Kinesis data that does not end in a newline with
	// one, so the delivered objects split into records.
	KinesisNewline bool
}

// Record is one stream record as the forwarder handles it.
type Record struct {
	// Kind is the record's eventSource: sourceDynamoDB or sourceKinesis.
	Kind string
	// ID is the record's sequence number, which names it in the partial
	// batch response; "" when the record did not say.
	ID string
	// Source is the table (DynamoDB) or stream (Kinesis) the record came
	// from, which picks its delivery stream.
	Source string
	// Skip says the record is dropped on purpose (REMOVES).
	Skip bool
	// Line is what is written: one newline-terminated JSON object for a
	// DynamoDB record, the data for a Kinesis record.
	Line []byte

	keys         map[string]events.DynamoDBAttributeValue
	partitionKey string
}

// Key names the record's item for logs, never its data: a DynamoDB item's
// primary key as JSON, or a Kinesis record's partition key.
func (r *Record) Key() string {
	if r.Kind == sourceKinesis {
		return r.partitionKey
	}
	if r.keys == nil {
		return ""
	}
	b, err := ddbjson.Marshal(r.keys)
	if err != nil {
		return "(keys not writable: " + err.Error() + ")"
	}
	return string(b)
}

// ErrMalformed wraps every reason a record cannot be read.
var ErrMalformed = errors.New("malformed record")

// streamRecord is one record of either source: aws-lambda-go's DynamoDB
// record with the Kinesis record's own part beside it, so that one decode
// reads both kinds (they share eventSource, eventSourceARN and eventID).
type streamRecord struct {
	events.DynamoDBEventRecord
	Kinesis *events.KinesisRecord `json:"kinesis"`
}

// eventRecord is one record of an event, decoded on its own so that a
// malformed record fails alone: err says why it could not be read, and
// head what identifies it all the same.
type eventRecord struct {
	rec  streamRecord
	err  error
	head Record
}

// UnmarshalJSON decodes one record. It never fails, so the event's other
// records are decoded too; aws-lambda-go's attribute value decoder panics
// on some malformed input (a BS element that is not a string), so a panic
// is that record's error, never the process's.
func (r *eventRecord) UnmarshalJSON(b []byte) error {
	func() {
		defer func() {
			if p := recover(); p != nil {
				r.err = fmt.Errorf("%w: %v", ErrMalformed, p)
			}
		}()
		if err := json.Unmarshal(b, &r.rec); err != nil {
			r.err = fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}()
	if r.err != nil {
		r.head = identify(b)
	}
	return nil
}

// Convert reads one record of a Lambda event and appends its line to arena;
// see convert.
func (c *Converter) Convert(arena []byte, raw []byte) (Record, []byte, error) {
	var r eventRecord
	_ = r.UnmarshalJSON(raw)
	return c.convert(arena, &r)
}

// convert appends the line of a decoded record to arena. It returns the
// record, with Line a slice of the returned arena, or an error that wraps
// ErrMalformed or a ddbjson error; on error the record still holds what
// identifies it (Kind, ID, Source when readable), so the caller reports it
// failed by its sequence number, and arena is returned as given.
func (c *Converter) convert(arena []byte, r *eventRecord) (Record, []byte, error) {
	if r.err != nil {
		return r.head, arena, r.err
	}
	switch r.rec.EventSource {
	case sourceDynamoDB:
		ddb := &r.rec.DynamoDBEventRecord
		rec := Record{Kind: sourceDynamoDB, ID: ddb.Change.SequenceNumber, keys: ddb.Change.Keys}
		var err error
		if rec.Source, err = sourceName(ddb.EventSourceArn, "table/"); err != nil {
			return rec, arena, err
		}
		if ddb.EventName == string(events.DynamoDBOperationTypeRemove) && (c.SkipRemoves || c.SkipTTLRemoves && isTTL(ddb)) {
			rec.Skip = true
			return rec, arena, nil
		}
		start := len(arena)
		out, err := c.appendDynamoDB(arena, ddb, rec.Source)
		if err != nil {
			return rec, arena, err
		}
		rec.Line = out[start:len(out):len(out)]
		return rec, out, nil
	case sourceKinesis:
		kin := r.rec.Kinesis
		if kin == nil {
			kin = &events.KinesisRecord{}
		}
		rec := Record{Kind: sourceKinesis, ID: kin.SequenceNumber, partitionKey: kin.PartitionKey}
		var err error
		if rec.Source, err = sourceName(r.rec.EventSourceArn, "stream/"); err != nil {
			return rec, arena, err
		}
		start := len(arena)
		arena = append(arena, kin.Data...)
		if c.KinesisNewline && (len(kin.Data) == 0 || kin.Data[len(kin.Data)-1] != '\n') {
			arena = append(arena, '\n')
		}
		rec.Line = arena[start:len(arena):len(arena)]
		return rec, arena, nil
	}
	rec := Record{Kind: r.rec.EventSource, ID: r.rec.Change.SequenceNumber}
	if r.rec.Kinesis != nil && rec.ID == "" {
		rec.ID = r.rec.Kinesis.SequenceNumber
	}
	return rec, arena, fmt.Errorf("%w: eventSource %s is neither %s nor %s", ErrMalformed, strconv.Quote(r.rec.EventSource), sourceDynamoDB, sourceKinesis)
}

// recordHead is what identifies a record, read alone when the whole record
// cannot be: plain strings, which decode whatever the images hold.
type recordHead struct {
	EventSource    string `json:"eventSource"`
	EventSourceARN string `json:"eventSourceARN"`
	DynamoDB       struct {
		SequenceNumber string `json:"SequenceNumber"`
	} `json:"dynamodb"`
	Kinesis struct {
		SequenceNumber string `json:"sequenceNumber"`
	} `json:"kinesis"`
}

// identify reads what it can of a record that does not decode. A field of
// the wrong type leaves the others readable (encoding/json goes on past
// it), so the error is not needed: what is missing stays empty.
func identify(raw []byte) Record {
	var h recordHead
	_ = json.Unmarshal(raw, &h)
	rec := Record{Kind: h.EventSource, ID: h.DynamoDB.SequenceNumber}
	if h.EventSource == sourceKinesis || rec.ID == "" {
		rec.ID = h.Kinesis.SequenceNumber
	}
	if strings.Contains(h.EventSourceARN, ":kinesis:") {
		rec.Source, _ = sourceName(h.EventSourceARN, "stream/")
	} else {
		rec.Source, _ = sourceName(h.EventSourceARN, "table/")
	}
	return rec
}

// sourceName is the name after marker in an event source ARN: the table of
// arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>, the
// stream of arn:aws:kinesis:<region>:<account>:stream/<name> (or of a
// consumer ARN below it).
func sourceName(arn, marker string) (string, error) {
	_, rest, ok := strings.Cut(arn, ":"+marker)
	name, _, _ := strings.Cut(rest, "/")
	if !ok || name == "" {
		return "", fmt.Errorf("%w: eventSourceARN %s names no %s", ErrMalformed, strconv.Quote(arn), strings.TrimSuffix(marker, "/"))
	}
	return name, nil
}

func isTTL(r *events.DynamoDBEventRecord) bool {
	return r.UserIdentity != nil && r.UserIdentity.Type == ttlIdentityType && r.UserIdentity.PrincipalID == ttlIdentityPrincipal
}

// timeLayout is RFC 3339 in UTC with milliseconds when there are any:
// DynamoDB gives whole seconds; emulators and Kinesis give fractions.
const timeLayout = "2006-01-02T15:04:05.999Z07:00"

// appendDynamoDB writes the line of a DynamoDB stream record:
//
//	{"table","event_name","event_id","sequence_number",
//	 "approximate_creation_time" (RFC 3339), "approximate_creation_epoch" (seconds),
//	 "ttl_delete","keys","new_image","old_image"}
//
// in that order, the images as chosen and present, followed by a newline.
// On error it returns dst as given.
func (c *Converter) appendDynamoDB(dst []byte, r *events.DynamoDBEventRecord, table string) ([]byte, error) {
	out := append(dst, `{"table":`...)
	out = jsonenc.AppendString(out, table)
	out = append(out, `,"event_name":`...)
	out = jsonenc.AppendString(out, r.EventName)
	out = append(out, `,"event_id":`...)
	out = jsonenc.AppendString(out, r.EventID)
	out = append(out, `,"sequence_number":`...)
	out = jsonenc.AppendString(out, r.Change.SequenceNumber)
	if t := r.Change.ApproximateCreationDateTime.Time; !t.IsZero() {
		t = t.Round(time.Millisecond).UTC()
		out = append(out, `,"approximate_creation_time":"`...)
		out = t.AppendFormat(out, timeLayout)
		out = append(out, `","approximate_creation_epoch":`...)
		out = strconv.AppendInt(out, t.Unix(), 10)
	}
	out = append(out, `,"ttl_delete":`...)
	out = strconv.AppendBool(out, r.EventName == string(events.DynamoDBOperationTypeRemove) && isTTL(r))
	var err error
	out = append(out, `,"keys":`...)
	if out, err = appendImage(out, r.Change.Keys, "keys"); err != nil {
		return dst, err
	}
	if c.NewImage && r.Change.NewImage != nil {
		out = append(out, `,"new_image":`...)
		if out, err = appendImage(out, r.Change.NewImage, "NewImage"); err != nil {
			return dst, err
		}
	}
	if c.OldImage && r.Change.OldImage != nil {
		out = append(out, `,"old_image":`...)
		if out, err = appendImage(out, r.Change.OldImage, "OldImage"); err != nil {
			return dst, err
		}
	}
	return append(out, '}', '\n'), nil
}

func appendImage(dst []byte, item map[string]events.DynamoDBAttributeValue, name string) ([]byte, error) {
	out, err := ddbjson.AppendItem(dst, item)
	if err != nil {
		return dst, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}
