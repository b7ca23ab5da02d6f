package syslog

// The parser as it was before it was made faster (commit 542e225), kept
// as the reference of FuzzParseReference: the new one must give every line
// the same record, or the same error. Only what changed since is copied;
// the rest (two, atoi, the tables) is shared.

import (
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lakestream/shared/civil"
	"lakestream/shared/excerpt"
	"lakestream/shared/pipeline/pipelinetest"
	"lakestream/shared/record"
)

// refParseInto is ParseAt into r, which it resets first, for a caller parsing
// line after line into one record (a pipeline.ParserInto): the line's
// values then come from r's arena and cost no allocation each. On error r
// is left empty.
func refParseInto(r *record.Builder, line []byte, now time.Time) error {
	r.Reset()
	// Every string of the record is a slice of one copy of the line, or
	// of the text derived from it (unescaped values, the timestamp); the
	// refHeader's strings are boxed in room taken once (record.Boxes).
	p := refParser{r: r, s: r.Text(line), now: now, boxes: r.Boxes(headerStrings, 0)}
	pri, err := p.priority()
	if err != nil {
		return err
	}
	var h refHeader
	if version, ok := p.version(pri); ok {
		h, err = p.rfc5424(version)
	} else {
		h, err = p.rfc3164()
	}
	if err != nil {
		return err
	}
	h.fill(r, pri)
	return nil
}

// refHeader is what a message holds besides its priority.
type refHeader struct {
	version        any // int64, or nil for RFC 3164
	timestamp      any
	hostname       any
	appName        any
	procID         any
	msgID          any
	structuredData any // *record.Record or nil
	message        any
}

// fill writes the record's fields to r, in place: room for them and for
// what a pipeline adds is taken once.
func (h *refHeader) fill(r *record.Builder, pri int) {
	var priority, facility, facilityName, severity, severityName any
	if pri >= 0 {
		priority = smallInts[pri]
		facility, facilityName = smallInts[pri/8], facilityNames[pri/8]
		severity, severityName = smallInts[pri%8], severityNames[pri%8]
	}
	r.Fields = slices.Grow(r.Fields, numFields+2)[:numFields]
	f := (*[numFields]record.Field)(r.Fields)
	n := &names
	f[0] = record.Field{Name: n[0], Value: priority}
	f[1] = record.Field{Name: n[1], Value: facility}
	f[2] = record.Field{Name: n[2], Value: facilityName}
	f[3] = record.Field{Name: n[3], Value: severity}
	f[4] = record.Field{Name: n[4], Value: severityName}
	f[5] = record.Field{Name: n[5], Value: h.version}
	f[6] = record.Field{Name: n[6], Value: h.timestamp}
	f[7] = record.Field{Name: n[7], Value: h.hostname}
	f[8] = record.Field{Name: n[8], Value: h.appName}
	f[9] = record.Field{Name: n[9], Value: h.procID}
	f[10] = record.Field{Name: n[10], Value: h.msgID}
	f[11] = record.Field{Name: n[11], Value: h.structuredData}
	f[12] = record.Field{Name: n[12], Value: h.message}
	r.SetShape(shape)
}

// refParser holds one message: s is the line, held by r's arena, and i the
// position reached.
type refParser struct {
	r     *record.Builder
	s     string
	i     int
	now   time.Time
	boxes record.Boxes // room for the refHeader's strings
}

// priority reads "<PRI>" at the start of the message; it is -1 when the
// message does not start with "<".
func (p *refParser) priority() (int, error) {
	s := p.s
	if len(s) == 0 || s[0] != '<' {
		return -1, nil
	}
	// One to three digits and '>' within the first five bytes.
	n, end := 0, 1
	for ; end < min(len(s), 5) && isDigit(s[end]); end++ {
		n = n*10 + int(s[end]-'0')
	}
	if end < 2 || end == min(len(s), 5) || s[end] != '>' || n > 191 {
		return 0, errorf("priority %s is not <0> to <191>", excerpt.Quote(s[:refTokenEnd(s, 0)]))
	}
	p.i = end + 1
	return n, nil
}

// version reads RFC 5424's VERSION and the space after it, if a priority
// was read and they follow it.
func (p *refParser) version(pri int) (int, bool) {
	if pri < 0 {
		return 0, false
	}
	j := p.i
	for j < len(p.s) && j-p.i < 3 && isDigit(p.s[j]) {
		j++
	}
	if j == p.i || j == len(p.s) || p.s[j] != ' ' {
		return 0, false
	}
	n, _ := atoi(p.s[p.i:j])
	p.i = j + 1
	return n, true
}

// rfc5424 reads TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA
// [MSG] after the version.
func (p *refParser) rfc5424(version int) (refHeader, error) {
	var h refHeader
	if version < len(smallInts) {
		h.version = smallInts[version]
	} else {
		h.version = p.r.BoxInt(int64(version))
	}
	stamp, err := p.field("timestamp")
	if err != nil {
		return h, err
	}
	if stamp != "-" {
		t, frac, err := refParseRFC3339(stamp)
		if err != nil {
			return h, err
		}
		h.timestamp = p.boxes.String(p.writeStamp(stamp, t, frac))
	}
	// One after the other, not through pointers into h, which would move
	// h to the heap.
	var values [4]any
	for i, name := range [...]string{"hostname", "app-name", "procid", "msgid"} {
		v, err := p.field(name)
		if err != nil {
			return h, err
		}
		values[i] = p.optional(v)
	}
	h.hostname, h.appName, h.procID, h.msgID = values[0], values[1], values[2], values[3]
	if h.structuredData, err = p.structuredData(); err != nil {
		return h, err
	}
	switch {
	case p.i == len(p.s):
	case p.s[p.i] != ' ':
		return h, errorf("no space after the structured data")
	default:
		h.message = p.boxes.String(strings.TrimPrefix(p.s[p.i+1:], "\uFEFF"))
	}
	return h, nil
}

// field reads a refHeader field and the space after it.
func (p *refParser) field(name string) (string, error) {
	if p.i == len(p.s) {
		return "", errorf("message ends before the %s", name)
	}
	j := refTokenEnd(p.s, p.i)
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
func (p *refParser) structuredData() (any, error) {
	s := p.s
	if p.i == len(s) {
		return nil, errorf("message ends before the structured data")
	}
	if s[p.i] == '-' {
		p.i++
		return nil, nil
	}
	if s[p.i] != '[' {
		return nil, errorf("structured data %s is neither - nor [...]", excerpt.Quote(s[p.i:refTokenEnd(s, p.i)]))
	}
	sd := p.r.NewRecord(2)
	for p.i < len(s) && s[p.i] == '[' {
		p.i++
		id := p.sdName()
		if id == "" {
			return nil, errorf("structured data element without an SD-ID")
		}
		var elem *record.Record
		if v, ok := sd.Get(id); ok {
			elem = v.(*record.Record)
		} else {
			elem = p.r.NewRecord(4)
			sd.Fields = append(sd.Fields, record.Field{Name: id, Value: elem})
		}
		for p.i < len(s) && s[p.i] == ' ' {
			p.i++
			name := p.sdName()
			if name == "" || p.i == len(s) || s[p.i] != '=' {
				return nil, errorf("structured data element %s has a parameter that is not name=\"value\"", excerpt.Quote(id))
			}
			p.i++
			value, err := p.paramValue(id, name)
			if err != nil {
				return nil, err
			}
			p.addParam(elem, name, value)
		}
		if p.i == len(s) || s[p.i] != ']' {
			return nil, errorf("structured data element %s is not closed with ]", excerpt.Quote(id))
		}
		p.i++
	}
	return sd, nil
}

// sdName reads an SD-NAME: printable US-ASCII but '=', ' ', ']' and '"'.
func (p *refParser) sdName() string {
	// In locals: through p the loop loaded and stored p.i at every byte.
	s, i := p.s, p.i
	for i < len(s) && sdNameChars[s[i]] {
		i++
	}
	name := s[p.i:i]
	p.i = i
	return name
}

// paramValue reads a quoted PARAM-VALUE and undoes its escapes.
func (p *refParser) paramValue(id, name string) (string, error) {
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
func (p *refParser) unescape(v string) string {
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
func (p *refParser) addParam(elem *record.Record, name, value string) {
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
func (p *refParser) rfc3164() (refHeader, error) {
	var h refHeader
	rest := p.s[p.i:]
	switch {
	case rest != "" && isDigit(rest[0]):
		end := refTokenEnd(rest, 0)
		stamp := rest[:end]
		t, frac, err := refParseRFC3339(stamp)
		if err != nil {
			return h, err
		}
		h.timestamp, rest = p.boxes.String(p.writeStamp(stamp, t, frac)), rest[end:]
	case refIsBSDTime(rest):
		t, text, after, err := p.parseBSDTime(rest)
		if err != nil {
			return h, err
		}
		h.timestamp, rest = p.boxes.String(p.hint(text, t, "")), after
	default:
		return h, errorf("no timestamp (Mmm dd hh:mm:ss or RFC 3339) at %s", excerpt.Quote(rest))
	}
	if rest == "" {
		return h, nil
	}
	if rest[0] != ' ' {
		return h, errorf("no space after the timestamp")
	}
	rest = rest[1:]

	app, pid, msg, isTag := refSplitTag(rest)
	if first := rest[:refTokenEnd(rest, 0)]; !isTag || refIsIPv6(first) {
		h.hostname = p.optional(first)
		rest = strings.TrimPrefix(rest[len(first):], " ")
		app, pid, msg, isTag = refSplitTag(rest)
	}
	if !isTag {
		if rest != "" {
			h.message = p.boxes.String(rest)
		}
		return h, nil
	}
	h.appName, h.procID, h.message = p.boxes.String(app), p.optional(pid), p.boxes.String(msg)
	return h, nil
}

// refSplitTag splits "app: msg", "app[pid]: msg" or "app[pid] msg".
func refSplitTag(s string) (app, pid, msg string, ok bool) {
	j := 0
	for j < len(s) && s[j] != ' ' && s[j] != ':' && s[j] != '[' {
		j++
	}
	if j == 0 || j == len(s) {
		return "", "", "", false
	}
	app = s[:j]
	if s[j] == '[' {
		k := strings.IndexByte(s[j:], ']')
		if k < 0 || strings.IndexByte(s[j:j+k], ' ') >= 0 {
			return "", "", "", false
		}
		pid = s[j+1 : j+k]
		j += k + 1
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

// refIsIPv6 reports whether a word is an IPv6 address (hex digits and at least
// two colons), which the tag rule would otherwise take for "app:".
func refIsIPv6(w string) bool {
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

// refIsBSDTime reports whether s starts with a month name and a space.
func refIsBSDTime(s string) bool {
	return len(s) >= 4 && s[3] == ' ' && civil.Month(s[:3]) > 0
}

// parseBSDTime reads "Mmm dd hh:mm:ss" (the day padded with a space or a
// zero, or not at all) and returns the instant in seconds since the epoch,
// its RFC 3339 text in UTC (held by the record's arena) and what follows.
func (p *refParser) parseBSDTime(s string) (int64, string, string, error) {
	month := civil.Month(s[:3])
	i := 4
	if i < len(s) && s[i] == ' ' {
		i++
	}
	j := i
	for j < len(s) && j-i < 2 && isDigit(s[j]) {
		j++
	}
	day, _ := atoi(s[i:j])
	clock := s[min(j+1, len(s)):]
	if j == i || j == len(s) || s[j] != ' ' || len(clock) < 8 || clock[2] != ':' || clock[5] != ':' {
		return 0, "", "", errorf("timestamp %q is not Mmm dd hh:mm:ss", s[:min(len(s), len("Mmm dd hh:mm:ss"))])
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
		year, days, ok := p.date(month, day, hour*3600+minute*60+sec)
		if !ok {
			return 0, "", "", errorf("timestamp %q has no such date", s[:j+9])
		}
		t := days*86400 + int64(hour*3600+minute*60+sec)
		// The date is the one read and the clock its text (digits
		// checked): what civil.AppendRFC3339 would write for t, without
		// working the date out of t again. Written in place in the
		// arena (record.Builder.Room).
		text := append(refAppendDigits(p.r.Room(len("2006-01-02T15:04:05Z")), year, 4), '-')
		text = append(refAppendDigits(text, month, 2), '-')
		text = append(refAppendDigits(text, day, 2), 'T')
		text = append(append(text, clock[:8]...), 'Z')
		return t, p.r.Keep(text), clock[8:], nil
	}
	t, ok := p.dateYearIn(month, day, hour, minute, sec)
	if !ok {
		return 0, "", "", errorf("timestamp %q has no such date", s[:j+9])
	}
	var b [maxTimeLen]byte
	return t, p.r.Text(civil.AppendRFC3339(b[:0], t, "")), clock[8:], nil
}

// refLimitDate is the date of a day since the epoch.
type refLimitDate struct {
	days             int64
	year, month, day int
}

// refLastLimit is the date of the limit (see refPickYear) that date worked out
// last, for any refParser: the limit moves with the reference time, but its
// day only once a day, and working its date out took a fifth of reading
// a BSD timestamp. It is replaced, never changed, so that parsers on
// other goroutines may read it.
var refLastLimit atomic.Pointer[refLimitDate]

// date dates a year-less time in UTC, secOfDay seconds into the day (see
// refPickYear), returning the year and the date's days since the epoch.
func (p *refParser) date(month, day, secOfDay int) (year int, days int64, ok bool) {
	limitDays, limitSec := civil.SplitSeconds(p.now.Unix() + int64(futureSlack/time.Second))
	l := refLastLimit.Load()
	if l == nil || l.days != limitDays {
		l = &refLimitDate{days: limitDays}
		l.year, l.month, l.day = civil.Date(limitDays)
		refLastLimit.Store(l)
	}
	if year, ok = refPickYear(l.year, l.month, l.day, limitSec, month, day, secOfDay); !ok {
		return 0, 0, false
	}
	return year, civil.Days(year, month, day), true
}

// refPickYear dates a year-less time in UTC, secOfDay seconds into the day: the
// latest year in which it exists and is at most futureSlack after now,
// the limit, which is limitSec seconds into limitYear-limitMonth-limitDay.
// Feb 29 may need to go back eight years. The limit's own date settles
// the year with one calendar conversion, rather than trying year after
// year from the next.
func refPickYear(limitYear, limitMonth, limitDay, limitSec, month, day, secOfDay int) (int, bool) {
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
func (p *refParser) dateYearIn(month, day, hour, minute, sec int) (int64, bool) {
	limit := p.now.Add(futureSlack)
	for year := p.now.Year() + 1; year >= p.now.Year()-8; year-- {
		t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, p.now.Location())
		if utc := t.UTC().Year(); t.Day() == day && !t.After(limit) && utc >= 0 && utc <= 9999 {
			return t.Unix(), true
		}
	}
	return 0, false
}

// refParseRFC3339 reads RFC 5424's TIMESTAMP: "2003-10-11T22:14:15.003Z" or
// with an offset, "2003-08-24T05:14:15.000003-07:00". It returns the
// instant in seconds since the epoch and the fractional digits as written.
func refParseRFC3339(v string) (int64, string, error) {
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
func (p *refParser) writeTime(t int64, frac string) string {
	var b [maxTimeLen]byte
	return p.hint(p.r.Text(civil.AppendRFC3339(b[:0], t, frac)), t, frac)
}

// hint hands the instant t with the fractional digits frac over with
// text, its RFC 3339 form (record.Builder's HintTime), and returns text:
// the pipeline reads it for partition keys and SCHEMA.
func (p *refParser) hint(text string, t int64, frac string) string {
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
func (p *refParser) writeStamp(stamp string, t int64, frac string) string {
	if strings.HasSuffix(stamp, "Z") {
		return p.hint(stamp, t, frac)
	}
	return p.writeTime(t, frac)
}

// refAppendDigits appends a non-negative n below 10^width as exactly width
// digits (2 or 4), zero-padded.
func refAppendDigits(b []byte, n, width int) []byte {
	if width == 4 {
		b = append(b, byte('0'+n/1000), byte('0'+n/100%10))
	}
	return append(b, byte('0'+n/10%10), byte('0'+n%10))
}

// refTokenEnd returns the index of the first space at or after i, or len(s).
func refTokenEnd(s string, i int) int {
	if j := strings.IndexByte(s[i:], ' '); j >= 0 {
		return i + j
	}
	return len(s)
}

// optional is v as a field value, or null for "" and the NILVALUE "-".
func (p *refParser) optional(v string) any {
	if v == "" || v == "-" {
		return nil
	}
	return p.boxes.String(v)
}

// FuzzParseReference holds ParseInto to refParseInto, the parser before it
// was made faster: for any line, dated against the golden files' "now" in
// UTC and in another zone, the same fields (nested structured data
// included), the same hinted time and shape, or the same error. Each
// parses into a Builder reused from the line before, rewound as the
// pipeline rewinds it, ParseInto's with stale fields left in its room.
func FuzzParseReference(f *testing.F) {
	pipelinetest.AddCorpus(f,
		`<0>1 0000-01-01T00:00:00.123456789-23:59 - - - - [a b="\\\]\"" b="]"][a c=""]`,
		`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`,
		`<26>1 2024-03-05T06:00:01.759Z web-06.example.com orders 20866 ID47 [origin ip="198.51.100.38"][exampleSDID@32473 iut="3" eventSource="Application" eventID="1103"] order 1 accepted`,
		`<13>1 2024-03-05T06:00:01Z h a p m [origin ip="1" ip="2" ip="3"][x a="\b"][origin ip="4" y=""] m`,
		`<101>Mar  5 06:00:00 web-08 kernel: [36043.737267] eth0: renamed from vethfc6fc47`,
		`<102>Mar  5 06:00:04 web-15 sshd[1962]: Accepted publickey for alice`,
		`<34>Oct 11 22:14:15 mymachine su: 'su root' failed`, `<13>Feb 29 00:00:00 ::1 app[1] hi`, `Mar 5 06:07:08 host`,
		`<13>Mar 05 06:07:08 sshd[12]:`, `<13>Mar  5 06:07:08 app[1 2]: x`, `<13>Mar  5 06:07:08 :x`, `<13>Mar  5 06:07:08  x`,
		`<13>2024-03-05T06:07:08.5+01:00 host app: x`, `<13>Mar  5 06:07:08`, `<13>Mar  5 06:07:08 `, `<13>Dec 31 23:59:59 host`,
	)
	zone := time.FixedZone("", -7*3600)
	got, want := record.NewBuilder(0), record.NewBuilder(0)
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, now := range []time.Time{reference, reference.In(zone)} {
			// Values left in got's room, where ParseInto writes each
			// field in place: one it missed would keep one.
			got.Fields = got.Fields[:0]
			for range numFields + 2 {
				got.Fields = append(got.Fields, record.Field{Name: "stale", Value: "stale"})
			}
			got.Rewind()
			want.Rewind()
			err := ParseInto(got, line, now)
			wantErr := refParseInto(want, line, now)
			if wantErr != nil {
				require.Error(t, err, "%q", line)
				require.Equal(t, wantErr.Error(), err.Error())
				require.Empty(t, got.Fields)
				continue
			}
			require.NoError(t, err, "%q", line)
			require.Equal(t, want.Fields, got.Fields, "%q", line)
			require.Equal(t, want.Shape(), got.Shape())
			if ts, ok := got.Get("timestamp"); ok && ts != nil {
				gotTime, gotOK := got.HintedTime(ts.(string))
				wantTS, _ := want.Get("timestamp")
				wantTime, wantOK := want.HintedTime(wantTS.(string))
				require.Equal(t, wantOK, gotOK)
				require.True(t, wantTime.Equal(gotTime))
			}
		}
	})
}
