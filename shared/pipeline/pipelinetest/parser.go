package pipelinetest

import (
	"fmt"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/pipeline"
	"lakestream/shared/record"
)

// The tests every line parser has (STYLE.md: golden files, a
// malformed-input table, a fuzz target, a benchmark, its columns), each
// written once here so that a parser's test file holds only what is its
// own: its cases, its seeds, its invariants.

// GoldenCases runs Golden for every case of a golden table, case name →
// input file in testdata/, each as a subtest named by the case, and
// CasesCovered over the table, so that the table and the testdata/*<ext>
// files stay in step.
func GoldenCases(t *testing.T, ext string, cases map[string]string, parse pipeline.Parser) {
	CasesCovered(t, ext, slices.Collect(maps.Values(cases)))
	for name, input := range cases {
		t.Run(name, func(t *testing.T) {
			Golden(t, filepath.Join("testdata", input), parse)
		})
	}
}

// LineCases is a table of lines and what a parser must make of each: case
// name → the line, and the text wanted (an error's for Malformed, the
// record's JSON for ParsesTo). The struct is unnamed so that a table can
// list its cases as {line, want}.
type LineCases = map[string]struct{ Line, Want string }

// ParsesTo runs one subtest per case: parse reads the line into a record
// that fits cols and that the pipeline writes as the case's Want, JSON
// byte for byte (field order and number forms count).
func ParsesTo(t *testing.T, parse pipeline.Parser, cols record.Columns, cases LineCases) {
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := parse([]byte(tc.Line))
			require.NoError(t, err)
			got, err := pipeline.AppendJSON(nil, r)
			require.NoError(t, err)
			assert.Equal(t, tc.Want, string(got))
			assert.NoError(t, cols.Check(r))
		})
	}
}

// Malformed runs one subtest per case: parse rejects the line, returning
// no record and an error that wraps malformed (the parser's ErrMalformed)
// and reads malformed's text, ": " and the case's Want.
func Malformed(t *testing.T, parse pipeline.Parser, malformed error, cases LineCases) {
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := parse([]byte(tc.Line))
			require.Error(t, err)
			assert.Nil(t, r)
			assert.ErrorIs(t, err, malformed)
			assert.Equal(t, malformed.Error()+": "+tc.Want, err.Error())
		})
	}
}

// Fit is what a record must hold of its parser's columns beyond fitting
// them (record.Columns.Check: its fields among the columns, in order, each
// value of its column's type); nil asks nothing more.
type Fit func(cols record.Columns, r *record.Record) error

// EveryColumn is the Fit of a parser that writes every column on every
// line, null or not.
func EveryColumn(cols record.Columns, r *record.Record) error {
	if r.Len() != len(cols) {
		names := make([]string, 0, r.Len())
		for _, f := range r.Fields {
			names = append(names, f.Name)
		}
		return fmt.Errorf("fields %q, want every column, null or not: %q", names, cols.Names())
	}
	return nil
}

// ColumnsFit requires cols to be a valid column list and every line of the
// testdata/*.log files, of which there is at least one, to parse into a
// record that fits cols and fit. A line parse skips (no record and no
// error: a header) is passed over.
func ColumnsFit(t *testing.T, cols record.Columns, parse pipeline.Parser, fit Fit) {
	t.Helper()
	require.NoError(t, cols.Validate())
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	for _, path := range inputs {
		for n, line := range Lines(t, path) {
			r, err := parse(line)
			require.NoError(t, err, "%s:%d", path, n+1)
			if r == nil {
				continue
			}
			require.NoError(t, cols.Check(r), "%s:%d", path, n+1)
			if fit != nil {
				require.NoError(t, fit(cols, r), "%s:%d", path, n+1)
			}
		}
	}
}

// Fuzz is the fuzz target of a line parser, for FuzzParser.
type Fuzz struct {
	// Parse is the parser under test.
	Parse pipeline.Parser
	// Malformed is the sentinel every error of Parse wraps.
	Malformed error
	// Into, when set, parses into a reused record (a ParseInto): on every
	// input it must do what Parse does (the same error, or a record with
	// the same fields), leaving nothing of the previous input behind and
	// an empty record on error. It reports whether there is a record.
	Into func(r *record.Builder, line []byte) (bool, error)
	// Skipped, when set, tells the lines Parse may skip (no record and no
	// error: a header line); without it every line must give a record or
	// an error.
	Skipped func(line []byte) bool
	// Columns, when set, is what every record fits, and Fit what more it
	// asks (see ColumnsFit).
	Columns record.Columns
	Fit     Fit
	// Check, when set, checks what else holds for every record.
	Check func(t *testing.T, r *record.Record)
	// Seeds are added to the corpus after every line of the testdata/*.log
	// files.
	Seeds []string
}

// FuzzParser runs z: for any input, Parse either fails with an error
// wrapping z.Malformed and returns no record, or skips a line z.Skipped
// allows, or returns a record that fits z.Columns, that z.Check accepts
// and that the pipeline can write as JSON. It never panics. A record
// parsed by z.Into whose shape is declared (record.Builder's SetShape)
// has the declared names.
func FuzzParser(f *testing.F, z Fuzz) {
	AddCorpus(f, z.Seeds...)
	reused := record.NewBuilder(0) // holds the previous input's record
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := z.Parse(line)
		if z.Into != nil {
			ok, intoErr := z.Into(reused, line)
			require.Equal(t, err, intoErr)
			require.Equal(t, r != nil, ok)
			if ok {
				require.Equal(t, r.Fields, reused.Fields)
				if shape := reused.Shape(); shape != nil {
					// What the pipeline plans by, for the names it
					// no longer compares (record.Builder's SetShape).
					names := make([]string, len(reused.Fields))
					for i, f := range reused.Fields {
						names[i] = f.Name
					}
					require.Equal(t, shape.Names(), names, "the declared shape is the fields' names")
				}
			} else {
				require.Empty(t, reused.Fields)
				require.Nil(t, reused.Shape(), "no shape declared for no fields")
			}
		}
		if err != nil {
			require.Nil(t, r)
			require.ErrorIs(t, err, z.Malformed)
			return
		}
		if r == nil {
			require.True(t, z.Skipped != nil && z.Skipped(line), "no record and no error for a line that is not one to skip")
			return
		}
		if z.Columns != nil {
			require.NoError(t, z.Columns.Check(r))
			if z.Fit != nil {
				require.NoError(t, z.Fit(z.Columns, r))
			}
		}
		if z.Check != nil {
			z.Check(t, r)
		}
		_, err = pipeline.AppendJSON(nil, r)
		require.NoError(t, err)
	})
}

// AddCorpus adds to f's corpus every line of the package's testdata/*.log
// files, then seeds.
func AddCorpus(f *testing.F, seeds ...string) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.log"))
	require.NoError(f, err)
	for _, path := range inputs {
		for _, line := range Lines(f, path) {
			f.Add(line)
		}
	}
	for _, seed := range seeds {
		f.Add([]byte(seed))
	}
}

// TimeHinted checks the time a parser handed over with the RFC 3339 text
// of r's field (record.Builder.HintTime): there is one, it is the instant
// the text says, and it is for that very string only. A record without
// the field as a string passes.
func TimeHinted(t *testing.T, r *record.Builder, field string) {
	t.Helper()
	v, _ := r.Get(field)
	text, ok := v.(string)
	if !ok {
		return
	}
	hinted, ok := r.HintedTime(text)
	require.True(t, ok, "%s %q has a hint", field, text)
	want, err := time.Parse(time.RFC3339, text)
	require.NoError(t, err)
	require.Equal(t, want.UTC(), hinted, "%s %q", field, text)
	_, ok = r.HintedTime(strings.Clone(text))
	require.False(t, ok, "a hint is for the very string only")
}

// BenchmarkParser measures parse over lines, every one of which must
// parse: MB/s counts each line and its newline, and besides the time and
// allocations of a pass over them all it reports allocs/line and ns/line.
func BenchmarkParser(b *testing.B, lines [][]byte, parse pipeline.Parser) {
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	passes := 0
	for b.Loop() {
		for _, l := range lines {
			if _, err := parse(l); err != nil {
				b.Fatal(err)
			}
		}
		passes++
	}
	runtime.ReadMemStats(&after)
	parsed := float64(passes * len(lines))
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/parsed, "allocs/line")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/parsed, "ns/line")
}

// BenchmarkParseInto times parseInto on lines into one record rewound
// between lines, as the pipeline runs a parser: the parser's own cost,
// without BenchmarkParser's record per line. fields sizes the record.
func BenchmarkParseInto(b *testing.B, lines [][]byte, fields int, parseInto func(*record.Builder, []byte) error) {
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	r := record.NewBuilder(fields)
	for b.Loop() {
		for _, l := range lines {
			r.Rewind()
			if err := parseInto(r, l); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
}
