package excerpt_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/excerpt"
)

func TestQuote(t *testing.T) {
	forty := strings.Repeat("x", 40)
	tests := map[string]struct {
		in, want string
	}{
		"empty":                  {"", `""`},
		"short":                  {"abc", `"abc"`},
		"escapes":                {"a\"b\n\xff", `"a\"b\n\xff"`},
		"exactly Max":            {forty, `"` + forty + `"`},
		"one over":               {forty + "y", `"` + forty + `"…`},
		"cut before a character": {strings.Repeat("x", 39) + "é and more", `"` + strings.Repeat("x", 39) + `"…`},
		"cut after a character":  {strings.Repeat("x", 38) + "é and more", `"` + strings.Repeat("x", 38) + `é"…`},
		"dots in the value":      {forty + "...", `"` + forty + `"…`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, excerpt.Quote(tc.in))
		})
	}
}

func TestAround(t *testing.T) {
	long := strings.Repeat("a", 100) + "!" + strings.Repeat("b", 100)
	tests := map[string]struct {
		in     string
		offset int
		want   string
	}{
		"short is whole":    {"struct<a:int", 12, `"struct<a:int"`},
		"80 bytes is whole": {strings.Repeat("z", 80), 3, `"` + strings.Repeat("z", 80) + `"`},
		"middle":            {long, 100, `…"` + strings.Repeat("a", 40) + "!" + strings.Repeat("b", 39) + `"…`},
		"start":             {long, 0, `"` + strings.Repeat("a", 40) + `"…`},
		"end":               {long, len(long), `…"` + strings.Repeat("b", 40) + `"`},
		"offset past end":   {long, len(long) + 5, `…"` + strings.Repeat("b", 40) + `"`},
		"negative offset":   {long, -1, `"` + strings.Repeat("a", 40) + `"…`},
		"multi-byte edges":  {strings.Repeat("é", 100), 101, `…"` + strings.Repeat("é", 40) + `"…`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, excerpt.Around(tc.in, tc.offset))
		})
	}
}

// FuzzQuote checks what every message relies on: the quoted part reads
// back as a piece of the value, cut only when the value is longer than Max,
// never in the middle of a valid character, and never longer than Max.
func FuzzQuote(f *testing.F) {
	f.Add("abc", 0)
	f.Add(strings.Repeat("é", 50), 33)
	f.Add(strings.Repeat("x", 39)+"\xff\xfe"+strings.Repeat("y", 60), 41)
	f.Fuzz(func(t *testing.T, s string, offset int) {
		piece, cutBefore, cutAfter := unquote(t, excerpt.Quote(s))
		assert.False(t, cutBefore)
		assert.True(t, strings.HasPrefix(s, piece))
		assert.Equal(t, len(s) > excerpt.Max, cutAfter)
		checkPiece(t, s, piece, cutAfter, excerpt.Max)
		if cutAfter {
			assert.Greater(t, len(piece), excerpt.Max-utf8.UTFMax, "%q is cut shorter than it needs to be", piece)
		}

		piece, cutBefore, cutAfter = unquote(t, excerpt.Around(s, offset))
		assert.True(t, strings.Contains(s, piece))
		// Cut exactly when the window leaves something out: never when s
		// fits in it, and then at most UTFMax-1 bytes more, as the start
		// moves back to a character's.
		assert.Equal(t, cutBefore || cutAfter, piece != s)
		if len(s) <= 2*excerpt.Max {
			assert.Equal(t, s, piece)
		}
		// The window's start moves back to a character's start: up to
		// UTFMax-1 bytes more.
		checkPiece(t, s, piece, cutBefore || cutAfter, 2*excerpt.Max+utf8.UTFMax-1)
	})
}

func unquote(t *testing.T, q string) (piece string, cutBefore, cutAfter bool) {
	t.Helper()
	q, cutBefore = strings.CutPrefix(q, excerpt.Ellipsis)
	q, cutAfter = strings.CutSuffix(q, excerpt.Ellipsis)
	piece, err := strconv.Unquote(q)
	require.NoError(t, err, "%s is not one quoted string", q)
	return piece, cutBefore, cutAfter
}

func checkPiece(t *testing.T, s, piece string, cut bool, limit int) {
	t.Helper()
	assert.LessOrEqual(t, len(piece), limit)
	if !cut {
		assert.Equal(t, s, piece)
	}
	if utf8.ValidString(s) {
		assert.True(t, utf8.ValidString(piece), "%q cut a character of %q", piece, s)
	}
}
