package pipeline

import (
	"bytes"
	"slices"
	"unsafe"
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
	s.lookups(add)
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
	if s.arrivalField != "" {
		// Not read, but set: a member of that name is replaced in its
		// place, so it must be a field of its own (see memberRun).
		m := fieldPath{name: s.arrivalField}
		add(&m)
	}
	if s.parseMessage != nil || s.embedJSON {
		// PARSE_MESSAGE parses the message, EMBED_JSON_MESSAGE writes it
		// as an object after it: both need it as a string.
		m := fieldPath{name: FieldMessage}
		add(&m)
	}
	return names
}

// verbatimString reports whether text, a string token, quotes included,
// is what jsonenc.AppendString writes for its value: its value is a slice
// of its text (String returns one for a string without escapes in valid
// UTF-8) and writes as it is (see writesAsIs).
func verbatimString(text, value []byte) bool {
	return within(value, text) && writesAsIs(value)
}

// writesAsIs reports whether text in valid UTF-8 without a character to
// escape holds neither U+2028 nor U+2029, which jsonenc.AppendString
// escapes: it then writes text as it is, between quotes.
func writesAsIs(text []byte) bool {
	for i := 0; ; {
		k := bytes.IndexByte(text[i:], 0xe2) // U+2028 is E2 80 A8, U+2029 E2 80 A9
		if k < 0 {
			return true
		}
		i += k + 1
		if i+1 < len(text) && text[i] == 0x80 && (text[i+1] == 0xa8 || text[i+1] == 0xa9) {
			return false
		}
	}
}

// memberRun is consecutive members of a JSON document kept verbatim,
// keys and all (`"a":1,"b":"x"`), as Transform reads a document of a
// stream whose keys come in the order of the last (see keyShape): a
// record's field whose value is a *memberRun (and whose name is empty)
// stands for those members, which the writer copies in one piece. Only
// the JSON writer sees them: a run is made of members no stage reads,
// and not at all when a stage looks for fields by names it does not know
// in advance (FIELDS' *, PARSE_MESSAGE; see docReader), or when the
// document's keys are not the shape's (a repeated key must replace the
// value it repeats; see readObject).
type memberRun struct {
	text []byte
}

// runCursor is the run of members being read: data[start:end], end 0
// before the first member.
type runCursor struct {
	start, end int
}

// continues reports whether the member starting at offset from of data
// comes right after the run, with only its comma between.
func (c *runCursor) continues(data []byte, from int) bool {
	return c.end > 0 && from == c.end+1 && data[c.end] == ','
}

// memberStart returns the offset in data of the member whose key (as the
// scanner read it) and value start (valueStart) are given: the opening
// quote of its key. It reports false unless the member's text up to its
// value is what the writer writes there, for a key that writes as it is
// (see writesAsIs; the caller checks): the key as it came, a slice of
// data (without escapes, in valid UTF-8), and the colon right after it.
func memberStart(data, key []byte, valueStart int) (int, bool) {
	if !within(key, data) {
		return 0, false
	}
	at := int(uintptr(unsafe.Pointer(unsafe.SliceData(key))) - uintptr(unsafe.Pointer(unsafe.SliceData(data))))
	colon := at + len(key) + 1 // after the closing quote
	if valueStart != colon+1 || data[colon] != ':' {
		return 0, false
	}
	return at - 1, true
}
