// Package pipelinetest holds the test helpers the log parsers share: parse
// a testdata file line by line into records written as the pipeline writes
// them, and compare the result with a golden file byte for byte, so field
// order and number forms count.
package pipelinetest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/golden"
	"lakestream/shared/pipeline"
)

// Golden parses the testdata file at path with parse and compares the
// records with the file beside it named <case>.golden.json (rewritten
// with -update).
func Golden(t testing.TB, path string, parse pipeline.Parser) {
	t.Helper()
	golden.Bytes(t, strings.TrimSuffix(path, filepath.Ext(path))+".golden.json", ParseFile(t, path, parse))
}

// ParseFile parses every line of path with parse, requiring each to
// parse, and returns the records as one indented JSON array with one
// element per line (null for a line the parser skipped).
func ParseFile(t testing.TB, path string, parse pipeline.Parser) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteByte('[')
	for n, line := range Lines(t, path) {
		r, err := parse(line)
		require.NoError(t, err, "%s:%d", path, n+1)
		if n > 0 {
			out.WriteByte(',')
		}
		b, err := pipeline.AppendJSON(nil, r)
		require.NoError(t, err, "%s:%d", path, n+1)
		out.Write(b)
	}
	out.WriteByte(']')
	var indented bytes.Buffer
	require.NoError(t, json.Indent(&indented, out.Bytes(), "", "  "))
	indented.WriteByte('\n')
	return indented.Bytes()
}

// Lines returns the lines of a testdata file, without their newlines.
func Lines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

// CasesCovered keeps a golden table and testdata/ in step: every
// testdata/*<ext> input has a golden file and no golden is left over.
func CasesCovered(t testing.TB, ext string) {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join("testdata", "*"+ext))
	require.NoError(t, err)
	goldens, err := filepath.Glob(filepath.Join("testdata", "*.golden.json"))
	require.NoError(t, err)
	assert.Len(t, goldens, len(inputs), "every input has a golden file and no golden is left over")
}
