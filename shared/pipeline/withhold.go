package pipeline

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"lakestream/shared/excerpt"
)

// Withheld replaces a quoted value in the message of an error that may
// quote a field MASK_FIELDS masks: failure reasons go to the function's log
// ("record failed"), and a masked value must not reach it. The record
// itself, unmasked, still goes to Firehose's error output prefix.
const Withheld = "(value withheld: MASK_FIELDS)"

// withhold makes err safe to log when fields are masked: an error raised
// before the masks ran (the line's or the message's parser, DROP_IF) may
// quote any field's raw value, so every quoted value goes; a *FieldError
// of a masked field (or of an object holding one) loses the quoted values
// after its field name. Without MASK_FIELDS err is returned as it is. The
// error chain is kept for errors.Is and errors.As.
func (s *stages) withhold(err error, beforeMasking bool) error {
	if err == nil || len(s.masks) == 0 {
		return err
	}
	if beforeMasking {
		return &withheldError{err: err}
	}
	var fe *FieldError
	if errors.As(err, &fe) && s.masksWithin(fe.Field) {
		fe.withhold = true
	}
	return err
}

// masksWithin reports whether field is masked, lies inside a masked
// object, or holds a masked field.
func (s *stages) masksWithin(field string) bool {
	for _, m := range s.masks {
		name := m.path.name
		if name == field || strings.HasPrefix(field, name+".") || strings.HasPrefix(name, field+".") {
			return true
		}
	}
	return false
}

// withheldError is an error whose message has its quoted values withheld.
type withheldError struct{ err error }

func (e *withheldError) Error() string { return withholdQuoted(e.err.Error()) }
func (e *withheldError) Unwrap() error { return e.err }

// withholdQuoted replaces every Go-quoted string in msg, the form in which
// lakestream's parsers and stages quote values (shared/excerpt, %q), with
// Withheld, and the ellipses excerpt puts beside a cut value with it. A
// quote that does not start a word (`name="value"` in a message describing
// syntax) is text, not a value, and stays.
func withholdQuoted(msg string) string {
	out := make([]byte, 0, len(msg))
	for i := 0; i < len(msg); {
		if msg[i] != '"' || !startsWord(msg[:i]) {
			out = append(out, msg[i])
			i++
			continue
		}
		q, err := strconv.QuotedPrefix(msg[i:])
		if err != nil {
			out = append(out, msg[i:]...) // an unpaired quote: no value follows
			break
		}
		i += len(q)
		if strings.HasPrefix(msg[i:], excerpt.Ellipsis) {
			i += len(excerpt.Ellipsis)
		}
		out = bytes.TrimSuffix(out, []byte(excerpt.Ellipsis))
		out = append(out, Withheld...)
	}
	return string(out)
}

// startsWord reports whether a quote after before starts a word: at the
// start, after a space or an opening bracket, or after an ellipsis.
func startsWord(before string) bool {
	if before == "" || strings.HasSuffix(before, excerpt.Ellipsis) {
		return true
	}
	c := before[len(before)-1]
	return c == ' ' || c == '(' || c == '['
}
