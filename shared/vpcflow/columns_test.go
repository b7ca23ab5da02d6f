package vpcflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/record"
)

// TestColumnTypes: every record of the test logs fits its format's typed
// columns and the all-fields columns, and the names are Columns'.
func TestColumnTypes(t *testing.T) {
	assert.Equal(t, Default.Columns(), Default.ColumnTypes().Names())
	require.NoError(t, AllColumns().Validate())
	assert.Len(t, AllColumns(), len(known))
	assert.Equal(t, record.Column{Name: "tcp_flags", Type: record.Bigint}, AllColumns()[17])
	assert.Equal(t, record.Column{Name: "reject_reason", Type: record.String}, AllColumns()[len(known)-1])

	checked := 0
	for _, tc := range goldenCases {
		f, err := NewFormat(tc.format)
		require.NoError(t, err)
		data, err := os.ReadFile(filepath.Join("testdata", tc.input))
		require.NoError(t, err)
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			r, err := f.Parse([]byte(line))
			if err != nil || r == nil {
				continue
			}
			assert.NoError(t, f.ColumnTypes().Check(r), "%s: %s", tc.input, line)
			// In the all-fields table every record fits too, nothing left over.
			all, err := AllColumns().Conform(r, "rest")
			require.NoError(t, err)
			assert.ElementsMatch(t, r.Fields, all.Fields, "%s: %s", tc.input, line)
			checked++
		}
	}
	assert.Greater(t, checked, 5)
}
