package record

import "unsafe"

// A record that is filled line after line (Reset, then a parser's
// ParseInto) takes the strings and boxed values of its fields from its
// arena: a few large blocks carved in order, so that the dozens of values
// of a log line cost no allocation each. Nothing carved out is ever written
// again: a full block is left to the garbage collector, never reused, so a
// string or value taken from the arena stays valid and unchanged for as
// long as anything refers to it, exactly like one allocated on its own.
// (An arena that rewound at Reset would be faster still, and would change
// the values of a record kept from an earlier line.)
type arena struct {
	text  []byte   // free room for string bytes
	boxes []string // free room for boxed strings
	// The blocks taken so far size the next: a record built once takes
	// little, one reused line after line soon takes blocks that serve
	// hundreds of lines.
	textBlocks, boxBlocks uint8
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
// and the record's arena kept for the values of the next. Values taken
// from r before stay valid (see Text).
func (r *Record) Reset() {
	clear(r.Fields) // nothing of the last line is kept alive through r
	r.Fields = r.Fields[:0]
}

// Text returns b as a string held by r's arena: the same as string(b), but
// once the arena has room, without an allocation. A parser filling a
// reused record copies its line (and what it derives from it) with Text
// and slices its values from the copy. The string stays valid and
// unchanged after r is Reset or dropped.
func (r *Record) Text(b []byte) string {
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

// Box returns s as a field value (s in an interface) without allocating:
// storing a string in an interface otherwise allocates a 16-byte box for
// its header on every call, for every string field of every line, which
// cost an access-log line about a tenth of its time. The box is a slot
// of a block in r's arena, never written again once filled, which makes
// the interface value exactly what any(s) would have made: the same
// dynamic type, the same string, unchanged for its lifetime.
func (r *Record) Box(s string) any {
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

// eface is the layout of an interface value with no methods, as the
// runtime and reflect define it: the dynamic type, and a pointer to the
// value for every type that is not a pointer itself.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// stringType is the runtime's type word for string.
var stringType = func() unsafe.Pointer {
	var v any = ""
	return (*eface)(unsafe.Pointer(&v)).typ
}()

// boxed makes the interface value holding the string *p, with p as its
// data pointer. p must never be written again.
func boxed(p *string) any {
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = stringType, unsafe.Pointer(p)
	return v
}

// blockSize doubles from first with each block taken, up to max.
func blockSize(first, max int, taken uint8) int {
	return min(first<<min(taken, 16), max)
}
