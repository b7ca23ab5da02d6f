package pipeline

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
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
	return appendRecord(dst, r, 0, false, nil, nil)
}

// appendRecord writes r; with embed (EMBED_JSON_MESSAGE), a top-level
// message field holding a JSON object's text is followed by messageJson,
// the object itself. valid, when not empty, is text known to be valid
// JSON, the document ParseJSONInto read r from: a json.RawMessage within
// it is one of its values, written without checking it again. names, when
// not nil, holds the member names of the records written before (see
// memberNames).
func appendRecord(dst []byte, r *record.Record, depth int, embed bool, valid []byte, names *memberNames) ([]byte, error) {
	if r == nil {
		return append(dst, "null"...), nil
	}
	if depth > maxDepth {
		return dst, fmt.Errorf("%w: nested deeper than %d objects", ErrUnencodable, maxDepth)
	}
	dst = append(dst, '{')
	for i := range r.Fields {
		f := &r.Fields[i]
		if run, ok := f.Value.(*memberRun); ok {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, run.text...)
			continue
		}
		if names != nil {
			text, ok := names.last(i, f.Name)
			if !ok {
				text = names.member(i, f.Name)
			}
			dst = append(dst, text...)
		} else {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonenc.AppendString(dst, f.Name)
			dst = append(dst, ':')
		}
		if v, ok := f.Value.(string); ok {
			// Most values: appendValue's case, without its call.
			dst = jsonenc.AppendString(dst, v)
		} else {
			var err error
			if dst, err = appendValue(dst, f.Value, depth, valid); err != nil {
				return dst, &FieldError{Field: f.Name, Err: err}
			}
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

// memberNames holds, for each place in a record, the name written there
// last and its JSON text, `"name":`, with the comma before it from the
// second place on. A parser writes the same names in the same order line
// after line (the very strings: a parser's constants, the shape of a
// JSON stream), so a place's name is nearly always the one it held
// before, which a comparison of the strings tells at once (the same
// memory) where escaping the name again was a twelfth of a line's time.
// A name held by arena, which the pipeline rewinds between lines (see
// record.Builder's Rewind), is kept as a copy: the next line's values are
// written over it, and the same memory would then pass for the same name.
type memberNames struct {
	places []memberName
	arena  *record.Builder // nil: every name is kept as it is
}

type memberName struct {
	name string
	text []byte
}

// last returns the JSON text of name written at place i when name is
// the very string written there last (the same memory and length), as
// it nearly always is: small enough to be inlined, where member is not.
func (m *memberNames) last(i int, name string) ([]byte, bool) {
	if i < len(m.places) && unsafe.StringData(m.places[i].name) == unsafe.StringData(name) && len(m.places[i].name) == len(name) {
		return m.places[i].text, true
	}
	return nil, false
}

// member returns the JSON text of name written at place i.
func (m *memberNames) member(i int, name string) []byte {
	if i < len(m.places) && m.places[i].name == name {
		if m.arena == nil || !m.arena.Holds(name) {
			// The same name in other memory that stays (a copy made
			// when the place was last written, say): last finds it
			// from now on.
			m.places[i].name = name
		}
		return m.places[i].text
	}
	for len(m.places) <= i {
		m.places = append(m.places, memberName{})
	}
	p := &m.places[i]
	p.name, p.text = name, p.text[:0]
	if m.arena != nil && m.arena.Holds(name) {
		p.name = strings.Clone(name)
	}
	if i > 0 {
		p.text = append(p.text, ',')
	}
	p.text = append(jsonenc.AppendString(p.text, name), ':')
	return p.text
}

// appendCompact appends the JSON text v compacted, as json.Compact does.
// Text that is valid (which jsonscan checks far faster than json.Compact's
// state machine) and holds no white space at all, as a parser's nested
// values and numbers mostly do, is already compact.
func appendCompact(dst, v []byte) ([]byte, error) {
	if !hasSpace(v) {
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

// appendRawJSON is appendCompact for a json.RawMessage, which needs no
// check when it lies within valid (see appendRecord): ParseJSONInto keeps
// nested objects, arrays and fractions as slices of the document, which
// it read whole, so checking one again as it is written was a second
// pass over it (an eighth of a JSON record's time).
//
// A string token within valid (a member kept verbatim: see verbatim.go)
// is copied as it is too, spaces and all: compacting leaves a string's
// text alone.
func appendRawJSON(dst, v, valid []byte) ([]byte, error) {
	if within(v, valid) && (v[0] == '"' || !hasSpace(v)) {
		return append(dst, v...), nil
	}
	return appendCompact(dst, v)
}

// within reports whether v is a part of text (by address).
func within(v, text []byte) bool {
	if len(v) == 0 || len(v) > len(text) { // len(text)-len(v) below must not wrap
		return false
	}
	p, start := uintptr(unsafe.Pointer(unsafe.SliceData(v))), uintptr(unsafe.Pointer(unsafe.SliceData(text)))
	return p >= start && p-start <= uintptr(len(text)-len(v))
}

// hasSpace reports whether b holds a byte of 0x20 or below: a space or a
// control byte, which in valid JSON is white space outside strings or a
// space inside one. Without any, JSON text is compact.
func hasSpace(b []byte) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		// A byte of 0x20 or below borrows into its top bit when 0x21 is
		// taken from it, and no byte above does unless one below did.
		x := binary.LittleEndian.Uint64(b)
		if (x-lsb*0x21)&^x&msb != 0 {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if c <= ' ' {
			return true
		}
	}
	return false
}

// appendValue appends one value of the record contract as JSON (valid as
// for appendRecord).
func appendValue(dst []byte, v any, depth int, valid []byte) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return jsonenc.AppendString(dst, v), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case float64:
		if out, ok := appendMillisDecimal(dst, v); ok {
			return out, nil
		}
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
		return appendRawJSON(dst, v, valid)
	case *record.Record:
		return appendRecord(dst, v, depth+1, false, valid, nil)
	default:
		return dst, fmt.Errorf("%w: unsupported type %T", ErrUnencodable, v)
	}
}

// appendMillisDecimal writes f as jsonenc.AppendFloat does when f is the
// double nearest a decimal of at most three places between 0.001 and 1e9
// (a duration in seconds such as CloudFront's time-taken, a price), and
// reports false otherwise. Finding the shortest digits of any double
// (strconv's job) cost some 600 instructions a value; this costs a tenth.
//
// Why the digits are the same: below 1e9 a double's spacing is under
// 1.2e-7, so no other decimal of at most three places rounds to f, and any
// decimal with more places that does is within that spacing of f, hence
// has more significant digits. The shortest decimal that rounds to f is
// then n/1000 without its trailing zeros, which AppendFloat writes in
// plain notation in this range.
func appendMillisDecimal(dst []byte, f float64) ([]byte, bool) {
	a := math.Abs(f)
	if !(a >= 0.001 && a < 1e9) {
		return dst, false
	}
	n := math.Round(a * 1000)
	if n/1000 != a { // the division is exact to the nearest double
		return dst, false
	}
	if f < 0 {
		dst = append(dst, '-')
	}
	m := uint64(n)
	dst = strconv.AppendUint(dst, m/1000, 10)
	frac := m % 1000
	if frac == 0 {
		return dst, true
	}
	digits := [3]byte{byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	k := 3
	for digits[k-1] == '0' {
		k--
	}
	return append(append(dst, '.'), digits[:k]...), true
}
