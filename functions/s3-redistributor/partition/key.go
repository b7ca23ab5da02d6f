package partition

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Layout names the key layout a time was read from.
type Layout string

// The layouts Parser.KeyTime recognises, in the order it tries them.
const (
	// LayoutFirehose is a file name Firehose wrote:
	// <stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>[.ext], under any prefix.
	LayoutFirehose Layout = "firehose"
	// LayoutPattern is a key matching one of the Parser's configured patterns.
	LayoutPattern Layout = "pattern"
	// LayoutHive is a key with Hive partition folders: year=/month=/day=,
	// dt= or date= (YYYY-MM-DD), each optionally with hour=.
	LayoutHive Layout = "hive"
)

// Match is the time Parser.KeyTime found in a key, and where it found it.
type Match struct {
	// Time is in UTC, truncated to Precision.
	Time time.Time
	// Precision is the finest unit the key gives: time.Second for a
	// Firehose file name, time.Hour or 24*time.Hour for a Hive key with or
	// without hour=, the finest placeholder for a pattern. A template with
	// finer placeholders than this renders zeros for them.
	Precision time.Duration
	Layout    Layout
	// Stream is the Firehose stream named in a LayoutFirehose file name.
	Stream string
	// Pattern is the configured pattern a LayoutPattern key matched.
	Pattern string
}

// ErrInvalidPattern is wrapped by every error NewParser returns.
var ErrInvalidPattern = errors.New("partition: invalid key pattern")

// Parser finds the time in object keys. A nil or zero Parser recognises the
// Firehose and Hive layouts; NewParser adds patterns for custom prefixes.
type Parser struct {
	patterns []*pattern
}

// NewParser returns a Parser that also matches keys against patterns such as
// "logs/{yyyy}/{MM}/{dd}/{HH}/*", for Firehose streams with a custom prefix.
// A pattern matches the whole key: its time placeholders match digits
// ({yyyy} four, the others two), '*' matches any text within one path
// segment, and everything else matches itself. It needs {yyyy}, {MM} and
// {dd}; {mm} needs {HH} and {ss} needs {mm}. Every invalid pattern is
// reported.
func NewParser(patterns ...string) (*Parser, error) {
	p := &Parser{}
	var errs []error
	for _, s := range patterns {
		pat, err := compilePattern(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w %q: %w", ErrInvalidPattern, s, err))
			continue
		}
		p.patterns = append(p.patterns, pat)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// KeyTime returns the time an object key gives and which layout gave it, or
// false when no layout matches or the date in the key is not a real one
// (month 13, 30 February) or lies outside the years 1970 to 9999. The key
// must be URL-decoded, as events.S3Object.URLDecodedKey returns it. Times
// are read as UTC, Firehose's default; a stream set to a CustomTimeZone
// writes local times, which would be read as if they were UTC.
//
// A Firehose file name is tried first, because it gives the time to the
// second. The folders above it are not compared with it: under a custom
// prefix they may hold anything, and where a default YYYY/MM/DD/HH prefix
// disagrees with the file name, the file name is the more precise. Configured
// patterns come next, in order, as they state what the operator knows about
// the keys; the generic Hive layout comes last.
func (p *Parser) KeyTime(key string) (Match, bool) {
	if m, ok := firehoseTime(key); ok {
		return m, true
	}
	if p != nil {
		for _, pat := range p.patterns {
			if t, ok := pat.match(key); ok {
				return Match{Time: t, Precision: pat.precision, Layout: LayoutPattern, Pattern: pat.text}, true
			}
		}
	}
	return hiveTime(key)
}

// firehoseName is the file name Firehose gives every object it delivers to
// S3. Stream names are 1 to 64 of [A-Za-z0-9_.-], so a hyphen in one is
// told apart from the separators by what must follow: the version number,
// the timestamp and the UUID, then optionally a file extension.
var firehoseName = regexp.MustCompile(`^([A-Za-z0-9_.-]{1,64})-[0-9]{1,10}-` +
	`([0-9]{4})-([0-9]{2})-([0-9]{2})-([0-9]{2})-([0-9]{2})-([0-9]{2})-` +
	`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?:\.[^/]*)?$`)

func firehoseTime(key string) (Match, bool) {
	m := firehoseName.FindStringSubmatch(key[strings.LastIndexByte(key, '/')+1:])
	if m == nil {
		return Match{}, false
	}
	var v [6]int
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+2]) // the expression allows digits only
	}
	t, ok := civil(v[0], v[1], v[2], v[3], v[4], v[5])
	if !ok {
		return Match{}, false
	}
	return Match{Time: t, Precision: time.Second, Layout: LayoutFirehose, Stream: m[1]}, true
}

// The date parts a Hive key can give, indexing hiveTime's arrays.
const (
	hiveYear = iota
	hiveMonth
	hiveDay
	hiveDate // dt= or date=, YYYY-MM-DD
	hiveHour
	hiveParts
)

var hiveNames = map[string]int{
	"year": hiveYear, "month": hiveMonth, "day": hiveDay, "dt": hiveDate, "date": hiveDate, "hour": hiveHour,
}

// hiveTime reads Hive partition folders anywhere in the key's path (not its
// file name). Values may be unpadded (month=5), as Spark writes them. A key
// that gives a part of the date twice (dt= and year=, or two hour=) is
// ambiguous and not matched.
func hiveTime(key string) (Match, bool) {
	folders := key[:strings.LastIndexByte(key, '/')+1]
	var values [hiveParts]string
	var seen [hiveParts]bool
	for folders != "" {
		var segment string
		segment, folders, _ = strings.Cut(folders, "/")
		name, value, isPair := strings.Cut(segment, "=")
		i, known := hiveNames[name]
		if !isPair || !known {
			continue
		}
		if seen[i] {
			return Match{}, false
		}
		seen[i], values[i] = true, value
	}

	var y, mo, d int
	ok := false
	switch {
	case seen[hiveDate] && !seen[hiveYear] && !seen[hiveMonth] && !seen[hiveDay]:
		y, mo, d, ok = isoDate(values[hiveDate])
	case seen[hiveYear] && seen[hiveMonth] && seen[hiveDay] && !seen[hiveDate]:
		var okY, okM, okD bool
		y, okY = number(values[hiveYear])
		mo, okM = number(values[hiveMonth])
		d, okD = number(values[hiveDay])
		ok = okY && okM && okD && len(values[hiveYear]) == 4 && len(values[hiveMonth]) <= 2 && len(values[hiveDay]) <= 2
	}
	if !ok {
		return Match{}, false
	}
	h, precision := 0, 24*time.Hour
	if seen[hiveHour] {
		if h, ok = number(values[hiveHour]); !ok || len(values[hiveHour]) > 2 {
			return Match{}, false
		}
		precision = time.Hour
	}
	t, ok := civil(y, mo, d, h, 0, 0)
	if !ok {
		return Match{}, false
	}
	return Match{Time: t, Precision: precision, Layout: LayoutHive}, true
}

// isoDate parses YYYY-MM-DD.
func isoDate(s string) (y, m, d int, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, okY := number(s[:4])
	m, okM := number(s[5:7])
	d, okD := number(s[8:])
	return y, m, d, okY && okM && okD
}

// pattern is a compiled key pattern: an anchored regular expression whose
// capture groups hold the time fields in order.
type pattern struct {
	text      string
	re        *regexp.Regexp
	fields    []field
	precision time.Duration
}

func compilePattern(s string) (*pattern, error) {
	if s == "" {
		return nil, errors.New("empty pattern")
	}
	if strings.HasPrefix(s, "s3://") {
		return nil, errors.New("a pattern matches object keys: leave out s3:// and the bucket")
	}
	parts, err := parseParts(s)
	if err != nil {
		return nil, err
	}
	p := &pattern{text: s}
	var seen [second + 1]bool
	var re strings.Builder
	re.WriteString("^")
	for _, pt := range parts {
		switch {
		case pt.field == literal:
			for i, piece := range strings.Split(pt.text, "*") {
				if i > 0 {
					re.WriteString("[^/]*")
				}
				re.WriteString(regexp.QuoteMeta(piece))
			}
			continue
		case !pt.field.isTime():
			return nil, fmt.Errorf("%s cannot be matched; patterns take {yyyy} {MM} {dd} {HH} {mm} {ss}, {M} {d} {H} {m} {s} and *", pt)
		case seen[pt.field]:
			return nil, fmt.Errorf("%s appears twice", pt)
		}
		seen[pt.field] = true
		p.fields = append(p.fields, pt.field)
		switch {
		case pt.field == year:
			re.WriteString("([0-9]{4})")
		case pt.unpadded:
			re.WriteString("([0-9]{1,2})")
		default:
			re.WriteString("([0-9]{2})")
		}
	}
	re.WriteString("$")

	switch {
	case !seen[year] || !seen[month] || !seen[day]:
		return nil, errors.New("needs {yyyy}, {MM} and {dd}")
	case seen[minute] && !seen[hour]:
		return nil, errors.New("{mm} needs {HH}")
	case seen[second] && !seen[minute]:
		return nil, errors.New("{ss} needs {mm}")
	}
	switch {
	case seen[second]:
		p.precision = time.Second
	case seen[minute]:
		p.precision = time.Minute
	case seen[hour]:
		p.precision = time.Hour
	default:
		p.precision = 24 * time.Hour
	}
	p.re = regexp.MustCompile(re.String()) // built from quoted literals and fixed groups only
	return p, nil
}

func (p *pattern) match(key string) (time.Time, bool) {
	m := p.re.FindStringSubmatch(key)
	if m == nil {
		return time.Time{}, false
	}
	var v [second + 1]int
	for i, f := range p.fields {
		v[f], _ = strconv.Atoi(m[i+1]) // the groups match digits only
	}
	return civil(v[year], v[month], v[day], v[hour], v[minute], v[second])
}
