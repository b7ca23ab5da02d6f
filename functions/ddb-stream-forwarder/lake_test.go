package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/laketable"
	"lakestream/shared/pipeline"
)

// TestLinesFitTheLakeTable: every line written for the events/ samples'
// DynamoDB records is a row of the template's ddb_changes table: each
// field a column, in the columns' order, of the column's type.
func TestLinesFitTheLakeTable(t *testing.T) {
	cols := laketable.DynamoDBChangeColumns()
	samples, err := filepath.Glob("../../events/ddb-stream-forwarder/*.json")
	require.NoError(t, err)
	c := Converter{NewImage: true, OldImage: true}
	lines := 0
	for _, path := range samples {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		var ev struct{ Records []json.RawMessage }
		require.NoError(t, json.Unmarshal(raw, &ev))
		for _, r := range ev.Records {
			rec, _, err := c.Convert(nil, r)
			require.NoError(t, err, path)
			if rec.Kind != sourceDynamoDB {
				continue
			}
			fields, err := pipeline.ParseJSON(bytes.TrimSpace(rec.Line))
			require.NoError(t, err)
			// ParseJSON keeps nested objects as JSON text, which a string
			// column holds; Conform would move a non-column to "rest".
			conformed, err := cols.Conform(fields, "rest")
			require.NoError(t, err, path)
			assert.Len(t, conformed.Fields, len(fields.Fields), "%s: every field is a column", path)
			assert.NoError(t, cols.Check(fields), "%s: %s", path, rec.Line)
			lines++
		}
	}
	assert.GreaterOrEqual(t, lines, 5)
}
