package pipeline

import (
	"time"
	"unsafe"

	"lakestream/shared/civil"
	"lakestream/shared/record"
)

// millisLayout is how ARRIVAL_TIME_FIELD writes the arrival time (rfc3339).
const millisLayout = "2006-01-02T15:04:05.000Z07:00"

// appendMillisUTC appends t in UTC as millisLayout does
// ("2024-03-05T06:07:08.009Z"), by civil for the years 0 to 9999: it runs
// for every Firehose record, and time.Format's layout interpretation cost
// more than the rest of the enrichment.
func appendMillisUTC(dst []byte, t time.Time) []byte {
	if out, ok := civil.AppendMillis(dst, t, false); ok {
		return out
	}
	return t.UTC().AppendFormat(dst, millisLayout)
}

// millisStamps writes arrival times as appendMillisUTC does, keeping the
// text of the last one: the records of a batch arrive milliseconds apart,
// so most differ from the one before in the last three digits only,
// which are written into the text in place.
type millisStamps struct {
	sec  int64
	text [len("2006-01-02T15:04:05.000Z")]byte // of sec, when set
	set  bool
	// boxed is text as a field value (see value), made on first use.
	boxed any
}

// value returns t's text as stamp does, as a field value (a string in an
// interface) whose bytes are c's own: the very value each call, its text
// written over by the next. A pass adds the arrival time of each Firehose
// record to its lines, which are written before the next record's come:
// copying the text into an arena and boxing it again for every record
// cost twice what writing it did. Nil outside the years 0 to 9999.
func (c *millisStamps) value(t time.Time) any {
	if c.stamp(t) == nil {
		return nil
	}
	if c.boxed == nil {
		c.boxed = unsafe.String(&c.text[0], len(c.text))
	}
	return c.boxed
}

// stamp returns t's text as appendMillisUTC writes it, in c's own memory
// (written over by the next call), or nil outside the years 0 to 9999.
func (c *millisStamps) stamp(t time.Time) []byte {
	sec := t.Unix()
	if sec < civil.MinRFC3339 || sec > civil.MaxRFC3339 {
		return nil
	}
	if !c.set || sec != c.sec {
		if len(appendMillisUTC(c.text[:0], time.Unix(sec, 0))) != len(c.text) {
			c.set = false
			return nil
		}
		c.sec, c.set = sec, true
	}
	ms := t.Nanosecond() / 1e6
	c.text[20], c.text[21], c.text[22] = byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10)
	return c.text[:]
}

func (c *millisStamps) append(dst []byte, t time.Time) []byte {
	if text := c.stamp(t); text != nil {
		return append(dst, text...)
	}
	return appendMillisUTC(dst, t)
}

// appendDigits appends a non-negative n below 10^width as exactly width
// digits (2, 3 or 4), zero-padded. Each digit is appended on its own: a
// loop into a buffer copied out at the end took as long as the rest of a
// line's partition values.
func appendDigits(dst []byte, n, width int) []byte {
	switch width {
	case 4:
		dst = append(dst, byte('0'+n/1000), byte('0'+n/100%10))
	case 3:
		dst = append(dst, byte('0'+n/100))
	}
	return append(dst, byte('0'+n/10%10), byte('0'+n%10))
}

// timeMemo remembers the RFC 3339 string a line read last and what it
// parsed to: SCHEMA's timestamp check and the event time (TIME_FIELD)
// usually read the same field of a line, which would otherwise be parsed
// twice. It also remembers the date and hour of the last Z-form text (the
// lines of a stream are nearly all of the same hour) and of the last event
// time (dateHour). A nil *timeMemo remembers nothing. The hour's text is a
// copy: the pipeline rewinds the arena a line's values come from
// (record.Builder's Rewind), which writes the next line's over them.
type timeMemo struct {
	// seen is the string read last while reading the current line, which
	// parsed to seenT and seenErr: the line's next reads of the same
	// field (SCHEMA's check, then the event time) hand it over again,
	// known by its memory, without comparing the text. newLine forgets
	// it: the next line's values may be written at the same place.
	seen    string
	seenT   time.Time
	seenErr error
	// hourText is the date and hour of the last Z-form text read
	// (parseHourZ), hourSec what it read them as.
	hourText []byte
	hourSec  int64
	// date is the date of the day starting at dayStart (see dateHour),
	// when haveDay.
	date     dateHour
	dayStart int64
	haveDay  bool
	// hourKeys are the partition values of the hours seen (by their
	// number since the epoch) when every key is a time part (see
	// appendPartition); lastKeys those of lastHour, when not nil.
	hourKeys map[int64]*hourKeys
	lastHour int64
	lastKeys *hourKeys
	// hints, when not nil, is the record being read, whose parser may
	// have handed over the time its text says (record.Builder.HintTime).
	hints *record.Builder
}

// dateHour is dateHourOf(t), its date remembered for the rest of t's
// day: the lines of a stream nearly all come from the day of the line
// before, though not always from its hour (a batch of an access log may
// hold a day's lines in any order).
func (m *timeMemo) dateHour(t time.Time) dateHour {
	if m == nil {
		return dateHourOf(t)
	}
	sec := t.Unix()
	if !m.haveDay || sec < m.dayStart || sec-m.dayStart >= 86400 {
		m.date, m.dayStart, m.haveDay = dateHourOf(t), floorDiv(sec, 86400)*86400, true
	}
	c := m.date
	c.hour = int(sec-m.dayStart) / 3600
	return c
}

// hourPartition returns the partition values of t's hour when every key
// is a time part (appendHourKeys), made once for each hour: the lines of a
// stream nearly all come from the hour of the line before, or from one of
// a few (an access log's batch may hold a month's lines in any order).
func (m *timeMemo) hourPartition(s *stages, t time.Time) []byte {
	h := floorDiv(t.Unix(), 3600)
	if m.lastKeys != nil && h == m.lastHour {
		return m.lastKeys.values
	}
	keys, ok := m.hourKeys[h]
	if !ok {
		if len(m.hourKeys) >= maxHourKeys || m.hourKeys == nil {
			m.hourKeys = make(map[int64]*hourKeys)
		}
		keys = &hourKeys{values: s.appendHourKeys(nil, m.dateHour(t))}
		m.hourKeys[h] = keys
	}
	m.lastHour, m.lastKeys = h, keys
	return keys.values
}

// hourKeys are the partition values of an hour, and the
// metadata.partitionKeys map made of them once a record asks for it (see
// pass.partitionMap), which the framework only reads.
type hourKeys struct {
	values []byte
	m      map[string]string
}

// maxHourKeys bounds the hours a timeMemo keeps the partition values of,
// about half a year's: a stream of more starts over.
const maxHourKeys = 4096

// parse is parseRFC3339(s), remembered.
func (m *timeMemo) parse(s string) (time.Time, error) {
	if m == nil {
		return parseRFC3339(s)
	}
	if m.hints != nil {
		if t, ok := m.hints.HintedTime(s); ok {
			return t, nil
		}
	}
	if len(s) == len(m.seen) && unsafe.StringData(s) == unsafe.StringData(m.seen) && s != "" {
		return m.seenT, m.seenErr
	}
	t, err := m.parseRFC3339(s)
	m.seen, m.seenT, m.seenErr = s, t, err
	return t, err
}

// newLine readies m for the reads of another line.
func (m *timeMemo) newLine() { m.seen = "" }

// parseRFC3339 is parseRFC3339(s), reading the date and hour of the Z
// form ("2006-01-02T15:") only when they are not the last one's: the
// lines of a stream are nearly all of the hour of the line before, and
// the date took most of reading a timestamp.
func (m *timeMemo) parseRFC3339(s string) (time.Time, error) {
	if len(s) >= len("2006-01-02T15:04:05Z") {
		if hour := s[:len(hourZ)]; hour != string(m.hourText) {
			unix, ok := parseHourZ(hour)
			if !ok {
				return parseRFC3339(s)
			}
			m.hourText, m.hourSec = append(m.hourText[:0], hour...), unix
		}
		if sec, nsec, ok := parseMinutesZ(s[len(hourZ):]); ok {
			return time.Unix(m.hourSec+int64(sec), int64(nsec)).UTC(), nil
		}
	}
	return parseRFC3339(s)
}

// parseRFC3339 is time.Parse(time.RFC3339, s). The form every parser here
// writes, UTC with "Z", is read by hand (a third of the time); anything
// else, errors included, is left to time.Parse.
func parseRFC3339(s string) (time.Time, error) {
	if t, ok := parseRFC3339Z(s); ok {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

// parseRFC3339Z reads "2006-01-02T15:04:05Z" with an optional fraction of
// one to nine digits after the seconds, reporting false for anything else
// and for dates and times that do not exist, all of which time.Parse
// rejects too or reads otherwise.
func parseRFC3339Z(s string) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") {
		return time.Time{}, false
	}
	unix, ok := parseHourZ(s[:len(hourZ)])
	if !ok {
		return time.Time{}, false
	}
	sec, nsec, ok := parseMinutesZ(s[len(hourZ):])
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(unix+int64(sec), int64(nsec)).UTC(), true
}

// hourZ is the part of the Z form parseHourZ reads.
const hourZ = "2006-01-02T15:"

// parseHourZ reads the date and hour of the Z form, "2006-01-02T15:", as
// seconds since the epoch, reporting false for anything else and for a
// date or hour that does not exist.
func parseHourZ(s string) (int64, bool) {
	if len(s) != len(hourZ) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' {
		return 0, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	if !ok1 || !ok2 || !ok3 || !ok4 || hour > 23 || !civil.Valid(year, month, day) {
		return 0, false
	}
	return civil.Days(year, month, day)*86400 + int64(hour*3600), true
}

// parseMinutesZ reads the rest of the Z form after the hour, "04:05Z"
// with an optional fraction of one to nine digits after the seconds, as
// the seconds into the hour and the nanoseconds, reporting false for
// anything else. The minutes and seconds are read a digit at a time (a
// first digit up to 5 is all that keeps them below 60).
func parseMinutesZ(s string) (sec, nsec int, ok bool) {
	if len(s) < len("04:05Z") || s[2] != ':' || s[len(s)-1] != 'Z' {
		return 0, 0, false
	}
	m1, m2, s1, s2 := s[0]-'0', s[1]-'0', s[3]-'0', s[4]-'0'
	if m1 > 5 || m2 > 9 || s1 > 5 || s2 > 9 {
		return 0, 0, false
	}
	sec = int(m1)*600 + int(m2)*60 + int(s1)*10 + int(s2)
	if frac := s[5 : len(s)-1]; frac != "" {
		n, ok := digits(frac[1:])
		if frac[0] != '.' || !ok || len(frac) > 10 {
			return 0, 0, false
		}
		nsec = n * fractionScale[len(frac)-2]
	}
	return sec, nsec, true
}

// fractionScale[k] turns a fraction of a second of k+1 digits into
// nanoseconds.
var fractionScale = [9]int{1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1}

// digits parses a non-empty run of at most 9 ASCII digits.
func digits(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
