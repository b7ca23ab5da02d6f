// Package syslog parses syslog messages into records, for the Firehose
// syslog transformer. Each line is read as RFC 5424 when a version follows
// its priority, as in
//
//	<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] message
//
// and as RFC 3164 (BSD syslog) otherwise, as in
//
//	<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed on /dev/pts/8
//
// # Fields
//
// In this order, null when the message does not have them:
//
//	priority       int64, PRI (null when a BSD message has none)
//	facility       int64, priority / 8
//	facility_name  kern user mail daemon auth syslog lpr news uucp cron
//	               authpriv ftp ntp security console solaris-cron local0..local7
//	severity       int64, priority % 8
//	severity_name  emerg alert crit err warning notice info debug
//	version        int64 (null for RFC 3164)
//	timestamp      RFC 3339 in UTC, with the fractional seconds the message
//	               has, digit for digit
//	hostname, app_name, procid, msgid
//	structured_data  an object of SD-ID to an object of parameter to value
//	               (null when "-"); a parameter repeated in an element (the
//	               origin element's "ip" may be) is an array of its values,
//	               and an SD-ID repeated in a message is merged into the first
//	message        the free-form text; an RFC 5424 message loses its UTF-8 BOM
//
// The RFC 5424 NILVALUE "-" is null in every header field. Parameter values
// have their \", \\ and \] escapes undone; any other backslash is kept, as
// RFC 5424 says.
//
// # RFC 3164
//
// A BSD message is an optional <PRI>, a timestamp ("Oct 11 22:14:15", the
// day padded with a space or a zero; or RFC 3339, as rsyslog writes with
// high-precision timestamps), an optional hostname, an optional tag
// ("app:", "app[pid]:") and the message. When the word after the timestamp
// is itself a tag, the message has no hostname.
//
// A BSD timestamp has no year and no zone. ParseAt reads it in the zone of
// the reference time it is given and picks the latest year that puts it at
// most a day after that time: a day of slack keeps a sender whose clock or
// zone is ahead from being dated a year back, and a log read at New Year
// still gets last year's December. Parse uses the current time in UTC.
//
// # Bytes
//
// Messages are not required to be UTF-8 and are not changed: invalid UTF-8
// stays in the strings, and the JSON writer (pipeline.AppendJSON) writes
// each invalid byte as U+FFFD rather than failing the line. Header field
// lengths and character sets are not enforced beyond what parsing needs.
package syslog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"lakestream/shared/civil"
	"lakestream/shared/excerpt"
	"lakestream/shared/record"
)

// ErrMalformed is wrapped by every error Parse and ParseAt return.
var ErrMalformed = errors.New("syslog: malformed message")

// Fields returns the names of every field Parse writes, in order, for a
// fixed CSV or TSV column list.
func Fields() []string { return Columns().Names() }

// Facility and severity names, by number.
var (
	facilityNames = [24]any{
		"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
		"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
		"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
	}
	severityNames = [8]any{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}
)

// maxTimeLen is the longest timestamp written:
// "2006-01-02T15:04:05.999999999Z".
const maxTimeLen = 30

// futureSlack is how far after the reference time a year-less timestamp
// may fall.
const futureSlack = 24 * time.Hour

// Parse parses one syslog message (without its line terminator), dating a
// year-less RFC 3164 timestamp against the current time in UTC. It has the
// signature of a pipeline Parser and never returns (nil, nil).
func Parse(line []byte) (*record.Record, error) {
	return ParseAt(line, time.Now().UTC())
}

// numFields is how many fields ParseAt writes.
const numFields = 13

// ParseAt is Parse with now as the reference time for year-less RFC 3164
// timestamps, which are read in now's location.
func ParseAt(line []byte, now time.Time) (*record.Record, error) {
	b := record.NewBuilder(numFields + 2) // room for what a pipeline adds (an arrival time)
	// The record's strings are slices of a copy of the line, which the
	// record alone refers to (ParseInto's are slices of the line).
	if err := ParseInto(b, bytes.Clone(line), now); err != nil {
		return nil, err
	}
	return &b.Record, nil
}

// ParseInto is ParseAt into r, which it resets first, for a caller parsing
// line after line into one record (a pipeline.ParserInto): the line's
// values then come from r's arena and cost no allocation each. The
// record's strings are slices of line itself, as a pipeline.ParserInto's
// may be: line must not change while the record is in use. On error r is
// left empty.
func ParseInto(r *record.Builder, line []byte, now time.Time) error {
	r.Reset()
	// Every string of the record is a slice of the line, or of the text
	// derived from it (unescaped values, the timestamp) in r's arena: the
	// pipeline is done with a line's record before its data changes, and
	// keeps no value past that without copying it (values of the JSON
	// reader's are slices of the data too), so copying each line into the
	// arena first only cost its bytes' move (1.4% of a syslog
	// invocation). The header's strings are boxed in room taken once
	// (record.Boxes). The fields are written in place, each once
	// (parser.set): room for them and for what a pipeline adds is taken
	// once.
	r.Fields = slices.Grow(r.Fields, numFields+2)[:numFields]
	p := parser{f: (*[numFields]record.Field)(r.Fields), r: r, s: unsafe.String(unsafe.SliceData(line), len(line)), now: now, boxes: r.Boxes(headerStrings, 0)}
	pri, err := p.priority()
	if err == nil {
		p.setPriority(pri)
		if version, ok := p.version(pri); ok {
			err = p.rfc5424(version)
		} else {
			err = p.rfc3164()
		}
	}
	if err != nil {
		r.Fields = r.Fields[:0]
		return err
	}
	r.SetShape(shape)
	return nil
}

// headerStrings is how many strings a header boxes at most: timestamp,
// hostname, app_name, procid, msgid and message.
const headerStrings = 6

// The places of the fields in the record, in the order of names.
const (
	fieldPriority = iota
	fieldFacility
	fieldFacilityName
	fieldSeverity
	fieldSeverityName
	fieldVersion
	fieldTimestamp
	fieldHostname
	fieldAppName
	fieldProcID
	fieldMsgID
	fieldStructuredData
	fieldMessage
)

// set writes field k of the record, named names[k], as v. Each field is
// set once a line, nil when the message does not have it: written in
// place as they are read, the values were not kept in a header and copied
// from it (a tenth of the parser's own work).
func (p *parser) set(k int, v any) { p.f[k] = record.Field{Name: names[k], Value: v} }

// setPriority sets the priority, facility and severity fields for pri, -1
// for none.
func (p *parser) setPriority(pri int) {
	if pri < 0 {
		for k := fieldPriority; k <= fieldSeverityName; k++ {
			p.set(k, nil)
		}
		return
	}
	p.set(fieldPriority, smallInts[pri])
	p.set(fieldFacility, smallInts[pri/8])
	p.set(fieldFacilityName, facilityNames[pri/8])
	p.set(fieldSeverity, smallInts[pri%8])
	p.set(fieldSeverityName, severityNames[pri%8])
}

// names are the names of the fields ParseInto writes, in order, and shape
// declares them on the record (record.Builder's SetShape).
var (
	names = [numFields]string{"priority", "facility", "facility_name", "severity", "severity_name", "version",
		"timestamp", "hostname", "app_name", "procid", "msgid", "structured_data", "message"}
	shape = record.NewShape(names[:]...)
)

// smallInts are the int64 values 0 to 255 as field values, which the
// runtime boxes without allocating, boxed once: a priority, its facility
// and severity, a version. (Boxing them was a call each.)
var smallInts = func() (t [256]any) {
	for i := range t {
		t[i] = int64(i)
	}
	return t
}()

// parser holds one message: s is the line, i the position reached, and
// f the fields of r.
type parser struct {
	f     *[numFields]record.Field
	r     *record.Builder
	s     string
	i     int
	now   time.Time
	boxes record.Boxes // room for the header's strings
}

// priority reads "<PRI>" at the start of the message; it is -1 when the
// message does not start with "<".
func (p *parser) priority() (int, error) {
	s := p.s
	if len(s) == 0 || s[0] != '<' {
		return -1, nil
	}
	// One to three digits and '>' within the first five bytes.
	stop := min(len(s), 5)
	n, end := digits(s, 1, stop)
	if end < 2 || end == stop || s[end] != '>' || n > 191 {
		return 0, errorf("priority %s is not <0> to <191>", excerpt.Quote(s[:tokenEnd(s, 0)]))
	}
	p.i = end + 1
	return n, nil
}

// version reads RFC 5424's VERSION and the space after it, if a priority
// was read and they follow it.
func (p *parser) version(pri int) (int, bool) {
	if pri < 0 {
		return 0, false
	}
	// Up to three digits.
	s, i := p.s, p.i
	n, j := digits(s, i, min(len(s), i+3))
	if j == i || j == len(s) || s[j] != ' ' {
		return 0, false
	}
	p.i = j + 1
	return n, true
}

// rfc5424 reads TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA
// [MSG] after the version.
func (p *parser) rfc5424(version int) error {
	if version < len(smallInts) {
		p.set(fieldVersion, smallInts[version])
	} else {
		p.set(fieldVersion, p.r.BoxInt(int64(version)))
	}
	stamp, err := p.field("timestamp")
	if err != nil {
		return err
	}
	var timestamp any
	if stamp != "-" {
		t, frac, err := parseRFC3339(stamp)
		if err != nil {
			return err
		}
		timestamp = p.boxes.String(p.writeStamp(stamp, t, frac))
	}
	p.set(fieldTimestamp, timestamp)
	for i, name := range [...]string{"hostname", "app-name", "procid", "msgid"} {
		v, err := p.field(name)
		if err != nil {
			return err
		}
		p.set(fieldHostname+i, p.optional(v))
	}
	sd, err := p.structuredData()
	if err != nil {
		return err
	}
	p.set(fieldStructuredData, sd)
	var message any
	switch {
	case p.i == len(p.s):
	case p.s[p.i] != ' ':
		return errorf("no space after the structured data")
	default:
		message = p.boxes.String(strings.TrimPrefix(p.s[p.i+1:], "\uFEFF"))
	}
	p.set(fieldMessage, message)
	return nil
}

// field reads a header field and the space after it.
func (p *parser) field(name string) (string, error) {
	if p.i == len(p.s) {
		return "", errorf("message ends before the %s", name)
	}
	j := tokenEnd(p.s, p.i)
	if j == p.i {
		return "", errorf("empty %s", name)
	}
	if j == len(p.s) {
		return "", errorf("message ends after the %s", name)
	}
	v := p.s[p.i:j]
	p.i = j + 1
	return v, nil
}

// structuredData reads "-" or one or more [SD-ID param="value" ...] elements.
// It reads with a local index, stored back at the end, and reads a value
// without escapes itself (paramValue reads the others): through p, and a
// call for each name and value, it took half again as long.
func (p *parser) structuredData() (any, error) {
	s, i := p.s, p.i
	if i == len(s) {
		return nil, errorf("message ends before the structured data")
	}
	if s[i] == '-' {
		p.i = i + 1
		return nil, nil
	}
	if s[i] != '[' {
		return nil, errorf("structured data %s is neither - nor [...]", excerpt.Quote(s[i:tokenEnd(s, i)]))
	}
	sd := p.r.NewRecord(2)
	for i < len(s) && s[i] == '[' {
		i++
		id := s[i:sdNameEnd(s, i)]
		if id == "" {
			return nil, errorf("structured data element without an SD-ID")
		}
		i += len(id)
		var elem *record.Record
		if v, ok := sd.Get(id); ok {
			elem = v.(*record.Record)
		} else {
			elem = p.r.NewRecord(4)
			sd.Fields = append(sd.Fields, record.Field{Name: id, Value: elem})
		}
		for i < len(s) && s[i] == ' ' {
			i++
			name := s[i:sdNameEnd(s, i)]
			i += len(name)
			if name == "" || i == len(s) || s[i] != '=' {
				return nil, errorf("structured data element %s has a parameter that is not name=\"value\"", excerpt.Quote(id))
			}
			i++
			// A value up to its closing quote, nearly always without
			// a backslash.
			j := quoteEnd(s, i+1)
			var value string
			if i < len(s) && s[i] == '"' && j < len(s) && s[j] == '"' {
				value, i = s[i+1:j], j+1
			} else {
				p.i = i
				var err error
				if value, err = p.paramValue(id, name); err != nil {
					return nil, err
				}
				i = p.i
			}
			p.addParam(elem, name, value)
		}
		if i == len(s) || s[i] != ']' {
			return nil, errorf("structured data element %s is not closed with ]", excerpt.Quote(id))
		}
		i++
	}
	p.i = i
	return sd, nil
}

// sdNameEnd returns the index of the first byte from i on that is not
// of an SD-NAME (printable US-ASCII but '=', ' ', ']' and '"'), or len(s).
// It looks at eight bytes at a time (see firstMarked): an SD-ID such as
// "exampleSDID@32473", a byte at a time, took seven instructions a byte.
func sdNameEnd(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		x := load8(s, i)
		// Below '!' borrows when '!' is taken away; 0x7f carries into
		// the top bit when 1 is added; 0x80 and up have it.
		if m := ((x - lsb*'!') | (x + lsb) | x | equal(x, '=') | equal(x, ']') | equal(x, '"')) & msb; m != 0 {
			return i + firstMarked(m)
		}
	}
	for i < len(s) && sdNameChars[s[i]] {
		i++
	}
	return i
}

// sdNameChars marks the bytes of an SD-NAME.
var sdNameChars = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = c != '=' && c != ']' && c != '"'
	}
	return t
}()

// quoteEnd returns the index of the first '"' or '\\' from i on, or
// len(s) (i, when i is past it): where a parameter value ends, nearly
// always at its closing quote. Eight bytes at a time, as sdNameEnd.
func quoteEnd(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		x := load8(s, i)
		if m := zero(x^(lsb*'"')) | zero(x^(lsb*'\\')); m != 0 {
			return i + firstMarked(m)
		}
	}
	for i < len(s) && s[i] != '"' && s[i] != '\\' {
		i++
	}
	return i
}

// Words of eight bytes, for the scans that look at eight bytes at a time.
const (
	lsb = 0x0101010101010101 // each byte's lowest bit
	msb = 0x8080808080808080 // each byte's top bit
)

// load8 packs s[i:i+8] into a uint64, little-endian: the compiler makes
// it one load.
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// zero marks, with its top bit, each zero byte of x: exactly the lowest
// one (a zero byte's borrow may mark bytes above it).
func zero(x uint64) uint64 { return (x - lsb) &^ x & msb }

// equal sets the top bit of each byte of x that is c, and of each byte
// from 0x80 up (and perhaps of bytes above either): for scans that stop
// at bytes from 0x80 up anyway, it is one instruction short of zero.
func equal(x uint64, c byte) uint64 { return (x ^ (lsb * uint64(c))) - lsb }

// firstMarked is the index of the lowest byte of m whose top bit is set.
func firstMarked(m uint64) int { return bits.TrailingZeros64(m) / 8 }

// paramValue reads a quoted PARAM-VALUE and undoes its escapes.
func (p *parser) paramValue(id, name string) (string, error) {
	s := p.s
	if p.i == len(s) || s[p.i] != '"' {
		return "", errorf("value of %s is not in double quotes", excerpt.Quote(id+"."+name))
	}
	start := p.i + 1
	escaped := false
	for j := start; j < len(s); j++ {
		switch s[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			p.i = j + 1
			if !escaped {
				return s[start:j], nil
			}
			return p.unescape(s[start:j]), nil
		}
	}
	return "", errorf("value of %s has no closing quote", excerpt.Quote(id+"."+name))
}

// unescape undoes \", \\ and \] in v; other backslashes are kept (RFC 5424
// section 6.3.3). The result is held by the record's arena.
func (p *parser) unescape(v string) string {
	var stack [256]byte // unescaped is shorter than v
	buf := stack[:0]
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) && (v[i+1] == '"' || v[i+1] == '\\' || v[i+1] == ']') {
			i++
			c = v[i]
		}
		buf = append(buf, c)
	}
	return p.r.Text(buf)
}

// addParam adds a parameter to an SD element. The record needs unique
// names, so a repeated parameter becomes a JSON array of all its values.
func (p *parser) addParam(elem *record.Record, name, value string) {
	prev, ok := elem.Get(name)
	if !ok {
		elem.Fields = append(elem.Fields, record.Field{Name: name, Value: p.r.Box(value)})
		return
	}
	var values []string
	switch prev := prev.(type) {
	case string:
		values = []string{prev}
	case json.RawMessage:
		_ = json.Unmarshal(prev, &values) // written by json.Marshal below
	}
	array, _ := json.Marshal(append(values, value)) // a []string always marshals
	elem.Set(name, json.RawMessage(array))
}

// rfc3164 reads TIMESTAMP [HOSTNAME] [TAG] MSG after the optional priority.
func (p *parser) rfc3164() error {
	timestamp, rest, err := p.bsdTimestamp(p.s[p.i:])
	if err != nil {
		return err
	}
	var hostname, appName, procID, message any
	switch {
	case rest == "":
	case rest[0] != ' ':
		return errorf("no space after the timestamp")
	default:
		hostname, appName, procID, message = p.bsdTag(rest[1:])
	}
	p.set(fieldVersion, nil)
	p.set(fieldTimestamp, timestamp)
	p.set(fieldHostname, hostname)
	p.set(fieldAppName, appName)
	p.set(fieldProcID, procID)
	p.set(fieldMsgID, nil)
	p.set(fieldStructuredData, nil)
	p.set(fieldMessage, message)
	return nil
}

// bsdTimestamp reads an RFC 3164 message's timestamp at the start of rest
// and returns what follows it.
func (p *parser) bsdTimestamp(rest string) (any, string, error) {
	switch {
	case rest != "" && isDigit(rest[0]):
		end := tokenEnd(rest, 0)
		stamp := rest[:end]
		t, frac, err := parseRFC3339(stamp)
		if err != nil {
			return nil, "", err
		}
		return p.boxes.String(p.writeStamp(stamp, t, frac)), rest[end:], nil
	}
	if month := bsdMonth(rest); month > 0 {
		t, text, after, err := p.parseBSDTime(rest, month)
		if err != nil {
			return nil, "", err
		}
		return p.boxes.String(p.hint(text, t, "")), after, nil
	}
	return nil, "", errorf("no timestamp (Mmm dd hh:mm:ss or RFC 3339) at %s", excerpt.Quote(rest))
}

// bsdTag reads [HOSTNAME] [TAG] MSG, what follows an RFC 3164 message's
// timestamp and a space.
func (p *parser) bsdTag(rest string) (hostname, appName, procID, message any) {
	var app, pid, msg string
	var isTag bool
	if j := wordEnd(rest); j > 0 && j < len(rest) && rest[j] == ' ' {
		// A word that ends at a space is no tag ("app:", "app[pid]"):
		// the hostname, as nearly always. (Found by the one scan of it
		// that splitTag would make, without trying it as a tag.)
		hostname, rest = p.optional(rest[:j]), rest[j+1:]
		app, pid, msg, isTag = splitTag(rest)
	} else {
		app, pid, msg, isTag = splitTag(rest)
		if first := rest[:tokenEnd(rest, 0)]; !isTag || isIPv6(first) {
			hostname = p.optional(first)
			rest = strings.TrimPrefix(rest[len(first):], " ")
			app, pid, msg, isTag = splitTag(rest)
		}
	}
	if !isTag {
		if rest != "" {
			message = p.boxes.String(rest)
		}
		return hostname, nil, nil, message
	}
	return hostname, p.boxes.String(app), p.optional(pid), p.boxes.String(msg)
}

// splitTag splits "app: msg", "app[pid]: msg" or "app[pid] msg".
func splitTag(s string) (app, pid, msg string, ok bool) {
	j := wordEnd(s)
	if j == 0 || j == len(s) {
		return "", "", "", false
	}
	app = s[:j]
	if s[j] == '[' {
		// The pid ends at the first ']', with no space before it. (A
		// loop: a pid is a few digits, shorter than the calls of
		// searching it.)
		k := j + 1
		for k < len(s) && s[k] != ']' && s[k] != ' ' {
			k++
		}
		if k == len(s) || s[k] == ' ' {
			return "", "", "", false
		}
		pid = s[j+1 : k]
		j = k + 1
		if j == len(s) {
			return app, pid, "", true
		}
		if s[j] == ' ' {
			return app, pid, s[j+1:], true
		}
	}
	if s[j] != ':' {
		return "", "", "", false
	}
	return app, pid, strings.TrimPrefix(s[j+1:], " "), true
}

// wordEnd returns the index of the first ' ', ':' or '[' in s, where a
// hostname or a tag's app name ends, or len(s). Eight bytes at a time,
// as sdNameEnd.
func wordEnd(s string) int {
	j := 0
	for ; j+8 <= len(s); j += 8 {
		x := load8(s, j)
		if m := zero(x^(lsb*' ')) | zero(x^(lsb*':')) | zero(x^(lsb*'[')); m != 0 {
			return j + firstMarked(m)
		}
	}
	for j < len(s) && !wordEnds[s[j]] {
		j++
	}
	return j
}

// wordEnds marks the bytes wordEnd stops at: one load a byte, where
// comparing with each was three.
var wordEnds = [256]bool{' ': true, ':': true, '[': true}

// isIPv6 reports whether a word is an IPv6 address (hex digits and at least
// two colons), which the tag rule would otherwise take for "app:".
func isIPv6(w string) bool {
	colons := 0
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case c == ':':
			colons++
		case c == '.' || isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F'):
		default:
			return false
		}
	}
	return colons >= 2
}

// bsdMonth is the month (1 to 12) whose name and a space s starts with,
// or 0.
func bsdMonth(s string) int {
	if len(s) < 4 || s[3] != ' ' {
		return 0
	}
	return civil.Month(s[:3])
}

// parseBSDTime reads "Mmm dd hh:mm:ss" (the day padded with a space or a
// zero, or not at all) and returns the instant in seconds since the epoch,
// its RFC 3339 text in UTC (held by the record's arena) and what follows;
// month is its name's, as bsdMonth read it.
func (p *parser) parseBSDTime(s string, month int) (int64, string, string, error) {
	i := 4
	if i < len(s) && s[i] == ' ' {
		i++
	}
	j := i
	for j < len(s) && j-i < 2 && isDigit(s[j]) {
		j++
	}
	clock := s[min(j+1, len(s)):]
	if j == i || j == len(s) || s[j] != ' ' || len(clock) < 8 || clock[2] != ':' || clock[5] != ':' {
		return 0, "", "", errorf("timestamp %q is not Mmm dd hh:mm:ss", s[:min(len(s), len("Mmm dd hh:mm:ss"))])
	}
	day := int(s[i] - '0') // one or two digits
	if j-i == 2 {
		day = day*10 + int(s[i+1]-'0')
	}
	hour, ok1 := two(clock, 0)
	minute, ok2 := two(clock, 3)
	sec, ok3 := two(clock, 6)
	if !ok1 || !ok2 || !ok3 {
		return 0, "", "", errorf("timestamp %s is not Mmm dd hh:mm:ss", excerpt.Quote(s[:j+9]))
	}
	if hour > 23 || minute > 59 || sec > 59 {
		return 0, "", "", errorf("timestamp %q has no such time of day", s[:j+9])
	}
	if day < 1 || day > 31 {
		return 0, "", "", errorf("timestamp %q has no such date", s[:j+9])
	}
	if p.now.Location() == time.UTC {
		days, date, dayText, ok := p.date(month, day, hour*3600+minute*60+sec)
		if !ok {
			return 0, "", "", errorf("timestamp %q has no such date", s[:j+9])
		}
		t := days*86400 + int64(hour*3600+minute*60+sec)
		// The date's text and the clock's (digits checked): what
		// civil.AppendRFC3339 would write for t, without working the
		// date out of t again. Written in place in the arena
		// (record.Builder.Room).
		text := p.r.Room(len("2006-01-02T15:04:05Z"))[:len("2006-01-02T15:04:05Z")]
		binary.LittleEndian.PutUint64(text[0:8], date)
		binary.LittleEndian.PutUint16(text[8:10], dayText)
		text[10] = 'T'
		// The clock's 8 bytes as one word (the compiler joins the byte
		// loads), where copying them was a call.
		binary.LittleEndian.PutUint64(text[11:19], uint64(clock[0])|uint64(clock[1])<<8|uint64(clock[2])<<16|uint64(clock[3])<<24|
			uint64(clock[4])<<32|uint64(clock[5])<<40|uint64(clock[6])<<48|uint64(clock[7])<<56)
		text[19] = 'Z'
		return t, p.r.Keep(text), clock[8:], nil
	}
	t, ok := p.dateYearIn(month, day, hour, minute, sec)
	if !ok {
		return 0, "", "", errorf("timestamp %q has no such date", s[:j+9])
	}
	var b [maxTimeLen]byte
	return t, p.r.Text(civil.AppendRFC3339(b[:0], t, "")), clock[8:], nil
}

// monthDigits holds the two digits of each month, from 1.
const monthDigits = "00010203040506070809101112"

// limitDate is the date of a day since the epoch, with the days since the
// epoch of January 1 of its year and of the year before, and whether
// each is a leap year: the years nearly every date is dated in.
type limitDate struct {
	days             int64
	year, month, day int
	yearDays         [2]int64 // year-1, year
	leap             [2]bool
}

// daysBefore is the number of days in a common year before each month.
var daysBefore = [13]int64{0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334}

// lastLimit is the date of the limit (see pickYear) that date worked out
// last, for any parser: the limit moves with the reference time, but its
// day only once a day, and working its date out took a fifth of reading
// a BSD timestamp. It is replaced, never changed, so that parsers on
// other goroutines may read it.
var lastLimit atomic.Pointer[limitDate]

// dayDate is a year-less date as date dates it: its days since the epoch
// and its text ("2006-01-02"), as little-endian words of "2006-01-" and
// "02", and what it was dated from: the month and day read, under the
// limit of a reference time.
type dayDate struct {
	limit      *limitDate
	month, day int
	days       int64
	text       uint64
	dayText    uint16
}

// lastDay is the date date worked out last, for any parser: the lines of
// a stream are nearly all of one day, whose year and text took more than
// a third of reading a BSD timestamp. Like lastLimit it is replaced,
// never changed.
var lastDay atomic.Pointer[dayDate]

// date dates a year-less time in UTC, secOfDay seconds into the day (see
// pickYear), returning its days since the epoch and its text (see
// dayDate).
func (p *parser) date(month, day, secOfDay int) (days int64, text uint64, dayText uint16, ok bool) {
	limitDays, limitSec := civil.SplitSeconds(p.now.Unix() + int64(futureSlack/time.Second))
	l := lastLimit.Load()
	if l == nil || l.days != limitDays {
		l = &limitDate{days: limitDays}
		l.year, l.month, l.day = civil.Date(limitDays)
		for k, y := range [2]int{l.year - 1, l.year} {
			l.yearDays[k], l.leap[k] = civil.Days(y, 1, 1), civil.DaysIn(y, 2) == 29
		}
		lastLimit.Store(l)
	}
	// On the limit's own date the year depends on the time of day too:
	// such a date is neither taken from lastDay nor kept in it.
	onLimit := month == l.month && day == l.day
	if d := lastDay.Load(); d != nil && d.limit == l && d.month == month && d.day == day && !onLimit {
		return d.days, d.text, d.dayText, true
	}
	year, ok := pickYear(l.year, l.month, l.day, limitSec, month, day, secOfDay)
	if !ok {
		return 0, 0, 0, false
	}
	if k := year - l.year + 1; k == 0 || k == 1 {
		// From January 1, without civil.Days' arithmetic of eras (a
		// third of reading the timestamp).
		days = l.yearDays[k] + daysBefore[month] + int64(day-1)
		if month > 2 && l.leap[k] {
			days++
		}
	} else {
		days = civil.Days(year, month, day)
	}
	hi, lo := year/100, year%100
	text = binary.LittleEndian.Uint64([]byte{byte('0' + hi/10), byte('0' + hi%10), byte('0' + lo/10), byte('0' + lo%10), '-',
		monthDigits[2*month], monthDigits[2*month+1], '-'})
	dayText = uint16('0'+day/10) | uint16('0'+day%10)<<8
	if !onLimit {
		lastDay.Store(&dayDate{limit: l, month: month, day: day, days: days, text: text, dayText: dayText})
	}
	return days, text, dayText, true
}

// pickYear dates a year-less time in UTC, secOfDay seconds into the day: the
// latest year in which it exists and is at most futureSlack after now,
// the limit, which is limitSec seconds into limitYear-limitMonth-limitDay.
// Feb 29 may need to go back eight years. The limit's own date settles
// the year with one calendar conversion, rather than trying year after
// year from the next.
func pickYear(limitYear, limitMonth, limitDay, limitSec, month, day, secOfDay int) (int, bool) {
	// now is a day before the limit: in the year before on January 1.
	nowYear := limitYear
	if limitMonth == 1 && limitDay == 1 {
		nowYear--
	}
	year := limitYear
	if month > limitMonth || month == limitMonth && (day > limitDay || day == limitDay && secOfDay > limitSec) {
		year-- // after the limit in its year
	}
	for ; year >= nowYear-8; year-- {
		if civil.Valid(year, month, day) && year >= 0 && year <= 9999 {
			return year, true
		}
	}
	return 0, false
}

// dateYearIn is dateYear in now's zone, which is not UTC.
func (p *parser) dateYearIn(month, day, hour, minute, sec int) (int64, bool) {
	limit := p.now.Add(futureSlack)
	for year := p.now.Year() + 1; year >= p.now.Year()-8; year-- {
		t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, p.now.Location())
		if utc := t.UTC().Year(); t.Day() == day && !t.After(limit) && utc >= 0 && utc <= 9999 {
			return t.Unix(), true
		}
	}
	return 0, false
}

// parseRFC3339 reads RFC 5424's TIMESTAMP: "2003-10-11T22:14:15.003Z" or
// with an offset, "2003-08-24T05:14:15.000003-07:00". It returns the
// instant in seconds since the epoch and the fractional digits as written.
func parseRFC3339(v string) (int64, string, error) {
	bad := func() (int64, string, error) {
		return 0, "", errorf("timestamp %s is not RFC 3339", excerpt.Quote(v))
	}
	// 2006-01-02T15:04:05 is 19 bytes, and a zone at least 1 more.
	if len(v) < 20 || v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' {
		return bad()
	}
	year, ok1 := atoi(v[0:4])
	month, ok2 := two(v, 5)
	day, ok3 := two(v, 8)
	hour, ok4 := two(v, 11)
	minute, ok5 := two(v, 14)
	sec, ok6 := two(v, 17)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return bad()
	}
	rest := v[19:]
	frac := ""
	if rest[0] == '.' {
		k := 1
		for k < len(rest) && isDigit(rest[k]) {
			k++
		}
		if k == 1 || k > 10 {
			return bad()
		}
		frac, rest = rest[1:k], rest[k:]
	}
	var offset int64
	switch {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		zh, ok1 := two(rest, 1)
		zm, ok2 := two(rest, 4)
		if !ok1 || !ok2 || zh > 23 || zm > 59 {
			return bad()
		}
		offset = int64(zh*3600 + zm*60)
		if rest[0] == '+' {
			offset = -offset
		}
	default:
		return bad()
	}
	if month < 1 || month > 12 || hour > 23 || minute > 59 || sec > 59 || !civil.Valid(year, month, day) {
		return 0, "", errorf("timestamp %s has no such date or time", excerpt.Quote(v))
	}
	t := civil.Days(year, month, day)*86400 + int64(hour*3600+minute*60+sec) + offset
	if t < civil.MinRFC3339 || t > civil.MaxRFC3339 {
		return 0, "", errorf("timestamp %s is out of range in UTC", excerpt.Quote(v))
	}
	return t, frac, nil
}

// writeTime writes the instant t (seconds since the epoch, in years 0 to
// 9999) as RFC 3339 in UTC, held by the record's arena, and hands the
// instant over with it (hint).
func (p *parser) writeTime(t int64, frac string) string {
	var b [maxTimeLen]byte
	return p.hint(p.r.Text(civil.AppendRFC3339(b[:0], t, frac)), t, frac)
}

// hint hands the instant t with the fractional digits frac over with
// text, its RFC 3339 form (record.Builder's HintTime), and returns text:
// the pipeline reads it for partition keys and SCHEMA.
func (p *parser) hint(text string, t int64, frac string) string {
	nsec := 0
	if frac != "" {
		for i := range 9 {
			nsec *= 10
			if i < len(frac) {
				nsec += int(frac[i] - '0')
			}
		}
	}
	p.r.HintTime(text, time.Unix(t, int64(nsec)).UTC())
	return text
}

// writeStamp is writeTime for a timestamp read from stamp, its RFC 3339
// text (or none: ""). Text in UTC, ending in "Z", is what writeTime would
// write, digit for digit (FuzzStampAsWritten), so it is the value as it
// stands, without writing it again.
func (p *parser) writeStamp(stamp string, t int64, frac string) string {
	if strings.HasSuffix(stamp, "Z") {
		return p.hint(stamp, t, frac)
	}
	return p.writeTime(t, frac)
}

// two parses the two digits at s[i:i+2] (which the caller checked are
// there), without atoi's loop: a timestamp has six such fields.
func two(s string, i int) (int, bool) {
	hi, lo := s[i]-'0', s[i+1]-'0'
	return int(hi)*10 + int(lo), hi <= 9 && lo <= 9
}

// atoi parses a non-empty run of digits (at most a few).
func atoi(v string) (int, bool) {
	if v == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return 0, false
		}
		n = n*10 + int(v[i]-'0')
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits reads the decimal digits of s from i on, up to stop, and returns
// their value and the index after them: one pass that stops at the first
// non-digit, its bound computed once by the caller (a min in the loop's
// test was a third of reading the priority).
func digits(s string, i, stop int) (n, end int) {
	for i < stop {
		d := s[i] - '0'
		if d > 9 {
			break
		}
		n, i = n*10+int(d), i+1
	}
	return n, i
}

// tokenEnd returns the index of the first space at or after i, or len(s)
// (i, when i is past it). Eight bytes at a time, as sdNameEnd: an RFC 5424
// header field is a few words long, shorter than the call to IndexByte
// that searched it.
func tokenEnd(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if m := zero(load8(s, i) ^ (lsb * ' ')); m != 0 {
			return i + firstMarked(m)
		}
	}
	for i < len(s) && s[i] != ' ' {
		i++
	}
	return i
}

// optional is v as a field value, or null for "" and the NILVALUE "-".
func (p *parser) optional(v string) any {
	if v == "" || v == "-" {
		return nil
	}
	return p.boxes.String(v)
}

// errorf returns an error wrapping ErrMalformed.
func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
