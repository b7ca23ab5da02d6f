// Package logtest reads the JSON log lines a handler wrote, for tests that
// check what a function logs (one summary line per invocation, the reason
// a record failed, never its data).
package logtest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Lines decodes every log line; each must be a JSON object.
func Lines(t testing.TB, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "log line %q", line)
		out = append(out, m)
	}
	return out
}

// Line returns the one log line whose msg is one of msgs, failing the test
// unless there is exactly one.
func Line(t testing.TB, logs string, msgs ...string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, m := range Lines(t, logs) {
		for _, msg := range msgs {
			if m["msg"] == msg {
				found = append(found, m)
			}
		}
	}
	require.Len(t, found, 1, "log lines %q in:\n%s", msgs, logs)
	return found[0]
}

// Summary returns the invocation's one summary line (metrics.Report's
// "invocation done" or "invocation failed").
func Summary(t testing.TB, logs string) map[string]any {
	t.Helper()
	return Line(t, logs, "invocation done", "invocation failed")
}
