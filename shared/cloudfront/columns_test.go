package cloudfront

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/pipeline/pipelinetest"
)

// TestColumns: with and without the derived fields, every record of every
// golden input has exactly the columns Columns lists, in order, each value
// of its column's type.
func TestColumns(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	for name, opts := range map[string]Options{"plain": {}, "derive-user-agent": {DeriveUserAgent: true}} {
		t.Run(name, func(t *testing.T) {
			p := New(opts)
			cols := p.Columns()
			require.NoError(t, cols.Validate())
			assert.Equal(t, p.Fields(), cols.Names())
			for _, path := range inputs {
				for n, line := range pipelinetest.Lines(t, path) {
					r, err := p.Parse(line)
					require.NoError(t, err, "%s:%d", path, n+1)
					if r == nil {
						continue // a header line
					}
					require.NoError(t, cols.Check(r), "%s:%d", path, n+1)
					require.Equal(t, len(cols), r.Len(), "%s:%d: every column, null or not", path, n+1)
				}
			}
		})
	}
	assert.Len(t, New(Options{DeriveUserAgent: true}).Columns(), 1+len(fields)+3)
	assert.Equal(t, "is_bot", New(Options{DeriveUserAgent: true}).Columns()[1+len(fields)+2].Name)
}
