package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/benchdata"
)

// TestFastRecord: the fast path reads the records Lambda sends (the
// reference event's, the DynamoDB samples') and leaves the reader as
// readRecord does, down to the line written; it gives up on a Kinesis
// record and on the corner cases, which readRecord words.
func TestFastRecord(t *testing.T) {
	var ev struct{ Records []json.RawMessage }
	require.NoError(t, json.Unmarshal(benchdata.DynamoDB(30), &ev))
	seeds := convertSeeds(t)
	for _, raw := range ev.Records {
		seeds = append(seeds, raw)
	}
	taken := 0
	// One reader for all, as for the records of an invocation: it
	// expects each record's names in the order of the one before.
	var fast reader
	for _, raw := range seeds {
		var slow reader
		end, ok := fast.fastRecord(raw, 1)
		slow.s.ResetNested(raw, 1)
		slowErr := slow.readRecord()
		if !ok {
			continue
		}
		taken++
		require.NoError(t, slowErr, "%s", raw)
		assert.Equal(t, slow.s.Offset(), end, "%s", raw)
		want, wantErr := lineOf(&slow, raw)
		got, err := lineOf(&fast, raw)
		assert.Equal(t, wantErr, err, "%s", raw)
		assert.Equal(t, want, got, "%s", raw)
		assert.Equal(t, slow.head(), fast.head())
		assert.Equal(t, slow.id(), fast.id())
		assert.Equal(t, slow.created, fast.created)
		assert.Equal(t, slow.isTTLDelete(), fast.isTTLDelete())
	}
	assert.Greater(t, taken, 30, "the reference event's records and some samples go the fast way")

	for name, raw := range map[string]string{
		"kinesis":   `{"eventSource":"aws:kinesis","kinesis":{"data":"eA==","sequenceNumber":"1"}}`,
		"case":      `{"EventSource":"aws:dynamodb"}`,
		"repeated":  `{"eventSource":"aws:dynamodb","eventSource":"aws:dynamodb"}`,
		"null":      `{"eventSource":null}`,
		"escaped":   `{"eventSource":"aws:dynamod\u0062"}`,
		"time null": `{"dynamodb":{"ApproximateCreationDateTime":null}}`,
		"time text": `{"dynamodb":{"ApproximateCreationDateTime":"1"}}`,
		"size":      `{"dynamodb":{"SizeBytes":1.5}}`,
		"image":     `{"dynamodb":{"Keys":{"k":{"S":1}}}}`,
		"unknown":   `{"eventSource":"aws:dynamodb","x":1}`,
		"empty":     `{}`,
		"cut":       `{"eventSource":"aws:dynamodb"`,
	} {
		var r reader
		_, ok := r.fastRecord([]byte(raw), 1)
		assert.False(t, ok, name)
	}
}

func lineOf(r *reader, raw []byte) (string, error) {
	_, out, err := both.line(nil, r, raw)
	return string(out), err
}
