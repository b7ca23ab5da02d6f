package pipeline

import (
	"fmt"
	"regexp"
	"strings"
	"unsafe"

	"lakestream/shared/record"
)

type matchOp int

const (
	opEquals matchOp = iota + 1
	opPrefix
	opRegexp
)

// condition is one field=value, field^=prefix or field~=regexp.
type condition struct {
	path  fieldPath
	op    matchOp
	value string
	re    *regexp.Regexp
}

// filter is DROP_IF: a record matching every condition of any one
// alternative is dropped.
type filter [][]condition

// parseFilter parses DROP_IF.
func parseFilter(spec string) (filter, error) {
	var f filter
	for item := range specItems(spec, ",") {
		var all []condition
		for part := range strings.SplitSeq(item, "&") {
			c, err := parseCondition(strings.TrimSpace(part))
			if err != nil {
				return nil, itemError(item, err)
			}
			all = append(all, c)
		}
		f = append(f, all)
	}
	return f, nil
}

func parseCondition(s string) (condition, error) {
	eq := strings.IndexByte(s, '=')
	if eq < 0 {
		return condition{}, fmt.Errorf("condition %q has no =, ^= or ~=", s)
	}
	name, value := s[:eq], strings.TrimSpace(s[eq+1:])
	c := condition{op: opEquals, value: value}
	switch {
	case strings.HasSuffix(name, "^"):
		c.op, name = opPrefix, name[:len(name)-1]
	case strings.HasSuffix(name, "~"):
		c.op, name = opRegexp, name[:len(name)-1]
	}
	var err error
	if c.path, err = newFieldPath(strings.TrimSpace(name)); err != nil {
		return condition{}, fmt.Errorf("condition %q: %w", s, err)
	}
	if c.op == opRegexp {
		if c.re, err = regexp.Compile(value); err != nil {
			return condition{}, fmt.Errorf("condition %q: %w", s, err)
		}
	}
	if c.op == opPrefix && value == "" {
		return condition{}, fmt.Errorf("condition %q: an empty prefix would match every value", s)
	}
	return c, nil
}

// match reports whether r is to be dropped. scratch is reused for the text
// of non-string values so matching does not allocate.
func (f filter) match(r *record.Record, scratch *[]byte) (bool, error) {
	return f.matchIn(&lookup{rec: r}, scratch)
}

// matchIn is match on the record l looks up.
func (f filter) matchIn(l *lookup, scratch *[]byte) (bool, error) {
	for _, all := range f {
		ok := true
		for i := range all {
			m, err := all[i].match(l, scratch)
			if err != nil {
				return false, err
			}
			if !m {
				ok = false
				break
			}
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func (c *condition) match(l *lookup, scratch *[]byte) (bool, error) {
	v, ok := l.placed(&c.path)
	if !ok {
		v = l.find(&c.path)
	}
	if v == nil {
		return false, nil
	}
	if s, ok := v.(string); ok {
		// A string is its own text (appendText): matched where it is,
		// not copied first.
		return c.matchText(s), nil
	}
	text, err := appendText((*scratch)[:0], v)
	*scratch = text
	if err != nil {
		return false, &FieldError{Field: c.path.name, Err: err}
	}
	return c.matchText(stringOf(text)), nil
}

// matchText reports whether a value's text matches c. Equality, the
// commonest condition, is tested here, inlined in the caller; a prefix or
// a regular expression in matchPattern.
func (c *condition) matchText(text string) bool {
	if c.op == opEquals {
		return text == c.value
	}
	return c.matchPattern(text)
}

func (c *condition) matchPattern(text string) bool {
	if c.op == opPrefix {
		return strings.HasPrefix(text, c.value)
	}
	return c.re.MatchString(text)
}

// stringOf returns b's bytes as a string without copying them, for a
// match that does not keep it: b is not written while it is in use.
func stringOf(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
