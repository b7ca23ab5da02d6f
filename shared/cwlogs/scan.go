package cwlogs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"
)

// errFallback means the document is not in the shape the scanner reads:
// a syntax error, a field of another type, a null, a key given twice or
// matching a field only case-insensitively, invalid UTF-8, a nested value
// in a field the payload does not define. encoding/json then decides, and
// words the error when there is one, so the scanner only ever has to be
// right about what it accepts (FuzzScanAgrees proves it is).
var errFallback = errors.New("cwlogs: document outside the scanner's shape")

// The payload's fields, as bits of a set, to find a field given twice.
const (
	seenMessageType = 1 << iota
	seenOwner
	seenLogGroup
	seenLogStream
	seenFilters
	seenEvents
)

// The log event's fields.
const (
	seenID = 1 << iota
	seenTimestamp
	seenMessage
)

// payloadKeys and eventKeys are every key the two objects define, for
// telling an unknown key from one encoding/json would match by case.
var (
	payloadKeys = []string{"messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents"}
	eventKeys   = []string{"id", "timestamp", "message"}
)

// scanner reads one subscription payload without reflection. Strings are
// taken from the document where they have no escapes, and unescaped into
// text where they do; either way the data it fills in shares their memory,
// which its caller reuses (see Decoder).
type scanner struct {
	b    []byte
	i    int
	text []byte
}

// scanPayload fills d from doc, the decompressed payload, as
// json.Unmarshal would, reusing evs and filters for the slices; text is
// the buffer for unescaped strings. Any error is errFallback.
//
// This is the one function that turns a payload's JSON into its data:
// swapping the scanner for another decoder changes it alone. It is not
// written on shared/jsonscan, which reads any JSON: on subscription
// payloads (VPC flow logs, Lambda logs) that took about twice as long,
// mostly in its string scan, which tests eight bytes at a time where this
// one finds a string's end with the vectorised bytes.IndexByte, and the
// payload's JSON is a third of the decompressor's work besides gunzip.
func scanPayload(doc []byte, d *events.CloudwatchLogsData, evs []events.CloudwatchLogsLogEvent, filters []string, text []byte) ([]byte, error) {
	s := scanner{b: doc, text: text[:0]}
	*d = events.CloudwatchLogsData{}
	s.space()
	if !s.consume('{') {
		return s.text, errFallback
	}
	seen := 0
	s.space()
	if !s.consume('}') {
		for {
			key, ok := s.key()
			if !ok {
				return s.text, errFallback
			}
			bit := 0
			switch key {
			case "messageType":
				bit = seenMessageType
				d.MessageType, ok = s.str()
			case "owner":
				bit = seenOwner
				d.Owner, ok = s.str()
			case "logGroup":
				bit = seenLogGroup
				d.LogGroup, ok = s.str()
			case "logStream":
				bit = seenLogStream
				d.LogStream, ok = s.str()
			case "subscriptionFilters":
				bit = seenFilters
				d.SubscriptionFilters, ok = s.strings(filters[:0])
			case "logEvents":
				bit = seenEvents
				d.LogEvents, ok = s.events(evs[:0])
			default:
				ok = !foldsTo(key, payloadKeys) && s.skipScalar()
			}
			if !ok || seen&bit != 0 {
				return s.text, errFallback
			}
			seen |= bit
			if !s.next('}') {
				break
			}
		}
		if s.i > len(s.b) {
			return s.text, errFallback
		}
	}
	s.space()
	if s.i != len(s.b) {
		return s.text, errFallback
	}
	return s.text, nil
}

// next reads the separator after a member or element: true after ",",
// false after the closing byte; anything else leaves s.i past the end.
func (s *scanner) next(closing byte) bool {
	s.space()
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case ',':
			s.i++
			s.space()
			return true
		case closing:
			s.i++
			return false
		}
	}
	s.i = len(s.b) + 1 // caller sees the error
	return false
}

// events reads the logEvents array; an empty one is an empty, non-nil
// slice, as encoding/json makes it.
func (s *scanner) events(evs []events.CloudwatchLogsLogEvent) ([]events.CloudwatchLogsLogEvent, bool) {
	if evs == nil {
		evs = make([]events.CloudwatchLogsLogEvent, 0, 64)
	}
	if !s.consume('[') {
		return nil, false
	}
	s.space()
	if s.consume(']') {
		return evs, true
	}
	for {
		if !s.consume('{') {
			return nil, false
		}
		var ev events.CloudwatchLogsLogEvent
		seen := 0
		s.space()
		if !s.consume('}') {
			for {
				key, ok := s.eventKey()
				if !ok {
					return nil, false
				}
				bit := 0
				switch key {
				case "id":
					bit = seenID
					ev.ID, ok = s.str()
				case "timestamp":
					bit = seenTimestamp
					ev.Timestamp, ok = s.int64()
				case "message":
					bit = seenMessage
					ev.Message, ok = s.str()
				default:
					ok = !foldsTo(key, eventKeys) && s.skipScalar()
				}
				if !ok || seen&bit != 0 {
					return nil, false
				}
				seen |= bit
				if !s.next('}') {
					break
				}
			}
			if s.i > len(s.b) {
				return nil, false
			}
		}
		evs = append(evs, ev)
		if !s.next(']') {
			break
		}
	}
	return evs, s.i <= len(s.b)
}

// strings reads an array of strings.
func (s *scanner) strings(out []string) ([]string, bool) {
	if out == nil {
		out = make([]string, 0, 2)
	}
	if !s.consume('[') {
		return nil, false
	}
	s.space()
	if s.consume(']') {
		return out, true
	}
	for {
		v, ok := s.str()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if !s.next(']') {
			break
		}
	}
	return out, s.i <= len(s.b)
}

// key reads an object key and the colon after it. Keys with escapes or
// beyond ASCII are left to encoding/json, which folds some of them ("ſ",
// the Kelvin sign) into ASCII field names.
func (s *scanner) key() (string, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", false
	}
	start := s.i + 1
	end := plainRun(s.b, start)
	if end >= len(s.b) || s.b[end] != '"' {
		return "", false
	}
	raw := s.b[start:end]
	s.i = end + 1
	s.space()
	if !s.consume(':') {
		return "", false
	}
	s.space()
	return unsafe.String(unsafe.SliceData(raw), len(raw)), true
}

// eventKey is key for a log event's object, whose keys are nearly always
// the three it defines: those are matched whole, without a search.
func (s *scanner) eventKey() (string, bool) {
	for _, k := range [...]struct{ quoted, key string }{{`"id"`, "id"}, {`"timestamp"`, "timestamp"}, {`"message"`, "message"}} {
		if len(s.b)-s.i >= len(k.quoted) && string(s.b[s.i:s.i+len(k.quoted)]) == k.quoted {
			s.i += len(k.quoted)
			s.space()
			if !s.consume(':') {
				return "", false
			}
			s.space()
			return k.key, true
		}
	}
	return s.key()
}

// foldsTo reports whether key matches one of names only case-insensitively,
// which encoding/json would take as that field.
func foldsTo(key string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(key, n) {
			return true
		}
	}
	return false
}

// str reads a string value. A string without escapes is the document's
// own bytes; one with escapes is unescaped into s.text.
func (s *scanner) str() (string, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", false // null, or not a string: encoding/json decides
	}
	start := s.i + 1
	// Three vectorised passes beat one byte loop on log text: find the
	// closing quote, check for a backslash before it, check for control
	// bytes and non-ASCII.
	if end := bytes.IndexByte(s.b[start:], '"'); end >= 0 {
		raw := s.b[start : start+end]
		if bytes.IndexByte(raw, '\\') < 0 && plainASCII(raw) {
			s.i = start + end + 1
			return unsafe.String(unsafe.SliceData(raw), len(raw)), true
		}
	}
	return s.unescape(start)
}

// plainByte marks the bytes a string holds as they are: printable ASCII
// other than the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// unescape reads the string from b[start] (just past its opening quote)
// into s.text, as encoding/json unquotes: a lone or mismatched UTF-16
// surrogate is U+FFFD. Runs between escapes are copied whole; log text
// escapes every few words (tabs, quotes of embedded JSON), so a byte loop
// finds them sooner than a search would.
func (s *scanner) unescape(start int) (string, bool) {
	from := len(s.text)
	b := s.b
	i, run := start, start
	for {
		if i = plainRun(b, i); i >= len(b) {
			return "", false
		}
		c := b[i]
		s.text = append(s.text, b[run:i]...)
		switch {
		case c == '"':
			s.i = i + 1
			out := s.text[from:]
			return unsafe.String(unsafe.SliceData(out), len(out)), true
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return "", false // invalid UTF-8, which encoding/json replaces
			}
			s.text = append(s.text, b[i:i+size]...)
			i += size
			run = i
			continue
		}
		// A backslash.
		if i+1 >= len(b) {
			return "", false
		}
		switch e := b[i+1]; e {
		case '"', '\\', '/':
			s.text = append(s.text, e)
		case 'b':
			s.text = append(s.text, '\b')
		case 'f':
			s.text = append(s.text, '\f')
		case 'n':
			s.text = append(s.text, '\n')
		case 'r':
			s.text = append(s.text, '\r')
		case 't':
			s.text = append(s.text, '\t')
		case 'u':
			r, ok := hex4(b, i+2)
			if !ok {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
					if next, ok := hex4(b, i+2); ok {
						r2 = next
					}
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			s.text = utf8.AppendRune(s.text, r)
			run = i
			continue
		default:
			return "", false
		}
		i += 2
		run = i
	}
}

// plainRun returns the index of the first byte at or after i that is not
// plainByte, or len(b); eight bytes at a time while they are all plain.
func plainRun(b []byte, i int) int {
	const (
		lo = 0x0101010101010101
		hi = 0x8080808080808080
	)
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q, bs := x^(lo*'"'), x^(lo*'\\')
		// The classic zero-byte test, exact for presence: a quote or a
		// backslash, a byte below 0x20 (which borrows), one at or above 0x80.
		special := (q-lo)&^q | (bs-lo)&^bs | (x - 0x20*lo) | x
		if special&hi != 0 {
			break
		}
	}
	for i < len(b) && plainByte[b[i]] {
		i++
	}
	return i
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// int64 reads an integer as encoding/json reads one into an int64: any
// fraction or exponent, or a value out of range, is its error to word.
func (s *scanner) int64() (int64, bool) {
	b, i := s.b, s.i
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	start := i
	var n uint64
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		if i-start >= 19 {
			return 0, false // beyond 19 digits: out of range for int64
		}
		n = n*10 + uint64(b[i]-'0')
		i++
	}
	switch {
	case i == start, b[start] == '0' && i-start > 1: // no digits, or a leading zero
		return 0, false
	case i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E'):
		return 0, false
	case !neg && n > 1<<63-1, neg && n > 1<<63:
		return 0, false
	}
	s.i = i
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

// skipScalar skips the value of a field the payload does not define (such
// as an account-level policy's "policyLevel" or an event's
// "ingestionTime"): a string, a number, true, false or null. An object or
// array there is left to encoding/json.
func (s *scanner) skipScalar() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, ok := s.str()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return false
	}
	s.i += len(lit)
	return true
}

// number skips a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	b, i := s.b, s.i
	digits := func() int {
		n := 0
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	start := i
	if n := digits(); n == 0 || b[start] == '0' && n > 1 {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	s.i = i
	return true
}

func (s *scanner) consume(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// space skips JSON white space.
func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// plainASCII reports whether b holds only printable ASCII (no control
// byte, nothing at or above 0x80), eight bytes at a time: the common case
// of log text, which then needs no further check.
func plainASCII(b []byte) bool {
	const (
		lo = 0x0101010101010101
		hi = 0x8080808080808080
	)
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		// A byte below 0x20 borrows into its high bit when 0x20 is
		// subtracted; a byte at or above 0x80 has it set already.
		if ((x-0x20*lo)|x)&hi != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 || c >= 0x80 {
			return false
		}
	}
	return true
}
