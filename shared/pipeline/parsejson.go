package pipeline

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"lakestream/shared/jsonscan"
	"lakestream/shared/record"
)

// Errors ParseJSON wraps, for callers telling bad JSON from JSON of the
// wrong shape.
var (
	ErrInvalidJSON = errors.New("invalid JSON")
	ErrNotObject   = errors.New("not a JSON object")
)

// indexAt is the field count from which ParseJSON finds duplicate keys
// with a map instead of a scan, so that an object with a huge number of
// keys costs linear, not quadratic, time.
const indexAt = 32

// ParseJSON is the Parser for JSON records: line must hold one JSON object.
// Its top-level keys become fields in document order; a key given twice
// keeps its first position and its last value, as encoding/json keeps the
// last. Values become: strings string, true/false bool, null nil, integers
// that fit int64 int64, and every other number and every nested object or
// array json.RawMessage, so no digit is ever lost to float64 and nested data
// is written back as it came. The json.RawMessage values share line's
// memory: line must not change while the record is in use.
func ParseJSON(line []byte) (*record.Record, error) {
	b := record.NewBuilder(16)
	if _, err := ParseJSONInto(b, line, time.Time{}); err != nil {
		return nil, err
	}
	return &b.Record, nil
}

// scanners keeps the JSON scanners of ParseJSONInto, whose buffers (for
// nesting and escaped keys) then serve line after line.
var scanners = sync.Pool{New: func() any { return new(jsonscan.Scanner) }}

// ParseJSONInto is ParseJSON into r, which it resets first: a ParserInto,
// reading the line in one pass with shared/jsonscan (which accepts exactly
// what encoding/json accepts) and taking the values from r's arena. On
// error r is left empty.
func ParseJSONInto(r *record.Builder, line []byte, _ time.Time) (bool, error) {
	r.Reset()
	s := scanners.Get().(*jsonscan.Scanner)
	defer scanners.Put(s)
	s.Reset(line)
	if k := s.Peek(); k != jsonscan.Object {
		if !json.Valid(line) {
			return false, invalidJSON(line)
		}
		return false, fmt.Errorf("%w: found %s", ErrNotObject, k)
	}
	readObject(r, s, line, nil, false)
	if s.End() != nil {
		r.Reset()
		return false, invalidJSON(line)
	}
	return true, nil
}

// readObject reads the object that comes next, the start of data, into
// r's fields; a syntax error stops it and stays in s. d, when not nil, is
// the pass's document reader: the keys of the last object read (see
// keyShape), the members that may be kept verbatim and, with runs set,
// written in runs (see verbatim.go). readObject reports true when it must
// be read again without runs: a member's key repeats one a run may hide.
func readObject(r *record.Builder, s *jsonscan.Scanner, data []byte, d *docReader, runs bool) (again bool) {
	var (
		index map[string]int
		buf   []byte // unescaped strings; r.Text copies them
		shape *keyShape
		run   runCursor // the run being read, not yet in r's fields
	)
	if d != nil {
		shape = &d.shape
	}
	// same stays set while this object's keys are the shape's, one for
	// one: such a key is a name already made and cannot repeat an
	// earlier one, the shape's keys being distinct. Runs of members are
	// made only then, as their keys are not compared with later ones.
	same := shape != nil
	// Not Object's iterator: its loop body is a closure, called for
	// every member, whose variables live behind a pointer (a tenth of
	// reading a document). Every value is read (jsonValue), as NextKey
	// asks.
	//
	// at is the offset of the key's opening quote when FirstKeyIs or
	// NextKeyIs read it, the shape's key at its place; -1 when FirstKey
	// or NextKey did.
	//
	// A first member of the shape's that a stage reads is read, with
	// the plain members after it, as readPlain reads members (a stream's
	// documents, nearly all); else FirstKey or FirstKeyIs reads its key.
	var (
		key  []byte
		at   int
		more bool
	)
	members := shape.readFirst(r, s)
	if members > 0 {
		members += shape.readPlain(r, s, d, data, &run, members, runs)
		key, at, more = shape.nextKey(s, same, members)
	} else {
		key, at, more = shape.firstKey(s)
	}
	for ; more; key, at, more = shape.nextKey(s, same, members) {
		n := members
		members++
		if same && n < len(shape.names) && (at >= 0 || string(key) == shape.names[n]) {
			use, from := shape.keeps[n], 0
			if use == keepRun {
				ok := false
				if at >= 0 {
					// The colon is right after the key: the value too?
					// (An empty key is never in a run, as memberStart
					// cannot place it.)
					name := shape.names[n]
					from, ok = at, s.Offset() == at+len(name)+3 && name != ""
				} else {
					from, ok = memberStart(data, key, s.Offset())
				}
				if !ok || !runs {
					use = keepText
				}
			}
			v, inRun, ok := jsonValue(r, s, &buf, data, use, d != nil)
			if !ok {
				break
			}
			if inRun {
				if !run.continues(data, from) {
					d.endRun(r, data, &run)
					run.start = from
				}
				run.end = s.Offset()
			} else {
				d.endRun(r, data, &run)
				r.Fields = append(r.Fields, record.Field{Name: shape.names[n], Value: v})
			}
			members += shape.readPlain(r, s, d, data, &run, members, runs)
			continue
		}
		if same {
			if d.endRun(r, data, &run); len(d.runs) > 0 {
				// A run holds keys this one may repeat.
				return true
			}
			same = false
			if n := len(r.Fields); n >= indexAt {
				index = make(map[string]int, 2*n)
				for k, f := range r.Fields {
					index[f.Name] = k
				}
			}
		}
		use := keepValue
		if d != nil && !slices.Contains(d.reads, string(key)) {
			use = keepText
		}
		v, _, ok := jsonValue(r, s, &buf, data, use, d != nil)
		if !ok {
			break
		}
		i := -1
		if index != nil {
			if j, ok := index[string(key)]; ok {
				i = j
			}
		} else {
			i = fieldIndex(&r.Record, string(key)) // no allocation: the conversion only compares
		}
		if i >= 0 {
			r.Fields[i].Value = v
			continue
		}
		r.Fields = append(r.Fields, record.Field{Name: r.Text(key), Value: v})
		switch n := len(r.Fields); {
		case index != nil:
			index[r.Fields[n-1].Name] = n - 1
		case n == indexAt:
			index = make(map[string]int, 2*indexAt)
			for k, f := range r.Fields {
				index[f.Name] = k
			}
		}
	}
	if shape != nil && s.Err() == nil {
		d.endRun(r, data, &run)
		// A document with fewer keys than the shape, the shape's first
		// ones, leaves it as it is: it still tells the keys of documents
		// that have them all.
		if !same {
			shape.remember(r.Fields, d.reads)
		}
	}
	return false
}

// keyShape is the field names of the last JSON document Transform read,
// in order (distinct, as a record's are). The documents of a stream
// nearly always have the same keys in the same order: a key that is the
// shape's at its place takes the shape's name, instead of being copied
// into the record's arena and compared with every key before it (which
// was a tenth of reading a document), and whether its value may be kept
// verbatim, instead of looking its name up among the fields the stages
// read. The names are copies, held by the shape's own memory: the
// pipeline rewinds the arena a document's names come from
// (record.Builder's Rewind) and writes the next line's values over them.
type keyShape struct {
	names []string
	// keeps tells, for each name, how its value is read: keepValue when
	// a stage reads it, else keepText, or keepRun when the name also
	// writes as it is (see writesAsIs), so that the member may be in a
	// run (see verbatim.go).
	keeps []keep
	// keys is the names prepared for NextKeyIs, and plain whether each
	// could be (see jsonscan.NewKey).
	keys  []jsonscan.Key
	plain []bool
	// runTo tells, for each place n (len(names) included), where the
	// members from the n-th on stop being ones readPlain may read: members
	// in a run (keepRun) whose names are plain and not empty (an empty
	// key is never in a run; see readObject).
	runTo []int
}

// readPlain reads the members of the object s reads that come next,
// from the shape's n-th on, while they are the shape's and as nearly all
// of a stream's documents have them, and returns how many it read: with
// MembersAsIs, members that may be in a run (see keepRun) when runs is
// set, adding them to run (their text in data); with NextStringIs,
// members a stage reads whose values are plain strings (ASCII without
// escapes), which become the record's fields. It reads them as
// readObject would, a member at a time, without a round of readObject
// per member, which was a tenth of reading a document (and for a member
// a stage reads, three quarters of it). What it leaves, readObject
// reads.
func (k *keyShape) readPlain(r *record.Builder, s *jsonscan.Scanner, d *docReader, data []byte, run *runCursor, n int, runs bool) int {
	start := n
	for n < len(k.names) {
		if to := k.runTo[n]; to > n {
			if !runs {
				break
			}
			from := s.Offset() // the comma before the first member, if one is read
			m := s.MembersAsIs(k.keys[n:to])
			if m > 0 {
				if run.end != from {
					d.endRun(r, data, run)
					run.start = from + 1
				}
				run.end = s.Offset()
			}
			if n += m; n < to {
				break
			}
			continue
		}
		if k.keeps[n] != keepValue || !k.plain[n] {
			break
		}
		v, ok := s.NextStringIs(&k.keys[n])
		if !ok {
			break
		}
		d.endRun(r, data, run)
		// v is the string's text in data (see docReader).
		r.Fields = append(r.Fields, record.Field{Name: k.names[n], Value: r.Box(stringOf(v))})
		n++
	}
	return n - start
}

// readFirst reads the '{' opening the object s reads and its first
// member, when it is the shape's, a stage reads it and its value is a
// plain string (see readPlain), and returns 1; else it reads nothing and
// returns 0. k may be nil.
func (k *keyShape) readFirst(r *record.Builder, s *jsonscan.Scanner) int {
	if k == nil || len(k.names) == 0 || k.keeps[0] != keepValue || !k.plain[0] {
		return 0
	}
	v, ok := s.FirstStringIs(&k.keys[0])
	if !ok {
		return 0
	}
	// v is the string's text in data (see docReader).
	r.Fields = append(r.Fields, record.Field{Name: k.names[0], Value: r.Box(stringOf(v))})
	return 1
}

// firstKey reads the '{' opening the object s reads and its first key:
// with FirstKeyIs when the shape's first name is plain, reporting the
// offset of its quote when it is that name, else with FirstKey,
// reporting -1. k may be nil.
func (k *keyShape) firstKey(s *jsonscan.Scanner) (key []byte, at int, more bool) {
	if k != nil && len(k.names) > 0 && k.plain[0] {
		if at, ok := s.FirstKeyIs(&k.keys[0]); ok {
			return nil, at, true
		}
	}
	key, more = s.FirstKey()
	return key, -1, more
}

// nextKey reads the key of the member after the n-th (n counted from 0)
// of the object s reads: with NextKeyIs when same (the object's keys have
// been the shape's so far) and the shape's n-th name is plain, which
// then needs no scanning for its end nor comparing again, reporting the
// offset of its quote; else with NextKey, reporting -1. k may be nil
// (then same is false).
func (k *keyShape) nextKey(s *jsonscan.Scanner, same bool, n int) (key []byte, at int, more bool) {
	if same && n < len(k.names) && k.plain[n] {
		if at, ok := s.NextKeyIs(&k.keys[n]); ok {
			return nil, at, true
		}
	}
	key, more = s.NextKey()
	return key, -1, more
}

// remember makes the document just read, with fields, the shape: its
// names copied into one new string (a shape changes rarely in a stream),
// so that names handed out from the old shape stay valid too. reads is
// the names of the fields the stages read.
func (k *keyShape) remember(fields []record.Field, reads []string) {
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f.Name)
	}
	all := b.String()
	k.names, k.keeps, k.keys, k.plain = k.names[:0], k.keeps[:0], k.keys[:0], k.plain[:0]
	for _, f := range fields {
		k.names = append(k.names, all[:len(f.Name)])
		key, plain := jsonscan.NewKey(f.Name)
		k.keys, k.plain = append(k.keys, key), append(k.plain, plain)
		all = all[len(f.Name):]
		use := keepValue
		if !slices.Contains(reads, f.Name) {
			use = keepText
			if writesAsIs(stringBytes(f.Name)) {
				use = keepRun
			}
		}
		k.keeps = append(k.keeps, use)
	}
	k.runTo = slices.Grow(k.runTo[:0], len(fields)+1)[:len(fields)+1]
	k.runTo[len(fields)] = len(fields)
	for n := len(fields) - 1; n >= 0; n-- {
		k.runTo[n] = n
		if k.keeps[n] == keepRun && k.plain[n] && k.names[n] != "" {
			k.runTo[n] = k.runTo[n+1]
		}
	}
}

// docReader reads the JSON documents of a pass's records straight from
// their data (see readJSONDocument), with what it keeps from one to the
// next: its scanner, the shape of the last document, the runs of members
// of the record read last. A string value that came as ASCII without
// escapes is a slice of the data, not a copy in the record's arena: the
// data outlives the record read from it (it stays as it is while the
// pass writes the record), and nothing keeps a value past that without
// copying it (see record.Builder's Rewind).
type docReader struct {
	scan  jsonscan.Scanner
	shape keyShape
	runs  []memberRun
	// reads is the names of the fields the stages read (readFields).
	reads []string
	// inRuns is set when no stage looks for fields by names it does not
	// know in advance, so that members may be written in runs.
	inRuns bool
}

// readJSONDocument parses the JSON object at the start of data into r
// (reset first) and returns where it ends, or false if it is not a
// well-formed object (r is then left empty). It is ParseJSONInto for a
// document not yet cut out of the record's data: parsing finds the end of
// an object, so Transform need not cut the documents apart first (a
// second pass), except to find and describe a bad one.
func (d *docReader) readJSONDocument(r *record.Builder, data []byte) (int, bool) {
	runs := d.inRuns
	for {
		r.Reset()
		d.runs = d.runs[:0]
		d.scan.Reset(data)
		if !readObject(r, &d.scan, data, d, runs) {
			break
		}
		runs = false // rare: the keys changed, and one repeats
	}
	if d.scan.Err() != nil {
		r.Reset()
		return 0, false
	}
	return d.scan.Offset(), true
}

// endRun puts the run of members being read from data, if any, into r's
// fields.
func (d *docReader) endRun(r *record.Builder, data []byte, run *runCursor) {
	if run.end == 0 {
		return
	}
	d.runs = append(d.runs, memberRun{text: data[run.start:run.end]})
	// A pointer boxes without allocating. Should d.runs grow for a later
	// run, this one keeps pointing at the old array, which holds it still.
	r.Fields = append(r.Fields, record.Field{Value: &d.runs[len(d.runs)-1]})
	*run = runCursor{}
}

// isParseJSONInto reports whether parse is ParseJSONInto itself, by its
// code pointer (functions do not compare in Go), so that NewInto can let
// Transform read JSON documents in one pass.
func isParseJSONInto(parse ParserInto) bool {
	return reflect.ValueOf(parse).Pointer() == reflect.ValueOf(ParseJSONInto).Pointer()
}

// keep is how jsonValue takes a value (see verbatim.go).
type keep uint8

const (
	keepValue keep = iota // as ParseJSON takes it: a stage reads it
	keepText              // as its text where that is what the writer writes
	keepRun               // likewise, but left to the caller to add to a run
)

// jsonValue reads the member value that comes next as a record value,
// reporting false on a syntax error (which the scanner keeps). data is
// the text the scanner reads. With keepRun, a value whose text is what
// the writer writes for it is not made into a value: jsonValue reports it
// in a run instead. lasting tells that data outlives the record's values
// (a pass reads its records' documents so: see docReader), which may
// then be slices of it rather than copies.
func jsonValue(r *record.Builder, s *jsonscan.Scanner, buf *[]byte, data []byte, use keep, lasting bool) (v any, inRun, ok bool) {
	start := s.Offset() // memberKey moved past the white space
	switch s.Peek() {
	case jsonscan.String:
		v, ascii, err := s.StringASCII(buf)
		if err != nil {
			return nil, false, false
		}
		if use == keepValue || !ascii && !verbatimString(data[start:s.Offset()], v) {
			if ascii && lasting {
				// v is the string's text in data, as it is.
				return r.Box(stringOf(v)), false, true
			}
			return r.Box(r.Text(v)), false, true
		}
	case jsonscan.Bool:
		v, err := s.Bool()
		return v, use == keepRun, err == nil
	case jsonscan.Null:
		if !s.Null() {
			_ = s.Skip() // "nul", say: Skip fails saying why
			return nil, false, false
		}
		return nil, use == keepRun, true
	case jsonscan.Number:
		v, err := s.Number()
		if err != nil {
			return nil, false, false
		}
		if use == keepValue || string(v) == "-0" {
			return numberValue(r, v), false, true
		}
	default: // an object or an array, kept as its text; Raw checks it
		v, err := s.Raw()
		if err != nil {
			return nil, false, false
		}
		if use != keepRun || hasSpace(v) {
			return r.BoxJSON(v), false, true
		}
	}
	// The value's text is what the writer writes for it.
	if use == keepRun {
		return nil, true, true
	}
	return r.BoxJSON(data[start:s.Offset()]), false, true
}

// numberValue is the record value of a JSON number's text: an int64 when
// it is an integer within its range, else the text.
func numberValue(r *record.Builder, v []byte) any {
	for _, c := range v {
		if c == '.' || c == 'e' || c == 'E' {
			return r.BoxJSON(v)
		}
	}
	// The string conversion stays on the stack: ParseInt does not keep it.
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return r.BoxInt(n)
	}
	return r.BoxJSON(v) // beyond int64: keep every digit
}

// invalidJSON describes why line is not JSON as encoding/json words it,
// which is what the error has always said (a rare path: only bad lines
// pay for it).
func invalidJSON(line []byte) error {
	var raw json.RawMessage
	err := json.Unmarshal(line, &raw)
	return fmt.Errorf("%w: %v", ErrInvalidJSON, err)
}

// valueEnd returns the index just past the JSON value starting at b[i]:
// a string, an object or array (matched by depth, skipping strings), or a
// literal or number (up to the next delimiter). For input that is not
// well-formed it stops at len(b) at the latest.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		// Most of a document is string text: pass over it eight bytes
		// at a time.
		for i+8 <= len(b) && !quoteOrBackslash(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i == len(b) {
			break
		}
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// quoteOrBackslash reports whether any of the 8 bytes packed in x is a
// quote or a backslash. (A byte equal to c makes x^(c*lsb) hold a zero
// byte, whose top bit the subtraction sets; it can also flag bytes above a
// true one, which does not change the answer.)
func quoteOrBackslash(x uint64) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return ((q-lsb)&^q|(b-lsb)&^b)&msb != 0
}
