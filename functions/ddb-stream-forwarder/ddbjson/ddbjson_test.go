package ddbjson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/functions/ddb-stream-forwarder/ddbjson"
	"lakestream/shared/golden"
)

// assertCause checks that err has the cause tc describes.
func assertCause(t *testing.T, tc valueCase, err error) {
	t.Helper()
	if tc.is != nil {
		assert.ErrorIs(t, err, tc.is)
		return
	}
	var numErr *ddbjson.NumberError
	if assert.ErrorAs(t, err, &numErr) {
		assert.Equal(t, tc.badNumber, numErr.Value)
	}
}

func TestAppendValue(t *testing.T) {
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dst := []byte("prefix:")
			out, err := ddbjson.AppendValue(dst, tc.in)
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				assertCause(t, tc, err)
				assert.Equal(t, "prefix:", string(out), "on error dst comes back as it was")
				return
			}
			require.NoError(t, err)
			require.True(t, json.Valid([]byte(tc.want)), "the case's own want must be JSON: %s", tc.want)
			assert.Equal(t, "prefix:"+tc.want, string(out))
		})
	}
}

// TestAppendItem writes each case as the only attribute of an item, after
// other output in the same buffer, as a forwarder writing lines does.
func TestAppendItem(t *testing.T) {
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dst := []byte(`{"earlier":"line"}` + "\n")
			out, err := ddbjson.AppendItem(dst, item{"v": tc.in})
			if tc.err != "" {
				var attrErr *ddbjson.AttributeError
				require.ErrorAs(t, err, &attrErr)
				assert.True(t, attrErr.Path == "v" || strings.HasPrefix(attrErr.Path, "v.") || strings.HasPrefix(attrErr.Path, "v["),
					"path %q must start at the attribute", attrErr.Path)
				assertCause(t, tc, err)
				assert.Equal(t, string(dst), string(out))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, string(dst)+`{"v":`+tc.want+`}`, string(out))

			fresh, err := ddbjson.Marshal(item{"v": tc.in})
			require.NoError(t, err)
			assert.Equal(t, out[len(dst):], fresh, "Marshal writes what AppendItem appends")
		})
	}
}

// TestStringsAsEncodingJSON checks string escaping byte for byte against
// encoding/json with HTML escaping off, for every string value and map key
// in the case table.
func TestStringsAsEncodingJSON(t *testing.T) {
	var check func(v events.DynamoDBAttributeValue)
	checkString := func(str string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(str))
		got, err := ddbjson.AppendValue(nil, events.NewStringAttribute(str))
		require.NoError(t, err)
		assert.Equal(t, strings.TrimSuffix(want.String(), "\n"), string(got))
	}
	check = func(v events.DynamoDBAttributeValue) {
		switch v.DataType() {
		case events.DataTypeString:
			checkString(v.String())
		case events.DataTypeStringSet:
			for _, str := range v.StringSet() {
				checkString(str)
			}
		case events.DataTypeMap:
			for k, el := range v.Map() {
				checkString(k)
				check(el)
			}
		case events.DataTypeList:
			for _, el := range v.List() {
				check(el)
			}
		}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { check(tc.in) })
	}
}

// nest wraps a NULL in levels lists, so the NULL is at depth levels+1.
func nest(levels int) events.DynamoDBAttributeValue {
	v := events.NewNullAttribute()
	for range levels {
		v = events.NewListAttribute([]events.DynamoDBAttributeValue{v})
	}
	return v
}

func TestMaxDepth(t *testing.T) {
	deepest := nest(ddbjson.MaxDepth - 1)
	out, err := ddbjson.Marshal(item{"a": deepest})
	require.NoError(t, err)
	assert.Equal(t, `{"a":`+strings.Repeat("[", ddbjson.MaxDepth-1)+"null"+strings.Repeat("]", ddbjson.MaxDepth-1)+"}", string(out))

	_, err = ddbjson.Marshal(item{"a": nest(ddbjson.MaxDepth)})
	assert.ErrorIs(t, err, ddbjson.ErrTooDeep)
	var attrErr *ddbjson.AttributeError
	require.ErrorAs(t, err, &attrErr)
	assert.Equal(t, "a"+strings.Repeat("[0]", ddbjson.MaxDepth), attrErr.Path)
	assert.Contains(t, err.Error(), "attribute values nest too deep: deeper than 64 levels")
}

// TestSelfContainingValue must fail cleanly where unbounded recursion
// would overflow the stack and kill the process.
func TestSelfContainingValue(t *testing.T) {
	m := item{"id": events.NewStringAttribute("x")}
	m["self"] = events.NewMapAttribute(m)
	_, err := ddbjson.Marshal(m)
	assert.ErrorIs(t, err, ddbjson.ErrTooDeep)

	l := make([]events.DynamoDBAttributeValue, 1)
	l[0] = events.NewListAttribute(l)
	_, err = ddbjson.AppendValue(nil, l[0])
	assert.ErrorIs(t, err, ddbjson.ErrTooDeep)
}

func TestNilItem(t *testing.T) {
	out, err := ddbjson.Marshal(nil)
	require.NoError(t, err)
	assert.Equal(t, "{}", string(out))
}

// TestGolden writes each DynamoDB JSON image testdata/<case>.json as plain
// JSON and compares it with <case>.golden.json byte for byte: a comparison
// as JSON would go through float64 and miss the very digits this package
// keeps, and the key order, which is part of its contract.
func TestGolden(t *testing.T) {
	inputs := images(t)
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			img := readImage(t, in)
			out, err := ddbjson.Marshal(img)
			require.NoError(t, err)
			out = append(out, '\n')

			golden.Bytes(t, filepath.Join("testdata", name+".golden.json"), out)
			assert.True(t, json.Valid(out))
		})
	}
}

// images lists the DynamoDB JSON inputs in testdata.
func images(t testing.TB) []string {
	t.Helper()
	return golden.Inputs(t, "testdata/*.json")
}

func readImage(t testing.TB, path string) item {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var img item
	require.NoError(t, json.Unmarshal(raw, &img))
	return img
}

// TestMarshalIsDeterministic writes one item many times: Go randomises map
// order, so unsorted keys would show up as differing output.
func TestMarshalIsDeterministic(t *testing.T) {
	img := readImage(t, "testdata/order.json")
	first, err := ddbjson.Marshal(img)
	require.NoError(t, err)
	for range 50 {
		again, err := ddbjson.Marshal(img)
		require.NoError(t, err)
		require.Equal(t, string(first), string(again))
	}
}

func TestErrorsAreDistinct(t *testing.T) {
	_, err := ddbjson.Marshal(item{"n": events.NewNumberAttribute("1e")})
	var numErr *ddbjson.NumberError
	require.ErrorAs(t, err, &numErr)
	assert.Equal(t, "1e", numErr.Value)
	assert.Equal(t, "no digits in the exponent", numErr.Reason)
	assert.False(t, errors.Is(err, ddbjson.ErrUnsupportedType))
	assert.False(t, errors.Is(err, ddbjson.ErrTooDeep))
	assert.EqualError(t, err, `ddbjson: attribute "n": invalid number "1e": no digits in the exponent`)
}

// BenchmarkMarshal writes a realistic order item of about 1 KB: nested
// maps and lists, every type, 38-digit numbers and text needing escapes.
func BenchmarkMarshal(b *testing.B) {
	img := readImage(b, "testdata/order.json")
	out, err := ddbjson.Marshal(img)
	require.NoError(b, err)

	b.Run("AppendItem", func(b *testing.B) {
		b.SetBytes(int64(len(out)))
		b.ReportAllocs()
		buf := make([]byte, 0, 4096)
		for b.Loop() {
			if buf, err = ddbjson.AppendItem(buf[:0], img); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Marshal", func(b *testing.B) {
		b.SetBytes(int64(len(out)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ddbjson.Marshal(img); err != nil {
				b.Fatal(err)
			}
		}
	})
}
