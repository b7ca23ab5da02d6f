package main

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

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
