package pipeline

import (
	"bytes"
	"slices"
)

// Members written verbatim.
//
// The stages read a few fields of a record, those their variables name
// (DROP_IF's, MASK_FIELDS', SCHEMA's, TIME_FIELD...); the JSON writer
// writes every field. Transform, reading a JSON document (SplitJSON with
// ParseJSONInto), keeps the value of a member no stage reads as its JSON
// text, a json.RawMessage slicing the document, when that text is what
// the writer would write for the value it stands for: the member is then
// copied to the output as it came, instead of unescaped, copied into the
// record's arena and boxed to be escaped and encoded again (most of an
// application event's members: reading and writing them was half of
// firehose-json's time). Which texts those are:
//
//   - a string without escapes in valid UTF-8 holding neither U+2028 nor
//     U+2029, which the writer (jsonenc.AppendString) writes back byte
//     for byte;
//   - a number, except -0: an integer within int64 is written back in
//     its shortest form, which is the form JSON's grammar allows (no
//     leading zeros, no plus), except for -0, written 0; any other number
//     is kept as its text anyway (see ParseJSON).
//
// Objects, arrays, true, false and null are read as ParseJSON reads
// them. The record stays within the record contract (json.RawMessage is
// one of its values); only the Go type of a value no stage looks at
// differs from ParseJSON's, which the writer cannot tell.

// readFields returns the top-level names of the fields whose values a
// stage reads: for a path ("user.id"), its first segment and the whole
// name (a top-level field named exactly like the path wins). A name is
// listed once.
func (s *stages) readFields() []string {
	var names []string
	add := func(p *fieldPath) {
		if p == nil {
			return
		}
		for _, n := range []string{p.name, p.first()} {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	for _, all := range s.filter {
		for i := range all {
			add(&all[i].path)
		}
	}
	for i := range s.masks {
		add(&s.masks[i].path)
	}
	for i := range s.schema {
		add(&s.schema[i].path)
	}
	add(s.timeField)
	for i := range s.partition {
		if s.partition[i].part == partField {
			add(&s.partition[i].field)
		}
	}
	for i := range s.columns {
		add(&s.columns[i])
	}
	if s.fields != nil {
		for i := range s.fields.items {
			if !s.fields.items[i].rest {
				add(&s.fields.items[i].src)
			}
		}
	}
	add(s.splunk.host.field)
	add(s.splunk.source.field)
	if s.parseMessage != nil || s.embedJSON {
		// PARSE_MESSAGE parses the message, EMBED_JSON_MESSAGE writes it
		// as an object after it: both need it as a string.
		m := fieldPath{name: FieldMessage}
		add(&m)
	}
	return names
}

// verbatimString reports whether the text of a string token, quotes
// included, is what jsonenc.AppendString writes for its value: its value
// value is a slice of its text (String returns one for a string without
// escapes in valid UTF-8) and holds no U+2028 or U+2029, which the
// writer escapes.
func verbatimString(text, value []byte) bool {
	if !within(value, text) {
		return false
	}
	for i := 0; ; {
		k := bytes.IndexByte(value[i:], 0xe2) // U+2028 is E2 80 A8, U+2029 E2 80 A9
		if k < 0 {
			return true
		}
		i += k + 1
		if i+1 < len(value) && value[i] == 0x80 && (value[i+1] == 0xa8 || value[i+1] == 0xa9) {
			return false
		}
	}
}
