package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"lakestream/shared/record"
)

// fieldPath names a field, possibly nested: "user.id" is the field "id" of
// the object in the top-level field "user".
type fieldPath struct {
	name string   // as configured
	segs []string // name split on dots; nil when it has none
	// at remembers where each lookup last found its field: at[0] the
	// whole name, at[1+k] segment k. A parser writes its fields in the
	// same places line after line, so looking there first spares a scan of
	// the names, for each of the ten or so lookups of a line's stages. It
	// is shared by copies of the path and by concurrent passes, hence
	// atomic; a wrong guess only costs the scan.
	at []atomic.Int32
	// site numbers the lookup among those prepare's stages make (see
	// linePlan), from 1; 0 for a path looked up by name only.
	site int
}

func newFieldPath(name string) (fieldPath, error) {
	if name == "" {
		return fieldPath{}, errors.New("empty field name")
	}
	p := fieldPath{name: name}
	if strings.Contains(name, ".") {
		p.segs = strings.Split(name, ".")
		for _, s := range p.segs {
			if s == "" {
				return fieldPath{}, fmt.Errorf("field %q has an empty path segment", name)
			}
		}
	}
	p.at = make([]atomic.Int32, 1+len(p.segs))
	return p, nil
}

// first is the top-level field the path starts with: its first segment,
// or the whole name.
func (p *fieldPath) first() string {
	if p.segs != nil {
		return p.segs[0]
	}
	return p.name
}

// locate returns the record holding the field and its index there, or
// (nil, -1) when the field is absent. A top-level field named exactly like
// the path wins, so flat logs with dotted names keep working. A nested
// object still held as JSON text (as ParseJSON leaves it) is parsed into a
// *record.Record in place, once, only when a path goes through it; it is
// written back as the same JSON.
func (p *fieldPath) locate(r *record.Record) (*record.Record, int) {
	if i := p.index(r, p.name, 0); i >= 0 || p.segs == nil {
		return r, i
	}
	return p.locateFrom(r, p.index(r, p.segs[0], 1))
}

// locateFrom is locate for a dotted path that no top-level field of r is
// named like, whose first segment is r's field i (-1: absent).
func (p *fieldPath) locateFrom(r *record.Record, i int) (*record.Record, int) {
	cur := r
	for k := 0; i >= 0; k++ {
		if k == len(p.segs)-1 {
			return cur, i
		}
		switch v := cur.Fields[i].Value.(type) {
		case *record.Record:
			cur = v
		case json.RawMessage:
			nested, err := ParseJSON(v)
			if err != nil {
				return nil, -1 // an array or a scalar: no fields to go into
			}
			cur.Fields[i].Value = nested
			cur = nested
		default:
			return nil, -1
		}
		i = p.index(cur, p.segs[k+1], 2+k)
	}
	return nil, -1
}

// get returns the field's value; absent fields and nulls are both nil,
// which every stage treats alike.
func (p *fieldPath) get(r *record.Record) any {
	// The cached place, checked here where it is inlined: most lookups
	// end here, and a call to locate costs more than the comparison.
	if r != nil && len(p.at) > 0 {
		if h := int(p.at[0].Load()); h < len(r.Fields) && r.Fields[h].Name == p.name {
			return r.Fields[h].Value
		}
	}
	at, i := p.locate(r)
	if i < 0 {
		return nil
	}
	return at.Fields[i].Value
}

// index is fieldIndex, looking first where lookup k found name last.
func (p *fieldPath) index(r *record.Record, name string, k int) int {
	if r == nil || k >= len(p.at) {
		return fieldIndex(r, name)
	}
	if h := int(p.at[k].Load()); h < len(r.Fields) && r.Fields[h].Name == name {
		return h
	}
	i := fieldIndex(r, name)
	if i >= 0 {
		p.at[k].Store(int32(i))
	}
	return i
}

func fieldIndex(r *record.Record, name string) int {
	if r == nil {
		return -1
	}
	for i := range r.Fields {
		if r.Fields[i].Name == name {
			return i
		}
	}
	return -1
}

// appendText appends a value's text: strings as they are, everything else
// as its JSON, null as nothing. It is the one rendering that filters,
// hashes, partition values and CSV/TSV columns share, so a value compares,
// hashes and partitions the same way in every stage.
func appendText(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return dst, nil
	case string:
		return append(dst, v...), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	default:
		return appendValue(dst, v, 0, nil)
	}
}
