package jsonscan

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
)

// AppendBase64 reads the string that comes next as encoding/json decodes
// a string into a []byte: its value in standard base64 with padding (line
// breaks skipped), appended to dst. A string that is not valid base64 is
// not a syntax error: the scanner goes past it, and the error returned
// says why (it is encoding/base64's, offset included), with dst as it was;
// Err stays nil. A syntax error is returned and kept, as by every read.
//
// It decodes the text as it finds its end, in one pass over the input:
// base64 holds no quote, backslash or control byte, so text that decodes
// is string text. (A Firehose request is nearly all base64 data: scanning
// it, then decoding it with encoding/base64, took half as long again as
// this one pass; BenchmarkAppendBase64, best of 5 on one core: 0.88 ms
// against 0.60 ms a MB.) Anything else (an escape, a byte outside
// the alphabet, misplaced padding) is read as String reads it and decoded
// by encoding/base64, so the result is always exactly encoding/json's.
func (s *Scanner) AppendBase64(dst []byte) ([]byte, error) {
	if !s.at(String) {
		return dst, s.err
	}
	start := s.pos + 1
	out, n, ok := decodeBase64Prefix(dst, s.data[start:])
	if ok {
		s.pos = start + n + 1 // after the closing quote
		return out, nil
	}
	// The rare way: unescape the text, then decode it all again.
	v, _, ok := s.readString(nil)
	if !ok {
		return dst, s.err
	}
	dec, err := base64.StdEncoding.AppendDecode(dst, v)
	if err != nil {
		return dst, err
	}
	return dec, nil
}

// Base64 decoding tables: b64Dec[k][c] is the value of character c as the
// k-th of a group of four, shifted to where its six bits go in the
// group's three bytes, read as a little-endian word (the first byte
// lowest); badChar for a byte that is not in the standard alphabet. A
// group is one lookup per character and an OR of the four, and a single
// test of the OR's top bits finds a bad character among them.
var b64Dec = func() (t [4][256]uint32) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for k := range t {
		for c := range t[k] {
			t[k][c] = badChar
		}
	}
	for v, c := range []byte(alphabet) {
		v := uint32(v)
		t[0][c] = v << 2                  // byte 0, bits 7-2
		t[1][c] = v>>4 | (v&0xf)<<12      // byte 0 bits 1-0, byte 1 bits 7-4
		t[2][c] = (v>>2)<<8 | (v&0x3)<<22 // byte 1 bits 3-0, byte 2 bits 7-6
		t[3][c] = v << 16                 // byte 2, bits 5-0
	}
	return t
}()

// badChar marks a byte outside the alphabet: above the 24 bits of a group.
const badChar = 1 << 24

// group decodes the four characters of g (first character lowest) into
// the little-endian word of its three bytes, badChar or more if one is
// not in the alphabet.
func group(g uint32) uint32 {
	return b64Dec[0][byte(g)] | b64Dec[1][byte(g>>8)] | b64Dec[2][byte(g>>16)] | b64Dec[3][g>>24]
}

// decodeBase64Prefix decodes the text of a JSON string, src starting just
// after its opening quote, when it is plain base64 (only alphabet
// characters, padding at its end) closed by a quote: it appends the value
// to dst and returns the text's length. Otherwise ok is false, and dst
// comes back as it was (its spare capacity may have been written to). The
// value goes into dst's spare capacity, which grows as it needs to: a
// caller that gives it room for the whole value (a Firehose request's
// decoded size is known from its length) never pays for a copy.
func decodeBase64Prefix(dst, src []byte) (out []byte, n int, ok bool) {
	base := len(dst)
	buf := dst[:cap(dst)]
	o, i := base, 0
	for {
		n, m := decodeRounds(buf[o:], src[i:])
		i, o = i+n, o+m
		if i+8 <= len(src) && o+8 > len(buf) {
			// Out of room, not out of text: room for as much again.
			buf = slices.Grow(buf[:o], o+64)
			buf = buf[:cap(buf)]
			continue
		}
		break
	}
	if len(buf)-o < 8 {
		buf = slices.Grow(buf[:o], 8) // room for a group and a padded one
		buf = buf[:cap(buf)]
	}
	// A group or two is left before the quote or a bad character.
	for ; i+4 <= len(src) && o+4 <= len(buf); i, o = i+4, o+3 {
		a := group(binary.LittleEndian.Uint32(src[i:]))
		if a&^(badChar-1) != 0 {
			break
		}
		binary.LittleEndian.PutUint32(buf[o:], a)
	}
	// What is left is the closing quote, or a last group with padding
	// and then the quote.
	rest := src[i:]
	switch {
	case len(rest) >= 1 && rest[0] == '"':
		return buf[:o], i, true
	case len(rest) >= 5 && rest[4] == '"' && rest[3] == '=':
		c0, c1 := b64Dec[0][rest[0]], b64Dec[1][rest[1]]
		if rest[2] == '=' {
			if (c0|c1)&^(badChar-1) != 0 {
				break
			}
			buf[o] = byte(c0 | c1)
			return buf[:o+1], i + 4, true
		}
		v := c0 | c1 | b64Dec[2][rest[2]]
		if v&^(badChar-1) != 0 {
			break
		}
		buf[o], buf[o+1] = byte(v), byte(v>>8)
		return buf[:o+2], i + 4, true
	}
	return dst, 0, false
}

// decodeRounds decodes src into dst eight characters (six bytes) a round,
// while src has eight characters and dst room for a word, and stops before
// a round with a byte outside the alphabet. It returns the characters read
// and the bytes written. (A loop of its own, on slices it moves along,
// keeps everything it needs in registers.)
func decodeRounds(dst, src []byte) (read, written int) {
	t := &b64Dec
	n := len(src)
	for len(src) >= 8 && len(dst) >= 8 {
		x := binary.LittleEndian.Uint64(src)
		a := t[0][byte(x)] | t[1][byte(x>>8)] | t[2][byte(x>>16)] | t[3][byte(x>>24)]
		b := t[0][byte(x>>32)] | t[1][byte(x>>40)] | t[2][byte(x>>48)] | t[3][byte(x>>56)]
		if (a|b)&^(badChar-1) != 0 {
			break
		}
		// The word's top two bytes, past the six decoded, are left as
		// the input's: the next round writes over them. (Zero there, the
		// compiler splits the store in four.)
		binary.LittleEndian.PutUint64(dst, uint64(a)|uint64(b)<<24|x&^(1<<48-1))
		src, dst = src[8:], dst[6:]
	}
	read = n - len(src)
	return read, read / 4 * 3
}
