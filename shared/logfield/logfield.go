// Package logfield reads the fields of the space-separated log lines that
// Application Load Balancers and S3 server access logging write, and that
// Apache httpd and NGINX write in their access log formats: a field runs
// to the next space unless it is in double quotes, where it may hold
// spaces and \" is a quote, or (where the format says so) in [brackets];
// "-" stands for no value. The parsers of those logs (shared/alb,
// shared/s3access, shared/accesslog, and shared/cloudfront for the
// numbers) share what this package holds: splitting a line into fields,
// undoing \" and \\, reading the numbers and the bracketed
// "dd/Mon/yyyy:hh:mm:ss +zzzz" time as the logs write them, boxing a
// field's common values once (Interned). Each parser keeps its own field
// list, record layout and error messages; the functions here report what
// is wrong and leave the words to the caller.
//
// Everything here runs for every field of every line, so nothing
// allocates: values are slices of the line or written to the caller's
// buffer.
package logfield

import "strings"

// Value is one field of a line as written, without its quotes or
// brackets.
type Value struct {
	// Text is the field's text; a quoted one is still escaped (see
	// Unescape).
	Text string
	// Quoted and Bracketed tell how the line enclosed the field.
	Quoted, Bracketed bool
}

// Next reads the field starting at s[i], which is not a space, and
// returns it and the index of the field after it (past the spaces that
// separate them; len(s) at the end of the line). A field starting with a
// double quote ends at the first unescaped quote followed by a space or
// the end of the line, so that a stray quote inside a value (a user agent
// holding one) stays in it; when bracketOK is set, a field starting with
// "[" likewise ends at the first "]" followed by a space or the end of the
// line. Any other field runs to the next space.
//
// When the field's quote or bracket is never closed, unclosed is the byte
// Next looked for ('"' or ']'); otherwise it is 0.
//
// A parser reads a line with Next into an array of its own, on its stack:
// a function filling a slice the caller passes would pay a write barrier
// for every field while the garbage collector runs, a few percent of a
// parse.
//
//	n := 0
//	for i := logfield.SkipSpaces(s, 0); i < len(s) && n < len(values); n++ {
//		var unclosed byte
//		if values[n], i, unclosed = logfield.Next(s, i, n == timeField); unclosed != 0 {
//			return nil, errorf("%s has no closing %c", fieldName(n), unclosed)
//		}
//	}
func Next(s string, i int, bracketOK bool) (v Value, next int, unclosed byte) {
	switch c := s[i]; {
	case c == '"':
		text, end, ok := enclosed(s, i, '"')
		if !ok {
			return Value{}, i, '"'
		}
		v, next = Value{Text: text, Quoted: true}, end
	case c == '[' && bracketOK:
		text, end, ok := enclosed(s, i, ']')
		if !ok {
			return Value{}, i, ']'
		}
		v, next = Value{Text: text, Bracketed: true}, end
	default:
		end := strings.IndexByte(s[i:], ' ')
		if end < 0 {
			return Value{Text: s[i:]}, len(s), 0
		}
		v, next = Value{Text: s[i : i+end]}, i+end
	}
	return v, SkipSpaces(s, next), 0
}

// Quoted reads the double-quoted field at s[i], which must be '"', and
// returns its text, still escaped, and the index after the closing quote:
// the first quote not escaped by a backslash that is followed by a space
// or the end of the line. It reports false when there is none.
func Quoted(s string, i int) (text string, next int, ok bool) { return enclosed(s, i, '"') }

// enclosed reads the field opened at s[i] up to the first closing byte
// followed by a space or the end of the line; a quote after an odd number
// of backslashes does not close.
func enclosed(s string, i int, closing byte) (text string, next int, ok bool) {
	for j := i + 1; ; {
		k := strings.IndexByte(s[j:], closing)
		if k < 0 {
			return "", i, false
		}
		q := j + k
		j = q + 1
		escaped := false
		for p := q - 1; closing == '"' && p > i && s[p] == '\\'; p-- {
			escaped = !escaped
		}
		if !escaped && (j == len(s) || s[j] == ' ') {
			return s[i+1 : q], j, true
		}
	}
}

// Unescape undoes \" and \\ in a quoted field's text, as the load
// balancer and S3 write them, appending the result to buf (the record's
// string buffer) and returning it as a slice of buf's string. Other
// backslashes are kept.
func Unescape(buf *strings.Builder, v string) string {
	start := buf.Len()
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) && (v[i+1] == '"' || v[i+1] == '\\') {
			i++
			c = v[i]
		}
		buf.WriteByte(c)
	}
	return buf.String()[start:]
}

// Digits parses a non-empty run of ASCII digits that fits an int64: a
// count, a size, a status or a port as the logs write them, with none of
// the signs, spaces and underscores strconv.ParseInt would also take.
func Digits(v string) (int64, bool) {
	if v == "" || len(v) > 18 { // 18 digits always fit an int64
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// Signed is Digits after an optional "-", for the fields that may be -1.
func Signed(v string) (int64, bool) {
	if strings.HasPrefix(v, "-") {
		n, ok := Digits(v[1:])
		return -n, ok
	}
	return Digits(v)
}

// IsDecimal reports whether v is digits with at most one ".", and at
// least one digit: a number of seconds as the logs write it, and none of
// the NaN, Inf, hex or exponent forms strconv.ParseFloat would also take.
func IsDecimal(v string) bool {
	dot, digit := false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digit
}

// Atoi parses a fixed-width run of ASCII digits, a part of a date or a
// time of day, short enough to fit an int; an empty run is 0.
func Atoi(v string) (int, bool) {
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = n*10 + int(v[i]-'0')
	}
	return n, true
}

// SkipSpaces returns the index of the first byte at or after s[i] that is
// not a space, or len(s).
func SkipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// TokenEnd returns the index of the first space at or after s[i], or
// len(s): the end of an unquoted field starting at s[i].
func TokenEnd(s string, i int) int {
	j := strings.IndexByte(s[i:], ' ')
	if j < 0 {
		return len(s)
	}
	return i + j
}

// Interned holds strings already boxed as field values, so that storing a
// field's common value (a method, a TLS version, an operation) in a record
// costs no allocation: boxing a string into an any allocates every time.
type Interned map[string]any

// Intern returns the Interned of values.
func Intern(values ...string) Interned {
	m := make(Interned, len(values))
	for _, s := range values {
		m[s] = s
	}
	return m
}

// Value returns s as a field value: the interned box when s is one of the
// values, a new one otherwise.
func (m Interned) Value(s string) any {
	if v, ok := m[s]; ok {
		return v
	}
	return s
}
