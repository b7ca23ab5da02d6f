package jsonscan

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"slices"

	simd "github.com/segmentio/asm/base64"
)

// AppendBase64 reads the string that comes next as encoding/json decodes
// a string into a []byte: its value in standard base64 with padding (line
// breaks skipped), appended to dst. A string that is not valid base64 is
// not a syntax error: the scanner goes past it, and the error returned
// says why (it is encoding/base64's, offset included), with dst as it was;
// Err stays nil. A syntax error is returned and kept, as by every read.
//
// Plain base64 text (alphabet characters, padding at the end, a quote
// after it) is decoded where it lies, with vector instructions (see
// decodeBase64Prefix): base64 holds no quote, backslash or control byte,
// so text that decodes is string text. (A Firehose request is nearly all
// base64 data: finding each string's end with RawString, then decoding it
// with encoding/base64, takes five times as long;
// BenchmarkAppendBase64, one core: 1 KB records at 6.3-8.7 GB/s against
// 1.2-1.4.) Anything else (an escape, a byte outside the alphabet,
// misplaced padding) is read as String reads it and decoded by
// encoding/base64, so the result is always exactly encoding/json's.
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

// b64Pairs holds the 12-bit value of every pair of base64 characters, the
// first in the index's low byte (as a little-endian load puts it), and
// badPair for a pair with a byte outside the standard alphabet: it checks
// text sixteen characters to eight lookups without decoding it
// (Base64AlphabetEnd) and gives single characters' values (Base64Sextet).
// It takes 128 KB, of which the 4,096 valid pairs touch about a sixth.
var b64Pairs = func() *[1 << 16]uint16 {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	t := new([1 << 16]uint16)
	for i := range t {
		t[i] = badPair
	}
	for v0, c0 := range []byte(alphabet) {
		for v1, c1 := range []byte(alphabet) {
			t[int(c0)|int(c1)<<8] = uint16(v0<<6 | v1)
		}
	}
	return t
}()

// badPair marks a pair with a byte outside the alphabet: above 12 bits.
const badPair = 0xffff

// Base64Sextet is the 6-bit value of one standard base64 character, above
// 63 when it is not one: its pair with 'A', which is 0.
func Base64Sextet(c byte) uint32 { return uint32(b64Pairs[uint16(c)|'A'<<8]) >> 6 }

// Base64AlphabetEnd returns the offset of the first byte of p that is not
// in the standard base64 alphabet (or len(p)), sixteen bytes a round:
// eight lookups of pairs of bytes in the decoder's table and one test.
// It checks text without decoding it (shared/firehose keeps the records it
// will not transform as their text), about a quarter faster than decoding.
func Base64AlphabetEnd(p []byte) int {
	t := b64Pairs
	i := 0
	for ; i+16 <= len(p); i += 16 {
		x, y := binary.LittleEndian.Uint64(p[i:]), binary.LittleEndian.Uint64(p[i+8:])
		if t[uint16(x)]|t[uint16(x>>16)]|t[uint16(x>>32)]|t[uint16(x>>48)]|
			t[uint16(y)]|t[uint16(y>>16)]|t[uint16(y>>32)]|t[uint16(y>>48)] > 0xfff {
			break // the bytes one at a time below stop at the bad one
		}
	}
	for i < len(p) && Base64Sextet(p[i]) < 64 {
		i++
	}
	return i
}

// DecodeBase64Text decodes the text of a JSON string that holds plain
// base64, src starting just after the string's opening quote, for a
// decoder that reads the JSON around it itself (a Firehose request's
// records, laid out as Firehose lays them out): what AppendBase64 does on
// its fast way, without a Scanner. When the text is only alphabet
// characters, with padding at its end, and a quote closes it, it appends
// the value to dst and returns n, the text's length (the quote is at
// src[n]); otherwise ok is false, dst comes back as it was (its spare
// capacity may have been written to), and the caller reads the string as
// AppendBase64 does. Room in dst for the whole value saves growing it.
func DecodeBase64Text(dst, src []byte) (out []byte, n int, ok bool) {
	return decodeBase64Prefix(dst, src)
}

// decodeBase64Prefix decodes the text of a JSON string, src starting just
// after its opening quote, when it is plain base64 (only alphabet
// characters, padding at its end) closed by a quote: it appends the value
// to dst and returns the text's length. Otherwise ok is false, and dst
// comes back as it was (its spare capacity may have been written to). The
// value goes into dst's spare capacity, which grows as it needs to: a
// caller that gives it room for the whole value (a Firehose request's
// decoded size is known from its length) never pays for a copy.
//
// The text ends at the first quote (base64 holds none, and an escape
// before it fails the decoding), which bytes.IndexByte finds with the
// machine's vector instructions, as github.com/segmentio/asm/base64
// decodes (AVX2 on amd64, NEON on arm64, encoding/base64 elsewhere and
// for the last groups, padding included, so what decodes and to what is
// encoding/base64's). encoding/base64 skips line breaks, which a JSON
// string cannot hold unescaped: text with them decodes to fewer bytes
// than its length gives, and is left to the caller. On one core of the
// benchmark machine, records of 1 KB decode twice as fast as with the
// 8-characters-a-round decoder this replaced (BenchmarkAppendBase64:
// 6.3-8.7 GB/s against 3.3-3.7), of 60 KB four times, of 120 bytes as
// fast.
func decodeBase64Prefix(dst, src []byte) (out []byte, n int, ok bool) {
	n = bytes.IndexByte(src, '"')
	if n < 0 || n%4 != 0 {
		return dst, 0, false
	}
	text := src[:n]
	size := n / 4 * 3
	pad := 0 // the '=' at the end, at most two
	for pad < 2 && pad < n && text[n-1-pad] == '=' {
		pad++
	}
	buf := slices.Grow(dst, size)
	got, err := simd.StdEncoding.Decode(buf[len(buf):len(buf)+size], text)
	if err != nil || got != size-pad {
		return dst, 0, false
	}
	return buf[:len(buf)+got], n, true
}
