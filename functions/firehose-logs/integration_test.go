package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"lakestream/shared/firehose"
	"lakestream/shared/moto"
	"lakestream/shared/transformer/transformertest"
)

func TestMain(m *testing.M) { moto.Main(m) }

// TestIntegration runs the real binary on the WAF sample and plays
// Firehose with dynamic partitioning against moto: the Ok lines land under
// the partition of their request time.
func TestIntegration(t *testing.T) {
	resp, landed := transformertest.Integration(t, function, "waf.json", newHandler)
	results := map[string]int{}
	for _, r := range resp.Records {
		results[r.Result]++
	}
	assert.Equal(t, map[string]int{firehose.ResultOk: 4, firehose.ResultProcessingFailed: 2}, results)
	prefix := function + "/"
	assert.Len(t, landed[prefix+"year=2024/month=03/day=05/hour=06/"], 2, "both lines of one hour landed in it")
	assert.Len(t, landed[prefix+"year=2019/month=12/day=13/hour=23/"], 1)
	assert.Len(t, landed, 4)
}

// TestInvalidSettingsFailInit: the real binary refuses to start without a
// FORMAT it knows, and names the variable.
func TestInvalidSettingsFailInit(t *testing.T) {
	transformertest.InitFails(t, function, map[string]string{"FORMAT": "elb"},
		`FORMAT="elb" is invalid: one of accesslog, alb, cloudfront, cloudtrail, json, s3access, syslog, vpcflow, waf`)
}
