// Package jsonenc appends JSON text to byte slices without reflection or
// allocation, exactly as encoding/json would write the same values with
// HTML escaping off. The transformers' writers (pipeline, ddbjson, the
// CloudWatch Logs renderer) build every output line with it: they run on
// every byte of a user's stream, where encoding/json's reflection costs
// more than the rest of the work.
package jsonenc

import (
	"encoding/binary"
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
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, needing no escape
	for i := 0; i < len(s); {
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
// copying them into a string. Text that needs no escaping (printable
// ASCII without quote or backslash, the common case) is copied eight bytes
// at a time.
func AppendBytes(dst, b []byte) []byte {
	if plain(b) {
		dst = append(dst, '"')
		dst = append(dst, b...)
		return append(dst, '"')
	}
	// AppendString only reads s while it runs, so viewing b as a string
	// without a copy is safe.
	return AppendString(dst, unsafe.String(unsafe.SliceData(b), len(b)))
}

// SWAR constants: one byte value repeated in each byte of a uint64.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plain reports whether every byte of b is printable ASCII other than '"'
// and '\\', which AppendString writes as they are.
func plain(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ (lsb * '"')
		s := x ^ (lsb * '\\')
		// A byte below 0x20, equal to '"' or '\\', or of 0x80 or more
		// sets its top bit here (the lowest such byte always does).
		if ((q-lsb)&^q|(s-lsb)&^s|(x-lsb*0x20)&^x|x)&msb != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
