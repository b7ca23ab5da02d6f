// Package jsonenc appends JSON text to byte slices without reflection or
// allocation, exactly as encoding/json would write the same values with
// HTML escaping off. The transformers' writers (pipeline, ddbjson, the
// CloudWatch Logs renderer) build every output line with it: they run on
// every byte of a user's stream, where encoding/json's reflection costs
// more than the rest of the work.
package jsonenc

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// ErrNotFinite is returned for NaN and infinities, which JSON cannot hold.
var ErrNotFinite = errors.New("jsonenc: not a finite number")

// AppendFloat writes f as encoding/json does: plain decimal between 1e-6
// and 1e21, exponent form outside, with a two-digit exponent trimmed
// ("1e-07" becomes "1e-7") — the ES6 number format.
func AppendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("%w: %v", ErrNotFinite, f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

const hexDigits = "0123456789abcdef"

// AppendString writes s as a JSON string the way encoding/json does with
// HTML escaping off: quote, backslash and control characters escaped (\n,
// \r, \t, \b, \f short forms), U+2028 and U+2029 escaped so the output is
// also valid JavaScript, and each byte of invalid UTF-8 as \ufffd.
func AppendString(dst []byte, s string) []byte {
	i := plainPrefix(s)
	dst = append(dst, '"')
	if i == len(s) {
		// The usual field name or value: nothing to escape, one copy.
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := 0 // s[start:i] is pending, needing no escape
	for i < len(s) {
		// Most of a log line is printable ASCII: pass over it eight
		// bytes at a time.
		for i+8 <= len(s) && plain(load8(s, i)) {
			i += 8
		}
		if i == len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// StringLen is len(AppendString(nil, s)), computed without writing: callers
// that must stay under a byte budget (a Lambda response) size their output
// before building it.
func StringLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		for i+8 <= len(s) && plain(load8(s, i)) {
			i += 8
			n += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == '\u2028' || r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

// AppendBytes is AppendString for text held in a []byte: decoders that
// unescape into reused buffers write their strings with it without first
// copying them into a string. Text that needs no escaping is copied
// whole, as AppendString copies it.
func AppendBytes(dst, b []byte) []byte {
	// AppendString only reads s while it runs, so viewing b as a string
	// without a copy is safe.
	return AppendString(dst, unsafe.String(unsafe.SliceData(b), len(b)))
}

// SWAR constants: one byte value repeated in each byte of a uint64.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plain reports whether the 8 bytes packed in x are all printable ASCII
// other than a quote and a backslash: bytes written as they are.
func plain(x uint64) bool { return EscapeMask(x)&msb == 0 }

// EscapeMask sets the top bit of the bytes of x (eight bytes of a string,
// little-endian) that AppendString does not copy as they are: a quote, a
// backslash, a control character, or a byte of a multi-byte character
// (from 0x80 up; escaped only when invalid or U+2028, U+2029). It may set
// the top bit of bytes after such a byte too (a borrow), never when there
// is none: the test is whether any is set, x's bytes all copied as they
// are when EscapeMask(x)&0x8080808080808080 is 0. Writers that copy a
// string a word at a time check each word with it as they go.
//
// A byte from 0x80 up sets its own top bit (the last term), so the
// subtractions need only tell the bytes below: under 0x20 (the byte less
// 0x20 borrows), a quote or a backslash (the byte xor it is 0, and 0 less
// 1 borrows).
func EscapeMask(x uint64) uint64 {
	return ((x ^ (lsb * '"')) - lsb) | ((x ^ (lsb * '\\')) - lsb) | (x - lsb*0x20) | x
}

// plainPrefix returns len(s) when every byte of s is written as it is
// (printable ASCII other than a quote and a backslash), and otherwise an
// index before which every byte is.
func plainPrefix(s string) int {
	if len(s) < 8 {
		if len(s) >= 4 {
			// Field names and short values: two words that overlap,
			// one test, instead of four tests a byte.
			if plain(uint64(load4(s, 0)) | uint64(load4(s, len(s)-4))<<32) {
				return len(s)
			}
			return 0
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
				return i
			}
		}
		return len(s)
	}
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !plain(load8(s, i)) {
			return i
		}
	}
	if plain(load8(s, len(s)-8)) { // the tail, overlapping what was checked
		return len(s)
	}
	return i
}

// load4 packs s[i:i+4] into a uint32, little-endian (one load).
func load4(s string, i int) uint32 {
	s = s[i : i+4]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// load8 packs s[i:i+8] into a uint64, little-endian (the compiler makes it
// one load).
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
