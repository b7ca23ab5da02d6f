// Package cloudfront parses Amazon CloudFront standard log (access log)
// lines into records, for the Firehose CloudFront transformer.
//
// A standard log line is W3C extended log format: tab-separated fields in
// the order AWS documents (standard logging reference, "Log file fields"),
// 33 of them today. Lines starting with "#" are the file's "#Version" and
// "#Fields" headers: Parse skips them, returning (nil, nil).
//
// # Fields
//
// The first field is timestamp, the request's date and time joined as RFC
// 3339 in UTC ("2019-12-04T21:02:31Z"); CloudFront logs both in UTC. Then
// come the 33 documented fields, in their documented order, each named by
// lower-casing the W3C name and turning "-" and "(" into "_" and dropping
// ")", so the names need no quoting in Athena, Glue or Spark:
//
//	date time x_edge_location sc_bytes c_ip cs_method cs_host cs_uri_stem
//	sc_status cs_referer cs_user_agent cs_uri_query cs_cookie
//	x_edge_result_type x_edge_request_id x_host_header cs_protocol cs_bytes
//	time_taken x_forwarded_for ssl_protocol ssl_cipher
//	x_edge_response_result_type cs_protocol_version fle_status
//	fle_encrypted_fields c_port time_to_first_byte x_edge_detailed_result_type
//	sc_content_type sc_content_len sc_range_start sc_range_end
//
// sc_bytes, sc_status, cs_bytes, fle_encrypted_fields, c_port,
// sc_content_len and the sc_range fields are int64 (sc_status "000", a
// viewer that hung up, is 0); time_taken and time_to_first_byte are float64
// seconds. The rest are strings. "-" and an empty field are null.
//
// CloudFront writes control characters, bytes from 127 up, space and
// <>"#%{}|\^~[]`' in field values as %XX (RFC 1738), so that no value can
// hold a tab. Parse decodes every string field once, as AWS documents it: a
// "%2520" in the log was "%20" on the wire. A "+" stays a "+". A "%" not
// followed by two hex digits is kept as it is. Decoded bytes that are not
// UTF-8 stay in the string; the JSON writer (pipeline.AppendJSON) writes
// each invalid byte as U+FFFD rather than failing the line.
//
// # Older and newer layouts
//
// CloudFront has added fields at the end of the line over the years; logs
// written before that have fewer fields (23, 24 or 26, say). A line needs
// at least the first 12 fields (through cs-uri-query); missing later fields
// are null. Fields after the 33rd are ignored rather than failing the
// line, so that a field AWS adds tomorrow does not stop delivery (AWS's own
// sample log has a line ending in an extra tab). Parse assumes the default
// field order: standard logging v2 configured with a custom field
// selection needs its own parser.
//
// # User agent
//
// A Parser built with Options.DeriveUserAgent adds three fields last,
// classified from the decoded user agent by UserAgent: browser_family,
// os_family and is_bot, all null when the user agent is.
package cloudfront

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"time"

	"lakestream/shared/civil"
	"lakestream/shared/excerpt"
	"lakestream/shared/logfield"
	"lakestream/shared/record"
)

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("cloudfront: malformed line")

// MinFields is the fewest fields a line may have: through cs-uri-query.
const MinFields = 12

type kind uint8

const (
	text    kind = iota // a URL-encoded string
	integer             // a non-negative int64
	seconds             // a non-negative decimal number, as float64
)

// fields is the documented field list, in order: the W3C name (used in
// error messages, as the AWS documentation spells it) and the record name.
var fields = [...]struct {
	w3c, name string
	kind      kind
}{
	{"date", "date", text},
	{"time", "time", text},
	{"x-edge-location", "x_edge_location", text},
	{"sc-bytes", "sc_bytes", integer},
	{"c-ip", "c_ip", text},
	{"cs-method", "cs_method", text},
	{"cs(Host)", "cs_host", text},
	{"cs-uri-stem", "cs_uri_stem", text},
	{"sc-status", "sc_status", integer},
	{"cs(Referer)", "cs_referer", text},
	{"cs(User-Agent)", "cs_user_agent", text},
	{"cs-uri-query", "cs_uri_query", text},
	{"cs(Cookie)", "cs_cookie", text},
	{"x-edge-result-type", "x_edge_result_type", text},
	{"x-edge-request-id", "x_edge_request_id", text},
	{"x-host-header", "x_host_header", text},
	{"cs-protocol", "cs_protocol", text},
	{"cs-bytes", "cs_bytes", integer},
	{"time-taken", "time_taken", seconds},
	{"x-forwarded-for", "x_forwarded_for", text},
	{"ssl-protocol", "ssl_protocol", text},
	{"ssl-cipher", "ssl_cipher", text},
	{"x-edge-response-result-type", "x_edge_response_result_type", text},
	{"cs-protocol-version", "cs_protocol_version", text},
	{"fle-status", "fle_status", text},
	{"fle-encrypted-fields", "fle_encrypted_fields", integer},
	{"c-port", "c_port", integer},
	{"time-to-first-byte", "time_to_first_byte", seconds},
	{"x-edge-detailed-result-type", "x_edge_detailed_result_type", text},
	{"sc-content-type", "sc_content_type", text},
	{"sc-content-len", "sc_content_len", integer},
	{"sc-range-start", "sc_range_start", integer},
	{"sc-range-end", "sc_range_end", integer},
}

// textFields has bit k set for each text field k.
var textFields = func() (m uint64) {
	for k, f := range fields {
		if f.kind == text {
			m |= 1 << k
		}
	}
	return m
}()

// userAgentField is the index of cs(User-Agent) in fields.
const userAgentField = 10

// Options configures a Parser.
type Options struct {
	// DeriveUserAgent adds browser_family, os_family and is_bot (see
	// UserAgent) after the log's fields.
	DeriveUserAgent bool
}

// Parser parses CloudFront standard log lines. It holds its options and
// a cache of user agents already classified, and is safe for concurrent
// use.
type Parser struct {
	opts   Options
	agents agentCache
	// shape is the names ParseInto writes, declared on its record
	// (record.Builder's SetShape).
	shape *record.Shape
}

// New returns a Parser with the given options.
func New(opts Options) *Parser {
	names := []string{timestampName}
	for _, f := range fields {
		names = append(names, f.name)
	}
	if opts.DeriveUserAgent {
		names = append(names, derivedNames[:]...)
	}
	return &Parser{opts: opts, shape: record.NewShape(names...)}
}

// timestampName and derivedNames are the names of the fields Parse
// writes besides the log's own.
const timestampName = "timestamp"

var derivedNames = [...]string{"browser_family", "os_family", "is_bot"}

var defaultParser = New(Options{})

// Fields returns the names of every field p writes, in order, for a fixed
// CSV or TSV column list.
func (p *Parser) Fields() []string { return p.Columns().Names() }

// Parse parses one line with the default options (no derived fields). It
// has the signature of a pipeline Parser.
func Parse(line []byte) (*record.Record, error) { return defaultParser.Parse(line) }

// timestampLen is the length of "2006-01-02T15:04:05Z".
const timestampLen = 20

// Parse parses one log line (without its line terminator): (nil, nil) for a
// "#" header line, a record, or an error wrapping ErrMalformed.
func (p *Parser) Parse(line []byte) (*record.Record, error) {
	// Room for the timestamp, the log's fields, the derived ones and two
	// spare for what a pipeline adds (an arrival time).
	b := record.NewBuilder(1 + len(fields) + 3 + 2)
	// The record's strings are slices of a copy of the line, which the
	// record alone refers to (ParseInto's are slices of the line).
	ok, err := p.ParseInto(b, bytes.Clone(line))
	if !ok {
		return nil, err
	}
	return &b.Record, nil
}

// ParseInto is Parse into r, which it resets first, for a caller parsing
// line after line into one record (a pipeline.ParserInto): the line's
// values then come from r's arena and cost no allocation each. The
// record's strings are slices of line itself, as a pipeline.ParserInto's
// may be: line must not change while the record is in use. It reports
// false for a header line and on error, leaving r empty.
func (p *Parser) ParseInto(r *record.Builder, line []byte) (bool, error) {
	r.Reset()
	if len(line) > 0 && line[0] == '#' {
		return false, nil
	}
	// Every string of the record is a slice of the line, or of the text
	// derived from it (decoded values, the timestamp) in r's arena:
	// copying the line into the arena first only cost its bytes' move
	// (see record.Line).
	s := record.Line(line)

	var ends [len(fields)]int
	n, encoded := splitFields(s, &ends)
	if n < MinFields {
		return false, errorf("%d tab-separated fields, want at least %d", n, MinFields)
	}

	timestamp, err := joinTimestamp(r, s[:ends[0]], s[ends[0]+1:ends[1]])
	if err != nil {
		return false, err
	}
	// The fields are written in place, in room taken once, and their
	// values boxed in room taken once (record.Boxes): an append and a
	// call to Box for each took a third of the loop.
	width := 1 + len(fields)
	if p.opts.DeriveUserAgent {
		width += 3
	}
	r.Fields = slices.Grow(r.Fields, width)[:1+len(fields)]
	out := (*[1 + len(fields)]record.Field)(r.Fields)
	boxes := r.Boxes(1+len(fields), len(fields))
	out[0] = record.Field{Name: timestampName, Value: boxes.String(timestamp)}
	// Bit k set: field k is a string as it stands, no '%' to decode.
	plain := textFields &^ encoded
	n = min(n, len(fields))
	start := 0
	for k := 0; k < n; k++ {
		f := &fields[k]
		end := ends[k]
		value := s[start:end]
		start = end + 1
		var v any
		switch {
		case len(value) == 0 || len(value) == 1 && value[0] == '-':
		case plain&(1<<k) != 0:
			v = boxes.String(value) // most fields
		case f.kind == text:
			v = boxes.String(decode(r, value))
		case f.kind == integer:
			i, ok := logfield.Digits(value)
			if !ok {
				r.Reset()
				return false, errorf("%s %s is not a whole number", f.w3c, excerpt.Quote(value))
			}
			v = boxes.Int(i)
		default:
			// Only a number of seconds is read by a call: the integers
			// and the encoded strings of a line, half a dozen, are read
			// and boxed here, where a call each cost a third of their
			// reading.
			if v, err = secondsValue(r, f.w3c, value); err != nil {
				r.Reset()
				return false, err
			}
		}
		out[1+k] = record.Field{Name: f.name, Value: v}
	}
	for k := n; k < len(fields); k++ {
		out[1+k] = record.Field{Name: fields[k].name} // an older layout's
	}
	if p.opts.DeriveUserAgent {
		var c agentClass
		if ua, ok := out[1+userAgentField].Value.(string); ok {
			c = p.agents.classify(ua)
		}
		r.Fields = append(r.Fields,
			record.Field{Name: derivedNames[0], Value: c.browser},
			record.Field{Name: derivedNames[1], Value: c.os},
			record.Field{Name: derivedNames[2], Value: c.bot})
	}
	r.SetShape(p.shape)
	return true, nil
}

// splitFields cuts s at its tabs into fields, as many as ends has room
// for (what follows the last is left out: fields a newer log layout adds),
// and returns how many it cut and, bit k for field k, which hold a '%'
// (only those need decode). Field k ends at ends[k] and starts after the
// end of the one before, or at 0. It reads s a word at a time, finding
// tabs and percent signs together: a search for each tab, and one for a
// '%' in each text field, were a fifth of reading a line. It writes
// offsets rather than strings: no pointer is stored for each field.
func splitFields(s string, ends *[len(fields)]int) (n int, encoded uint64) {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := load8(s[i : i+8])
		tabs, percents := zeroBytes(x^(lsb*'\t')), zeroBytes(x^(lsb*'%'))
		if percents == 0 {
			// Most words: only tabs to find.
			for ; tabs != 0; tabs &= tabs - 1 {
				ends[n] = i + bits.TrailingZeros64(tabs)/8
				if n++; n == len(ends) {
					return n, encoded
				}
			}
			continue
		}
		for ; tabs != 0; tabs &= tabs - 1 {
			// Percent signs before this tab are the field's: one test
			// for them all (a user agent has a dozen "%20").
			b := bits.TrailingZeros64(tabs)
			if below := uint64(1)<<b - 1; percents&below != 0 {
				encoded |= 1 << (uint(n) & 63)
				percents &^= below
			}
			ends[n] = i + b/8
			if n++; n == len(ends) {
				return n, encoded
			}
		}
		if percents != 0 {
			encoded |= 1 << (uint(n) & 63)
		}
	}
	for ; i < len(s); i++ {
		switch s[i] {
		case '%':
			encoded |= 1 << (uint(n) & 63)
		case '\t':
			ends[n] = i
			if n++; n == len(ends) {
				return n, encoded
			}
		}
	}
	ends[n] = len(s)
	return n + 1, encoded
}

// load8 packs the 8 bytes of s into a uint64, little-endian (the compiler
// makes it one load).
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// lsb has the low bit of every byte set: a byte value times lsb is that
// byte in every byte of a word.
const lsb = 0x0101010101010101

// zeroBytes returns x with the top bit of each zero byte set and every
// other bit clear. (Adding 0x7f to a byte's low seven bits carries into
// its top bit unless they are all zero; or-ing x in keeps a byte whose
// own top bit is set from counting.)
func zeroBytes(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	return ^((x&low7 + low7) | x | low7)
}

// secondsValue reads a number of seconds, which is not "-" or empty, as
// its record value; name is the field's W3C name, for the error.
func secondsValue(r *record.Builder, name, v string) (any, error) {
	if f, ok := shortDecimal(v); ok {
		return r.BoxFloat(f), nil
	}
	if !logfield.IsDecimal(v) {
		return nil, errorf("%s %s is not a number of seconds", name, excerpt.Quote(v))
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil { // hundreds of digits: beyond float64, and no JSON number
		return nil, errorf("%s %s is out of range", name, excerpt.Quote(v))
	}
	return r.BoxFloat(f), nil
}

// pow10 holds the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// shortDecimal reads digits with at most one '.' (as logfield.IsDecimal
// accepts: "0.002", "12", ".5") of at most 15 digits in all, as
// strconv.ParseFloat would, bit for bit, and reports false for anything
// else, which is left to ParseFloat. Such a number is n / 10^k with n and
// 10^k both exact in a float64, and IEEE division rounds their quotient
// correctly, as ParseFloat rounds; ParseFloat's own general reading cost
// CloudFront's two seconds fields a tenth of a line.
func shortDecimal(v string) (float64, bool) {
	if len(v) == 0 || len(v) > 16 {
		return 0, false
	}
	var n uint64
	digits, dot := 0, -1
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '.' && dot < 0 {
			dot = i
			continue
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		digits++
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	f := float64(n)
	if dot >= 0 {
		f /= pow10[len(v)-1-dot]
	}
	return f, true
}

// decode undoes CloudFront's %XX encoding once. A value without a "%XX"
// is returned as is; otherwise the result is held by r's arena.
//
// It copies a word at a time up to each '%', writing in place in the
// arena (record.Builder.Room): a user agent has a "%20" every few bytes,
// where a byte loop, or a search for each '%', cost a CloudFront line
// more than cutting it into fields.
func decode(r *record.Builder, v string) string {
	buf := r.Room(len(v))[:len(v)] // decoded is never longer than v
	n, i := 0, 0                   // n <= i: buf has room for what v has left
	for {
		// The bytes up to the next '%', a word at a time: a word is
		// stored whole, and what follows its '%' written over later.
		for i+8 <= len(v) {
			x := load8(v[i : i+8])
			binary.LittleEndian.PutUint64(buf[n:n+8], x)
			if p := zeroBytes(x ^ (lsb * '%')); p != 0 {
				k := bits.TrailingZeros64(p) / 8
				n, i = n+k, i+k
				break
			}
			n, i = n+8, i+8
		}
		for ; i < len(v) && v[i] != '%'; i++ {
			buf[n] = v[i]
			n++
		}
		if i == len(v) {
			break
		}
		c := byte('%') // kept when not followed by two hex digits
		if i+2 < len(v) {
			if hi, lo := unhex[v[i+1]], unhex[v[i+2]]; hi|lo < 16 {
				c = hi<<4 | lo
				i += 2
			}
		}
		buf[n] = c
		n, i = n+1, i+1
	}
	if n == len(v) {
		return v // nothing decoded: v as it stands, the room left free
	}
	return r.Keep(buf[:n])
}

// unhex is the value of each hex digit, and 0xff for every other byte.
var unhex = func() (t [256]byte) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = byte(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			t[c] = byte(c - 'A' + 10)
		default:
			t[c] = 0xff
		}
	}
	return t
}()

// joinTimestamp checks date (YYYY-MM-DD) and time (hh:mm:ss) and joins
// them into one RFC 3339 UTC timestamp, held by r's arena. It hands the
// instant over with it (record.Builder's HintTime): the pipeline reads
// it for partition keys and SCHEMA.
func joinTimestamp(r *record.Builder, date, clock string) (string, error) {
	if len(date) != 10 || date[4] != '-' || date[7] != '-' {
		return "", errorf("date %s is not YYYY-MM-DD", excerpt.Quote(date))
	}
	century, ok1 := two(date, 0)
	year, ok2 := two(date, 2)
	month, ok3 := two(date, 5)
	day, ok4 := two(date, 8)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return "", errorf("date %s is not YYYY-MM-DD", excerpt.Quote(date))
	}
	year += century * 100
	if !civil.Valid(year, month, day) {
		return "", errorf("date %q has no such day", date)
	}
	if len(clock) != 8 || clock[2] != ':' || clock[5] != ':' {
		return "", errorf("time %s is not hh:mm:ss", excerpt.Quote(clock))
	}
	hour, ok1 := two(clock, 0)
	minute, ok2 := two(clock, 3)
	sec, ok3 := two(clock, 6)
	if !ok1 || !ok2 || !ok3 {
		return "", errorf("time %s is not hh:mm:ss", excerpt.Quote(clock))
	}
	if hour > 23 || minute > 59 || sec > 59 {
		return "", errorf("time %q has no such time of day", clock)
	}
	// Written in place in the arena (record.Builder.Room).
	b := append(r.Room(timestampLen), date...)
	b = append(b, 'T')
	b = append(b, clock...)
	text := r.Keep(append(b, 'Z'))
	unix := civil.Days(year, month, day)*86400 + int64(hour*3600+minute*60+sec)
	r.HintTime(text, time.Unix(unix, 0).UTC())
	return text, nil
}

// two reads the two digits at s[i:i+2], which the caller checked are
// there: a date and a time of day are six such fields.
func two(s string, i int) (int, bool) {
	hi, lo := s[i]-'0', s[i+1]-'0'
	return int(hi)*10 + int(lo), hi <= 9 && lo <= 9
}

// errorf returns an error wrapping ErrMalformed.
func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
