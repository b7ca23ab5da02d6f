package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
	"unique"

	"lakestream/shared/record"
)

// referenceParseJSON is ParseJSON as it was before it read with
// shared/jsonscan: encoding/json's checkValid first, then a walk of the
// validated text. The differential fuzz test holds the new one to it.
// Its top-level keys become fields in document order; a key given twice
// keeps its first position and its last value, as encoding/json keeps the
// last. Values become: strings string, true/false bool, null nil, integers
// that fit int64 int64, and every other number and every nested object or
// array json.RawMessage, so no digit is ever lost to float64 and nested data
// is written back as it came. The json.RawMessage values share line's
// memory: line must not change while the record is in use.
func referenceParseJSON(line []byte) (*record.Record, error) {
	// Validating first lets the walk below assume well-formed input.
	if !json.Valid(line) {
		var raw json.RawMessage
		err := json.Unmarshal(line, &raw) // only to learn where and why
		return nil, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	s := refScanner{b: line}
	s.skipSpace()
	if s.b[s.i] != '{' {
		return nil, fmt.Errorf("%w: found %s", ErrNotObject, refKindOf(s.b[s.i]))
	}
	s.i++
	rec := record.New(16)
	var index map[string]int
	for {
		s.skipSpace()
		if s.b[s.i] == '}' {
			return rec, nil
		}
		name := refKey(s.value())
		s.skipSpace()
		s.i++ // ':'
		s.skipSpace()
		v := refScalar(s.value())

		i := -1
		if index != nil {
			if j, ok := index[name]; ok {
				i = j
			}
		} else {
			i = fieldIndex(rec, name)
		}
		if i >= 0 {
			rec.Fields[i].Value = v
		} else {
			rec.Fields = append(rec.Fields, record.Field{Name: name, Value: v})
			switch n := len(rec.Fields); {
			case index != nil:
				index[name] = n - 1
			case n == refIndexAt:
				index = make(map[string]int, 2*refIndexAt)
				for k, f := range rec.Fields {
					index[f.Name] = k
				}
			}
		}
		s.skipSpace()
		if s.b[s.i] == ',' {
			s.i++
		}
	}
}

// refScalar converts one JSON value's text to a record value.
func refScalar(v []byte) any {
	switch v[0] {
	case '"':
		return refUnquote(v)
	case 't':
		return true
	case 'f':
		return false
	case 'n':
		return nil
	case '{', '[':
		return json.RawMessage(v)
	}
	for _, c := range v {
		if c == '.' || c == 'e' || c == 'E' {
			return json.RawMessage(v)
		}
	}
	// The string conversion stays on the stack: ParseInt does not keep it.
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return n
	}
	return json.RawMessage(v) // beyond int64: keep every digit
}

// refKey returns an object key, interned: logs repeat the same few keys on
// every line, and sharing one copy of each saves an allocation per field.
func refKey(v []byte) string {
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return unique.Make(string(inner)).Value()
	}
	return refUnquote(v)
}

// refUnquote returns a JSON string's value. Plain strings, the vast majority
// in logs, are converted directly; escapes and invalid UTF-8 go through
// encoding/json, whose rules (U+FFFD for bad bytes, surrogate pairs) the
// writer mirrors.
func refUnquote(v []byte) string {
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	_ = json.Unmarshal(v, &s) // cannot fail: v is a validated JSON string
	return s
}

func refKindOf(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// refScanner walks JSON already checked by json.Valid, so it never needs
// to report an error and never reads past the end.
type refScanner struct {
	b []byte
	i int
}

func (s *refScanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// value returns the text of the value starting at s.i and moves past it.
func (s *refScanner) value() []byte {
	start := s.i
	s.i = valueEnd(s.b, s.i)
	return s.b[start:s.i]
}

// refIndexAt is the field count from which referenceParseJSON finds
// duplicate keys with a map.
const refIndexAt = 32

// refStringEnd is stringEnd a byte at a time, as it was.
func refStringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}
