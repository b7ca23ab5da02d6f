// Package golden compares a test's output with its expected output in a
// golden file beside the input in testdata/ (<case>.golden.*), and rewrites
// those files when the tests run with -update.
//
// Importing it from a test registers the -update flag, so a package whose
// tests use it must not define a flag of that name itself.
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the testdata golden files from the current output")

// Update reports whether the tests run with -update, for callers that write
// or remove golden files of their own.
func Update() bool { return *update }

// Inputs lists the files pattern matches (a filepath.Glob pattern such as
// "testdata/*.json") that are not golden files, failing the test when
// there are none: a table test's cases.
func Inputs(t testing.TB, pattern string) []string {
	t.Helper()
	all, err := filepath.Glob(pattern)
	require.NoError(t, err)
	var inputs []string
	for _, p := range all {
		if !strings.Contains(filepath.Base(p), ".golden.") {
			inputs = append(inputs, p)
		}
	}
	require.NotEmpty(t, inputs, "no test inputs match %s", pattern)
	return inputs
}

// JSON compares got, as JSON, with the golden file at path: key order,
// spacing and number notation do not count. With -update it first writes
// got there as indented JSON with a newline, HTML characters unescaped. A
// json.RawMessage is taken as already encoded and written as it is (with a
// newline added if it lacks one).
func JSON(t testing.TB, path string, got any) {
	t.Helper()
	var data []byte
	if raw, ok := got.(json.RawMessage); ok {
		data = raw
		if !bytes.HasSuffix(data, []byte("\n")) {
			data = append(data[:len(data):len(data)], '\n')
		}
	} else {
		data = Marshal(t, got)
	}
	want := read(t, path, data)
	assert.JSONEq(t, string(want), string(data), "output differs from %s (go test -update rewrites it)", path)
}

// Bytes compares got with the golden file at path byte for byte, for output
// whose field order or number digits are part of the contract. With -update
// it first writes got there as it is.
func Bytes(t testing.TB, path string, got []byte) {
	t.Helper()
	want := read(t, path, got)
	assert.Equal(t, string(want), string(got), "output differs from %s (go test -update rewrites it)", path)
}

// Marshal encodes v as JSON the way JSON writes it: indented by two spaces,
// HTML characters unescaped, ending in a newline.
func Marshal(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <, > and & readable in the golden files
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(v))
	return buf.Bytes()
}

// read returns the golden file at path, writing got there first under
// -update.
func read(t testing.TB, path string, got []byte) []byte {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	return want
}
