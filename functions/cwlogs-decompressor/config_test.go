package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/firehose"
	"lakestream/shared/pipeline"
)

func TestLoadConfig(t *testing.T) {
	tests := map[string]struct {
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr []string // each must appear in the error
	}{
		"defaults": {
			env: map[string]string{},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, pipeline.FormatLines, c.Pipeline.OutputFormat, "the blueprint's output by default")
				assert.Equal(t, pipeline.FieldTimestamp, c.Pipeline.TimeField, "partitions by the event's time")
				assert.Equal(t, int64(DefaultMaxDecompressed), c.MaxDecompressed)
				assert.Equal(t, firehose.DefaultBudget, c.Budget)
				assert.Nil(t, c.Include)
				assert.Nil(t, c.Exclude)
				assert.Empty(t, c.Pipeline.PartitionKeys)
				assert.Nil(t, c.Pipeline.ParseMessage)
				assert.Empty(t, c.DestinationStream)
			},
		},
		"everything set": {
			env: map[string]string{
				"OUTPUT_FORMAT": "Splunk", "EMBED_JSON_MESSAGE": "yes", "SPLUNK_SOURCETYPE": "aws:cloudwatchlogs:vpcflow",
				"SPLUNK_HOST": "h", "SPLUNK_INDEX": "net", "INCLUDE_PATTERN": "ACCEPT|REJECT", "EXCLUDE_PATTERN": `^#`,
				"PARTITION_KEYS": " log_group , acct=owner,dt=date ", "MAX_DECOMPRESSED_BYTES": "4MiB", "DESTINATION_STREAM": "direct",
				"PARSE_MESSAGE": "vpcflow", "DROP_IF": "action=REJECT",
			},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, pipeline.FormatSplunk, c.Pipeline.OutputFormat)
				assert.True(t, c.Pipeline.EmbedJSON)
				assert.Equal(t, []string{"aws:cloudwatchlogs:vpcflow", "h", "net", "field:logGroup"},
					[]string{c.Pipeline.SplunkSourcetype, c.Pipeline.SplunkHost, c.Pipeline.SplunkIndex, c.Pipeline.SplunkSource})
				assert.True(t, c.Include.MatchString("x REJECT"))
				assert.True(t, c.Exclude.MatchString("# comment"))
				assert.Equal(t, "log_group , acct=owner,dt=date", c.Pipeline.PartitionKeys)
				assert.NotNil(t, c.Pipeline.ParseMessage)
				assert.Equal(t, "action=REJECT", c.Pipeline.DropIf)
				assert.Equal(t, int64(4<<20), c.MaxDecompressed)
				assert.Equal(t, "direct", c.DestinationStream)
				_, err := newTransformer(c)
				assert.NoError(t, err, "the aliases log_group and owner are PARTITION_KEYS sources")
			},
		},
		"splunk defaults": {
			env: map[string]string{"OUTPUT_FORMAT": "splunk"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, DefaultSourcetype, c.Pipeline.SplunkSourcetype)
				assert.Equal(t, "field:logStream", c.Pipeline.SplunkHost, "the log stream")
				assert.Equal(t, "field:logGroup", c.Pipeline.SplunkSource, "the log group")
			},
		},
		"csv columns with parsed fields": {
			env: map[string]string{"OUTPUT_FORMAT": "csv", "PARSE_MESSAGE": "vpcflow", "VPCFLOW_FIELDS": "${srcaddr} ${action}"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "logGroup,logStream,owner,id,timestamp,message,srcaddr,action", c.Pipeline.OutputColumns)
			},
		},
		"bad values": {
			env: map[string]string{
				"OUTPUT_FORMAT": "xml", "INCLUDE_PATTERN": "(", "EXCLUDE_PATTERN": "[z-a]",
				"MAX_DECOMPRESSED_BYTES": "lots", "EMBED_JSON_MESSAGE": "maybe", "PARSE_MESSAGE": "yaml",
			},
			wantErr: []string{
				`OUTPUT_FORMAT="xml" is invalid: one of json, csv, tsv, lines, splunk`,
				`INCLUDE_PATTERN="(" is invalid: an RE2 regular expression (error parsing regexp: missing closing )`,
				`EXCLUDE_PATTERN="[z-a]" is invalid`,
				`MAX_DECOMPRESSED_BYTES="lots" is invalid`,
				`EMBED_JSON_MESSAGE="maybe" is invalid: true or false`,
				`PARSE_MESSAGE="yaml" is invalid: one of json, accesslog, syslog, vpcflow`,
			},
		},
		"embedding into lines": {
			env:     map[string]string{"EMBED_JSON_MESSAGE": "true"},
			wantErr: []string{`EMBED_JSON_MESSAGE="true" is invalid: false unless OUTPUT_FORMAT is json or splunk`},
		},
		"masking lines": {
			env:     map[string]string{"MASK_FIELDS": "message=redact"},
			wantErr: []string{`MASK_FIELDS="message=redact" is invalid: unset when OUTPUT_FORMAT is lines, which writes each record's text as it came`},
		},
		"splunk settings without splunk": {
			env:     map[string]string{"OUTPUT_FORMAT": "json", "SPLUNK_SOURCETYPE": "x", "SPLUNK_INDEX": "y"},
			wantErr: []string{`SPLUNK_SOURCETYPE="x" is invalid: unset unless OUTPUT_FORMAT is splunk`, `SPLUNK_INDEX="y" is invalid`},
		},
		"vpcflow fields without vpcflow": {
			env:     map[string]string{"VPCFLOW_FIELDS": "${srcaddr}"},
			wantErr: []string{`VPCFLOW_FIELDS="${srcaddr}" is invalid: unset unless PARSE_MESSAGE is vpcflow`},
		},
		"unknown vpcflow field": {
			env:     map[string]string{"PARSE_MESSAGE": "vpcflow", "VPCFLOW_FIELDS": "${srcaddr} ${colour}"},
			wantErr: []string{`VPCFLOW_FIELDS="${srcaddr} ${colour}" is invalid: the flow log's format, its fields in AWS's ${field-name} notation (unknown field "${colour}"`},
		},
		"unknown partition source": {
			env: map[string]string{"PARTITION_KEYS": "group=log_group,minute"},
			wantErr: []string{`PARTITION_KEYS="group=log_group,minute" is invalid: item "minute": unknown source "minute"`,
				`aliases: log_group (field:logGroup), log_stream (field:logStream), owner (field:owner)`},
		},
		"partition key twice": {
			env:     map[string]string{"PARTITION_KEYS": "hour,hour=day"},
			wantErr: []string{`key "hour" given twice`},
		},
		"partition key name": {
			env:     map[string]string{"PARTITION_KEYS": "log-group=log_group"},
			wantErr: []string{`key "log-group": want letters, digits and _`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(tc.env))
			c := loadConfig(env)
			err := env.Err()
			if len(tc.wantErr) > 0 {
				require.Error(t, err)
				for _, want := range tc.wantErr {
					assert.Contains(t, err.Error(), want)
				}
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}
