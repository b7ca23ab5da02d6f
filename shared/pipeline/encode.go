package pipeline

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
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
	// A record of a pass (names) is written the fast way for as long as
	// its fields have the names written last at their places; EMBED_JSON_MESSAGE
	// looks at each field's name, so its records are written field by field.
	same := names != nil && !embed
	for i := 0; i < len(r.Fields); i++ {
		if same {
			if dst, i = names.appendPlain(dst, r.Fields, i); i == len(r.Fields) {
				break
			}
		}
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
	// head is text's first 32 bytes (zeros past its end), which
	// appendPlain writes whole whatever the name's length: one copy of
	// an array (two 16-byte moves on amd64, two pairs on arm64) and no
	// loop for names of up to 28 bytes.
	head [32]byte
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
	if cap(p.text) < len(p.text)+7 {
		// appendPlain copies text past its head a word at a time,
		// reading past its end up to the end of its last word.
		p.text = append(make([]byte, 0, len(p.text)+7), p.text...)
	}
	p.head = [32]byte{}
	copy(p.head[:], p.text)
	return p.text
}

// appendPlain writes fields[i:] for as long as each field's name is the
// very string written at its place before (see last), as it nearly
// always is, and its value null, a string with nothing to escape, an
// int64, a boolean or a float64 of appendMillisDecimal's, as a log
// line's are, and returns the index of the first field it leaves to
// appendRecord (also one that dst has no room for). A string field is
// written with one call: the member's text from its head words, the
// string checked for bytes to escape as it is copied, a word at a time
// (copyPlain). The calls of writing field by field (the name's copy, the
// string's check, its copy, strconv), and the registers each spilled,
// were a third of writing a log line of thirty fields.
func (m *memberNames) appendPlain(dst []byte, fields []record.Field, i int) ([]byte, int) {
	n, out, end := len(dst), unsafe.Pointer(unsafe.SliceData(dst)), cap(dst)
	places := m.places
	if len(places) > len(fields) {
		places = places[:len(fields)]
	}
fields:
	for ; i < len(places); i++ {
		f, p := &fields[i], &places[i]
		if unsafe.StringData(p.name) != unsafe.StringData(f.Name) || len(p.name) != len(f.Name) {
			break
		}
		s, isString := f.Value.(string)
		// Room for the member (its head whole) and the value: a string
		// between quotes, or up to 24 bytes of null, a boolean, a number:
		// every write below stays in dst's capacity, every read in
		// p.text's (see member) and s.
		if end-n < len(p.text)+len(s)+32+24 {
			break
		}
		*(*[32]byte)(unsafe.Add(out, n)) = p.head
		if len(p.text) > len(p.head) {
			for j := len(p.head); j < len(p.text); j += 8 {
				put8(out, n+j, get8(unsafe.Pointer(unsafe.SliceData(p.text)), j))
			}
		}
		at := n + len(p.text)
		if isString {
			*(*byte)(unsafe.Add(out, at)) = '"'
			if !copyPlain(unsafe.Add(out, at+1), s) {
				break // left to jsonenc.AppendString, written over the copy
			}
			at += 1 + len(s)
			*(*byte)(unsafe.Add(out, at)) = '"'
			n = at + 1
			continue
		}
		switch v := f.Value.(type) {
		case nil:
			put4(out, at, 'n'|'u'<<8|'l'<<16|'l'<<24)
			at += 4
		case int64:
			u := uint64(v)
			if v < 0 {
				*(*byte)(unsafe.Add(out, at)) = '-'
				at, u = at+1, -u
			}
			if u < 100 {
				at = putSmall(out, at, u)
			} else {
				at = putUint(out, at, u)
			}
		case float64:
			m, neg, ok := millisDecimal(v)
			if !ok {
				break fields // left to jsonenc.AppendFloat
			}
			at = putMillis(out, at, m, neg)
		case bool:
			if v {
				put4(out, at, 't'|'r'<<8|'u'<<16|'e'<<24)
				at += 4
			} else {
				put8(out, at, 'f'|'a'<<8|'l'<<16|'s'<<24|'e'<<32)
				at += 5
			}
		default:
			break fields
		}
		n = at
	}
	return dst[:n], i
}

// maxPlainDepth is how deep putObject writes nested records itself: syslog's
// structured data, a record of records of strings, is two deep, at depth 1
// and 2 of its line's record.
const maxPlainDepth = 4

// putObject writes r, a nested record (depth deep), at out+at as
// appendRecord would, when every value in it is a string with nothing to
// escape, null, or such a record again, and every name a string with
// nothing to escape, and returns the offset past it; it reports false
// otherwise, and when the object would not fit before end (having written
// part of it, which the caller writes over). Syslog's structured data is
// such a record: written field by field, with a call for each name and
// each value, it cost a third more. (appendPlain leaves a record to
// appendValue, which calls putObject: handled in appendPlain's loop, it
// made the loop's other fields slower.)
func putObject(out unsafe.Pointer, at, end int, r *record.Record, depth int) (int, bool) {
	if r == nil {
		if end-at < 4 {
			return at, false
		}
		put4(out, at, 'n'|'u'<<8|'l'<<16|'l'<<24)
		return at + 4, true
	}
	if depth > maxPlainDepth || end-at < 2 {
		return at, false
	}
	// Each member is preceded by '{' or ','; '}' closes an empty record.
	sep := byte('{')
	for k := range r.Fields {
		f := &r.Fields[k]
		s, _ := f.Value.(string)
		// The separator, the name and the value in quotes, and ':'
		// (6 bytes besides the strings), or null, or a nested record's
		// '{' or null: what is written next stays within end.
		if end-at < len(f.Name)+len(s)+8 {
			return at, false
		}
		*(*byte)(unsafe.Add(out, at)) = sep
		*(*byte)(unsafe.Add(out, at+1)) = '"'
		if !copyPlain(unsafe.Add(out, at+2), f.Name) {
			return at, false
		}
		at += 2 + len(f.Name)
		put2(out, at, '"'|':'<<8)
		at += 2
		switch v := f.Value.(type) {
		case string:
			*(*byte)(unsafe.Add(out, at)) = '"'
			if !copyPlain(unsafe.Add(out, at+1), s) {
				return at, false
			}
			at += 1 + len(s)
			*(*byte)(unsafe.Add(out, at)) = '"'
			at++
		case nil:
			put4(out, at, 'n'|'u'<<8|'l'<<16|'l'<<24)
			at += 4
		case *record.Record:
			var ok bool
			if at, ok = putObject(out, at, end, v, depth+1); !ok {
				return at, false
			}
		default:
			return at, false
		}
		sep = ','
	}
	if end-at < 2 {
		return at, false
	}
	if sep == '{' {
		put2(out, at, '{'|'}'<<8)
		return at + 2, true
	}
	*(*byte)(unsafe.Add(out, at)) = '}'
	return at + 1, true
}

// putUint writes u in decimal at out+at, as strconv writes it, and
// returns the offset past it (20 digits at most).
func putUint(out unsafe.Pointer, at int, u uint64) int {
	// The digits are written from the last, two at a time: a division
	// by 100 (a multiplication) and a two-byte copy from digitPairs.
	end := at + decimalLen(u)
	j := end
	for u >= 100 {
		q := u / 100
		j -= 2
		put2(out, j, digitPair(u-q*100))
		u = q
	}
	if u >= 10 {
		put2(out, j-2, digitPair(u))
	} else {
		*(*byte)(unsafe.Add(out, j-1)) = byte('0' + u)
	}
	return end
}

// putSmall is putUint for u below 100 (a syslog facility or severity, a
// count), which takes no call: the call, with the registers appendPlain
// spills around it, cost more than writing the digits.
func putSmall(out unsafe.Pointer, at int, u uint64) int {
	if u < 10 {
		*(*byte)(unsafe.Add(out, at)) = byte('0' + u)
		return at + 1
	}
	*(*byte)(unsafe.Add(out, at)) = byte('0' + u/10)
	*(*byte)(unsafe.Add(out, at+1)) = byte('0' + u%10)
	return at + 2
}

// digitPairs holds the two digits of each number below 100.
const digitPairs = "00010203040506070809" + "10111213141516171819" + "20212223242526272829" +
	"30313233343536373839" + "40414243444546474849" + "50515253545556575859" + "60616263646566676869" +
	"70717273747576777879" + "80818283848586878889" + "90919293949596979899"

// digitPair returns the two digits of n, below 100, as put2 writes them.
func digitPair(n uint64) uint16 {
	return binary.LittleEndian.Uint16((*[2]byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(digitPairs)), 2*n))[:])
}

func put2(p unsafe.Pointer, i int, x uint16) {
	binary.LittleEndian.PutUint16((*[2]byte)(unsafe.Add(p, i))[:], x)
}

// pow10 holds the powers of ten a uint64 holds.
var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// decimalLen returns the number of decimal digits of u: its bit length
// times log10(2) (1233/4096) is that number less one, or the number
// itself (and 0 is written with one digit).
func decimalLen(u uint64) int {
	t := bits.Len64(u) * 1233 >> 12
	if t > 0 && u < pow10[t] {
		return t
	}
	return t + 1
}

// putMillis writes the decimal millisDecimal found (m thousandths,
// negative when neg) at out+at, as appendMillisDecimal writes it, and
// returns the offset past it.
func putMillis(out unsafe.Pointer, at int, m uint64, neg bool) int {
	if neg {
		*(*byte)(unsafe.Add(out, at)) = '-'
		at++
	}
	at = putUint(out, at, m/1000)
	frac := m % 1000
	if frac == 0 {
		return at
	}
	// '.' and three digits, of which the trailing zeros are left out.
	put4(out, at, '.'|uint32('0'+frac/100)<<8|uint32('0'+frac/10%10)<<16|uint32('0'+frac%10)<<24)
	switch {
	case frac%100 == 0:
		return at + 2
	case frac%10 == 0:
		return at + 3
	}
	return at + 4
}

// copyPlain copies s to out and reports whether every byte of s is one
// JSON writes as it is (see jsonenc.EscapeMask): s is checked as it is
// copied, a word at a time, where a check then a copy read it twice.
func copyPlain(out unsafe.Pointer, s string) bool {
	src := unsafe.Pointer(unsafe.StringData(s))
	var escapes uint64
	switch {
	case len(s) >= 8:
		j := 0
		for ; j < len(s)-16; j += 16 {
			x, y := get8(src, j), get8(src, j+8)
			put8(out, j, x)
			put8(out, j+8, y)
			escapes |= jsonenc.EscapeMask(x) | jsonenc.EscapeMask(y)
		}
		if j < len(s)-8 {
			x := get8(src, j)
			put8(out, j, x)
			escapes |= jsonenc.EscapeMask(x)
		}
		// The last word ends at s's end, overlapping the one before.
		x := get8(src, len(s)-8)
		put8(out, len(s)-8, x)
		escapes |= jsonenc.EscapeMask(x)
	case len(s) >= 4:
		x, y := get4(src, 0), get4(src, len(s)-4)
		put4(out, 0, x)
		put4(out, len(s)-4, y)
		escapes = jsonenc.EscapeMask(uint64(x) | uint64(y)<<32)
	case len(s) > 0:
		// One to three bytes: the first, middle and last are them all
		// (the word's other bytes spaces, which are plain).
		h := len(s) / 2
		c0, c1, c2 := s[0], s[h], s[len(s)-1]
		*(*byte)(out) = c0
		*(*byte)(unsafe.Add(out, h)) = c1
		*(*byte)(unsafe.Add(out, len(s)-1)) = c2
		escapes = jsonenc.EscapeMask(uint64(c0) | uint64(c1)<<8 | uint64(c2)<<16 | 0x2020202020000000)
	}
	return escapes&0x8080808080808080 == 0
}

// get8 and put8 read and write the 8 bytes at p+i as a little-endian
// word, get4 and put4 the 4 bytes there: one unaligned load or store
// where the machine has them (amd64, arm64; the compiler joins the bytes),
// and no bounds check, which the caller's room check stands for. (Written
// out rather than through encoding/binary, whose calls, inlined in these,
// left a no-op instruction behind for each: eight for a short string's
// copy.)
func get8(p unsafe.Pointer, i int) uint64 {
	b := (*[8]byte)(unsafe.Add(p, i))
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func put8(p unsafe.Pointer, i int, x uint64) {
	b := (*[8]byte)(unsafe.Add(p, i))
	b[0], b[1], b[2], b[3] = byte(x), byte(x>>8), byte(x>>16), byte(x>>24)
	b[4], b[5], b[6], b[7] = byte(x>>32), byte(x>>40), byte(x>>48), byte(x>>56)
}

func get4(p unsafe.Pointer, i int) uint32 {
	b := (*[4]byte)(unsafe.Add(p, i))
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func put4(p unsafe.Pointer, i int, x uint32) {
	b := (*[4]byte)(unsafe.Add(p, i))
	b[0], b[1], b[2], b[3] = byte(x), byte(x>>8), byte(x>>16), byte(x>>24)
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
		// Into dst's spare room, as a pipeline's output buffer has.
		if n, ok := putObject(unsafe.Pointer(unsafe.SliceData(dst)), len(dst), cap(dst), v, depth+1); ok {
			return dst[:n], nil
		}
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
	m, neg, ok := millisDecimal(f)
	if !ok {
		return dst, false
	}
	if neg {
		dst = append(dst, '-')
	}
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

// millisDecimal returns f's magnitude in thousandths, and its sign, when
// appendMillisDecimal writes it.
func millisDecimal(f float64) (m uint64, neg, ok bool) {
	a := math.Abs(f)
	if !(a >= 0.001 && a < 1e9) {
		return 0, false, false
	}
	n := math.Round(a * 1000)
	if n/1000 != a { // the division is exact to the nearest double
		return 0, false, false
	}
	return uint64(n), f < 0, true
}
