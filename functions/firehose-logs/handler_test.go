package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/boot"
	"lakestream/shared/config"
	"lakestream/shared/firehose"
	"lakestream/shared/golden"
	"lakestream/shared/logformat"
	"lakestream/shared/transformer/transformertest"
)

const function = "firehose-logs"

// TestHandlerGolden runs the events/ sample (WAF, the template's FORMAT)
// through the handler as main builds it, as deployed, with FIELDS keeping
// the columns of an existing table, and as CSV.
func TestHandlerGolden(t *testing.T) {
	transformertest.Golden(t, function, newHandler, map[string]transformertest.Case{
		"waf": {Event: "waf.json"},
		"waf-fields": {Event: "waf.json", Env: map[string]string{"ARRIVAL_TIME_FIELD": "",
			"FIELDS": "time,action,rule=terminatingRuleId,clientip=httpRequest.clientIp,country=httpRequest.country,uri=httpRequest.uri"}},
		"waf-csv": {Event: "waf.json", Env: map[string]string{"OUTPUT_FORMAT": "csv", "ARRIVAL_TIME_FIELD": "",
			"FIELDS": "time,action,terminatingRuleId"}},
	})
}

// formatLogs are, per FORMAT, the parser's own test logs: every line one
// Firehose record, so that each line's fate shows on its own.
var formatLogs = map[string]string{
	logformat.AccessLog:  "../../shared/accesslog/testdata/combined.log",
	logformat.ALB:        "../../shared/alb/testdata/examples.log",
	logformat.CloudFront: "../../shared/cloudfront/testdata/standard.log",
	logformat.CloudTrail: "testdata/cloudtrail.ndjson", // the events of ../../shared/cloudtrail/testdata/current.trail.json
	logformat.JSON:       "../../shared/pipeline/testdata/transform/json-lines.ndjson",
	logformat.S3Access:   "../../shared/s3access/testdata/examples.log",
	logformat.Syslog:     "../../shared/syslog/testdata/rfc3164.log",
	logformat.VPCFlow:    "../../shared/vpcflow/testdata/default.log",
	logformat.WAF:        "../../shared/waf/testdata/current.log",
}

// TestFormats: every FORMAT turns its parser's sample into typed JSON with
// partition keys from the event time, through the same function; compared
// with testdata/formats/<format>.golden.json.
func TestFormats(t *testing.T) {
	require.ElementsMatch(t, logformat.Formats, keys(formatLogs))
	for name, path := range formatLogs {
		t.Run(name, func(t *testing.T) {
			lines := readLines(t, path)
			env := transformertest.Env(t, function, map[string]string{"FORMAT": name})
			got := transformertest.Transform(t, newHandler, env, lines...)
			ok := 0
			for _, r := range got {
				if r.Result == firehose.ResultOk {
					ok++
				}
			}
			assert.Positive(t, ok, "some records of the sample are Ok")
			golden.JSON(t, filepath.Join("testdata", "formats", name+".golden.json"), got)
		})
	}
}

// TestInitFails: settings the function refuses, naming the variable.
func TestInitFails(t *testing.T) {
	for env, want := range map[string]map[string]string{
		`FORMAT is required`:      {"FORMAT": ""},
		`FORMAT="elb" is invalid`: {"FORMAT": "elb"},
		`DERIVE_USER_AGENT="true" is invalid: unset unless FORMAT`: {"FORMAT": "waf", "DERIVE_USER_AGENT": "true"},
		`FIELDS="a,a" is invalid`:                                  {"FIELDS": "a,a"},
	} {
		t.Run(env, func(t *testing.T) {
			fn := boot.NewFrom(config.FromMap(transformertest.Env(t, function, want)), io.Discard)
			assert.Nil(t, newHandler(fn))
			assert.ErrorContains(t, fn.Err(), env)
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			lines = append(lines, sc.Text()+"\n")
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, lines, path)
	return lines
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// benchLine is line i of a realistic WAF log: allowed and blocked
// requests, a few headers, labels now and then.
func benchLine(i int) []byte {
	actions := []string{"ALLOW", "ALLOW", "ALLOW", "BLOCK"}
	return fmt.Appendf(nil, `{"timestamp":%d,"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:123456789012:regional/webacl/lake/0f1e2d3c","terminatingRuleId":"Default_Action","terminatingRuleType":"REGULAR","action":"%s","terminatingRuleMatchDetails":[],"httpSourceName":"ALB","httpSourceId":"123456789012-app/lake/0f1e2d3c","ruleGroupList":[],"rateBasedRuleList":[],"nonTerminatingMatchingRules":[],"requestHeadersInserted":null,"responseCodeSent":null,"httpRequest":{"clientIp":"203.0.%d.%d","country":"DE","headers":[{"name":"Host","value":"www.example.com"},{"name":"User-Agent","value":"Mozilla/5.0 (X11; Linux x86_64)"}],"uri":"/items/%d","args":"","httpVersion":"HTTP/1.1","httpMethod":"GET","requestId":"1-%08x-abcdef0123456789abcdef01"},"labels":[{"name":"awswaf:managed:aws:bot-control:signal:non_browser_user_agent"}]}`,
		1714571400000+int64(i)*37, actions[i%len(actions)], i%256, (i*7)%256, i, i)
}

// BenchmarkHandler measures the function on a ~1 MB batch of WAF lines
// with the template's settings: records of 100 lines, and one line each.
func BenchmarkHandler(b *testing.B) {
	env := transformertest.Env(b, function, nil)
	for _, perRecord := range []int{100, 1} {
		b.Run(fmt.Sprintf("lines-per-record=%d", perRecord), func(b *testing.B) {
			request, lines := transformertest.Batch(benchLine, perRecord, 1<<20)
			transformertest.Benchmark(b, newHandler, env, request, lines)
		})
	}
}
