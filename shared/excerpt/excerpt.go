// Package excerpt shortens a value for an error or log message: a bad value
// can be arbitrarily long (a whole log line, a 10 KB type string) and may
// hold personal data, and error messages end up in log lines. Every parser
// and function quotes values the same way, with the same bound, through
// this package.
//
// It is a package of its own rather than part of shared/logging because its
// users are the leaf parsers (accesslog, cloudfront, syslog, ddbjson,
// hivetype, cwlogs, pipeline), which must not import what logging brings
// (the Lambda context, configuration).
package excerpt

import (
	"strconv"
	"unicode/utf8"
)

// Max is how many bytes of a value a message keeps: enough for a timestamp
// with nanoseconds and a zone, or a number, to be read whole.
const Max = 40

// Ellipsis marks where a value was cut. It sits outside the quotes, so it
// cannot be mistaken for part of the value.
const Ellipsis = "…"

// Quote returns s in Go quotes (strconv.Quote), cut after Max bytes, at a
// character boundary, with Ellipsis after the closing quote when cut.
func Quote(s string) string {
	if len(s) <= Max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:runeStart(s, Max)]) + Ellipsis
}

// Around is Quote for a long input in which one place matters, such as
// where a parser stopped: it keeps up to Max bytes either side of offset,
// with Ellipsis on each side where it cut.
func Around(s string, offset int) string {
	if len(s) <= 2*Max {
		return strconv.Quote(s)
	}
	offset = min(max(offset, 0), len(s))
	lo, hi := runeStart(s, max(offset-Max, 0)), runeStart(s, min(offset+Max, len(s)))
	out := strconv.Quote(s[lo:hi])
	if lo > 0 {
		out = Ellipsis + out
	}
	if hi < len(s) {
		out += Ellipsis
	}
	return out
}

// runeStart moves i back to the start of the character it falls in, so a
// cut never splits a multi-byte character into escapes.
func runeStart(s string, i int) int {
	for lo := max(i-utf8.UTFMax+1, 0); i > lo && i < len(s) && !utf8.RuneStart(s[i]); {
		i--
	}
	return i
}
