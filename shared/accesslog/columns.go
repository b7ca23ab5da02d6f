package accesslog

import "lakestream/shared/record"

// Columns returns the columns of every field Parse writes, in order, with
// their Hive types: the vhost formats' layout, which is the other formats'
// one after vhost and port (a line of those leaves the two out).
func Columns() record.Columns {
	return record.Columns{
		{Name: "vhost", Type: record.String},
		{Name: "port", Type: record.Bigint},
		{Name: "remote_host", Type: record.String},
		{Name: "ident", Type: record.String},
		{Name: "user", Type: record.String},
		{Name: "time", Type: record.String},
		{Name: "time_ms", Type: record.Bigint},
		{Name: "method", Type: record.String},
		{Name: "path", Type: record.String},
		{Name: "query", Type: record.String},
		{Name: "protocol", Type: record.String},
		{Name: "request", Type: record.String},
		{Name: "status", Type: record.Bigint},
		{Name: "bytes", Type: record.Bigint},
		{Name: "referrer", Type: record.String},
		{Name: "user_agent", Type: record.String},
	}
}
