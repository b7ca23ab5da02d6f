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
// Firehose with dynamic partitioning against moto: the Ok documents land
// under the partition of their event time (ts), not their arrival.
func TestIntegration(t *testing.T) {
	resp, landed := transformertest.Integration(t, function, "mixed.json", newHandler)
	results := map[string]int{}
	for _, r := range resp.Records {
		results[r.Result]++
	}
	assert.Equal(t, map[string]int{firehose.ResultOk: 3, firehose.ResultDropped: 1, firehose.ResultProcessingFailed: 2}, results)
	got := map[string]int{}
	for prefix, lines := range landed {
		got[prefix] = len(lines)
	}
	assert.Equal(t, map[string]int{function + "/year=2024/month=05/day=01/hour=13/": 3, function + "/year=2024/month=05/day=01/hour=14/": 1}, got)
}
