package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// golden compares got, encoded as indented JSON, with the golden file
// byte for byte (numbers must keep every digit), or rewrites it with
// -update.
func golden(t *testing.T, path string, got any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(got))
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run go test -update")
	assert.Equal(t, string(want), buf.String(), "output differs from %s (go test -update rewrites it)", path)
}

// lineJSON shows a line in a golden file: as JSON when it is a JSON object
// and a newline, else as text.
type lineJSON struct {
	JSON json.RawMessage `json:"json,omitempty"`
	Text *string         `json:"text,omitempty"`
}

func showLine(line []byte) *lineJSON {
	if line == nil {
		return nil
	}
	if n := len(line); n > 1 && line[n-1] == '\n' && line[0] == '{' && json.Valid(line[:n-1]) && bytes.IndexByte(line[:n-1], '\n') < 0 {
		return &lineJSON{JSON: json.RawMessage(line[:n-1])}
	}
	s := string(line)
	return &lineJSON{Text: &s}
}

// records reads the Records of a Lambda event file.
func records(t testing.TB, path string) []json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var ev struct {
		Records []json.RawMessage `json:"Records"`
	}
	require.NoError(t, json.Unmarshal(raw, &ev))
	return ev.Records
}
