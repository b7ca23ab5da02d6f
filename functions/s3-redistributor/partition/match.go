package partition

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// matcher is a template read backwards: a regular expression matching the
// keys the template renders, with a group per placeholder.
type matcher struct {
	re    *regexp.Regexp
	parts []part // the placeholder of each group
}

// Match reports whether the object bucket/key is where the template puts
// objects: its time placeholders read the time from the key (fields the
// template lacks are zero: January, the 1st, 00:00:00), a {stream} folder
// the stream, and rendering the template at that time for the object gives
// the same bucket and key back. The S3 redistributor registers such an
// object's partition where it is, without copying it. It returns the time
// and the object, its Stream set when the template names one.
func (t *Template) Match(bucket, key string) (time.Time, Object, bool) {
	src := Object{Bucket: bucket, Key: key}
	if t.bucket != "" && t.bucket != bucket {
		return time.Time{}, src, false
	}
	m := t.match
	groups := m.re.FindStringSubmatch(key)
	if groups == nil {
		return time.Time{}, src, false
	}
	v := [second + 1]int{month: 1, day: 1}
	for i, p := range m.parts {
		g := groups[i+1]
		switch {
		case p.field.isTime():
			n, err := strconv.Atoi(g)
			if err != nil {
				return time.Time{}, src, false
			}
			v[p.field] = n
		case p.field == stream:
			src.Stream = g
		}
	}
	at, ok := civil(v[year], v[month], v[day], v[hour], v[minute], v[second])
	if !ok {
		return time.Time{}, src, false
	}
	// The same placeholder twice must agree, and an unpadded value must be
	// written as {H} writes it ("7", not "07"): the key must be the
	// template's own rendering.
	b, k, err := t.Render(at, src)
	if err != nil || b != bucket || k != key {
		return time.Time{}, src, false
	}
	return at, src, true
}

// newMatcher builds the matcher of a template's key segments.
func newMatcher(segments [][]part) *matcher {
	m := &matcher{}
	var re strings.Builder
	re.WriteString("^")
	for i, seg := range segments {
		if i > 0 {
			re.WriteString("/")
		}
		for _, p := range seg {
			switch {
			case p.field == literal:
				re.WriteString(regexp.QuoteMeta(p.text))
				continue
			case p.field == year:
				re.WriteString("([0-9]{4})")
			case p.field.isTime() && p.unpadded:
				re.WriteString("([0-9]{1,2})")
			case p.field.isTime():
				re.WriteString("([0-9]{2})")
			case p.field == stream:
				re.WriteString("([A-Za-z0-9_.-]{1,64})")
			case p.field == wholeKey:
				re.WriteString("(.+)")
			default: // {filename}, {source_bucket}
				re.WriteString("([^/]+)")
			}
			m.parts = append(m.parts, p)
		}
	}
	re.WriteString("$")
	m.re = regexp.MustCompile(re.String()) // quoted literals and fixed groups only
	return m
}
