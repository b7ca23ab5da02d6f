package alb

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/pipeline/pipelinetest"
)

// goldenCases are the golden tests: testdata/<input> parsed line by line
// against testdata/<case>.golden.json.
var goldenCases = map[string]string{
	"AWS's documented examples (25 fields)":             "examples.log",
	"all 33 fields, failed and desync-classified lines": "current.log",
	"older layouts have fewer fields":                   "older.log",
	"fields after the 33rd are ignored":                 "extra-fields.log",
	"escapes, IPv6 clients, odd request lines":          "quoting.log",
}

// TestParseGolden parses each testdata/<case>.log line by line and compares
// the records with testdata/<case>.golden.json, a JSON array with one
// record per line; the table and testdata/ list the same cases.
func TestParseGolden(t *testing.T) { pipelinetest.GoldenCases(t, ".log", goldenCases, Parse) }

// TestColumns: every record of every golden input has exactly the columns
// Columns lists, in order, each value of its column's type.
func TestColumns(t *testing.T) {
	cols := Columns()
	assert.Len(t, cols, numColumns)
	assert.Equal(t, []string{"type", "time", "elb", "client_ip", "client_port", "target_ip", "target_port"}, cols.Names()[:7])
	assert.Equal(t, []string{"request_verb", "request_url", "request_proto", "user_agent"}, cols.Names()[14:18])
	assert.Equal(t, "lambda_error_reason", cols[28].Name)
	pipelinetest.ColumnsFit(t, cols, Parse, pipelinetest.EveryColumn)
}

// validLine is a well-formed 33-field entry; malformed cases change one
// field.
func validLine() []string {
	return strings.Split(`https 2018-07-02T22:23:00.186641Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET·https://www.example.com:443/·HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234 "-" "-" "-"`, " ")
}

func withField(k int, v string) string {
	f := validLine()
	f[k] = v
	return strings.ReplaceAll(strings.Join(f, " "), "·", " ")
}

func TestValidLineParses(t *testing.T) {
	r, err := Parse([]byte(withField(0, "https")))
	require.NoError(t, err)
	verb, _ := r.Get("request_verb")
	assert.Equal(t, "GET", verb)
}

func TestParseMalformed(t *testing.T) {
	pipelinetest.Malformed(t, Parse, ErrMalformed, pipelinetest.LineCases{
		"empty line":               {``, `0 fields, want at least 13 (through the request)`},
		"spaces only":              {`   `, `0 fields, want at least 13 (through the request)`},
		"too few fields":           {strings.Join(validLine()[:12], " "), `12 fields, want at least 13 (through the request)`},
		"classic ELB line":         {`2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -`, `time "my-loadbalancer" is not an ISO 8601 time in UTC`},
		"bad time":                 {withField(1, "2018-07-02 22:23:00"), `time "2018-07-02" is not an ISO 8601 time in UTC`},
		"time with offset":         {withField(1, "2018-07-02T22:23:00+01:00"), `time "2018-07-02T22:23:00+01:00" is not an ISO 8601 time in UTC`},
		"no such day":              {withField(1, "2018-02-29T22:23:00.1Z"), `time "2018-02-29T22:23:00.1Z" is not an ISO 8601 time in UTC`},
		"hour 24":                  {withField(1, "2018-07-02T24:00:00Z"), `time "2018-07-02T24:00:00Z" is not an ISO 8601 time in UTC`},
		"empty fraction":           {withField(1, "2018-07-02T22:23:00.Z"), `time "2018-07-02T22:23:00.Z" is not an ISO 8601 time in UTC`},
		"client without port":      {withField(3, "192.168.131.39"), `client:port "192.168.131.39" is not ip:port`},
		"client port not a number": {withField(3, "192.168.131.39:http"), `client:port "192.168.131.39:http" has no port number`},
		"port out of range":        {withField(4, "10.0.0.1:70000"), `target:port "10.0.0.1:70000" has no port number`},
		"bad processing time":      {withField(5, "fast"), `request_processing_time "fast" is not a number of seconds`},
		"exponent":                 {withField(6, "1e3"), `target_processing_time "1e3" is not a number of seconds`},
		"NaN":                      {withField(7, "NaN"), `response_processing_time "NaN" is not a number of seconds`},
		"huge seconds":             {withField(7, strings.Repeat("9", 400)), `response_processing_time "` + strings.Repeat("9", 40) + `"… is out of range`},
		"negative status":          {withField(8, "-1"), `elb_status_code "-1" is not a whole number`},
		"bad target status":        {withField(9, "2OO"), `target_status_code "2OO" is not a whole number`},
		"huge bytes":               {withField(10, "1234567890123456789"), `received_bytes "1234567890123456789" is not a whole number`},
		"bad priority":             {withField(20, "first"), `matched_rule_priority "first" is not a whole number`},
		"bad creation time":        {withField(21, "yesterday"), `request_creation_time "yesterday" is not an ISO 8601 time in UTC`},
		"unclosed request":         {`http 2018-07-02T22:23:00.186641Z app/my-lb/1 192.0.2.1:1 - 0 0 0 200 200 1 1 "GET / HTTP/1.1`, `request has no closing quote`},
		"unclosed user agent":      {strings.Join(validLine()[:12], " ") + ` "GET / HTTP/1.1" "curl`, `user_agent has no closing quote`},
		"unclosed last field":      {withField(32, `"Transform`), `request_transform_status has no closing quote`},
	})
}

// TestParseDoesNotKeepInput checks that the record owns its strings: the
// caller reuses its line buffers.
func TestParseDoesNotKeepInput(t *testing.T) {
	line := []byte(withField(13, `"agent \"x\""`))
	r, err := Parse(line)
	require.NoError(t, err)
	for i := range line {
		line[i] = 'X'
	}
	elb, _ := r.Get("elb")
	url, _ := r.Get("request_url")
	agent, _ := r.Get("user_agent")
	assert.Equal(t, []any{"app/my-lb/50dc6c495c0c9188", "https://www.example.com:443/", `agent "x"`}, []any{elb, url, agent})
}

func TestSplitRequest(t *testing.T) {
	tests := map[string][3]any{
		"GET http://a/ HTTP/1.1":    {"GET", "http://a/", "HTTP/1.1"},
		"GET http://a/b c HTTP/1.1": {"GET", "http://a/b c", "HTTP/1.1"},
		"GET http://a/ - ":          {"GET", "http://a/", nil},
		"- http://a:80- -":          {nil, "http://a:80-", nil},
		"- - -":                     {nil, nil, nil},
		"GET http://a/":             {"GET", "http://a/", nil},
		"GET":                       {"GET", nil, nil},
		"":                          {nil, nil, nil},
		"PRI * HTTP/2.0":            {"PRI", "*", "HTTP/2.0"},
		"GET  http://a/  HTTP/1.1":  {"GET", "http://a/", "HTTP/1.1"},
	}
	for req, want := range tests {
		t.Run(req, func(t *testing.T) {
			verb, url, proto := splitRequest(req)
			assert.Equal(t, want, [3]any{verb, url, proto})
		})
	}
}

func FuzzParse(f *testing.F) {
	pipelinetest.FuzzParser(f, pipelinetest.Fuzz{
		Parse: Parse, Malformed: ErrMalformed, Columns: Columns(), Fit: pipelinetest.EveryColumn,
		Seeds: []string{`a 2000-02-29T00:00:00Z b [::1]:0 - -0 -1. 0 0 0 0 0 "\\" "\" x"` + strings.Repeat(` ""`, 30)},
	})
}

// benchLines builds a realistic log: mostly HTTPS requests from browsers
// and bots through one load balancer and a few target groups, some
// redirects and failures.
func benchLines() [][]byte {
	agents := []string{
		`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36`,
		`Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1`,
		`Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)`,
		`curl/8.5.0`,
	}
	paths := []string{"/", "/index.html", "/api/v1/items?id=42&sort=desc", "/static/app.3f9a1c.js", "/search?q=lake+stream"}
	var out [][]byte
	for i := range 1000 {
		status, target, times := 200, fmt.Sprintf("10.0.%d.%d:8080", i%4, i%250), fmt.Sprintf("0.001 0.%03d 0.000", i%997)
		if i%50 == 0 {
			status, target, times = 502, "-", "-1 -1 -1"
		}
		line := fmt.Sprintf(`https 2024-03-05T06:%02d:%02d.%06dZ app/my-loadbalancer/50dc6c495c0c9188 203.0.%d.%d:%d %s %s %d %d %d %d "GET https://www.example.com:443%s HTTP/1.1" "%s" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/tg-%d/73e2d6bc24d8a067 "Root=1-65e6b7a4-%024x" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" %d 2024-03-05T06:%02d:%02d.%06dZ "forward" "-" "-" "%s" "%d" "-" "-" TID_%032x "-" "-" "-"`,
			i%60, (i*13)%60, i*997%1000000, i%256, (i*7)%256, 1024+i, target, times, status, status, 300+i, 1000+i*37,
			paths[i%len(paths)], agents[i%len(agents)], i%3, i*7919, i%5, i%60, (i*13)%60, i*991%1000000, target, status, i*104729)
		out = append(out, []byte(line))
	}
	return out
}

func BenchmarkParse(b *testing.B) { pipelinetest.BenchmarkParser(b, benchLines(), Parse) }
