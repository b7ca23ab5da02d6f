package pipeline

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"lakestream/shared/jsonscan"
	"lakestream/shared/record"
)

// Errors ParseJSON wraps, for callers telling bad JSON from JSON of the
// wrong shape.
var (
	ErrInvalidJSON = errors.New("invalid JSON")
	ErrNotObject   = errors.New("not a JSON object")
)

// indexAt is the field count from which ParseJSON finds duplicate keys
// with a map instead of a scan, so that an object with a huge number of
// keys costs linear, not quadratic, time.
const indexAt = 32

// ParseJSON is the Parser for JSON records: line must hold one JSON object.
// Its top-level keys become fields in document order; a key given twice
// keeps its first position and its last value, as encoding/json keeps the
// last. Values become: strings string, true/false bool, null nil, integers
// that fit int64 int64, and every other number and every nested object or
// array json.RawMessage, so no digit is ever lost to float64 and nested data
// is written back as it came. The json.RawMessage values share line's
// memory: line must not change while the record is in use.
func ParseJSON(line []byte) (*record.Record, error) {
	b := record.NewBuilder(16)
	if _, err := ParseJSONInto(b, line, time.Time{}); err != nil {
		return nil, err
	}
	return &b.Record, nil
}

// scanners keeps the JSON scanners of ParseJSONInto, whose buffers (for
// nesting and escaped keys) then serve line after line.
var scanners = sync.Pool{New: func() any { return new(jsonscan.Scanner) }}

// ParseJSONInto is ParseJSON into r, which it resets first: a ParserInto,
// reading the line in one pass with shared/jsonscan (which accepts exactly
// what encoding/json accepts) and taking the values from r's arena. On
// error r is left empty.
func ParseJSONInto(r *record.Builder, line []byte, _ time.Time) (bool, error) {
	r.Reset()
	s := scanners.Get().(*jsonscan.Scanner)
	defer scanners.Put(s)
	s.Reset(line)
	if k := s.Peek(); k != jsonscan.Object {
		if !json.Valid(line) {
			return false, invalidJSON(line)
		}
		return false, fmt.Errorf("%w: found %s", ErrNotObject, k)
	}
	readObject(r, s, line, nil)
	if s.End() != nil {
		r.Reset()
		return false, invalidJSON(line)
	}
	return true, nil
}

// readObject reads the object that comes next, the start of data, into
// r's fields; a syntax error stops it and stays in s. shape, when not nil,
// holds the keys of the last object read (see keyShape) and tells which
// members may be kept verbatim (see verbatim.go).
func readObject(r *record.Builder, s *jsonscan.Scanner, data []byte, shape *keyShape) {
	var (
		index map[string]int
		buf   []byte // unescaped strings; r.Text copies them
	)
	// same stays set while this object's keys are the shape's, one for
	// one: such a key is a name already made and cannot repeat an
	// earlier one, the shape's keys being distinct.
	same := shape != nil
	for key := range s.Object() {
		if n := len(r.Fields); same && n < len(shape.names) && string(key) == shape.names[n] {
			v, ok := jsonValue(r, s, &buf, data, shape.verbatim[n])
			if !ok {
				break
			}
			r.Fields = append(r.Fields, record.Field{Name: shape.names[n], Value: v})
			continue
		}
		v, ok := jsonValue(r, s, &buf, data, shape != nil && !slices.Contains(shape.reads, string(key)))
		if !ok {
			break
		}
		if same {
			same = false
			if n := len(r.Fields); n >= indexAt {
				index = make(map[string]int, 2*n)
				for k, f := range r.Fields {
					index[f.Name] = k
				}
			}
		}
		i := -1
		if index != nil {
			if j, ok := index[string(key)]; ok {
				i = j
			}
		} else {
			i = fieldIndex(&r.Record, string(key)) // no allocation: the conversion only compares
		}
		if i >= 0 {
			r.Fields[i].Value = v
			continue
		}
		r.Fields = append(r.Fields, record.Field{Name: r.Text(key), Value: v})
		switch n := len(r.Fields); {
		case index != nil:
			index[r.Fields[n-1].Name] = n - 1
		case n == indexAt:
			index = make(map[string]int, 2*indexAt)
			for k, f := range r.Fields {
				index[f.Name] = k
			}
		}
	}
	if shape != nil && s.Err() == nil && !(same && len(r.Fields) == len(shape.names)) {
		shape.remember(r.Fields)
	}
}

// keyShape is the field names of the last JSON document Transform read,
// in order (distinct, as a record's are). The documents of a stream
// nearly always have the same keys in the same order: a key that is the
// shape's at its place takes the shape's name, instead of being copied
// into the record's arena and compared with every key before it (which
// was a tenth of reading a document), and whether its value may be kept
// verbatim, instead of looking its name up among the fields the stages
// read. The names are copies, held by the shape's own memory: the
// pipeline rewinds the arena a document's names come from
// (record.Builder's Rewind) and writes the next line's values over them.
type keyShape struct {
	names []string
	// verbatim tells, for each name, whether no stage reads the field:
	// its value may then be kept as its text (see verbatim.go).
	verbatim []bool
	// reads is the names of the fields the stages read (readFields).
	reads []string
}

// remember makes the document just read, with fields, the shape: its
// names copied into one new string (a shape changes rarely in a stream),
// so that names handed out from the old shape stay valid too.
func (k *keyShape) remember(fields []record.Field) {
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f.Name)
	}
	all := b.String()
	k.names, k.verbatim = k.names[:0], k.verbatim[:0]
	for _, f := range fields {
		k.names = append(k.names, all[:len(f.Name)])
		k.verbatim = append(k.verbatim, !slices.Contains(k.reads, f.Name))
		all = all[len(f.Name):]
	}
}

// readJSONDocument parses the JSON object at the start of data into r (reset
// first) with s and returns where it ends, or false if it is not a
// well-formed object (r is then left empty). It is ParseJSONInto for a
// document not yet cut out of the record's data: parsing finds the end of
// an object, so Transform need not cut the documents apart first (a
// second pass), except to find and describe a bad one. shape is as for
// readObject.
func readJSONDocument(r *record.Builder, s *jsonscan.Scanner, data []byte, shape *keyShape) (int, bool) {
	r.Reset()
	s.Reset(data)
	readObject(r, s, data, shape)
	if s.Err() != nil {
		r.Reset()
		return 0, false
	}
	return s.Offset(), true
}

// isParseJSONInto reports whether parse is ParseJSONInto itself, by its
// code pointer (functions do not compare in Go), so that NewInto can let
// Transform read JSON documents in one pass.
func isParseJSONInto(parse ParserInto) bool {
	return reflect.ValueOf(parse).Pointer() == reflect.ValueOf(ParseJSONInto).Pointer()
}

// jsonValue reads the member value that comes next as a record value,
// reporting false on a syntax error (which the scanner keeps). data is
// the text the scanner reads; with verbatim set, a string or number
// whose text is what the writer would write for it is kept as its text
// (see verbatim.go).
func jsonValue(r *record.Builder, s *jsonscan.Scanner, buf *[]byte, data []byte, verbatim bool) (any, bool) {
	switch s.Peek() {
	case jsonscan.String:
		start := s.Offset()
		v, ascii, err := s.StringASCII(buf)
		if err != nil {
			return nil, false
		}
		if verbatim {
			if text := data[start:s.Offset()]; ascii || verbatimString(text, v) {
				return r.BoxJSON(text), true
			}
		}
		return r.Box(r.Text(v)), true
	case jsonscan.Bool:
		v, err := s.Bool()
		return v, err == nil
	case jsonscan.Null:
		return nil, s.Null()
	case jsonscan.Number:
		v, err := s.Number()
		if err != nil {
			return nil, false
		}
		if verbatim && string(v) != "-0" {
			return r.BoxJSON(v), true
		}
		for _, c := range v {
			if c == '.' || c == 'e' || c == 'E' {
				return r.BoxJSON(v), true
			}
		}
		// The string conversion stays on the stack: ParseInt does not keep it.
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return r.BoxInt(n), true
		}
		return r.BoxJSON(v), true // beyond int64: keep every digit
	default: // an object or an array, kept as its text; Raw checks it
		v, err := s.Raw()
		return r.BoxJSON(v), err == nil
	}
}

// invalidJSON describes why line is not JSON as encoding/json words it,
// which is what the error has always said (a rare path: only bad lines
// pay for it).
func invalidJSON(line []byte) error {
	var raw json.RawMessage
	err := json.Unmarshal(line, &raw)
	return fmt.Errorf("%w: %v", ErrInvalidJSON, err)
}

// valueEnd returns the index just past the JSON value starting at b[i]:
// a string, an object or array (matched by depth, skipping strings), or a
// literal or number (up to the next delimiter). For input that is not
// well-formed it stops at len(b) at the latest.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		// Most of a document is string text: pass over it eight bytes
		// at a time.
		for i+8 <= len(b) && !quoteOrBackslash(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i == len(b) {
			break
		}
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// quoteOrBackslash reports whether any of the 8 bytes packed in x is a
// quote or a backslash. (A byte equal to c makes x^(c*lsb) hold a zero
// byte, whose top bit the subtraction sets; it can also flag bytes above a
// true one, which does not change the answer.)
func quoteOrBackslash(x uint64) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return ((q-lsb)&^q|(b-lsb)&^b)&msb != 0
}
