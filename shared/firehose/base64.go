package firehose

import (
	"encoding/binary"

	"lakestream/shared/jsonscan"
)

// base64Pairs holds the two standard base64 characters of every 12-bit
// value, the first in the low byte: a table lookup writes two characters.
var base64Pairs = func() (t [4096]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for v := range t {
		t[v] = uint16(alphabet[v>>6]) | uint16(alphabet[v&63])<<8
	}
	return t
}()

// AppendBase64 appends src in standard base64 with padding, as
// base64.StdEncoding.AppendEncode does, about four times as fast: encoding
// the response's data is a sixth of a CloudWatch Logs invocation (and
// streamput.Client encodes what it puts into streams with it), whose
// records' output runs to megabytes, and encoding/base64 writes one
// character per lookup where this writes two, 48 bytes of input a round
// (encodeRounds).
func AppendBase64(dst, src []byte) []byte {
	n := base64TextLen(len(src))
	if cap(dst)-len(dst) < n {
		dst = append(dst[:len(dst):len(dst)], make([]byte, n)...)[:len(dst)]
	}
	out := dst[len(dst) : len(dst)+n]
	i, o := encodeRounds(out, src)
	// The rest, under 8 bytes: groups of three, then the padded last
	// group.
	for ; i+3 <= len(src); i, o = i+3, o+4 {
		v := uint(src[i])<<16 | uint(src[i+1])<<8 | uint(src[i+2])
		binary.LittleEndian.PutUint32(out[o:o+4:o+4], uint32(base64Pairs[v>>12])|uint32(base64Pairs[v&0xfff])<<16)
	}
	switch len(src) - i {
	case 1: // eight bits: two characters, the second's low four bits zero
		binary.LittleEndian.PutUint32(out[o:o+4:o+4], uint32(base64Pairs[uint(src[i])<<4])|'='<<16|'='<<24)
	case 2: // sixteen bits: three characters, the third's low two bits zero
		v := uint(src[i])<<10 | uint(src[i+1])<<2
		// A pair's first character is in its low byte.
		third := uint32(base64Pairs[(v&63)<<6] & 0xff)
		binary.LittleEndian.PutUint32(out[o:o+4:o+4], uint32(base64Pairs[v>>6])|third<<16|'='<<24)
	}
	return dst[:len(dst)+n]
}

// base64TextLen is the length of the standard base64 text, with padding,
// of n bytes, as base64.StdEncoding.EncodedLen gives it: four characters
// for three bytes or what is left of them. Worked out as an unsigned
// number, with no look at the encoding's padding first (three times a
// record: a twentieth of the framework's own work on one).
func base64TextLen(n int) int { return int(uint(n+2) / 3 * 4) }

// encodeRounds encodes src into out six bytes (eight characters) a
// round while src has eight bytes to read, and returns the bytes read and
// the characters written. Rounds go eight together, 48 bytes read
// (eight overlapping 8-byte words, 6 bytes of each used) and 64
// characters written: the loop's own work (bounds, offsets) spread over
// eight rounds made the encoding 7-8% faster on 40 KB records (a
// CloudWatch Logs record's lines), 5% on records of 300-700 bytes. Then
// four together, then one at a time: the rest of a record, or the whole
// of a short one. (A loop of its own, as jsonscan's decodeRounds, keeps
// everything it needs in registers: in AppendBase64, beside its other
// values, each round spilled its word to the stack and read it back
// twice. And src and out move on as they are read and written, rather
// than being sliced at offsets: two fewer comparisons a loop, the
// slices' lengths being what the loop tests.)
func encodeRounds(out, src []byte) (read, written int) {
	t := &base64Pairs
	inLen, outLen := len(src), len(out)
	for len(src) >= 50 && len(out) >= 64 {
		s, d := src[:50:50], out[:64:64] // capacities known: no checks below
		// Each word's top six bytes, first byte highest: four 12-bit
		// values, each two characters (the first in the low byte),
		// written little-endian.
		x := binary.BigEndian.Uint64(s[0:])
		binary.LittleEndian.PutUint64(d[0:], uint64(t[x>>52])|uint64(t[x>>40&0xfff])<<16|uint64(t[x>>28&0xfff])<<32|uint64(t[x>>16&0xfff])<<48)
		x = binary.BigEndian.Uint64(s[6:])
		binary.LittleEndian.PutUint64(d[8:], uint64(t[x>>52])|uint64(t[x>>40&0xfff])<<16|uint64(t[x>>28&0xfff])<<32|uint64(t[x>>16&0xfff])<<48)
		x = binary.BigEndian.Uint64(s[12:])
		binary.LittleEndian.PutUint64(d[16:], uint64(t[x>>52])|uint64(t[x>>40&0xfff])<<16|uint64(t[x>>28&0xfff])<<32|uint64(t[x>>16&0xfff])<<48)
		x = binary.BigEndian.Uint64(s[18:])
		binary.LittleEndian.PutUint64(d[24:], uint64(t[x>>52])|uint64(t[x>>40&0xfff])<<16|uint64(t[x>>28&0xfff])<<32|uint64(t[x>>16&0xfff])<<48)
		x = binary.BigEndian.Uint64(s[24:])
		binary.LittleEndian.PutUint64(d[32:], uint64(t[x>>52])|uint64(t[x>>40&0xfff])<<16|uint64(t[x>>28&0xfff])<<32|uint64(t[x>>16&0xfff])<<48)
		x = binary.BigEndian.Uint64(s[30:])
		binary.LittleEndian.PutUint64(d[40:], uint64(t[x>>52])|uint64(t[x>>40&0xfff])<<16|uint64(t[x>>28&0xfff])<<32|uint64(t[x>>16&0xfff])<<48)
		x = binary.BigEndian.Uint64(s[36:])
		binary.LittleEndian.PutUint64(d[48:], uint64(t[x>>52])|uint64(t[x>>40&0xfff])<<16|uint64(t[x>>28&0xfff])<<32|uint64(t[x>>16&0xfff])<<48)
		x = binary.BigEndian.Uint64(s[42:])
		binary.LittleEndian.PutUint64(d[56:], uint64(t[x>>52])|uint64(t[x>>40&0xfff])<<16|uint64(t[x>>28&0xfff])<<32|uint64(t[x>>16&0xfff])<<48)
		src, out = src[48:], out[64:]
	}
	for len(src) >= 26 && len(out) >= 32 {
		s, d := src[:26:26], out[:32:32]
		x := binary.BigEndian.Uint64(s[0:])
		binary.LittleEndian.PutUint64(d[0:], uint64(t[x>>52])|uint64(t[x>>40&0xfff])<<16|uint64(t[x>>28&0xfff])<<32|uint64(t[x>>16&0xfff])<<48)
		x = binary.BigEndian.Uint64(s[6:])
		binary.LittleEndian.PutUint64(d[8:], uint64(t[x>>52])|uint64(t[x>>40&0xfff])<<16|uint64(t[x>>28&0xfff])<<32|uint64(t[x>>16&0xfff])<<48)
		x = binary.BigEndian.Uint64(s[12:])
		binary.LittleEndian.PutUint64(d[16:], uint64(t[x>>52])|uint64(t[x>>40&0xfff])<<16|uint64(t[x>>28&0xfff])<<32|uint64(t[x>>16&0xfff])<<48)
		x = binary.BigEndian.Uint64(s[18:])
		binary.LittleEndian.PutUint64(d[24:], uint64(t[x>>52])|uint64(t[x>>40&0xfff])<<16|uint64(t[x>>28&0xfff])<<32|uint64(t[x>>16&0xfff])<<48)
		src, out = src[24:], out[32:]
	}
	for len(src) >= 8 && len(out) >= 8 {
		x := binary.BigEndian.Uint64(src)
		binary.LittleEndian.PutUint64(out, uint64(t[x>>52])|uint64(t[x>>40&0xfff])<<16|uint64(t[x>>28&0xfff])<<32|uint64(t[x>>16&0xfff])<<48)
		src, out = src[6:], out[8:]
	}
	return inLen - len(src), outLen - len(out)
}

// plainBase64Len checks the text of a JSON string, src starting just after
// its opening quote, without decoding it: when it is plain base64 (only
// alphabet characters, a multiple of four of them, padding at its end)
// closed by a quote, it returns the text's length (the quote is at
// src[n]). It takes exactly what jsonscan.DecodeBase64Text decodes
// (FuzzPlainBase64Len), at a fraction of the cost: the records a response
// cannot hold go back to their stream as this text, never decoded.
func plainBase64Len(src []byte) (n int, ok bool) {
	i := jsonscan.Base64AlphabetEnd(src)
	rest := src[i:]
	switch {
	case len(rest) >= 1 && rest[0] == '"' && i%4 == 0:
		return i, true
	case len(rest) >= 2 && rest[0] == '=' && rest[1] == '"' && i%4 == 3:
		return i + 1, true
	case len(rest) >= 3 && rest[0] == '=' && rest[1] == '=' && rest[2] == '"' && i%4 == 2:
		return i + 2, true
	}
	return 0, false
}

// canonicalBase64 reports whether text, which plainBase64Len took, is what
// AppendBase64 gives for its value: the bits of the last character that
// fall outside the value's bytes are zero (a decoder drops them, so text
// with them set decodes to the same bytes but is not their encoding).
func canonicalBase64(text []byte) bool {
	k := len(text)
	switch {
	case k < 4 || text[k-1] != '=':
		return true
	case text[k-2] == '=':
		return jsonscan.Base64Sextet(text[k-3])&0xf == 0
	default:
		return jsonscan.Base64Sextet(text[k-2])&0x3 == 0
	}
}
