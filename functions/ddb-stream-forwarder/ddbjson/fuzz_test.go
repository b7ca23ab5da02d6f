package ddbjson_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/functions/ddb-stream-forwarder/ddbjson"
)

// addItems adds to f's corpus every item image of testdata and every
// table case aws-lambda-go can write (not one without a type), as
// DynamoDB JSON.
func addItems(f *testing.F) {
	for _, in := range images(f) {
		raw, err := os.ReadFile(in)
		require.NoError(f, err)
		f.Add(raw)
	}
	for name, tc := range cases {
		if tc.is != nil {
			continue // aws-lambda-go cannot write a value without a type
		}
		raw, err := json.Marshal(item{name: tc.in})
		require.NoError(f, err)
		f.Add(raw)
	}
}

// FuzzMarshal feeds Marshal items unmarshalled from DynamoDB JSON, as the
// forwarder receives them, and checks that it never panics, that it fails
// only with a bad number or too deep a nesting, and that what it writes is
// valid JSON holding the item: the same keys and elements, every string,
// and every number with its digits as the package doc promises, verbatim
// when the input is a JSON number already.
func FuzzMarshal(f *testing.F) {
	addItems(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		img, ok := unmarshalItem(data)
		if !ok {
			return
		}
		out, err := ddbjson.Marshal(img)
		if err != nil {
			var numErr *ddbjson.NumberError
			switch {
			case errors.As(err, &numErr):
				assert.Empty(t, expectedNumber(numErr.Value), "Marshal rejected a number the oracle accepts: %q", numErr.Value)
			case !errors.Is(err, ddbjson.ErrTooDeep):
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		require.True(t, json.Valid(out), "invalid JSON: %s", out)
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		var got map[string]any
		require.NoError(t, dec.Decode(&got))
		checkItem(t, img, got)
	})
}

// unmarshalItem decodes data as aws-lambda-go decodes a stream image. It
// reports false for input that is not one, including input on which
// aws-lambda-go v1.55.1 itself panics (a BS element that is not a string):
// that is its bug, reached before ddbjson runs.
func unmarshalItem(data []byte) (img item, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return img, json.Unmarshal(data, &img) == nil
}

func checkItem(t *testing.T, img item, got map[string]any) {
	t.Helper()
	require.Len(t, got, len(img))
	for k, v := range img {
		require.Contains(t, got, k)
		checkValue(t, v, got[k])
	}
}

// checkValue compares one attribute value with what encoding/json read
// back from Marshal's output.
func checkValue(t *testing.T, v events.DynamoDBAttributeValue, got any) {
	t.Helper()
	checkSlice := func(n int, each func(i int, el any)) {
		arr, ok := got.([]any)
		require.True(t, ok, "want an array, got %#v", got)
		require.Len(t, arr, n)
		for i, el := range arr {
			each(i, el)
		}
	}
	switch v.DataType() {
	case events.DataTypeString:
		assert.Equal(t, v.String(), got)
	case events.DataTypeNumber:
		checkNumber(t, v.Number(), got)
	case events.DataTypeBinary:
		assert.Equal(t, base64.StdEncoding.EncodeToString(v.Binary()), got)
	case events.DataTypeBoolean:
		assert.Equal(t, v.Boolean(), got)
	case events.DataTypeNull:
		assert.Nil(t, got)
	case events.DataTypeMap:
		m, ok := got.(map[string]any)
		require.True(t, ok, "want an object, got %#v", got)
		checkItem(t, v.Map(), m)
	case events.DataTypeList:
		l := v.List()
		checkSlice(len(l), func(i int, el any) { checkValue(t, l[i], el) })
	case events.DataTypeStringSet:
		ss := v.StringSet()
		checkSlice(len(ss), func(i int, el any) { assert.Equal(t, ss[i], el) })
	case events.DataTypeNumberSet:
		ns := v.NumberSet()
		checkSlice(len(ns), func(i int, el any) { checkNumber(t, ns[i], el) })
	case events.DataTypeBinarySet:
		bs := v.BinarySet()
		checkSlice(len(bs), func(i int, el any) { assert.Equal(t, base64.StdEncoding.EncodeToString(bs[i]), el) })
	default:
		t.Fatalf("aws-lambda-go made a value of type %d", v.DataType())
	}
}

func checkNumber(t *testing.T, in string, got any) {
	t.Helper()
	want := expectedNumber(in)
	require.NotEmpty(t, want, "Marshal accepted %q, which the oracle rejects", in)
	assert.Equal(t, json.Number(want), got)
	if jsonNumber.MatchString(in) {
		assert.Equal(t, in, want, "a JSON number must be written verbatim")
	}
}

var (
	// jsonNumber is RFC 8259's number grammar.
	jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)
	// looseNumber is the wider grammar the package doc accepts: optional
	// sign, digits on either side of an optional point, optional exponent.
	looseNumber = regexp.MustCompile(`^([+-]?)([0-9]*)(?:\.([0-9]*))?([eE][+-]?[0-9]+)?$`)
)

// expectedNumber is the package doc's normalisation, written independently
// of the code under test: the JSON number for in, or "" if in is no number.
func expectedNumber(in string) string {
	m := looseNumber.FindStringSubmatch(in)
	if m == nil || m[2] == "" && m[3] == "" {
		return ""
	}
	sign, intPart, frac, exp := m[1], strings.TrimLeft(m[2], "0"), m[3], m[4]
	if sign == "+" {
		sign = ""
	}
	if intPart == "" {
		intPart = "0"
	}
	if frac != "" {
		frac = "." + frac
	}
	return sign + intPart + frac + exp
}
