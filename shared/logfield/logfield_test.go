package logfield

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// split reads up to max fields of line with Next, the way the parsers
// do, field n in brackets when bit n of brackets is set: the fields, and
// the byte an unclosed field looked for.
func split(t testing.TB, line string, max int, brackets uint64) ([]Value, byte) {
	var out []Value
	for i := SkipSpaces(line, 0); i < len(line) && len(out) < max; {
		v, next, unclosed := Next(line, i, brackets>>len(out)&1 != 0)
		if unclosed != 0 {
			return out, unclosed
		}
		require.Greater(t, next, i, "Next moves on")
		out = append(out, v)
		i = next
	}
	return out, 0
}

func TestNext(t *testing.T) {
	const timeBracketed = 1 << 1 // field 1 may be in brackets
	tests := map[string]struct {
		line     string
		max      int
		brackets uint64
		want     []Value
		unclosed byte
	}{
		"plain fields":           {"a bc  d", 5, 0, []Value{{Text: "a"}, {Text: "bc"}, {Text: "d"}}, 0},
		"leading, trailing":      {"  a b  ", 5, 0, []Value{{Text: "a"}, {Text: "b"}}, 0},
		"empty line":             {"", 5, 0, nil, 0},
		"spaces only":            {"   ", 5, 0, nil, 0},
		"quoted with spaces":     {`a "b c" d`, 5, 0, []Value{{Text: "a"}, {Text: "b c", Quoted: true}, {Text: "d"}}, 0},
		"empty quotes":           {`"" -`, 5, 0, []Value{{Text: "", Quoted: true}, {Text: "-"}}, 0},
		"escaped quote kept":     {`"a \" b" c`, 5, 0, []Value{{Text: `a \" b`, Quoted: true}, {Text: "c"}}, 0},
		"escaped backslash ends": {`"a\\" c`, 5, 0, []Value{{Text: `a\\`, Quoted: true}, {Text: "c"}}, 0},
		"stray quote inside":     {`"say "hi"now" x`, 5, 0, []Value{{Text: `say "hi"now`, Quoted: true}, {Text: "x"}}, 0},
		"quote glued to next":    {`"a"b c`, 5, 0, nil, '"'},
		"quote in a plain field": {`a"b c`, 5, 0, []Value{{Text: `a"b`}, {Text: "c"}}, 0},
		"unclosed quote":         {`a "b c`, 5, 0, []Value{{Text: "a"}}, '"'},
		"brackets where allowed": {"a [06/Feb/2019:00:00:38 +0000] b", 5, timeBracketed, []Value{{Text: "a"}, {Text: "06/Feb/2019:00:00:38 +0000", Bracketed: true}, {Text: "b"}}, 0},
		"brackets elsewhere":     {"[x y] z", 5, timeBracketed, []Value{{Text: "[x"}, {Text: "y]"}, {Text: "z"}}, 0},
		"bracket with ] inside":  {"a [x]y] b", 5, timeBracketed, []Value{{Text: "a"}, {Text: "x]y", Bracketed: true}, {Text: "b"}}, 0},
		"no escapes in brackets": {`a [x\] b`, 5, timeBracketed, []Value{{Text: "a"}, {Text: `x\`, Bracketed: true}, {Text: "b"}}, 0},
		"unclosed bracket":       {"a [x y", 5, timeBracketed, []Value{{Text: "a"}}, ']'},
		"stops at max":           {`a b "c`, 2, 0, []Value{{Text: "a"}, {Text: "b"}}, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, unclosed := split(t, tc.line, tc.max, tc.brackets)
			assert.Equal(t, tc.unclosed, unclosed)
			assert.Equal(t, len(tc.want), len(got), "fields read")
			for k := range min(len(got), len(tc.want)) {
				assert.Equal(t, tc.want[k], got[k], "field %d", k)
			}
		})
	}
}

// FuzzNext: every field Next reads is a piece of the line, in order,
// that the line has as it was read: a plain field holds no space, a
// quoted or bracketed one stands between its quotes or brackets, and only
// spaces lie between fields.
func FuzzNext(f *testing.F) {
	f.Add(`a "b \" c" [d e] -`, uint64(4))
	f.Add(`"\\" "x\"`, uint64(0))
	f.Add(`[a] [b`, uint64(3))
	f.Fuzz(func(t *testing.T, line string, brackets uint64) {
		const max = 8
		fields, unclosed := split(t, line, max, brackets)
		require.LessOrEqual(t, len(fields), max)
		rest := line
		for k, v := range fields {
			trimmed := strings.TrimLeft(rest, " ")
			require.True(t, k == 0 || len(trimmed) < len(rest), "fields %d and %d are separated by a space", k-1, k)
			rest = trimmed
			switch {
			case v.Quoted:
				require.True(t, strings.HasPrefix(rest, `"`+v.Text+`"`), "%q", rest)
				rest = rest[len(v.Text)+2:]
			case v.Bracketed:
				require.NotZero(t, brackets&(1<<k), "field %d is not one that may be bracketed", k)
				require.True(t, strings.HasPrefix(rest, "["+v.Text+"]"), "%q", rest)
				rest = rest[len(v.Text)+2:]
			default:
				require.NotEmpty(t, v.Text)
				require.NotContains(t, v.Text, " ")
				require.True(t, strings.HasPrefix(rest, v.Text), "%q", rest)
				rest = rest[len(v.Text):]
			}
			require.True(t, rest == "" || rest[0] == ' ', "field %d ends at a space or the end: %q", k, rest)
		}
		if unclosed == 0 && len(fields) < max {
			require.Empty(t, strings.TrimLeft(rest, " "), "every field read")
		}
	})
}

func TestUnescape(t *testing.T) {
	for v, want := range map[string]string{
		`plain`:       `plain`,
		`a \"b\"`:     `a "b"`,
		`back\\slash`: `back\slash`,
		`\\\"`:        `\"`,
		`\n \x41 \`:   `\n \x41 \`,
		`end\"`:       `end"`,
	} {
		var buf strings.Builder
		buf.WriteString("line")
		got := Unescape(&buf, v)
		assert.Equal(t, want, got, v)
		assert.Equal(t, "line"+want, buf.String(), "appended to the buffer")
	}
}

func TestNumbers(t *testing.T) {
	for v, want := range map[string]struct {
		digits, signed int64
		ok, signedOK   bool
	}{
		"0":                   {0, 0, true, true},
		"200":                 {200, 200, true, true},
		"123456789012345678":  {123456789012345678, 123456789012345678, true, true},
		"1234567890123456789": {0, 0, false, false},
		"-1":                  {0, -1, false, true},
		"-":                   {0, 0, false, false},
		"":                    {0, 0, false, false},
		"+1":                  {0, 0, false, false},
		"1_000":               {0, 0, false, false},
		" 1":                  {0, 0, false, false},
		"--1":                 {0, 0, false, false},
	} {
		n, ok := Digits(v)
		assert.Equal(t, []any{want.digits, want.ok}, []any{n, ok}, "Digits(%q)", v)
		n, ok = Signed(v)
		assert.Equal(t, []any{want.signed, want.signedOK}, []any{n, ok}, "Signed(%q)", v)
	}
	for v, want := range map[string]bool{
		"0": true, "0.086": true, ".5": true, "5.": true, "12": true,
		"": false, ".": false, "0.0.1": false, "-1": false, "1e3": false, "NaN": false, "Inf": false, "0x1p3": false,
	} {
		assert.Equal(t, want, IsDecimal(v), "IsDecimal(%q)", v)
	}
	for v, want := range map[string]int{"": 0, "00": 0, "2024": 2024, "09": 9} {
		n, ok := Atoi(v)
		assert.True(t, ok, v)
		assert.Equal(t, want, n, v)
	}
	_, ok := Atoi("1a")
	assert.False(t, ok)
}

var sink any

func TestInterned(t *testing.T) {
	m := Intern("GET", "PUT")
	assert.Equal(t, "GET", m.Value("GET"))
	assert.Equal(t, "POST", m.Value("POST"))
	method := strings.Repeat("G", 1) + "ET" // not a constant
	assert.Zero(t, testing.AllocsPerRun(100, func() { sink = m.Value(method) }), "an interned value is boxed once")
}
