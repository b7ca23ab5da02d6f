// Package pipelinetest holds the test helpers the log parsers share: parse
// a testdata file line by line into records written as the pipeline writes
// them, and compare the result with a golden file byte for byte, so field
// order and number forms count; and the bodies of the other tests every
// parser has (parser.go): its malformed-input table, its columns, its fuzz
// target and its benchmark.
package pipelinetest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
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

// CasesCovered keeps a golden table and testdata/ in step: the inputs the
// table names (file names in testdata/) are exactly the testdata/*<ext>
// files, every one has its golden file and no golden file is left over. A
// case missing from the table, a table entry naming no file and a stale
// golden each fail by name.
func CasesCovered(t testing.TB, ext string, inputs []string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*"+ext))
	require.NoError(t, err)
	var onDisk []string
	for _, f := range files {
		onDisk = append(onDisk, filepath.Base(f))
	}
	slices.Sort(inputs)
	assert.Equal(t, onDisk, slices.Compact(inputs), "the table's inputs are the testdata/*%s files", ext)

	goldens, err := filepath.Glob(filepath.Join("testdata", "*.golden.json"))
	require.NoError(t, err)
	var want []string
	for _, in := range onDisk {
		want = append(want, filepath.Join("testdata", strings.TrimSuffix(in, ext)+".golden.json"))
	}
	assert.Equal(t, want, goldens, "one golden file per input, none left over")
}
