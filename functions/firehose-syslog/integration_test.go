package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"lakestream/shared/firehose"
	"lakestream/shared/moto"
	"lakestream/shared/transformer/transformertest"
)

func TestMain(m *testing.M) { moto.Main(m) }

// TestIntegration runs the real binary on the sample batch and plays
// Firehose with dynamic partitioning against moto: the lines land under the
// partition of their message time, year-less ones dated by arrival.
func TestIntegration(t *testing.T) {
	resp, landed := transformertest.Integration(t, function, "mixed.json", newHandler)
	results := map[string]int{}
	for _, r := range resp.Records {
		results[r.Result]++
	}
	assert.Equal(t, map[string]int{firehose.ResultOk: 5, firehose.ResultDropped: 1, firehose.ResultProcessingFailed: 2}, results)
	assert.Len(t, landed[function+"/year=2024/month=05/day=01/hour=13/"], 9, "every written line landed in its hour")
	assert.Len(t, landed, 1)
}

// TestInvalidSettingsFailInit: the real binary refuses to start with an
// invalid setting and names the variable.
func TestInvalidSettingsFailInit(t *testing.T) {
	transformertest.InitFails(t, function, map[string]string{"SCHEMA": "severity:integer", "TIME_FIELD": "structured_data..ip"},
		`SCHEMA="severity:integer" is invalid`,
		`TIME_FIELD="structured_data..ip" is invalid`)
}
