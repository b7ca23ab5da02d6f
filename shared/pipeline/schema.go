package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"lakestream/shared/excerpt"
	"lakestream/shared/record"
)

type fieldType string

const (
	typeString    fieldType = "string"
	typeInt       fieldType = "int"
	typeFloat     fieldType = "float"
	typeBool      fieldType = "bool"
	typeTimestamp fieldType = "timestamp"
)

// ruleKind is a fieldType as a small number: a switch on it is a jump,
// where one on the type's text compared strings, for every rule of every
// line.
type ruleKind uint8

const (
	kindString ruleKind = iota
	kindInt
	kindFloat
	kindBool
	kindTimestamp
)

// ruleKinds are the types of the kinds, in their order.
var ruleKinds = []fieldType{typeString, typeInt, typeFloat, typeBool, typeTimestamp}

// fieldRule is one SCHEMA item. Integer bounds are kept as int64 so that
// large values compare exactly; float bounds as float64.
type fieldRule struct {
	path           fieldPath
	typ            fieldType
	kind           ruleKind // typ, which check switches on
	required       bool
	hasMin, hasMax bool
	minI, maxI     int64
	minF, maxF     float64
	maxLen         int // in characters; 0 means no limit
}

// parseSchema parses SCHEMA: comma-separated field:type[:constraint]...
func parseSchema(spec string) ([]fieldRule, error) {
	var rules []fieldRule
	seen := map[string]bool{}
	for item := range specItems(spec, ",") {
		r, err := parseFieldRule(item)
		if err != nil {
			return nil, itemError(item, err)
		}
		if seen[r.path.name] {
			return nil, itemError(item, fmt.Errorf("field %q is declared twice", r.path.name))
		}
		seen[r.path.name] = true
		rules = append(rules, r)
	}
	return rules, nil
}

func parseFieldRule(item string) (fieldRule, error) {
	parts := strings.Split(item, ":")
	if len(parts) < 2 {
		return fieldRule{}, errors.New("want field:type")
	}
	var r fieldRule
	var err error
	if r.path, err = newFieldPath(strings.TrimSpace(parts[0])); err != nil {
		return fieldRule{}, err
	}
	t := fieldType(strings.TrimSpace(parts[1]))
	k := slices.Index(ruleKinds, t)
	if k < 0 {
		return fieldRule{}, fmt.Errorf("unknown type %q", t)
	}
	r.typ, r.kind = t, ruleKind(k)
	hasRange := false
	for _, c := range parts[2:] {
		switch c = strings.TrimSpace(c); {
		case c == "required":
			r.required = true
		case strings.HasPrefix(c, "max="):
			if r.typ != typeString {
				return fieldRule{}, fmt.Errorf("max= applies to string, not %s", r.typ)
			}
			n, err := strconv.Atoi(c[len("max="):])
			if err != nil || n < 1 || r.maxLen != 0 {
				return fieldRule{}, fmt.Errorf("%q: want one max=N with N a positive integer", c)
			}
			r.maxLen = n
		case strings.Contains(c, ".."):
			if hasRange {
				return fieldRule{}, fmt.Errorf("%q: a second range", c)
			}
			hasRange = true
			if err := r.parseRange(c); err != nil {
				return fieldRule{}, err
			}
		default:
			return fieldRule{}, fmt.Errorf("unknown constraint %q", c)
		}
	}
	return r, nil
}

// parseRange parses lo..hi, either end optional.
func (r *fieldRule) parseRange(c string) error {
	if r.typ != typeInt && r.typ != typeFloat {
		return fmt.Errorf("range %q applies to int and float, not %s", c, r.typ)
	}
	lo, hi, _ := strings.Cut(c, "..")
	if lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi); lo == "" && hi == "" {
		return fmt.Errorf("range %q has no bounds", c)
	}
	bound := func(s string, i *int64, f *float64) (bool, error) {
		if s == "" {
			return false, nil
		}
		var err error
		if r.typ == typeInt {
			*i, err = strconv.ParseInt(s, 10, 64)
		} else {
			*f, err = strconv.ParseFloat(s, 64)
			if math.IsNaN(*f) {
				err = errors.New("NaN compares false with everything")
			}
		}
		if err != nil {
			return false, fmt.Errorf("range %q: bound %q is not a valid %s", c, s, r.typ)
		}
		return true, nil
	}
	var err error
	if r.hasMin, err = bound(lo, &r.minI, &r.minF); err != nil {
		return err
	}
	if r.hasMax, err = bound(hi, &r.maxI, &r.maxF); err != nil {
		return err
	}
	if r.hasMin && r.hasMax && (r.minI > r.maxI || r.minF > r.maxF) {
		return fmt.Errorf("range %q: minimum above maximum", c)
	}
	return nil
}

// validate checks r against every rule and returns the first violation.
// times, if not nil, remembers the timestamp parsed last.
func validate(rules []fieldRule, r *record.Record, times *timeMemo) error {
	return validateIn(rules, &lookup{rec: r}, times)
}

// validateIn is validate on the record l looks up.
func validateIn(rules []fieldRule, l *lookup, times *timeMemo) error {
	for i := range rules {
		rule := &rules[i]
		v, ok := l.placed(&rule.path)
		if !ok {
			v = l.find(&rule.path)
		}
		if rule.fits(v) {
			continue
		}
		if err := rule.check(v, times); err != nil {
			return &FieldError{Field: rule.path.name, Err: err}
		}
	}
	return nil
}

// fits reports true for the values most rules see, which check passes:
// an absent field that is not required, a string no longer than its
// maximum in bytes, an integer within its bounds. It is inlined, where a
// call to check cost more than the checking.
func (r *fieldRule) fits(v any) bool {
	// Type assertions, each a comparison of the type word, where a type
	// switch first loads and compares the type's hash.
	if s, ok := v.(string); ok {
		return r.kind == kindString && (r.maxLen == 0 || len(s) <= r.maxLen)
	}
	if n, ok := v.(int64); ok {
		return r.kind == kindInt && (!r.hasMin || n >= r.minI) && (!r.hasMax || n <= r.maxI)
	}
	return v == nil && !r.required
}

func (r *fieldRule) check(v any, times *timeMemo) error {
	if v == nil {
		if r.required {
			return errors.New("missing, but required")
		}
		return nil
	}
	switch r.kind {
	case kindString:
		s, ok := v.(string)
		if !ok {
			return wrongType(v, r.typ)
		}
		// A string has at most as many characters as bytes: only a long
		// one needs counting.
		if r.maxLen > 0 && len(s) > r.maxLen {
			if n := utf8.RuneCountInString(s); n > r.maxLen {
				return fmt.Errorf("%d characters, more than the maximum %d", n, r.maxLen)
			}
		}
	case kindInt:
		n, ok := v.(int64)
		if !ok {
			return wrongType(v, r.typ)
		}
		if r.hasMin && n < r.minI {
			return fmt.Errorf("%d is below the minimum %d", n, r.minI)
		}
		if r.hasMax && n > r.maxI {
			return fmt.Errorf("%d is above the maximum %d", n, r.maxI)
		}
	case kindFloat:
		f, ok := number(v)
		if !ok {
			return wrongType(v, r.typ)
		}
		if r.hasMin && f < r.minF {
			return fmt.Errorf("%v is below the minimum %v", f, r.minF)
		}
		if r.hasMax && f > r.maxF {
			return fmt.Errorf("%v is above the maximum %v", f, r.maxF)
		}
	case kindBool:
		if _, ok := v.(bool); !ok {
			return wrongType(v, r.typ)
		}
	case kindTimestamp:
		s, ok := v.(string)
		if !ok {
			return wrongType(v, r.typ)
		}
		if _, err := times.parse(s); err != nil {
			return fmt.Errorf("%s is not an RFC 3339 timestamp", excerpt.Quote(s))
		}
	}
	return nil
}

// number returns a numeric value as float64: int64, float64, or a JSON
// number kept as text (how ParseJSON keeps non-integers).
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	case json.RawMessage:
		if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
			return 0, false
		}
		// Out-of-range numbers come back as ±Inf with an error; the
		// infinity still compares correctly against the bounds.
		f, err := strconv.ParseFloat(string(v), 64)
		var numErr *strconv.NumError
		if err != nil && !(errors.As(err, &numErr) && numErr.Err == strconv.ErrRange) {
			return 0, false
		}
		return f, true
	}
	return 0, false
}

func wrongType(v any, want fieldType) error {
	return fmt.Errorf("got %s, want %s", describe(v), want)
}

// describe names a value's JSON kind for error messages, which must not
// carry record data.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case *record.Record:
		return "an object"
	case json.RawMessage:
		if _, ok := number(v); ok {
			return "a number"
		}
		if len(v) > 0 && v[0] == '[' {
			return "an array"
		}
		if len(v) > 0 && v[0] == '{' {
			return "an object"
		}
		return "a JSON value"
	default:
		return fmt.Sprintf("a %T", v)
	}
}
