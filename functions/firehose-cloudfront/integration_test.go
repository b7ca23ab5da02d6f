package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"lakestream/shared/firehose"
	"lakestream/shared/moto"
	"lakestream/shared/transformer/transformertest"
)

func TestMain(m *testing.M) { moto.Main(m) }

// TestIntegration runs the real binary on the sample log and plays
// Firehose with dynamic partitioning against moto: the Ok lines land under
// the partition of their request time.
func TestIntegration(t *testing.T) {
	resp, landed := transformertest.Integration(t, function, "standard-log.json", newHandler)
	results := map[string]int{}
	for _, r := range resp.Records {
		results[r.Result]++
	}
	assert.Equal(t, map[string]int{firehose.ResultOk: 4, firehose.ResultDropped: 2, firehose.ResultProcessingFailed: 2}, results)
	assert.Len(t, landed[function+"/year=2024/month=05/day=01/hour=13/"], 8, "every written line landed in its hour")
	assert.Len(t, landed, 1)
}

// TestInvalidSettingsFailInit: the real binary refuses to start with an
// invalid setting and names the variable.
func TestInvalidSettingsFailInit(t *testing.T) {
	transformertest.InitFails(t, function, map[string]string{"DERIVE_USER_AGENT": "maybe", "MASK_FIELDS": "c_ip=hash"},
		`DERIVE_USER_AGENT="maybe" is invalid: true or false`,
		`HASH_SALT is required`)
}
