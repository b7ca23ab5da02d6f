package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
)

func TestLoadConfig(t *testing.T) {
	tests := map[string]struct {
		env     map[string]string
		check   func(t *testing.T, c Config)
		streams []string
		errs    []string
	}{
		"defaults": {
			env: map[string]string{"DELIVERY_STREAM": "lake"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, Converter{NewImage: true, OldImage: true, KinesisNewline: true, Shape: ShapeEnvelope}, c.Convert)
				assert.Nil(t, c.Stages, "no stage set, none run")
				assert.False(t, c.Withhold)
				assert.Equal(t, 20, c.Retry.MaxAttempts)
				assert.Equal(t, "ddb-stream-forwarder/oversize/", c.OverflowPrefix)
				assert.Empty(t, c.OverflowBucket)
			},
			streams: []string{"lake"},
		},
		"every setting": {
			env: map[string]string{
				"DELIVERY_STREAM": "lake", "ROUTES": "Orders=orders-lake, clicks=clicks.lake",
				"IMAGES": "NEW", "REMOVES": "skip-ttl", "KINESIS_NEWLINE": "false",
				"OVERFLOW_BUCKET": "lake-overflow", "OVERFLOW_PREFIX": "/big", "PUT_ATTEMPTS": "5",
			},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, Converter{NewImage: true, SkipTTLRemoves: true, Shape: ShapeEnvelope}, c.Convert)
				assert.Equal(t, map[string]string{"Orders": "orders-lake", "clicks": "clicks.lake"}, c.Routes)
				assert.Equal(t, "big/", c.OverflowPrefix, "a prefix is a folder, relative to the bucket")
				assert.Equal(t, 5, c.Retry.MaxAttempts)
			},
			streams: []string{"clicks.lake", "lake", "orders-lake"},
		},
		"routes only": {
			env: map[string]string{"ROUTES": "A=s1,B=s2,C=s1", "IMAGES": "old", "REMOVES": "skip"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, Converter{OldImage: true, SkipRemoves: true, KinesisNewline: true, Shape: ShapeEnvelope}, c.Convert)
			},
			streams: []string{"s1", "s2"},
		},
		"an item shape, stages": {
			env: map[string]string{"DELIVERY_STREAM": "lake", "OUTPUT_SHAPE": "Item", "DROP_IF": "status=abandoned", "SCHEMA": "total:float:0.."},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, ShapeItem, c.Convert.Shape)
				assert.Nil(t, c.Convert.Projection)
				assert.NotNil(t, c.Stages)
				assert.False(t, c.Withhold, "nothing masked")
			},
			streams: []string{"lake"},
		},
		"a projection, masked": {
			env: map[string]string{
				"DELIVERY_STREAM": "lake", "OUTPUT_SHAPE": "projection", "PROJECTION": "table_name=@table,user_id,*",
				"MASK_FIELDS": "user_id=hash", "HASH_SALT": "s",
			},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, ShapeProjection, c.Convert.Shape)
				require.NotNil(t, c.Convert.Projection)
				assert.Equal(t, []string{`"table_name"=@table`, `"user_id"=user_id`, "*"}, written(c.Convert.Projection))
				assert.NotNil(t, c.Stages)
				assert.True(t, c.Withhold)
			},
			streams: []string{"lake"},
		},
		"no stream at all": {
			env:  map[string]string{},
			errs: []string{"DELIVERY_STREAM is required: a Firehose delivery stream name"},
		},
		"bad values, every one named": {
			env: map[string]string{
				"DELIVERY_STREAM": "has space", "ROUTES": "Orders=bad/name", "IMAGES": "all", "REMOVES": "no",
				"KINESIS_NEWLINE": "maybe", "OVERFLOW_BUCKET": "Bad_Bucket", "PUT_ATTEMPTS": "101",
			},
			errs: []string{
				`DELIVERY_STREAM="has space" is invalid`,
				`ROUTES="Orders=bad/name" is invalid`,
				`IMAGES="all" is invalid: one of new, old, both`,
				`REMOVES="no" is invalid: one of include, skip, skip-ttl`,
				`KINESIS_NEWLINE="maybe" is invalid: true or false`,
				`OVERFLOW_BUCKET="Bad_Bucket" is invalid`,
				`PUT_ATTEMPTS="101" is invalid: an integer from 1 to 100`,
			},
		},
		"shape and projection problems, each named": {
			env: map[string]string{"DELIVERY_STREAM": "lake", "OUTPUT_SHAPE": "flat", "PROJECTION": "a.b"},
			errs: []string{
				`OUTPUT_SHAPE="flat" is invalid: one of envelope, item, projection`,
				`PROJECTION="a.b" is invalid: unset unless OUTPUT_SHAPE is projection`,
			},
		},
		"a projection without its fields": {
			env:  map[string]string{"DELIVERY_STREAM": "lake", "OUTPUT_SHAPE": "projection"},
			errs: []string{"PROJECTION is required: comma-separated fields to write", "required when OUTPUT_SHAPE is projection"},
		},
		"a projection that does not parse": {
			env:  map[string]string{"DELIVERY_STREAM": "lake", "OUTPUT_SHAPE": "projection", "PROJECTION": "t=@region,a.b"},
			errs: []string{`PROJECTION="t=@region,a.b" is invalid: item "t=@region": unknown metadata @region; accepts comma-separated fields`},
		},
		"pipeline problems, each named": {
			env: map[string]string{
				"DELIVERY_STREAM": "lake", "PARTITION_KEYS": "year,month", "MASK_FIELDS": "user_id=hash,ip=scramble",
				"SCHEMA": "total:money", "DROP_IF": "status", "OUTPUT_FORMAT": "parquet",
			},
			errs: []string{
				`PARTITION_KEYS="year,month" is invalid: unset: PutRecordBatch carries no partition keys`,
				`MASK_FIELDS="user_id=hash,ip=scramble" is invalid`,
				`SCHEMA="total:money" is invalid`,
				`DROP_IF="status" is invalid`,
				`OUTPUT_FORMAT="parquet" is invalid`,
			},
		},
		"hashing needs a salt": {
			env:  map[string]string{"DELIVERY_STREAM": "lake", "MASK_FIELDS": "new_image.user_id=hash"},
			errs: []string{`HASH_SALT is required`},
		},
		"routes not pairs": {
			env:  map[string]string{"ROUTES": "Orders"},
			errs: []string{`ROUTES="Orders" is invalid: comma-separated key=value pairs`, "DELIVERY_STREAM is required"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(tc.env))
			c := loadConfig(env)
			err := env.Err()
			if len(tc.errs) > 0 {
				require.Error(t, err)
				for _, want := range tc.errs {
					assert.Contains(t, err.Error(), want)
				}
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
			assert.Equal(t, tc.streams, c.Streams())
		})
	}
}
