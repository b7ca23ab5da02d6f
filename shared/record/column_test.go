package record

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testColumns = Columns{
	{"name", String},
	{"count", Bigint},
	{"ratio", Double},
	{"ok", Boolean},
	{"tags", "array<string>"},
	{"request", "struct<uri:string>"},
	{"headers", "map<string,string>"},
	{"rest", String},
}

func TestColumnsNames(t *testing.T) {
	assert.Equal(t, []string{"name", "count", "ratio", "ok", "tags", "request", "headers", "rest"}, testColumns.Names())
}

func TestColumnsValidate(t *testing.T) {
	require.NoError(t, testColumns.Validate())
	tests := map[string]struct {
		cols Columns
		want string
	}{
		"empty name":         {Columns{{"", String}}, `column 0 has no name`},
		"repeated name":      {Columns{{"a", String}, {"A", Bigint}}, `column "A" is listed twice`},
		"int is not written": {Columns{{"a", "int"}}, `column "a" has type "int", not one a parser writes`},
		"timestamp":          {Columns{{"a", "timestamp"}}, `column "a" has type "timestamp", not one a parser writes`},
		"unclosed complex":   {Columns{{"a", "array<string"}}, `column "a" has type "array<string", not one a parser writes`},
		"upper case":         {Columns{{"a", "STRING"}}, `column "a" has type "STRING", not one a parser writes`},
		"two problems":       {Columns{{"", "x"}}, "column 0 has no name\ncolumn \"\" has type \"x\", not one a parser writes"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.EqualError(t, tc.cols.Validate(), tc.want)
		})
	}
}

func TestColumnsCheck(t *testing.T) {
	ok := map[string][]Field{
		"every column": {
			{"name", "a"}, {"count", int64(1)}, {"ratio", 0.5}, {"ok", true},
			{"tags", json.RawMessage(`["x"]`)}, {"request", json.RawMessage(` {"uri":"/"}`)},
			{"headers", &Record{}}, {"rest", json.RawMessage(`[{"a":1}]`)},
		},
		"nulls fit anything":               {{"name", nil}, {"count", nil}, {"tags", nil}, {"request", nil}},
		"columns left out":                 {{"count", int64(1)}, {"rest", "x"}},
		"no fields":                        {},
		"nested record as a string column": {{"rest", &Record{}}},
	}
	for name, fields := range ok {
		t.Run(name, func(t *testing.T) {
			assert.NoError(t, testColumns.Check(&Record{Fields: fields}))
		})
	}

	bad := map[string]struct {
		fields []Field
		want   string
	}{
		"unknown field":       {[]Field{{"other", "a"}}, `field "other" is not a column`},
		"out of order":        {[]Field{{"count", int64(1)}, {"name", "a"}}, `field "name" is out of the columns' order`},
		"repeated":            {[]Field{{"name", "a"}, {"name", "b"}}, `field "name" is out of the columns' order`},
		"int in string":       {[]Field{{"name", int64(1)}}, `field "name" holds number 1 (int64), not a value of column type "string"`},
		"float in bigint":     {[]Field{{"count", 1.5}}, `field "count" holds number 1.5 (float64), not a value of column type "bigint"`},
		"string in boolean":   {[]Field{{"ok", "true"}}, `field "ok" holds string "true" (string), not a value of column type "boolean"`},
		"object in array":     {[]Field{{"tags", json.RawMessage(`{}`)}}, `field "tags" holds an object (json.RawMessage), not a value of column type "array<string>"`},
		"array in struct":     {[]Field{{"request", json.RawMessage(`[]`)}}, `field "request" holds an array (json.RawMessage), not a value of column type "struct<uri:string>"`},
		"record in array":     {[]Field{{"tags", &Record{}}}, `field "tags" holds an object (*record.Record), not a value of column type "array<string>"`},
		"unsupported Go type": {[]Field{{"count", 1}}, `field "count" holds a int (int), not a value of column type "bigint"`},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			assert.EqualError(t, testColumns.Check(&Record{Fields: tc.fields}), tc.want)
		})
	}
}

func TestColumnsConform(t *testing.T) {
	tests := map[string]struct {
		in   []Field
		want []Field
	}{
		"reordered to the columns": {
			in:   []Field{{"ok", true}, {"name", "a"}, {"count", int64(2)}},
			want: []Field{{"name", "a"}, {"count", int64(2)}, {"ok", true}},
		},
		"scalars become text in a string column": {
			in:   []Field{{"name", int64(42)}},
			want: []Field{{"name", "42"}},
		},
		"boolean as text": {
			in:   []Field{{"name", false}},
			want: []Field{{"name", "false"}},
		},
		"big and fractional numbers become their digits in a string column": {
			in:   []Field{{"name", json.RawMessage(`12345678901234567890.50`)}},
			want: []Field{{"name", "12345678901234567890.50"}},
		},
		"objects stay JSON in a string column": {
			in:   []Field{{"name", json.RawMessage(`{"a":1}`)}},
			want: []Field{{"name", json.RawMessage(`{"a":1}`)}},
		},
		"integer text in a bigint column": {
			in:   []Field{{"count", "-7"}},
			want: []Field{{"count", int64(-7)}},
		},
		"integers and big numbers in a double column": {
			in:   []Field{{"ratio", int64(3)}},
			want: []Field{{"ratio", 3.0}},
		},
		"number text in a double column": {
			in:   []Field{{"ratio", json.RawMessage(`1e3`)}},
			want: []Field{{"ratio", 1000.0}},
		},
		"true and false text in a boolean column": {
			in:   []Field{{"ok", "false"}},
			want: []Field{{"ok", false}},
		},
		"nulls are kept": {
			in:   []Field{{"tags", nil}, {"name", nil}},
			want: []Field{{"name", nil}, {"tags", nil}},
		},
		"unknown fields go to rest in their order": {
			in: []Field{{"z", int64(1)}, {"name", "a"}, {"y", json.RawMessage(`[1]`)}},
			want: []Field{{"name", "a"}, {"rest", &Record{Fields: []Field{
				{"z", int64(1)}, {"y", json.RawMessage(`[1]`)},
			}}}},
		},
		"a field named like rest is kept in rest": {
			in:   []Field{{"rest", "mine"}},
			want: []Field{{"rest", &Record{Fields: []Field{{"rest", "mine"}}}}},
		},
		"empty": {in: nil, want: []Field{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := testColumns.Conform(&Record{Fields: tc.in}, "rest")
			require.NoError(t, err)
			assert.Equal(t, tc.want, out.Fields)
			assert.NoError(t, testColumns.Check(out), "a conformed record fits its columns")
		})
	}

	bad := map[string]struct {
		in   Field
		want string
	}{
		"word in bigint":     {Field{"count", "ten"}, `field "count": want a bigint, found string "ten"`},
		"fraction in bigint": {Field{"count", json.RawMessage(`1.5`)}, `field "count": want a bigint, found number 1.5`},
		"yes in boolean":     {Field{"ok", "yes"}, `field "ok": want a boolean, found string "yes"`},
		"number in boolean":  {Field{"ok", int64(1)}, `field "ok": want a boolean, found number 1`},
		"string in array":    {Field{"tags", "a,b"}, `field "tags": want an array, found string "a,b"`},
		"array in struct":    {Field{"request", json.RawMessage(`[]`)}, `field "request": want an object, found an array`},
		"word in double":     {Field{"ratio", "fast"}, `field "ratio": want a double, found string "fast"`},
		"object in double":   {Field{"ratio", json.RawMessage(`{}`)}, `field "ratio": want a double, found an object`},
		"long value is cut":  {Field{"count", "1234567890123456789012345678901234567890x"}, `field "count": want a bigint, found string "1234567890123456789012345678901234567890"…`},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			out, err := testColumns.Conform(&Record{Fields: []Field{tc.in}}, "rest")
			assert.Nil(t, out)
			assert.EqualError(t, err, tc.want)
		})
	}
}
