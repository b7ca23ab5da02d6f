package record

import (
	"encoding/json"
	"time"
	"unsafe"
)

// Builder is a Record that a parser fills line after line (Reset, then the
// parser's ParseInto), with the arena the values of its fields come from:
// a few large blocks carved in order, so that the dozens of values of a log
// line cost no allocation each. The arena never hands out the same memory
// twice: a full block is left to the garbage collector, never reused, and
// a string or boxed value is never written again once handed out, so it
// stays valid and unchanged for as long as anything refers to it, exactly
// like one allocated on its own. (An arena that rewound at Reset would be
// faster still, and would change the values of a record kept from an
// earlier line.)
//
// The arena is kept beside the Record rather than in it, so that records
// stay plain values that compare equal when their fields do.
type Builder struct {
	Record
	arena arena
	// hintText and hintTime are HintTime's, until Reset.
	hintText string
	hintTime time.Time
	// shape is SetShape's, until Reset.
	shape *Shape
}

// Shape is a list of field names, in order, that a parser declares on the
// Builder it fills (SetShape) once it has written a line's fields under
// them: a reader that plans its work by the names of a record (the shared
// pipeline) then tells a line of the shape it planned for by one
// comparison of Shapes, where comparing two dozen names took a sixtieth
// of a CloudFront line. A parser makes each of its shapes once.
type Shape struct {
	names []string
}

// NewShape returns the shape of fields named names, in this order. names
// is not copied, and must not change.
func NewShape(names ...string) *Shape { return &Shape{names: names} }

// Names returns the names of s, which the caller must not change.
func (s *Shape) Names() []string { return s.names }

// NewBuilder returns an empty Builder with room for n fields.
func NewBuilder(n int) *Builder { return &Builder{Record: Record{Fields: make([]Field, 0, n)}} }

type arena struct {
	text  []byte   // free room for string bytes
	boxes []string // free room for boxed strings
	ints  []int64  // free room for boxed integers
	reals []float64
	raws  []json.RawMessage
	// records and fields hold the nested records of NewRecord.
	records []Record
	fields  []Field
	// The blocks taken so far size the next: a record built once takes
	// little, one reused line after line soon takes blocks that serve
	// hundreds of lines.
	textBlocks, boxBlocks, intBlocks, realBlocks, rawBlocks, recordBlocks uint8
}

// Block sizes: the first block, and the largest, of text (bytes) and of
// boxes (strings).
const (
	firstText = 512
	maxText   = 32 << 10
	firstBox  = 16
	maxBox    = 512
)

// Reset empties r for the next line: its fields are dropped, their room
// and the arena kept for the values of the next. Values taken from r
// before stay valid (see Text).
func (r *Builder) Reset() {
	clear(r.Fields) // nothing of the last line is kept alive through r
	r.Fields = r.Fields[:0]
	r.hintText = ""
	r.shape = nil
}

// SetShape declares that r's fields are, in number and in order, named
// as s's names (a parser writes the very strings), until Reset or the
// next SetShape; nil declares nothing. It describes the fields as the
// parser leaves them: a reader looks at it before changing the fields (a
// stage that adds, drops or renames a field leaves it stale until Reset),
// as the shared pipeline does when it plans a line.
func (r *Builder) SetShape(s *Shape) { r.shape = s }

// Shape returns the shape SetShape declared since the last Reset, or nil.
func (r *Builder) Shape() *Shape { return r.shape }

// HintTime tells whoever reads the record that the string text, a value
// of one of its fields, is the RFC 3339 form of t (in UTC, as a parser
// writes its event time), so that the text need not be parsed back: a
// parser that has the time in hand when it writes its text hands it over
// this way. The hint holds until Reset, and only for that very string
// (the same memory): a stage that replaces the field's value loses it.
func (r *Builder) HintTime(text string, t time.Time) {
	r.hintText, r.hintTime = text, t
}

// HintedTime returns the time HintTime gave for text, when text is the
// very string hinted (the same memory and length) since the last Reset.
func (r *Builder) HintedTime(text string) (time.Time, bool) {
	if len(text) == 0 || len(text) != len(r.hintText) || unsafe.StringData(text) != unsafe.StringData(r.hintText) {
		return time.Time{}, false
	}
	return r.hintTime, true
}

// Rewind is Reset that also takes the arena's memory back, for a caller
// done with every value taken from r so far (Text, Box, NewRecord...): the
// values of the next line are written over them, so any still referred
// to would change. A caller that fills r line after line and is done with
// each line before it parses the next (the shared pipeline) rewinds r
// between lines: the arena then serves every line from the same memory,
// warm in the cache, instead of a megabyte of new blocks an invocation
// that the garbage collector scans and frees (and, while it runs, makes
// every pointer write pay its barrier): a tenth of an access-log
// invocation. Whatever kept a value across lines (a cache keyed by a
// string) must hold a copy of it.
//
// Unlike Reset, Rewind leaves the old fields in r's room rather than
// clearing them (a hundred instructions a CloudFront line): the next
// line's fields are written over them, and what most of them refer to
// is the arena's memory, which r keeps anyway. A value the arena did not
// hold (one too large for a block) stays alive until then.
func (r *Builder) Rewind() {
	r.Fields = r.Fields[:0]
	r.hintText = ""
	r.shape = nil
	// The current block of each kind is taken from its start again: a
	// line that outgrew a block took a larger one, so the current block
	// is the largest and, once the first lines are in, holds a line.
	a := &r.arena
	a.text = a.text[:0]
	a.boxes = a.boxes[:0]
	a.ints = a.ints[:0]
	a.reals = a.reals[:0]
	a.raws = a.raws[:0]
	a.records = a.records[:0]
	a.fields = a.fields[:0]
}

// Holds reports whether s is in memory that Rewind gives back, where the
// values of the lines after it are written: a cache that keeps strings
// across lines keeps a copy of such a string, and only of such a one
// (a parser's constant names, say, are kept as they are).
func (r *Builder) Holds(s string) bool {
	text := r.arena.text
	if len(s) == 0 || cap(text) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	start := uintptr(unsafe.Pointer(unsafe.SliceData(text)))
	return p >= start && p-start < uintptr(cap(text))
}

// Line returns line as a string without copying it, for a parser whose
// record's strings are slices of the line itself: a pipeline.ParserInto,
// whose caller leaves the line as it is until it is done with the record
// and copies any value it keeps past that (see Holds). Copying each line
// into the arena (Text) first cost moving all its bytes once more. The
// string changes when line does, and the arena does not hold it.
func Line(line []byte) string { return unsafe.String(unsafe.SliceData(line), len(line)) }

// Text returns b as a string held by r's arena: the same as string(b), but
// once the arena has room, without an allocation. A parser copies its line
// (and what it derives from it) with Text and slices its values from the
// copy. The string stays valid and unchanged after r is Reset or dropped.
func (r *Builder) Text(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	a := &r.arena
	if len(b) > cap(a.text)-len(a.text) {
		size := blockSize(firstText, maxText, a.textBlocks)
		if len(b) > size/4 {
			return string(b) // a value this large pays for its own allocation
		}
		a.text = make([]byte, 0, size)
		a.textBlocks++
	}
	start := len(a.text)
	a.text = append(a.text, b...)
	// The bytes from start on are never written again (see arena), which
	// is all unsafe.String asks; strings.Builder relies on the same.
	return unsafe.String(&a.text[start], len(b))
}

// Room returns an empty buffer with room for n bytes, for a value
// derived from a line (decoded, unescaped) that a parser writes in place
// rather than into a buffer of its own that Text would copy: the parser
// appends at most n bytes and passes the result to Keep, before taking
// anything else from r.
func (r *Builder) Room(n int) []byte {
	a := &r.arena
	if n > cap(a.text)-len(a.text) {
		size := blockSize(firstText, maxText, a.textBlocks)
		if n > size/4 {
			return make([]byte, 0, n) // a value this large pays for its own allocation
		}
		a.text = make([]byte, 0, size)
		a.textBlocks++
	}
	return a.text[len(a.text):len(a.text):cap(a.text)][:0:n]
}

// Keep returns b, the buffer Room returned with bytes appended within its
// room, as a string held by r's arena: what Text(b) would return, without
// the copy. b is never written again.
func (r *Builder) Keep(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	a := &r.arena
	if free := a.text[len(a.text):cap(a.text)]; len(free) > 0 && unsafe.SliceData(b) == unsafe.SliceData(free) && len(b) <= len(free) {
		a.text = a.text[:len(a.text)+len(b)]
	}
	// Else b is Room's own allocation, which nothing else refers to.
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Box returns s as a field value (s in an interface) without allocating:
// storing a string in an interface otherwise allocates a 16-byte box for
// its header on every call, for every string field of every line, which
// cost an access-log line about a tenth of its time. The box is a slot
// of a block in r's arena, never written again once filled, which makes
// the interface value exactly what any(s) would have made: the same
// dynamic type, the same string, unchanged for its lifetime.
func (r *Builder) Box(s string) any {
	if s == "" {
		return "" // the runtime boxes "" without allocating
	}
	a := &r.arena
	if len(a.boxes) == cap(a.boxes) {
		a.boxes = make([]string, 0, blockSize(firstBox, maxBox, a.boxBlocks))
		a.boxBlocks++
	}
	a.boxes = append(a.boxes, s)
	return boxed(&a.boxes[len(a.boxes)-1])
}

// Boxes returns room in r's arena for the values of one line, strings
// string values and ints int64 ones, for a parser that boxes them one
// after the other with the Boxes' String and Int: one check for room a
// line rather than one a value, and boxing small enough for the compiler
// to inline, where a call to Box cost as much as the boxing (a CloudFront
// line boxes two dozen strings).
func (r *Builder) Boxes(strings, ints int) Boxes {
	a := &r.arena
	if strings > cap(a.boxes)-len(a.boxes) {
		a.boxes = make([]string, 0, max(strings, blockSize(firstBox, maxBox, a.boxBlocks)))
		a.boxBlocks++
	}
	if ints > cap(a.ints)-len(a.ints) {
		a.ints = make([]int64, 0, max(ints, blockSize(firstBox, maxBox, a.intBlocks)))
		a.intBlocks++
	}
	s, i := len(a.boxes), len(a.ints)
	a.boxes, a.ints = a.boxes[:s+strings], a.ints[:i+ints]
	return Boxes{strings: a.boxes[s : s : s+strings], ints: a.ints[i : i : i+ints]}
}

// Boxes is room for a fixed number of values in a Builder's arena
// (Builder.Boxes).
type Boxes struct {
	strings []string
	ints    []int64
}

// String is Builder.Box taking the next of b's string slots, which must
// have one left (it panics otherwise). Every slot is filled once and never
// written again, as Builder.Box's are.
func (b *Boxes) String(s string) any {
	k := len(b.strings)
	b.strings = b.strings[:k+1]
	b.strings[k] = s
	return boxed(&b.strings[k])
}

// Int is Builder.BoxInt taking the next of b's int slots, as String does.
func (b *Boxes) Int(n int64) any {
	k := len(b.ints)
	b.ints = b.ints[:k+1]
	b.ints[k] = n
	return boxedAs(int64Type, unsafe.Pointer(&b.ints[k]))
}

// BoxInt is Box for an int64 (which the runtime boxes without allocating
// only below 256).
func (r *Builder) BoxInt(n int64) any {
	if 0 <= n && n < 256 {
		return n
	}
	a := &r.arena
	if len(a.ints) == cap(a.ints) {
		a.ints = make([]int64, 0, blockSize(firstBox, maxBox, a.intBlocks))
		a.intBlocks++
	}
	a.ints = append(a.ints, n)
	return boxedAs(int64Type, unsafe.Pointer(&a.ints[len(a.ints)-1]))
}

// BoxFloat is Box for a float64.
func (r *Builder) BoxFloat(f float64) any {
	a := &r.arena
	if len(a.reals) == cap(a.reals) {
		a.reals = make([]float64, 0, blockSize(firstBox, maxBox, a.realBlocks))
		a.realBlocks++
	}
	a.reals = append(a.reals, f)
	return boxedAs(float64Type, unsafe.Pointer(&a.reals[len(a.reals)-1]))
}

// BoxJSON is Box for a JSON value kept as its text (a json.RawMessage). v
// is not copied.
func (r *Builder) BoxJSON(v []byte) any {
	a := &r.arena
	if len(a.raws) == cap(a.raws) {
		a.raws = make([]json.RawMessage, 0, blockSize(firstBox, maxBox, a.rawBlocks))
		a.rawBlocks++
	}
	a.raws = append(a.raws, v)
	return boxedAs(rawType, unsafe.Pointer(&a.raws[len(a.raws)-1]))
}

// NewRecord returns an empty record with room for n fields, taken from the
// arena: for the nested records of a line (an object in a field), which
// then cost no allocation either. Appending more than n fields moves the
// record's fields out of the arena, as append does.
func (r *Builder) NewRecord(n int) *Record {
	a := &r.arena
	if len(a.records) == cap(a.records) || n > cap(a.fields)-len(a.fields) {
		size := blockSize(firstBox, maxBox, a.recordBlocks)
		if n > size/4 {
			return New(n)
		}
		a.recordBlocks++
		if len(a.records) == cap(a.records) {
			a.records = make([]Record, 0, size/4)
		}
		if n > cap(a.fields)-len(a.fields) {
			a.fields = make([]Field, 0, size)
		}
	}
	start := len(a.fields)
	a.fields = a.fields[:start+n]
	a.records = append(a.records, Record{Fields: a.fields[start : start : start+n]})
	return &a.records[len(a.records)-1]
}

// eface is the layout of an interface value with no methods, as the
// runtime and reflect define it: the dynamic type, and a pointer to the
// value for every type that is not a pointer itself.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// The runtime's type words for the types Builder boxes.
var (
	stringType  = typeOf("")
	int64Type   = typeOf(int64(0))
	float64Type = typeOf(float64(0))
	rawType     = typeOf(json.RawMessage(nil))
)

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

// boxed makes the interface value holding the string *p, with p as its
// data pointer. *p must never be written again.
func boxed(p *string) any { return boxedAs(stringType, unsafe.Pointer(p)) }

// boxedAs makes the interface value of type typ whose value is at data,
// which must never be written again.
func boxedAs(typ, data unsafe.Pointer) any {
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, data
	return v
}

// blockSize doubles from first with each block taken, up to max.
func blockSize(first, max int, taken uint8) int {
	return min(first<<min(taken, 16), max)
}
