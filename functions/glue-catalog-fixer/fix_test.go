package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/golden"
	"lakestream/shared/hivetype"
)

// TestFixGolden fixes each testdata/tables/<case>.json (a table as GetTable
// returns it) with the configuration in <case>.env, if any, and compares
// the changes and the TableInput UpdateTable would get, or the error, with
// <case>.golden.json. It then fixes the fixed table again: the fixer's own
// update fires a change event, which must find nothing to do.
func TestFixGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/tables/*.json")
	require.NoError(t, err)
	var cases []string
	for _, in := range inputs {
		if !strings.HasSuffix(in, ".golden.json") {
			cases = append(cases, strings.TrimSuffix(in, ".json"))
		}
	}
	require.NotEmpty(t, cases)

	for _, c := range cases {
		t.Run(filepath.Base(c), func(t *testing.T) {
			cfg := caseConfig(t, c+".env")
			table := readTable(t, c+".json")
			before := mustJSON(t, table)

			in, changes, err := Fix(table, cfg.Rules)
			got := map[string]any{}
			switch {
			case err != nil:
				require.Nil(t, in)
				got["error"] = err.Error()
			case in == nil:
				assert.Empty(t, changes)
				got["unchanged"] = true
			default:
				got["changes"] = changes
				got["tableInput"] = in
			}
			compareGolden(t, c+".golden.json", got)
			assert.JSONEq(t, before, mustJSON(t, table), "Fix must not modify the table it is given")

			if in != nil {
				again, changes, err := Fix(fixedTable(table, in), cfg.Rules)
				require.NoError(t, err)
				assert.Nil(t, again, "a fixed table needs no second fix, got %v", changes)
			}
		})
	}
}

// fixedTable is the table GetTable returns after UpdateTable(in).
func fixedTable(t *types.Table, in *types.TableInput) *types.Table {
	out := *t
	out.StorageDescriptor, out.PartitionKeys = in.StorageDescriptor, in.PartitionKeys
	return &out
}

func caseConfig(t *testing.T, envFile string) Config {
	t.Helper()
	vars := map[string]string{"DATABASES": "lake"}
	if b, err := os.ReadFile(envFile); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			k, v, ok := strings.Cut(line, "=")
			require.True(t, ok, "%s: %q is not NAME=value", envFile, line)
			vars[k] = v
		}
	}
	env := config.New(config.FromMap(vars))
	cfg := loadConfig(env)
	require.NoError(t, env.Err())
	return cfg
}

func readTable(t testing.TB, path string) *types.Table {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var table types.Table
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a misspelt field would silently test nothing
	require.NoError(t, dec.Decode(&table), path)
	return &table
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// compareGolden compares got, as JSON without its null fields, with the
// golden file, rewriting the file under -update.
func compareGolden(t *testing.T, path string, got any) {
	t.Helper()
	var tree any
	require.NoError(t, json.Unmarshal([]byte(mustJSON(t, got)), &tree))
	golden.JSON(t, path, dropNulls(tree))
}

// dropNulls removes null members, which the SDK's many unset pointers
// would otherwise spread over every golden file.
func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
				continue
			}
			v[k] = dropNulls(e)
		}
	case []any:
		for i, e := range v {
			v[i] = dropNulls(e)
		}
	}
	return v
}

func TestFixReportsTheColumn(t *testing.T) {
	rules, err := hivetype.ParseRules(hivetype.DefaultSpec)
	require.NoError(t, err)
	table := &types.Table{
		Name:          aws.String("t"),
		PartitionKeys: []types.Column{{Name: aws.String("dt"), Type: aws.String("map<string>")}},
	}
	_, _, err = Fix(table, rules)
	var col *ColumnError
	require.ErrorAs(t, err, &col)
	assert.Equal(t, ColumnError{Column: "dt", In: InPartitionKeys, Err: col.Err}, *col)
	var syntax *hivetype.SyntaxError
	assert.ErrorAs(t, err, &syntax)
	assert.EqualError(t, err, `partition key "dt": hivetype: at offset 10 in "map<string>": expected ',', found '>'`)
}

// inputFieldsNotFromTable are TableInput fields that tableInput does not
// copy, each with the reason. A new TableInput field must be copied or
// listed here, or TestTableInputCopiesEveryField fails.
var inputFieldsNotFromTable = map[string]string{}

// TestTableInputCopiesEveryField fills every field of a Table, converts it,
// and checks that every field of TableInput (and of a view's
// ViewDefinitionInput) came out set, so a field the SDK adds is not
// silently dropped from the tables the fixer updates.
func TestTableInputCopiesEveryField(t *testing.T) {
	var table types.Table
	fill(reflect.ValueOf(&table).Elem())
	in := tableInput(&table)

	inType := reflect.TypeOf(*in)
	tableType := reflect.TypeOf(table)
	for i := range inType.NumField() {
		f := inType.Field(i)
		if !f.IsExported() {
			continue
		}
		if reason, ok := inputFieldsNotFromTable[f.Name]; ok {
			assert.True(t, reflect.ValueOf(*in).Field(i).IsZero(), "TableInput.%s is listed as not copied (%s) but is set", f.Name, reason)
			continue
		}
		_, inTable := tableType.FieldByName(f.Name)
		assert.True(t, inTable, "TableInput.%s has no Table field of that name: copy it in tableInput or list it in inputFieldsNotFromTable", f.Name)
		assert.False(t, reflect.ValueOf(*in).Field(i).IsZero(), "TableInput.%s is not copied: copy it in tableInput or list it in inputFieldsNotFromTable", f.Name)
	}
	assert.Equal(t, table.Name, in.Name)
	assert.Equal(t, table.StorageDescriptor, in.StorageDescriptor)

	// Every field of ViewDefinitionInput, and of its representations, set.
	require.NotNil(t, in.ViewDefinition)
	assertAllSet(t, reflect.ValueOf(*in.ViewDefinition), "ViewDefinitionInput")
	require.Len(t, in.ViewDefinition.Representations, 1)
	assertAllSet(t, reflect.ValueOf(in.ViewDefinition.Representations[0]), "ViewRepresentationInput")
	assert.Nil(t, viewDefinitionInput(nil))
}

func assertAllSet(t *testing.T, v reflect.Value, name string) {
	t.Helper()
	for i := range v.NumField() {
		if f := v.Type().Field(i); f.IsExported() {
			assert.False(t, v.Field(i).IsZero(), "%s.%s is not copied", name, f.Name)
		}
	}
}

// fill sets every exported field reachable from v to a non-zero value,
// except inside a struct type that contains itself (the SDK has a few),
// which is filled once.
func fill(v reflect.Value) { fillOnce(v, map[reflect.Type]bool{}) }

func fillOnce(v reflect.Value, onPath map[reflect.Type]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if onPath[v.Type().Elem()] {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fillOnce(v.Elem(), onPath)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)))
			return
		}
		onPath[v.Type()] = true
		defer delete(onPath, v.Type())
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillOnce(v.Field(i), onPath)
			}
		}
	case reflect.Slice:
		if onPath[v.Type().Elem()] {
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fillOnce(v.Index(0), onPath)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillOnce(k, onPath)
		fillOnce(e, onPath)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Interface:
		// document.Interface and unions: leave unset; none is a TableInput field today.
	}
}

// BenchmarkFix fixes a wide, nested table of the kind a crawler writes for
// a DynamoDB export, and re-checks the fixed table, which is what every
// change event after the fix costs.
func BenchmarkFix(b *testing.B) {
	var cols []types.Column
	size := 0
	for i := range 200 {
		typ := fmt.Sprintf("struct<id:bigint,tags:set<string>,items:array<struct<sku:string,attrs:map<string,set<int>>>>,n%d:decimal(38,10)>", i)
		cols = append(cols, types.Column{Name: aws.String(fmt.Sprintf("c%d", i)), Type: aws.String(typ)})
		size += len(typ)
	}
	broken := &types.Table{Name: aws.String("wide"), StorageDescriptor: &types.StorageDescriptor{Columns: cols}}
	rules, err := hivetype.ParseRules(hivetype.DefaultSpec)
	require.NoError(b, err)
	in, _, err := Fix(broken, rules)
	require.NoError(b, err)
	require.NotNil(b, in)
	fixed := fixedTable(broken, in)

	for name, table := range map[string]*types.Table{"broken": broken, "fixed": fixed} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Fix(table, rules); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
