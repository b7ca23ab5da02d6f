package waf

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/hivetype"
	"lakestream/shared/pipeline/pipelinetest"
	"lakestream/shared/record"
)

// goldenCases are the golden tests: testdata/<input> parsed line by line
// against testdata/<case>.golden.json.
var goldenCases = map[string]string{
	"AWS's documented examples, one line each":               "examples.log",
	"current fields, text numbers, undocumented fields kept": "current.log",
}

// TestParseGolden parses each testdata/<case>.log line by line and compares
// the records with testdata/<case>.golden.json, a JSON array with one
// record per line; the table and testdata/ list the same cases.
func TestParseGolden(t *testing.T) { pipelinetest.GoldenCases(t, ".log", goldenCases, Parse) }

// TestColumns: the column list is valid, its complex types are Hive types,
// and every golden record fits it.
func TestColumns(t *testing.T) {
	cols := Columns()
	for _, c := range cols {
		_, err := hivetype.Parse(c.Type)
		assert.NoError(t, err, "column %s", c.Name)
	}
	assert.Equal(t, []string{"timestamp", "time", "formatVersion"}, cols.Names()[:3])
	assert.Equal(t, OtherFields, cols[len(cols)-1].Name)
	pipelinetest.ColumnsFit(t, cols, Parse, nil)
}

// TestParse: each line and its record, as JSON.
func TestParse(t *testing.T) {
	pipelinetest.ParsesTo(t, Parse, Columns(), pipelinetest.LineCases{
		"time follows timestamp": {
			`{"action":"ALLOW","timestamp":1576280412771}`,
			`{"timestamp":1576280412771,"time":"2019-12-13T23:40:12.771Z","action":"ALLOW"}`,
		},
		"whole seconds keep their milliseconds": {
			`{"timestamp":1576280412000}`,
			`{"timestamp":1576280412000,"time":"2019-12-13T23:40:12.000Z"}`,
		},
		"text numbers in bigint fields": {
			`{"timestamp":"1576280412771","responseCodeSent":"429","requestBodySize":"8192"}`,
			`{"timestamp":1576280412771,"time":"2019-12-13T23:40:12.771Z","responseCodeSent":429,"requestBodySize":8192}`,
		},
		"a time field of the log goes to otherFields": {
			`{"timestamp":0,"time":"mine"}`,
			`{"timestamp":0,"time":"1970-01-01T00:00:00.000Z","otherFields":{"time":"mine"}}`,
		},
		"nulls kept": {
			`{"timestamp":1,"labels":null,"ja3Fingerprint":null}`,
			`{"timestamp":1,"time":"1970-01-01T00:00:00.001Z","labels":null,"ja3Fingerprint":null}`,
		},
	})
}

func TestParseMalformed(t *testing.T) {
	pipelinetest.Malformed(t, Parse, ErrMalformed, pipelinetest.LineCases{
		"not JSON":                 {`timestamp=1`, `invalid JSON: invalid character 'i' in literal true (expecting 'r')`},
		"an array":                 {`[{"timestamp":1}]`, `not a JSON object: found an array`},
		"no timestamp":             {`{"action":"ALLOW"}`, `no timestamp`},
		"null timestamp":           {`{"timestamp":null}`, `no timestamp`},
		"timestamp in seconds":     {`{"timestamp":1.5}`, `field "timestamp": want a bigint, found number 1.5`},
		"timestamp as a date":      {`{"timestamp":"2019-12-13T23:40:12Z"}`, `field "timestamp": want a bigint, found string "2019-12-13T23:40:12Z"`},
		"negative timestamp":       {`{"timestamp":-1}`, `timestamp -1 is not a time in milliseconds since 1970`},
		"timestamp beyond 9999":    {`{"timestamp":253402300800000}`, `timestamp 253402300800000 is not a time in milliseconds since 1970`},
		"httpRequest an array":     {`{"timestamp":1,"httpRequest":[]}`, `field "httpRequest": want an object, found an array`},
		"labels an object":         {`{"timestamp":1,"labels":{"name":"x"}}`, `field "labels": want an array, found an object`},
		"formatVersion not number": {`{"timestamp":1,"formatVersion":"one"}`, `field "formatVersion": want a bigint, found string "one"`},
	})
}

func FuzzParse(f *testing.F) {
	pipelinetest.FuzzParser(f, pipelinetest.Fuzz{
		Parse: Parse, Malformed: ErrMalformed, Columns: Columns(),
		// time is timestamp's instant.
		Check: func(t *testing.T, r *record.Record) {
			ms, _ := r.Get("timestamp")
			when, _ := r.Get("time")
			tm, err := time.Parse(time.RFC3339Nano, when.(string))
			require.NoError(t, err)
			require.Equal(t, ms, tm.UnixMilli())
		},
		Seeds: []string{`{"timestamp":"253402300799999","time":1,"labels":[],"x":{"timestamp":2}}`},
	})
}

// benchLines builds a realistic log: requests allowed by the default
// action with a few labels, some blocked by a managed rule group.
func benchLines() [][]byte {
	var out [][]byte
	for i := range 1000 {
		action, rule, ruleType, details := "ALLOW", "Default_Action", "REGULAR", `[]`
		if i%20 == 0 {
			action, rule, ruleType, details = "BLOCK", "AWS-AWSManagedRulesCommonRuleSet", "MANAGED_RULE_GROUP", `[{"conditionType":"XSS","location":"BODY","matchedData":["<","script"]}]`
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"timestamp":%d,"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:123456789012:regional/webacl/app/0a1b2c3d-1111-2222-3333-444455556666","terminatingRuleId":"%s","terminatingRuleType":"%s","action":"%s","terminatingRuleMatchDetails":%s,"httpSourceName":"ALB","httpSourceId":"123456789012-app/my-loadbalancer/50dc6c495c0c9188","ruleGroupList":[{"ruleGroupId":"AWS#AWSManagedRulesCommonRuleSet","terminatingRule":null,"nonTerminatingMatchingRules":[],"excludedRules":null}],"rateBasedRuleList":[],"nonTerminatingMatchingRules":[],"requestHeadersInserted":null,"responseCodeSent":null,"httpRequest":{"clientIp":"203.0.%d.%d","country":"US","headers":[{"name":"host","value":"www.example.com"},{"name":"user-agent","value":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"},{"name":"accept","value":"text/html,application/xhtml+xml"}],"uri":"/api/v1/items/%d","args":"sort=desc","httpVersion":"HTTP/2.0","httpMethod":"GET","requestId":"1-65e6b7a4-%024x"},"labels":[{"name":"awswaf:clientip:geo:country:US"},{"name":"awswaf:clientip:geo:region:US-WA"}],"ja3Fingerprint":"0cce74b0d9b7f8528fb2181588d23793","ja4Fingerprint":"t13d1516h2_8daaf6152771_02713d6af862","requestBodySize":0,"requestBodySizeInspectedByWAF":0}`,
			1709618828000+int64(i)*37, rule, ruleType, action, details, i%256, (i*7)%256, i, i*7919)
		out = append(out, b.Bytes())
	}
	return out
}

func BenchmarkParse(b *testing.B) { pipelinetest.BenchmarkParser(b, benchLines(), Parse) }
