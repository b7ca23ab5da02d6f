package ddbjson

import "iter"

// Attribute is one attribute of an Item a Transcoder has read: what a
// forwarder picking attributes out of an item (a projection) writes one at
// a time, where AppendItem writes them all.
type Attribute struct {
	// Name is the attribute's name, decoded.
	Name []byte
	// Value is the value as plain JSON, exactly as AppendItem writes it
	// (an M value's keys sorted); meaningless when Err is set.
	Value []byte
	// Err is why the value cannot be written, the *AttributeError
	// AppendItem would return for it; nil for nearly every attribute.
	Err error
}

// Attributes yields the attributes of it in the order AppendItem writes
// them: sorted by name bytewise, only the last of a repeated name. The
// slices are the Transcoder's and valid until its next ReadItem or Reset.
// A nil or empty item yields nothing. The loop's body must not call
// Attributes or AppendItem of the same Transcoder, which reuse the order
// the loop is walking.
func (t *Transcoder) Attributes(it *Item) iter.Seq[Attribute] {
	return func(yield func(Attribute) bool) {
		ms := it.members
		for _, i := range t.order(ms) {
			if !yield(t.attribute(&ms[i])) {
				return
			}
		}
	}
}

// Attribute returns the attribute of it named name (the last of that name,
// the one AppendItem writes) and whether it has one.
func (t *Transcoder) Attribute(it *Item, name string) (Attribute, bool) {
	ms := it.members
	for i := len(ms) - 1; i >= 0; i-- {
		m := &ms[i]
		if string(t.name(m)) == name {
			return t.attribute(m), true
		}
	}
	return Attribute{}, false
}

func (t *Transcoder) attribute(m *member) Attribute {
	return Attribute{Name: t.name(m), Value: t.buf[m.val:m.valEnd], Err: m.werr()}
}
