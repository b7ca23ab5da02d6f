package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/golden"
)

// configView is what a golden config file shows of a Config.
type configView struct {
	Destinations       []destinationView `json:"destinations"`
	InPlace            []destinationView `json:"inPlace,omitempty"`
	TimeFallback       string            `json:"timeFallback"`
	SourcePrefix       string            `json:"sourcePrefix"`
	DeleteSource       bool              `json:"deleteSource"`
	KMSKeyID           string            `json:"kmsKeyId"`
	GlueDatabase       string            `json:"glueDatabase"`
	Registers          bool              `json:"registers"`
	MultipartThreshold int64             `json:"multipartThreshold"`
	PartSize           int64             `json:"partSize"`
	Concurrency        int               `json:"concurrency"`
	RetryAttempts      int               `json:"retryAttempts"`
}

type destinationView struct {
	Layout        string   `json:"layout"`
	Table         string   `json:"table,omitempty"`
	PartitionKeys []string `json:"partitionKeys"`
	FixedBucket   string   `json:"fixedBucket"`
	FixedPrefix   string   `json:"fixedPrefix"`
}

// TestLoadConfig loads each testdata/config/<case>.env and compares the
// settings, or every problem found, with <case>.golden.json.
func TestLoadConfig(t *testing.T) {
	for _, in := range golden.Inputs(t, "testdata/config/*.env") {
		name := caseName(in)
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(readEnv(t, in)))
			cfg := loadConfig(env)
			got := map[string]any{}
			if err := env.Err(); err != nil {
				got["error"] = strings.Split(err.Error(), "\n")
				var ce *config.Error
				assert.True(t, errors.As(err, &ce), "problems are *config.Error values naming the variable")
			} else {
				got["config"] = view(cfg)
			}
			golden.JSON(t, strings.TrimSuffix(in, ".env")+".golden.json", got)
		})
	}
}

func view(c *Config) configView {
	v := configView{
		TimeFallback: c.TimeFallback, SourcePrefix: c.SourcePrefix, DeleteSource: c.DeleteSource, KMSKeyID: c.KMSKeyID,
		GlueDatabase: c.GlueDatabase, Registers: c.registers(), MultipartThreshold: c.MultipartThreshold, PartSize: c.PartSize,
		Concurrency: c.Concurrency, RetryAttempts: c.Retry.MaxAttempts,
	}
	for _, d := range c.Destinations {
		v.Destinations = append(v.Destinations, destinationView{Layout: d.Layout.String(), Table: d.Table, PartitionKeys: d.Layout.PartitionKeys(), FixedBucket: d.bucket, FixedPrefix: d.prefix})
	}
	for _, d := range c.InPlace {
		v.InPlace = append(v.InPlace, destinationView{Layout: d.Layout.String(), Table: d.Table, PartitionKeys: d.Layout.PartitionKeys()})
	}
	return v
}

// TestTemplateConfig checks that the environment template.yaml gives the
// function (parameter defaults resolved) is valid and means what the
// template's comments say.
func TestTemplateConfig(t *testing.T) {
	cfg := mustConfig(t, templateEnv(t))
	require.Len(t, cfg.Destinations, 2)
	assert.Equal(t, "s3://lakestream-lake/events/hourly/dt={yyyy}-{MM}-{dd}/hour={HH}/{filename}", cfg.Destinations[0].Layout.String())
	assert.Equal(t, []string{"dt", "hour"}, cfg.Destinations[0].Layout.PartitionKeys())
	assert.Equal(t, "events_hourly", cfg.Destinations[0].Table)
	assert.Equal(t, "s3://lakestream-lake/events/minute/{yyyy}/{MM}/{dd}/{HH}/{mm}/{filename}", cfg.Destinations[1].Layout.String())
	assert.Equal(t, "events_minute", cfg.Destinations[1].Table)
	assert.Equal(t, "lakestream", cfg.GlueDatabase)
	assert.Equal(t, "incoming/", cfg.SourcePrefix)
	assert.False(t, cfg.DeleteSource)
	assert.Empty(t, cfg.KMSKeyID)
	assert.Equal(t, fallbackFail, cfg.TimeFallback)
	assert.Equal(t, int64(maxCopyObjectSize), cfg.MultipartThreshold, "CopyObject up to its 5 GiB limit")
	assert.Equal(t, int64(defaultPartSize), cfg.PartSize)
}
