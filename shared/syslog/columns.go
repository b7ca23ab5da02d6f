package syslog

import "lakestream/shared/record"

// Columns returns the columns of every field Parse writes, in order, with
// their Hive types. structured_data, an object of objects, is JSON text.
func Columns() record.Columns {
	return record.Columns{
		{Name: "priority", Type: record.Bigint},
		{Name: "facility", Type: record.Bigint},
		{Name: "facility_name", Type: record.String},
		{Name: "severity", Type: record.Bigint},
		{Name: "severity_name", Type: record.String},
		{Name: "version", Type: record.Bigint},
		{Name: "timestamp", Type: record.String},
		{Name: "hostname", Type: record.String},
		{Name: "app_name", Type: record.String},
		{Name: "procid", Type: record.String},
		{Name: "msgid", Type: record.String},
		{Name: "structured_data", Type: record.String},
		{Name: "message", Type: record.String},
	}
}
