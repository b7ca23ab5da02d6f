package ddbjson

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"lakestream/shared/jsonenc"
	"lakestream/shared/jsonscan"
)

// ErrMalformed means an attribute value is not DynamoDB JSON that
// aws-lambda-go's decoder reads: not an object holding exactly one of the
// ten types, or a type holding the wrong kind of JSON value (an S that is
// not a string, a B or BS element that is not base64). A Transcoder wraps
// it in an *AttributeError naming the value.
var ErrMalformed = errors.New("malformed attribute value")

// A Transcoder reads items in DynamoDB JSON straight from the bytes of a
// stream record and writes them as plain JSON, building nothing in
// between: no events.DynamoDBAttributeValue, no map, no reflection. It is
// the hot path of the DynamoDB-stream forwarder.
//
// It agrees exactly with the two steps it replaces: encoding/json decoding
// the item into a map[string]events.DynamoDBAttributeValue (aws-lambda-go
// v1.55.1), then AppendItem. It reads what they read and fails where they
// fail, down to their corner cases:
//
//   - aws-lambda-go first decodes each attribute value into interface{}
//     values, so a name repeated inside one value (a key of an M, or the
//     type itself) counts once, the last one; the earlier values are not
//     read as DynamoDB JSON, but any number in them, as in any part of the
//     value, must be within float64's range.
//   - NULL may hold any JSON value, which aws-lambda-go ignores:
//     {"NULL":false} is null too.
//   - an attribute repeated at the top of an item replaces the earlier one,
//     which must still be valid; ReadItem called again for the same Item
//     adds to it, as encoding/json decodes into a map it already holds, and
//     a null empties it.
//   - B and BS values are base64 decoded and encoded again, so they come
//     out in canonical form (line breaks dropped, padding bits zero).
//
// ReadItem fails (ErrMalformed, or the jsonscan syntax error) where
// aws-lambda-go's decoder would fail or panic; AppendItem fails where the
// function AppendItem would (a bad number, too deep a value), only for the
// attributes it writes, so a record whose unwritten image holds a bad
// number is still forwarded, as before.
//
// A Transcoder keeps its buffers from one record to the next; it is not
// safe for concurrent use.
type Transcoder struct {
	buf     []byte    // the values of the items read, written as plain JSON
	keys    []byte    // the names of the attributes read, decoded
	stack   []member  // the members of the M values being read
	tmp     []byte    // an M value's members while they are put in order
	perm    []int32   // the order of an item's or M value's members
	sorting []sortKey // what order sorts
	// The name prefixes, in the order they came, and the order found of
	// the last item or M value order sorted whose prefixes all differ:
	// its order is then the prefixes' alone, and the items of a table
	// mostly list their attributes alike.
	lastPrefixes []uint64
	lastPerm     []int32
	str          []byte // unescaped strings
	bin          []byte // decoded binary values
	// ss reads the strings of the fast path that are not plain ASCII.
	ss jsonscan.Scanner
}

// Item is an item a Transcoder has read and not yet written. It stands for
// the map[string]events.DynamoDBAttributeValue that encoding/json would
// have decoded. Its contents live in the Transcoder that read it, until
// that Transcoder's Reset.
type Item struct {
	members []member
	set     bool
}

// member is one attribute of an item or of an M value.
type member struct {
	// prefix is the name's first eight bytes, big-endian (zeros after a
	// shorter name): most names differ in them, so most comparisons of
	// the sort need no more.
	prefix      uint64
	key, keyEnd int32 // the name, decoded, in Transcoder.keys
	val, valEnd int32 // the value as plain JSON (in an M value, with its key)
	// named says key and keyEnd are in Transcoder.buf, not keys: an
	// item's member whose name is written before its value, quoted, with
	// the colon after it, as AppendItem writes it (fastMembers).
	named bool
	errs  *memberErrors
}

// memberErrors are a member's errors, when it has any.
type memberErrors struct {
	write error // why the value cannot be written, with the path below the item
	read  error // why it cannot be read (members of M values only)
}

func (m *member) werr() error {
	if m.errs == nil {
		return nil
	}
	return m.errs.write
}

func (m *member) rerr() error {
	if m.errs == nil {
		return nil
	}
	return m.errs.read
}

// newMember starts the member named by the key just appended to t.keys
// from keyStart; its value starts at val.
func (t *Transcoder) newMember(keyStart, val int) member {
	return member{prefix: prefix(t.keys[keyStart:]), key: int32(keyStart), keyEnd: int32(len(t.keys)), val: int32(val)}
}

// prefix is a name's first eight bytes, big-endian, zeros after a shorter
// name. A short name is shifted in byte by byte: copying it into a word
// and loading that stalls on the store.
func prefix(name []byte) uint64 {
	if len(name) >= 8 {
		return binary.BigEndian.Uint64(name)
	}
	var p uint64
	for i, c := range name {
		p |= uint64(c) << (56 - 8*i)
	}
	return p
}

// setErrors records a member's errors, the path from its name prepended.
func (t *Transcoder) setErrors(m *member, werr, rerr error) {
	if werr == nil && rerr == nil {
		return
	}
	name := string(t.name(m))
	m.errs = &memberErrors{}
	if werr != nil {
		m.errs.write = within(werr, name)
	}
	if rerr != nil {
		m.errs.read = within(rerr, name)
	}
}

// compare orders members by name, bytewise.
func (t *Transcoder) compare(a, b *member) int {
	switch {
	case a.prefix < b.prefix:
		return -1
	case a.prefix > b.prefix:
		return 1
	}
	return bytes.Compare(t.name(a), t.name(b))
}

// name is a member's name, decoded.
func (t *Transcoder) name(m *member) []byte {
	if m.named {
		return t.buf[m.key:m.keyEnd]
	}
	return t.keys[m.key:m.keyEnd]
}

// IsNil reports whether the item is absent or null, the nil map that
// encoding/json leaves, as opposed to {}.
func (it *Item) IsNil() bool { return !it.set }

// Reset empties the item (it is nil again), keeping its memory.
func (it *Item) Reset() {
	it.members = it.members[:0]
	it.set = false
}

// Reset forgets the items read so far, keeping the buffers; the Items must
// be Reset too before they are read into again.
func (t *Transcoder) Reset() {
	t.buf = t.buf[:0]
	t.keys = t.keys[:0]
	t.ss.Reset(nil)
}

// ReadItem reads the value s is at, an item in DynamoDB JSON or null, into
// it. It returns an error when aws-lambda-go's decoder would: an
// *AttributeError wrapping ErrMalformed, an error wrapping ErrMalformed
// when the value is not an object, or s's syntax error.
func (t *Transcoder) ReadItem(s *jsonscan.Scanner, it *Item) error {
	if s.Null() {
		it.Reset()
		return nil
	}
	if k := s.Peek(); k != jsonscan.Object {
		if err := s.Skip(); err != nil {
			return err
		}
		return fmt.Errorf("ddbjson: %w: an item is %s, not an object", ErrMalformed, k)
	}
	it.set = true
	for key := range s.Object() {
		k := len(t.keys)
		t.keys = append(t.keys, key...)
		m := t.newMember(k, len(t.buf))
		var werr, rerr error
		t.buf, werr, rerr = t.value(s, t.buf, 1)
		m.valEnd = int32(len(t.buf))
		switch {
		case s.Err() != nil:
			return s.Err() // a syntax error, or a number out of range
		case rerr != nil:
			// encoding/json stops at the first attribute aws-lambda-go
			// refuses, even one a later attribute of the same name would
			// replace.
			return within(rerr, string(t.keys[m.key:m.keyEnd]))
		}
		t.setErrors(&m, werr, nil)
		it.members = append(it.members, m)
	}
	return s.Err()
}

// AppendItem writes the item as one JSON object, its attributes sorted by
// name, to dst and returns the extended buffer, as the function AppendItem
// writes the item aws-lambda-go would have read; a nil item is {}. On
// error it returns dst as given and the *AttributeError that AppendItem
// returns.
func (t *Transcoder) AppendItem(dst []byte, it *Item) ([]byte, error) {
	ms := it.members
	perm := t.order(ms)
	for _, i := range perm {
		if err := ms[i].werr(); err != nil {
			return dst, err
		}
	}
	dst = append(dst, '{')
	for n, i := range perm {
		if n > 0 {
			dst = append(dst, ',')
		}
		m := &ms[i]
		if m.named {
			dst = append(dst, t.buf[m.key-1:m.valEnd]...) // from the name's quote
			continue
		}
		dst = jsonenc.AppendBytes(dst, t.keys[m.key:m.keyEnd])
		dst = append(dst, ':')
		dst = append(dst, t.buf[m.val:m.valEnd]...)
	}
	return append(dst, '}'), nil
}

// order returns the indices of ms in order of name, only the last of each
// name kept (a later member replaces an earlier one of the same name), in
// t.perm: valid until the next call.
func (t *Transcoder) order(ms []member) []int32 {
	// The order remembered, checked first: the prefixes it was found for
	// all differ and were not in order, so equal ones now are ordered by
	// them alone, the same way.
	if len(ms) == len(t.lastPrefixes) && len(ms) >= minRemembered {
		same := true
		for i := range ms {
			if ms[i].prefix != t.lastPrefixes[i] {
				same = false
				break
			}
		}
		if same {
			t.perm = append(t.perm[:0], t.lastPerm...)
			return t.perm
		}
	}
	keys := t.sorting[:0]
	sorted := true
	for i := range ms {
		keys = append(keys, sortKey{ms[i].prefix, int32(i)})
		if i > 0 && sorted {
			sorted = t.compare(&ms[i-1], &ms[i]) < 0
		}
	}
	t.sorting = keys
	remember := !sorted && len(ms) >= minRemembered
	if !sorted {
		// A stable sort, so that of equal names the last stays last.
		less := func(a, b sortKey) bool {
			return a.prefix < b.prefix || a.prefix == b.prefix && t.compare(&ms[a.i], &ms[b.i]) < 0
		}
		if len(keys) <= 24 {
			for i := 1; i < len(keys); i++ {
				for j := i; j > 0 && less(keys[j], keys[j-1]); j-- {
					keys[j], keys[j-1] = keys[j-1], keys[j]
				}
			}
		} else {
			slices.SortStableFunc(keys, func(a, b sortKey) int {
				if less(a, b) {
					return -1
				}
				return t.compare(&ms[a.i], &ms[b.i]) // 0 or 1
			})
		}
	}
	perm := t.perm[:0]
	distinct := true
	for n, k := range keys {
		if !sorted && n+1 < len(keys) && k.prefix == keys[n+1].prefix {
			distinct = false
			if t.compare(&ms[k.i], &ms[keys[n+1].i]) == 0 {
				continue
			}
		}
		perm = append(perm, k.i)
	}
	t.perm = perm
	if remember && distinct {
		t.lastPrefixes = t.lastPrefixes[:0]
		for i := range ms {
			t.lastPrefixes = append(t.lastPrefixes, ms[i].prefix)
		}
		t.lastPerm = append(t.lastPerm[:0], perm...)
	}
	return perm
}

// minRemembered is the fewest members whose order order remembers: fewer
// sort in about the time the check takes.
const minRemembered = 6

// sortKey is a member in order: the first eight bytes of its name, and
// its index.
type sortKey struct {
	prefix uint64
	i      int32
}

// value reads one attribute value, an object holding one type, and writes
// it to out; depth counts as for AppendValue, an item's attributes being at
// depth 1. It always reads the whole value, so that what follows can be
// read: werr is why it cannot be written, rerr why it cannot be read (the
// output is then meaningless). Numbers out of float64's range, which
// encoding/json refuses before aws-lambda-go sees the value, fail s.
func (t *Transcoder) value(s *jsonscan.Scanner, out []byte, depth int) (_ []byte, werr, rerr error) {
	if k := s.Peek(); k != jsonscan.Object {
		t.skip(s)
		return out, nil, fmt.Errorf("%w: %s, not an object holding a type", ErrMalformed, k)
	}
	start := len(out)
	var first [4]byte // the type's name: no type has a longer one
	var firstLen, types int
	for key := range s.Object() {
		switch {
		case types == 0:
			types, firstLen = 1, len(key)
			for i := range min(len(key), len(first)) { // no call to copy
				first[i] = key[i]
			}
		case types == 1 && (len(key) != firstLen || firstLen > len(first) || string(key) != string(first[:firstLen])):
			types = 2 // a longer name is no type, which fails anyway
		}
		// The last value of a repeated type is the one aws-lambda-go sees.
		out, werr, rerr = t.typed(s, out[:start], key, depth)
	}
	switch types {
	case 0:
		return out, nil, fmt.Errorf("%w: no type", ErrMalformed)
	case 2:
		return out, nil, fmt.Errorf("%w: more than one type", ErrMalformed)
	}
	if depth > MaxDepth {
		// AppendValue stops at the first value too deep, so only that
		// one is named; the values below it are deeper still.
		werr = nil
		if depth == MaxDepth+1 {
			werr = fmt.Errorf("%w: deeper than %d levels", ErrTooDeep, MaxDepth)
		}
	}
	return out, werr, rerr
}

// typed reads the value of a type named label (valid only until s reads
// further) and writes it to out.
func (t *Transcoder) typed(s *jsonscan.Scanner, out []byte, label []byte, depth int) (_ []byte, werr, rerr error) {
	switch string(label) {
	case "S":
		v, ascii, k := t.stringASCII(s)
		switch {
		case k != jsonscan.String:
			return out, nil, wrongKind("S", k, jsonscan.String)
		case ascii:
			// Neither escaped nor beyond ASCII, the text is its own
			// JSON: no quote, backslash or control character.
			out = append(out, '"')
			out = append(out, v...)
			return append(out, '"'), nil, nil
		}
		return jsonenc.AppendBytes(out, v), nil, nil
	case "N":
		v, _, k := t.stringASCII(s)
		if k != jsonscan.String {
			return out, nil, wrongKind("N", k, jsonscan.String)
		}
		out, werr = appendNumber(out, v)
		return out, werr, nil
	case "B":
		v, k := t.string(s)
		if k != jsonscan.String {
			return out, nil, wrongKind("B", k, jsonscan.String)
		}
		out, rerr = t.appendBinary(out, v)
		return out, nil, rerr
	case "BOOL":
		if k := s.Peek(); k != jsonscan.Bool {
			t.skip(s)
			return out, nil, wrongKind("BOOL", k, jsonscan.Bool)
		}
		b, _ := s.Bool()
		return strconv.AppendBool(out, b), nil, nil
	case "NULL":
		t.skip(s)
		return append(out, "null"...), nil, nil
	case "M":
		if k := s.Peek(); k != jsonscan.Object {
			t.skip(s)
			return out, nil, wrongKind("M", k, jsonscan.Object)
		}
		return t.object(s, out, depth)
	case "L":
		if k := s.Peek(); k != jsonscan.Array {
			t.skip(s)
			return out, nil, wrongKind("L", k, jsonscan.Array)
		}
		out = append(out, '[')
		for i := range s.Array() {
			if i > 0 {
				out = append(out, ',')
			}
			var ew, er error
			out, ew, er = t.value(s, out, depth+1)
			if er != nil && rerr == nil {
				rerr = within(er, index(i))
			}
			if ew != nil && werr == nil {
				werr = within(ew, index(i))
			}
		}
		return append(out, ']'), werr, rerr
	case "SS":
		return t.set(s, out, "SS")
	case "NS":
		return t.set(s, out, "NS")
	case "BS":
		return t.set(s, out, "BS")
	}
	name := string(label)
	t.skip(s)
	return out, nil, fmt.Errorf("%w %s", ErrUnsupportedType, strconv.Quote(name))
}

// set reads an SS, NS or BS value (label is the type).
func (t *Transcoder) set(s *jsonscan.Scanner, out []byte, label string) (_ []byte, werr, rerr error) {
	if k := s.Peek(); k != jsonscan.Array {
		t.skip(s)
		return out, nil, wrongKind(label, k, jsonscan.Array)
	}
	out = append(out, '[')
	for i := range s.Array() {
		if i > 0 {
			out = append(out, ',')
		}
		v, k := t.string(s)
		if k != jsonscan.String {
			if rerr == nil {
				rerr = within(fmt.Errorf("%w: %s element is %s, not a string", ErrMalformed, label, k), index(i))
			}
			continue
		}
		var err error
		switch label {
		case "SS":
			out = jsonenc.AppendBytes(out, v)
		case "NS":
			if out, err = appendNumber(out, v); err != nil && werr == nil {
				werr = within(err, index(i))
			}
		case "BS":
			if out, err = t.appendBinary(out, v); err != nil && rerr == nil {
				rerr = within(err, index(i))
			}
		}
	}
	return append(out, ']'), werr, rerr
}

// object reads an M value: its members are written in the order they come
// and, unless that is already sorted by name, put in order once all are
// read, the last of a repeated name kept.
func (t *Transcoder) object(s *jsonscan.Scanner, out []byte, depth int) (_ []byte, werr, rerr error) {
	start := len(out)
	base, keysBase := len(t.stack), len(t.keys)
	ordered := true
	out = append(out, '{')
	for key := range s.Object() {
		k := len(t.keys)
		t.keys = append(t.keys, key...)
		if n := len(t.stack); n > base {
			out = append(out, ',')
		}
		m := t.newMember(k, len(out))
		if n := len(t.stack); n > base {
			ordered = ordered && t.compare(&t.stack[n-1], &m) < 0
		}
		out = jsonenc.AppendBytes(out, t.keys[m.key:m.keyEnd])
		out = append(out, ':')
		var ew, er error
		out, ew, er = t.value(s, out, depth+1)
		m.valEnd = int32(len(out))
		t.setErrors(&m, ew, er)
		t.stack = append(t.stack, m)
	}
	members := t.stack[base:]
	if !ordered {
		perm := t.order(members)
		t.tmp = append(t.tmp[:0], out[start:]...)
		out = append(out[:start], '{')
		for n, i := range perm {
			if n > 0 {
				out = append(out, ',')
			}
			m := &members[i]
			out = append(out, t.tmp[int(m.val)-start:int(m.valEnd)-start]...)
			if rerr == nil {
				rerr = m.rerr()
			}
			if werr == nil {
				werr = m.werr()
			}
		}
	} else {
		for i := range members {
			if rerr == nil {
				rerr = members[i].rerr()
			}
			if werr == nil {
				werr = members[i].werr()
			}
		}
	}
	out = append(out, '}')
	clear(t.stack[base:]) // drop the errors held
	t.stack, t.keys = t.stack[:base], t.keys[:keysBase]
	return out, werr, rerr
}

// string reads a string value, unescaped into t.str, or skips a value of
// another kind, which it returns for the caller's error.
func (t *Transcoder) string(s *jsonscan.Scanner) ([]byte, jsonscan.Kind) {
	k := s.Peek()
	if k != jsonscan.String {
		t.skip(s)
		return nil, k
	}
	v, _ := s.String(&t.str)
	return v, k
}

// stringASCII reads a string value, unescaped into t.str when it must
// be, and says whether it came as plain ASCII without escapes (its value
// is then its text, which is its own JSON between quotes); it skips a
// value of another kind, which it returns for the caller's error.
func (t *Transcoder) stringASCII(s *jsonscan.Scanner) (v []byte, ascii bool, k jsonscan.Kind) {
	k = s.Peek()
	if k != jsonscan.String {
		t.skip(s)
		return nil, false, k
	}
	v, ascii, _ = s.StringASCII(&t.str)
	return v, ascii, k
}

// appendBinary writes a B value, given as base64 text, as
// base64.StdEncoding writes the bytes it decodes to: encoding/json's
// decoding and AppendItem's encoding.
func (t *Transcoder) appendBinary(out, text []byte) ([]byte, error) {
	n := base64.StdEncoding.DecodedLen(len(text))
	t.bin = slices.Grow(t.bin[:0], n)[:n]
	n, err := base64.StdEncoding.Decode(t.bin, text)
	if err != nil {
		return out, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	out = append(out, '"')
	out = base64.StdEncoding.AppendEncode(out, t.bin[:n])
	return append(out, '"'), nil
}

// skip reads past a value that is not read as DynamoDB JSON, checking, as
// encoding/json does when it decodes it into interface{} values, that its
// numbers are within float64's range (s fails otherwise).
func (t *Transcoder) skip(s *jsonscan.Scanner) {
	switch s.Peek() {
	case jsonscan.Object:
		for range s.Object() {
			t.skip(s)
		}
	case jsonscan.Array:
		for range s.Array() {
			t.skip(s)
		}
	case jsonscan.Number:
		_, _ = s.Float64()
	default:
		_ = s.Skip()
	}
}

// wrongKind is the error of a type holding the wrong kind of JSON value.
func wrongKind(label string, got, want jsonscan.Kind) error {
	return fmt.Errorf("%w: %s holds %s, not %s", ErrMalformed, label, got, want)
}

// transcoding is what Transcode needs, pooled.
type transcoding struct {
	t  Transcoder
	s  jsonscan.Scanner
	it Item
}

var transcodings = sync.Pool{New: func() any { return new(transcoding) }}

// Transcode appends the item raw holds in DynamoDB JSON (a stream record's
// Keys, NewImage or OldImage) to dst as plain JSON: what AppendItem writes
// for the item encoding/json and aws-lambda-go would read from raw (null
// is {}). On error it returns dst as given: a read error of ReadItem, or a
// write error of AppendItem.
func Transcode(dst, raw []byte) ([]byte, error) {
	tc := transcodings.Get().(*transcoding)
	defer func() {
		tc.t.Reset()
		tc.it.Reset()
		clear(tc.it.members[:cap(tc.it.members)]) // drop the errors held
		transcodings.Put(tc)
	}()
	tc.s.Reset(raw)
	if err := tc.t.ReadItemFrom(&tc.s, raw, &tc.it); err != nil {
		return dst, err
	}
	if err := tc.s.End(); err != nil {
		return dst, err
	}
	return tc.t.AppendItem(dst, &tc.it)
}
