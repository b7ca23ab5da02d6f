package ddbjson_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/functions/ddb-stream-forwarder/ddbjson"
	"lakestream/shared/golden"
	"lakestream/shared/jsonscan"
)

// oracle is what Transcode replaces: raw decoded by encoding/json into
// aws-lambda-go's types, then written by Marshal. ok is false when the
// decoding fails, or panics (aws-lambda-go v1.55.1 does on a BS element
// that is not a string).
func oracle(raw []byte) (out []byte, err error, ok bool) {
	var img item
	decoded := func() (ok bool) {
		defer func() {
			if recover() != nil {
				ok = false
			}
		}()
		return json.Unmarshal(raw, &img) == nil
	}()
	if !decoded {
		return nil, nil, false
	}
	out, err = ddbjson.Marshal(img)
	return out, err, true
}

// agree checks that Transcode and the oracle agree on raw: both refuse to
// read it, or both fail to write it with the same error, or both write the
// same bytes. It returns Transcode's output.
func agree(t *testing.T, raw []byte) []byte {
	t.Helper()
	want, wantErr, ok := oracle(raw)
	got, err := ddbjson.Transcode([]byte("prefix:"), raw)
	// The fast path of ReadItemFrom (which Transcode takes) changes
	// nothing: ReadItem alone, the scanner's way, reads raw alike, errors
	// worded alike.
	scanned, scanErr := scannerTranscode(raw)
	if err != nil {
		require.Error(t, scanErr, "ReadItem alone reads %s", raw)
		assert.Equal(t, err.Error(), scanErr.Error(), "input %s", raw)
	} else {
		require.NoError(t, scanErr, "input %s", raw)
		assert.Equal(t, string(got[len("prefix:"):]), string(scanned), "input %s", raw)
	}
	if !ok {
		require.Error(t, err, "encoding/json and aws-lambda-go refuse %s; Transcode wrote %s", raw, got)
		assert.Equal(t, "prefix:", string(got), "dst comes back as it was")
		readErr := errors.Is(err, ddbjson.ErrMalformed) || errors.Is(err, ddbjson.ErrUnsupportedType)
		var syntax *jsonscan.Error
		assert.True(t, readErr || errors.As(err, &syntax), "a read error is ErrMalformed, ErrUnsupportedType or a syntax error: %v", err)
		return nil
	}
	if wantErr != nil {
		require.Error(t, err, "AppendItem fails on %s; Transcode wrote %s", raw, got)
		assert.Equal(t, wantErr.Error(), err.Error())
		assert.Equal(t, "prefix:", string(got))
		attributesAgree(t, raw, nil, wantErr)
		return nil
	}
	require.NoError(t, err, "input %s", raw)
	require.Equal(t, "prefix:"+string(want), string(got), "input %s", raw)
	attributesAgree(t, raw, want, nil)
	return got[len("prefix:"):]
}

// scannerTranscode is Transcode with ReadItem, which reads every item on
// the scanner.
func scannerTranscode(raw []byte) ([]byte, error) {
	var tr ddbjson.Transcoder
	var it ddbjson.Item
	s := jsonscan.New(raw)
	if err := tr.ReadItem(s, &it); err != nil {
		return nil, err
	}
	if err := s.End(); err != nil {
		return nil, err
	}
	return tr.AppendItem(nil, &it)
}

// TestTranscodeGolden transcodes the images of TestGolden: the same
// golden files, byte for byte.
func TestTranscodeGolden(t *testing.T) {
	for _, in := range images(t) {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			require.NoError(t, err)
			out, err := ddbjson.Transcode(nil, raw)
			require.NoError(t, err)
			golden.Bytes(t, filepath.Join("testdata", name+".golden.json"), append(out, '\n'))
			agree(t, raw)
		})
	}
}

// TestTranscodeCases runs the case table through the wire: each value as
// the only attribute of an item, in the DynamoDB JSON aws-lambda-go
// writes for it, must come out as AppendItem writes what aws-lambda-go
// reads back, or fail the same way. (The wire changes some: a nil list is
// written as null, which no decoder reads back, and invalid UTF-8 becomes
// U+FFFD.)
func TestTranscodeCases(t *testing.T) {
	for name, tc := range cases {
		if tc.is != nil {
			continue // aws-lambda-go cannot write a value without a type
		}
		t.Run(name, func(t *testing.T) {
			raw, err := json.Marshal(item{"v": tc.in})
			require.NoError(t, err)
			agree(t, raw)
		})
	}
}

// TestTranscodeCorners pins the corner cases of the decoding Transcode
// agrees with, each with the output (or the failure) it must give; agree
// checks each against encoding/json and aws-lambda-go as well.
func TestTranscodeCorners(t *testing.T) {
	tests := map[string]struct {
		in   string
		want string // "" when reading fails
		err  string // the error, read or write, when it fails
	}{
		"null item":                  {in: `null`, want: `{}`},
		"empty item":                 {in: ` {} `, want: `{}`},
		"escaped names and types":    {in: `{"\u0061":{"\u0053":"\u00e9\n"}}`, want: `{"a":"é\n"}`},
		"invalid UTF-8 replaced":     {in: "{\"k\xff\":{\"S\":\"a\xffb\"}}", want: `{"k` + "\ufffd" + `":"a` + "\ufffd" + `b"}`},
		"line separator escaped":     {in: "{\"s\":{\"S\":\"a\u2028b\"}}", want: `{"s":"a\u2028b"}`},
		"attribute repeated":         {in: `{"a":{"S":"1"},"b":{"N":"2"},"a":{"S":"3"}}`, want: `{"a":"3","b":2}`},
		"type repeated":              {in: `{"a":{"S":1,"S":"x"}}`, want: `{"a":"x"}`},
		"type repeated, last bad":    {in: `{"a":{"S":"x","S":1}}`, err: "S holds a number, not a string"},
		"map key repeated":           {in: `{"m":{"M":{"b":{"N":"x"},"a":{"S":"1"},"b":{"BOOL":true}}}}`, want: `{"m":{"a":"1","b":true}}`},
		"replaced value not read":    {in: `{"m":{"M":{"a":{"BS":[1]},"a":{"S":"ok"}}}}`, want: `{"m":{"a":"ok"}}`},
		"replaced value range":       {in: `{"m":{"M":{"a":{"X":1e999},"a":{"S":"ok"}}}}`, err: "float64 range"},
		"replaced attribute read":    {in: `{"a":{"BS":[1]},"a":{"S":"ok"}}`, err: "BS element is a number"},
		"NULL holds anything":        {in: `{"a":{"NULL":false},"b":{"NULL":{"x":[1,"y"]}}}`, want: `{"a":null,"b":null}`},
		"NULL number out of range":   {in: `{"a":{"NULL":-1e400}}`, err: "float64 range"},
		"binary made canonical":      {in: `{"b":{"B":"QR=\r\n="},"s":{"BS":["","/w=="]}}`, want: `{"b":"QQ==","s":["","/w=="]}`},
		"binary not base64":          {in: `{"b":{"B":"QQ="}}`, err: "illegal base64 data"},
		"two types":                  {in: `{"a":{"S":"x","N":"1"}}`, err: "more than one type"},
		"no type":                    {in: `{"a":{}}`, err: "no type"},
		"unknown type":               {in: `{"a":{"s":"x"}}`, err: `unsupported attribute type "s"`},
		"value not an object":        {in: `{"a":"x"}`, err: "a string, not an object"},
		"value null":                 {in: `{"a":null}`, err: "null, not an object"},
		"list element null":          {in: `{"a":{"L":[{"S":"x"},null]}}`, err: `attribute "a[1]"`},
		"map null":                   {in: `{"a":{"M":null}}`, err: "M holds null, not an object"},
		"item not an object":         {in: `[]`, err: "an item is an array"},
		"unwritten bad number first": {in: `{"a":{"N":"x"},"a":{"N":"1"}}`, want: `{"a":1}`},
		"bad number written":         {in: `{"z":{"N":"1"},"a":{"L":[{"N":"1"},{"NS":["2","x"]}]}}`, err: `ddbjson: attribute "a[1][1]": invalid number "x"`},
		"first bad number by name":   {in: `{"b":{"N":"y"},"a":{"N":"x"}}`, err: `attribute "a": invalid number "x"`},
		"syntax error after":         {in: `{"a":{"S":"x"}`, err: "expected"},
		"trailing data":              {in: `{"a":{"S":"x"}} x`, err: "end of input"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			agree(t, []byte(tc.in))
			got, err := ddbjson.Transcode(nil, []byte(tc.in))
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
}

// TestTranscodeDepth: values nest as deep as JSON allows; only what is
// written deeper than MaxDepth fails, naming the first value too deep.
func TestTranscodeDepth(t *testing.T) {
	nested := func(levels int) string {
		return `{"a":` + strings.Repeat(`{"L":[`, levels) + `{"NULL":true}` + strings.Repeat(`]}`, levels) + `}`
	}
	got := agree(t, []byte(nested(ddbjson.MaxDepth-1)))
	assert.Equal(t, `{"a":`+strings.Repeat("[", ddbjson.MaxDepth-1)+"null"+strings.Repeat("]", ddbjson.MaxDepth-1)+"}", string(got))

	_, err := ddbjson.Transcode(nil, []byte(nested(ddbjson.MaxDepth)))
	assert.ErrorIs(t, err, ddbjson.ErrTooDeep)
	var attrErr *ddbjson.AttributeError
	require.ErrorAs(t, err, &attrErr)
	assert.Equal(t, "a"+strings.Repeat("[0]", ddbjson.MaxDepth), attrErr.Path)
	agree(t, []byte(nested(ddbjson.MaxDepth)))
	agree(t, []byte(nested(2000)))
	agree(t, []byte(nested(jsonscan.MaxDepth)))
}

// TestTranscodeReuse reads several items with one Transcoder and writes
// them afterwards, as the forwarder does with a record's images, and reads
// into one Item twice, as encoding/json decodes a repeated name into the
// same map.
func TestTranscodeReuse(t *testing.T) {
	var tr ddbjson.Transcoder
	var keys, img ddbjson.Item
	s := jsonscan.New([]byte(`[{"id":{"S":"1"}}, {"b":{"M":{"y":{"N":"1"},"x":{"N":"2"}}}}, null, {"a":{"S":"x"}}, {"a":{"S":"y"},"c":{"BOOL":false}}]`))
	for i := range s.Array() {
		switch i {
		case 0:
			require.NoError(t, tr.ReadItem(s, &keys))
		default:
			require.NoError(t, tr.ReadItem(s, &img))
		}
	}
	require.NoError(t, s.End())
	assert.False(t, keys.IsNil())
	out, err := tr.AppendItem([]byte("line:"), &keys)
	require.NoError(t, err)
	out, err = tr.AppendItem(append(out, ' '), &img)
	require.NoError(t, err)
	assert.Equal(t, `line:{"id":"1"} {"a":"y","c":false}`, string(out), "the null emptied the item; the last two merged")
	again, err := tr.AppendItem(nil, &img)
	require.NoError(t, err)
	assert.Equal(t, `{"a":"y","c":false}`, string(again), "writing twice writes the same")

	tr.Reset()
	img.Reset()
	assert.True(t, img.IsNil())
	s.Reset([]byte(`{"z":{"S":"z"}}`))
	require.NoError(t, tr.ReadItem(s, &img))
	out, err = tr.AppendItem(nil, &img)
	require.NoError(t, err)
	assert.Equal(t, `{"z":"z"}`, string(out))
}

// TestTranscodeOrderRemembered: one Transcoder writing item after item,
// each as a new Transcoder writes it alone, whether the items list their
// attributes as the one before (names alike, or alike only in their first
// eight bytes) or not, in items and in M values.
func TestTranscodeOrderRemembered(t *testing.T) {
	items := []string{
		`{"f":{"N":"1"},"b":{"N":"2"},"e":{"N":"3"},"a":{"N":"4"},"d":{"N":"5"},"c":{"N":"6"},"g":{"N":"7"}}`,
		`{"f":{"N":"1"},"b":{"N":"2"},"e":{"N":"3"},"a":{"N":"4"},"d":{"N":"5"},"c":{"N":"6"},"g":{"N":"7"}}`,
		`{"b":{"N":"1"},"f":{"N":"2"},"e":{"N":"3"},"a":{"N":"4"},"d":{"N":"5"},"c":{"N":"6"},"g":{"N":"7"}}`,
		`{"long-name-f1":{"S":"1"},"long-name-b1":{"S":"2"},"long-nam3":{"S":"3"},"long-nam1":{"S":"4"},"long-nam4":{"S":"5"},"long-nam2":{"S":"6"}}`,
		`{"long-name-f2":{"S":"1"},"long-name-b2":{"S":"2"},"long-nam3":{"S":"3"},"long-nam1":{"S":"4"},"long-nam4":{"S":"5"},"long-nam2":{"S":"6"}}`,
		`{"long-nam6":{"S":"1"},"long-nam5":{"S":"2"},"long-nam3":{"S":"3"},"long-nam1":{"S":"4"},"long-nam4":{"S":"5"},"long-nam2":{"S":"6"}}`,
		`{"long-nam6":{"S":"1"},"long-nam5":{"S":"2"},"long-nam3":{"S":"3"},"long-nam1":{"S":"4"},"long-nam4":{"S":"5"},"long-nam2":{"S":"6"}}`,
		`{"long-nam6":{"S":"1"},"long-nam5":{"S":"2"},"long-nam3":{"S":"3"},"long-nam1":{"S":"4"},"long-nam4":{"S":"5"},"long-nam0":{"S":"6"}}`,
		`{"m":{"M":{"z":{"N":"1"},"y":{"N":"2"},"x":{"N":"3"},"w":{"N":"4"},"v":{"N":"5"},"u":{"N":"6"}}},"a":{"M":{"z":{"N":"1"},"y":{"N":"2"},"x":{"N":"3"},"w":{"N":"4"},"v":{"N":"5"},"u":{"N":"6"}}}}`,
		`{"f":{"N":"1"},"b":{"N":"2"},"e":{"N":"3"},"a":{"N":"4"},"d":{"N":"5"},"c":{"N":"6"},"c":{"N":"7"}}`,
		`{"f":{"N":"1"},"b":{"N":"2"},"e":{"N":"3"},"a":{"N":"4"},"d":{"N":"5"},"c":{"N":"6"},"c":{"N":"7"}}`,
	}
	var reused ddbjson.Transcoder
	for round := range 2 {
		for i, raw := range items {
			var fresh ddbjson.Transcoder
			var a, b ddbjson.Item
			require.NoError(t, fresh.ReadItem(jsonscan.New([]byte(raw)), &a))
			want, err := fresh.AppendItem(nil, &a)
			require.NoError(t, err)
			var o map[string]any
			require.NoError(t, json.Unmarshal(want, &o), "valid JSON")
			reused.Reset()
			require.NoError(t, reused.ReadItem(jsonscan.New([]byte(raw)), &b))
			got, err := reused.AppendItem(nil, &b)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got), "round %d, item %d", round, i)
		}
	}
	var tr ddbjson.Transcoder
	var it ddbjson.Item
	require.NoError(t, tr.ReadItem(jsonscan.New([]byte(items[0])), &it))
	out, err := tr.AppendItem(nil, &it)
	require.NoError(t, err)
	assert.Equal(t, `{"a":4,"b":2,"c":6,"d":5,"e":3,"f":1,"g":7}`, string(out))
}

// FuzzTranscode: for any input, Transcode and encoding/json + aws-lambda-go
// + Marshal agree byte for byte, or on the error, or both refuse to read
// it.
func FuzzTranscode(f *testing.F) {
	addItems(f)
	for _, s := range []string{
		`{"a":{"S":1,"S":"x"},"a":{"M":{"b":{"N":"1"},"b":{"NULL":[1e5]}}}}`,
		`{"a":{"BS":["QR==",1]}}`, `{"a":{"NULL":-1e400}}`, `null`, `{"\u0061":{"\u004e":"+.5e3"}}`,
		`{"l":{"L":[{"L":[{"M":{"k":{"SS":["\ud800","\u2029"]}}}]}]}}`,
		`{"a":{"S":"\u674e\u010D\u0041\u00e9 \u2028\ud83d\ude00"},"b":{"S":"\u00e"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		agree(t, raw)
	})
}

// BenchmarkTranscode writes the realistic order item of BenchmarkMarshal
// from its DynamoDB JSON: what the forwarder does per image.
func BenchmarkTranscode(b *testing.B) {
	raw, err := os.ReadFile("testdata/order.json")
	require.NoError(b, err)
	var tr ddbjson.Transcoder
	var it ddbjson.Item
	var s jsonscan.Scanner
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		tr.Reset()
		it.Reset()
		s.Reset(raw)
		if err := tr.ReadItem(&s, &it); err != nil {
			b.Fatal(err)
		}
		if buf, err = tr.AppendItem(buf[:0], &it); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTranscodeManyAttributes: items and M values with more attributes
// than the insertion sort takes, names in reverse order, some repeated,
// some sharing their first eight bytes.
func TestTranscodeManyAttributes(t *testing.T) {
	var b strings.Builder
	for i := 60; i >= 0; i-- {
		fmt.Fprintf(&b, `"attribute-%02d":{"N":"%d"},`, i%45, i)
		fmt.Fprintf(&b, `"k%d":{"S":"%d"},`, i%7, i)
	}
	members := strings.TrimSuffix(b.String(), ",")
	got := agree(t, []byte(`{`+members+`,"m":{"M":{`+members+`}}}`))
	assert.Contains(t, string(got), `"attribute-14":14,"attribute-15":15,"attribute-16":16`, "the last of a repeated name (60, then 15), in order")
	assert.Contains(t, string(got), `"k0":"0","k1":"1"`)
}
