package cloudfront

import "lakestream/shared/record"

// Columns returns the columns of every field p writes, in order, with their
// Hive types: timestamp, the log's fields, and the derived user agent
// fields when p has DeriveUserAgent.
func (p *Parser) Columns() record.Columns {
	cols := make(record.Columns, 0, 1+len(fields)+3)
	cols = append(cols, record.Column{Name: "timestamp", Type: record.String})
	for _, f := range fields {
		typ := record.String
		switch f.kind {
		case integer:
			typ = record.Bigint
		case seconds:
			typ = record.Double
		}
		cols = append(cols, record.Column{Name: f.name, Type: typ})
	}
	if p.opts.DeriveUserAgent {
		cols = append(cols,
			record.Column{Name: "browser_family", Type: record.String},
			record.Column{Name: "os_family", Type: record.String},
			record.Column{Name: "is_bot", Type: record.Boolean})
	}
	return cols
}
