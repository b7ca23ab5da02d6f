package cloudfront

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"lakestream/shared/pipeline/pipelinetest"
)

// TestColumns: with and without the derived fields, every record of every
// golden input has exactly the columns Columns lists, in order, each value
// of its column's type.
func TestColumns(t *testing.T) {
	for name, opts := range map[string]Options{"plain": {}, "derive-user-agent": {DeriveUserAgent: true}} {
		t.Run(name, func(t *testing.T) {
			p := New(opts)
			assert.Equal(t, p.Fields(), p.Columns().Names())
			assert.Equal(t, fieldNames(opts.DeriveUserAgent), p.Columns().Names())
			pipelinetest.ColumnsFit(t, p.Columns(), p.Parse, pipelinetest.EveryColumn)
		})
	}
	assert.Len(t, New(Options{DeriveUserAgent: true}).Columns(), 1+len(fields)+3)
	assert.Equal(t, "is_bot", New(Options{DeriveUserAgent: true}).Columns()[1+len(fields)+2].Name)
}
