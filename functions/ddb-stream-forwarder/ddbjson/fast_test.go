package ddbjson

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/jsonscan"
)

// TestReadItemAtTakes: items in the form DynamoDB writes go the fast way,
// with what ReadItem writes for them (FuzzTranscode compares the two on
// any input; here the fast path must actually run).
func TestReadItemAtTakes(t *testing.T) {
	order, err := os.ReadFile("testdata/order.json")
	require.NoError(t, err)
	for name, raw := range map[string]string{
		"order":      strings.TrimSpace(string(order)),
		"empty":      `{}`,
		"escaped S":  `{"a":{"S":"\u010de\u0148ek \"q\" \/"},"b":{"SS":["李","\n"]}}`,
		"unsorted M": `{"m":{"M":{"z":{"N":"1"},"a":{"M":{}},"m":{"L":[]},"a":{"N":"+.5"}}}}`,
		"repeated":   `{"a":{"S":"x"},"a":{"N":"2"}}`,
		"M of two":   `{"m":{"M":{"sku":{"S":"x"},"n":{"M":{"z":{"L":[]},"y":{"S":"é"}}}}},"e":{"M":{"ab":{"S":"1"},"ab":{"S":"2"}}},"f":{"M":{"abcdefghX":{"S":"1"},"abcdefghA":{"S":"2"}}}}`,
		"nested L":   `{"l":{"L":[{"L":[{"NULL":true}]},{"BS":["3q2+7w=="]},{"NS":[]}]}}`,
		"whitespace": "{ \"a\" :\t{ \"BOOL\" : false } ,\n\"b\":{\"NULL\":false}}",
		"B":          `{"b":{"B":"AQ=="}}`,
		"u escapes":  `{"a":{"S":"\u674e \u010D\u0148"},"b":{"SS":["\u2028x","\ud83d\ude00","\u0041\u00e9"]}}`,
	} {
		t.Run(name, func(t *testing.T) {
			var fast Transcoder
			var fit Item
			end, ok := fast.ReadItemAt([]byte(raw+" tail"), 0, 0, &fit)
			require.True(t, ok, "the fast path gave up")
			assert.Equal(t, len(raw), end)
			got, err := fast.AppendItem(nil, &fit)
			require.NoError(t, err)
			var slow Transcoder
			var sit Item
			require.NoError(t, slow.ReadItem(jsonscan.New([]byte(raw)), &sit))
			want, err := slow.AppendItem(nil, &sit)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		})
	}
}

// TestReadItemAtGivesUp: anything unusual goes to ReadItem, the
// Transcoder and the Item left as they were.
func TestReadItemAtGivesUp(t *testing.T) {
	for name, raw := range map[string]string{
		"escaped name":   `{"\u0061":{"S":"x"}}`,
		"two types":      `{"a":{"S":"x","N":"1"}}`,
		"type repeated":  `{"a":{"S":"x","S":"y"}}`,
		"no type":        `{"a":{}}`,
		"unknown type":   `{"a":{"X":"x"}}`,
		"wrong kind":     `{"a":{"S":1}}`,
		"bad number":     `{"a":{"N":"1e"}}`,
		"bad base64":     `{"a":{"B":"AQ="}}`,
		"NULL object":    `{"a":{"NULL":{}}}`,
		"BOOL null":      `{"a":{"BOOL":null}}`,
		"bad escape":     `{"a":{"S":"\x"}}`,
		"bad u escape":   `{"a":{"S":"\u00e"}}`,
		"truncated":      `{"a":{"M":{"b":{"S":"x"}}`,
		"not an object":  `[]`,
		"deep":           deep(fastMaxDepth + 1),
		"member after M": `{"a":{"M":{"b":{"S":"x"} "c":{"S":"y"}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			var tr Transcoder
			var it Item
			_, ok := tr.ReadItemAt([]byte(`{"k":{"S":"v"}}`), 0, 0, &it)
			require.True(t, ok)
			buf, keys, members := len(tr.buf), len(tr.keys), len(it.members)
			_, ok = tr.ReadItemAt([]byte(raw), 0, 0, &it)
			assert.False(t, ok)
			assert.Equal(t, buf, len(tr.buf))
			assert.Equal(t, keys, len(tr.keys))
			assert.Equal(t, members, len(it.members))
			assert.Empty(t, tr.stack)
			out, err := tr.AppendItem(nil, &it)
			require.NoError(t, err)
			assert.Equal(t, `{"k":"v"}`, string(out))
		})
	}
	var tr Transcoder
	var it Item
	_, ok := tr.ReadItemAt([]byte(`{"a":{"S":"x"}}`), 0, fastMaxNesting, &it)
	assert.False(t, ok, "an item nested near jsonscan's limit")
	_, ok = tr.ReadItemAt([]byte(deep(fastMaxDepth)), 0, 0, &it)
	assert.True(t, ok, "an item as deep as the fast path reads")
}

// deep is an item whose one attribute nests levels values deep.
func deep(levels int) string {
	v := `{"S":"x"}`
	for range levels - 1 {
		v = `{"L":[` + v + `]}`
	}
	return `{"a":` + v + `}`
}
