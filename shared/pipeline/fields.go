package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"lakestream/shared/record"
)

// acceptsFields is what FIELDS accepts, quoted in its error messages.
const acceptsFields = `comma-separated fields to write, in order: name, new=old (old may be a dotted path), and * for every field not named`

// fieldSelect is the FIELDS stage: which fields a written record has, in
// which order, under which names. It runs last, as the record is written,
// so every other variable names the parser's fields.
type fieldSelect struct {
	items []selectItem
	// taken holds the names * leaves out: every item's source and written
	// name, so that an item always wins over a field of the rest.
	taken []string
}

// selectItem is one FIELDS item: the field src written as out, or, for *,
// every top-level field no item names.
type selectItem struct {
	out  string
	src  fieldPath
	rest bool
}

// parseFieldSelect parses FIELDS; an empty spec selects nothing (the stage is
// off).
func parseFieldSelect(spec string) (*fieldSelect, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	f := &fieldSelect{}
	var outs []string
	rest := false
	for item := range specItems(spec, ",") {
		if item == "*" {
			if rest {
				return nil, errors.New("* given twice")
			}
			rest = true
			f.items = append(f.items, selectItem{rest: true})
			continue
		}
		out, src, renamed := strings.Cut(item, "=")
		out, src = strings.TrimSpace(out), strings.TrimSpace(src)
		if !renamed {
			src = out
		}
		switch {
		case out == "":
			return nil, itemError(item, errors.New("no field name"))
		case strings.Contains(out, "."):
			// Athena and Glue cannot name such a column without quoting,
			// and a dotted name reads as a path everywhere else.
			return nil, itemError(item, fmt.Errorf("the written name %q must not hold a dot: write new=%s", out, out))
		case slices.Contains(outs, out):
			return nil, itemError(item, fmt.Errorf("field %q is written twice", out))
		}
		p, err := newFieldPath(src)
		if err != nil {
			return nil, itemError(item, err)
		}
		outs = append(outs, out)
		// A nested source ("user.id") leaves its top-level field to *.
		f.items = append(f.items, selectItem{out: out, src: p})
		f.taken = append(f.taken, p.name, out)
	}
	if len(f.items) == 0 {
		return nil, errors.New("no fields")
	}
	return f, nil
}

// apply fills dst with src's selected fields; dst's fields are reused.
// Values are shared with src, which is not changed.
func (f *fieldSelect) apply(dst, src *record.Record) {
	dst.Fields = dst.Fields[:0]
	for j := range f.items {
		it := &f.items[j]
		if it.rest {
			for _, fl := range src.Fields {
				if !slices.Contains(f.taken, fl.Name) {
					dst.Fields = append(dst.Fields, fl)
				}
			}
			continue
		}
		at, i := it.src.locate(src)
		if i < 0 {
			continue // absent: null in a table, left out as every stage leaves it
		}
		dst.Fields = append(dst.Fields, record.Field{Name: it.out, Value: at.Fields[i].Value})
	}
}

// columns returns the names FIELDS writes, in order, with * standing for
// the given columns not named (the parser's own, for a default
// OUTPUT_COLUMNS); false when there is a * and no columns to stand for.
func (f *fieldSelect) columns(all []string) ([]string, bool) {
	var out []string
	for _, it := range f.items {
		if !it.rest {
			out = append(out, it.out)
			continue
		}
		if len(all) == 0 {
			return nil, false
		}
		for _, c := range all {
			if !slices.Contains(f.taken, c) {
				out = append(out, c)
			}
		}
	}
	return out, true
}

// defaultFieldsColumns is the OUTPUT_COLUMNS FIELDS implies for csv and
// tsv: the names it writes, * standing for the transformer's default
// columns it does not name. "" when FIELDS is invalid (compile says why) or
// holds a * with no default columns to stand for (OUTPUT_COLUMNS is then
// required).
func defaultFieldsColumns(spec, defaultColumns string) string {
	f, err := parseFieldSelect(spec)
	if err != nil || f == nil {
		return ""
	}
	var all []string
	for c := range specItems(defaultColumns, ",") {
		all = append(all, c)
	}
	cols, ok := f.columns(all)
	if !ok {
		return ""
	}
	return strings.Join(cols, ",")
}
