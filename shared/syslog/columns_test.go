package syslog

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"lakestream/shared/pipeline/pipelinetest"
)

// TestColumns: every record of every golden input has exactly the columns
// Columns lists, in order, each value of its column's type.
func TestColumns(t *testing.T) {
	cols := Columns()
	require.NoError(t, cols.Validate())

	inputs, err := filepath.Glob(filepath.Join("testdata", "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	for _, path := range inputs {
		for n, line := range pipelinetest.Lines(t, path) {
			r, err := ParseAt(line, reference)
			require.NoError(t, err, "%s:%d", path, n+1)
			require.NoError(t, cols.Check(r), "%s:%d", path, n+1)
			require.Equal(t, len(cols), r.Len(), "%s:%d: every column, null or not", path, n+1)
		}
	}
}
