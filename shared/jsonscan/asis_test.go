package jsonscan

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// membersAsIsRef is MembersAsIs written with the general readers: after
// the first member of the object data starts with, how many members have
// the keys given, written compactly in the forms MembersAsIs reads, and
// the offset after the last one's value.
func membersAsIsRef(t *testing.T, data []byte, keys []Key) (int, int) {
	s := New(data)
	if _, ok := s.FirstKey(); !ok {
		return 0, -1
	}
	if _, err := s.Raw(); err != nil {
		return 0, -1
	}
	n := 0
	for ; n < len(keys); n++ {
		end := s.Offset()
		var ok bool
		sub := New(data)
		sub.ResetNested(data, 1)
		sub.Seek(end)
		if end < len(data) && data[end] == ',' {
			if at, found := sub.NextKeyIs(&keys[n]); found && at == end+1 && sub.Offset() == at+keys[n].Len() {
				ok = asIsValue(sub, data)
			}
		}
		if !ok {
			return n, end
		}
		s = sub
	}
	return n, s.Offset()
}

// asIsValue reads the value that comes next, reporting whether it is one
// MembersAsIs reads.
func asIsValue(s *Scanner, data []byte) bool {
	start := s.Offset()
	switch s.Peek() {
	case String:
		text, escaped, err := s.RawString()
		return err == nil && !escaped && isASCIIText(text)
	case Number:
		v, err := s.Number()
		return err == nil && !bytes.HasPrefix(v, []byte("-0"))
	case Bool:
		_, err := s.Bool()
		return err == nil
	case Null:
		return s.Null()
	case Array, Object:
		v, err := s.Raw()
		if err != nil || bytes.IndexByte(v, '\\') >= 0 || depthOf(v) > 64 {
			return false
		}
		for _, c := range v {
			if c <= ' ' {
				return false
			}
		}
		return start == s.Offset()-len(v)
	}
	return false
}

// depthOf is how deeply the containers of v, valid JSON without escapes,
// nest.
func depthOf(v []byte) int {
	depth, most, in := 0, 0, false
	for _, c := range v {
		switch {
		case c == '"':
			in = !in
		case in:
		case c == '{' || c == '[':
			depth++
			most = max(most, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return most
}

func keysOf(t *testing.T, names ...string) []Key {
	var keys []Key
	for _, n := range names {
		k, ok := NewKey(n)
		require.True(t, ok, n)
		keys = append(keys, k)
	}
	return keys
}

// membersAsIs runs MembersAsIs after the first member of data, returning
// its count and the scanner's offset then (-1 where data does not start
// with an object's member).
func membersAsIs(t *testing.T, data []byte, keys []Key) (int, int) {
	s := New(data)
	if _, ok := s.FirstKey(); !ok {
		return 0, -1
	}
	if _, err := s.Raw(); err != nil {
		return 0, -1
	}
	n := s.MembersAsIs(keys)
	require.NoError(t, s.Err())
	return n, s.Offset()
}

// TestMembersAsIs: members read are those with the keys given, written
// compactly in their plainest form; the first other one stops it.
func TestMembersAsIs(t *testing.T) {
	keys := keysOf(t, "b", "c", "d")
	for _, c := range []struct {
		doc  string
		want int
	}{
		{`{"a":1,"b":"x","c":2.5e3,"d":[{"s":"SKU-1","q":1,"p":1.5}]}`, 3},
		{`{"a":1,"b":true,"c":null,"d":{}}`, 3},
		{`{"a":1,"b":false,"c":[],"d":[[1],{"x":[null]}]}`, 3},
		{`{"a":1,"b":"x","c":2,"e":3}`, 2},
		{`{"a":1,"c":"x"}`, 0},
		{`{"a":1, "b":"x"}`, 0},
		{`{"a":1,"b": "x"}`, 0},
		{`{"a":1,"b":"x" ,"c":1}`, 1},
		{`{"a":1,"b":"x\"y"}`, 0},
		{`{"a":1,"b":"caf` + "\xc3\xa9" + `"}`, 0},
		{`{"a":1,"b":"a b","c":["a b"]}`, 1},
		{`{"a":1,"b":-0}`, 0},
		{`{"a":1,"b":-0.5}`, 0},
		{`{"a":1,"b":-1,"c":[-0]}`, 2},
		{`{"a":1,"b":01}`, 1}, // the number 0, then a member that is not
		{`{"a":1,"b":1.}`, 0},
		{`{"a":1,"b":1E+5,"c":[0.5e-3,10,-7]}`, 2},
		{`{"a":1,"b":1e}`, 0},
		{`{"a":1,"b":1.e5}`, 0},
		{`{"a":1,"b":1eX}`, 0},
		{`{"a":1,"b":-}`, 0},
		{`{"a":1,"b":-a}`, 0},
		{`{"a":1,"b":[-]}`, 0},
		{`{"a":1,"b":+1}`, 0},
		{`{"a":1,"b":tru}`, 0},
		{`{"a":1,"b":[1,]}`, 0},
		{`{"a":1,"b":[1}`, 0},
		{`{"a":1,"b":{"x" :1}}`, 0},
		{`{"a":1,"b":{"x":1,}}`, 0},
		{`{"a":1,"b":{1:1}}`, 0},
		{`{"a":1,"b":["\u0041"]}`, 0},
		{`{"a":1,"b":"x`, 0},
		{`{"a":1,"b":[` + string(bytes.Repeat([]byte("["), 65)) + string(bytes.Repeat([]byte("]"), 66)) + `}`, 0},
		{`{"a":1,"b":[` + string(bytes.Repeat([]byte("["), 63)) + string(bytes.Repeat([]byte("]"), 64)) + `}`, 1},
	} {
		n, off := membersAsIs(t, []byte(c.doc), keys)
		assert.Equal(t, c.want, n, c.doc)
		wantN, wantOff := membersAsIsRef(t, []byte(c.doc), keys)
		assert.Equal(t, wantN, n, c.doc)
		assert.Equal(t, wantOff, off, c.doc)
	}
}

// TestMembersAsIsNestedKeys: the keys of nested objects, remembered from
// the document before, change nothing of what is read, whether the next
// document has the same keys, others, or the same ones spaced or escaped.
func TestMembersAsIsNestedKeys(t *testing.T) {
	keys := keysOf(t, "b", "c")
	for _, doc := range []string{
		`{"a":1,"b":[{"sku":"SKU-1","qty":1,"price":1.5}],"c":{"x":{"y":[1]},"z":2}}`,
		`{"a":1,"b":[{"sku":"SKU-2","qty":2,"price":2.5},{"sku":"SKU-3","qty":3,"price":3.5}],"c":{"x":{"y":[]},"z":3}}`,
		`{"a":1,"b":[{"sku":"SKU-4","qty":4}],"c":{"x":{"y":[2]},"z":4}}`,
		`{"a":1,"b":[{"qty":4,"sku":"SKU-4"}],"c":{"x":{"y":[2]},"z":4}}`,
		`{"a":1,"b":[{"sku" :"SKU-4"}],"c":1}`,
		`{"a":1,"b":[{"sku":"SKU-4","qty":4,"price":4.5}],"c":{"x":{"y\u0041":[2]},"z":4}}`,
		`{"a":1,"b":[{"sk":"SKU-4","qty"}],"c":1}`,
		`{"a":1,"b":[{"sku":"SKU-4","qty":4,"price":4.5}],"c":{"x":{"y":[2]},"z ":4}}`,
		`{"a":1,"b":[{"a_key_of_many_bytes":1}],"c":{"x":{"y":[2]},"z":4}}`,
		`{"a":1,"b":[{"a_key_of_many_bytes":1}],"c":{"x":{"y":[2]},"z":4}}`,
		`{"a":1,"b":[{"sku":"SKU-4","qty":4,"price":4.5}],"c":{"x":{"y":[2]},"z":4}}`,
		`{"a":1,"b":[{"sku":"SKU-4","qty":4,"price":4.5}],"c":{"x":{"y":[2]},"z":4`,
		`{"a":1,"b":[{"sku":"SKU-4","qty":4,"price":4.5}],"c":{"x":{"y":[2]},"z"`,
		`{"a":1,"b":[{"sku":"SKU-4","qty":4,"price":4.5}],"c":{"x":{"y":[2]},"z":4}}`,
	} {
		n, off := membersAsIs(t, []byte(doc), keys)
		wantN, wantOff := membersAsIsRef(t, []byte(doc), keys)
		assert.Equal(t, wantN, n, doc)
		assert.Equal(t, wantOff, off, doc)
	}
}

// FuzzMembersAsIs holds MembersAsIs to membersAsIsRef, the general
// readers: the same members read, the scanner at the same offset, and no
// error ever, for a document read after another with the same keys (the
// keys of nested objects remembered from it).
func FuzzMembersAsIs(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":"x","c":2.5e3,"d":[{"s":"SKU-1","q":1,"p":1.5}]}`), []byte(`{"a":1,"b":"x","c":2.5e3,"d":[{"s":"SKU-1","q":1,"p":1.5},{"s":"SKU-2","q":2,"p":2.5}]}`), "b", "c", "d")
	f.Add([]byte(`{"a":1,"b":true,"c":null,"d":{"x":[false,-0,"\u00e9"]}}`), []byte(`{"a":1,"b":true,"c":null,"d":{"x":[false,-0,"\u00e9"]}}`), "b", "c", "d")
	f.Add([]byte(`{"a":1,"b":"a b","c":-0,"d":"\t"}`), []byte(`{"a":1,"b":"a","c":0,"d":{"\t":1}}`), "b", "c", "d")
	f.Add([]byte(`{"a":1,"b":[1,2],"c":{"a":"b c"},"d":1e+5}`), []byte(`{"a":1,"b":[1,2],"c":{"a":"bc","a ":1},"d":{"a":{"a":{"a":1}}}}`), "b", "c", "d")
	f.Add([]byte(`{"a":1,"b":{"sku":1},"c":{"sku":{"q":[{"p":1}]}}}`), []byte(`{"a":1,"b":{"sku":1},"c":{"sku":{"q":[{"p":1}]`), "b", "c", "d")
	f.Fuzz(func(t *testing.T, last, data []byte, k1, k2, k3 string) {
		var keys []Key
		for _, name := range []string{k1, k2, k3} {
			k, ok := NewKey(name)
			if !ok {
				return
			}
			keys = append(keys, k)
		}
		for _, doc := range [][]byte{last, data} {
			n, off := membersAsIs(t, doc, keys)
			wantN, wantOff := membersAsIsRef(t, doc, keys)
			require.Equal(t, wantN, n, "%q after %q", doc, last)
			require.Equal(t, wantOff, off, "%q after %q", doc, last)
		}
	})
}
