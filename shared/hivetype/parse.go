package hivetype

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"lakestream/shared/excerpt"
)

// MaxDepth bounds how deeply types may nest (array<array<...>>), so a corrupt
// or hostile type string cannot exhaust the stack. Hive sets no limit, but
// no real table comes near this one.
const MaxDepth = 100

// SyntaxError is a type string Parse cannot read: where, and what it
// expected there. Offset is a byte offset into Input.
type SyntaxError struct {
	Input  string
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("hivetype: at offset %d in %s: %s", e.Offset, excerpt.Around(e.Input, e.Offset), e.Msg)
}

// Parse reads one Hive type string. Keywords are matched in any case and
// whitespace may surround any token; see the package documentation for what
// else is accepted. An error is always a *SyntaxError.
func Parse(s string) (*Type, error) {
	p := &parser{in: s}
	t, err := p.typ(1)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.in) {
		return nil, p.fail("unexpected %s after the type", p.found())
	}
	return t, nil
}

// parser is a recursive-descent reader over the input; pos is the next byte.
type parser struct {
	in  string
	pos int
}

func (p *parser) fail(format string, args ...any) *SyntaxError {
	return &SyntaxError{Input: p.in, Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) failAt(offset int, format string, args ...any) *SyntaxError {
	p.pos = offset
	return p.fail(format, args...)
}

// found describes the next character for an error message.
func (p *parser) found() string {
	if p.pos >= len(p.in) {
		return "end of input"
	}
	r, size := utf8.DecodeRuneInString(p.in[p.pos:])
	if r == utf8.RuneError && size == 1 {
		return fmt.Sprintf("invalid UTF-8 byte %#x", p.in[p.pos])
	}
	return strconv.QuoteRune(r)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (p *parser) space() {
	for p.pos < len(p.in) && isSpace(p.in[p.pos]) {
		p.pos++
	}
}

// accept consumes c, after any whitespace, when it comes next.
func (p *parser) accept(c byte) bool {
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(c byte) error {
	if p.accept(c) {
		return nil
	}
	return p.fail("expected %q, found %s", c, p.found())
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// word reads a type name: a letter or '_', then letters, digits and '_'.
func (p *parser) word() string {
	start := p.pos
	if p.pos < len(p.in) && isLetter(p.in[p.pos]) {
		for p.pos++; p.pos < len(p.in) && (isLetter(p.in[p.pos]) || isDigit(p.in[p.pos])); p.pos++ {
		}
	}
	return p.in[start:p.pos]
}

func (p *parser) typ(depth int) (*Type, error) {
	p.space()
	if depth > MaxDepth {
		return nil, p.fail("types nest deeper than %d levels", MaxDepth)
	}
	start := p.pos
	word := p.word()
	if word == "" {
		return nil, p.fail("expected a type, found %s", p.found())
	}
	t, err := p.typeAfter(depth, start, word)
	if err != nil {
		return nil, err
	}
	// A type ends in a letter, digit, '>' or ')', never in whitespace, but
	// a primitive's reader may have looked past whitespace for a '(' that
	// did not come.
	t.start, t.end = start, p.pos
	for isSpace(p.in[t.end-1]) {
		t.end--
	}
	return t, nil
}

// typeAfter reads the rest of the type whose name, word, starts at start.
func (p *parser) typeAfter(depth, start int, word string) (*Type, error) {
	switch kw := strings.ToLower(word); kw {
	case "array", "set":
		kind := KindArray
		if kw == "set" {
			kind = KindSet
		}
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		elem, err := p.typ(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expect('>'); err != nil {
			return nil, err
		}
		return &Type{Kind: kind, Elem: elem}, nil
	case "map":
		return p.mapType(depth)
	case "struct":
		return p.structType(depth)
	case "uniontype":
		return p.unionType(depth)
	}
	return p.primitive(start, word)
}

func (p *parser) mapType(depth int) (*Type, error) {
	if err := p.expect('<'); err != nil {
		return nil, err
	}
	key, err := p.typ(depth + 1)
	if err != nil {
		return nil, err
	}
	if err := p.expect(','); err != nil {
		return nil, err
	}
	value, err := p.typ(depth + 1)
	if err != nil {
		return nil, err
	}
	if err := p.expect('>'); err != nil {
		return nil, err
	}
	return &Type{Kind: KindMap, Key: key, Value: value}, nil
}

// structType reads the fields after "struct". An empty struct<> is accepted
// because Hive accepts it.
func (p *parser) structType(depth int) (*Type, error) {
	if err := p.expect('<'); err != nil {
		return nil, err
	}
	t := &Type{Kind: KindStruct}
	if p.accept('>') {
		return t, nil
	}
	for {
		name, err := p.fieldName()
		if err != nil {
			return nil, err
		}
		if err := p.expect(':'); err != nil {
			return nil, err
		}
		ft, err := p.typ(depth + 1)
		if err != nil {
			return nil, err
		}
		t.Fields = append(t.Fields, Field{Name: name, Type: ft})
		if p.accept('>') {
			return t, nil
		}
		if !p.accept(',') {
			return nil, p.fail("expected ',' or '>', found %s", p.found())
		}
	}
}

func (p *parser) unionType(depth int) (*Type, error) {
	if err := p.expect('<'); err != nil {
		return nil, err
	}
	t := &Type{Kind: KindUnion}
	for {
		m, err := p.typ(depth + 1)
		if err != nil {
			return nil, err
		}
		t.Members = append(t.Members, m)
		if p.accept('>') {
			return t, nil
		}
		if !p.accept(',') {
			return nil, p.fail("expected ',' or '>', found %s", p.found())
		}
	}
}

// fieldName reads a struct field name, either backquoted (a doubled
// backquote standing for one, as in Hive DDL) or bare, up to the ':' and
// without surrounding whitespace. Bare names may hold anything but the type
// syntax's own punctuation, because crawlers write JSON keys such as
// "user-id" bare.
func (p *parser) fieldName() (string, error) {
	p.space()
	start := p.pos
	if p.pos < len(p.in) && p.in[p.pos] == '`' {
		var b strings.Builder
		p.pos++
		for {
			i := strings.IndexByte(p.in[p.pos:], '`')
			if i < 0 {
				return "", p.failAt(start, "unterminated backquoted field name")
			}
			b.WriteString(p.in[p.pos : p.pos+i])
			p.pos += i + 1
			if p.pos < len(p.in) && p.in[p.pos] == '`' {
				b.WriteByte('`')
				p.pos++
				continue
			}
			break
		}
		if b.Len() == 0 {
			return "", p.failAt(start, "empty field name")
		}
		return b.String(), nil
	}
	for p.pos < len(p.in) && strings.IndexByte(":<>,()`", p.in[p.pos]) < 0 {
		p.pos++
	}
	name := strings.TrimRight(p.in[start:p.pos], " \t\n\r\f\v")
	if name == "" {
		p.pos = start
		return "", p.fail("expected field name, found %s", p.found())
	}
	return name, nil
}

// primitive reads the optional parameters after a type name and checks them
// against what Hive allows for its own types.
func (p *parser) primitive(start int, word string) (*Type, error) {
	t := &Type{Kind: KindPrimitive, Name: word}
	rule, known := paramRules[strings.ToLower(word)]
	if known {
		t.Name = strings.ToLower(word)
	}
	if p.accept('(') {
		for {
			p.space()
			n, err := p.number()
			if err != nil {
				return nil, err
			}
			t.Params = append(t.Params, n)
			if p.accept(')') {
				break
			}
			if !p.accept(',') {
				return nil, p.fail("expected ',' or ')', found %s", p.found())
			}
		}
	} else if !known && p.accept('<') {
		return nil, p.failAt(start, "unknown type %q cannot take type arguments", word)
	}
	if known {
		if msg := rule(t.Name, t.Params); msg != "" {
			return nil, p.failAt(start, "%s", msg)
		}
	}
	return t, nil
}

// number reads a type parameter. Nine digits bound it well inside an int
// and far beyond any real length or precision.
func (p *parser) number() (int, error) {
	start := p.pos
	for p.pos < len(p.in) && isDigit(p.in[p.pos]) {
		p.pos++
	}
	switch {
	case p.pos == start:
		return 0, p.fail("expected a number, found %s", p.found())
	case p.pos-start > 9:
		return 0, p.failAt(start, "number too large")
	}
	n, _ := strconv.Atoi(p.in[start:p.pos])
	return n, nil
}

// paramRules holds, for each type Hive defines, a check of its parameters
// that returns what is wrong with them, or "". The limits are Hive's.
var paramRules = map[string]func(name string, params []int) string{
	"string": none, "int": none, "bigint": none, "smallint": none, "tinyint": none,
	"boolean": none, "double": none, "float": none, "date": none, "timestamp": none, "binary": none,
	"char":    length(255),
	"varchar": length(65535),
	"decimal": func(_ string, params []int) string {
		switch {
		case len(params) > 2:
			return "decimal takes at most a precision and a scale"
		case len(params) > 0 && (params[0] < 1 || params[0] > 38):
			return "decimal precision must be from 1 to 38"
		case len(params) == 2 && params[1] > params[0]:
			return "decimal scale must not exceed its precision"
		}
		return ""
	},
}

func none(name string, params []int) string {
	if len(params) > 0 {
		return name + " takes no parameters"
	}
	return ""
}

func length(limit int) func(string, []int) string {
	return func(name string, params []int) string {
		if len(params) != 1 || params[0] < 1 || params[0] > limit {
			return fmt.Sprintf("%s needs one length from 1 to %d, as in %[1]s(10)", name, limit)
		}
		return ""
	}
}
