package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/record"
)

func TestParseJSON(t *testing.T) {
	many := make([]string, 40)
	manyFields := make([]record.Field, 40)
	for i := range many {
		many[i] = fmt.Sprintf(`"k%d":%d`, i, i)
		manyFields[i] = record.Field{Name: fmt.Sprintf("k%d", i), Value: int64(i)}
	}
	manyFields[3].Value = "last" // "k3" given again after the map index took over

	tests := map[string]struct {
		in      string
		want    []record.Field
		wantErr error
		errText string
	}{
		"types": {
			in: `{"s":"x","i":-12,"zero":0,"f":1.50,"e":2E3,"max":9223372036854775807,"over":9223372036854775808,` +
				`"t":true,"fa":false,"n":null,"o":{"a" : 1},"a":[ 1, "]" ]}`,
			want: []record.Field{
				{Name: "s", Value: "x"}, {Name: "i", Value: int64(-12)}, {Name: "zero", Value: int64(0)},
				{Name: "f", Value: json.RawMessage("1.50")}, {Name: "e", Value: json.RawMessage("2E3")},
				{Name: "max", Value: int64(9223372036854775807)}, {Name: "over", Value: json.RawMessage("9223372036854775808")},
				{Name: "t", Value: true}, {Name: "fa", Value: false}, {Name: "n", Value: nil},
				{Name: "o", Value: json.RawMessage(`{"a" : 1}`)}, {Name: "a", Value: json.RawMessage(`[ 1, "]" ]`)},
			},
		},
		"document order and whitespace": {
			in:   " \t{ \"z\" : 1 ,\n \"a\":\"2\" }\r\n",
			want: []record.Field{{Name: "z", Value: int64(1)}, {Name: "a", Value: "2"}},
		},
		"escapes and unicode": {
			in: `{"q\"k":"a\"b\\c\/d\u00e9\ud83d\ude00\n","é":"ünïcode","bad":"` + "\xff" + `"}`,
			want: []record.Field{
				{Name: `q"k`, Value: "a\"b\\c/dé😀\n"}, {Name: "é", Value: "ünïcode"}, {Name: "bad", Value: "\ufffd"},
			},
		},
		"duplicate keys keep first place and last value": {
			in:   `{"a":1,"b":2,"a":3}`,
			want: []record.Field{{Name: "a", Value: int64(3)}, {Name: "b", Value: int64(2)}},
		},
		"duplicates beyond the map threshold": {
			in:   "{" + strings.Join(many, ",") + `,"k3":"last"}`,
			want: manyFields,
		},
		"empty object": {in: `{}`, want: []record.Field{}},
		"array":        {in: `[{"a":1}]`, wantErr: ErrNotObject, errText: "not a JSON object: found an array"},
		"string":       {in: `"x"`, wantErr: ErrNotObject, errText: "found a string"},
		"number":       {in: ` 12 `, wantErr: ErrNotObject, errText: "found a number"},
		"null":         {in: `null`, wantErr: ErrNotObject, errText: "found null"},
		"truncated":    {in: `{"a":`, wantErr: ErrInvalidJSON, errText: "invalid JSON: unexpected end of JSON input"},
		"trailing":     {in: `{"a":1} {"b":2}`, wantErr: ErrInvalidJSON, errText: "invalid character '{' after top-level value"},
		"empty":        {in: ``, wantErr: ErrInvalidJSON},
		"blank":        {in: "  \n", wantErr: ErrInvalidJSON},
		"bare word":    {in: `{a:1}`, wantErr: ErrInvalidJSON, errText: "invalid character 'a' looking for beginning of object key string"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseJSON([]byte(tc.in))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Contains(t, err.Error(), tc.errText)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.Fields)
		})
	}
}

// jsonSeeds are the JSON inputs of the golden cases, split into lines and
// documents, as fuzz seeds.
func jsonSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, pattern := range []string{"testdata/transform/*.ndjson", "testdata/transform/*.json"} {
		files, err := filepath.Glob(pattern)
		require.NoError(t, err)
		for _, f := range files {
			if strings.Contains(f, ".golden.") {
				continue
			}
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			seeds = append(seeds, data)
			for _, doc := range jsonDocuments(data) {
				seeds = append(seeds, doc)
			}
		}
	}
	return seeds
}

// FuzzParseJSON checks that ParseJSON accepts exactly the JSON objects and
// that writing the record back gives JSON with the same meaning.
func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := ParseJSON(line)
		trimmed := bytes.TrimLeft(line, " \t\r\n")
		isObject := json.Valid(line) && len(trimmed) > 0 && trimmed[0] == '{'
		if err != nil {
			require.False(t, isObject, "rejected a JSON object: %v", err)
			return
		}
		require.True(t, isObject, "accepted what is not a JSON object")
		out, err := AppendJSON(nil, r)
		require.NoError(t, err)
		require.True(t, json.Valid(out), "wrote invalid JSON %q", out)
		var want, got any
		require.NoError(t, json.Unmarshal(line, &want))
		require.NoError(t, json.Unmarshal(out, &got))
		assert.Equal(t, want, got)
	})
}

// FuzzParseJSONDifferential holds ParseJSON to referenceParseJSON, the
// implementation it replaced (encoding/json's validation, then a walk):
// the same fields and values, or the same error, for any input. ParseJSONInto
// into a record reused from the previous input must agree too.
func FuzzParseJSONDifferential(f *testing.F) {
	for _, s := range jsonSeeds(f) {
		f.Add(s)
	}
	for _, s := range []string{`{"a":1,"a":{"b":[1,2]},"c":"\u00e9\ud800x"}`, `{"x":nul}`, `{"x":tru}`, `[1] x`, `{"a":1} x`, `{"a":-0,"b":1e400,"c":"` + "\xff\t" + `"}`} {
		f.Add([]byte(s))
	}
	reused := record.NewBuilder(0)
	// Kept from one input to the next, as Transform keeps it; the stages
	// read a and b, the other members may be kept verbatim, in runs.
	docs := docReader{reads: []string{"a", "b"}, inRuns: true}
	shaped := record.NewBuilder(0)
	f.Fuzz(func(t *testing.T, line []byte) {
		want, wantErr := referenceParseJSON(line)
		got, err := ParseJSON(line)
		ok, intoErr := ParseJSONInto(reused, line, time.Time{})
		for range 2 { // the second time, the shape is the line's own
			end, ok := docs.readJSONDocument(shaped, line)
			if ok {
				require.True(t, json.Valid(line[:end]), "read %q, which is not JSON", line[:end])
			}
			if ok && wantErr == nil && len(bytes.TrimSpace(line[end:])) == 0 {
				requireReadAlike(t, want, &shaped.Record, docs.reads, line[:end])
			}
		}
		if wantErr != nil {
			require.Error(t, err, "accepted what encoding/json rejects")
			require.Equal(t, wantErr.Error(), err.Error())
			require.Equal(t, errors.Is(wantErr, ErrNotObject), errors.Is(err, ErrNotObject))
			require.Equal(t, err, intoErr)
			require.False(t, ok)
			require.Empty(t, reused.Fields)
			return
		}
		require.NoError(t, err)
		require.Equal(t, want.Fields, got.Fields)
		require.NoError(t, intoErr)
		require.True(t, ok)
		require.Equal(t, want.Fields, reused.Fields)
	})
}

// FuzzStringEnd holds the eight-bytes-at-a-time string end finder, which
// cuts JSON documents apart, to the byte-at-a-time one.
func FuzzStringEnd(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b" x`, `"12345678\\"`, `"` + strings.Repeat("x", 20) + `\` + `"` + strings.Repeat("y", 9) + `"z`, `"unterminated`, `"\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for i := range b {
			require.Equal(t, refStringEnd(b, i), stringEnd(b, i), "from %d", i)
		}
	})
}

// TestKeyShape: documents read one after the other with the keys of the
// last as a shape (as Transform reads them) come out as read alone:
// the same keys, in another order, fewer, more, repeated, and past the
// count from which a map finds repeats.
func TestKeyShape(t *testing.T) {
	many := func(from, n int) string {
		var b strings.Builder
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&b, `"k%d":%d,`, i, i)
		}
		return b.String()
	}
	docs := []string{
		`{"a":1,"b":"x","c":[1]}`,
		`{"a":2,"b":"y","c":[2]}`,
		`{"b":3,"a":"z","c":null}`,
		`{"a":1}`,
		`{"a":1,"b":2,"c":3,"d":4}`,
		`{"a":1,"b":2,"a":3,"c":4}`,
		`{"a":1,"b":2,"a":3,"c":4}`,
		`{"a":1,"b":2,"c":3,"b":4,"a":5}`,
		`{` + many(0, 40) + `"k3":"again"}`,
		`{` + many(0, 40) + `"k3":"again"}`,
		`{` + many(0, 35) + `"k38":1,"k3":"again","k36":2}`,
		`{"k0":0,"k1":1,` + many(0, 40) + `"z":1}`,
		`{}`,
		`{"a":1,"b":"x","c":[1]}`,
	}
	for _, inRuns := range []bool{false, true} {
		d := docReader{reads: []string{"b", "k3"}, inRuns: inRuns}
		b := record.NewBuilder(0)
		for _, doc := range docs {
			want, err := referenceParseJSON([]byte(doc))
			require.NoError(t, err)
			end, ok := d.readJSONDocument(b, []byte(doc))
			require.True(t, ok, doc)
			require.Equal(t, len(doc), end)
			requireReadAlike(t, want, &b.Record, d.reads, []byte(doc))
			names := make([]string, len(want.Fields))
			for i, f := range want.Fields {
				names[i] = f.Name
			}
			require.GreaterOrEqual(t, len(d.shape.names), len(names))
			require.Equal(t, names, d.shape.names[:len(names)], "the shape starts with the document's keys")
		}
	}
}

// requireReadAlike checks got, a document read by Transform's reader, which
// keeps the members no stage reads verbatim where it can, in runs or one
// by one, against want, the same document as ParseJSON reads it: the
// fields in reads hold the same values, and the writer writes both
// records alike.
func requireReadAlike(t *testing.T, want, got *record.Record, reads []string, doc []byte) {
	t.Helper()
	for _, name := range reads {
		w, inWant := want.Get(name)
		g, inGot := got.Get(name)
		require.Equal(t, inWant, inGot, "field %q of %s, which a stage reads", name, doc)
		require.Equal(t, w, g, "field %q of %s, which a stage reads", name, doc)
	}
	wantText, wantErr := AppendJSON(nil, want)
	gotText, err := appendRecord(nil, got, 0, false, doc, nil)
	require.Equal(t, wantErr, err, "%s", doc)
	require.Equal(t, string(wantText), string(gotText), "%s", doc)
}

// TestVerbatimMembers: the members no stage reads are kept as their
// text exactly when it is what the writer writes for their value; the
// members a stage reads never are.
func TestVerbatimMembers(t *testing.T) {
	tests := map[string]struct {
		value    string
		verbatim bool
	}{
		"ascii string":          {`"GET /index.html HTTP/1.1"`, true},
		"empty string":          {`""`, true},
		"utf-8 string":          {`"caf\u00e9 café"`, false},
		"utf-8 without escapes": {`"café 日本"`, true},
		"escaped quote":         {`"a\"b"`, false},
		"escaped slash":         {`"a\/b"`, false},
		"escaped separator":     {`"a\u2028b"`, false},
		"line separator":        {"\"a\u2028b\"", false}, // written escaped
		"paragraph separator":   {"\"a\u2029b\"", false},
		"other e2 80 text":      {"\"a\xe2\x80\x94b\"", true}, // an em dash
		"invalid utf-8":         {"\"a\xffb\"", false},
		"integer":               {`1234567890123`, true},
		"negative integer":      {`-42`, true},
		"zero":                  {`0`, true},
		"minus zero":            {`-0`, false},
		"beyond int64":          {`123456789012345678901234567890`, true},
		"fraction":              {`-1.50`, true},
		"exponent":              {`1E+400`, true},
		"true":                  {`true`, false},
		"null":                  {`null`, false},
		"object":                {`{"x": [1, 2]}`, true}, // kept as text as ParseJSON keeps it
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			doc := []byte(`{"read": ` + tc.value + `, "other": ` + tc.value + `}`)
			want, err := referenceParseJSON(doc)
			require.NoError(t, err)
			d := docReader{reads: []string{"read"}}
			b := record.NewBuilder(0)
			for range 2 { // without a shape, then with the document's own
				_, ok := d.readJSONDocument(b, doc)
				require.True(t, ok)
				requireReadAlike(t, want, &b.Record, d.reads, doc)
				_, isText := b.Fields[1].Value.(json.RawMessage)
				_, wantText := want.Fields[1].Value.(json.RawMessage)
				assert.Equal(t, tc.verbatim, isText, "kept as its text")
				if isText && !wantText {
					assert.Equal(t, tc.value, string(b.Fields[1].Value.(json.RawMessage)), "the value's text")
				}
				assert.Equal(t, want.Fields[0], b.Fields[0], "a field a stage reads is read as ParseJSON reads it")
			}
		})
	}
}

// TestMemberRuns: the members no stage reads of a compact document whose
// keys are the last one's come in runs, written in one piece each; a
// member a stage reads, a value that must be written otherwise, a key
// written otherwise, white space around a colon or a comma, each end a
// run, and a repeated key in a document of new keys reads it all again
// without runs.
func TestMemberRuns(t *testing.T) {
	tests := map[string]struct {
		doc  string
		runs []string // the runs' text, in order, on the second reading
	}{
		"compact":     {`{"a":1,"b":"x","r":2,"c":[1,{"d":null}],"e":true}`, []string{`"a":1,"b":"x"`, `"c":[1,{"d":null}],"e":true`}},
		"first read":  {`{"r":2,"a":1,"b":"x"}`, []string{`"a":1,"b":"x"`}},
		"all read":    {`{"r":2}`, nil},
		"escape":      {`{"a":1,"b":"\u0078","c":3}`, []string{`"a":1`, `"c":3`}},
		"escaped key": {`{"a":1,"\u0062":2,"c":3}`, []string{`"a":1`, `"c":3`}},
		"minus zero":  {`{"a":1,"b":-0,"c":3}`, []string{`"a":1`, `"c":3`}},
		"spaces":      {`{"a":1, "b":2 ,"c" :3,"d": 4,"e":{ },"f":"x y"}`, []string{`"a":1`, `"b":2`, `"f":"x y"`}},
		"separators":  {"{\"a\":\"\u2028\",\"b\u2029\":1,\"c\":2}", []string{`"c":2`}},
		"empty key":   {`{"a":1,"":2,"c":3}`, []string{`"a":1`, `"c":3`}},
		"empty":       {`{}`, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			want, err := referenceParseJSON([]byte(tc.doc))
			require.NoError(t, err)
			d := docReader{reads: []string{"r"}, inRuns: true}
			b := record.NewBuilder(0)
			for i := range 2 { // the first time without a shape: no runs
				end, ok := d.readJSONDocument(b, []byte(tc.doc))
				require.True(t, ok)
				require.Equal(t, len(tc.doc), end)
				requireReadAlike(t, want, &b.Record, d.reads, []byte(tc.doc))
				var runs []string
				for _, f := range b.Fields {
					if run, ok := f.Value.(*memberRun); ok {
						assert.Empty(t, f.Name)
						runs = append(runs, string(run.text))
					}
				}
				if i == 0 {
					assert.Empty(t, runs, "no runs without the shape")
				} else {
					assert.Equal(t, tc.runs, runs)
				}
			}
		})
	}

	t.Run("repeated key", func(t *testing.T) {
		d := docReader{reads: []string{"r"}, inRuns: true}
		b := record.NewBuilder(0)
		for _, doc := range []string{`{"a":1,"b":2,"c":3}`, `{"a":1,"b":2,"c":3}`, `{"a":1,"b":2,"c":3,"a":4}`, `{"a":1,"b":2,"c":3,"d":4,"b":5,"r":6}`} {
			want, err := referenceParseJSON([]byte(doc))
			require.NoError(t, err)
			_, ok := d.readJSONDocument(b, []byte(doc))
			require.True(t, ok)
			requireReadAlike(t, want, &b.Record, d.reads, []byte(doc))
		}
		assert.Equal(t, []string{"a", "b", "c", "d", "r"}, d.shape.names)
	})
}
