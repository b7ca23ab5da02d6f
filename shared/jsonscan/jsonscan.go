// Package jsonscan reads JSON text from a []byte without reflection: a pull
// scanner that the caller walks through the document shape it expects,
// reading each value as the kind it wants and skipping the rest. Hot paths
// (the Firehose request, CloudWatch Logs payloads, DynamoDB stream events)
// decode their fixed wire shapes with it instead of encoding/json, whose
// reflection and per-field allocation cost more than the work they feed.
//
// What it reads, it reads exactly as encoding/json would: the same grammar
// (it rejects what json.Valid rejects, nesting included), the same string
// unescaping (\u escapes, surrogate pairs, each byte of invalid UTF-8 and
// each lone surrogate becoming U+FFFD) and the same number syntax and
// ranges for int64 and float64. It does not build a tree: strings without
// escapes come back as slices of the input, others are unescaped into a
// buffer the caller reuses.
//
//	s := jsonscan.New(data)
//	for key := range s.Object() {
//		switch string(key) {
//		case "name":
//			name, _ = s.String(&buf) // an error is also kept: see Err
//		case "tags":
//			for range s.Array() {
//				tag, _ := s.String(buf)
//				...
//			}
//		} // a member the body does not read is skipped (and validated)
//	}
//	if err := s.End(); err != nil { ... }
//
// Errors are sticky: after the first one every read returns it, iteration
// stops and Err reports it, so a decoder checks once at the end. Every
// error names what was expected and the byte offset where it was not found.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"iter"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is how deeply arrays and objects may nest: encoding/json's limit,
// so that the scanner rejects exactly what json.Valid rejects, and no input
// can make it use unbounded memory.
const MaxDepth = 10000

// Kind is the kind of a JSON value, told by its first byte.
type Kind uint8

// The kinds of JSON values. Invalid is returned where no value starts: at
// the end of the input or at a byte no value begins with.
const (
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

// String names the kind as error messages do ("a string").
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "a boolean"
	case Number:
		return "a number"
	case String:
		return "a string"
	case Array:
		return "an array"
	case Object:
		return "an object"
	}
	return "no value"
}

// kindOf is the kind of value each byte starts.
var kindOf = func() (t [256]Kind) {
	t['n'] = Null
	t['t'], t['f'] = Bool, Bool
	t['-'] = Number
	for c := '0'; c <= '9'; c++ {
		t[c] = Number
	}
	t['"'] = String
	t['['] = Array
	t['{'] = Object
	return t
}()

// Error is what the scanner reports: a syntax error, or a value of another
// kind than the caller asked for.
type Error struct {
	// Offset is the byte offset in the input where Expected was not found.
	Offset int
	// Expected is what the grammar or the caller wanted there ("a string",
	// "',' or '}' after an object member").
	Expected string
	// Found is what was there ("a number", "'x'", "end of input").
	Found string
}

// Error implements error.
func (e *Error) Error() string {
	return "offset " + strconv.Itoa(e.Offset) + ": expected " + e.Expected + ", found " + e.Found
}

// Scanner reads one JSON text. The zero value scans an empty input; Reset
// points it at another text and keeps its buffers, so one Scanner can serve
// every invocation.
type Scanner struct {
	data  []byte
	pos   int
	depth int // arrays and objects open
	err   error
	key   []byte   // unescaped object keys that need it
	stack []uint64 // Skip's open containers, one bit each: 1 for an object
}

// New returns a Scanner reading data.
func New(data []byte) *Scanner {
	s := &Scanner{}
	s.Reset(data)
	return s
}

// Reset makes s read data from its start, forgetting any error.
func (s *Scanner) Reset(data []byte) {
	s.data, s.pos, s.depth, s.err = data, 0, 0, nil
}

// ResetNested is Reset for a value that sits depth arrays and objects
// deep in a larger text, data starting at the value (and possibly going on
// past it): the nesting limit counts as it would in the whole text, so a
// reader of one part refuses what a reader of the whole would. Another
// scanner reading the whole text hands a value to it this way, and Seek
// takes it back.
func (s *Scanner) ResetNested(data []byte, depth int) {
	s.Reset(data)
	s.depth = depth
}

// Depth is how many arrays and objects are open around the scanner.
func (s *Scanner) Depth() int { return s.depth }

// Seek moves the scanner to offset, which must be after the value that
// comes next and no further: the end of that value as another scanner
// read it (ResetNested). The scanner then goes on as if it had read the
// value itself; without an error from that scanner, the value was valid.
func (s *Scanner) Seek(offset int) {
	if s.err == nil && offset >= s.pos && offset <= len(s.data) {
		s.pos = offset
	}
}

// Offset is the byte offset of the scanner in its input: just after the
// last value read (or before the whitespace ahead, once Peek looked).
func (s *Scanner) Offset() int { return s.pos }

// Err is the first error met, if any.
func (s *Scanner) Err() error { return s.err }

// Fail records err as the scanner's error unless it has one already: a
// decoder uses it for what the grammar allows but it does not (a missing
// member, a value out of range), so that iteration stops and Err reports
// the first problem.
func (s *Scanner) Fail(err error) {
	if s.err == nil && err != nil {
		s.err = err
	}
}

// syntax fails with a syntax error at offset i.
func (s *Scanner) syntax(i int, expected string) error {
	s.Fail(&Error{Offset: i, Expected: expected, Found: s.foundByte(i)})
	return s.err
}

// foundByte describes the byte at offset i for a syntax error.
func (s *Scanner) foundByte(i int) string {
	if i >= len(s.data) {
		return "end of input"
	}
	c := s.data[i]
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRuneToASCII(rune(c))
	}
	return "byte 0x" + strconv.FormatUint(uint64(c), 16)
}

// foundValue describes the value at offset i for a kind mismatch.
func (s *Scanner) foundValue(i int) string {
	if i < len(s.data) {
		if k := kindOf[s.data[i]]; k != Invalid {
			return k.String()
		}
	}
	return s.foundByte(i)
}

// skipWS moves past JSON whitespace.
func (s *Scanner) skipWS() {
	s.pos = SkipSpace(s.data, s.pos)
}

// SkipSpace returns the offset of the first byte from d[i] on that is not
// JSON whitespace (or len(d)).
func SkipSpace(d []byte, i int) int {
	for i < len(d) {
		if c := d[i]; c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return i
		}
		i++
	}
	return i
}

// Peek returns the kind of the next value without reading it; Invalid at
// the end of the input, at a byte no value starts with, or after an error.
func (s *Scanner) Peek() Kind {
	if s.err != nil {
		return Invalid
	}
	s.skipWS()
	if s.pos >= len(s.data) {
		return Invalid
	}
	return kindOf[s.data[s.pos]]
}

// at moves to the next value and reports whether it is of kind k; if not,
// it fails saying that a value of kind k was expected.
func (s *Scanner) at(k Kind) bool {
	// The scanner is nearly always right at the value (the whitespace
	// before it skipped), and of the kind wanted: one test, then.
	if i := s.pos; i < len(s.data) && kindOf[s.data[i]] == k && s.err == nil {
		return true
	}
	return s.atSlow(k)
}

func (s *Scanner) atSlow(k Kind) bool {
	if s.err != nil {
		return false
	}
	s.skipWS()
	if s.pos < len(s.data) && kindOf[s.data[s.pos]] == k {
		return true
	}
	want := k.String()
	if k == Bool {
		want = "true or false"
	}
	s.Fail(&Error{Offset: s.pos, Expected: want, Found: s.foundValue(s.pos)})
	return false
}

// Object iterates over the members of the object that comes next, yielding
// each key (unescaped; valid until the next key is read, a nested
// object's included). The loop body reads the
// member's value; a value it leaves unread is skipped. It stops at the
// object's end or at the first error (see Err). Breaking out of the loop
// skips the rest of the object, so the scanner is after it either way.
func (s *Scanner) Object() iter.Seq[[]byte] {
	// A closure calling the method directly, not the method value: inlined
	// into the range loop it lets the loop body stay on the stack.
	return func(yield func([]byte) bool) { s.members(yield) }
}

func (s *Scanner) members(yield func(key []byte) bool) {
	if !s.open(Object) {
		return
	}
	d := s.data
	s.skipWS()
	if s.pos < len(d) && d[s.pos] == '}' {
		s.close()
		return
	}
	for {
		key, ok := s.memberKey()
		if !ok {
			return
		}
		mark := s.pos
		if !yield(key) {
			s.skipRest(Object, mark)
			return
		}
		if !s.nextMember(Object, mark) {
			return
		}
	}
}

// FirstKey and NextKey read an object as Object does, without an
// iterator, for a decoder's hottest loop: Object's loop body is a
// closure, which every member calls through and whose variables live
// behind a pointer.
//
//	for key, ok := s.FirstKey(); ok; key, ok = s.NextKey() {
//		// read the member's value
//	}
//
// FirstKey reads the '{' opening the object that comes next and its first
// key (valid until the next key is read, as Object's), leaving the
// scanner at the member's value; NextKey, called once the value is read,
// reads the ',' and the next key. Each reports false at the end of the
// object, the scanner then after it, and on an error (see Err). Unlike
// Object's loop body, the caller must read every value (Skip one it does
// not want): NextKey fails at a value left unread.
func (s *Scanner) FirstKey() ([]byte, bool) {
	if !s.open(Object) {
		return nil, false
	}
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.close()
		return nil, false
	}
	return s.memberKey()
}

// NextKey reads the next key of the object FirstKey started: see FirstKey.
func (s *Scanner) NextKey() ([]byte, bool) {
	if s.err != nil || !s.after('}') {
		return nil, false
	}
	return s.memberKey()
}

// after reads what follows a member or element whose value was read: a
// ',' (true, the scanner then past the whitespace after it, at the next
// one) or end, the container's closing '}' or ']' (false, the scanner
// after it). Anything else is a syntax error.
func (s *Scanner) after(end byte) bool {
	d := s.data
	i := SkipSpace(d, s.pos)
	if i < len(d) {
		switch d[i] {
		case ',':
			s.pos = SkipSpace(d, i+1)
			return true
		case end:
			s.pos = i
			s.close()
			return false
		}
	}
	s.pos = i
	if end == '}' {
		s.syntax(i, "',' or '}' after an object member")
	} else {
		s.syntax(i, "',' or ']' after an array element")
	}
	return false
}

// Key is an object key prepared for NextKeyIs: its text as a member
// starts with it, quotes and colon included, and that text's first
// sixteen bytes as two words and masks, which compare a key of up to 13
// bytes in one test. MembersAsIs also keeps in it the keys of the
// objects nested in the value it read last after the key (see
// nestedKeys).
type Key struct {
	text           string
	w0, w1, m0, m1 uint64
	nested         *nestedKeys
}

// NewKey prepares key for NextKeyIs, reporting false when it cannot
// serve: key holds a quote, a backslash or a control byte, so that its
// value written between quotes is not its text.
func NewKey(key string) (Key, bool) {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c == '"' || c == '\\' {
			return Key{}, false
		}
	}
	k := Key{text: `"` + key + `":`}
	var w, m [16]byte
	n := copy(w[:], k.text)
	for i := range n {
		m[i] = 0xff
	}
	k.w0, k.w1 = binary.LittleEndian.Uint64(w[:]), binary.LittleEndian.Uint64(w[8:])
	k.m0, k.m1 = binary.LittleEndian.Uint64(m[:]), binary.LittleEndian.Uint64(m[8:])
	return k, true
}

// Len is the length of k's text: its key between quotes, and the colon.
func (k *Key) Len() int { return len(k.text) }

// At reports whether d holds k's text at offset i (at least 0): its key
// between quotes, the colon right after it. A decoder of a fixed layout
// (a Firehose request's records) looks for its keys so.
func (k *Key) At(d []byte, i int) bool {
	// Small enough to be inlined: a key of up to 13 bytes, not near the
	// input's end, is one test of two words.
	if len(k.text) <= 16 && i+16 <= len(d) {
		w := d[i : i+16 : i+16]
		return (binary.LittleEndian.Uint64(w)^k.w0)&k.m0|(binary.LittleEndian.Uint64(w[8:])^k.w1)&k.m1 == 0
	}
	return k.atSlow(d, i)
}

// atSlow is At for a long key, or near the end of d.
func (k *Key) atSlow(d []byte, i int) bool {
	n := len(k.text)
	return i+n <= len(d) && string(d[i:i+n]) == k.text
}

// NextKeyIs is NextKey for a decoder that expects the next member's key
// to be k, as a stream of documents with the same keys has it: if the
// object goes on with that key written as it is between quotes, the colon
// right after it, NextKeyIs reads the ',', the key and the colon, leaving
// the scanner at the member's value, and returns the offset of the key's
// opening quote. Otherwise (another key, the key escaped or spaced from
// its colon, the object's end, an error) it reads nothing and reports
// false: NextKey reads the member then, whatever it is. The key needs no
// scanning for its end, only comparing: a word or two.
func (s *Scanner) NextKeyIs(k *Key) (at int, ok bool) {
	at, value, ok := s.nextKeyAt(k)
	if ok {
		s.pos = value
	}
	return at, ok
}

// FirstKeyIs is FirstKey for a decoder that expects the object's first
// key to be k, as NextKeyIs is NextKey: if an object comes next and its
// first key is k, written as it is between quotes with the colon right
// after it, FirstKeyIs reads the '{', the key and the colon, leaving the
// scanner at the member's value, and returns the offset of the key's
// opening quote. Otherwise it reads nothing and reports false: FirstKey
// reads the object then, whatever it is.
func (s *Scanner) FirstKeyIs(k *Key) (at int, ok bool) {
	at, value, ok := s.firstKeyAt(k)
	if ok {
		s.depth++
		s.pos = value
	}
	return at, ok
}

// FirstStringIs is NextStringIs for the first member of an object: if an
// object comes next whose first key is k (as FirstKeyIs finds it) and
// whose first value is a string of ASCII without control bytes or
// escapes, it reads the '{' and that member and returns the string's
// text. Otherwise it reads nothing and reports false.
func (s *Scanner) FirstStringIs(k *Key) ([]byte, bool) {
	_, i, ok := s.firstKeyAt(k)
	if !ok || i >= len(s.data) || s.data[i] != '"' {
		return nil, false
	}
	end, ok := asciiEnd(s.data, i+1)
	if !ok {
		return nil, false
	}
	s.depth++
	s.pos = end + 1
	return s.data[i+1 : end], true
}

// firstKeyAt finds, without reading it, the first member of the object
// that comes next when its key is k (see FirstKeyIs): the offsets of its
// key's opening quote and of its value, after the white space before it.
func (s *Scanner) firstKeyAt(k *Key) (at, value int, ok bool) {
	if s.err != nil || s.depth >= MaxDepth {
		return 0, 0, false
	}
	d := s.data
	i := SkipSpace(d, s.pos)
	if i >= len(d) || d[i] != '{' {
		return 0, 0, false
	}
	if i++; i < len(d) && d[i] != '"' {
		i = SkipSpace(d, i)
	}
	if !k.At(d, i) {
		return 0, 0, false
	}
	j := i + len(k.text)
	if j >= len(d) || d[j] <= ' ' {
		j = SkipSpace(d, j)
	}
	return i, j, true
}

// NextStringIs is NextKeyIs for a member whose value the decoder expects
// to be a string, as StringASCII reads it: if the next member has the key
// k (as NextKeyIs finds it) and its value is a string of ASCII without
// control bytes or escapes, NextStringIs reads the member and returns the
// string's text, a slice of the input (its value too). Otherwise it reads
// nothing and reports false. A decoder reading the members it expects
// so needs one call a member.
func (s *Scanner) NextStringIs(k *Key) ([]byte, bool) {
	_, i, ok := s.nextKeyAt(k)
	if !ok || i >= len(s.data) || s.data[i] != '"' {
		return nil, false
	}
	end, ok := asciiEnd(s.data, i+1)
	if !ok {
		return nil, false
	}
	s.pos = end + 1
	return s.data[i+1 : end], true
}

// nextKeyAt finds, without reading it, the member that comes next when
// its key is k (see NextKeyIs): the offsets of its key's opening quote
// and of its value, after the white space before it.
func (s *Scanner) nextKeyAt(k *Key) (at, value int, ok bool) {
	d := s.data
	i := s.pos
	if s.err != nil {
		return 0, 0, false
	}
	if i >= len(d) || d[i] != ',' { // a value's comma nearly always follows it
		if i = SkipSpace(d, i); i >= len(d) || d[i] != ',' {
			return 0, 0, false
		}
	}
	if i++; i < len(d) && d[i] != '"' {
		i = SkipSpace(d, i)
	}
	if !k.At(d, i) {
		return 0, 0, false
	}
	j := i + len(k.text)
	if j >= len(d) || d[j] <= ' ' {
		j = SkipSpace(d, j)
	}
	return i, j, true
}

// Array iterates over the elements of the array that comes next, yielding
// each one's index. The loop body reads the element; an element it leaves
// unread is skipped. Errors and breaking out behave as for Object.
func (s *Scanner) Array() iter.Seq[int] {
	return func(yield func(int) bool) { s.elements(yield) }
}

func (s *Scanner) elements(yield func(i int) bool) {
	if !s.open(Array) {
		return
	}
	d := s.data
	s.skipWS()
	if s.pos < len(d) && d[s.pos] == ']' {
		s.close()
		return
	}
	for i := 0; ; i++ {
		mark := s.pos
		if !yield(i) {
			s.skipRest(Array, mark)
			return
		}
		if !s.nextMember(Array, mark) {
			return
		}
	}
}

// FirstElement and NextElement read an array as Array does, without an
// iterator, for a decoder's hottest loop (as FirstKey and NextKey read
// an object): Array's loop body is a closure, which every element calls
// through.
//
//	for ok := s.FirstElement(); ok; ok = s.NextElement() {
//		// read the element
//	}
//
// FirstElement reads the '[' opening the array that comes next, leaving
// the scanner at its first element; NextElement, called once the element
// is read, reads the ',' before the next one. Each reports false at the
// end of the array, the scanner then after it, and on an error (see
// Err). Unlike Array's loop body, the caller must read every element
// (Skip one it does not want): NextElement fails at an element left
// unread.
func (s *Scanner) FirstElement() bool {
	if !s.open(Array) {
		return false
	}
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.close()
		return false
	}
	return true
}

// NextElement moves to the next element of the array FirstElement
// started: see FirstElement.
func (s *Scanner) NextElement() bool {
	return s.err == nil && s.after(']')
}

// open reads the '{' or '[' starting a container of kind k.
func (s *Scanner) open(k Kind) bool {
	if !s.at(k) {
		return false
	}
	if s.depth >= MaxDepth {
		s.Fail(&Error{Offset: s.pos, Expected: "at most " + strconv.Itoa(MaxDepth) + " nested arrays and objects", Found: "deeper nesting"})
		return false
	}
	s.depth++
	s.pos++
	return true
}

// close reads the '}' or ']' ending the innermost container.
func (s *Scanner) close() {
	s.pos++
	s.depth--
}

// memberKey reads an object key and the colon after it, leaving the
// scanner at the member's value.
func (s *Scanner) memberKey() (key []byte, ok bool) {
	d := s.data
	i := s.pos
	if i >= len(d) || d[i] != '"' {
		s.syntax(i, "'\"' starting an object key")
		return nil, false
	}
	// Nearly every key is printable ASCII of at most 31 bytes (a
	// Firehose record has approximateArrivalTimestamp): a word or a few
	// looked at, and none of readString's cases.
	for k := i + 1; k+8 <= len(d) && k <= i+25; k += 8 {
		x := binary.LittleEndian.Uint64(d[k:])
		m := special(x)
		if m == 0 {
			if x&msb != 0 {
				break
			}
			continue
		}
		n := bits.TrailingZeros64(m) / 8
		if end := k + n; d[end] == '"' && x&(1<<(8*n)-1)&msb == 0 {
			key, ok = d[i+1:end], true
			i = end + 1
		}
		break
	}
	if !ok {
		var grown []byte
		if key, grown, ok = s.readString(s.key[:0]); !ok {
			return nil, false
		}
		s.key = grown[:0] // keep the grown buffer for the next key
		i = s.pos
	}
	// i is kept in a register and s.pos written once: through s, each
	// step would be a store and a load.
	if i >= len(d) || d[i] != ':' {
		if i = SkipSpace(d, i); i >= len(d) || d[i] != ':' {
			s.pos = i
			s.syntax(i, "':' after an object key")
			return nil, false
		}
	}
	s.pos = SkipSpace(d, i+1)
	return key, true
}

// nextMember finishes a member or element whose value started at mark
// (skipping the value if the loop body did not read it) and moves to the
// next one, reporting whether there is one.
func (s *Scanner) nextMember(k Kind, mark int) bool {
	if s.err != nil {
		return false
	}
	if s.pos == mark && s.Skip() != nil {
		return false
	}
	if k == Object {
		return s.after('}')
	}
	return s.after(']')
}

// skipRest skips what is left of a container after the loop body broke out
// at the value that started at mark.
func (s *Scanner) skipRest(k Kind, mark int) {
	for s.nextMember(k, mark) {
		if k == Object {
			if _, ok := s.memberKey(); !ok {
				return
			}
		}
		mark = s.pos
	}
}

// String reads the string that comes next, unescaped. A string without
// escapes or invalid UTF-8 is returned as a slice of the input, without
// copying. Any other is unescaped into *buf, which is emptied first and
// keeps what it grew to, so one buffer serves every call; with a nil buf
// the value gets a new slice. Either way the result must not be written
// to: it may be the input itself.
func (s *Scanner) String(buf *[]byte) ([]byte, error) {
	if !s.at(String) {
		return nil, s.err
	}
	var scratch []byte
	if buf == nil {
		buf = &scratch
	}
	v, grown, _ := s.readString((*buf)[:0])
	*buf = grown
	return v, s.err
}

// StringASCII is String that also reports whether the string came in
// ASCII alone and without escapes: its value is then its text as it is
// in the input, which JSON writes back byte for byte, so that a decoder
// sizing what it will write needs no second look at it.
func (s *Scanner) StringASCII(buf *[]byte) (v []byte, ascii bool, err error) {
	// at's test written out: at itself is just too large to be inlined,
	// and a decoder calls this for nearly every value.
	if i := s.pos; i >= len(s.data) || s.data[i] != '"' || s.err != nil {
		if !s.atSlow(String) {
			return nil, false, s.err
		}
	}
	start := s.pos + 1
	if end, ok := asciiEnd(s.data, start); ok {
		s.pos = end + 1
		return s.data[start:end], true, nil
	}
	v, err = s.String(buf)
	return v, false, err
}

// AppendString is String for a decoder that keeps many values at once: a
// string that must be unescaped is appended to *buf, after what it holds,
// instead of replacing it. Every value read so stays valid until the
// caller empties the buffer (a value written before *buf had to grow
// keeps the array it was written to).
func (s *Scanner) AppendString(buf *[]byte) ([]byte, error) {
	if !s.at(String) {
		return nil, s.err
	}
	v, grown, _ := s.readString(*buf)
	*buf = grown
	return v, s.err
}

// readString reads the string at s.pos (which is '"'). A string that
// needs unescaping is appended to buf, which comes back grown; any other
// is a slice of the input.
func (s *Scanner) readString(buf []byte) (v, grown []byte, ok bool) {
	start := s.pos + 1
	end, high, plain := plainEnd(s.data, start)
	var flags uint8
	if high {
		flags = flagHigh
	}
	out := buf
	if !plain {
		if end, flags, out, ok = s.scanString(start, end, flags, buf, true); !ok {
			return nil, buf, false
		}
	}
	s.pos = end + 1
	raw := s.data[start:end]
	switch {
	case flags == 0:
		return raw, buf, true
	case flags == flagHigh:
		if utf8.Valid(raw) {
			return raw, buf, true
		}
		grown = Unescape(buf, raw)
	case flags&flagHigh == 0:
		grown = out
	default:
		// The runs between escapes were copied as they are: the value is
		// right only if they are valid UTF-8, which they are exactly when
		// it is (an escape writes whole characters).
		if grown = out; !utf8.Valid(out[len(buf):]) {
			grown = Unescape(buf, raw)
		}
	}
	return grown[len(buf):], grown, true
}

// stringEnd checks the text of the string starting at offset start (after
// its opening quote) and returns the offset of its closing quote and
// whether the text has an escape.
func (s *Scanner) stringEnd(start int) (end int, escaped, ok bool) {
	end, _, plain := plainEnd(s.data, start)
	if plain {
		return end, false, true
	}
	end, flags, _, ok := s.scanString(start, end, 0, nil, false)
	return end, flags&flagEscape != 0, ok
}

// RawString reads the string that comes next and returns its text between
// the quotes as it is in the input (a slice of it), escapes and all, and
// whether it has any escape. A decoder that may never need the value (a
// record's base64 data, say) keeps the raw text and calls Unescape later.
func (s *Scanner) RawString() (raw []byte, escaped bool, err error) {
	if !s.at(String) {
		return nil, false, s.err
	}
	start := s.pos + 1
	end, escaped, ok := s.stringEnd(start)
	if !ok {
		return nil, false, s.err
	}
	s.pos = end + 1
	return s.data[start:end], escaped, nil
}

// Flags scanString reports about a string's text.
const (
	flagEscape = 1 << iota // a backslash escape
	flagHigh               // a byte of 0x80 or more
)

// SWAR constants: one byte value repeated in each byte of a uint64.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special returns a mask of the bytes of the 8 in x that may end a run of
// plain string text: a quote, a backslash or a control character. The
// lowest byte marked is always one of them (above it there may be false
// marks), so the mask's trailing zeros tell where the run ends. Bytes of
// 0x80 or more are never marked.
func special(x uint64) uint64 {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return ((q-lsb)&^q | (b-lsb)&^b | (x-lsb*0x20)&^x) & msb
}

// plainEnd finds the end of a string without escapes or control bytes,
// as nearly every string is, starting at offset i of d (after its opening
// quote): the offset of its closing quote, and whether a byte of its text
// is 0x80 or more. Where a backslash, a control byte or the end of d comes
// first, ok is false and end is where: scanString goes on from there.
//
// Short strings end within a few words, which are looked at eight bytes
// at a time: two, or four for StringASCII, whose callers read values of
// events (a name, a time, a URL path), where the search after two words
// was 1% of firehose-json's instructions; the text of log messages and
// long ids past 32 bytes (CloudWatch Logs) would pay 2% more for those two
// words. Longer ones, such as log text, are searched: the closing
// quote with the vectorised bytes.IndexByte, then the text before it for
// a backslash (vectorised again) and for control bytes (controlOrHigh); a
// byte or word loop over long text takes several times as long. It is
// apart from scanString, and small, so that it keeps its few values in
// registers.
func plainEnd(d []byte, i int) (end int, high, ok bool) {
	return plainEndWords(d, i, 2)
}

// asciiEnd is plainEnd for the readers of strings of ASCII alone
// (StringASCII, NextStringIs, MembersAsIs): the offset of the closing
// quote of the string whose text starts at offset i of d, reporting
// false unless that text is ASCII without control bytes or backslashes.
// A byte of 0x80 or more stops it as a backslash does, which makes a word
// a few operations cheaper to look at than plainEnd's (see notASCIIText).
// It looks at four words before it searches (see plainEnd): the values
// of events (a name, a time, a URL path) fit.
func asciiEnd(d []byte, i int) (int, bool) {
	// Two words a round, which share the constants and the bounds check.
	for n := 0; n < 2 && i+16 <= len(d); n++ {
		w := d[i : i+16 : i+16]
		if m := notASCIIText(binary.LittleEndian.Uint64(w)); m != 0 {
			k := i + bits.TrailingZeros64(m)/8
			return k, d[k] == '"'
		}
		if m := notASCIIText(binary.LittleEndian.Uint64(w[8:])); m != 0 {
			k := i + 8 + bits.TrailingZeros64(m)/8
			return k, d[k] == '"'
		}
		i += 16
	}
	if i+8 <= len(d) { // near the end of d, as a document's last string is
		if m := notASCIIText(binary.LittleEndian.Uint64(d[i : i+8 : i+8])); m != 0 {
			k := i + bits.TrailingZeros64(m)/8
			return k, d[k] == '"'
		}
		i += 8
	}
	k := bytes.IndexByte(d[i:], '"')
	if k < 0 {
		return 0, false
	}
	text := d[i : i+k]
	if bytes.IndexByte(text, '\\') >= 0 {
		return 0, false
	}
	if j, high := controlOrHigh(text); j < k || high {
		return 0, false
	}
	return i + k, true
}

// notASCIIText returns a mask of the bytes of the 8 in x that may not be
// in the text of a string asciiEnd reads: a quote, a backslash, a control
// byte or a byte of 0x80 or more. The lowest byte marked is always one of
// them: below it every byte is printable ASCII, from which taking 0x20,
// or 1 once a quote or backslash is cleared by the XOR, borrows nothing
// and sets no top bit, while each of these bytes sets its own top bit
// (as special marks its bytes, without masking out those of 0x80 or
// more).
func notASCIIText(x uint64) uint64 {
	return ((x - lsb*0x20) | (x ^ lsb*'"' - lsb) | (x ^ lsb*'\\' - lsb) | x) & msb
}

// plainEndWords is plainEnd looking at up to words words before it
// searches.
func plainEndWords(d []byte, i, words int) (end int, high, ok bool) {
	var h uint64
	for range words {
		if i+8 > len(d) {
			break
		}
		x := binary.LittleEndian.Uint64(d[i:])
		if m := special(x); m != 0 {
			k := bits.TrailingZeros64(m) / 8
			h |= x & (1<<(8*k) - 1)
			return i + k, h&msb != 0, d[i+k] == '"'
		}
		h |= x
		i += 8
	}
	k := bytes.IndexByte(d[i:], '"')
	if k < 0 {
		return i, h&msb != 0, false
	}
	if k < 32 && i+k+8 <= len(d) {
		// A medium string (a timestamp, a URL): the few words up to its
		// quote are looked at as the first two were, which costs less
		// than two more searches. Every word read ends before len(d),
		// the quote being at i+k, and the quote at the latest stops it.
		for {
			x := binary.LittleEndian.Uint64(d[i:])
			if m := special(x); m != 0 {
				n := bits.TrailingZeros64(m) / 8
				h |= x & (1<<(8*n) - 1)
				return i + n, h&msb != 0, d[i+n] == '"'
			}
			h |= x
			i += 8
		}
	}
	text := d[i : i+k]
	if b := bytes.IndexByte(text, '\\'); b >= 0 {
		text = text[:b]
	}
	j, th := controlOrHigh(text)
	return i + j, h&msb != 0 || th, j == k
}

// scanString checks the text of a string starting at offset start (after
// its opening quote), from offset i on (where plainEnd stopped, flags
// saying what it saw before), and returns the offset of its closing
// quote. With unescape set it also appends the string's value to dst once
// it meets an escape (flagEscape), copying the runs between escapes as
// they are: one pass over text that has to be unescaped. It looks at text
// as plainEnd does.
func (s *Scanner) scanString(start, i int, flags uint8, dst []byte, unescape bool) (end int, _ uint8, out []byte, ok bool) {
	d := s.data
	q := -1      // offset of the first quote at or after i, once searched for
	run := start // start of the text not yet appended to dst
	for {
		found := false // whether i is at a quote, a backslash or a control byte
		for range 2 {
			if i+8 > len(d) {
				break
			}
			x := binary.LittleEndian.Uint64(d[i:])
			if m := special(x); m != 0 {
				k := bits.TrailingZeros64(m) / 8
				if x&(1<<(8*k)-1)&msb != 0 {
					flags |= flagHigh
				}
				i += k
				found = true
				break
			}
			if x&msb != 0 {
				flags |= flagHigh
			}
			i += 8
		}
		if !found {
			if q < i {
				if k := bytes.IndexByte(d[i:], '"'); k >= 0 {
					q = i + k
				} else {
					q = len(d) // no closing quote: a bad byte before the end is still the first error
				}
			}
			text := d[i:q]
			if k := bytes.IndexByte(text, '\\'); k >= 0 {
				text = text[:k]
			}
			j, high := controlOrHigh(text)
			if high {
				flags |= flagHigh
			}
			i += j
		}
		if i >= len(d) {
			s.syntax(i, "'\"' closing a string")
			return 0, 0, dst, false
		}
		switch d[i] {
		case '"':
			if unescape && flags&flagEscape != 0 {
				dst = append(dst, d[run:i]...)
			}
			return i, flags, dst, true
		case '\\':
		default: // a control byte
			s.syntax(i, "a character of a string (control characters must be escaped)")
			return 0, 0, dst, false
		}
		flags |= flagEscape
		if unescape {
			dst = append(dst, d[run:i]...)
		}
		if i+1 >= len(d) {
			s.syntax(i+1, "an escaped character")
			return 0, 0, dst, false
		}
		switch e := d[i+1]; e {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			if unescape {
				dst = append(dst, unescaped[e])
			}
			i += 2
		case 'u':
			for j := i + 2; j < i+6; j++ {
				if j >= len(d) || unhex(d[j]) < 0 {
					s.syntax(j, "a hexadecimal digit in a \\u escape")
					return 0, 0, dst, false
				}
			}
			if !unescape {
				i += 6
				break
			}
			r := getu4(d[i:])
			i += 6
			if utf16.IsSurrogate(r) {
				// Joined with a \u escape of the other half that follows,
				// or U+FFFD alone; a malformed escape after it is the next
				// round's error.
				if dec := utf16.DecodeRune(r, getu4(d[i:])); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			s.syntax(i+1, `one of "\/bfnrtu after a backslash`)
			return 0, 0, dst, false
		}
		run = i
	}
}

// unescaped is the byte each one-character escape stands for.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// controlOrHigh returns the index of the first control byte (below 0x20)
// in b, or len(b), and whether b has a byte of 0x80 or more (before that
// control byte, or after it: a control byte is an error, so the flag no
// longer matters then).
func controlOrHigh(b []byte) (int, bool) {
	// One pass for the common case, printable ASCII, 32 bytes a round: a
	// byte below 0x20 borrows into its top bit when 0x20 is taken from it,
	// and a byte of 0x80 or more has that bit already.
	var acc uint64
	if len(b) >= 8 {
		r := b
		for len(r) >= 32 {
			x0 := binary.LittleEndian.Uint64(r)
			x1 := binary.LittleEndian.Uint64(r[8:])
			x2 := binary.LittleEndian.Uint64(r[16:])
			x3 := binary.LittleEndian.Uint64(r[24:])
			acc |= (x0 - lsb*0x20) | x0 | (x1 - lsb*0x20) | x1 | (x2 - lsb*0x20) | x2 | (x3 - lsb*0x20) | x3
			r = r[32:]
		}
		for len(r) >= 8 {
			x := binary.LittleEndian.Uint64(r)
			acc |= (x - lsb*0x20) | x
			r = r[8:]
		}
		x := binary.LittleEndian.Uint64(b[len(b)-8:]) // the last bytes, overlapping
		acc |= (x - lsb*0x20) | x
	} else {
		for _, c := range b {
			acc |= (uint64(c) - 0x20) | uint64(c)
		}
	}
	if acc&msb == 0 {
		return len(b), false
	}
	return controlOrHighSlow(b)
}

// controlOrHighSlow is controlOrHigh for text that is not all printable
// ASCII: UTF-8 text, which it tells from text with a control byte.
func controlOrHighSlow(b []byte) (int, bool) {
	var ctl, high uint64
	r := b
	for len(r) >= 8 {
		x := binary.LittleEndian.Uint64(r)
		// Exact for whether a word has a byte below 0x20: without one
		// nothing borrows, and the lowest one borrows into its own top bit,
		// which is clear in x.
		ctl |= (x - lsb*0x20) &^ x
		high |= x
		r = r[8:]
	}
	for _, c := range r {
		if c < 0x20 {
			ctl |= msb
		}
		high |= uint64(c)
	}
	if ctl&msb != 0 {
		for i, c := range b {
			if c < 0x20 {
				return i, true
			}
		}
	}
	return len(b), high&msb != 0
}

func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		h := unhex(c)
		if h < 0 {
			return -1
		}
		r = r<<4 | h
	}
	return r
}

// Unescape appends to dst the value of a string whose text between the
// quotes is raw (as RawString returns it), exactly as encoding/json decodes
// it: escapes resolved, a \u surrogate pair joined, a lone surrogate and
// each byte of invalid UTF-8 replaced by U+FFFD. Text the scanner did not
// check is unescaped as far as it makes sense, never with a panic.
func Unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		// The run up to the next backslash needs no change when it is
		// valid UTF-8, as log text is: one search and one append.
		// Runs between escapes are often short (\"key\":\"value\"), so
		// the first bytes are looked at one by one before searching.
		j := i
		for lim := min(i+16, len(raw)); j < lim && raw[j] != '\\' && raw[j] < utf8.RuneSelf; j++ {
		}
		if j < len(raw) && raw[j] == '\\' {
			dst = append(dst, raw[i:j]...)
		} else {
			if k := bytes.IndexByte(raw[j:], '\\'); k >= 0 {
				j += k
			} else {
				j = len(raw)
			}
			if run := raw[i:j]; utf8.Valid(run) {
				dst = append(dst, run...)
			} else {
				dst = appendValidUTF8(dst, run)
			}
		}
		if i = j; i >= len(raw) {
			break
		}
		if i+1 >= len(raw) {
			dst = append(dst, '\\')
			break
		}
		switch e := raw[i+1]; e {
		case '"', '\\', '/', '\'':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := getu4(raw[i:])
			if r < 0 {
				dst = append(dst, raw[i:i+2]...)
				break
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if dec := utf16.DecodeRune(r, getu4(raw[i:])); dec != utf8.RuneError {
					dst = utf8.AppendRune(dst, dec)
					i += 6
					continue
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			dst = append(dst, raw[i:i+2]...)
		}
		i += 2
	}
	return dst
}

// appendValidUTF8 appends b with each byte of invalid UTF-8 replaced by
// U+FFFD, as encoding/json replaces them.
func appendValidUTF8(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			dst = append(dst, b[i])
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[i:i+size]...)
		}
		i += size
	}
	return dst
}

// Number reads the number that comes next and returns its text, checked
// against the JSON grammar (a slice of the input).
func (s *Scanner) Number() ([]byte, error) {
	if !s.at(Number) {
		return nil, s.err
	}
	start := s.pos
	end, ok := s.scanNumber(start)
	if !ok {
		return nil, s.err
	}
	s.pos = end
	return s.data[start:end], nil
}

// Int64 reads the number that comes next as an int64, as encoding/json
// decodes into one: a fraction or an exponent, even "1.0" or "1e3", and a
// value out of range are errors.
func (s *Scanner) Int64() (int64, error) {
	if n, ok := s.smallInt(); ok {
		return n, nil
	}
	start := s.pos
	lit, err := s.Number()
	if err != nil {
		return 0, err
	}
	n, perr := strconv.ParseInt(string(lit), 10, 64)
	if perr != nil {
		s.Fail(&Error{Offset: SkipSpace(s.data, start), Expected: "an integer in the int64 range", Found: string(lit)})
		return 0, s.err
	}
	return n, nil
}

// smallInt reads an integer of at most 16 digits (a millisecond
// timestamp, a count) without strconv (SmallInt), reporting whether there
// was one; anything else is left to Int64's general path, which also
// words the errors.
func (s *Scanner) smallInt() (int64, bool) {
	if s.err != nil {
		return 0, false
	}
	s.skipWS()
	n, end, ok := SmallInt(s.data, s.pos)
	if ok {
		s.pos = end
	}
	return n, ok
}

// SmallInt reads the JSON integer of at most 16 digits at offset i of d,
// eight digits at a time, and returns its value and the offset after it.
// ok is false for anything else: no number, a leading zero, more digits,
// a fraction or an exponent, or fewer than 16 bytes of d left after the
// sign (it reads two words), which a Scanner's Int64 then reads or
// rejects. What it takes, Int64 reads to the same value and offset.
func SmallInt(d []byte, i int) (n int64, end int, ok bool) {
	neg := i < len(d) && d[i] == '-'
	if neg {
		i++
	}
	if i+16 > len(d) {
		return 0, i, false // near the end of the input: the general path
	}
	x := binary.LittleEndian.Uint64(d[i:])
	digits := leadingDigits(x)
	u := eightDigits(x, digits)
	if digits == 8 {
		y := binary.LittleEndian.Uint64(d[i+8:])
		more := leadingDigits(y)
		u = u*pow10[more] + eightDigits(y, more)
		digits += more
	}
	if digits == 0 || digits > 1 && d[i] == '0' {
		return 0, i, false // no number, or a leading zero: the grammar's to word
	}
	i += digits
	if i < len(d) {
		if c := d[i]; c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' {
			return 0, i, false // more digits, a fraction or an exponent
		}
	}
	if neg {
		return -int64(u), i, true
	}
	return int64(u), i, true
}

// pow10 holds the powers of ten eightDigits needs.
var pow10 = [9]uint64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// leadingDigits is how many of the eight bytes of x, first byte lowest,
// are ASCII digits before the first byte that is not.
func leadingDigits(x uint64) int {
	// A byte below '0' borrows into its top bit when '0' is taken away; one
	// above '9' (and below 0x80) carries into it when 0x46 is added; one of
	// 0x80 or more has it already. Bytes above the first such byte may be
	// marked wrongly, which does not matter.
	m := ((x - lsb*'0') | (x + lsb*(0x80-'9'-1)) | x) & msb
	return bits.TrailingZeros64(m) / 8 // 64/8 when all eight are digits
}

// eightDigits is the value of the first n (at most 8) bytes of x, which
// are ASCII digits, the first byte the most significant.
func eightDigits(x uint64, n int) uint64 {
	// Digit values, moved up so that the bytes after them fall off the top
	// and zero bytes, leading zeros, come in at the bottom.
	v := (x - lsb*'0') << (8 * (8 - n))
	// Pairs, then fours, then all eight, in lanes (after Lemire, "Fast
	// integer parsing").
	v = v*10 + v>>8
	v = ((v&0x000000ff000000ff)*(100+1000000<<32) + (v>>16&0x000000ff000000ff)*(1+10000<<32)) >> 32
	return v
}

// Float64 reads the number that comes next as a float64, as encoding/json
// decodes into one: the nearest value, and an error beyond its range.
func (s *Scanner) Float64() (float64, error) {
	start := s.pos
	// An integer of at most 16 digits (a time in seconds, a count) needs
	// no strconv: converting it rounds to nearest, ties to even, as
	// ParseFloat rounds its text. Only -0 keeps its sign as a float.
	if n, ok := s.smallInt(); ok {
		if n == 0 && s.data[SkipSpace(s.data, start)] == '-' {
			return math.Copysign(0, -1), nil
		}
		return float64(n), nil
	}
	lit, err := s.Number()
	if err != nil {
		return 0, err
	}
	f, perr := strconv.ParseFloat(string(lit), 64)
	if perr != nil {
		s.Fail(&Error{Offset: SkipSpace(s.data, start), Expected: "a number in the float64 range", Found: string(lit)})
		return 0, s.err
	}
	return f, nil
}

// scanNumber checks the number starting at offset i and returns its end.
func (s *Scanner) scanNumber(i int) (int, bool) {
	d := s.data
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = digits(d, i+1)
	default:
		s.syntax(i, "a digit")
		return 0, false
	}
	if i < len(d) && d[i] == '.' {
		if i++; i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.syntax(i, "a digit after the decimal point")
			return 0, false
		}
		i = digits(d, i+1)
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.syntax(i, "a digit in the exponent")
			return 0, false
		}
		i = digits(d, i+1)
	}
	return i, true
}

func digits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

// Bool reads true or false.
func (s *Scanner) Bool() (bool, error) {
	if !s.at(Bool) {
		return false, s.err
	}
	if s.data[s.pos] == 't' {
		return true, s.literal("true")
	}
	return false, s.literal("false")
}

// Null reads a null if one comes next and reports whether it did; anything
// else is left to be read.
func (s *Scanner) Null() bool {
	// Inlined where it is called: no null comes next, nearly always, and
	// a byte that starts another value tells so.
	if s.pos < len(s.data) && kindOf[s.data[s.pos]] > Null {
		return false
	}
	return s.null()
}

func (s *Scanner) null() bool {
	if s.Peek() != Null {
		return false
	}
	if len(s.data)-s.pos < 4 || string(s.data[s.pos:s.pos+4]) != "null" {
		return false
	}
	s.pos += 4
	return true
}

// literal reads lit (true, false or null) at s.pos.
func (s *Scanner) literal(lit string) error {
	for i := 0; i < len(lit); i++ {
		if s.pos+i >= len(s.data) || s.data[s.pos+i] != lit[i] {
			return s.syntax(s.pos+i, "'"+lit+"'")
		}
	}
	s.pos += len(lit)
	return nil
}

// Raw reads the value that comes next, checking it, and returns its text
// (a slice of the input).
func (s *Scanner) Raw() ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.skipWS()
	start := s.pos
	if err := s.Skip(); err != nil {
		return nil, err
	}
	return s.data[start:s.pos], nil
}

// End checks that only whitespace is left after the last value read.
func (s *Scanner) End() error {
	if s.err != nil {
		return s.err
	}
	s.skipWS()
	if s.pos < len(s.data) {
		return s.syntax(s.pos, "end of input")
	}
	return nil
}

// Skip reads the value that comes next, whatever it is, checking it
// against the grammar. It keeps its own stack of open containers (one bit
// each), so deep nesting costs no recursion.
func (s *Scanner) Skip() error {
	if s.err != nil {
		return s.err
	}
	d := s.data
	i := s.pos
	open := 0         // containers this Skip opened
	inObject := false // whether the innermost of them is an object
	for {
		// i is where a value is expected.
		i = SkipSpace(d, i)
		if i >= len(d) {
			return s.syntax(i, "a value")
		}
		closed := true // the value at i is complete once read
		switch c := d[i]; c {
		case '{', '[':
			if s.depth+open >= MaxDepth {
				s.Fail(&Error{Offset: i, Expected: "at most " + strconv.Itoa(MaxDepth) + " nested arrays and objects", Found: "deeper nesting"})
				return s.err
			}
			s.push(open, c == '{')
			open++
			i = SkipSpace(d, i+1)
			switch {
			case i < len(d) && d[i] == c+2: // '}' is '{'+2, ']' is '['+2
				open--
				i++
			case c == '{':
				inObject = true
				var ok bool
				if i, ok = s.skipKey(i); !ok {
					return s.err
				}
				closed = false
			default:
				inObject = false
				closed = false
			}
		case '"':
			end, _, ok := s.stringEnd(i + 1)
			if !ok {
				return s.err
			}
			i = end + 1
		case 't', 'f', 'n':
			lit := "null"
			if c == 't' {
				lit = "true"
			} else if c == 'f' {
				lit = "false"
			}
			s.pos = i
			if err := s.literal(lit); err != nil {
				return err
			}
			i = s.pos
		default:
			if kindOf[c] != Number {
				return s.syntax(i, "a value")
			}
			end, ok := s.scanNumber(i)
			if !ok {
				return s.err
			}
			i = end
		}
		// After a complete value: close containers or move to the next
		// member or element.
		for closed {
			if open == 0 {
				s.pos = i
				return nil
			}
			i = SkipSpace(d, i)
			end, want := byte(']'), "',' or ']' after an array element"
			if inObject {
				end, want = '}', "',' or '}' after an object member"
			}
			switch {
			case i < len(d) && d[i] == ',':
				i++
				if inObject {
					var ok bool
					if i, ok = s.skipKey(SkipSpace(d, i)); !ok {
						return s.err
					}
				}
				closed = false
			case i < len(d) && d[i] == end:
				open--
				i++
				if open > 0 {
					// The stack is read only here: kept in a variable
					// between, the kind costs nothing a member.
					inObject = s.kindAt(open - 1)
				}
			default:
				return s.syntax(i, want)
			}
		}
	}
}

// push records whether the container opened n-th by Skip is an object.
func (s *Scanner) push(n int, object bool) {
	w := n / 64
	for len(s.stack) <= w {
		s.stack = append(s.stack, 0)
	}
	if object {
		s.stack[w] |= 1 << (n % 64)
	} else {
		s.stack[w] &^= 1 << (n % 64)
	}
}

// kindAt reports whether the container opened n-th by Skip is an object.
func (s *Scanner) kindAt(n int) bool {
	return s.stack[uint(n)/64]&(1<<(uint(n)%64)) != 0
}

// skipKey checks an object key and its colon at offset i, returning the
// offset after the colon.
func (s *Scanner) skipKey(i int) (int, bool) {
	d := s.data
	if i >= len(d) || d[i] != '"' {
		s.syntax(i, "'\"' starting an object key")
		return 0, false
	}
	// Most keys end in the first word after the quote, and none of
	// stringEnd's cases apply; skipping does not look at bytes of 0x80 or
	// more. A word without a special byte is the start of a longer key,
	// which plainEnd goes on with.
	end := -1
	if i+9 <= len(d) {
		x := binary.LittleEndian.Uint64(d[i+1:])
		if m := special(x); m != 0 {
			if e := i + 1 + bits.TrailingZeros64(m)/8; d[e] == '"' {
				end = e
			}
		} else if e, _, ok := plainEnd(d, i+9); ok {
			end = e
		}
	}
	if end < 0 {
		var ok bool
		if end, _, ok = s.stringEnd(i + 1); !ok {
			return 0, false
		}
	}
	i = SkipSpace(d, end+1)
	if i >= len(d) || d[i] != ':' {
		s.syntax(i, "':' after an object key")
		return 0, false
	}
	return i + 1, true
}
