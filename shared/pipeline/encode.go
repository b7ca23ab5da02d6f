package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unsafe"

	"lakestream/shared/jsonenc"
	"lakestream/shared/jsonscan"
	"lakestream/shared/record"
)

// ErrUnencodable is wrapped by errors for values that have no JSON form:
// NaN and infinities, invalid JSON text in a json.RawMessage, Go types
// outside the record contract, and nesting deeper than maxDepth.
var ErrUnencodable = errors.New("value cannot be written as JSON")

// maxDepth bounds nested *record.Record values so that a cycle built by
// mistake fails the line instead of overflowing the stack.
const maxDepth = 1000

// AppendJSON appends r as one JSON object with its fields in order and
// returns the extended buffer. It writes what encoding/json would (strings
// escaped the same way, invalid UTF-8 as U+FFFD, float64 in the same
// notation, json.RawMessage compacted) except that <, > and & are not
// HTML-escaped: the output is data, not a web page. It does not
// allocate beyond growing dst. On error dst may hold a partial object.
func AppendJSON(dst []byte, r *record.Record) ([]byte, error) {
	return appendRecord(dst, r, 0, false)
}

// appendRecord writes r; with embed (EMBED_JSON_MESSAGE), a top-level
// message field holding a JSON object's text is followed by messageJson,
// the object itself.
func appendRecord(dst []byte, r *record.Record, depth int, embed bool) ([]byte, error) {
	if r == nil {
		return append(dst, "null"...), nil
	}
	if depth > maxDepth {
		return dst, fmt.Errorf("%w: nested deeper than %d objects", ErrUnencodable, maxDepth)
	}
	dst = append(dst, '{')
	for i := range r.Fields {
		f := &r.Fields[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonenc.AppendString(dst, f.Name)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, f.Value, depth); err != nil {
			return dst, &FieldError{Field: f.Name, Err: err}
		}
		if embed && f.Name == FieldMessage {
			if msg, ok := f.Value.(string); ok {
				if obj, ok := appendObject(append(dst, `,"messageJson":`...), unsafe.Slice(unsafe.StringData(msg), len(msg))); ok {
					dst = obj
				}
			}
		}
	}
	return append(dst, '}'), nil
}

// appendCompact appends the JSON text v compacted, as json.Compact does.
// Text that is valid (which jsonscan checks far faster than json.Compact's
// state machine) and holds no white space at all, as a parser's nested
// values and numbers mostly do, is already compact.
func appendCompact(dst, v []byte) ([]byte, error) {
	if bytes.IndexAny(v, " \t\r\n") < 0 {
		s := scanners.Get().(*jsonscan.Scanner)
		s.Reset(v)
		valid := s.Skip() == nil && s.End() == nil
		s.Reset(nil)
		scanners.Put(s)
		if valid {
			return append(dst, v...), nil
		}
	}
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, v); err != nil {
		return dst, fmt.Errorf("%w: invalid JSON text: %v", ErrUnencodable, err)
	}
	return buf.Bytes(), nil
}

// appendValue appends one value of the record contract as JSON.
func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return jsonenc.AppendString(dst, v), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case float64:
		out, err := jsonenc.AppendFloat(dst, v)
		if err != nil {
			return dst, fmt.Errorf("%w: %w", ErrUnencodable, err)
		}
		return out, nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case json.RawMessage:
		if len(v) == 0 {
			return append(dst, "null"...), nil // as encoding/json writes a nil RawMessage
		}
		return appendCompact(dst, v)
	case *record.Record:
		return appendRecord(dst, v, depth+1, false)
	default:
		return dst, fmt.Errorf("%w: unsupported type %T", ErrUnencodable, v)
	}
}
