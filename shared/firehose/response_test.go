package firehose

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/jsonenc"
)

// referenceJSON writes a response record with encoding/json for every
// value (HTML escaping off, as jsonenc writes): the oracle the handler's
// entries, written from parts encoded once, are held to.
func referenceJSON(t testing.TB, r ResponseRecord) []byte {
	t.Helper()
	value := func(v any) []byte {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(v))
		return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	}
	out := []byte(`{"recordId":`)
	out = append(out, value(r.RecordID)...)
	out = append(out, `,"result":`...)
	out = append(out, value(r.Result)...)
	if r.Result == ResultOk || len(r.Data) > 0 {
		out = append(out, `,"data":`...)
		out = append(out, value(append([]byte{}, r.Data...))...) // base64, "" when empty
	}
	if len(r.PartitionKeys) > 0 {
		out = append(out, `,"metadata":{"partitionKeys":`...)
		out = append(out, value(r.PartitionKeys)...) // keys sorted
		out = append(out, '}')
	}
	return append(out, '}')
}

// checkEntry holds r's entry, alone and as the handler writes it (id
// length from the request, metadata from the memo), to the oracle.
func checkEntry(t *testing.T, memo *metadataMemo, r ResponseRecord) {
	t.Helper()
	want := string(referenceJSON(t, r))
	got, err := r.MarshalJSON()
	require.NoError(t, err)
	require.Equal(t, want, string(got))
	require.Equal(t, len(want), r.encodedLen())

	e := entry{id: r.RecordID, idLen: jsonenc.StringLen(r.RecordID), result: r.Result, data: r.Data, meta: memo.get(r.PartitionKeys)}
	require.Equal(t, want, string(e.appendJSON([]byte{})))
	require.Equal(t, len(want), e.encodedLen())
}

// TestEntryAsEncodingJSON: ids and keys that need escaping (or look as if
// they did), every result, maps shared by records and maps of their own.
func TestEntryAsEncodingJSON(t *testing.T) {
	shared := map[string]string{"dt": "2024-05-01", "log_group": "aws_lambda_<orders>&", "hour": "13"}
	other := map[string]string{"k\u2028": "v\"\\\x01\xff", "a": ""}
	var memo metadataMemo
	for _, id := range []string{"49546986683135544286507457936321625675700192471156785154", "r", "id-with-<html>&-\xff", "\u2028\u2029", "tab\there", "é"} {
		for _, result := range []string{ResultOk, ResultDropped, ResultProcessingFailed} {
			for _, data := range [][]byte{nil, {}, []byte("hello"), {0, 0xff, '"'}} {
				for _, keys := range []map[string]string{nil, {}, shared, other, {"fresh": id}} {
					checkEntry(t, &memo, ResponseRecord{RecordID: id, Result: result, Data: data, PartitionKeys: keys})
				}
			}
		}
	}
	memo.reset()
	assert.Nil(t, memo.get(nil))
	assert.Equal(t, string(appendMetadata(nil, shared)), string(memo.get(shared)), "after a reset, encoded anew")
}

// FuzzEntryAsEncodingJSON holds entries to encoding/json on any id, data
// and keys, a map seen once or many times.
func FuzzEntryAsEncodingJSON(f *testing.F) {
	f.Add("49546986683135544286507457936321625675700192471156785154", []byte("hello\n"), "year", "2024", "month", "05", 0)
	f.Add("id-<&>\xff\u2028", []byte{0, 255}, "k\"", "v\\", "", "\x00", 2)
	f.Fuzz(func(t *testing.T, id string, data []byte, k1, v1, k2, v2 string, result int) {
		results := []string{ResultOk, ResultDropped, ResultProcessingFailed}
		keys := map[string]string{k1: v1, k2: v2}
		var memo metadataMemo
		for range 2 { // the second time, from the memo
			checkEntry(t, &memo, ResponseRecord{RecordID: id, Result: results[(result%3+3)%3], Data: data, PartitionKeys: keys})
		}
	})
}

// TestMapPointer: a map's identity is what reflect gives for it.
func TestMapPointer(t *testing.T) {
	for _, m := range []map[string]string{nil, {}, {"year": "2024"}, make(map[string]string, 100)} {
		assert.Equal(t, reflect.ValueOf(m).UnsafePointer(), mapPointer(m))
	}
}

// TestMetadataMemoManyMaps: with more maps than the table starts with,
// than it grows to and than maxMemoMaps, taken in turns as the records of
// a batch spanning many partitions take them, every map's metadata is its
// own, remembered once met (empty maps never are).
func TestMetadataMemoManyMaps(t *testing.T) {
	maps := make([]map[string]string, maxMemoMaps+100)
	for i := range maps {
		maps[i] = map[string]string{"hour": strconv.Itoa(i)}
	}
	var memo metadataMemo
	for round := range 3 {
		for k := range maps {
			i := (k * 7919) % len(maps) // another order than the maps were made in
			want := string(appendMetadata(nil, maps[i]))
			require.Equal(t, want, string(memo.get(maps[i])), "map %d, round %d", i, round)
			require.Equal(t, want, string(memo.get(maps[i])), "map %d again, round %d", i, round)
		}
		assert.LessOrEqual(t, memo.n, maxMemoMaps)
		assert.Nil(t, memo.get(map[string]string{}))
		assert.Nil(t, memo.get(nil))
	}
	full := memo.n
	memo.reset()
	assert.Zero(t, memo.n)
	assert.NotZero(t, full)
	assert.Equal(t, string(appendMetadata(nil, maps[0])), string(memo.get(maps[0])), "after a reset, encoded anew")
}
