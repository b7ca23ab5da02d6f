package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/firehose"
	"lakestream/shared/laketable"
	"lakestream/shared/pipeline"
	"lakestream/shared/record"
)

// TestJSONFitsTheLakeTable: with OUTPUT_FORMAT=json (the template's
// default), every event the samples deliver is a row of the template's
// cloudwatch_logs table: each field a column, in order, of its type.
func TestJSONFitsTheLakeTable(t *testing.T) {
	cols := laketable.CloudWatchLogsColumns()
	env := templateEnv(t)
	env["OUTPUT_FORMAT"] = "json"
	lines := 0
	for _, name := range []string{"data-message.json", "mixed.json"} {
		raw, err := os.ReadFile(filepath.Join("../../events/cwlogs-decompressor", name))
		require.NoError(t, err)
		var ev Event
		require.NoError(t, json.Unmarshal(raw, &ev))
		h, _, _, _ := testHandler(t, env)
		r, err := h.Handle(context.Background(), ev)
		require.NoError(t, err)
		body, err := io.ReadAll(r)
		require.NoError(t, err)
		var resp firehose.Response
		require.NoError(t, json.Unmarshal(body, &resp))
		for _, rec := range resp.Records {
			if rec.Result != firehose.ResultOk {
				continue
			}
			for line := range bytes.Lines(rec.Data) {
				fields, err := pipeline.ParseJSON(bytes.TrimSpace(line))
				require.NoError(t, err)
				assert.NoError(t, cols.Check(fields), "%s: %s", name, line)
				assert.Equal(t, cols.Names(), names(fields.Fields), "every column, in order")
				lines++
			}
		}
	}
	assert.Positive(t, lines)
}

func names(fs []record.Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}
