// Package hivetype parses, prints and rewrites Hive column type strings as
// the AWS Glue Data Catalog stores them, such as
// "struct<id:bigint,tags:array<string>>". The Glue-catalog fixer uses it to
// replace types a crawler wrote but Athena rejects (set<string> becomes
// array<string>) without touching anything else in the type. It is shared
// rather than kept beside the fixer because the lake's own column types are
// written in the same grammar: the parsers' complex column types (their
// Columns, which the template's Glue tables are built from) are checked
// with it in their tests.
//
// Parsing is lenient where crawlers are: keywords in any case, whitespace
// between tokens, struct field names that are reserved words or hold
// characters such as '-', '$' or spaces (bare or in backquotes), and type
// names this package does not know, which are kept as written.
//
// FixString, which the fixer uses, does not print the type again: it splices
// each replacement into the text as written, so backquotes, spacing and case
// outside the rewritten tokens stay byte for byte. Type.String prints a
// canonical form instead (lower-case keywords, no whitespace, field names
// backquoted only when Hive could not read them bare), for messages and
// tests.
package hivetype

import (
	"strconv"
	"strings"
	"unicode"
)

// Kind is the shape of a Type.
type Kind uint8

// The kinds of Hive type. Set is not a Hive type at all: Glue crawlers write
// it and Athena rejects it, which is why this package exists.
const (
	KindPrimitive Kind = iota // int, string, decimal(38,10), or a name kept as written
	KindArray                 // array<Elem>
	KindSet                   // set<Elem>
	KindMap                   // map<Key,Value>
	KindStruct                // struct<name:type,...>
	KindUnion                 // uniontype<type,...>
)

// String returns the keyword of a container kind, as the printer writes it
// ("array", "set", "map", "struct", "uniontype"), or "primitive".
func (k Kind) String() string {
	switch k {
	case KindPrimitive:
		return "primitive"
	case KindArray:
		return "array"
	case KindSet:
		return "set"
	case KindMap:
		return "map"
	case KindStruct:
		return "struct"
	case KindUnion:
		return "uniontype"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Type is a parsed Hive type. Which fields are set depends on Kind.
type Type struct {
	Kind Kind
	// Name is a primitive's name: lower case for the types Hive defines
	// (string, int, bigint, smallint, tinyint, boolean, double, float, date,
	// timestamp, binary, char, varchar, decimal), as written for any other.
	Name string
	// Params are a primitive's parameters: the length of char(n) and
	// varchar(n), the precision and scale of decimal(p,s).
	Params []int
	// Elem is the element type of an array or set.
	Elem *Type
	// Key and Value are the types of a map.
	Key, Value *Type
	// Fields are a struct's fields, in order.
	Fields []Field
	// Members are a uniontype's alternatives, in order.
	Members []*Type

	// start and end are the byte offsets in the input Parse read of where
	// this type was written, from its first letter to its closing '>' or
	// ')' or its name's last letter. FixString splices replacements into
	// the input at these offsets, so everything it does not rewrite keeps
	// the bytes it was written in. A Type not made by Parse has none.
	start, end int
}

// Field is one field of a struct. Name is the name itself, without the
// backquotes it may have been written in.
type Field struct {
	Name string
	Type *Type
}

// String prints t in canonical Hive syntax: lower-case keywords, no
// whitespace, field names backquoted only when they need it. Parse reads
// the result back to an identical Type.
func (t *Type) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *Type) write(b *strings.Builder) {
	if t == nil {
		return
	}
	switch t.Kind {
	case KindPrimitive:
		b.WriteString(t.Name)
		for i, p := range t.Params {
			if i == 0 {
				b.WriteByte('(')
			} else {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(p))
		}
		if len(t.Params) > 0 {
			b.WriteByte(')')
		}
	case KindArray, KindSet:
		b.WriteString(t.Kind.String())
		b.WriteByte('<')
		t.Elem.write(b)
		b.WriteByte('>')
	case KindMap:
		b.WriteString("map<")
		t.Key.write(b)
		b.WriteByte(',')
		t.Value.write(b)
		b.WriteByte('>')
	case KindStruct:
		b.WriteString("struct<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			writeName(b, f.Name)
			b.WriteByte(':')
			f.Type.write(b)
		}
		b.WriteByte('>')
	case KindUnion:
		b.WriteString("uniontype<")
		for i, m := range t.Members {
			if i > 0 {
				b.WriteByte(',')
			}
			m.write(b)
		}
		b.WriteByte('>')
	}
}

// writeName backquotes a field name only when Hive's own type-string reader,
// which Athena uses for Glue tables, would not read it bare. That reader
// does not understand backquotes, so quoting a name it could read would
// break the table for Athena; a name it cannot read is broken for Athena
// either way, and the quoted form is what Spark and Hive DDL accept.
func writeName(b *strings.Builder, name string) {
	if !needsQuotes(name) {
		b.WriteString(name)
		return
	}
	b.WriteByte('`')
	b.WriteString(strings.ReplaceAll(name, "`", "``"))
	b.WriteByte('`')
}

// needsQuotes reports whether name holds anything but letters, digits, '_',
// '$', '.' and inner spaces, the characters Hive reads as part of a name.
func needsQuotes(name string) bool {
	if name == "" || name[0] == ' ' || name[len(name)-1] == ' ' {
		return true
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_$. ", r) {
			return true
		}
	}
	return false
}
