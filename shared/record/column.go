package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lakestream/shared/excerpt"
)

// Column is one column of the table a parser's records fill: the field name
// and its Hive type, as a Glue table or an Athena CREATE TABLE declares it.
type Column struct {
	Name string
	Type string
}

// Columns is the column list of a parser: every field its records can
// hold, in the order they hold them. A Glue table derived from it reads
// the parser's JSON output as it is.
//
// # Types
//
// The Hive type of a column follows from the Go type of its values, the
// same way for every parser:
//
//	string           string
//	int64            bigint
//	float64          double
//	bool             boolean
//	json.RawMessage  string, holding the value's JSON text (the OpenX JSON
//	*Record          SerDe and Firehose's record format conversion read a
//	                 nested object or array in a string column as its text),
//	                 or a complex type (array<...>, struct<...>, map<...>)
//	                 when the value's shape is documented and fixed
//
// Times are strings, RFC 3339 in UTC ("2024-03-05T06:07:08.123Z"), typed
// string: Hive's timestamp type in a JSON table only reads
// "yyyy-MM-dd HH:mm:ss", and Athena turns RFC 3339 into a timestamp with
// from_iso8601_timestamp. Where a format writes epoch milliseconds, the
// parser keeps them as bigint as well.
//
// A null (nil) value fits every column.
type Columns []Column

// The Hive types of the scalar record values.
const (
	String  = "string"
	Bigint  = "bigint"
	Double  = "double"
	Boolean = "boolean"
)

// Names returns the column names in order, for a fixed CSV or TSV column
// list.
func (c Columns) Names() []string {
	names := make([]string, len(c))
	for i, col := range c {
		names[i] = col.Name
	}
	return names
}

// Validate reports a column list whose names are empty or repeated, or
// whose types are none of the scalar types above and not a complex type.
// It checks a complex type's outer form only (a Hive type parser checks
// the rest).
func (c Columns) Validate() error {
	var errs []error
	seen := make(map[string]bool, len(c))
	for i, col := range c {
		switch {
		case col.Name == "":
			errs = append(errs, fmt.Errorf("column %d has no name", i))
		case seen[strings.ToLower(col.Name)]:
			// Glue and Hive fold names to lower case.
			errs = append(errs, fmt.Errorf("column %q is listed twice", col.Name))
		}
		seen[strings.ToLower(col.Name)] = true
		if kindOf(col.Type) == invalid {
			errs = append(errs, fmt.Errorf("column %q has type %q, not one a parser writes", col.Name, col.Type))
		}
	}
	return errors.Join(errs...)
}

// Check reports whether r fits the columns: its fields appear among them
// in the same order (a record may leave columns out: those are null), and
// each value has the Go type its column's Hive type maps to.
func (c Columns) Check(r *Record) error {
	k := 0
	for _, f := range r.Fields {
		for k < len(c) && c[k].Name != f.Name {
			k++
		}
		if k == len(c) {
			if c.index(f.Name) >= 0 {
				return fmt.Errorf("field %q is out of the columns' order", f.Name)
			}
			return fmt.Errorf("field %q is not a column", f.Name)
		}
		if !fits(kindOf(c[k].Type), f.Value) {
			return fmt.Errorf("field %q holds %s (%T), not a value of column type %q", f.Name, describe(f.Value), f.Value, c[k].Type)
		}
		k++
	}
	return nil
}

// Conform builds a record of r's fields in column order, for a JSON format
// whose fields come in any order. A column r lacks is left out. Each value
// is converted to its column's type where that loses nothing: a number
// (int64, float64 or a json.RawMessage number, digit for digit) or a
// boolean to its text for a string column, an integer in a string ("42")
// for a bigint one, "true" or "false" for a boolean one, an integer for a
// double one; a value that does not convert is an error naming the field.
// A complex column takes an array or an object as its type says.
//
// Fields that are not columns are not dropped: they go, in their order, into
// a nested record in a last field named rest (left out when there are
// none), which must itself be a column of type string.
func (c Columns) Conform(r *Record, rest string) (*Record, error) {
	out := &Record{Fields: make([]Field, 0, len(c))}
	var other *Record
	for _, col := range c {
		if col.Name == rest {
			continue
		}
		v, ok := r.Get(col.Name)
		if !ok {
			continue
		}
		v, err := convert(kindOf(col.Type), v)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", col.Name, err)
		}
		out.Fields = append(out.Fields, Field{Name: col.Name, Value: v})
	}
	for _, f := range r.Fields {
		if c.index(f.Name) < 0 || f.Name == rest {
			if other == nil {
				other = New(4)
			}
			other.Fields = append(other.Fields, f)
		}
	}
	if other != nil {
		out.Fields = append(out.Fields, Field{Name: rest, Value: other})
	}
	return out, nil
}

func (c Columns) index(name string) int {
	for i := range c {
		if c[i].Name == name {
			return i
		}
	}
	return -1
}

// kind is what a column type asks of a value.
type kind uint8

const (
	invalid kind = iota
	stringKind
	bigintKind
	doubleKind
	booleanKind
	arrayKind  // array<...>: a JSON array
	objectKind // struct<...> or map<...>: a JSON object
)

func kindOf(typ string) kind {
	switch typ {
	case String:
		return stringKind
	case Bigint:
		return bigintKind
	case Double:
		return doubleKind
	case Boolean:
		return booleanKind
	}
	if !strings.HasSuffix(typ, ">") {
		return invalid
	}
	switch {
	case strings.HasPrefix(typ, "array<"):
		return arrayKind
	case strings.HasPrefix(typ, "struct<"), strings.HasPrefix(typ, "map<"):
		return objectKind
	}
	return invalid
}

// fits reports whether v has the Go type a column of kind k holds.
func fits(k kind, v any) bool {
	if v == nil {
		return true
	}
	switch v := v.(type) {
	case string:
		return k == stringKind
	case int64:
		return k == bigintKind
	case float64:
		return k == doubleKind
	case bool:
		return k == booleanKind
	case json.RawMessage:
		switch k {
		case stringKind:
			// An object or array is kept as JSON text; a number is not
			// text yet (Conform turns it into its digits).
			c := jsonStart(v)
			return c == '{' || c == '['
		case arrayKind:
			return jsonStart(v) == '['
		case objectKind:
			return jsonStart(v) == '{'
		}
	case *Record:
		return k == stringKind || k == objectKind
	}
	return false
}

// convert turns v into a value that fits a column of kind k, if it can
// without losing anything.
func convert(k kind, v any) (any, error) {
	if fits(k, v) {
		return v, nil
	}
	switch k {
	case stringKind:
		switch v := v.(type) {
		case int64:
			return strconv.FormatInt(v, 10), nil
		case float64:
			return strconv.FormatFloat(v, 'g', -1, 64), nil
		case bool:
			return strconv.FormatBool(v), nil
		case json.RawMessage:
			if c := jsonStart(v); c == '-' || ('0' <= c && c <= '9') {
				return string(bytes.TrimSpace(v)), nil
			}
		}
	case bigintKind:
		if s, ok := v.(string); ok {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, nil
			}
		}
	case doubleKind:
		switch v := v.(type) {
		case int64:
			return float64(v), nil
		case json.RawMessage:
			if c := jsonStart(v); c == '-' || ('0' <= c && c <= '9') {
				if f, err := strconv.ParseFloat(string(v), 64); err == nil {
					return f, nil
				}
			}
		}
	case booleanKind:
		switch v {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return nil, fmt.Errorf("want %s, found %s", kindName(k), describe(v))
}

func jsonStart(v json.RawMessage) byte {
	for _, c := range v {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c
		}
	}
	return 0
}

func kindName(k kind) string {
	switch k {
	case stringKind:
		return "a string"
	case bigintKind:
		return "a bigint"
	case doubleKind:
		return "a double"
	case booleanKind:
		return "a boolean"
	case arrayKind:
		return "an array"
	case objectKind:
		return "an object"
	}
	return "nothing"
}

// describe names a value for an error message: its kind, and the value
// itself when it is short, so that a message never carries a whole object.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return "string " + excerpt.Quote(v)
	case int64:
		return "number " + strconv.FormatInt(v, 10)
	case float64:
		return "number " + strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case json.RawMessage:
		switch jsonStart(v) {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		if len(v) <= excerpt.Max {
			return "number " + string(v)
		}
		return "number " + excerpt.Quote(string(v))
	case *Record:
		return "an object"
	}
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("a %T", v)
}
