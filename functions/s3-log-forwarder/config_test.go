package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
)

func TestLoadConfig(t *testing.T) {
	env := config.New(config.FromMap(map[string]string{
		"FORMAT": "cloudfront", "DELIVERY_STREAM": "cf-logs", "ERROR_BUCKET": "errors", "ERROR_PREFIX": "/bad/",
		"MAX_LINE_BYTES": "64KiB", "PUT_ATTEMPTS": "7", "OUTPUT_FORMAT": "csv", "DERIVE_USER_AGENT": "true",
	}))
	cfg, err := loadConfig(env)
	require.NoError(t, env.Err())
	require.NoError(t, err)
	assert.Equal(t, "cloudfront", cfg.Format.Name)
	assert.Equal(t, "cf-logs", cfg.DeliveryStream)
	assert.Equal(t, "bad/", cfg.ErrorPrefix)
	assert.Equal(t, 64<<10, cfg.MaxLineBytes)
	assert.Equal(t, 7, cfg.Retry.MaxAttempts)
	assert.Equal(t, "errors", cfg.errorBucket("logs"))
	assert.Equal(t, "bad/logs/a/b.gz.errors-0012.ndjson", cfg.errorKey("logs", "a/b.gz", 12))
	require.NotNil(t, cfg.Pipeline)

	// The csv columns default to the format's, then what the key adds.
	s := cfg.Pipeline.NewLineStream(eventTime)
	rec, err := cfg.Format.Parse([]byte("2024-05-01\t13:45:00\tFRA56-P1\t5120\t203.0.113.7\tGET\td1.cloudfront.net\t/\t200\t-\tcurl/8\t-\t-\tHit\tid\th\thttps\t1\t0.1"), eventTime)
	require.NoError(t, err)
	rec.Fields = append(rec.Fields, cfg.Format.KeyFields("E1.2024-05-01-13.x.gz")...)
	_, err = s.Record(rec, nil)
	require.NoError(t, err)
	assert.Equal(t, "2024-05-01T13:45:00Z,2024-05-01,13:45:00,FRA56-P1,5120,203.0.113.7,GET,d1.cloudfront.net,/,200,,curl/8,,,Hit,id,h,https,1,0.1"+
		",,,,,,,,,,,,,,,curl,Other,false,E1,E1.2024-05-01-13.x.gz\n", string(s.Output()))

	env = config.New(config.FromMap(map[string]string{"FORMAT": "waf", "DELIVERY_STREAM": "w"}))
	cfg, err = loadConfig(env)
	require.NoError(t, env.Err())
	require.NoError(t, err)
	assert.Equal(t, "logs", cfg.errorBucket("logs"), "by default the object's own bucket")
	assert.Equal(t, defaultErrorPrefix, cfg.ErrorPrefix)
	assert.Equal(t, defaultMaxLine, cfg.MaxLineBytes)
}

func TestLoadConfigRejects(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want []string
	}{
		"nothing set": {env: map[string]string{}, want: []string{"FORMAT is required", "DELIVERY_STREAM is required"}},
		"bad names": {env: map[string]string{"FORMAT": "alb", "DELIVERY_STREAM": "no spaces", "ERROR_BUCKET": "Bad_Bucket"},
			want: []string{`DELIVERY_STREAM="no spaces" is invalid`, `ERROR_BUCKET="Bad_Bucket" is invalid`}},
		"error prefix": {env: map[string]string{"FORMAT": "alb", "DELIVERY_STREAM": "s", "ERROR_PREFIX": "errors"},
			want: []string{`ERROR_PREFIX="errors" is invalid: a key prefix ending in "/"`}},
		"line bounds": {env: map[string]string{"FORMAT": "alb", "DELIVERY_STREAM": "s", "MAX_LINE_BYTES": "100"},
			want: []string{`MAX_LINE_BYTES="100" is invalid: a byte count from 1KiB to 16MiB`}},
		// PutRecordBatch carries no keys: say so rather than ignore them.
		"partition keys": {env: map[string]string{"FORMAT": "alb", "DELIVERY_STREAM": "s", "PARTITION_KEYS": "year"},
			want: []string{`PARTITION_KEYS="year" is invalid: unset: PutRecordBatch carries no partition keys`}},
		"pipeline variable": {env: map[string]string{"FORMAT": "alb", "DELIVERY_STREAM": "s", "FIELDS": "a,a"},
			want: []string{`FIELDS="a,a" is invalid`}},
		"format variable": {env: map[string]string{"FORMAT": "alb", "DELIVERY_STREAM": "s", "DERIVE_USER_AGENT": "true"},
			want: []string{`DERIVE_USER_AGENT="true" is invalid: unset unless FORMAT is cloudfront`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(tc.env))
			cfg, err := loadConfig(env)
			require.NoError(t, err)
			require.Error(t, env.Err())
			for _, w := range tc.want {
				assert.ErrorContains(t, env.Err(), w)
			}
			assert.Nil(t, cfg.Pipeline)
		})
	}
}
