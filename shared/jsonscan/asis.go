package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

// MembersAsIs reads, after the value just read, the members of the object
// that come next for as long as they have the keys given, in that order,
// and are written compactly in the plainest form of their values, which a
// JSON writer writes back byte for byte: it returns how many it read,
// leaving the scanner after the last one's value. Each member must be a
// ',' and the key's text (see Key), with no white space anywhere, and a
// value that is
//
//   - a string of ASCII without control bytes or escapes;
//   - a number not starting with -0 (-0 itself being written as 0);
//   - true, false or null;
//   - an array or object (at most 64 deep) with no byte of 0x20 or below
//     in its text, and no escape in a string of it.
//
// A member that is not so is left unread (as is the rest of the object),
// even when it is valid JSON: the caller reads it the general way, which
// also tells why it is not valid. A decoder copying members it does not
// read to its output as they came (a stream of documents with the same
// keys) reads them so, without a round per member.
//
// It remembers in each key the keys of the objects nested in the value
// it read after it, which it then expects in the next value read after
// the key, as the documents of a stream nearly always have them (see
// nestedKeys): keys must be the caller's own, kept from one document to
// the next.
func (s *Scanner) MembersAsIs(keys []Key) int {
	if s.err != nil {
		return 0
	}
	d, i := s.data, s.pos
	room := MaxDepth - s.depth
	n := 0
	for ; n < len(keys); n++ {
		if i >= len(d) || d[i] != ',' || !keys[n].At(d, i+1) {
			break
		}
		v := i + 1 + len(keys[n].text)
		if v >= len(d) {
			break
		}
		var (
			end int
			ok  bool
		)
		switch c := d[v]; {
		case c == '"':
			// A member's string may be long (a user agent): asciiEnd
			// searches those with the vectorised bytes.IndexByte, after
			// four words (a URL, a time, an id fit).
			end, ok = asciiEnd(d, v+1)
			end++
		case c-'0' < 10: // not -0, which compactEnd declines
			end, ok = numberEnd(d, v)
		default:
			if keys[n].nested == nil {
				keys[n].nested = new(nestedKeys)
			}
			end, ok = compactEnd(d, v, room, keys[n].nested)
		}
		if !ok {
			break
		}
		i = end
	}
	s.pos = i
	return n
}

// compactEnd returns the offset just past the value at d[i] when it is a
// value MembersAsIs reads (room being how many arrays and objects it may
// open), and false when it is not, or not valid. A string there is read
// as a nested one, which declines a space: MembersAsIs reads a member's
// string itself. seen is the keys of the objects nested in the last
// value read so, which it expects again and updates.
func compactEnd(d []byte, i, room int, seen *nestedKeys) (int, bool) {
	var objects uint64 // the open containers, innermost lowest: 1 for an object
	open := 0
	keys := 0    // the keys read so far, in any object
	key := false // whether a key comes before the value at i
	for {
		// i is where a value is expected, after its key in an object.
		if key {
			// The key remembered at its place, compared in two words
			// (written here, as a call would cost as much again), or
			// read and remembered.
			if w := seen.at(keys); w != nil && w.n > 0 && i+16 <= len(d) && w.is(d[i:i+16:i+16]) {
				i += w.n
			} else {
				var ok bool
				if i, ok = compactKey(d, i, w); !ok {
					return 0, false
				}
			}
			keys++
			key = false
		}
		if i >= len(d) {
			return 0, false
		}
		closed := true
		switch c := d[i]; c {
		case '"':
			end, ok := compactString(d, i+1)
			if !ok {
				return 0, false
			}
			i = end + 1
		case '{', '[':
			if open == 64 || open >= room {
				return 0, false
			}
			i++
			if i < len(d) && d[i] == c+2 { // '}' is '{'+2, ']' is '['+2
				i++
				break
			}
			open++
			objects <<= 1
			closed = false
			if c == '{' {
				objects |= 1
				key = true
			}
		case 't':
			if !hasText(d, i, "true") {
				return 0, false
			}
			i += 4
		case 'f':
			if !hasText(d, i, "false") {
				return 0, false
			}
			i += 5
		case 'n':
			if !hasText(d, i, "null") {
				return 0, false
			}
			i += 4
		default:
			if open == 0 && c == '-' && i+1 < len(d) && d[i+1] == '0' {
				return 0, false
			}
			end, ok := numberEnd(d, i)
			if !ok {
				return 0, false
			}
			i = end
		}
		// After a complete value: close containers or move to the next
		// member or element.
		for closed {
			if open == 0 {
				return i, true
			}
			if i >= len(d) {
				return 0, false
			}
			object := objects&1 != 0
			switch c := d[i]; {
			case c == ',':
				i++
				key = object
				closed = false
			case c == '}' && object, c == ']' && !object:
				i++
				open--
				objects >>= 1
			default:
				return 0, false
			}
		}
	}
}

// nestedKeys is the keys of the objects nested in a member's value, the
// first len(nestedKeys) in the order MembersAsIs read them (whatever
// object each is in), as that value of the last document had them. The
// next document's nearly always come in the same order, the objects of
// an array alike ([{"sku":..,"qty":..},{"sku":..,"qty":..}]): a key that
// is the one remembered at its place is compared in a word or two,
// instead of being scanned for its end (half of reading such a value).
// Each is a key that compactKey read before, so it reads the same.
type nestedKeys [16]keyWords

// at returns the place of the n-th key read (counted from 0), nil past
// the last.
func (k *nestedKeys) at(n int) *keyWords {
	if n < len(k) {
		return &k[n]
	}
	return nil
}

// keyWords is a key's text as a member starts with it, quotes and colon
// included, of at most 16 bytes: as two words and masks, as Key holds
// its first sixteen bytes, and its length; a length of 0 holds none.
type keyWords struct {
	w0, w1, m0, m1 uint64
	n              int
}

// is reports whether x, 16 bytes, starts with w's key.
func (w *keyWords) is(x []byte) bool {
	return (binary.LittleEndian.Uint64(x)^w.w0)&w.m0|(binary.LittleEndian.Uint64(x[8:16])^w.w1)&w.m1 == 0
}

// compactKey returns the offset after the key at d[i] and its colon, as
// compactEnd reads a nested object's keys, and makes w, when not nil,
// that key.
func compactKey(d []byte, i int, w *keyWords) (int, bool) {
	if i >= len(d) || d[i] != '"' {
		return 0, false
	}
	end, ok := compactString(d, i+1)
	if !ok || end+1 >= len(d) || d[end+1] != ':' {
		return 0, false
	}
	if w != nil {
		w.set(d, i, end+2)
	}
	return end + 2, true
}

// set makes w the key whose text is d[i:end], when it fits.
func (w *keyWords) set(d []byte, i, end int) {
	n := end - i
	if n > 16 || i+16 > len(d) {
		w.n = 0
		return
	}
	// A shift by 64 or more makes 0: the masks of 8 and 16 bytes are ^0.
	w.m0 = 1<<(8*min(n, 8)) - 1
	w.m1 = 1<<(8*max(n-8, 0)) - 1
	w.w0 = binary.LittleEndian.Uint64(d[i:]) & w.m0
	w.w1 = binary.LittleEndian.Uint64(d[i+8:]) & w.m1
	w.n = n
}

// compactString returns the offset of the closing quote of the string
// whose text starts at d[i], as compactEnd reads a nested one, reporting
// false when a byte of it is a backslash or 0x20 or below.
func compactString(d []byte, i int) (int, bool) {
	for ; i+8 <= len(d); i += 8 {
		if m := nestedSpecial(binary.LittleEndian.Uint64(d[i:])); m != 0 {
			k := i + bits.TrailingZeros64(m)/8
			return k, d[k] == '"'
		}
	}
	for ; i < len(d); i++ {
		switch c := d[i]; {
		case c == '"':
			return i, true
		case c == '\\' || c <= ' ':
			return 0, false
		}
	}
	return 0, false
}

// nestedSpecial returns a mask of the bytes of the 8 in x that stop
// compactString: a quote, a backslash, 0x20 or below. As in special, the
// lowest byte marked is one of them (a borrow marks only bytes above it).
func nestedSpecial(x uint64) uint64 {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return ((q-lsb)&^q | (b-lsb)&^b | (x-lsb*0x21)&^x) & msb
}

// hasText reports whether d holds lit at offset i.
func hasText(d []byte, i int, lit string) bool {
	return i+len(lit) <= len(d) && string(d[i:i+len(lit)]) == lit
}

// numberEnd returns the end of the number at d[i], checked as scanNumber
// checks it, reporting false (and no error) where it does not hold one.
// (A byte less '0' is below 10 exactly for a digit: one test a digit.)
func numberEnd(d []byte, i int) (int, bool) {
	if d[i] == '-' {
		i++
	}
	switch {
	case i >= len(d):
		return 0, false
	case d[i] == '0':
		i++
	case d[i]-'1' < 9:
		for i++; i < len(d) && d[i]-'0' < 10; i++ {
		}
	default:
		return 0, false
	}
	if i < len(d) && d[i] == '.' {
		if i++; i >= len(d) || d[i]-'0' >= 10 {
			return 0, false
		}
		for i++; i < len(d) && d[i]-'0' < 10; i++ {
		}
	}
	if i < len(d) && d[i]|0x20 == 'e' {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i]-'0' >= 10 {
			return 0, false
		}
		for i++; i < len(d) && d[i]-'0' < 10; i++ {
		}
	}
	return i, true
}
