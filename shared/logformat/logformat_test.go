package logformat

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/pipeline"
)

// TestLoad: each name gives its parser, which reads a line of its format.
func TestLoad(t *testing.T) {
	arrival := time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)
	tests := map[string]struct {
		env     map[string]string
		line    string
		field   string
		want    any
		columns int
	}{
		"json":      {env: map[string]string{"PARSE_MESSAGE": "json"}, line: `{"level":"INFO","n":7}`, field: "n", want: int64(7)},
		"accesslog": {env: map[string]string{"PARSE_MESSAGE": "AccessLog"}, line: `192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1" 200 10`, field: "status", want: int64(200), columns: 16},
		"syslog":    {env: map[string]string{"PARSE_MESSAGE": "syslog"}, line: `<34>Mar  5 06:07:08 host app: up`, field: "timestamp", want: "2024-03-05T06:07:08Z", columns: 13},
		"vpcflow default": {env: map[string]string{"PARSE_MESSAGE": "vpcflow"}, line: "2 1 eni-1 10.0.0.1 10.0.0.2 443 80 6 1 40 1 2 ACCEPT OK",
			field: "dstport", want: int64(80), columns: 14},
		"vpcflow custom": {env: map[string]string{"PARSE_MESSAGE": "vpcflow", "VPCFLOW_FIELDS": "${action} ${reject-reason}"}, line: "REJECT BPA",
			field: "reject_reason", want: "BPA", columns: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(tc.env))
			p := Load(env)
			require.NoError(t, env.Err())
			require.NotNil(t, p.Parse)
			r, err := p.Parse([]byte(tc.line), arrival)
			require.NoError(t, err)
			v, ok := r.Get(tc.field)
			require.True(t, ok, "%s in %v", tc.field, r.Fields)
			assert.Equal(t, tc.want, v)
			assert.Len(t, p.Columns, tc.columns)
			assert.Contains(t, Names, p.Name)
		})
	}
}

func TestLoadUnset(t *testing.T) {
	env := config.New(config.FromMap(nil))
	assert.Equal(t, Parser{}, Load(env))
	require.NoError(t, env.Err())
}

func TestLoadRejects(t *testing.T) {
	for env, want := range map[[2]string]string{
		{"xml", ""}:                 `PARSE_MESSAGE="xml" is invalid: one of json, accesslog, syslog, vpcflow`,
		{"json", "${srcaddr}"}:      `VPCFLOW_FIELDS="${srcaddr}" is invalid: unset unless PARSE_MESSAGE is vpcflow`,
		{"vpcflow", "srcaddr,nope"}: `VPCFLOW_FIELDS="srcaddr,nope" is invalid: the flow log's format, its fields in AWS's ${field-name} notation (unknown field "nope"`,
	} {
		e := config.New(config.FromMap(map[string]string{"PARSE_MESSAGE": env[0], "VPCFLOW_FIELDS": env[1]}))
		Load(e)
		assert.ErrorContains(t, e.Err(), want)
	}
}

// TestParsersFitThePipeline: every parser is a pipeline.ParserAt whose
// records the pipeline writes.
func TestParsersFitThePipeline(t *testing.T) {
	for _, name := range Names {
		env := config.New(config.FromMap(map[string]string{"PARSE_MESSAGE": name}))
		p := Load(env)
		require.NoError(t, env.Err())
		_, err := pipeline.NewEvents([]string{"g"}, pipeline.Options{ParseMessage: p.Parse, ParseMessageName: p.Name})
		assert.NoError(t, err, name)
	}
}
