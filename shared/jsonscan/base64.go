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
// it, then decoding it with encoding/base64, takes twice as long as this
// one pass; BenchmarkAppendBase64, best of 8 on one core: 1.74 ms against
// 0.83 ms a MB.) Anything else (an escape, a byte outside
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

// b64Pairs holds the 12-bit value of every pair of base64 characters, the
// first in the index's low byte (as a little-endian load puts it), and
// badPair for a pair with a byte outside the standard alphabet. A round of
// eight characters is four lookups and one test for a bad character:
// half the lookups of a table of single characters, and half as long
// again as fast on the JSON benchmark (BenchmarkAppendBase64). It takes
// 128 KB, of which the 4,096 valid pairs touch about a sixth. (Four
// tables of 256 single characters, 4 KB, decoded 10% slower: a Firehose
// request's records are decoded as it is read, before any is transformed
// (all of them unless the last response filled up; see shared/firehose),
// so the pairs in use stay in the cache while they are.)
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

// group decodes the four characters of g (first character lowest) into
// their 24 bits, the first character's highest, reporting false if one is
// not in the alphabet.
func group(g uint32) (uint32, bool) {
	p0, p1 := uint32(b64Pairs[uint16(g)]), uint32(b64Pairs[uint16(g>>16)])
	return p0<<12 | p1, p0|p1 <= 0xfff
}

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
		a, ok := group(binary.LittleEndian.Uint32(src[i:]))
		if !ok {
			break
		}
		buf[o], buf[o+1], buf[o+2] = byte(a>>16), byte(a>>8), byte(a)
	}
	// What is left is the closing quote, or a last group with padding
	// and then the quote. (Bits of the last character that fall outside
	// the bytes are dropped, as encoding/base64 drops them.)
	rest := src[i:]
	switch {
	case len(rest) >= 1 && rest[0] == '"':
		return buf[:o], i, true
	case len(rest) >= 5 && rest[4] == '"' && rest[3] == '=':
		v := uint32(b64Pairs[binary.LittleEndian.Uint16(rest)])
		if rest[2] == '=' {
			if v > 0xfff {
				break
			}
			buf[o] = byte(v >> 4)
			return buf[:o+1], i + 4, true
		}
		c := Base64Sextet(rest[2])
		if v > 0xfff || c > 63 {
			break
		}
		v = v<<6 | c
		buf[o], buf[o+1] = byte(v>>10), byte(v>>2)
		return buf[:o+2], i + 4, true
	}
	return dst, 0, false
}

// decodeRounds decodes src into dst eight characters (six bytes) a round,
// while src has eight characters and dst room for a word, and stops before
// a round with a byte outside the alphabet. It returns the characters read
// and the bytes written. Four rounds go together while there is room for
// them, with one test for a bad character: 7-12% faster than a round at
// a time (records of 240 and 12,000 characters, one core). A round reads
// its characters as four 16-bit words (pairs), each loaded as the index
// of its lookup: an eighth fewer instructions than two 32-bit words
// split in halves (themselves a tenth fewer than one 64-bit word). The
// lookups are written out, two to a line, not left to a helper returning
// the four: the compiler marks where each inlined call was with an
// instruction of the call's line, a no-op when the line has none of its
// own, as the helper's call had not (a twenty-fourth of a round; here
// the lookups mark their loads). Each round is
// written as soon as it is decoded, bad character or not, the test coming
// after the four (what a bad round wrote lies past the bytes reported,
// which the caller writes over): holding the sixteen lookups until the
// test spilled them to the stack, a third more instructions. (A loop of
// its own, with offsets into the slices, keeps everything it needs in
// registers; src and dst move on as they are read and written, rather
// than being sliced at offsets.)
func decodeRounds(dst, src []byte) (read, written int) {
	t, le := b64Pairs, binary.LittleEndian
	inLen, outLen := len(src), len(dst)
	for len(src) >= 32 && len(dst) >= 26 {
		s, d := src[:32:32], dst[:26:26] // capacities known: no checks below
		// The 48 bits of each round, first character highest, written
		// big-endian: six bytes, and two more that the next round
		// writes over.
		p0, p1 := uint64(t[le.Uint16(s[0:])]), uint64(t[le.Uint16(s[2:])])
		p2, p3 := uint64(t[le.Uint16(s[4:])]), uint64(t[le.Uint16(s[6:])])
		bad := p0 | p1 | p2 | p3
		binary.BigEndian.PutUint64(d, p0<<52|p1<<40|p2<<28|p3<<16)
		p0, p1 = uint64(t[le.Uint16(s[8:])]), uint64(t[le.Uint16(s[10:])])
		p2, p3 = uint64(t[le.Uint16(s[12:])]), uint64(t[le.Uint16(s[14:])])
		bad |= p0 | p1 | p2 | p3
		binary.BigEndian.PutUint64(d[6:], p0<<52|p1<<40|p2<<28|p3<<16)
		p0, p1 = uint64(t[le.Uint16(s[16:])]), uint64(t[le.Uint16(s[18:])])
		p2, p3 = uint64(t[le.Uint16(s[20:])]), uint64(t[le.Uint16(s[22:])])
		bad |= p0 | p1 | p2 | p3
		binary.BigEndian.PutUint64(d[12:], p0<<52|p1<<40|p2<<28|p3<<16)
		p0, p1 = uint64(t[le.Uint16(s[24:])]), uint64(t[le.Uint16(s[26:])])
		p2, p3 = uint64(t[le.Uint16(s[28:])]), uint64(t[le.Uint16(s[30:])])
		bad |= p0 | p1 | p2 | p3
		binary.BigEndian.PutUint64(d[18:], p0<<52|p1<<40|p2<<28|p3<<16)
		if bad > 0xfff {
			break // the rounds one at a time below stop before the bad one
		}
		src, dst = src[32:], dst[24:]
	}
	for len(src) >= 8 && len(dst) >= 8 {
		p0, p1 := uint64(t[le.Uint16(src[0:])]), uint64(t[le.Uint16(src[2:])])
		p2, p3 := uint64(t[le.Uint16(src[4:])]), uint64(t[le.Uint16(src[6:])])
		if (p0 | p1 | p2 | p3) > 0xfff {
			break
		}
		binary.BigEndian.PutUint64(dst, p0<<52|p1<<40|p2<<28|p3<<16)
		src, dst = src[8:], dst[6:]
	}
	return inLen - len(src), outLen - len(dst)
}
