package hivetype

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// DefaultSpec is the rule spec the Glue-catalog fixer runs with unless
// configured otherwise: the one rewrite every Athena table needs.
const DefaultSpec = "set=array"

// ErrInvalidRule is wrapped by every error ParseRules returns.
var ErrInvalidRule = errors.New("hivetype: invalid rule")

// Rules are the rewrites Rewrite applies. The zero value rewrites nothing;
// build Rules with ParseRules, which guarantees that applying them twice
// changes nothing the second time.
type Rules struct {
	setToArray bool
	// primitives maps a lower-case type name to the primitive replacing it.
	primitives map[string]*Type
}

// ParseRules reads a comma-separated list of from=to rewrites, such as
// "set=array,tinyint=smallint,float=double,char=string". "set=array"
// rewrites set<T> as array<T>. Any other from is a primitive type name,
// matched in any case and with any parameters, and to is the primitive that
// replaces it, parameters included ("decimal=decimal(38,10)").
//
// A rule whose target another rule would rewrite again (a=b,b=c) is
// rejected: the Glue-catalog fixer's own UpdateTable triggers a new change
// event, so rules that do not settle in one pass would update a table
// forever.
func ParseRules(spec string) (Rules, error) {
	r := Rules{primitives: map[string]*Type{}}
	empty := true
	for _, item := range splitTopLevel(spec) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		empty = false
		if err := r.add(item); err != nil {
			return Rules{}, err
		}
	}
	if empty {
		return Rules{}, fmt.Errorf("%w: %q has no from=to rules", ErrInvalidRule, spec)
	}
	for _, from := range slices.Sorted(maps.Keys(r.primitives)) {
		to := r.primitives[from]
		if next, ok := r.primitives[strings.ToLower(to.Name)]; ok && !samePrimitive(to, next) {
			return Rules{}, fmt.Errorf("%w: %s=%s would be rewritten again to %s; map %s to %s directly",
				ErrInvalidRule, from, to, next, from, next)
		}
	}
	return r, nil
}

func (r *Rules) add(item string) error {
	from, to, ok := strings.Cut(item, "=")
	from, to = strings.ToLower(strings.TrimSpace(from)), strings.TrimSpace(to)
	if !ok || from == "" || to == "" {
		return fmt.Errorf("%w: %q is not from=to", ErrInvalidRule, item)
	}
	switch from {
	case "set":
		if !strings.EqualFold(to, "array") {
			return fmt.Errorf("%w: %q: set can only become array", ErrInvalidRule, item)
		}
		r.setToArray = true
		return nil
	case "array", "map", "struct", "uniontype":
		return fmt.Errorf("%w: %q: %s is valid in Athena and is not rewritten", ErrInvalidRule, item, from)
	}
	if p := (&parser{in: from}); p.word() != from {
		return fmt.Errorf("%w: %q: %q is not a type name", ErrInvalidRule, item, from)
	}
	target, err := Parse(to)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrInvalidRule, item, err)
	}
	if target.Kind != KindPrimitive {
		return fmt.Errorf("%w: %q: the target must be a primitive type", ErrInvalidRule, item)
	}
	if prev, ok := r.primitives[from]; ok && !samePrimitive(prev, target) {
		return fmt.Errorf("%w: %q: %s is already rewritten to %s", ErrInvalidRule, item, from, prev)
	}
	r.primitives[from] = target
	return nil
}

// splitTopLevel splits a spec at the commas outside parentheses, so a target
// such as decimal(38,10) stays whole.
func splitTopLevel(s string) []string {
	var items []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth <= 0 {
				items = append(items, s[start:i])
				start = i + 1
			}
		}
	}
	return append(items, s[start:])
}

func samePrimitive(a, b *Type) bool {
	return a.Name == b.Name && slices.Equal(a.Params, b.Params)
}

// Rewrite applies rules at every depth of t and reports whether the result
// differs from t. t is not modified; the result shares unchanged subtrees
// with it, and is t itself when nothing changed.
func Rewrite(t *Type, rules Rules) (*Type, bool) {
	if t == nil {
		return nil, false
	}
	switch t.Kind {
	case KindPrimitive:
		to, ok := rules.primitives[strings.ToLower(t.Name)]
		if !ok || samePrimitive(t, to) {
			return t, false
		}
		return &Type{Kind: KindPrimitive, Name: to.Name, Params: slices.Clone(to.Params)}, true
	case KindArray, KindSet:
		elem, changed := Rewrite(t.Elem, rules)
		kind := t.Kind
		if kind == KindSet && rules.setToArray {
			kind, changed = KindArray, true
		}
		if !changed {
			return t, false
		}
		return &Type{Kind: kind, Elem: elem}, true
	case KindMap:
		key, keyChanged := Rewrite(t.Key, rules)
		value, valueChanged := Rewrite(t.Value, rules)
		if !keyChanged && !valueChanged {
			return t, false
		}
		return &Type{Kind: KindMap, Key: key, Value: value}, true
	case KindStruct:
		var fields []Field // copied on the first change
		for i, f := range t.Fields {
			ft, changed := Rewrite(f.Type, rules)
			if !changed {
				continue
			}
			if fields == nil {
				fields = slices.Clone(t.Fields)
			}
			fields[i].Type = ft
		}
		if fields == nil {
			return t, false
		}
		return &Type{Kind: KindStruct, Fields: fields}, true
	case KindUnion:
		var members []*Type // copied on the first change
		for i, m := range t.Members {
			mt, changed := Rewrite(m, rules)
			if !changed {
				continue
			}
			if members == nil {
				members = slices.Clone(t.Members)
			}
			members[i] = mt
		}
		if members == nil {
			return t, false
		}
		return &Type{Kind: KindUnion, Members: members}, true
	}
	return t, false
}

// FixString parses s, applies rules and returns s with only the rewritten
// tokens replaced: the keyword of each set<T> becomes array, and each
// primitive a rule matches (parameters included) becomes the rule's target
// in canonical form. Every other byte of s is kept as written: backquotes,
// spacing, case, field names. Engines differ in which names they read bare
// or backquoted and in what spacing they tolerate, so a fixer that
// re-printed the whole type could break a column it had no reason to touch.
//
// changed reports whether a rule rewrote something; when none did, fixed is
// s itself, even if s is not canonical ("ARRAY< STRING >"), so the fixer
// calls UpdateTable only for a real fix and its own update, which fires a
// new change event, finds nothing more to do.
func FixString(s string, rules Rules) (fixed string, changed bool, err error) {
	t, err := Parse(s)
	if err != nil {
		return "", false, err
	}
	edits := rules.edits(t, nil)
	if len(edits) == 0 {
		return s, false, nil
	}
	var b strings.Builder
	b.Grow(len(s) + 2*len(edits))
	last := 0
	for _, e := range edits {
		b.WriteString(s[last:e.start])
		b.WriteString(e.text)
		last = e.end
	}
	b.WriteString(s[last:])
	return b.String(), true, nil
}

// edit replaces the input's bytes [start, end) with text.
type edit struct {
	start, end int
	text       string
}

// edits appends the replacements rules make in t, a Type Parse returned, in
// input order: a pre-order walk visits types left to right, and a set's edit
// covers only its keyword, before its element's.
func (r Rules) edits(t *Type, out []edit) []edit {
	switch t.Kind {
	case KindPrimitive:
		if to, ok := r.primitives[strings.ToLower(t.Name)]; ok && !samePrimitive(t, to) {
			out = append(out, edit{start: t.start, end: t.end, text: to.String()})
		}
	case KindSet:
		if r.setToArray {
			// Parse matched the keyword in any case, so it is len("set") bytes.
			out = append(out, edit{start: t.start, end: t.start + len("set"), text: KindArray.String()})
		}
		out = r.edits(t.Elem, out)
	case KindArray:
		out = r.edits(t.Elem, out)
	case KindMap:
		out = r.edits(t.Value, r.edits(t.Key, out))
	case KindStruct:
		for _, f := range t.Fields {
			out = r.edits(f.Type, out)
		}
	case KindUnion:
		for _, m := range t.Members {
			out = r.edits(m, out)
		}
	}
	return out
}
