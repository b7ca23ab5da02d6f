package ddbjson

import (
	"encoding/binary"
	"unicode/utf8"

	"lakestream/functions/ddb-stream-forwarder/internal/plainjson"
	"lakestream/shared/jsonenc"
	"lakestream/shared/jsonscan"
)

// The fast path: an item as DynamoDB writes it — every attribute value an
// object of one type, names in plain ASCII, values valid — read and
// written in one pass over its bytes, without the scanner's iterators.
// Anything else (an escape in a name, a second type, a value of the wrong
// kind, a bad number, a NULL holding more than a literal, deep nesting,
// the end of the text) makes it give up, and ReadItemFrom reads the item
// again on the scanner: that path alone decides errors and corner cases,
// so their wording cannot differ. What it writes for an item it reads is
// what that path writes (FuzzTranscode compares the two).

// fastMaxDepth is the deepest value the fast path reads; deeper values,
// which DynamoDB allows up to 32, go the scanner's way.
const fastMaxDepth = 32

// fastMaxNesting is how deep in the text the scanner may be for the fast
// path to read there: with fastMaxDepth levels of two containers each it
// stays far within jsonscan.MaxDepth.
const fastMaxNesting = jsonscan.MaxDepth - 4*fastMaxDepth

// ReadItemFrom is ReadItem for a scanner reading text, the bytes given to
// its Reset or ResetNested. An item in the form DynamoDB writes is read
// straight from them (ReadItemAt); any other goes to ReadItem, so the
// result, errors included, is ReadItem's.
func (t *Transcoder) ReadItemFrom(s *jsonscan.Scanner, text []byte, it *Item) error {
	if s.Peek() == jsonscan.Object {
		if end, ok := t.ReadItemAt(text, s.Offset(), s.Depth(), it); ok {
			s.Seek(end)
			return nil
		}
	}
	return t.ReadItem(s, it)
}

// ReadItemAt reads the item that starts at text[i], depth arrays and
// objects deep in text, into it, as ReadItem would, when the item is in the
// form DynamoDB writes, and returns the offset just after it. For anything
// else at text[i] it reports false, having read nothing: ReadItem is then
// the one to read it, and to say what is wrong with it.
func (t *Transcoder) ReadItemAt(text []byte, i, depth int, it *Item) (int, bool) {
	if i >= len(text) || text[i] != '{' || depth >= fastMaxNesting {
		return 0, false
	}
	return t.fastItem(text, i, it)
}

// fastItem reads the item at d[i], a '{', into it, and returns the offset
// just after it; false if it gave up, with t and it as they were.
func (t *Transcoder) fastItem(d []byte, i int, it *Item) (int, bool) {
	buf0, keys0, stack0, members0, set0 := len(t.buf), len(t.keys), len(t.stack), len(it.members), it.set
	end, ok := t.fastMembers(d, i, it)
	if !ok {
		t.buf, t.keys, t.stack = t.buf[:buf0], t.keys[:keys0], t.stack[:stack0]
		it.members, it.set = it.members[:members0], set0
	}
	return end, ok
}

// fastMembers is fastItem's work, leaving the clearing up to it.
func (t *Transcoder) fastMembers(d []byte, i int, it *Item) (int, bool) {
	it.set = true
	i = jsonscan.SkipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return i + 1, true
	}
	for {
		key, j, ok := plainjson.Key(d, i)
		if !ok {
			return 0, false
		}
		// The member is written in place, field by field: a member built
		// aside and then appended is stored in pieces and loaded whole,
		// which stalls.
		n := len(it.members)
		it.members = append(it.members, member{})
		m := &it.members[n]
		m.prefix = prefixAt(d, i+1, len(key))
		// The name is written before the value, quoted as it came (plain
		// ASCII is its own JSON), as AppendItem writes it: AppendItem
		// copies the two at once, and the name is not copied again.
		q := len(t.buf)
		t.buf = append(t.buf, d[i:i+len(key)+2]...)
		t.buf = append(t.buf, ':')
		m.key, m.keyEnd = int32(q+1), int32(q+1+len(key))
		m.val, m.named = int32(len(t.buf)), true
		if t.buf, i, ok = t.fastValue(d, j, t.buf, 1); !ok {
			return 0, false
		}
		it.members[n].valEnd = int32(len(t.buf))
		if i = jsonscan.SkipSpace(d, i); i >= len(d) {
			return 0, false
		}
		switch d[i] {
		case ',':
			i = jsonscan.SkipSpace(d, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// fastValue reads the attribute value at d[i], at depth (as value counts
// it), writes it to out and returns the offset after it.
func (t *Transcoder) fastValue(d []byte, i int, out []byte, depth int) ([]byte, int, bool) {
	if depth > fastMaxDepth || i >= len(d) || d[i] != '{' {
		return out, 0, false
	}
	typ, i := label(d, jsonscan.SkipSpace(d, i+1))
	if i = jsonscan.SkipSpace(d, i); i >= len(d) || d[i] != ':' {
		return out, 0, false
	}
	if i = jsonscan.SkipSpace(d, i+1); i >= len(d) {
		return out, 0, false
	}
	var ok bool
	switch typ {
	case 'S':
		out, i, ok = t.fastString(d, i, out)
	case 'N':
		var v []byte
		if v, i, ok = plainjson.String(d, i); ok {
			var err error
			out, err = appendNumber(out, v)
			ok = err == nil
		}
	default:
		// The other types apart: this function, run for every value,
		// keeps a small frame.
		out, i, ok = t.fastOther(d, i, out, typ, depth)
	}
	if !ok {
		return out, 0, false
	}
	if i = jsonscan.SkipSpace(d, i); i >= len(d) || d[i] != '}' {
		return out, 0, false // a second type, or not JSON
	}
	return out, i + 1, true
}

// fastOther reads a value of type typ other than S and N at d[i].
func (t *Transcoder) fastOther(d []byte, i int, out []byte, typ byte, depth int) ([]byte, int, bool) {
	var ok bool
	switch typ {
	case 'B':
		var v []byte
		if v, i, ok = plainjson.String(d, i); ok {
			var err error
			out, err = t.appendBinary(out, v)
			ok = err == nil
		}
	case typeBool:
		var lit []byte
		if lit, i, ok = plainjson.Literal(d, i); ok && lit[0] != 'n' {
			out = append(out, lit...)
		} else {
			ok = false
		}
	case typeNull:
		if _, i, ok = plainjson.Literal(d, i); ok {
			out = append(out, "null"...)
		}
	case 'M':
		out, i, ok = t.fastObject(d, i, out, depth)
	case 'L':
		out, i, ok = t.fastList(d, i, out, depth)
	case typeSS, typeNS, typeBS:
		out, i, ok = t.fastSet(d, i, out, typ)
	}
	return out, i, ok
}

// The types label tells apart beside the one-letter ones, which are
// their letter.
const (
	typeSS   = 's'
	typeNS   = 'n'
	typeBS   = 'b'
	typeBool = 'o'
	typeNull = 'u'
)

// label reads the type name at d[i], a string, and returns its letter (or
// one of the constants above), and the offset after it; 0 for a string
// that is none of the ten types as they are written without escapes.
// The names are matched byte by byte, where a general string read costs
// more than the rest of a short value.
func label(d []byte, i int) (byte, int) {
	if i+3 > len(d) || d[i] != '"' {
		return 0, i
	}
	c := d[i+1]
	if d[i+2] == '"' {
		switch c {
		case 'S', 'N', 'B', 'M', 'L':
			return c, i + 3
		}
		return 0, i
	}
	if i+4 <= len(d) && d[i+2] == 'S' && d[i+3] == '"' {
		switch c {
		case 'S':
			return typeSS, i + 4
		case 'N':
			return typeNS, i + 4
		case 'B':
			return typeBS, i + 4
		}
		return 0, i
	}
	if i+6 <= len(d) && d[i+5] == '"' {
		switch string(d[i+1 : i+5]) {
		case "BOOL":
			return typeBool, i + 6
		case "NULL":
			return typeNull, i + 6
		}
	}
	return 0, i
}

// fastString reads an S value or an SS element at d[i] and writes it as
// jsonenc does: text of plain ASCII as it came, which is its own JSON;
// other text unescaped, then escaped again.
func (t *Transcoder) fastString(d []byte, i int, out []byte) ([]byte, int, bool) {
	if d[i] != '"' {
		return out, 0, false
	}
	if end, ok := plainjson.StringEnd(d, i+1); ok {
		return append(out, d[i:end+1]...), end + 1, true
	}
	return t.escapedString(d, i, out)
}

// escapedString is fastString for text with escapes or beyond ASCII, as
// in most names of people. \u escapes of characters beyond ASCII (but
// surrogates, U+2028 and U+2029), as Python and Lambda's events write
// them, are written as the characters, as jsonenc writes their value;
// any other text goes to unescapedString.
func (t *Transcoder) escapedString(d []byte, i int, out []byte) ([]byte, int, bool) {
	start := len(out)
	out = append(out, '"')
	for j := i + 1; ; {
		end, ok := plainjson.StringEnd(d, j)
		out = append(out, d[j:end]...)
		if ok {
			return append(out, '"'), end + 1, true
		}
		if end+6 > len(d) || d[end] != '\\' || d[end+1] != 'u' {
			break
		}
		r := rune(unhex(d[end+2])<<12 | unhex(d[end+3])<<8 | unhex(d[end+4])<<4 | unhex(d[end+5]))
		if r < utf8.RuneSelf || r > 0xffff || 0xd800 <= r && r < 0xe000 || r == '\u2028' || r == '\u2029' {
			break // a bad digit makes r too large
		}
		out = utf8.AppendRune(out, r)
		j = end + 6
	}
	return t.unescapedString(d, i, out[:start])
}

// unhex is the value of a hexadecimal digit; 0x10000 for another byte,
// which makes any rune it is part of too large.
func unhex(c byte) int32 {
	switch {
	case '0' <= c && c <= '9':
		return int32(c - '0')
	case 'a' <= c && c <= 'f':
		return int32(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int32(c - 'A' + 10)
	}
	return 0x10000
}

// unescapedString reads any string at d[i]: the scanner checks and
// unescapes it, and jsonenc writes its value.
func (t *Transcoder) unescapedString(d []byte, i int, out []byte) ([]byte, int, bool) {
	t.ss.Reset(d[i:])
	v, err := t.ss.String(&t.str)
	if err != nil {
		return out, 0, false
	}
	return jsonenc.AppendBytes(out, v), i + t.ss.Offset(), true
}

// fastObject reads an M value at d[i] as object does: members written in
// the order they come, then put in order if they are not.
func (t *Transcoder) fastObject(d []byte, i int, out []byte, depth int) ([]byte, int, bool) {
	if d[i] != '{' {
		return out, 0, false
	}
	start := len(out)
	base, keysBase := len(t.stack), len(t.keys)
	ordered := true
	out = append(out, '{')
	if i = jsonscan.SkipSpace(d, i+1); i < len(d) && d[i] == '}' {
		return append(out, '}'), i + 1, true
	}
	for {
		key, j, ok := plainjson.Key(d, i)
		if !ok {
			return out, 0, false
		}
		n := len(t.stack)
		p := prefixAt(d, i+1, len(key))
		if n > base {
			out = append(out, ',')
			last := &t.stack[n-1]
			ordered = ordered && (last.prefix < p || last.prefix == p && string(t.keys[last.key:last.keyEnd]) < string(key))
		}
		// In place, as in fastMembers; the values of an M value below
		// push their members above this one, and pop them.
		t.stack = append(t.stack, member{})
		m := &t.stack[n]
		m.prefix, m.val = p, int32(len(out))
		m.key = int32(len(t.keys))
		t.keys = append(t.keys, key...)
		m.keyEnd = int32(len(t.keys))
		out = append(out, d[i:i+len(key)+2]...) // quoted as it came
		out = append(out, ':')
		if out, i, ok = t.fastValue(d, j, out, depth+1); !ok {
			return out, 0, false
		}
		t.stack[n].valEnd = int32(len(out))
		if i = jsonscan.SkipSpace(d, i); i >= len(d) {
			return out, 0, false
		}
		if d[i] == '}' {
			i++
			break
		}
		if d[i] != ',' {
			return out, 0, false
		}
		i = jsonscan.SkipSpace(d, i+1)
	}
	switch members := t.stack[base:]; {
	case ordered:
	case len(members) == 2 && members[1].prefix < members[0].prefix:
		// Two members the wrong way round, their names apart in their
		// first bytes (as in most small maps): swapped in place.
		m0, m1 := &members[0], &members[1]
		t.tmp = append(t.tmp[:0], out[m0.val:m0.valEnd]...)
		n := copy(out[start+1:], out[m1.val:m1.valEnd])
		out[start+1+n] = ','
		copy(out[start+2+n:], t.tmp)
	default:
		perm := t.order(members)
		t.tmp = append(t.tmp[:0], out[start:]...)
		out = append(out[:start], '{')
		for n, p := range perm {
			if n > 0 {
				out = append(out, ',')
			}
			m := &members[p]
			out = append(out, t.tmp[int(m.val)-start:int(m.valEnd)-start]...)
		}
	}
	t.stack, t.keys = t.stack[:base], t.keys[:keysBase]
	return append(out, '}'), i, true
}

// openArray writes the '[' of the array at d[i] and returns the offset
// of its first element; for an empty array, its ']' too and the offset
// after it (empty).
func openArray(d []byte, i int, out []byte) (_ []byte, _ int, empty, ok bool) {
	if d[i] != '[' {
		return out, 0, false, false
	}
	out = append(out, '[')
	if i = jsonscan.SkipSpace(d, i+1); i < len(d) && d[i] == ']' {
		return append(out, ']'), i + 1, true, true
	}
	return out, i, false, true
}

// fastList reads an L value at d[i].
func (t *Transcoder) fastList(d []byte, i int, out []byte, depth int) ([]byte, int, bool) {
	out, i, empty, ok := openArray(d, i, out)
	if empty || !ok {
		return out, i, ok
	}
	for {
		if out, i, ok = t.fastValue(d, i, out, depth+1); !ok {
			return out, 0, false
		}
		var end bool
		if out, i, end, ok = nextElement(d, i, out); end || !ok {
			return out, i, ok
		}
	}
}

// fastSet reads an SS, NS or BS value at d[i] (typ says which).
func (t *Transcoder) fastSet(d []byte, i int, out []byte, typ byte) ([]byte, int, bool) {
	out, i, empty, ok := openArray(d, i, out)
	if empty || !ok {
		return out, i, ok
	}
	for {
		if i >= len(d) {
			return out, 0, false
		}
		if typ == typeSS {
			out, i, ok = t.fastString(d, i, out)
		} else {
			var v []byte
			if v, i, ok = plainjson.String(d, i); ok {
				var err error
				if typ == typeNS {
					out, err = appendNumber(out, v)
				} else {
					out, err = t.appendBinary(out, v)
				}
				ok = err == nil
			}
		}
		if !ok {
			return out, 0, false
		}
		var end bool
		if out, i, end, ok = nextElement(d, i, out); end || !ok {
			return out, i, ok
		}
	}
}

// nextElement reads what follows an element of a list at d[i], and writes
// it to out: the list's end (end, i after it) or a comma (i at the next
// element); false for anything else.
func nextElement(d []byte, i int, out []byte) (_ []byte, next int, end, ok bool) {
	if i = jsonscan.SkipSpace(d, i); i < len(d) {
		switch d[i] {
		case ']':
			return append(out, ']'), i + 1, true, true
		case ',':
			return append(out, ','), jsonscan.SkipSpace(d, i+1), false, true
		}
	}
	return out, 0, false, false
}

// prefixAt is prefix of the name of n bytes at d[i], loaded from d at
// once where d goes on for eight bytes: no loop over a short name.
func prefixAt(d []byte, i, n int) uint64 {
	if i+8 > len(d) {
		return prefix(d[i : i+n])
	}
	p := binary.BigEndian.Uint64(d[i:])
	if n < 8 {
		p &^= 1<<(64-8*n) - 1 // zeros after the name (all of them for n 0)
	}
	return p
}
