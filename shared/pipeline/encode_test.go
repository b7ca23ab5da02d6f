package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/jsonenc"
	"lakestream/shared/record"
)

func rec(kv ...any) *record.Record {
	r := record.New(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		r.Fields = append(r.Fields, record.Field{Name: kv[i].(string), Value: kv[i+1]})
	}
	return r
}

func TestAppendJSON(t *testing.T) {
	cyclic := rec("self", nil)
	cyclic.Fields[0].Value = cyclic

	tests := map[string]struct {
		in      *record.Record
		want    string
		wantErr string
	}{
		"nil record":   {in: nil, want: `null`},
		"empty record": {in: rec(), want: `{}`},
		"order kept": {
			in:   rec("z", int64(1), "a", "x", "m", true),
			want: `{"z":1,"a":"x","m":true}`,
		},
		"every type": {
			in: rec("s", "text", "i", int64(-42), "f", 2.5, "b", false, "n", nil,
				"raw", json.RawMessage("{ \"k\" : [ 1 , 2 ] }"), "big", json.RawMessage("123456789012345678901234567890"),
				"empty raw", json.RawMessage(nil), "nested", rec("x", int64(1), "deeper", rec()), "nil nested", (*record.Record)(nil)),
			want: `{"s":"text","i":-42,"f":2.5,"b":false,"n":null,"raw":{"k":[1,2]},"big":123456789012345678901234567890,` +
				`"empty raw":null,"nested":{"x":1,"deeper":{}},"nil nested":null}`,
		},
		"escapes like encoding/json without HTML escaping": {
			in:   rec("q\"uote", "a\"b\\c\n\r\t\b\f\x00\x1f\x7f <&> \u2028\u2029 é 😀"),
			want: `{"q\"uote":"a\"b\\c\n\r\t\b\f\u0000\u001f` + "\x7f" + ` <&> \u2028\u2029 é 😀"}`,
		},
		"invalid UTF-8 as U+FFFD": {
			in:   rec("s", "a\xffb\xc3", "\xfe", int64(0)),
			want: `{"s":"a\ufffdb\ufffd","\ufffd":0}`,
		},
		"floats like encoding/json": {
			in:   rec("a", 1e21, "b", 1e20, "c", 1e-7, "d", 0.000001, "e", math.Copysign(0, -1), "f", 100.0, "g", 1.7976931348623157e308),
			want: `{"a":1e+21,"b":100000000000000000000,"c":1e-7,"d":0.000001,"e":-0,"f":100,"g":1.7976931348623157e+308}`,
		},
		"NaN":              {in: rec("f", math.NaN()), wantErr: `field "f": value cannot be written as JSON: jsonenc: not a finite number: NaN`},
		"infinity":         {in: rec("f", math.Inf(-1)), wantErr: `field "f": value cannot be written as JSON: jsonenc: not a finite number: -Inf`},
		"invalid raw":      {in: rec("r", json.RawMessage(`{"a":`)), wantErr: `field "r": value cannot be written as JSON: invalid JSON text`},
		"unsupported type": {in: rec("n", 42), wantErr: `field "n": value cannot be written as JSON: unsupported type int`},
		"nested error": {
			in:      rec("outer", rec("inner", []string{"x"})),
			wantErr: `field "outer": field "inner": value cannot be written as JSON: unsupported type []string`,
		},
		"cycle": {in: cyclic, wantErr: "nested deeper than 1000 objects"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := AppendJSON([]byte("prefix:"), tc.in)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrUnencodable))
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "prefix:"+tc.want, string(got))
			assert.True(t, json.Valid(got[len("prefix:"):]))
		})
	}
}

// marshalNoHTML is what AppendJSON promises to match for a single value.
func marshalNoHTML(t testing.TB, v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return string(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}))
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("name", "value", int64(1), 1.5, true, []byte(`{"a":[1,2]}`))
	f.Add("", "\x00\xff\u2028<&>\"\\", int64(math.MinInt64), 1e-7, false, []byte(` [ ] `))
	f.Add("é", "\xc3", int64(0), 1e21, false, []byte(`{"a":`))
	f.Add("n", "", int64(-1), math.Copysign(0, -1), true, []byte(`"str\u00e9"`))
	f.Fuzz(func(t *testing.T, name, s string, i int64, fl float64, b bool, raw []byte) {
		r := rec(name, s, "i", i, "f", fl, "b", b, "raw", json.RawMessage(raw), "nested", rec(s, name))
		got, err := AppendJSON(nil, r)
		badFloat := math.IsNaN(fl) || math.IsInf(fl, 0)
		badRaw := len(raw) > 0 && !json.Valid(raw)
		if err != nil {
			assert.True(t, errors.Is(err, ErrUnencodable))
			assert.True(t, badFloat || badRaw, "unexpected error %v", err)
			return
		}
		require.False(t, badFloat || badRaw, "no error for NaN, infinity or invalid raw JSON")
		require.True(t, json.Valid(got), "invalid JSON %q", got)
		// Each value is written exactly as encoding/json writes it.
		assert.Equal(t, marshalNoHTML(t, s), string(jsonenc.AppendString(nil, s)))
		fb, err := jsonenc.AppendFloat(nil, fl)
		require.NoError(t, err)
		assert.Equal(t, marshalNoHTML(t, fl), string(fb))
		one, err := AppendJSON(nil, rec(name, i))
		require.NoError(t, err)
		assert.Equal(t, "{"+marshalNoHTML(t, name)+":"+marshalNoHTML(t, i)+"}", string(one))
		// A nested record, into a buffer with room (putObject) and without.
		wantNested := `{"n":{` + marshalNoHTML(t, s) + ":" + marshalNoHTML(t, name) + `,"m":null}}`
		for _, room := range []int{0, 1024} {
			nested, err := AppendJSON(make([]byte, 0, room), rec("n", rec(s, name, "m", nil)))
			require.NoError(t, err)
			assert.Equal(t, wantNested, string(nested), "room %d", room)
		}
	})
}

// FuzzAppendCompact holds the writer of json.RawMessage values to
// json.Compact, which it replaces where it can: the same bytes, or the
// same error.
func FuzzAppendCompact(f *testing.F) {
	for _, s := range []string{`{"a":[1,2]}`, ` [ ] `, `{"a":`, `12.50`, `-0`, `"a b"`, `{"a":1} {"b":2}`, `[1,2,]`, `"` + "\xff" + `"`, `nul`, `1e`, `{"a":{"b":{"c":[[[]]]}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want bytes.Buffer
		want.WriteString("prefix")
		wantErr := json.Compact(&want, raw)
		got, err := appendCompact([]byte("prefix"), raw)
		if wantErr != nil {
			require.Error(t, err)
			assert.Equal(t, "value cannot be written as JSON: invalid JSON text: "+wantErr.Error(), err.Error())
			return
		}
		require.NoError(t, err)
		assert.Equal(t, want.String(), string(got))
	})
}

// TestHasSpace holds the word-at-a-time check to a byte loop, for every
// length around the word size, every place and every byte value.
func TestHasSpace(t *testing.T) {
	for n := range 20 {
		for at := range n {
			for c := range 256 {
				b := bytes.Repeat([]byte("a"), n)
				b[at] = byte(c)
				require.Equal(t, c <= ' ', hasSpace(b), "%q", b)
			}
		}
		assert.False(t, hasSpace(bytes.Repeat([]byte{0x21}, n)))
	}
}

// TestWithin: a RawMessage is trusted only when it lies wholly inside the
// document that was read.
func TestWithin(t *testing.T) {
	doc := []byte(`{"a":[1,2],"b":{"c":3}}`)
	assert.True(t, within(doc[5:10], doc))
	assert.True(t, within(doc, doc))
	assert.True(t, within(doc[len(doc)-1:], doc))
	assert.False(t, within(doc[5:10], doc[:9]), "runs past the end")
	assert.False(t, within(doc[5:10], doc[6:]), "starts before")
	assert.False(t, within([]byte(`[1,2]`), doc), "a copy")
	assert.False(t, within(nil, doc))
	assert.False(t, within(doc[1:3], nil))
	assert.False(t, within(doc[1:], doc[:2]), "longer, starting within")
}

// TestMemberNames writes records one after another through one
// memberNames, as a pass does: the same names at the same places, names
// that change place, more and fewer fields, names to escape, a name equal
// to the last one's at its place but held in other memory. Each comes out
// as AppendJSON writes it alone.
func TestMemberNames(t *testing.T) {
	other := string([]byte("time")) // equal to "time", not the same memory
	records := []*record.Record{
		rec("host", "a", "time", int64(1), "status", int64(200)),
		rec("host", "b", "time", int64(2), "status", int64(404)),
		rec("time", int64(3), "host", "c"),
		rec("time", int64(4), "host", "d", "status", nil, "q\"uote", "é", "\xff", true),
		rec("host", "e"),
		rec(),
		rec("host", "f", other, int64(5), "status", rec("host", "nested")),
		rec("host", "g", "time", int64(6), "status", int64(200)),
	}
	var names memberNames
	for i, r := range records {
		want, err := AppendJSON(nil, r)
		require.NoError(t, err)
		got, err := appendRecord([]byte("x"), r, 0, false, nil, &names)
		require.NoError(t, err)
		assert.Equal(t, "x"+string(want), string(got), "record %d", i)
	}
}

func TestAppendMillisDecimal(t *testing.T) {
	cases := map[string]struct {
		in   float64
		want string // "" when it must leave the value to jsonenc.AppendFloat
	}{
		"milliseconds":        {in: 0.002, want: "0.002"},
		"tenths":              {in: 12.5, want: "12.5"},
		"whole":               {in: 3, want: "3"},
		"negative":            {in: -0.25, want: "-0.25"},
		"largest":             {in: 999999999.999, want: "999999999.999"},
		"four places":         {in: 0.0005},
		"not a short decimal": {in: math.Nextafter(0.3, 1)}, // 0.30000000000000004, as 0.1+0.2 computes
		"zero":                {in: 0},
		"negative zero":       {in: math.Copysign(0, -1)},
		"too large":           {in: 1e9},
		"NaN":                 {in: math.NaN()},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := appendMillisDecimal(nil, tc.in)
			assert.Equal(t, tc.want != "", ok)
			assert.Equal(t, tc.want, string(got))
		})
	}
}

// FuzzAppendMillisDecimal holds the shortcut to jsonenc.AppendFloat (and
// so to encoding/json): the same bytes whenever it takes the value, for
// decimals of three places, their neighbouring doubles and any double.
func FuzzAppendMillisDecimal(f *testing.F) {
	f.Add(int64(2), 0.1)
	f.Add(int64(999999999999), 1e-7)
	f.Add(int64(-125), 5e-324)
	f.Fuzz(func(t *testing.T, n int64, any float64) {
		d := float64(n) / 1000
		for _, fl := range []float64{d, math.Nextafter(d, math.Inf(1)), math.Nextafter(d, math.Inf(-1)), any} {
			got, ok := appendMillisDecimal(nil, fl)
			if !ok {
				continue
			}
			want, err := jsonenc.AppendFloat(nil, fl)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "%v", fl)
		}
	})
}

// FuzzAppendPlain holds appendPlain, which writes the fields whose names
// are the very strings of the record before without a call, and putObject,
// which writes nested records of strings so, to the field by field writer
// (appendFieldByField): the same bytes, line after line through one
// memberNames, and from AppendJSON, for strings of any length and content
// (escapes, invalid UTF-8), nulls, numbers and booleans, names short and
// long, nested records, fields that change type from line to line, and
// output buffers with plenty of room or too little (where appendPlain and
// putObject leave the field to the general path).
func FuzzAppendPlain(f *testing.F) {
	f.Add("value", "", int64(200), 0.25, true, uint8(0))
	f.Add("a\"b\\c\x01\xffé\u2028", "0123456789abcdef0123456789", int64(math.MinInt64), 1e21, false, uint8(7))
	f.Add("abc", "abcd", int64(-7), math.NaN(), false, uint8(3))
	f.Add("GET", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", int64(1234567), 0.002, true, uint8(200))
	f.Fuzz(func(t *testing.T, s1, s2 string, n int64, fl float64, b bool, shape uint8) {
		names := []string{"a", "status", "a_field_name_longer_than_thirty_two_bytes", "q\"uote", "time_taken", "é"}
		// Nested records as syslog's structured data, with names and
		// values of any content, empty, null, too deep for putObject, or
		// holding a value it leaves to appendValue.
		deep := rec(s1, s2)
		for range maxPlainDepth + int(shape%3) {
			deep = rec("d", deep)
		}
		values := []any{s1, nil, n, fl, b, s2, s1 + s2, json.RawMessage(`[1, 2]`), s2[:len(s2)/2], int64(shape),
			float64(n) / 1000, -n / 7, float64(n%1e12) / 1000, !b, math.Nextafter(float64(n)/1000, 0),
			rec("origin", rec("ip", s1), s2, rec("iut", s2, s1, nil)), rec(s1, s2), rec(), (*record.Record)(nil),
			rec("a", rec(), "b", (*record.Record)(nil), "c", rec("n", n)), deep}
		var names0 memberNames
		for line := range 6 {
			r := record.New(len(names))
			for k, name := range names {
				r.Fields = append(r.Fields, record.Field{Name: name, Value: values[(k*int(shape|1)+line)%len(values)]})
			}
			if line == 4 {
				r.Fields = r.Fields[:3] // fewer fields, then more again
			}
			want, wantErr := appendFieldByField([]byte("x"), r)
			room := 1 + int(shape)*line // from none to plenty
			got, err := appendRecord(append(make([]byte, 0, room), 'x'), r, 0, false, nil, &names0)
			all, allErr := AppendJSON(append(make([]byte, 0, room), 'x'), r)
			assert.Equal(t, want, all, "AppendJSON, line %d", line)
			assert.Equal(t, wantErr, allErr, "AppendJSON, line %d", line)
			if wantErr != nil {
				require.Error(t, err, "line %d", line)
				assert.Equal(t, wantErr.Error(), err.Error())
				continue
			}
			require.NoError(t, err, "line %d", line)
			require.Equal(t, string(want), string(got), "line %d", line)
		}
	})
}

// appendFieldByField writes r as appendRecord does without its shortcuts
// (appendPlain, putObject): a call for each name and each value, nested
// records too. It is the reference of FuzzAppendPlain.
func appendFieldByField(dst []byte, r *record.Record) ([]byte, error) {
	if r == nil {
		return append(dst, "null"...), nil
	}
	dst = append(dst, '{')
	for i, f := range r.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(jsonenc.AppendString(dst, f.Name), ':')
		var err error
		if nested, ok := f.Value.(*record.Record); ok {
			dst, err = appendFieldByField(dst, nested)
		} else {
			dst, err = appendValue(dst, f.Value, 0, nil)
		}
		if err != nil {
			return dst, &FieldError{Field: f.Name, Err: err}
		}
	}
	return append(dst, '}'), nil
}

// TestPutUint checks the digits against strconv's at every length's
// ends, powers of two and numbers drawn at random.
func TestPutUint(t *testing.T) {
	check := func(u uint64) {
		var buf [24]byte
		n := putUint(unsafe.Pointer(&buf[0]), 0, u)
		require.Equal(t, strconv.FormatUint(u, 10), string(buf[:n]))
	}
	for k := range 64 {
		check(1<<k - 1)
		check(1 << k)
	}
	check(math.MaxUint64)
	for _, p := range pow10 {
		check(p - 1)
		check(p)
		check(p + 1)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		check(rng.Uint64() >> rng.IntN(64))
	}
}
