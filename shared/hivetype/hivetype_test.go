package hivetype_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/golden"
	"lakestream/shared/hivetype"
)

// goldenRules are the rules every golden case is fixed with.
const goldenRules = "set=array,tinyint=smallint,float=double"

// TestGolden parses each testdata/types/<case>.hive, prints it and fixes it,
// and compares the result and the parsed tree with <case>.golden.json.
func TestGolden(t *testing.T) {
	rules, err := hivetype.ParseRules(goldenRules)
	require.NoError(t, err)
	inputs, err := filepath.Glob("testdata/types/*.hive")
	require.NoError(t, err)
	require.NotEmpty(t, inputs)

	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".hive")
		t.Run(name, func(t *testing.T) {
			src := readInput(t, in)
			typ, err := hivetype.Parse(src)
			require.NoError(t, err)
			fixed, changed, err := hivetype.FixString(src, rules)
			require.NoError(t, err)

			golden.JSON(t, strings.TrimSuffix(in, ".hive")+".golden.json", map[string]any{
				"canonical": typ.String(),
				"fixed":     fixed,
				"changed":   changed,
				"ast":       tree(typ),
			})

			// The fixer's loop guard: a fixed type needs no second fix.
			again, changedAgain, err := hivetype.FixString(fixed, rules)
			require.NoError(t, err)
			assert.False(t, changedAgain, "fixing %q again changed it to %q", fixed, again)
			if !changed {
				assert.Equal(t, src, fixed, "an unchanged type must come back exactly as given")
			}
		})
	}
}

// tree renders a Type as plain JSON values, so golden files show the parse.
func tree(t *hivetype.Type) any {
	if t == nil {
		return nil
	}
	m := map[string]any{"kind": t.Kind.String()}
	switch t.Kind {
	case hivetype.KindPrimitive:
		m["name"] = t.Name
		if len(t.Params) > 0 {
			m["params"] = t.Params
		}
	case hivetype.KindArray, hivetype.KindSet:
		m["elem"] = tree(t.Elem)
	case hivetype.KindMap:
		m["key"], m["value"] = tree(t.Key), tree(t.Value)
	case hivetype.KindStruct:
		fields := []any{}
		for _, f := range t.Fields {
			fields = append(fields, map[string]any{"name": f.Name, "type": tree(f.Type)})
		}
		m["fields"] = fields
	case hivetype.KindUnion:
		members := []any{}
		for _, mt := range t.Members {
			members = append(members, tree(mt))
		}
		m["members"] = members
	}
	return m
}

func readInput(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.TrimSuffix(string(b), "\n")
}

// malformed are type strings Parse must reject, with the exact error.
var malformed = map[string]struct {
	in  string
	err string
}{
	"empty":                  {"", `hivetype: at offset 0 in "": expected a type, found end of input`},
	"blank":                  {"  ", `hivetype: at offset 2 in "  ": expected a type, found end of input`},
	"double comma":           {"struct<a:int,,b:int>", `hivetype: at offset 13 in "struct<a:int,,b:int>": expected field name, found ','`},
	"unclosed array":         {"array<int", `hivetype: at offset 9 in "array<int": expected '>', found end of input`},
	"map with one type":      {"map<string>", `hivetype: at offset 10 in "map<string>": expected ',', found '>'`},
	"field without colon":    {"struct<a int>", `hivetype: at offset 12 in "struct<a int>": expected ':', found '>'`},
	"field without type":     {"struct<a:>", `hivetype: at offset 9 in "struct<a:>": expected a type, found '>'`},
	"junk after field":       {"struct<a:int b:int>", `hivetype: at offset 13 in "struct<a:int b:int>": expected ',' or '>', found 'b'`},
	"trailing comma":         {"struct<a:int,>", `hivetype: at offset 13 in "struct<a:int,>": expected field name, found '>'`},
	"unterminated backquote": {"struct<`a:int>", "hivetype: at offset 7 in \"struct<`a:int>\": unterminated backquoted field name"},
	"empty backquoted name":  {"struct<``:int>", "hivetype: at offset 7 in \"struct<``:int>\": empty field name"},
	"decimal precision":      {"decimal(39,2)", `hivetype: at offset 0 in "decimal(39,2)": decimal precision must be from 1 to 38`},
	"decimal scale":          {"decimal(10,11)", `hivetype: at offset 0 in "decimal(10,11)": decimal scale must not exceed its precision`},
	"decimal three params":   {"decimal(10,2,1)", `hivetype: at offset 0 in "decimal(10,2,1)": decimal takes at most a precision and a scale`},
	"decimal open":           {"decimal(10,", `hivetype: at offset 11 in "decimal(10,": expected a number, found end of input`},
	"decimal empty":          {"decimal()", `hivetype: at offset 8 in "decimal()": expected a number, found ')'`},
	"decimal negative":       {"decimal(-1)", `hivetype: at offset 8 in "decimal(-1)": expected a number, found '-'`},
	"huge number":            {"varchar(12345678901)", `hivetype: at offset 8 in "varchar(12345678901)": number too large`},
	"char without length":    {"char", `hivetype: at offset 0 in "char": char needs one length from 1 to 255, as in char(10)`},
	"varchar zero":           {"VARCHAR(0)", `hivetype: at offset 0 in "VARCHAR(0)": varchar needs one length from 1 to 65535, as in varchar(10)`},
	"int with params":        {"struct<a:int(3)>", `hivetype: at offset 9 in "struct<a:int(3)>": int takes no parameters`},
	"unknown container":      {"list<int>", `hivetype: at offset 0 in "list<int>": unknown type "list" cannot take type arguments`},
	"bare set":               {"set", `hivetype: at offset 3 in "set": expected '<', found end of input`},
	"empty union":            {"uniontype<>", `hivetype: at offset 10 in "uniontype<>": expected a type, found '>'`},
	"extra close":            {"array<int>>", `hivetype: at offset 10 in "array<int>>": unexpected '>' after the type`},
	"two types":              {"int string", `hivetype: at offset 4 in "int string": unexpected 's' after the type`},
	"digit first":            {"1int", `hivetype: at offset 0 in "1int": expected a type, found '1'`},
	"invalid utf-8":          {"struct<a:\xff>", `hivetype: at offset 9 in "struct<a:\xff>": expected a type, found invalid UTF-8 byte 0xff`},
}

func TestParseMalformed(t *testing.T) {
	for name, tc := range malformed {
		t.Run(name, func(t *testing.T) {
			typ, err := hivetype.Parse(tc.in)
			require.Error(t, err)
			assert.Nil(t, typ)
			assert.EqualError(t, err, tc.err)
			var syntax *hivetype.SyntaxError
			require.ErrorAs(t, err, &syntax)
			assert.Equal(t, tc.in, syntax.Input)
		})
	}
}

func TestParseDepthLimit(t *testing.T) {
	nest := func(n int) string {
		return strings.Repeat("array<", n) + "int" + strings.Repeat(">", n)
	}
	deepest := nest(hivetype.MaxDepth - 1) // MaxDepth types in all, counting the int
	typ, err := hivetype.Parse(deepest)
	require.NoError(t, err)
	assert.Equal(t, deepest, typ.String())

	_, err = hivetype.Parse(nest(hivetype.MaxDepth))
	var syntax *hivetype.SyntaxError
	require.ErrorAs(t, err, &syntax)
	assert.Equal(t, len("array<")*hivetype.MaxDepth, syntax.Offset)
	assert.Equal(t, "types nest deeper than 100 levels", syntax.Msg)

	// Far deeper input fails just as cleanly, without exhausting the stack.
	_, err = hivetype.Parse(strings.Repeat("struct<a:", 1_000_000))
	require.ErrorAs(t, err, &syntax)
}

func TestSyntaxErrorExcerpt(t *testing.T) {
	long := "struct<" + strings.Repeat("f:int,", 50) + "," + strings.Repeat("g:int,", 50) + "x:int>"
	_, err := hivetype.Parse(long)
	var syntax *hivetype.SyntaxError
	require.ErrorAs(t, err, &syntax)
	assert.Equal(t, 307, syntax.Offset)
	want := fmt.Sprintf(`hivetype: at offset 307 in …%q…: expected field name, found ','`, long[267:347])
	assert.Equal(t, want, err.Error())
}

func TestFixString(t *testing.T) {
	tests := map[string]struct {
		spec    string
		in      string
		want    string
		changed bool
	}{
		"default set to array": {
			spec: hivetype.DefaultSpec, in: "struct<a:set<string>,b:map<string,set<bigint>>>",
			want: "struct<a:array<string>,b:map<string,array<bigint>>>", changed: true,
		},
		"default leaves primitives": {
			spec: hivetype.DefaultSpec, in: "struct<a:tinyint,b:float>", want: "struct<a:tinyint,b:float>",
		},
		"spacing and case alone is no change": {
			spec: hivetype.DefaultSpec, in: "MAP< STRING , ARRAY<INT> >", want: "MAP< STRING , ARRAY<INT> >",
		},
		"a fix keeps the rest as written": {
			spec: hivetype.DefaultSpec, in: "MAP< STRING , SET<INT> >", want: "MAP< STRING , array<INT> >", changed: true,
		},
		"backquotes kept around a name that needs none": {
			spec:    hivetype.DefaultSpec,
			in:      "map<string,set<struct<a:set<bigint>,`b c`:string>>>",
			want:    "map<string,array<struct<a:array<bigint>,`b c`:string>>>",
			changed: true,
		},
		"field named set, backquoted or bare": {
			spec: hivetype.DefaultSpec, in: "struct<`set`:set<int>,set:set<int>>",
			want: "struct<`set`:array<int>,set:array<int>>", changed: true,
		},
		"a replaced primitive loses its own spacing only": {
			spec: "decimal=decimal(38,10)", in: "struct< a : DECIMAL ( 10 , 2 ) , b : decimal >",
			want: "struct< a : decimal(38,10) , b : decimal(38,10) >", changed: true,
		},
		"mapping inside a struct": {
			spec: "set=array,float=double", in: "struct<`x y`:FLOAT,z:struct<w:set< float >>>",
			want: "struct<`x y`:double,z:struct<w:array< double >>>", changed: true,
		},
		"without the set rule set stays": {
			spec: "float=double", in: "set<float>", want: "set<double>", changed: true,
		},
		"spec is case and space tolerant": {
			spec: " SET = ARRAY , Float=Double ", in: "set<float>", want: "array<double>", changed: true,
		},
		"parameters replaced with the type": {
			spec: "char=string,varchar=string", in: "struct<a:char(10),b:varchar(20)>",
			want: "struct<a:string,b:string>", changed: true,
		},
		"target with parameters": {
			spec: "decimal=decimal(38,10)", in: "struct<a:decimal,b:decimal(10,2),c:decimal(38,10)>",
			want: "struct<a:decimal(38,10),b:decimal(38,10),c:decimal(38,10)>", changed: true,
		},
		"target already in place": {
			spec: "decimal=decimal(38,10)", in: "decimal(38,10)", want: "decimal(38,10)",
		},
		"unknown type matched in any case": {
			spec: "geometry=string", in: "struct<shape:GEOMETRY,n:int>", want: "struct<shape:string,n:int>", changed: true,
		},
		"inside a union": {
			spec: hivetype.DefaultSpec, in: "uniontype<int,set<int>>", want: "uniontype<int,array<int>>", changed: true,
		},
		"field named set is not a set": {
			spec: hivetype.DefaultSpec, in: "struct<set:int>", want: "struct<set:int>",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rules, err := hivetype.ParseRules(tc.spec)
			require.NoError(t, err)
			got, changed, err := hivetype.FixString(tc.in, rules)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.changed, changed)
		})
	}
}

func TestFixStringMalformed(t *testing.T) {
	rules, err := hivetype.ParseRules(hivetype.DefaultSpec)
	require.NoError(t, err)
	got, changed, err := hivetype.FixString("struct<a:set<int>", rules)
	var syntax *hivetype.SyntaxError
	require.ErrorAs(t, err, &syntax)
	assert.Equal(t, 17, syntax.Offset)
	assert.Empty(t, got)
	assert.False(t, changed)
}

func TestRewriteLeavesInputAlone(t *testing.T) {
	rules, err := hivetype.ParseRules(goldenRules)
	require.NoError(t, err)
	const src = "struct<a:set<tinyint>,b:string,c:uniontype<int,float>>"
	typ, err := hivetype.Parse(src)
	require.NoError(t, err)

	fixed, changed := hivetype.Rewrite(typ, rules)
	require.True(t, changed)
	assert.Equal(t, "struct<a:array<smallint>,b:string,c:uniontype<int,double>>", fixed.String())
	assert.Equal(t, src, typ.String(), "Rewrite must not modify its input")
	assert.Same(t, typ.Fields[1].Type, fixed.Fields[1].Type, "unchanged subtrees are shared")

	same, changed := hivetype.Rewrite(fixed, rules)
	assert.False(t, changed)
	assert.Same(t, fixed, same)

	same, changed = hivetype.Rewrite(typ, hivetype.Rules{})
	assert.False(t, changed, "zero Rules rewrite nothing")
	assert.Same(t, typ, same)
}

func TestParseRulesMalformed(t *testing.T) {
	tests := map[string]struct {
		spec string
		err  string
	}{
		"empty":                {"", `hivetype: invalid rule: "" has no from=to rules`},
		"only commas":          {" , ,", `hivetype: invalid rule: " , ," has no from=to rules`},
		"no equals":            {"set", `hivetype: invalid rule: "set" is not from=to`},
		"no target":            {"int=", `hivetype: invalid rule: "int=" is not from=to`},
		"no source":            {"=int", `hivetype: invalid rule: "=int" is not from=to`},
		"set to map":           {"set=map", `hivetype: invalid rule: "set=map": set can only become array`},
		"array source":         {"array=set", `hivetype: invalid rule: "array=set": array is valid in Athena and is not rewritten`},
		"source with params":   {"decimal(10,2)=double", `hivetype: invalid rule: "decimal(10,2)=double": "decimal(10,2)" is not a type name`},
		"container target":     {"int=array<int>", `hivetype: invalid rule: "int=array<int>": the target must be a primitive type`},
		"invalid target":       {"int=decimal(40)", `hivetype: invalid rule: "int=decimal(40)": hivetype: at offset 0 in "decimal(40)": decimal precision must be from 1 to 38`},
		"conflicting rules":    {"float=double,float=string", `hivetype: invalid rule: "float=string": float is already rewritten to double`},
		"chain":                {"tinyint=smallint,smallint=int", `hivetype: invalid rule: tinyint=smallint would be rewritten again to int; map tinyint to int directly`},
		"cycle":                {"float=double,double=float", `hivetype: invalid rule: double=float would be rewritten again to double; map double to double directly`},
		"target param changed": {"decimal=decimal(38,10),double=decimal", `hivetype: invalid rule: double=decimal would be rewritten again to decimal(38,10); map double to decimal(38,10) directly`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := hivetype.ParseRules(tc.spec)
			require.Error(t, err)
			assert.ErrorIs(t, err, hivetype.ErrInvalidRule)
			assert.EqualError(t, err, tc.err)
		})
	}
}

// FuzzParse checks that no input panics, that errors say where, and that
// whatever parses prints canonically: the printed form parses back to the
// same print, and a fixed type needs no second fix.
func FuzzParse(f *testing.F) {
	inputs, err := filepath.Glob("testdata/types/*.hive")
	require.NoError(f, err)
	for _, in := range inputs {
		f.Add(readInput(f, in))
	}
	for _, tc := range malformed {
		f.Add(tc.in)
	}
	rules, err := hivetype.ParseRules(goldenRules)
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, s string) {
		typ, err := hivetype.Parse(s)
		if err != nil {
			var syntax *hivetype.SyntaxError
			require.True(t, errors.As(err, &syntax), "error is not a *SyntaxError: %v", err)
			assert.Equal(t, s, syntax.Input)
			assert.True(t, syntax.Offset >= 0 && syntax.Offset <= len(s), "offset %d outside input of %d bytes", syntax.Offset, len(s))
			return
		}
		printed := typ.String()
		again, err := hivetype.Parse(printed)
		require.NoError(t, err, "canonical form %q of %q does not parse", printed, s)
		require.Equal(t, printed, again.String())

		fixed, changed, err := hivetype.FixString(s, rules)
		require.NoError(t, err)
		if !changed {
			require.Equal(t, s, fixed)
			return
		}
		_, changedAgain, err := hivetype.FixString(fixed, rules)
		require.NoError(t, err)
		require.False(t, changedAgain, "fix of %q is not final: %q", s, fixed)
	})
}

// FuzzFixString checks the fixer's promise on any type Parse accepts:
// without rules the text comes back byte for byte; with rules the result
// is the tree Rewrite makes, written with only the rewritten tokens
// replaced, and fixing it again changes nothing.
func FuzzFixString(f *testing.F) {
	inputs, err := filepath.Glob("testdata/types/*.hive")
	require.NoError(f, err)
	for _, in := range inputs {
		f.Add(readInput(f, in))
	}
	rules, err := hivetype.ParseRules(goldenRules + ",decimal=decimal(38,10),geometry=string")
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, s string) {
		typ, err := hivetype.Parse(s)
		if err != nil {
			return
		}
		same, changed, err := hivetype.FixString(s, hivetype.Rules{})
		require.NoError(t, err)
		require.False(t, changed)
		require.Equal(t, s, same, "no rules must return the input byte for byte")

		fixed, changed, err := hivetype.FixString(s, rules)
		require.NoError(t, err)
		want, wantChanged := hivetype.Rewrite(typ, rules)
		require.Equal(t, wantChanged, changed, "FixString and Rewrite disagree on %q", s)
		if !changed {
			require.Equal(t, s, fixed)
			return
		}
		got, err := hivetype.Parse(fixed)
		require.NoError(t, err, "fix %q of %q does not parse", fixed, s)
		require.Equal(t, want.String(), got.String(), "fix %q of %q is not the rewritten tree", fixed, s)

		again, changedAgain, err := hivetype.FixString(fixed, rules)
		require.NoError(t, err)
		require.False(t, changedAgain, "fix of %q is not final: %q became %q", s, fixed, again)
		require.Equal(t, fixed, again)

		fixed, _, err = hivetype.FixString(s, tokenRules)
		require.NoError(t, err)
		require.True(t, onlyTokensChanged(s, fixed, tokenSwaps), "%q became %q: more than the rewritten tokens changed", s, fixed)
	})
}

// tokenSwaps are the rewrites of goldenRules as text: each replacement
// starts with another letter than what it replaces, so onlyTokensChanged
// can line the two texts up without knowing where the types are.
var tokenSwaps = [][2]string{{"set", "array"}, {"tinyint", "smallint"}, {"float", "double"}}

var tokenRules = func() hivetype.Rules {
	r, err := hivetype.ParseRules(goldenRules)
	if err != nil {
		panic(err)
	}
	return r
}()

// onlyTokensChanged reports whether fixed is in, byte for byte, except
// where a from of swaps (in any case) became its to. It walks both texts
// together; since every to differs from its from in the first byte, the
// first differing byte is where a swap must start.
func onlyTokensChanged(in, fixed string, swaps [][2]string) bool {
	i, j := 0, 0
next:
	for i < len(in) || j < len(fixed) {
		if i < len(in) && j < len(fixed) && in[i] == fixed[j] {
			i, j = i+1, j+1
			continue
		}
		for _, sw := range swaps {
			from, to := sw[0], sw[1]
			if len(in)-i >= len(from) && strings.EqualFold(in[i:i+len(from)], from) && strings.HasPrefix(fixed[j:], to) {
				i, j = i+len(from), j+len(to)
				continue next
			}
		}
		return false
	}
	return true
}

func TestOnlyTokensChanged(t *testing.T) {
	assert.True(t, onlyTokensChanged("struct<`b c`:SET<Float>>", "struct<`b c`:array<double>>", tokenSwaps))
	assert.True(t, onlyTokensChanged("int", "int", tokenSwaps))
	assert.False(t, onlyTokensChanged("struct<`b c`:set<int>>", "struct<b c:array<int>>", tokenSwaps), "dropped backquotes")
	assert.False(t, onlyTokensChanged("MAP<STRING,SET<INT>>", "map<string,array<int>>", tokenSwaps), "lowered case")
	assert.False(t, onlyTokensChanged("set< int >", "array<int>", tokenSwaps), "dropped spaces")
	assert.False(t, onlyTokensChanged("set<int>", "set<int>x", tokenSwaps), "added a byte")
}

// FuzzParseRules checks that any rule set ParseRules accepts settles in one
// pass on any type, so the fixer can never loop.
func FuzzParseRules(f *testing.F) {
	f.Add(goldenRules, "struct<a:set<tinyint>,b:float>")
	f.Add("decimal=decimal(38,10),char=string", "struct<a:decimal(10,2),b:char(3)>")
	f.Add("a=b,b=c", "a")
	f.Add("x=y,y=y", "map<x,y>")

	f.Fuzz(func(t *testing.T, spec, typ string) {
		rules, err := hivetype.ParseRules(spec)
		if err != nil {
			require.ErrorIs(t, err, hivetype.ErrInvalidRule)
			return
		}
		fixed, changed, err := hivetype.FixString(typ, rules)
		if err != nil || !changed {
			return
		}
		_, changedAgain, err := hivetype.FixString(fixed, rules)
		require.NoError(t, err)
		require.False(t, changedAgain, "rules %q: fix of %q is not final: %q", spec, typ, fixed)
	})
}

// BenchmarkFixString fixes a wide, nested table schema of the size a
// crawler writes for DynamoDB exports, and re-checks an already fixed one,
// the common case once the fixer has run.
func BenchmarkFixString(b *testing.B) {
	var fields []string
	for i := range 40 {
		fields = append(fields, fmt.Sprintf("f%d:string", i),
			fmt.Sprintf("`tag-%d`:set<string>", i),
			fmt.Sprintf("n%d:struct<id:bigint,amount:decimal(38,10),items:array<map<string,set<int>>>>", i))
	}
	broken := "struct<" + strings.Join(fields, ",") + ">"
	rules, err := hivetype.ParseRules(goldenRules)
	require.NoError(b, err)
	fixed, changed, err := hivetype.FixString(broken, rules)
	require.NoError(b, err)
	require.True(b, changed)

	for name, in := range map[string]string{"broken": broken, "fixed": fixed} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := hivetype.FixString(in, rules); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
