package vpcflow

import "lakestream/shared/record"

// ColumnTypes returns the columns of f's records, in order, with their Hive
// types: bigint for the fields AWS types as integers, string for the rest.
func (f *Format) ColumnTypes() record.Columns {
	cols := make(record.Columns, len(f.fields))
	for i, d := range f.fields {
		cols[i] = record.Column{Name: d.column, Type: d.hiveType()}
	}
	return cols
}

// AllColumns returns every field AWS documents for flow logs (versions 2 to
// 8), in the order of its field table, with Hive types: a table with these
// columns reads the records of any flow log format, custom ones included,
// since a JSON table leaves out of a row what its line does not hold.
func AllColumns() record.Columns {
	cols := make(record.Columns, len(known))
	for i := range known {
		cols[i] = record.Column{Name: known[i].column, Type: known[i].hiveType()}
	}
	return cols
}

func (d *field) hiveType() string {
	if d.kind == kindInt {
		return record.Bigint
	}
	return record.String
}
