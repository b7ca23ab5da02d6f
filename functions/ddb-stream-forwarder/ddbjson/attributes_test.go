package ddbjson_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/functions/ddb-stream-forwarder/ddbjson"
	"lakestream/shared/jsonenc"
	"lakestream/shared/jsonscan"
)

// attributesAgree reads raw, an item aws-lambda-go reads, with a
// Transcoder and checks its attributes one by one against what
// AppendItem writes: the object built from Attributes is want, byte for
// byte, or the first attribute with an error has wantErr's; and Attribute
// finds each by name. agree calls it, so FuzzTranscode holds them to it.
func attributesAgree(t *testing.T, raw, want []byte, wantErr error) {
	t.Helper()
	var tr ddbjson.Transcoder
	var it ddbjson.Item
	s := jsonscan.New(raw)
	require.NoError(t, tr.ReadItem(s, &it))
	built := []byte{'{'}
	var firstErr error
	n := 0
	for a := range tr.Attributes(&it) {
		if a.Err != nil {
			if firstErr == nil {
				firstErr = a.Err
			}
			continue
		}
		if n > 0 {
			built = append(built, ',')
		}
		n++
		built = jsonenc.AppendBytes(built, a.Name)
		built = append(built, ':')
		built = append(built, a.Value...)

		byName, ok := tr.Attribute(&it, string(a.Name))
		require.True(t, ok, "Attribute finds %q", a.Name)
		assert.Equal(t, string(a.Value), string(byName.Value), "Attribute(%q) is the attribute Attributes yields", a.Name)
	}
	built = append(built, '}')
	if wantErr != nil {
		require.Error(t, firstErr, "an attribute carries AppendItem's error")
		assert.Equal(t, wantErr.Error(), firstErr.Error())
		return
	}
	assert.NoError(t, firstErr)
	assert.Equal(t, string(want), string(built), "input %s", raw)
}

// TestAttributes: attributes in AppendItem's order, the last of a repeated
// name, an unwritable value's error on its own attribute only, and none
// for a nil item.
func TestAttributes(t *testing.T) {
	var tr ddbjson.Transcoder
	var it, empty ddbjson.Item
	s := jsonscan.New([]byte(`[{"b":{"N":"1"},"a":{"M":{"y":{"S":"y"},"x":{"N":"bad"}}},"b":{"N":"2"},"c":{"SS":["s"]}}, null]`))
	for i := range s.Array() {
		if i == 0 {
			require.NoError(t, tr.ReadItem(s, &it))
		} else {
			require.NoError(t, tr.ReadItem(s, &empty))
		}
	}
	var names, values []string
	var errs []string
	for a := range tr.Attributes(&it) {
		names = append(names, string(a.Name))
		if a.Err != nil {
			errs = append(errs, a.Err.Error())
			continue
		}
		values = append(values, string(a.Value))
	}
	assert.Equal(t, []string{"a", "b", "c"}, names)
	assert.Equal(t, []string{"2", `["s"]`}, values)
	assert.Equal(t, []string{`ddbjson: attribute "a.x": invalid number "bad": unexpected 'b' at byte 0`}, errs)

	b, ok := tr.Attribute(&it, "b")
	require.True(t, ok)
	assert.Equal(t, "2", string(b.Value), "the last of a repeated name")
	_, ok = tr.Attribute(&it, "z")
	assert.False(t, ok)
	for range tr.Attributes(&empty) {
		t.Fatal("a nil item has no attributes")
	}
	_, ok = tr.Attribute(&empty, "b")
	assert.False(t, ok)
}
