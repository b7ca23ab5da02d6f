package accesslog

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/pipeline/pipelinetest"
)

// TestColumns: every record of every golden input fits Columns (its fields
// among the columns, in order, each value of its column's type), and the
// two layouts are the whole list and its tail.
func TestColumns(t *testing.T) {
	cols := Columns()
	require.NoError(t, cols.Validate())
	assert.Equal(t, vhostFieldNames, cols.Names())

	inputs, err := filepath.Glob(filepath.Join("testdata", "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	for _, path := range inputs {
		for n, line := range pipelinetest.Lines(t, path) {
			r, err := Parse(line)
			require.NoError(t, err, "%s:%d", path, n+1)
			require.NoError(t, cols.Check(r), "%s:%d", path, n+1)
			assert.Contains(t, []int{len(cols), len(cols) - 2}, r.Len(), "%s:%d", path, n+1)
		}
	}
}
