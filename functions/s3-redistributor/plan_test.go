package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
	"lakestream/shared/golden"
)

// layoutCase is the input of one testdata/layouts/<case>.json: the
// function's environment and an object an event reported.
type layoutCase struct {
	Env    map[string]string `json:"env"`
	Source batch.S3Object    `json:"source"`
}

// TestPlace reads each testdata/layouts/<case>.json and compares where the
// object goes (or why it is ignored, or why it cannot be placed) with
// <case>.golden.json: the time found in its key, each destination's copy
// and each copy's Glue partition.
func TestPlace(t *testing.T) {
	for _, in := range golden.Inputs(t, "testdata/layouts/*.json") {
		name := caseName(in)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(in)
			require.NoError(t, err)
			var tc layoutCase
			require.NoError(t, json.Unmarshal(b, &tc))
			cfg := mustConfig(t, tc.Env)

			got := map[string]any{}
			if reason := cfg.ignoreReason(tc.Source); reason != "" {
				got["ignored"] = reason
			} else if p, err := cfg.place(tc.Source); err != nil {
				got["error"] = err.Error()
			} else {
				got["placement"] = p
				assert.Equal(t, time.UTC, p.Time.Location())
				for _, target := range p.Targets {
					if target.Location != "" {
						assert.True(t, strings.HasPrefix(target.URI(), target.Location), "copy %s lies under its partition %s", target.URI(), target.Location)
					}
					assert.NotNil(t, cfg.ownOutput(batch.S3Object{Bucket: target.Bucket, Key: target.Key}), "a copy is recognised as the function's own output")
				}
			}
			golden.JSON(t, strings.TrimSuffix(in, ".json")+".golden.json", got)
		})
	}
}
