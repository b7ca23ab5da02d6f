package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

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
	return appendRecord(dst, r, 0)
}

func appendRecord(dst []byte, r *record.Record, depth int) ([]byte, error) {
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
		dst = appendString(dst, f.Name)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, f.Value, depth); err != nil {
			return dst, &FieldError{Field: f.Name, Err: err}
		}
	}
	return append(dst, '}'), nil
}

// appendValue appends one value of the record contract as JSON.
func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendString(dst, v), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case float64:
		return appendFloat(dst, v)
	case bool:
		return strconv.AppendBool(dst, v), nil
	case json.RawMessage:
		if len(v) == 0 {
			return append(dst, "null"...), nil // as encoding/json writes a nil RawMessage
		}
		buf := bytes.NewBuffer(dst)
		if err := json.Compact(buf, v); err != nil {
			return dst, fmt.Errorf("%w: invalid JSON text: %v", ErrUnencodable, err)
		}
		return buf.Bytes(), nil
	case *record.Record:
		return appendRecord(dst, v, depth+1)
	default:
		return dst, fmt.Errorf("%w: unsupported type %T", ErrUnencodable, v)
	}
}

// appendFloat writes f as encoding/json does: plain decimal between 1e-6
// and 1e21, exponent form outside, with a two-digit exponent trimmed
// ("1e-07" becomes "1e-7") — the ES6 number format.
func appendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("%w: %v is not a JSON number", ErrUnencodable, f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does with
// HTML escaping off: quote, backslash and control characters escaped (\n,
// \r, \t, \b, \f short forms), U+2028 and U+2029 escaped so the output is
// also valid JavaScript, and each byte of invalid UTF-8 as \ufffd.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, needing no escape
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
