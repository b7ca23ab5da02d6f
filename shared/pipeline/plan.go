package pipeline

import (
	"slices"
	"strings"
	"unsafe"

	"lakestream/shared/record"
)

// Planned lookups.
//
// A parser writes the same fields in the same order line after line, under
// the very same names (its constants; with ParseJSONInto, the names of the
// stream's key shape), so the fields prepare's stages name (DROP_IF's,
// ARRIVAL_TIME_FIELD, MASK_FIELDS', SCHEMA's, TIME_FIELD, field partition
// keys) are where they were in the line before. A linePlan holds where
// they are in the records of one list of names: once a line's names are
// found to be the plan's, by the strings' memory, every stage reads its
// field at its place. Looked up by name, each compared names byte by byte
// (a name from the configuration is other memory than the parser's, so
// even a hit compared bytes), and a field a line lacks (the arrival time
// before it is added, a SCHEMA field the parser never writes) cost a scan
// of every name, line after line: a tenth of a syslog line's time.
//
// A plan describes the record as it is before the stages run (for
// DROP_IF's lookups) and once the arrival time is added (for the others);
// a field MASK_FIELDS drops moves the fields after it, which lookup
// accounts for. Every place is what a lookup by name would find in the
// record as it is then: the first field of the name, a top-level field
// named like a dotted path before the path.

// slot is where a lookup finds its field in the records of a plan: the
// top-level field at place i (-1: none), or, for a dotted path that no
// top-level field is named like (slotNested), the field its first segment
// names (-1: none), in which the rest of the path is looked up by name.
type slot struct {
	i    int32
	kind slotKind
}

type slotKind uint8

// notTop is the place (linePlan.places) of a field a lookup finds
// otherwise than at a top-level place.
const notTop = -2

const (
	slotTop    slotKind = iota
	slotNested          // see slot
	slotByName          // a lookup not numbered (fieldPath.site 0)
)

// linePlan is where prepare's stages find their fields in records of one
// shape: one list of field names.
type linePlan struct {
	// shape holds the names of the records planned for, as fields with
	// no value: the records' own strings, or copies of those held by the
	// arena of the record parsed into, which the next lines' values are
	// written over (see record.Builder's Rewind): such a name is
	// compared byte for byte.
	shape []record.Field
	// declared is the record.Shape the parser declared on the records
	// planned for (nil for none): a record that declares it has the
	// plan's names without comparing them (see fit).
	declared *record.Shape
	// layout is the names, with the arrival time's when it is appended.
	layout []string
	// slots[site] is where the lookup numbered site (fieldPath.site)
	// finds its field; places[site] the same for a top-level field (a
	// place, -1 for none), notTop for any other.
	slots  []slot
	places []int32
	// arrival is the place of ARRIVAL_TIME_FIELD, len(shape) when it is
	// appended.
	arrival int
	// valid is unset when a name a stage looks up is held by two fields,
	// which a dropped field would leave to be found in another place:
	// such records are looked up by name.
	valid bool
}

// numberSites numbers the lookups of prepare's stages (fieldPath.site),
// DROP_IF's first: they are planned in the record before the arrival time
// is added.
func (s *stages) numberSites() {
	n := 0
	s.lookups(func(p *fieldPath) {
		n++
		p.site = n
	})
	s.sites, s.filterSites = n, 0
	for _, all := range s.filter {
		s.filterSites += len(all)
	}
}

// lookups calls f with the path of every field prepare's stages look up,
// in the order they look: DROP_IF's conditions, MASK_FIELDS, SCHEMA,
// TIME_FIELD and the field partition keys.
func (s *stages) lookups(f func(*fieldPath)) {
	for _, all := range s.filter {
		for i := range all {
			f(&all[i].path)
		}
	}
	for i := range s.masks {
		f(&s.masks[i].path)
	}
	for i := range s.schema {
		f(&s.schema[i].path)
	}
	if s.timeField != nil {
		f(s.timeField)
	}
	for i := range s.partition {
		if s.partition[i].part == partField {
			f(&s.partition[i].field)
		}
	}
}

// plans reports whether prepare follows plans: when some stage looks a
// field up, and the fields are the parser's alone (PARSE_MESSAGE's come
// and go with each message).
func (s *stages) plans() bool {
	return (s.sites > 0 || s.arrivalField != "") && s.parseMessage == nil
}

// fit returns the plan for the fields of b, made anew when their names
// are not the plan's; nil when the records are to be looked up by name.
func (pl *linePlan) fit(s *stages, b *record.Builder) *linePlan {
	// A parser's declared shape (record.Builder's SetShape) names the
	// fields for it: the one planned for has the plan's names.
	if sh := b.Shape(); sh == nil || sh != pl.declared || len(b.Fields) != len(pl.shape) {
		if !pl.same(b) {
			pl.make(s, b)
		}
		pl.declared = sh
	}
	if pl.valid {
		return pl
	}
	return nil
}

// same reports whether the fields of b have the plan's names: the very
// strings, as a parser writes them, or equal ones, which are taken as the
// plan's from then on unless b's arena holds them.
func (pl *linePlan) same(b *record.Builder) bool {
	fields := b.Fields
	if len(fields) != len(pl.shape) || pl.shape == nil {
		return false
	}
	// The names are compared as fields, where both have them at the same
	// offsets, two at a time, their words told apart by xor: half the
	// instructions of comparing names by index.
	shape := pl.shape[:len(fields)]
	i := 0
	for ; i+1 < len(fields); i += 2 {
		if differ(&fields[i].Name, &shape[i].Name)|differ(&fields[i+1].Name, &shape[i+1].Name) != 0 {
			break
		}
	}
	for ; i < len(fields); i++ {
		if differ(&fields[i].Name, &shape[i].Name) != 0 {
			break
		}
	}
	if i == len(fields) {
		return true
	}
	for k := i; k < len(fields); k++ {
		if fields[k].Name != shape[k].Name {
			return false
		}
	}
	for ; i < len(fields); i++ {
		if name := fields[i].Name; !b.Holds(name) {
			shape[i].Name = name
		}
	}
	return true
}

// differ is zero when a and b are the very same string: the same memory
// and length.
func differ(a, b *string) uintptr {
	x, y := (*[2]uintptr)(unsafe.Pointer(a)), (*[2]uintptr)(unsafe.Pointer(b))
	return (x[0] ^ y[0]) | (x[1] ^ y[1])
}

// make plans for the fields of b.
func (pl *linePlan) make(s *stages, b *record.Builder) {
	pl.shape, pl.layout = pl.shape[:0], pl.layout[:0]
	for _, f := range b.Fields {
		name := f.Name
		if b.Holds(name) {
			name = strings.Clone(name)
		}
		pl.shape = append(pl.shape, record.Field{Name: name})
		pl.layout = append(pl.layout, name)
	}
	if pl.shape == nil {
		pl.shape = []record.Field{} // planned: no fields
	}
	names := pl.layout[:len(pl.shape)]
	pl.arrival = -1
	if s.arrivalField != "" {
		if pl.arrival = slices.Index(names, s.arrivalField); pl.arrival < 0 {
			pl.arrival = len(names)
			pl.layout = append(pl.layout, s.arrivalField)
		}
	}
	pl.slots = slices.Grow(pl.slots[:0], s.sites+1)[:s.sites+1]
	pl.slots[0] = slot{kind: slotByName}
	pl.valid = true
	place := func(p *fieldPath) {
		in := pl.layout
		if p.site <= s.filterSites {
			in = names
		}
		sl := slot{i: int32(slices.Index(in, p.name))}
		if sl.i < 0 && p.segs != nil {
			sl = slot{i: int32(slices.Index(in, p.segs[0])), kind: slotNested}
		}
		if sl.i >= 0 && slices.Contains(in[sl.i+1:], in[sl.i]) {
			pl.valid = false
		}
		pl.slots[p.site] = sl
	}
	s.lookups(place)
	pl.places = pl.places[:0]
	for _, sl := range pl.slots {
		at := sl.i
		if sl.kind != slotTop {
			at = notTop
		}
		pl.places = append(pl.places, at)
	}
}

// lookup finds the fields prepare's stages name in the record they work
// on: where plan has them, or by name when there is no plan.
type lookup struct {
	rec  *record.Record
	plan *linePlan
	// at is plan's places while every field is at its place: until a
	// field is dropped.
	at []int32
	// dropped holds the places, in the plan's layout, of the fields
	// MASK_FIELDS dropped so far, which moved the fields after them.
	dropped []int
}

// locate is p.locate on the record.
func (l *lookup) locate(p *fieldPath) (*record.Record, int) {
	if l.plan == nil {
		return p.locate(l.rec)
	}
	switch sl := l.plan.slots[p.site]; sl.kind {
	case slotTop:
		return l.rec, l.place(int(sl.i))
	case slotNested:
		return p.locateFrom(l.rec, l.place(int(sl.i)))
	}
	return p.locate(l.rec)
}

// get is p.get on the record.
func (l *lookup) get(p *fieldPath) any {
	if v, ok := l.placed(p); ok {
		return v
	}
	return l.find(p)
}

// placed is get for a field at its place, as every field is but for a
// dotted path's and those after a dropped field, reporting false for any
// other: small enough to be inlined, where get is not.
func (l *lookup) placed(p *fieldPath) (any, bool) {
	if p.site < len(l.at) {
		if i := l.at[p.site]; i >= 0 {
			return l.rec.Fields[i].Value, true
		} else if i == -1 {
			return nil, true
		}
	}
	return nil, false
}

// top is locate for a top-level field at its place, reporting false for
// any other (see placed): inlined.
func (l *lookup) top(p *fieldPath) (int, bool) {
	if p.site < len(l.at) {
		if i := l.at[p.site]; i != notTop {
			return int(i), true
		}
	}
	return 0, false
}

// find is get for any field.
func (l *lookup) find(p *fieldPath) any {
	if l.plan == nil {
		return p.get(l.rec)
	}
	at, i := l.locate(p)
	if i < 0 {
		return nil
	}
	return at.Fields[i].Value
}

// place returns where the field at place i of the plan's layout is now,
// -1 when it was dropped (or i is).
func (l *lookup) place(i int) int {
	at := i
	for _, d := range l.dropped {
		if d == i {
			return -1
		}
		if d < i {
			at--
		}
	}
	return at
}

// set sets the field name (ARRIVAL_TIME_FIELD) as record.Record's Set.
func (l *lookup) set(name string, v any) {
	if l.plan == nil {
		l.rec.Set(name, v)
		return
	}
	if i := l.plan.arrival; i < len(l.rec.Fields) {
		l.rec.Fields[i].Value = v
		return
	}
	l.rec.Fields = append(l.rec.Fields, record.Field{Name: name, Value: v})
}

// delete removes field i of at, where locate(p) found it.
func (l *lookup) delete(p *fieldPath, at *record.Record, i int) {
	if l.plan != nil && l.plan.slots[p.site].kind == slotTop {
		// The first field of its name (make made sure): record.Record's
		// Delete, without looking for it again.
		l.dropped = append(l.dropped, int(l.plan.slots[p.site].i))
		l.at = nil
		at.Fields = append(at.Fields[:i], at.Fields[i+1:]...)
		return
	}
	at.Delete(at.Fields[i].Name)
}
