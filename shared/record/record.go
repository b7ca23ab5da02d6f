// Package record is the ordered list of named fields that every Firehose
// transformer parses a line into and that the shared pipeline enriches,
// masks, validates and writes out as JSON or CSV.
//
// Order matters: Athena, Redshift COPY and people reading the output expect
// fields in the documented order of the source format (CloudFront's W3C
// field list, say), which a Go map would lose.
//
// Columns describes the records a parser writes: every field's name and
// Hive type, in order, for the Glue tables that read the output. Its
// documentation holds the one mapping from record values to Hive types.
//
// Builder is a record that a parser fills line after line, taking its
// values from an arena so that a line costs no allocation per field: what
// the shared pipeline's per-line loop is built on.
package record

// Field is one named value. Value is one of: nil (JSON null), string,
// int64, float64, bool, json.RawMessage (a JSON value kept as it came, such
// as a nested object of a JSON record), or *Record (a nested object).
type Field struct {
	Name  string
	Value any
}

// Record is an ordered set of fields; names are unique.
type Record struct {
	Fields []Field
}

// New returns an empty record with room for n fields.
func New(n int) *Record { return &Record{Fields: make([]Field, 0, n)} }

// Get returns the value of the named field and whether it is present.
func (r *Record) Get(name string) (any, bool) {
	if i := r.index(name); i >= 0 {
		return r.Fields[i].Value, true
	}
	return nil, false
}

// Set replaces the named field's value in place, or appends the field.
func (r *Record) Set(name string, v any) {
	if i := r.index(name); i >= 0 {
		r.Fields[i].Value = v
		return
	}
	r.Fields = append(r.Fields, Field{Name: name, Value: v})
}

// Delete removes the named field, keeping the order of the rest.
func (r *Record) Delete(name string) {
	if i := r.index(name); i >= 0 {
		r.Fields = append(r.Fields[:i], r.Fields[i+1:]...)
	}
}

// Len is the number of fields.
func (r *Record) Len() int { return len(r.Fields) }

// index is a linear scan: log records have tens of fields, where a scan
// beats hashing and keeps the record allocation-free to build.
func (r *Record) index(name string) int {
	for i := range r.Fields {
		if r.Fields[i].Name == name {
			return i
		}
	}
	return -1
}
