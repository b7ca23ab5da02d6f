package pipeline

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
)

func TestLoad(t *testing.T) {
	env := config.New(config.FromMap(map[string]string{
		"ARRIVAL_TIME_FIELD":  "received_at",
		"ARRIVAL_TIME_FORMAT": "EPOCH-MS",
		"MASK_FIELDS":         "remote_host=truncate-ip,user=hash",
		"HASH_SALT":           "pepper",
		"MASK_IPV4_PREFIX":    "16",
		"DROP_IF":             "method=HEAD",
		"SCHEMA":              "status:int",
		"TIME_FIELD":          "time",
		"PARTITION_KEYS":      "year",
		"OUTPUT_FORMAT":       "csv",
		"OUTPUT_COLUMNS":      "time,status",
	}))
	got := Load(env)
	require.NoError(t, env.Err())
	assert.Equal(t, Options{
		ArrivalTimeField:  "received_at",
		ArrivalTimeFormat: TimeEpochMillis,
		MaskFields:        "remote_host=truncate-ip,user=hash",
		HashSalt:          "pepper",
		IPv4Prefix:        16,
		IPv6Prefix:        DefaultIPv6Prefix,
		DropIf:            "method=HEAD",
		Schema:            "status:int",
		TimeField:         "time",
		PartitionKeys:     "year",
		OutputFormat:      FormatCSV,
		OutputColumns:     "time,status",
	}, got)
}

// TestLoadDefaults checks that a transformer's defaults fill only the
// variables left unset, and when the OUTPUT_COLUMNS default applies.
func TestLoadDefaults(t *testing.T) {
	def := Options{
		TimeField:     "time",
		PartitionKeys: "year,month",
		IPv4Prefix:    16,
		OutputColumns: "time,status",
		Split:         SplitJSON,
	}
	tests := map[string]struct {
		env  map[string]string
		want Options
	}{
		"unset variables take the defaults": {
			env: map[string]string{},
			want: Options{TimeField: "time", PartitionKeys: "year,month", IPv4Prefix: 16, IPv6Prefix: DefaultIPv6Prefix,
				ArrivalTimeFormat: TimeRFC3339, OutputFormat: FormatJSON, Split: SplitJSON},
		},
		"set variables win": {
			env: map[string]string{"TIME_FIELD": "ts", "PARTITION_KEYS": "date", "MASK_IPV4_PREFIX": "24"},
			want: Options{TimeField: "ts", PartitionKeys: "date", IPv4Prefix: 24, IPv6Prefix: DefaultIPv6Prefix,
				ArrivalTimeFormat: TimeRFC3339, OutputFormat: FormatJSON, Split: SplitJSON},
		},
		"csv takes the default columns": {
			env: map[string]string{"OUTPUT_FORMAT": "csv"},
			want: Options{TimeField: "time", PartitionKeys: "year,month", IPv4Prefix: 16, IPv6Prefix: DefaultIPv6Prefix,
				ArrivalTimeFormat: TimeRFC3339, OutputFormat: FormatCSV, OutputColumns: "time,status", Split: SplitJSON},
		},
		"default columns end with the arrival time": {
			env: map[string]string{"OUTPUT_FORMAT": "tsv", "ARRIVAL_TIME_FIELD": "received_at"},
			want: Options{ArrivalTimeField: "received_at", TimeField: "time", PartitionKeys: "year,month", IPv4Prefix: 16,
				IPv6Prefix: DefaultIPv6Prefix, ArrivalTimeFormat: TimeRFC3339, OutputFormat: FormatTSV,
				OutputColumns: "time,status,received_at", Split: SplitJSON},
		},
		"an arrival time already listed is not added": {
			env: map[string]string{"OUTPUT_FORMAT": "csv", "ARRIVAL_TIME_FIELD": "status"},
			want: Options{ArrivalTimeField: "status", TimeField: "time", PartitionKeys: "year,month", IPv4Prefix: 16,
				IPv6Prefix: DefaultIPv6Prefix, ArrivalTimeFormat: TimeRFC3339, OutputFormat: FormatCSV,
				OutputColumns: "time,status", Split: SplitJSON},
		},
		"set columns win": {
			env: map[string]string{"OUTPUT_FORMAT": "csv", "OUTPUT_COLUMNS": "status", "ARRIVAL_TIME_FIELD": "received_at"},
			want: Options{ArrivalTimeField: "received_at", TimeField: "time", PartitionKeys: "year,month", IPv4Prefix: 16,
				IPv6Prefix: DefaultIPv6Prefix, ArrivalTimeFormat: TimeRFC3339, OutputFormat: FormatCSV,
				OutputColumns: "status", Split: SplitJSON},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(tc.env))
			got := LoadDefaults(env, def)
			require.NoError(t, env.Err())
			assert.Equal(t, tc.want, got)
			_, err := New(ParseJSON, got)
			assert.NoError(t, err)
		})
	}
}

// TestLoadDefaultsStillValidates: a set variable is checked as with Load,
// and json output refuses OUTPUT_COLUMNS set by the operator.
func TestLoadDefaultsStillValidates(t *testing.T) {
	env := config.New(config.FromMap(map[string]string{"OUTPUT_COLUMNS": "a", "TIME_FIELD": "a."}))
	LoadDefaults(env, Options{OutputColumns: "time", TimeField: "time"})
	err := env.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `OUTPUT_COLUMNS="a" is invalid: nothing when OUTPUT_FORMAT is json`)
	assert.Contains(t, err.Error(), `TIME_FIELD="a." is invalid`)
}

// TestLoadMalformed checks that every invalid variable is reported naming
// the variable and, for specs, the bad item.
func TestLoadMalformed(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want []string
	}{
		"unknown mask action": {
			env:  map[string]string{"MASK_FIELDS": "remote_host=truncate-ip, user=hashh"},
			want: []string{`MASK_FIELDS="remote_host=truncate-ip, user=hashh" is invalid: item "user=hashh": unknown action "hashh"`},
		},
		"masking lines": {
			env:  map[string]string{"OUTPUT_FORMAT": "lines", "MASK_FIELDS": "user=drop"},
			want: []string{`MASK_FIELDS="user=drop" is invalid: unset when OUTPUT_FORMAT is lines, which writes each record's text as it came, not its fields: use json, csv or tsv to mask`},
		},
		"enriching splunk": {
			env:  map[string]string{"OUTPUT_FORMAT": "splunk", "ARRIVAL_TIME_FIELD": "arrival"},
			want: []string{`ARRIVAL_TIME_FIELD="arrival" is invalid: unset when OUTPUT_FORMAT is splunk`},
		},
		"columns for lines": {
			env:  map[string]string{"OUTPUT_FORMAT": "lines", "OUTPUT_COLUMNS": "a"},
			want: []string{`OUTPUT_COLUMNS="a" is invalid: nothing when OUTPUT_FORMAT is lines: it writes each record's text`},
		},
		"embedding into csv": {
			env:  map[string]string{"OUTPUT_FORMAT": "csv", "OUTPUT_COLUMNS": "a", "EMBED_JSON_MESSAGE": "true"},
			want: []string{`EMBED_JSON_MESSAGE="true" is invalid: false unless OUTPUT_FORMAT is json or splunk (csv has no place for an object)`},
		},
		"splunk settings without splunk": {
			env: map[string]string{"SPLUNK_HOST": "h", "SPLUNK_SOURCE": "s", "SPLUNK_SOURCETYPE": "t", "SPLUNK_INDEX": "i"},
			want: []string{`SPLUNK_HOST="h" is invalid: unset unless OUTPUT_FORMAT is splunk`, `SPLUNK_SOURCE="s" is invalid`,
				`SPLUNK_SOURCETYPE="t" is invalid`, `SPLUNK_INDEX="i" is invalid`},
		},
		"splunk host field without a name": {
			env:  map[string]string{"OUTPUT_FORMAT": "splunk", "SPLUNK_HOST": "field:"},
			want: []string{`SPLUNK_HOST="field:" is invalid: empty field name; accepts a literal value, or field:<name> for a field's value`},
		},
		"unknown format": {
			env:  map[string]string{"OUTPUT_FORMAT": "xml"},
			want: []string{`OUTPUT_FORMAT="xml" is invalid: one of json, csv, tsv, lines, splunk`},
		},
		"mask without action": {
			env:  map[string]string{"MASK_FIELDS": "user"},
			want: []string{`MASK_FIELDS="user" is invalid: item "user": want field=action`},
		},
		"mask twice": {
			env:  map[string]string{"MASK_FIELDS": "user=drop,user=redact"},
			want: []string{`item "user=redact": field "user" is masked twice`},
		},
		"mask empty path segment": {
			env:  map[string]string{"MASK_FIELDS": "user..id=drop"},
			want: []string{`MASK_FIELDS="user..id=drop" is invalid: item "user..id=drop": field "user..id" has an empty path segment`},
		},
		"hash without salt": {
			env:  map[string]string{"MASK_FIELDS": "user=hash"},
			want: []string{`HASH_SALT is required: a secret salt, required because MASK_FIELDS hashes "user"`},
		},
		"ipv4 prefix out of range": {
			env:  map[string]string{"MASK_IPV4_PREFIX": "33"},
			want: []string{`MASK_IPV4_PREFIX="33" is invalid`},
		},
		"ipv6 prefix not a number": {
			env:  map[string]string{"MASK_IPV6_PREFIX": "/48"},
			want: []string{`MASK_IPV6_PREFIX="/48" is invalid`},
		},
		"condition without operator": {
			env:  map[string]string{"DROP_IF": "method=HEAD,status"},
			want: []string{`DROP_IF="method=HEAD,status" is invalid: item "status": condition "status" has no =, ^= or ~=`},
		},
		"bad regexp": {
			env:  map[string]string{"DROP_IF": "uri~=(unclosed"},
			want: []string{`DROP_IF="uri~=(unclosed" is invalid: item "uri~=(unclosed": condition "uri~=(unclosed": error parsing regexp`},
		},
		"empty prefix": {
			env:  map[string]string{"DROP_IF": "uri^="},
			want: []string{`item "uri^=": condition "uri^=": an empty prefix would match every value`},
		},
		"condition without field": {
			env:  map[string]string{"DROP_IF": "method=GET&=x"},
			want: []string{`item "method=GET&=x": condition "=x": empty field name`},
		},
		"schema without type": {
			env:  map[string]string{"SCHEMA": "status"},
			want: []string{`SCHEMA="status" is invalid: item "status": want field:type`},
		},
		"schema unknown type": {
			env:  map[string]string{"SCHEMA": "status:integer"},
			want: []string{`item "status:integer": unknown type "integer"`},
		},
		"schema inverted range": {
			env:  map[string]string{"SCHEMA": "status:int:599..100"},
			want: []string{`item "status:int:599..100": range "599..100": minimum above maximum`},
		},
		"schema range on string": {
			env:  map[string]string{"SCHEMA": "ua:string:1..5"},
			want: []string{`item "ua:string:1..5": range "1..5" applies to int and float, not string`},
		},
		"schema max on int": {
			env:  map[string]string{"SCHEMA": "n:int:max=5"},
			want: []string{`item "n:int:max=5": max= applies to string, not int`},
		},
		"schema bad bound": {
			env:  map[string]string{"SCHEMA": "n:int:1.5.."},
			want: []string{`item "n:int:1.5..": range "1.5..": bound "1.5" is not a valid int`},
		},
		"schema NaN bound": {
			env:  map[string]string{"SCHEMA": "n:float:NaN.."},
			want: []string{`item "n:float:NaN..": range "NaN..": bound "NaN" is not a valid float`},
		},
		"schema empty range": {
			env:  map[string]string{"SCHEMA": "n:int:.."},
			want: []string{`item "n:int:..": range ".." has no bounds`},
		},
		"schema zero max": {
			env:  map[string]string{"SCHEMA": "ua:string:max=0"},
			want: []string{`item "ua:string:max=0": "max=0": want one max=N with N a positive integer`},
		},
		"schema unknown constraint": {
			env:  map[string]string{"SCHEMA": "n:int:required:unique"},
			want: []string{`item "n:int:required:unique": unknown constraint "unique"`},
		},
		"schema field twice": {
			env:  map[string]string{"SCHEMA": "n:int,n:float"},
			want: []string{`item "n:float": field "n" is declared twice`},
		},
		"partition unknown source": {
			env:  map[string]string{"PARTITION_KEYS": "year,yr"},
			want: []string{`PARTITION_KEYS="year,yr" is invalid: item "yr": unknown source "yr"`},
		},
		"partition bad key name": {
			env:  map[string]string{"PARTITION_KEYS": "my-year=year"},
			want: []string{`item "my-year=year": key "my-year": want letters, digits and _`},
		},
		"partition key twice": {
			env:  map[string]string{"PARTITION_KEYS": "year,year=field:y"},
			want: []string{`item "year=field:y": key "year" given twice`},
		},
		"partition empty field": {
			env:  map[string]string{"PARTITION_KEYS": "s=field:"},
			want: []string{`item "s=field:": empty field name`},
		},
		"unknown output format": {
			env:  map[string]string{"OUTPUT_FORMAT": "xml"},
			want: []string{`OUTPUT_FORMAT="xml" is invalid: one of json, csv, tsv`},
		},
		"csv without columns": {
			env:  map[string]string{"OUTPUT_FORMAT": "csv"},
			want: []string{`OUTPUT_COLUMNS is required: comma-separated field names, required when OUTPUT_FORMAT is csv or tsv`},
		},
		"columns with json": {
			env:  map[string]string{"OUTPUT_COLUMNS": "a,b"},
			want: []string{`OUTPUT_COLUMNS="a,b" is invalid: nothing when OUTPUT_FORMAT is json`},
		},
		"bad column": {
			env:  map[string]string{"OUTPUT_FORMAT": "tsv", "OUTPUT_COLUMNS": "a,.b"},
			want: []string{`OUTPUT_COLUMNS="a,.b" is invalid: item ".b": field ".b" has an empty path segment`},
		},
		"unknown arrival format": {
			env:  map[string]string{"ARRIVAL_TIME_FORMAT": "unix"},
			want: []string{`ARRIVAL_TIME_FORMAT="unix" is invalid: one of rfc3339, epoch-ms`},
		},
		"bad time field": {
			env:  map[string]string{"TIME_FIELD": "a."},
			want: []string{`TIME_FIELD="a." is invalid: field "a." has an empty path segment`},
		},
		"every problem at once": {
			env: map[string]string{"MASK_FIELDS": "u=hash", "SCHEMA": "s:nope", "PARTITION_KEYS": "minute", "OUTPUT_FORMAT": "tsv"},
			want: []string{
				`HASH_SALT is required`,
				`SCHEMA="s:nope" is invalid`,
				`PARTITION_KEYS="minute" is invalid`,
				`OUTPUT_COLUMNS is required`,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(tc.env))
			Load(env)
			err := env.Err()
			require.Error(t, err)
			for _, want := range tc.want {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	tests := map[string]struct {
		parse    Parser
		opts     Options
		variable string
	}{
		"nil parser":      {parse: nil, opts: Options{}},
		"bad format":      {parse: ParseJSON, opts: Options{OutputFormat: "xml"}, variable: "OUTPUT_FORMAT"},
		"bad time format": {parse: ParseJSON, opts: Options{ArrivalTimeFormat: "unix"}, variable: "ARRIVAL_TIME_FORMAT"},
		"bad prefix":      {parse: ParseJSON, opts: Options{IPv6Prefix: 129}, variable: "MASK_IPV6_PREFIX"},
		"bad split":       {parse: ParseJSON, opts: Options{Split: 7}, variable: "Options.Split"},
		"bad spec":        {parse: ParseJSON, opts: Options{Schema: "a:b"}, variable: "SCHEMA"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := New(tc.parse, tc.opts)
			require.Error(t, err)
			assert.Nil(t, p)
			if tc.variable == "" {
				return
			}
			var cfgErr *config.Error
			require.True(t, errors.As(err, &cfgErr), "want a *config.Error, got %v", err)
			assert.Equal(t, tc.variable, cfgErr.Name)
		})
	}
}

// TestPartitionAliases: a transformer's alias names a field source, and
// is listed in the error of a spec that names no source it knows.
func TestPartitionAliases(t *testing.T) {
	aliases := map[string]string{"log_group": "field:logGroup"}
	keys, err := parsePartitionKeys("log_group, g=log_group, hour", aliases)
	require.NoError(t, err)
	require.Len(t, keys, 3)
	assert.Equal(t, "log_group", keys[0].name)
	assert.Equal(t, "logGroup", keys[0].field.name)
	assert.Equal(t, "logGroup", keys[1].field.name)
	assert.Equal(t, partHour, keys[2].part)

	_, err = New(ParseJSON, Options{PartitionKeys: "log_stream", PartitionAliases: aliases})
	assert.ErrorContains(t, err, `unknown source "log_stream"; accepts comma-separated key=source`)
	assert.ErrorContains(t, err, `; aliases: log_group (field:logGroup)`)
}

func TestNewZeroOptions(t *testing.T) {
	p, err := New(ParseJSON, Options{})
	require.NoError(t, err)
	assert.Equal(t, FormatJSON, p.stages.format)
	assert.Equal(t, TimeRFC3339, p.stages.arrivalFormat)
	assert.Equal(t, DefaultIPv4Prefix, p.stages.ipv4Bits)
	assert.Equal(t, DefaultIPv6Prefix, p.stages.ipv6Bits)
}
