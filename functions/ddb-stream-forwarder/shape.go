package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"lakestream/functions/ddb-stream-forwarder/ddbjson"
	"lakestream/shared/jsonenc"
	"lakestream/shared/jsonscan"
)

// Shape is what the line of a DynamoDB stream record holds (OUTPUT_SHAPE).
type Shape string

// The shapes of a DynamoDB record's line.
const (
	// ShapeEnvelope is the record: table, event, time, keys and images.
	ShapeEnvelope Shape = "envelope"
	// ShapeItem is the item itself as a flat JSON object, as
	// lambda-streams-to-firehose wrote it, so that a Glue table built from
	// the DynamoDB table's items reads the lines.
	ShapeItem Shape = "item"
	// ShapeProjection is the fields PROJECTION names, from the item and
	// the record's metadata.
	ShapeProjection Shape = "projection"
)

// shapes lists every Shape, for OUTPUT_SHAPE.
var shapes = []string{string(ShapeEnvelope), string(ShapeItem), string(ShapeProjection)}

// item is the image a record's item or projection is made of: the new
// image, else the old one (a REMOVE's), each when IMAGES allows it and the
// stream's view type holds it; else the keys (IMAGES=new on a REMOVE, a
// KEYS_ONLY stream), so the line still names the item.
func (c *Converter) item(rd *reader) (*ddbjson.Item, string) {
	switch {
	case c.NewImage && !rd.newImage.IsNil():
		return &rd.newImage, "NewImage"
	case c.OldImage && !rd.oldImage.IsNil():
		return &rd.oldImage, "OldImage"
	}
	return &rd.keys, "keys"
}

// acceptsProjection is what PROJECTION accepts, quoted in its errors.
const acceptsProjection = "comma-separated fields to write, in order: name (an attribute of the item), new=old (old an attribute or a dotted path into a map, " +
	"or @table, @event_name, @event_id, @sequence_number, @approximate_creation_time[:rfc3339|epoch-s|epoch-ms], @ttl_delete, @keys), and * for every attribute not named"

// Metadata a projection can write: the envelope's fields of the same
// names, the item's keys as an object.
type meta uint8

const (
	metaNone meta = iota // an attribute of the item
	metaTable
	metaEventName
	metaEventID
	metaSequenceNumber
	metaTime
	metaTTLDelete
	metaKeys
)

var metaNames = map[string]meta{
	"table": metaTable, "event_name": metaEventName, "event_id": metaEventID, "sequence_number": metaSequenceNumber,
	"approximate_creation_time": metaTime, "ttl_delete": metaTTLDelete, "keys": metaKeys,
}

// timeFormat is how @approximate_creation_time is written.
type timeFormat uint8

const (
	timeRFC3339     timeFormat = iota // the envelope's: UTC, milliseconds when there are any
	timeEpochSecond                   // integer seconds, as the envelope's approximate_creation_epoch
	timeEpochMilli                    // integer milliseconds
)

var timeFormats = map[string]timeFormat{"rfc3339": timeRFC3339, "epoch-s": timeEpochSecond, "epoch-ms": timeEpochMilli}

// Projection is a parsed PROJECTION: the fields a projection line holds,
// in order. It is read-only once parsed.
type Projection struct {
	fields []projected
	// taken are the attribute names * leaves out: every field's written
	// name and every attribute a field reads by its whole name, so that
	// no name is written twice and a renamed attribute is not written
	// again under its own name.
	taken []string
}

// projected is one field of a projection.
type projected struct {
	key  []byte // the written name as JSON, with its colon
	rest bool   // *: every attribute not taken, in the item's order
	meta meta
	time timeFormat
	// path is the attribute read: path[0] is the whole source, tried
	// first as a top-level name ("a.b" may name one attribute); the
	// segments follow when the name holds dots.
	path []string
}

// ParseProjection parses a PROJECTION spec (see acceptsProjection and
// README.md): the same list of name, new=old and * as the pipeline's
// FIELDS, with sources from the record's metadata too.
func ParseProjection(spec string) (*Projection, error) {
	p := &Projection{}
	var outs []string
	rest := false
	for item := range strings.SplitSeq(spec, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		if item == "*" {
			if rest {
				return nil, errors.New("* given twice")
			}
			rest = true
			p.fields = append(p.fields, projected{rest: true})
			continue
		}
		f, out, err := parseProjected(item)
		if err != nil {
			return nil, fmt.Errorf("item %q: %w", item, err)
		}
		if slices.Contains(outs, out) {
			return nil, fmt.Errorf("item %q: field %q is written twice", item, out)
		}
		outs = append(outs, out)
		p.fields = append(p.fields, f)
		p.taken = append(p.taken, out)
		if f.meta == metaNone {
			p.taken = append(p.taken, f.path[0])
		}
	}
	if len(p.fields) == 0 {
		return nil, errors.New("no fields")
	}
	return p, nil
}

// parseProjected parses one item but *, returning it and its written name.
func parseProjected(item string) (projected, string, error) {
	out, src, renamed := strings.Cut(item, "=")
	out, src = strings.TrimSpace(out), strings.TrimSpace(src)
	var f projected
	if name, ok := strings.CutPrefix(src, "@"); ok || !renamed && strings.HasPrefix(out, "@") {
		if !renamed {
			name = strings.TrimPrefix(out, "@")
		}
		name, format, formatted := strings.Cut(name, ":")
		if f.meta = metaNames[name]; f.meta == metaNone {
			return f, "", fmt.Errorf("unknown metadata @%s", name)
		}
		if formatted {
			tf, ok := timeFormats[format]
			switch {
			case f.meta != metaTime:
				return f, "", fmt.Errorf("@%s takes no format", name)
			case !ok:
				return f, "", fmt.Errorf("time format %q is none of rfc3339, epoch-s, epoch-ms", format)
			}
			f.time = tf
		}
		if !renamed {
			out = name
		}
	} else {
		if !renamed {
			src = out
		}
		if src == "" {
			return f, "", errors.New("no attribute name")
		}
		f.path = []string{src}
		if strings.Contains(src, ".") {
			segs := strings.Split(src, ".")
			if slices.Contains(segs, "") {
				return f, "", fmt.Errorf("path %q has an empty segment", src)
			}
			f.path = append(f.path, segs...)
		}
	}
	switch {
	case out == "":
		return f, "", errors.New("no field name")
	case strings.Contains(out, "."):
		// Athena and Glue cannot name such a column without quoting,
		// and a dotted name reads as a path everywhere else.
		return f, "", fmt.Errorf("the written name %q must not hold a dot: write new=%s", out, out)
	case strings.HasPrefix(out, "@"):
		return f, "", fmt.Errorf("the written name %q must not start with @, which marks metadata", out)
	}
	f.key = append(jsonenc.AppendString(nil, out), ':')
	return f, out, nil
}

// appendProjection writes the line of a projection: the fields in order, a
// field the record lacks (an absent attribute, a record without a
// creation time) left out, as every stage leaves an absent field.
func (c *Converter) appendProjection(dst []byte, rd *reader, table string) ([]byte, error) {
	item, name := c.item(rd)
	out := append(dst, '{')
	first := true
	sep := func() {
		if !first {
			out = append(out, ',')
		}
		first = false
	}
	for i := range c.Projection.fields {
		f := &c.Projection.fields[i]
		if f.rest {
			for a := range rd.t.Attributes(item) {
				if c.Projection.isTaken(a.Name) {
					continue
				}
				if a.Err != nil {
					return dst, fmt.Errorf("%s: %w", name, a.Err)
				}
				sep()
				out = jsonenc.AppendBytes(out, a.Name)
				out = append(out, ':')
				out = append(out, a.Value...)
			}
			continue
		}
		if f.meta == metaNone {
			v, err := rd.lookup(item, f.path)
			switch {
			case err != nil:
				return dst, fmt.Errorf("%s: %w", name, err)
			case v == nil:
				continue
			}
			sep()
			out = append(out, f.key...)
			out = append(out, v...)
			continue
		}
		if f.meta == metaTime && rd.created.IsZero() {
			continue
		}
		sep()
		out = append(out, f.key...)
		var err error
		if out, err = appendMeta(out, f, rd, table); err != nil {
			return dst, err
		}
	}
	return append(out, '}', '\n'), nil
}

// isTaken reports whether * leaves the attribute name out.
func (p *Projection) isTaken(name []byte) bool {
	for _, t := range p.taken {
		if t == string(name) {
			return true
		}
	}
	return false
}

// appendMeta writes a metadata field's value as the envelope does.
func appendMeta(out []byte, f *projected, rd *reader, table string) ([]byte, error) {
	switch f.meta {
	case metaTable:
		return jsonenc.AppendString(out, table), nil
	case metaEventName:
		return jsonenc.AppendBytes(out, rd.eventName), nil
	case metaEventID:
		return jsonenc.AppendBytes(out, rd.eventID), nil
	case metaSequenceNumber:
		return jsonenc.AppendBytes(out, rd.sequenceNumber), nil
	case metaTime:
		t := rd.created.Round(time.Millisecond).UTC()
		switch f.time {
		case timeEpochSecond:
			return strconv.AppendInt(out, t.Unix(), 10), nil
		case timeEpochMilli:
			return strconv.AppendInt(out, t.UnixMilli(), 10), nil
		}
		out = append(out, '"')
		out = appendTime(out, t)
		return append(out, '"'), nil
	case metaTTLDelete:
		return strconv.AppendBool(out, rd.isTTLDelete()), nil
	case metaKeys:
		return appendImage(out, rd, &rd.keys, "keys")
	}
	return out, fmt.Errorf("projection: unknown metadata %d", f.meta)
}

// lookup returns the plain JSON of the attribute path names in item, nil
// when the item has none: path[0] as a top-level name first, then, when
// it holds dots, path[1] as an attribute and the rest as keys of the maps
// within. An attribute that cannot be written fails only when read.
func (r *reader) lookup(item *ddbjson.Item, path []string) ([]byte, error) {
	if a, ok := r.t.Attribute(item, path[0]); ok {
		return a.Value, a.Err
	}
	if len(path) == 1 {
		return nil, nil
	}
	a, ok := r.t.Attribute(item, path[1])
	if !ok {
		return nil, nil
	}
	if a.Err != nil {
		return nil, a.Err
	}
	v := a.Value
	for _, seg := range path[2:] {
		if v = member(&r.ps, v, seg); v == nil {
			return nil, nil
		}
	}
	return v, nil
}

// member returns the value of the member named key of the JSON object
// obj, nil when obj is not an object or has no such member. obj is an M
// value as a Transcoder writes it: valid, each key once.
func member(s *jsonscan.Scanner, obj []byte, key string) []byte {
	s.Reset(obj)
	if s.Peek() != jsonscan.Object {
		return nil
	}
	for k := range s.Object() {
		if string(k) == key {
			v, err := s.Raw()
			if err != nil {
				return nil
			}
			return v
		}
	}
	return nil
}
