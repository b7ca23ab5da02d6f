package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/functions/ddb-stream-forwarder/ddbjson"
	"lakestream/shared/batch"
	"lakestream/shared/civil"
	"lakestream/shared/jsonenc"
	"lakestream/shared/pipeline"
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

// Converter turns one stream record into the line the forwarder writes, in
// its Shape.
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
	// Shape is what a DynamoDB line holds ("" is ShapeEnvelope);
	// Projection is its fields when it is ShapeProjection.
	Shape      Shape
	Projection *Projection
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
	// Time is a DynamoDB record's approximate creation time; zero when
	// the record has none (and for Kinesis records).
	Time time.Time
	// Line is what is written: one newline-terminated JSON object for a
	// DynamoDB record, the data for a Kinesis record.
	Line []byte

	// raw is the record's JSON, read again by Key (for logs only) rather
	// than every record keeping its keys decoded; read says raw was read
	// as a DynamoDB or Kinesis record, so Key has something to name.
	raw  []byte
	read bool
}

// Key names the record's item for logs, never its data: a DynamoDB item's
// primary key as JSON, or a Kinesis record's partition key.
func (r *Record) Key() string {
	if !r.read {
		return ""
	}
	rd := readers.Get().(*reader)
	defer func() { rd.release(); readers.Put(rd) }()
	if rd.read(r.raw) != nil {
		return "" // it read when the record was converted
	}
	if r.Kind == sourceKinesis {
		return string(rd.partitionKey)
	}
	if rd.keys.IsNil() {
		return ""
	}
	b, err := rd.t.AppendItem(nil, &rd.keys)
	if err != nil {
		return "(keys not writable: " + err.Error() + ")"
	}
	return string(b)
}

// keyNames names a DynamoDB record's key attributes but not their values,
// for logs when fields are masked: "customer_id, order_id" and
// pipeline.Withheld.
func (r *Record) keyNames() string {
	if !r.read {
		return ""
	}
	rd := readers.Get().(*reader)
	defer func() { rd.release(); readers.Put(rd) }()
	if rd.read(r.raw) != nil || rd.keys.IsNil() {
		return ""
	}
	var b strings.Builder
	for a := range rd.t.Attributes(&rd.keys) {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.Write(a.Name)
	}
	b.WriteString(" " + pipeline.Withheld)
	return b.String()
}

// ErrMalformed wraps every reason a record cannot be read.
var ErrMalformed = errors.New("malformed record")

var readers = sync.Pool{New: func() any { return new(reader) }}

// Convert reads one record of a Lambda event, its JSON as it came, and
// appends its line to arena. It returns the record, with Line a slice of
// the returned arena, or an error that wraps ErrMalformed or a ddbjson
// error; on error the record still holds what identifies it (Kind, ID,
// Source when readable), so the caller reports it failed by its sequence
// number, and arena is returned as given.
//
// It reads the record without reflection (reader, ddbjson.Transcoder) and
// gives, for any input, the result that decoding it with encoding/json
// into aws-lambda-go's types and writing those with ddbjson gave before:
// the same line, byte for byte, or a failure where that failed (the
// differential fuzz test FuzzConvertAsEncodingJSON holds it to that, in
// every shape).
func (c *Converter) Convert(arena []byte, raw []byte) (Record, []byte, error) {
	return c.convert(arena, raw, "")
}

// convert is Convert for a record whose sequence number the adapter has
// read already (seq; "" when not known): the record's ID is that string
// rather than a copy, one allocation less per record.
func (c *Converter) convert(arena []byte, raw []byte, seq string) (Record, []byte, error) {
	rd := readers.Get().(*reader)
	defer func() { rd.release(); readers.Put(rd) }()
	if err := rd.read(raw); err != nil {
		return identify(raw), arena, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	rec, arena, err := c.line(arena, rd, raw)
	if id := rd.id(); string(id) == seq {
		rec.ID = seq
	} else {
		rec.ID = string(id)
	}
	return rec, arena, err
}

// line is convert once the record raw is read into rd: the record,
// without its ID, and its line appended to arena.
func (c *Converter) line(arena []byte, rd *reader, raw []byte) (Record, []byte, error) {
	switch string(rd.eventSource) {
	case sourceDynamoDB:
		rec := Record{Kind: sourceDynamoDB, raw: raw, read: true}
		var err error
		if rec.Source, err = rd.source("table/"); err != nil {
			return rec, arena, err
		}
		if string(rd.eventName) == string(events.DynamoDBOperationTypeRemove) && (c.SkipRemoves || c.SkipTTLRemoves && rd.isTTL()) {
			rec.Skip = true
			return rec, arena, nil
		}
		rec.Time = rd.created
		start := len(arena)
		var out []byte
		switch c.Shape {
		case ShapeItem:
			item, name := c.item(rd)
			out, err = appendImage(arena, rd, item, name)
			if err == nil {
				out = append(out, '\n')
			}
		case ShapeProjection:
			out, err = c.appendProjection(arena, rd, rec.Source)
		default:
			out, err = c.appendDynamoDB(arena, rd, rec.Source)
		}
		if err != nil {
			return rec, arena, err
		}
		rec.Line = out[start:len(out):len(out)]
		return rec, out, nil
	case sourceKinesis:
		rec := Record{Kind: sourceKinesis, raw: raw, read: true}
		var err error
		if rec.Source, err = rd.source("stream/"); err != nil {
			return rec, arena, err
		}
		data := rd.data[:rd.dataLen]
		start := len(arena)
		arena = append(arena, data...)
		if c.KinesisNewline && (len(data) == 0 || data[len(data)-1] != '\n') {
			arena = append(arena, '\n')
		}
		rec.Line = arena[start:len(arena):len(arena)]
		return rec, arena, nil
	}
	rec := Record{Kind: string(rd.eventSource)}
	return rec, arena, fmt.Errorf("%w: eventSource %s is neither %s nor %s", ErrMalformed, strconv.Quote(string(rd.eventSource)), sourceDynamoDB, sourceKinesis)
}

// identify is what names a record that cannot be read: what the adapter
// reads of it (a value of the wrong kind leaves the rest readable), and
// the table or stream its ARN names.
func identify(raw []byte) Record {
	h := batch.StreamRecordOf(raw)
	rec := Record{Kind: h.EventSource, ID: h.SequenceNumber}
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

// timeLayout is RFC 3339 in UTC with milliseconds when there are any:
// DynamoDB gives whole seconds; emulators and Kinesis give fractions.
const timeLayout = "2006-01-02T15:04:05.999Z07:00"

// appendTime appends t, a time in UTC rounded to the millisecond, as
// t.AppendFormat(dst, timeLayout) does, without parsing the layout for
// every record: years outside 0 to 9999 and other zones, which that
// writes its own way, are left to it.
func appendTime(dst []byte, t time.Time) []byte {
	if t.Location() == time.UTC {
		if out, ok := civil.AppendMillis(dst, t, true); ok {
			return out
		}
	}
	return t.AppendFormat(dst, timeLayout)
}

// appendDynamoDB writes the envelope line of a DynamoDB stream record:
//
//	{"table","event_name","event_id","sequence_number",
//	 "approximate_creation_time" (RFC 3339), "approximate_creation_epoch" (seconds),
//	 "ttl_delete","keys","new_image","old_image"}
//
// in that order, the images as chosen and present, followed by a newline.
// On error it returns dst as given.
func (c *Converter) appendDynamoDB(dst []byte, rd *reader, table string) ([]byte, error) {
	out := append(dst, `{"table":`...)
	out = jsonenc.AppendString(out, table)
	out = append(out, `,"event_name":`...)
	out = jsonenc.AppendBytes(out, rd.eventName)
	out = append(out, `,"event_id":`...)
	out = jsonenc.AppendBytes(out, rd.eventID)
	out = append(out, `,"sequence_number":`...)
	out = jsonenc.AppendBytes(out, rd.sequenceNumber)
	if t := rd.created; !t.IsZero() {
		t = t.Round(time.Millisecond).UTC()
		out = append(out, `,"approximate_creation_time":"`...)
		out = appendTime(out, t)
		out = append(out, `","approximate_creation_epoch":`...)
		out = strconv.AppendInt(out, t.Unix(), 10)
	}
	out = append(out, `,"ttl_delete":`...)
	out = strconv.AppendBool(out, rd.isTTLDelete())
	var err error
	out = append(out, `,"keys":`...)
	if out, err = appendImage(out, rd, &rd.keys, "keys"); err != nil {
		return dst, err
	}
	if c.NewImage && !rd.newImage.IsNil() {
		out = append(out, `,"new_image":`...)
		if out, err = appendImage(out, rd, &rd.newImage, "NewImage"); err != nil {
			return dst, err
		}
	}
	if c.OldImage && !rd.oldImage.IsNil() {
		out = append(out, `,"old_image":`...)
		if out, err = appendImage(out, rd, &rd.oldImage, "OldImage"); err != nil {
			return dst, err
		}
	}
	return append(out, '}', '\n'), nil
}

func appendImage(dst []byte, rd *reader, item *ddbjson.Item, name string) ([]byte, error) {
	out, err := rd.t.AppendItem(dst, item)
	if err != nil {
		return dst, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}
