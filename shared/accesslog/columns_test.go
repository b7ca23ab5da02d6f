package accesslog

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"lakestream/shared/pipeline/pipelinetest"
	"lakestream/shared/record"
)

// TestColumns: every record of every golden input fits Columns (its fields
// among the columns, in order, each value of its column's type), and the
// two layouts are the whole list and its tail.
func TestColumns(t *testing.T) {
	cols := Columns()
	assert.Equal(t, vhostFieldNames, cols.Names())
	pipelinetest.ColumnsFit(t, cols, Parse, func(cols record.Columns, r *record.Record) error {
		if n := r.Len(); n != len(cols) && n != len(cols)-2 {
			return fmt.Errorf("%d fields, want %d (vhost formats) or %d", n, len(cols), len(cols)-2)
		}
		return nil
	})
}
