package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/firehose"
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
				assert.Equal(t, FormatLines, c.Format, "the blueprint's output by default")
				assert.Equal(t, int64(DefaultMaxDecompressed), c.MaxDecompressed)
				assert.Equal(t, firehose.DefaultBudget, c.Budget)
				assert.Nil(t, c.Include)
				assert.Nil(t, c.Exclude)
				assert.Empty(t, c.Partition)
				assert.Empty(t, c.DestinationStream)
			},
		},
		"everything set": {
			env: map[string]string{
				"OUTPUT_FORMAT": "Splunk", "EMBED_JSON_MESSAGE": "yes", "SPLUNK_SOURCETYPE": "aws:cloudwatchlogs:vpcflow",
				"SPLUNK_HOST": "h", "SPLUNK_INDEX": "net", "INCLUDE_PATTERN": "ACCEPT|REJECT", "EXCLUDE_PATTERN": `^#`,
				"PARTITION_KEYS": " log_group , acct=owner,dt=date ", "MAX_DECOMPRESSED_BYTES": "4MiB", "DESTINATION_STREAM": "direct",
			},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, FormatSplunk, c.Format)
				assert.True(t, c.EmbedJSON)
				assert.Equal(t, []string{"aws:cloudwatchlogs:vpcflow", "h", "net"}, []string{c.Sourcetype, c.Host, c.Index})
				assert.True(t, c.Include.MatchString("x REJECT"))
				assert.True(t, c.Exclude.MatchString("# comment"))
				assert.Equal(t, []PartitionKey{{"log_group", SourceLogGroup}, {"acct", SourceOwner}, {"dt", SourceDate}}, c.Partition)
				assert.Equal(t, int64(4<<20), c.MaxDecompressed)
				assert.Equal(t, "direct", c.DestinationStream)
			},
		},
		"splunk defaults": {
			env: map[string]string{"OUTPUT_FORMAT": "splunk"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, DefaultSourcetype, c.Sourcetype)
				assert.Empty(t, c.Host, "the log stream")
			},
		},
		"bad values": {
			env: map[string]string{
				"OUTPUT_FORMAT": "xml", "INCLUDE_PATTERN": "(", "EXCLUDE_PATTERN": "[z-a]",
				"MAX_DECOMPRESSED_BYTES": "lots", "EMBED_JSON_MESSAGE": "maybe",
			},
			wantErr: []string{
				`OUTPUT_FORMAT="xml" is invalid: one of lines, json, splunk`,
				`INCLUDE_PATTERN="(" is invalid: an RE2 regular expression (error parsing regexp: missing closing )`,
				`EXCLUDE_PATTERN="[z-a]" is invalid`,
				`MAX_DECOMPRESSED_BYTES="lots" is invalid`,
				`EMBED_JSON_MESSAGE="maybe" is invalid: true or false`,
			},
		},
		"embedding into lines": {
			env:     map[string]string{"EMBED_JSON_MESSAGE": "true"},
			wantErr: []string{`EMBED_JSON_MESSAGE="true" is invalid: false when OUTPUT_FORMAT is lines`},
		},
		"splunk settings without splunk": {
			env:     map[string]string{"OUTPUT_FORMAT": "json", "SPLUNK_SOURCETYPE": "x", "SPLUNK_INDEX": "y"},
			wantErr: []string{`SPLUNK_SOURCETYPE="x" is invalid: unset unless OUTPUT_FORMAT is splunk`, `SPLUNK_INDEX="y" is invalid`},
		},
		"unknown partition source": {
			env:     map[string]string{"PARTITION_KEYS": "group=log_group,minute"},
			wantErr: []string{`PARTITION_KEYS="group=log_group,minute" is invalid: key "minute": source "minute" is not one of log_group, log_stream, owner, year, month, day, hour, date`},
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
