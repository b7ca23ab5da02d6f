package jsonscan

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// valid checks a whole text the way json.Valid does: one value, then only
// whitespace.
func valid(data []byte) error {
	s := New(data)
	if err := s.Skip(); err != nil {
		return err
	}
	return s.End()
}

func TestSkipGrammar(t *testing.T) {
	tests := map[string]struct {
		in      string
		wantErr string // empty: valid
	}{
		"object":                {in: ` { "a" : [1, -2.5e+3, true, false, null, "x", {}], "b": {"c": []} } `},
		"scalar at top":         {in: `"just a string"`},
		"number forms":          {in: `[0, -0, 0.5, 1e9, 1E-9, 12.34e+56, -0.0e0]`},
		"escapes":               {in: `"\" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00 \ud800"`},
		"invalid UTF-8 allowed": {in: "\"\xff\xfe\""},
		"DEL allowed":           {in: "\"\x7f\""},
		"empty input":           {in: ``, wantErr: "offset 0: expected a value, found end of input"},
		"only whitespace":       {in: " \n\t\r", wantErr: "offset 4: expected a value, found end of input"},
		"trailing data":         {in: `{} x`, wantErr: "offset 3: expected end of input, found 'x'"},
		"two values":            {in: `1 2`, wantErr: "offset 2: expected end of input, found '2'"},
		"leading zero":          {in: `01`, wantErr: "offset 1: expected end of input, found '1'"},
		"plus sign":             {in: `+1`, wantErr: "offset 0: expected a value, found '+'"},
		"bare minus":            {in: `-`, wantErr: "offset 1: expected a digit, found end of input"},
		"dot without digits":    {in: `1.`, wantErr: "offset 2: expected a digit after the decimal point, found end of input"},
		"leading dot":           {in: `.5`, wantErr: "offset 0: expected a value, found '.'"},
		"exponent no digits":    {in: `1e+`, wantErr: "offset 3: expected a digit in the exponent, found end of input"},
		"trailing comma array":  {in: `[1,]`, wantErr: "offset 3: expected a value, found ']'"},
		"trailing comma object": {in: `{"a":1,}`, wantErr: `offset 7: expected '"' starting an object key, found '}'`},
		"missing colon":         {in: `{"a" 1}`, wantErr: "offset 5: expected ':' after an object key, found '1'"},
		"missing comma":         {in: `{"a":1 "b":2}`, wantErr: `offset 7: expected ',' or '}' after an object member, found '"'`},
		"unquoted key":          {in: `{a:1}`, wantErr: `offset 1: expected '"' starting an object key, found 'a'`},
		"unclosed array":        {in: `[1, 2`, wantErr: "offset 5: expected ',' or ']' after an array element, found end of input"},
		"unclosed string":       {in: `"abc`, wantErr: `offset 4: expected '"' closing a string, found end of input`},
		"raw newline":           {in: "\"a\nb\"", wantErr: "offset 2: expected a character of a string (control characters must be escaped), found byte 0xa"},
		"bad escape":            {in: `"\x"`, wantErr: `offset 2: expected one of "\/bfnrtu after a backslash, found 'x'`},
		"single quote escape":   {in: `"\'"`, wantErr: `offset 2: expected one of "\/bfnrtu after a backslash, found '\''`},
		"short unicode escape":  {in: `"\u12"`, wantErr: `offset 5: expected a hexadecimal digit in a \u escape, found '"'`},
		"truncated literal":     {in: `tru`, wantErr: "offset 3: expected 'true', found end of input"},
		"wrong literal":         {in: `nul1`, wantErr: "offset 3: expected 'null', found '1'"},
		"capital literal":       {in: `True`, wantErr: "offset 0: expected a value, found 'T'"},
		"NaN":                   {in: `NaN`, wantErr: "offset 0: expected a value, found 'N'"},
		"BOM":                   {in: "\ufeff{}", wantErr: "offset 0: expected a value, found byte 0xef"},
		"form feed is no space": {in: "\f1", wantErr: "offset 0: expected a value, found byte 0xc"},
		"mismatched close":      {in: `[1}`, wantErr: "offset 2: expected ',' or ']' after an array element, found '}'"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := valid([]byte(tc.in))
			if tc.wantErr == "" {
				assert.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Equal(t, tc.wantErr, err.Error())
				var se *Error
				assert.True(t, errors.As(err, &se))
			}
			assert.Equal(t, json.Valid([]byte(tc.in)), err == nil, "agrees with json.Valid")
		})
	}
}

// TestDepth: nesting to MaxDepth is valid, one more is not, through Skip
// and through the iterators alike, as json.Valid decides.
func TestDepth(t *testing.T) {
	nest := func(n int) []byte {
		return []byte(strings.Repeat(`[{"a":`, n/2) + strings.Repeat("[", n%2) + "1" + strings.Repeat("]", n%2) + strings.Repeat(`}]`, n/2))
	}
	ok, deep := nest(MaxDepth), nest(MaxDepth+1)
	require.True(t, json.Valid(ok))
	require.False(t, json.Valid(deep))
	assert.NoError(t, valid(ok))
	err := valid(deep)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "expected at most 10000 nested arrays and objects, found deeper nesting")

	var walk func(s *Scanner)
	walk = func(s *Scanner) {
		switch s.Peek() {
		case Array:
			for range s.Array() {
				walk(s)
			}
		case Object:
			for range s.Object() {
				walk(s)
			}
		default:
			_ = s.Skip()
		}
	}
	s := New(ok)
	walk(s)
	assert.NoError(t, s.End())
	s = New(deep)
	walk(s)
	assert.ErrorContains(t, s.Err(), "deeper nesting")

	// An iterator's depth counts for a Skip inside it.
	s = New(ok[:0])
	s.Reset(append([]byte("["), ok...))
	for range s.Array() {
		_ = s.Skip()
	}
	assert.ErrorContains(t, s.Err(), "deeper nesting")
}

// TestNested: a value handed from one scanner to another (ResetNested,
// Seek) is read as the first would read it, nesting limit included, and
// the first goes on after it.
func TestNested(t *testing.T) {
	data := []byte(`{"a": [1, {"b": [true]}], "c": 2}`)
	s := New(data)
	var c int64
	for key := range s.Object() {
		switch string(key) {
		case "a":
			assert.Equal(t, 1, s.Depth())
			start := s.Offset()
			var sub Scanner
			sub.ResetNested(data[start:], s.Depth())
			for range sub.Array() {
				_ = sub.Skip()
			}
			require.NoError(t, sub.Err())
			assert.Equal(t, 1, sub.Depth())
			s.Seek(start + sub.Offset())
		case "c":
			c, _ = s.Int64()
		}
	}
	require.NoError(t, s.End())
	assert.Equal(t, int64(2), c)

	// Too deep for the whole text is too deep for the part.
	var sub Scanner
	sub.ResetNested([]byte("[[1]]"), MaxDepth-1)
	assert.ErrorContains(t, sub.Skip(), "deeper nesting")
	sub.ResetNested([]byte("[1]"), MaxDepth-1)
	assert.NoError(t, sub.Skip())

	// Seek never moves back, past the end, or after an error.
	s = New([]byte(`[1, 2]`))
	s.Peek()
	s.Seek(len(s.data) + 1)
	assert.Equal(t, 0, s.Offset())
	s.Seek(3)
	s.Seek(1)
	assert.Equal(t, 3, s.Offset())
	s.Fail(errors.New("stop"))
	s.Seek(5)
	assert.Equal(t, 3, s.Offset())
}

func TestString(t *testing.T) {
	tests := map[string]struct {
		in   string
		want string
		copy bool // the value had to be unescaped into the buffer
	}{
		"plain":                     {in: `"hello, world"`, want: "hello, world"},
		"empty":                     {in: `""`, want: ""},
		"valid UTF-8":               {in: `"café ☕ 😀"`, want: "café ☕ 😀"},
		"short escapes":             {in: `"a\"b\\c\/d\be\ff\ng\rh\ti"`, want: "a\"b\\c/d\be\ff\ng\rh\ti", copy: true},
		"unicode escape":            {in: `"caf\u00e9 \u2028"`, want: "café \u2028", copy: true},
		"surrogate pair":            {in: `"\ud83d\ude00"`, want: "😀", copy: true},
		"upper-case hex":            {in: `"\uD83D\uDE00"`, want: "😀", copy: true},
		"lone high surrogate":       {in: `"a\ud800b"`, want: "a\ufffdb", copy: true},
		"lone low surrogate":        {in: `"\udc00"`, want: "\ufffd", copy: true},
		"high then non-surrogate":   {in: `"\ud800\u0041"`, want: "\ufffdA", copy: true},
		"high then high":            {in: `"\ud800\ud800\udc00"`, want: "\ufffd\U00010000", copy: true},
		"invalid UTF-8 byte":        {in: "\"a\xffb\"", want: "a\ufffdb", copy: true},
		"truncated UTF-8":           {in: "\"\xe2\x98\"", want: "\ufffd\ufffd", copy: true},
		"UTF-8 encoded surrogate":   {in: "\"\xed\xa0\x80\"", want: "\ufffd\ufffd\ufffd", copy: true},
		"literal replacement char":  {in: "\"\xef\xbf\xbd\"", want: "\ufffd"},
		"escaped NUL":               {in: `"\u0000"`, want: "\x00", copy: true},
		"long, escape at the end":   {in: `"` + strings.Repeat("abcdefgh", 9) + `\n"`, want: strings.Repeat("abcdefgh", 9) + "\n", copy: true},
		"long, UTF-8 in the middle": {in: `"` + strings.Repeat("x", 13) + "é" + strings.Repeat("y", 20) + `"`, want: strings.Repeat("x", 13) + "é" + strings.Repeat("y", 20)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var want string
			require.NoError(t, json.Unmarshal([]byte(tc.in), &want))
			require.Equal(t, want, tc.want, "the case agrees with encoding/json")

			in := []byte(tc.in)
			buf := make([]byte, 0, 4)
			got, err := New(in).String(&buf)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
			inInput := len(got) > 0 && uintptr(unsafe.Pointer(&got[0])) >= uintptr(unsafe.Pointer(&in[0])) &&
				uintptr(unsafe.Pointer(&got[0])) < uintptr(unsafe.Pointer(&in[0]))+uintptr(len(in))
			if len(got) > 0 {
				assert.Equal(t, !tc.copy, inInput, "zero-copy exactly when nothing needs unescaping")
				if tc.copy {
					assert.Equal(t, got, buf, "the grown buffer is kept")
				}
			}
			assert.Equal(t, tc.in, string(in), "the input is never written to")

			v, ascii, err := New(in).StringASCII(&buf)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(v), "StringASCII reads as String")
			plainASCII := !strings.Contains(tc.in, `\`)
			for _, c := range []byte(tc.in) {
				plainASCII = plainASCII && c < 0x80
			}
			assert.Equal(t, plainASCII, ascii, "ASCII without escapes")

			raw, escaped, err := New(in).RawString()
			require.NoError(t, err)
			assert.Equal(t, tc.in[1:len(tc.in)-1], string(raw))
			assert.Equal(t, strings.Contains(tc.in, `\`), escaped)
			assert.Equal(t, tc.want, string(Unescape([]byte("prefix:"), raw))[len("prefix:"):], "Unescape appends")
		})
	}
}

func TestNumbers(t *testing.T) {
	tests := map[string]struct {
		in       string
		int64    int64
		intErr   string
		float64  float64
		floatErr string
	}{
		"zero":           {in: "0"},
		"negative zero":  {in: "-0", float64: math.Copysign(0, -1)},
		"16 digits":      {in: "9007199254740993", int64: 9007199254740993, float64: 9007199254740992},
		"16 digits, odd": {in: "-9007199254740995", int64: -9007199254740995, float64: -9007199254740996},
		"integer":        {in: "1700000000123", int64: 1700000000123, float64: 1700000000123},
		"18 digits":      {in: "-999999999999999999", int64: -999999999999999999, float64: -999999999999999999},
		"19 digits":      {in: "1000000000000000000", int64: 1000000000000000000, float64: 1e18},
		"min int64":      {in: "-9223372036854775808", int64: math.MinInt64, float64: -9223372036854775808},
		"over int64":     {in: "9223372036854775808", intErr: "expected an integer in the int64 range, found 9223372036854775808", float64: 9223372036854775808},
		"fraction":       {in: "1.0", intErr: "found 1.0", float64: 1},
		"exponent":       {in: "1e3", intErr: "found 1e3", float64: 1000},
		"tiny":           {in: "1e-400", intErr: "found 1e-400", float64: 0},
		"huge":           {in: "1e400", intErr: "found 1e400", floatErr: "offset 0: expected a number in the float64 range, found 1e400"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i, err := New([]byte(tc.in)).Int64()
			padded, perr := New([]byte(tc.in + "]                ")).Int64()
			assert.Equal(t, i, padded, "inside a document")
			assert.Equal(t, err == nil, perr == nil, "inside a document")
			var ji int64
			jerr := json.Unmarshal([]byte(tc.in), &ji)
			if tc.intErr != "" {
				assert.ErrorContains(t, err, tc.intErr)
				assert.Error(t, jerr, "encoding/json rejects it too")
			} else {
				require.NoError(t, err)
				require.NoError(t, jerr)
				assert.Equal(t, tc.int64, i)
				assert.Equal(t, ji, i)
			}
			f, err := New([]byte(tc.in)).Float64()
			pf, perr := New([]byte(tc.in + "]                ")).Float64()
			assert.Equal(t, math.Float64bits(f), math.Float64bits(pf), "inside a document")
			assert.Equal(t, err == nil, perr == nil, "inside a document")
			var jf float64
			jerr = json.Unmarshal([]byte(tc.in), &jf)
			if tc.floatErr != "" {
				assert.EqualError(t, err, tc.floatErr)
				assert.Error(t, jerr, "encoding/json rejects it too")
			} else {
				require.NoError(t, err)
				require.NoError(t, jerr)
				assert.Equal(t, math.Float64bits(tc.float64), math.Float64bits(f))
				assert.Equal(t, math.Float64bits(jf), math.Float64bits(f))
			}
			lit, err := New([]byte(" " + tc.in)).Number()
			require.NoError(t, err)
			assert.Equal(t, tc.in, string(lit))
		})
	}
}

// TestInt64Digits reads integers of every length around the eight-digit
// words, with each kind of byte after them, inside a document, as
// encoding/json reads the number's text into an int64.
func TestInt64Digits(t *testing.T) {
	for n := 1; n <= 21; n++ {
		for _, first := range []string{"1", "9", "0"} {
			for _, sign := range []string{"", "-"} {
				for _, after := range []string{",", "}", " ", ".5", "e3", "E3", "x", "\xff"} {
					digits := first + strings.Repeat("7", n-1)
					in := sign + digits + after + strings.Repeat(" ", 20)
					got, err := New([]byte(in)).Int64()
					if first == "0" && n > 1 {
						// The number is 0; the digits after it are the
						// document's error, not the number's.
						assert.NoError(t, err, "%q", in)
						assert.Zero(t, got, "%q", in)
						continue
					}
					number := sign + digits
					if after == ".5" || after == "e3" || after == "E3" {
						number += after
					}
					var want int64
					wantErr := json.Unmarshal([]byte(number), &want)
					assert.Equal(t, wantErr == nil, err == nil, "%q: encoding/json %v, ours %v", in, wantErr, err)
					assert.Equal(t, want, got, "%q", in)
				}
			}
		}
	}
}

// TestKindMismatch: reading a value as another kind names both.
func TestKindMismatch(t *testing.T) {
	tests := map[string]struct {
		in   string
		read func(s *Scanner) error
		want string
	}{
		"string wanted":  {in: ` 12`, read: func(s *Scanner) error { _, err := s.String(nil); return err }, want: "offset 1: expected a string, found a number"},
		"number wanted":  {in: `"12"`, read: func(s *Scanner) error { _, err := s.Int64(); return err }, want: "offset 0: expected a number, found a string"},
		"bool wanted":    {in: `null`, read: func(s *Scanner) error { _, err := s.Bool(); return err }, want: "offset 0: expected true or false, found null"},
		"object wanted":  {in: `[]`, read: func(s *Scanner) error { return iterate(s, s.Object()) }, want: "offset 0: expected an object, found an array"},
		"array wanted":   {in: `{}`, read: func(s *Scanner) error { return iterate(s, s.Array()) }, want: "offset 0: expected an array, found an object"},
		"nothing there":  {in: ``, read: func(s *Scanner) error { _, err := s.Float64(); return err }, want: "offset 0: expected a number, found end of input"},
		"not a value":    {in: `}`, read: func(s *Scanner) error { _, _, err := s.RawString(); return err }, want: "offset 0: expected a string, found '}'"},
		"raw of garbage": {in: `[1,,]`, read: func(s *Scanner) error { _, err := s.Raw(); return err }, want: "offset 3: expected a value, found ','"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := New([]byte(tc.in))
			assert.EqualError(t, tc.read(s), tc.want)
			assert.EqualError(t, s.Err(), tc.want, "the error sticks")
			_, err := s.String(nil)
			assert.EqualError(t, err, tc.want, "and every later read returns it")
		})
	}
}

func iterate[T any](s *Scanner, seq func(func(T) bool)) error {
	for range seq {
	}
	return s.Err()
}

// TestObject walks a document with the iterators: keys unescaped, values
// the body leaves unread skipped, break leaving the scanner after the
// object, and errors stopping the walk.
func TestObject(t *testing.T) {
	doc := []byte(`{"a": 1, "skip\u006De": {"deep": [1, {"x": "y"}]}, "b" : ["p", "q"], "c": true, "n": null}  `)
	s := New(doc)
	var keys []string
	var a int64
	var b []string
	for key := range s.Object() {
		keys = append(keys, string(key))
		switch string(key) {
		case "a":
			a, _ = s.Int64()
		case "b":
			for i := range s.Array() {
				v, err := s.String(nil)
				require.NoError(t, err)
				b = append(b, string(v))
				assert.Equal(t, len(b)-1, i)
			}
		case "n":
			assert.True(t, s.Null())
		}
	}
	require.NoError(t, s.End())
	assert.Equal(t, []string{"a", "skipme", "b", "c", "n"}, keys)
	assert.Equal(t, int64(1), a)
	assert.Equal(t, []string{"p", "q"}, b)

	// Breaking out skips the rest of the object (and still checks it).
	s = New([]byte(`[{"first": 1, "rest": [1, 2, {"x": 3}]}, "after"]`))
	var after string
	for i := range s.Array() {
		if i == 0 {
			for range s.Object() {
				break
			}
			continue
		}
		v, _ := s.String(nil)
		after = string(v)
	}
	require.NoError(t, s.End())
	assert.Equal(t, "after", after)

	s = New([]byte(`{"first": 1, "rest": [1, 2,]}`))
	for range s.Object() {
		break
	}
	assert.EqualError(t, s.Err(), "offset 27: expected a value, found ']'", "what break skips is checked")

	// A body's own error stops the walk and is what Err reports.
	s = New([]byte(`{"a": 1, "b": 2, "c": 3}`))
	seen := 0
	mine := errors.New("no b allowed")
	for key := range s.Object() {
		seen++
		if string(key) == "b" {
			s.Fail(mine)
		}
	}
	assert.Equal(t, 2, seen)
	assert.ErrorIs(t, s.Err(), mine)
	assert.ErrorIs(t, s.End(), mine)

	// Empty containers and whitespace everywhere.
	s = New([]byte(" { \"o\" : { } , \"a\" : [ ] } "))
	n := 0
	for key := range s.Object() {
		if string(key) == "o" {
			for range s.Object() {
				n++
			}
			continue
		}
		for range s.Array() {
			n++
		}
	}
	assert.Zero(t, n)
	assert.NoError(t, s.End())

	// Reading a value as the wrong kind stops the walk.
	s = New([]byte(`{"o": [], "p": 1}`))
	n = 0
	for range s.Object() {
		n++
		for range s.Object() {
		}
	}
	assert.Equal(t, 1, n)
	assert.EqualError(t, s.Err(), "offset 6: expected an object, found an array")
}

// TestKeyBuffer: an escaped key is unescaped into the scanner's buffer
// and valid until the next key.
func TestKeyBuffer(t *testing.T) {
	s := New([]byte(`{"k\u00e9y": {"in\u006Eer": 1}, "plain": 2}`))
	var keys []string
	for key := range s.Object() {
		keys = append(keys, string(key))
		if s.Peek() == Object {
			for inner := range s.Object() {
				keys = append(keys, string(inner))
			}
		}
	}
	require.NoError(t, s.End())
	assert.Equal(t, []string{"kéy", "inner", "plain"}, keys)
}

func TestPeekNullRawBool(t *testing.T) {
	s := New([]byte(`[null, true, false, {"a":[1]}, "s", -1, nul]`))
	var kinds []Kind
	for range s.Array() {
		k := s.Peek()
		kinds = append(kinds, k)
		switch k {
		case Null:
			if !s.Null() {
				_, _ = s.Raw()
			}
		case Bool:
			_, err := s.Bool()
			require.NoError(t, err)
		case Object:
			raw, err := s.Raw()
			require.NoError(t, err)
			assert.Equal(t, `{"a":[1]}`, string(raw))
		}
	}
	assert.Equal(t, []Kind{Null, Bool, Bool, Object, String, Number, Null}, kinds)
	assert.EqualError(t, s.Err(), "offset 43: expected 'null', found ']'")
	assert.Equal(t, "an object", Object.String())
	assert.Equal(t, "no value", Invalid.String())
	assert.False(t, New([]byte("1")).Null())
}

// TestZeroAllocs: walking a document and reading its strings without
// escapes allocates nothing.
func TestZeroAllocs(t *testing.T) {
	doc := []byte(`{"records":[{"recordId":"1","data":"aGVsbG8=","n":12},{"recordId":"2","data":"d29ybGQ=","n":13}]}`)
	s := New(nil)
	allocs := testing.AllocsPerRun(100, func() {
		s.Reset(doc)
		for key := range s.Object() {
			if string(key) != "records" {
				continue
			}
			for range s.Array() {
				for key := range s.Object() {
					switch string(key) {
					case "recordId":
						_, _ = s.String(nil)
					case "data":
						_, _, _ = s.RawString()
					case "n":
						_, _ = s.Int64()
					}
				}
			}
		}
		if err := s.End(); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// decodeAny decodes the next value as encoding/json decodes into any with
// UseNumber, checking on the way that the other ways of reading each
// string and number agree. With direct, it reads objects with FirstKey
// and NextKey instead of Object, and arrays with FirstElement and
// NextElement instead of Array.
func decodeAny(t *testing.T, s *Scanner, direct bool) any {
	switch s.Peek() {
	case Object:
		m := map[string]any{}
		if direct {
			for key, ok := s.FirstKey(); ok; key, ok = s.NextKey() {
				k := string(key)
				m[k] = decodeAny(t, s, direct)
			}
			return m
		}
		for key := range s.Object() {
			k := string(key) // before the value's keys reuse the buffer
			m[k] = decodeAny(t, s, direct)
		}
		return m
	case Array:
		a := []any{}
		if direct {
			for ok := s.FirstElement(); ok; ok = s.NextElement() {
				a = append(a, decodeAny(t, s, direct))
			}
			return a
		}
		for range s.Array() {
			a = append(a, decodeAny(t, s, direct))
		}
		return a
	case String:
		raw, err := s.Raw()
		if err != nil {
			return nil
		}
		v, err := New(raw).String(nil)
		require.NoError(t, err)
		body, _, err := New(raw).RawString()
		require.NoError(t, err)
		require.Equal(t, string(v), string(Unescape(nil, body)), "Unescape(RawString) is String")
		a, ascii, err := New(raw).StringASCII(nil)
		require.NoError(t, err)
		require.Equal(t, string(v), string(a), "StringASCII is String")
		require.Equal(t, isASCIIText(body), ascii, "StringASCII tells an ASCII string without escapes")
		if ascii {
			require.Equal(t, string(body), string(a), "an ASCII string without escapes is its text")
		}
		return string(v)
	case Number:
		lit, err := s.Number()
		if err != nil {
			return nil
		}
		checkNumber(t, lit)
		return json.Number(lit)
	case Bool:
		b, _ := s.Bool()
		return b
	case Null:
		if s.Null() {
			return nil
		}
	}
	_ = s.Skip() // fails
	return nil
}

// checkNumber: Int64 and Float64 agree with encoding/json on lit.
func checkNumber(t *testing.T, lit []byte) {
	var ji int64
	jerr := json.Unmarshal(lit, &ji)
	// Alone, and followed by more text as inside a document, where Int64
	// reads eight digits at a time.
	for _, in := range [][]byte{lit, append(bytes.Clone(lit), ",                 "...)} {
		i, err := New(in).Int64()
		require.Equal(t, jerr == nil, err == nil, "int64 of %s: encoding/json %v, ours %v", lit, jerr, err)
		require.Equal(t, ji, i, "int64 of %s", lit)
	}
	var jf float64
	jerr = json.Unmarshal(lit, &jf)
	f, err := New(lit).Float64()
	require.Equal(t, jerr == nil, err == nil, "float64 of %s: encoding/json %v, ours %v", lit, jerr, err)
	require.Equal(t, math.Float64bits(jf), math.Float64bits(f), "float64 of %s", lit)
}

var fuzzSeeds = []string{
	`{"a":[1,-2.5e+3,true,false,null,"x",{}],"b":{"c":[]}}`,
	`"\ud83d\ude00\ud800\u0041\udc00"`,
	"\"a\xffb\xed\xa0\x80\"",
	`[0,-0,1e400,9223372036854775808,-9223372036854775809,1.5,0.1e-1]`,
	`{"a":1,"a":2,"A":3}`,
	`{"k\u00e9y":{"x":"y"}}`,
	`[1,]`, `{"a" 1}`, `tru`, `01`, ``, ` `, `"\u12"`, `[[[[[]]]]]`,
	`{"invocationId":"i","records":[{"recordId":"1","data":"aGk=","approximateArrivalTimestamp":1}]}`,
}

// FuzzValid: the scanner accepts exactly what json.Valid accepts.
func FuzzValid(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := valid(data)
		if json.Valid(data) != (err == nil) {
			t.Fatalf("json.Valid %v, scanner %v on %q", json.Valid(data), err, data)
		}
	})
}

// FuzzDecode: walking any valid text with the iterators (or FirstKey and
// NextKey, FirstElement and NextElement) and reading every value gives what encoding/json decodes into any (strings, numbers as
// text, keys with the last duplicate winning), and every number reads as
// int64 and float64 as encoding/json reads it; an invalid text fails.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New(data)
		got := decodeAny(t, s, false)
		err := s.End()
		// Objects read with FirstKey and NextKey instead of Object, and
		// arrays with FirstElement and NextElement instead of Array: the
		// same values, the same error.
		c := New(data)
		require.Equal(t, got, decodeAny(t, c, true), "%q", data)
		require.Equal(t, err, c.End(), "%q", data)
		if !json.Valid(data) {
			require.Error(t, err, "invalid input accepted: %q", data)
			return
		}
		require.NoError(t, err, "%q", data)
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		require.NoError(t, dec.Decode(&want))
		require.Equal(t, want, got)
	})
}

// TestControlOrHigh checks the word-at-a-time text check against a byte
// loop, for every length around the word and round sizes and every place
// of a control byte and of a high byte, alone and together (either first).
func TestControlOrHigh(t *testing.T) {
	naive := func(b []byte) (int, bool) {
		high := false
		for i, c := range b {
			if c < 0x20 {
				return i, true
			}
			high = high || c >= 0x80
		}
		return len(b), high
	}
	for n := 0; n <= 80; n++ {
		base := bytes.Repeat([]byte("a"), n)
		check := func(b []byte) {
			wantI, wantHigh := naive(b)
			i, high := controlOrHigh(b)
			require.Equal(t, wantI, i, "index in %q", b)
			if wantI == len(b) { // after a control byte the flag is not defined
				require.Equal(t, wantHigh, high, "high in %q", b)
			}
		}
		check(base)
		for p := range n {
			for _, c := range []byte{0x00, 0x1f, 0x20, 0x7f, 0x80, 0xff} {
				b := bytes.Clone(base)
				b[p] = c
				check(b)
				if c < 0x80 {
					continue
				}
				for q := range n {
					b2 := bytes.Clone(b)
					b2[q] = 0x01
					check(b2)
				}
			}
		}
	}
}

// TestStringEveryPlace puts each kind of text a string can hold (escapes,
// UTF-8, invalid UTF-8, a control byte, a bare backslash) at every place
// of strings of every length around the word and search boundaries, one
// or two at once, and reads them as encoding/json does: same value, or
// both reject it; inside a document, so the word-at-a-time reads see
// text after the string.
func TestStringEveryPlace(t *testing.T) {
	pieces := []string{`\n`, `\"`, `\\`, `\u00e9`, `\ud83d\ude00`, `\ud800`, "é", "\xff", "\xe2\x98", "\x01", `\`, `\x`}
	check := func(text string) {
		doc := []byte(`["` + text + `", "after the string, long enough to be read past"]`)
		var want []string
		wantErr := json.Unmarshal(doc, &want)
		s := New(doc)
		var got []string
		var buf []byte
		for range s.Array() {
			v, err := s.AppendString(&buf)
			if err != nil {
				break
			}
			got = append(got, string(v))
		}
		err := s.End()
		require.Equal(t, wantErr == nil, err == nil, "%q: encoding/json %v, ours %v", text, wantErr, err)
		if err == nil {
			require.Equal(t, want, got, "%q", text)
		}
		// StringASCII, which looks at more words before it searches.
		s = New(doc)
		got = got[:0]
		for range s.Array() {
			v, ascii, err := s.StringASCII(&buf)
			if err != nil {
				break
			}
			if ascii {
				require.NotContains(t, string(v), `\`)
			}
			got = append(got, string(v))
		}
		require.Equal(t, err, s.End(), "StringASCII on %q", text)
		if err == nil {
			require.Equal(t, want, got, "StringASCII on %q", text)
		}
		require.Equal(t, wantErr == nil, valid(doc) == nil, "Skip on %q", text)
	}
	for n := 0; n <= 72; n++ { // past two words and a 32-byte round
		base := strings.Repeat("a", n)
		check(base)
		for p := 0; p <= n; p++ {
			for _, a := range pieces {
				check(base[:p] + a + base[p:])
				if p%13 == 0 {
					for _, b := range pieces[:6] {
						check(base[:p] + a + base[p:] + b)
					}
				}
			}
		}
	}
}

// TestFirstKey: FirstKey and NextKey read an object's keys as Object
// does, an empty one included, stop at the first error as Object does,
// and fail at a value the caller left unread.
func TestFirstKey(t *testing.T) {
	for _, doc := range []string{`{}`, ` { } `, `{"a":1,"b" : [2], "c":{"d":{}}}`, `{"a":1 "b":2}`, `{"a":1,}`, `{"a"}`, `[]`} {
		var want, got []string
		s := New([]byte(doc))
		for key := range s.Object() {
			want = append(want, string(key))
			_ = s.Skip()
		}
		c := New([]byte(doc))
		for key, ok := c.FirstKey(); ok; key, ok = c.NextKey() {
			got = append(got, string(key))
			_ = c.Skip()
		}
		assert.Equal(t, want, got, doc)
		assert.Equal(t, s.Err(), c.Err(), doc)
		assert.Equal(t, s.Offset(), c.Offset(), doc)
	}
	s := New([]byte(`{"a":1,"b":2}`))
	key, ok := s.FirstKey()
	require.True(t, ok)
	require.Equal(t, "a", string(key))
	_, ok = s.NextKey()
	assert.False(t, ok, "the value 1 was not read")
	assert.EqualError(t, s.Err(), `offset 5: expected ',' or '}' after an object member, found '1'`)
}

// TestFirstElement: FirstElement and NextElement read an array's elements
// as Array does, an empty one included, stop at the first error as Array
// does, and fail at an element the caller left unread.
func TestFirstElement(t *testing.T) {
	for _, doc := range []string{`[]`, ` [ ] `, `[1]`, `[1, "a" ,[2],{"b":[]} ]`, `[1 2]`, `[1,]`, `[,1]`, `[1`, `[`, `{}`, `1`, `[[],[[]]]`} {
		var want, got []string
		s := New([]byte(doc))
		for range s.Array() {
			v, _ := s.Raw()
			want = append(want, string(v))
		}
		c := New([]byte(doc))
		for ok := c.FirstElement(); ok; ok = c.NextElement() {
			v, _ := c.Raw()
			got = append(got, string(v))
		}
		assert.Equal(t, want, got, doc)
		assert.Equal(t, s.Err(), c.Err(), doc)
		assert.Equal(t, s.Offset(), c.Offset(), doc)
		assert.Equal(t, s.Depth(), c.Depth(), doc)
	}
	s := New([]byte(`[1,2]`))
	require.True(t, s.FirstElement())
	assert.False(t, s.NextElement(), "the element 1 was not read")
	assert.EqualError(t, s.Err(), `offset 1: expected ',' or ']' after an array element, found '1'`)
}

// readKeys reads the object data holds with FirstKey and then, for the
// n-th member after the first, NextKeyIs(guess(n)) when guess gives a
// plain key, else NextKey, skipping every value: the keys, the error and
// where the scanner stopped. NextKeyIs must report the offset of the key's
// quote, and the key it found must be guess(n).
func readKeys(t *testing.T, data []byte, guess func(n int) (string, bool)) (keys []string, err error, offset int) {
	s := New(data)
	var (
		key []byte
		ok  bool
	)
	if g, try := guess(-1); try {
		if k, plain := NewKey(g); plain {
			if at, found := s.FirstKeyIs(&k); found {
				require.Equal(t, byte('"'), data[at], "%q at %d", data, at)
				key, ok = []byte(g), true
			}
		}
	}
	if !ok {
		key, ok = s.FirstKey()
	}
	for ok {
		keys = append(keys, string(key))
		if s.Skip() != nil {
			break
		}
		if g, try := guess(len(keys) - 1); try {
			if k, plain := NewKey(g); plain {
				if at, found := s.NextKeyIs(&k); found {
					require.Equal(t, byte('"'), data[at], "%q at %d", data, at)
					key, ok = []byte(g), true
					continue
				}
			}
		}
		key, ok = s.NextKey()
	}
	return keys, s.End(), s.Offset()
}

// TestNextKeyIs: NextKeyIs reads a key only when it is the one given,
// written plainly with its colon right after it; otherwise it leaves the
// member to NextKey, so that reading an object with it is reading it
// with NextKey alone.
func TestNextKeyIs(t *testing.T) {
	tests := map[string]struct {
		doc   string
		guess string
		found bool
	}{
		"same":               {`{"a":1,"bc":2}`, "bc", true},
		"spaces":             {`{"a":1 , "bc":  2}`, "bc", true},
		"other key":          {`{"a":1,"bd":2}`, "bc", false},
		"longer key":         {`{"a":1,"bcd":2}`, "bc", false},
		"shorter key":        {`{"a":1,"b":2}`, "bc", false},
		"escaped":            {`{"a":1,"b\u0063":2}`, "bc", false},
		"space before colon": {`{"a":1,"bc" :2}`, "bc", false},
		"end":                {`{"a":1}`, "bc", false},
		"cut":                {`{"a":1,"bc"`, "bc", false},
		"cut at colon":       {`{"a":1,"bc":`, "bc", true},
		"empty key":          {`{"a":1,"":2}`, "", true},
		"utf-8":              {`{"a":1,"é":2}`, "é", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := New([]byte(tc.doc))
			_, ok := s.FirstKey()
			require.True(t, ok)
			require.NoError(t, s.Skip())
			before := s.Offset()
			k, plain := NewKey(tc.guess)
			require.True(t, plain)
			at, found := s.NextKeyIs(&k)
			require.Equal(t, tc.found, found)
			if !found {
				assert.Equal(t, before, s.Offset(), "nothing read")
				assert.NoError(t, s.Err())
			} else {
				assert.Equal(t, strings.Index(tc.doc[before:], `"`)+before, at)
			}
			wantKeys, wantErr, wantOff := readKeys(t, []byte(tc.doc), func(int) (string, bool) { return "", false })
			keys, err, off := readKeys(t, []byte(tc.doc), func(int) (string, bool) { return tc.guess, true })
			assert.Equal(t, wantKeys, keys)
			assert.Equal(t, wantErr, err)
			assert.Equal(t, wantOff, off)
		})
	}
	// Keys of every length around the words compared, differing from
	// the key in the input at either end, near the end of the input.
	for n := range 28 {
		name := strings.Repeat("k", n)
		for _, doc := range []string{`{"a":1,"` + name + `":2}`, `{"a":1,"` + name + `":2,"b":3,"c":4,"d":5}`} {
			middle := name
			if n > 0 {
				middle = name[:n/2] + "x" + name[n/2+1:]
			}
			for _, guess := range []string{name, "x" + name[min(1, n):], name[:max(0, n-1)] + "x", middle, name + "k"} {
				for end := len(doc); end > len(doc)-8-n && end > 6; end-- {
					data := []byte(doc[:end])
					wantKeys, wantErr, wantOff := readKeys(t, data, func(int) (string, bool) { return "", false })
					keys, err, off := readKeys(t, data, func(int) (string, bool) { return guess, true })
					require.Equal(t, wantKeys, keys, "%q guessing %q", data, guess)
					require.Equal(t, wantErr, err, "%q guessing %q", data, guess)
					require.Equal(t, wantOff, off, "%q guessing %q", data, guess)
				}
			}
		}
	}
	_, plain := NewKey("user_id é")
	assert.True(t, plain)
	for _, k := range []string{`a"b`, `a\b`, "a\tb", "\x00"} {
		_, plain := NewKey(k)
		assert.False(t, plain, "%q", k)
	}
}

// FuzzNextKeyIs: reading an object's keys with NextKeyIs, guessing each
// from the keys NextKey read (as a stream's documents have the keys of
// the last) or from the fuzzer, is reading them with NextKey alone: the
// same keys, error and offset.
func FuzzNextKeyIs(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), "a", uint8(0))
	}
	f.Add([]byte(`{"a":1,"b" :2, "c":3,"d":{"a":1},"\u0065":4,"e":5}`), "e", uint8(1))
	f.Add([]byte(`{"a":1,"bc":2,"b":3}`), "bc", uint8(2))
	f.Add([]byte(` { "a" :1, "a": 2}`), "a", uint8(1))
	f.Add([]byte(` {"a":1}`), "a", uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, key string, shift uint8) {
		wantKeys, wantErr, wantOff := readKeys(t, data, func(int) (string, bool) { return "", false })
		guesses := []func(n int) (string, bool){
			func(int) (string, bool) { return key, true },
			func(n int) (string, bool) {
				// The key NextKey read at that place, or near it.
				if n += int(shift % 3); n >= 0 && n < len(wantKeys) {
					return wantKeys[n], true
				}
				return key, true
			},
		}
		for _, guess := range guesses {
			keys, err, off := readKeys(t, data, guess)
			require.Equal(t, wantKeys, keys, "%q", data)
			require.Equal(t, wantErr, err, "%q", data)
			require.Equal(t, wantOff, off, "%q", data)
		}
	})
}

// FuzzNextStringIs: NextStringIs, at each member of an object after the
// first (FirstStringIs at the first), with the key there or the fuzzer's, reads what NextKeyIs and
// RawString read when the value is a string of ASCII without escapes
// (the same text, the scanner at the same offset), and else nothing.
func FuzzNextStringIs(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), "a")
	}
	f.Add([]byte(`{"a":1,"b":"x","c" :"y","d": "z","e":"caf`+"\xc3\xa9"+`","f":"\"","g":"a`+"\t"+`b","h":2, "i" : "w" }`), "b")
	f.Add([]byte(`{"a":1,"b":"2024-03-05T06:00:00.134Z","c":"203.0.38.168","d":"u-36863"}`), "c")
	f.Add([]byte(`{"a":1,"b":"x`), "b")
	f.Add([]byte(` { "a" : "x","b":"y"}`), "a")
	f.Add([]byte(`{"a":"x\u0041"}`), "a")
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		// FirstStringIs, likewise, at the object's first member.
		first, _ := New(data).FirstKey()
		for _, g := range []string{key, string(first)} {
			k, plain := NewKey(g)
			if !plain {
				continue
			}
			var (
				want   []byte
				wantOK bool
			)
			ref := New(data)
			if _, found := ref.FirstKeyIs(&k); found && ref.Peek() == String {
				v, escaped, err := ref.RawString()
				want, wantOK = v, err == nil && !escaped && isASCIIText(v)
			}
			got := New(data)
			v, ok := got.FirstStringIs(&k)
			require.Equal(t, wantOK, ok, "%q, %q", data, g)
			require.NoError(t, got.Err())
			if ok {
				require.Equal(t, want, v)
				require.Equal(t, ref.Offset(), got.Offset())
				require.Equal(t, 1, got.Depth())
			} else {
				require.Equal(t, 0, got.Offset())
				require.Equal(t, 0, got.Depth())
			}
		}
		s := New(data)
		_, more := s.FirstKey()
		for more {
			if _, err := s.Raw(); err != nil {
				return
			}
			peek := *s
			next, _ := peek.NextKey()
			for _, g := range []string{key, string(next)} {
				k, plain := NewKey(g)
				if !plain {
					continue
				}
				var (
					want   []byte
					wantOK bool
				)
				ref := *s
				if _, found := ref.NextKeyIs(&k); found && ref.Peek() == String {
					v, escaped, err := ref.RawString()
					want, wantOK = v, err == nil && !escaped && isASCIIText(v)
				}
				got := *s
				v, ok := got.NextStringIs(&k)
				require.Equal(t, wantOK, ok, "%q at %d, %q", data, s.Offset(), g)
				require.NoError(t, got.Err())
				if ok {
					require.Equal(t, want, v)
					require.Equal(t, ref.Offset(), got.Offset())
				} else {
					require.Equal(t, s.Offset(), got.Offset())
				}
			}
			_, more = s.NextKey()
		}
	})
}

// isASCIIText reports whether the text of a string (RawString's) is
// ASCII without escapes.
func isASCIIText(text []byte) bool {
	for _, c := range text {
		if c >= 0x80 || c == '\\' {
			return false
		}
	}
	return true
}

// TestNotASCIIText: the lowest byte notASCIIText marks is the first
// quote, backslash, control byte or byte of 0x80 or more, in words of
// every byte at every place after printable ASCII, and in random words.
func TestNotASCIIText(t *testing.T) {
	first := func(w []byte) int {
		for i, c := range w {
			if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
				return i
			}
		}
		return 8
	}
	check := func(w []byte) {
		m := notASCIIText(binary.LittleEndian.Uint64(w))
		require.Equal(t, first(w), bits.TrailingZeros64(m)/8, "%q", w)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	w := make([]byte, 8)
	for c := range 256 {
		for p := range 8 {
			for i := range w {
				w[i] = byte(0x20 + rnd.IntN(0x60))
			}
			w[p] = byte(c)
			check(w)
			for i := p + 1; i < 8; i++ {
				w[i] = byte(rnd.IntN(256))
			}
			check(w)
		}
	}
	for range 100000 {
		binary.LittleEndian.PutUint64(w, rnd.Uint64())
		check(w)
	}
}

// FuzzSmallInt holds SmallInt to Int64: what it takes, Int64 reads to the
// same value and offset (and with room after it, SmallInt takes every
// integer of at most 16 digits Int64 reads).
func FuzzSmallInt(f *testing.F) {
	for _, s := range []string{"1700000000000,", "-0 ", "0,", "01,", "9999999999999999}", "10000000000000000,", "123456789012345,", "12345678,", "1234567,", "-12345678912345,", "-", "12.5", "1e3", "-9223372036854775808,"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		for _, p := range [][]byte{p, append(p[:len(p):len(p)], ",                "...)} {
			n, end, ok := SmallInt(p, 0)
			s := New(p)
			want, err := s.Int64()
			if !ok {
				// Int64 skips white space first; SmallInt starts at the number.
				digits := len(strings.TrimLeft(string(p[:s.Offset()]), "-"))
				assert.False(t, err == nil && p[0] != ' ' && p[0] != '\t' && p[0] != '\r' && p[0] != '\n' && digits <= 16 && len(p)-s.Offset() >= 16 && strings.IndexByte(",}] \t\r\n", p[s.Offset()]) >= 0,
					"SmallInt left %q to Int64, which read it", p)
				continue
			}
			require.NoError(t, err, "%q", p)
			assert.Equal(t, want, n, "%q", p)
			assert.Equal(t, s.Offset(), end, "%q", p)
		}
	})
}

// TestSmallInt: the integers SmallInt takes, and those it leaves to Int64.
func TestSmallInt(t *testing.T) {
	const room = ",               "
	for text, want := range map[string]int64{
		"0": 0, "-0": 0, "7": 7, "-1": -1, "1234567": 1234567, "12345678": 12345678, "123456789": 123456789,
		"1700000000000": 1700000000000, "-1700000000001": -1700000000001, "9999999999999999": 9999999999999999,
		"-9999999999999999": -9999999999999999, "10000000": 10000000, "90000000": 90000000,
	} {
		n, end, ok := SmallInt([]byte(text+room), 0)
		assert.True(t, ok, "%q", text)
		assert.Equal(t, want, n, "%q", text)
		assert.Equal(t, len(text), end, "%q", text)
	}
	for _, text := range []string{"", "-", "01", "-01", "00", "0123456789", "10000000000000000", "12.5", "1e3", "x", "-x"} {
		_, _, ok := SmallInt([]byte(text+room), 0)
		assert.False(t, ok, "%q", text)
	}
	_, _, ok := SmallInt([]byte("1700000000000,"), 0)
	assert.False(t, ok, "fewer than 16 bytes left: Int64's to read")
}
