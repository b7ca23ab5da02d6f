package syslog

import (
	"testing"

	"lakestream/shared/pipeline/pipelinetest"
)

// TestColumns: every record of every golden input has exactly the columns
// Columns lists, in order, each value of its column's type.
func TestColumns(t *testing.T) {
	pipelinetest.ColumnsFit(t, Columns(), parseAtReference, pipelinetest.EveryColumn)
}
