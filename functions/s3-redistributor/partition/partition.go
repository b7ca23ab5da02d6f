// Package partition reads times out of S3 object keys and lays objects out
// in time-partitioned prefixes. The S3 redistributor uses it to find when a
// Firehose-delivered object was written (Parser.KeyTime), where its copy
// belongs (Template.Render) and which Glue partition that copy is part of
// (Template.PartitionValues and Template.Location).
//
// Placeholders are written in braces, with the case-sensitive field names of
// Java's DateTimeFormatter, as in Firehose's own !{timestamp:yyyy}:
//
//	{yyyy} {MM} {dd} {HH} {mm} {ss}  year, month, day, hour, minute, second (UTC)
//	{M} {d} {H} {m} {s}              the same without a leading zero ("5", not
//	                                 "05"), as Spark and some writers name folders
//	{filename}                       the last segment of the source key
//	{key}                            the whole source key
//	{stream}                         the Firehose stream that wrote the source object
//	{source_bucket}                  the source object's bucket
//
// Key patterns take only the time placeholders and '*'; templates take all.
package partition

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// field is what a placeholder stands for; literal marks plain text.
type field uint8

const (
	literal field = iota
	year
	month
	day
	hour
	minute
	second
	filename
	wholeKey
	stream
	sourceBucket
)

// placeholders holds each field's placeholder name.
var placeholders = [...]string{
	year: "yyyy", month: "MM", day: "dd", hour: "HH", minute: "mm", second: "ss",
	filename: "filename", wholeKey: "key", stream: "stream", sourceBucket: "source_bucket",
}

// unpaddedNames are the placeholders of the time fields without zero
// padding.
var unpaddedNames = map[string]field{"M": month, "d": day, "H": hour, "m": minute, "s": second}

// lookupField finds a placeholder's field, and whether it is unpadded.
func lookupField(name string) (f field, unpadded, ok bool) {
	for i, n := range placeholders {
		if n == name && field(i) != literal {
			return field(i), false, true
		}
	}
	if f, ok := unpaddedNames[name]; ok {
		return f, true, true
	}
	return literal, false, false
}

func (f field) isTime() bool { return year <= f && f <= second }

// String returns the placeholder as written, for error messages.
func (f field) String() string { return "{" + placeholders[f] + "}" }

// part is a piece of a pattern or template: literal text or a placeholder.
type part struct {
	field field
	text  string // for literal parts
	// unpadded writes a time field without a leading zero ({H}).
	unpadded bool
}

// String returns the placeholder as written, for error messages.
func (p part) String() string {
	if p.unpadded {
		for name, f := range unpaddedNames {
			if f == p.field {
				return "{" + name + "}"
			}
		}
	}
	return p.field.String()
}

// parseParts splits s into literal text and placeholders. A brace that does
// not open or close a known placeholder is an error rather than text: it is
// far more likely a typo than part of a real key.
func parseParts(s string) ([]part, error) {
	var parts []part
	for s != "" {
		open := strings.IndexAny(s, "{}")
		if open < 0 {
			return append(parts, part{text: s}), nil
		}
		if open > 0 {
			parts = append(parts, part{text: s[:open]})
		}
		if s[open] == '}' {
			return nil, errors.New("'}' without '{'")
		}
		end := strings.IndexAny(s[open+1:], "{}")
		if end < 0 {
			return nil, fmt.Errorf("unclosed placeholder %q", s[open:])
		}
		if s[open+1+end] == '{' {
			return nil, fmt.Errorf("unclosed placeholder %q", s[open:open+1+end])
		}
		name := s[open+1 : open+1+end]
		f, unpadded, ok := lookupField(name)
		if !ok {
			return nil, fmt.Errorf("unknown placeholder {%s}", name)
		}
		parts = append(parts, part{field: f, unpadded: unpadded})
		s = s[open+1+end+1:]
	}
	return parts, nil
}

// minYear and maxYear bound the times read from keys: no object was written
// before 1970, and {yyyy} has four digits.
const minYear, maxYear = 1970, 9999

// civil returns the UTC time of a calendar date and clock time, and false
// when any part is out of range (month 13, 30 February, hour 24).
func civil(y, mo, d, h, mi, s int) (time.Time, bool) {
	if y < minYear || y > maxYear || mo < 1 || mo > 12 || d < 1 ||
		h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)
	if t.Day() != d { // an overlong day rolls into the next month
		return time.Time{}, false
	}
	return t, true
}

// number parses 1 to 4 ASCII digits.
func number(s string) (int, bool) {
	if len(s) == 0 || len(s) > 4 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// appendTimePart appends the time field of a placeholder, padded unless
// the placeholder says not.
func appendTimePart(b []byte, p part, t time.Time) []byte {
	if p.unpadded {
		return strconv.AppendInt(b, int64(timeValue(p.field, t)), 10)
	}
	return appendTime(b, p.field, t)
}

// timeValue is one time field of t.
func timeValue(f field, t time.Time) int {
	switch f {
	case year:
		return t.Year()
	case month:
		return int(t.Month())
	case day:
		return t.Day()
	case hour:
		return t.Hour()
	case minute:
		return t.Minute()
	case second:
		return t.Second()
	}
	return 0
}

// appendTime appends one time field of t, zero-padded to its width.
func appendTime(b []byte, f field, t time.Time) []byte {
	n, width := 0, 2
	switch f {
	case year:
		n, width = t.Year(), 4
	case month:
		n = int(t.Month())
	case day:
		n = t.Day()
	case hour:
		n = t.Hour()
	case minute:
		n = t.Minute()
	case second:
		n = t.Second()
	}
	for w := width - 1; w > 0 && n >= 0 && n < pow10[w]; w-- {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

var pow10 = [...]int{1, 10, 100, 1000}
