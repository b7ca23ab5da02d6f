package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/record"
)

// TestFieldSelect: what FIELDS writes of a record, item by item. The
// golden cases (testdata/transform/fields-*) show it in whole pipelines.
func TestFieldSelect(t *testing.T) {
	in := rec("time", "t", "c_ip", "192.0.2.1", "status", int64(200), "user", json.RawMessage(`{"id":"u1"}`), "empty", nil)
	tests := map[string]struct {
		spec string
		want *record.Record
	}{
		"select in the given order": {spec: "status,time", want: rec("status", int64(200), "time", "t")},
		"rename":                    {spec: "requestip=c_ip", want: rec("requestip", "192.0.2.1")},
		"absent left out, null kept": {spec: "gone,empty,status",
			want: rec("empty", nil, "status", int64(200))},
		"nested source": {spec: "user_id=user.id,status", want: rec("user_id", "u1", "status", int64(200))},
		"rest after":    {spec: "requestip=c_ip,*", want: rec("requestip", "192.0.2.1", "time", "t", "status", int64(200), "user", json.RawMessage(`{"id":"u1"}`), "empty", nil)},
		"rest before":   {spec: "*,time", want: rec("c_ip", "192.0.2.1", "status", int64(200), "user", json.RawMessage(`{"id":"u1"}`), "empty", nil, "time", "t")},
		// status is the new name of time: the record's own status is
		// not written again by *.
		"a new name hides the field of that name": {spec: "status=time,*",
			want: rec("status", "t", "c_ip", "192.0.2.1", "user", json.RawMessage(`{"id":"u1"}`), "empty", nil)},
		"spaces around items": {spec: " requestip = c_ip , status ", want: rec("requestip", "192.0.2.1", "status", int64(200))},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, err := parseFieldSelect(tc.spec)
			require.NoError(t, err)
			src := rec("time", "t", "c_ip", "192.0.2.1", "status", int64(200), "user", json.RawMessage(`{"id":"u1"}`), "empty", nil)
			got := record.New(0)
			f.apply(got, src)
			assert.Equal(t, tc.want.Fields, got.Fields)
			// The source keeps its fields: the other stages read it.
			assert.Equal(t, in.Fields[:3], src.Fields[:3])
		})
	}
}

func TestFieldSelectMalformed(t *testing.T) {
	tests := map[string]string{
		"*,*":            "* given twice",
		"a,a":            `item "a": field "a" is written twice`,
		"x=a,x=b":        `item "x=b": field "x" is written twice`,
		"=a":             `item "=a": no field name`,
		"a.b":            `item "a.b": the written name "a.b" must not hold a dot: write new=a.b`,
		"a=":             `item "a=": empty field name`,
		"a=b..c":         `item "a=b..c": field "b..c" has an empty path segment`,
		" , ":            "no fields",
		"requestip=c_ip": "",
	}
	for spec, want := range tests {
		t.Run(spec, func(t *testing.T) {
			_, err := parseFieldSelect(spec)
			if want == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, want)
		})
	}
}

// TestFieldsSettings: FIELDS and the variables it touches, as Load reads
// them: csv columns follow it, and it is refused where it cannot apply.
func TestFieldsSettings(t *testing.T) {
	def := Options{OutputColumns: "time,c_ip,status"}
	tests := map[string]struct {
		env      map[string]string
		columns  string
		problems []string
	}{
		"csv columns are the written names": {env: map[string]string{"FIELDS": "requestip=c_ip,status", "OUTPUT_FORMAT": "csv"},
			columns: "requestip,status"},
		"* stands for the default columns not named": {env: map[string]string{"FIELDS": "requestip=c_ip,*", "OUTPUT_FORMAT": "tsv"},
			columns: "requestip,time,status"},
		// FIELDS decides: the arrival time is not added to the columns
		// unless it is selected.
		"the arrival time only when selected": {env: map[string]string{"FIELDS": "status,arrival", "OUTPUT_FORMAT": "csv", "ARRIVAL_TIME_FIELD": "arrival"},
			columns: "status,arrival"},
		"set columns win": {env: map[string]string{"FIELDS": "requestip=c_ip,status", "OUTPUT_FORMAT": "csv", "OUTPUT_COLUMNS": "status"},
			columns: "status"},
		"json has no columns": {env: map[string]string{"FIELDS": "status"}},
		"refused with lines": {env: map[string]string{"FIELDS": "status", "OUTPUT_FORMAT": "lines"},
			problems: []string{`FIELDS="status" is invalid: unset when OUTPUT_FORMAT is lines, which writes each record's text as it came, not its fields`}},
		"refused with splunk": {env: map[string]string{"FIELDS": "status", "OUTPUT_FORMAT": "splunk"},
			problems: []string{`FIELDS="status" is invalid: unset when OUTPUT_FORMAT is splunk`}},
		"malformed": {env: map[string]string{"FIELDS": "a,a"},
			problems: []string{`FIELDS="a,a" is invalid: item "a": field "a" is written twice; accepts comma-separated fields to write`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(tc.env))
			got := LoadDefaults(env, def)
			if len(tc.problems) > 0 {
				for _, p := range tc.problems {
					assert.ErrorContains(t, env.Err(), p)
				}
				return
			}
			require.NoError(t, env.Err())
			assert.Equal(t, tc.columns, got.OutputColumns)
			assert.Equal(t, tc.env["FIELDS"], got.Fields)
		})
	}

	// Without default columns, * leaves OUTPUT_COLUMNS to be set.
	env := config.New(config.FromMap(map[string]string{"FIELDS": "a,*", "OUTPUT_FORMAT": "csv"}))
	LoadDefaults(env, Options{})
	assert.ErrorContains(t, env.Err(), "OUTPUT_COLUMNS")
}

// TestFieldsLogEvents: log events go the record path with FIELDS, which
// writes what it selects.
func TestFieldsLogEvents(t *testing.T) {
	p := newTestEvents(t, map[string]string{"OUTPUT_FORMAT": "json", "FIELDS": "group=logGroup,message"})
	assert.False(t, p.Direct())
	res, err := p.Run(context.Background(), testEvents(), arrival, RunOptions{})
	require.NoError(t, err)
	first, _, _ := bytes.Cut(res.Data, []byte("\n"))
	assert.JSONEq(t, `{"group":"/aws/lambda/app","message":"{\"level\":\"INFO\",\"n\":[1, 2]}"}`, string(first))
}

// FuzzParseFieldSelect: a spec that parses has one item per spec item, and
// what it writes of any record has unique names; one that does not names
// its item, or says why the whole spec is wrong.
func FuzzParseFieldSelect(f *testing.F) {
	for _, s := range []string{"requestip=c_ip,time,*", "a.b", "x=a.b.c,*,y", "*,*", "=a", "a,a", " , ", "a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		sel, err := parseFieldSelect(spec)
		if err != nil {
			msg := err.Error()
			if msg != "* given twice" && msg != "no fields" {
				named := false
				for item := range specItems(spec, ",") {
					named = named || strings.Contains(msg, fmt.Sprintf("item %q", item))
				}
				assert.True(t, named, "error %q names no item of %q", err, spec)
			}
			return
		}
		if sel == nil {
			assert.Zero(t, specItemCount(spec))
			return
		}
		assert.Len(t, sel.items, specItemCount(spec))
		src := rec("a", "1", "b", json.RawMessage(`{"c":{"d":2}}`), "x", nil, "a.b", "dotted")
		got := record.New(0)
		sel.apply(got, src)
		seen := map[string]bool{}
		for _, fl := range got.Fields {
			assert.False(t, seen[fl.Name], "%q written twice by %q", fl.Name, spec)
			seen[fl.Name] = true
		}
	})
}
