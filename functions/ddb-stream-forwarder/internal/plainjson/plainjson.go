// Package plainjson reads the JSON that machines write, byte by byte: the
// small steps of the forwarder's fast paths, which read a stream record or
// an item in the form Lambda and DynamoDB send it and give the record to
// jsonscan for anything else. Every function here reports false where the
// text is not in that plain form (a string with an escape or beyond
// ASCII, the end of the text); none of them says why: the caller gives
// up, and jsonscan, reading the text again, tells what is wrong, if
// anything is.
package plainjson

import (
	"encoding/binary"
	"math/bits"

	"lakestream/shared/jsonscan"
)

// SWAR constants: one byte value repeated in each byte of a uint64.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// StringEnd finds the closing quote of a string whose text starts at d[i]
// (after the opening quote), when that text is plain: printable ASCII, no
// escape, no control byte, no byte of 0x80 or more. Such text is its own
// value, and its own JSON as encoding/json (and jsonenc) write it.
//
// Eight bytes are looked at a time: the lowest byte marked is always a
// quote, backslash, control or high byte (above it there may be false
// marks, from borrows), so the trailing zeros of the mask tell where the
// text ends.
func StringEnd(d []byte, i int) (int, bool) {
	for ; i+8 <= len(d); i += 8 {
		x := binary.LittleEndian.Uint64(d[i:])
		q := x ^ (lsb * '"')
		b := x ^ (lsb * '\\')
		m := ((q-lsb)&^q | (b-lsb)&^b | (x-lsb*0x20)&^x | x) & msb
		if m != 0 {
			end := i + bits.TrailingZeros64(m)/8
			return end, d[end] == '"'
		}
	}
	for ; i < len(d); i++ {
		switch c := d[i]; {
		case c == '"':
			return i, true
		case c < 0x20 || c == '\\' || c >= 0x80:
			return i, false
		}
	}
	return i, false
}

// String reads the plain string at d[i] (its opening quote) and returns
// its text and the offset after it.
func String(d []byte, i int) ([]byte, int, bool) {
	if i >= len(d) || d[i] != '"' {
		return nil, 0, false
	}
	end, ok := StringEnd(d, i+1)
	if !ok {
		return nil, 0, false
	}
	return d[i+1 : end], end + 1, true
}

// Key reads the object key at d[i], a plain string, and the colon after
// it, and returns the key and the offset of the member's value.
func Key(d []byte, i int) ([]byte, int, bool) {
	key, j, ok := String(d, i)
	if !ok {
		return nil, 0, false
	}
	j = jsonscan.SkipSpace(d, j)
	if j >= len(d) || d[j] != ':' {
		return nil, 0, false
	}
	return key, jsonscan.SkipSpace(d, j+1), true
}

// Literal reads true, false or null at d[i] and returns it and the offset
// after it.
func Literal(d []byte, i int) ([]byte, int, bool) {
	if i >= len(d) {
		return nil, 0, false
	}
	lit := ""
	switch d[i] {
	case 't':
		lit = "true"
	case 'f':
		lit = "false"
	case 'n':
		lit = "null"
	default:
		return nil, 0, false
	}
	if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
		return nil, 0, false
	}
	return d[i : i+len(lit)], i + len(lit), true
}

// Next reads what follows a member or element: a comma (more is true and
// the offset is of what follows it) or the closing byte end ('}' or ']';
// the offset is after it).
func Next(d []byte, i int, end byte) (next int, more, ok bool) {
	i = jsonscan.SkipSpace(d, i)
	if i >= len(d) {
		return 0, false, false
	}
	switch d[i] {
	case ',':
		return jsonscan.SkipSpace(d, i+1), true, true
	case end:
		return i + 1, false, true
	}
	return 0, false, false
}
