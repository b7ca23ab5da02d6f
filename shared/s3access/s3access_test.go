package s3access

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/pipeline/pipelinetest"
	"lakestream/shared/record"
)

// goldenCases are the golden tests: testdata/<input> parsed line by line
// against testdata/<case>.golden.json.
var goldenCases = map[string]string{
	"AWS's documented example log (24 fields)":          "examples.log",
	"current layout with aclRequired and source region": "current.log",
	"offsets, escapes, short and long records, dashes":  "odd.log",
}

// TestParseGolden parses each testdata/<case>.log line by line and compares
// the records with testdata/<case>.golden.json, a JSON array with one
// record per line; the table and testdata/ list the same cases.
func TestParseGolden(t *testing.T) { pipelinetest.GoldenCases(t, ".log", goldenCases, Parse) }

// TestColumns: every record of every golden input has exactly the columns
// Columns lists, in order, each value of its column's type.
func TestColumns(t *testing.T) {
	cols := Columns()
	assert.Equal(t, []string{
		"bucketowner", "bucket_name", "requestdatetime", "remoteip", "requester", "requestid", "operation",
		"key", "request_uri", "httpstatus", "errorcode", "bytessent", "objectsize", "totaltime",
		"turnaroundtime", "referrer", "useragent", "versionid", "hostid", "sigv", "ciphersuite", "authtype",
		"endpoint", "tlsversion", "accesspointarn", "aclrequired", "sourceregion",
	}, cols.Names(), "the column names of AWS's Athena table for server access logs")
	pipelinetest.ColumnsFit(t, cols, Parse, pipelinetest.EveryColumn)
}

// validLine is a well-formed 27-field record; malformed cases change one
// field.
func validLine() []string {
	return strings.Split(`79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38·+0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.OBJECT a.txt "GET·/a.txt·HTTP/1.1" 200 - 113 113 7 6 "-" "curl/8.5.0" - s9lzHYrFp76Z= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader s3.us-west-1.amazonaws.com TLSv1.2 - - us-west-1`, " ")
}

func withField(k int, v string) string {
	f := validLine()
	f[k] = v
	return strings.ReplaceAll(strings.Join(f, " "), "·", " ")
}

func TestValidLineParses(t *testing.T) {
	r, err := Parse([]byte(withField(0, "owner")))
	require.NoError(t, err)
	when, _ := r.Get("requestdatetime")
	assert.Equal(t, "2019-02-06T00:00:38Z", when)
}

func TestParseMalformed(t *testing.T) {
	pipelinetest.Malformed(t, Parse, ErrMalformed, pipelinetest.LineCases{
		"empty line":         {``, `0 fields, want at least 17 (through User-Agent)`},
		"too few fields":     {strings.ReplaceAll(strings.Join(validLine()[:16], " "), "·", " "), `16 fields, want at least 17 (through User-Agent)`},
		"an ALB line":        {`http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn "Root=1" "-" "-" 0`, `Time "app/my-loadbalancer/50dc6c495c0c9188" is not in brackets`},
		"time not bracketed": {withField(2, "06/Feb/2019:00:00:38"), `Time "06/Feb/2019:00:00:38" is not in brackets`},
		"unclosed time":      {withField(2, "[06/Feb/2019:00:00:38·+0000"), `Time has no closing ]`},
		"bad month":          {withField(2, "[06/Fev/2019:00:00:38·+0000]"), `Time "06/Fev/2019:00:00:38 +0000" is not dd/Mon/yyyy:hh:mm:ss +zzzz`},
		"no zone":            {withField(2, "[06/Feb/2019:00:00:38]"), `Time "06/Feb/2019:00:00:38" is not dd/Mon/yyyy:hh:mm:ss +zzzz`},
		"bad zone":           {withField(2, "[06/Feb/2019:00:00:38·+0060]"), `Time "06/Feb/2019:00:00:38 +0060" is not dd/Mon/yyyy:hh:mm:ss +zzzz`},
		"february 30":        {withField(2, "[30/Feb/2019:00:00:38·+0000]"), `Time "30/Feb/2019:00:00:38 +0000" has no such date or time`},
		"second 60":          {withField(2, "[06/Feb/2019:00:00:60·+0000]"), `Time "06/Feb/2019:00:00:60 +0000" has no such date or time`},
		"out of range":       {withField(2, "[01/Jan/0000:00:00:00·+0100]"), `Time "01/Jan/0000:00:00:00 +0100" is out of range in UTC`},
		"bad status":         {withField(9, "OK"), `HTTP status "OK" is not a whole number`},
		"negative size":      {withField(12, "-5"), `Object Size "-5" is not a whole number`},
		"fractional time":    {withField(13, "7.5"), `Total Time "7.5" is not a whole number`},
		"huge bytes":         {withField(11, "1234567890123456789"), `Bytes Sent "1234567890123456789" is not a whole number`},
		"unclosed request":   {strings.ReplaceAll(strings.Join(validLine()[:8], " "), "·", " ") + ` "GET /a.txt`, `Request-URI has no closing "`},
		"unclosed agent":     {strings.ReplaceAll(strings.Join(validLine()[:16], " "), "·", " ") + ` "curl`, `User-Agent has no closing "`},
		"long value is cut":  {withField(10+4, strings.Repeat("9", 50)), `Turn-Around Time "` + strings.Repeat("9", 40) + `"… is not a whole number`},
	})
}

// TestBracketsOnlyForTheTime: a key that starts with "[" is a plain field.
func TestBracketsOnlyForTheTime(t *testing.T) {
	r, err := Parse([]byte(withField(7, "[draft]")))
	require.NoError(t, err)
	key, _ := r.Get("key")
	assert.Equal(t, "[draft]", key)
}

// TestParseDoesNotKeepInput checks that the record owns its strings: the
// caller reuses its line buffers.
func TestParseDoesNotKeepInput(t *testing.T) {
	line := []byte(withField(16, `"agent·\"x\""`))
	r, err := Parse(line)
	require.NoError(t, err)
	for i := range line {
		line[i] = 'X'
	}
	bucket, _ := r.Get("bucket_name")
	uri, _ := r.Get("request_uri")
	agent, _ := r.Get("useragent")
	assert.Equal(t, []any{"amzn-s3-demo-bucket1", "GET /a.txt HTTP/1.1", `agent "x"`}, []any{bucket, uri, agent})
}

func FuzzParse(f *testing.F) {
	pipelinetest.FuzzParser(f, pipelinetest.Fuzz{
		Parse: Parse, Malformed: ErrMalformed, Columns: Columns(), Fit: pipelinetest.EveryColumn,
		Check: func(t *testing.T, r *record.Record) {
			if when, _ := r.Get("requestdatetime"); when != nil {
				_, err := time.Parse(time.RFC3339, when.(string))
				require.NoError(t, err, "requestdatetime %q", when)
			}
		},
		Seeds: []string{`a b [29/Feb/2024:23:59:59 -2359] c d e f [g] "\\" 0 - 0 0 0 0 "\"" "x\" y"`},
	})
}

// benchLines builds a realistic log: object reads and writes of one bucket
// by a few SDK clients, some errors.
func benchLines() [][]byte {
	const owner = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
	ops := []string{"REST.GET.OBJECT", "REST.GET.OBJECT", "REST.PUT.OBJECT", "REST.HEAD.OBJECT", "REST.GET.BUCKET"}
	agents := []string{
		`aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.0`,
		`aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79 exe/x86_64.amzn.2 prompt/off command/s3.cp`,
		`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36`,
	}
	var out [][]byte
	for i := range 1000 {
		status, code := 200, "-"
		if i%40 == 0 {
			status, code = 404, "NoSuchKey"
		}
		key := fmt.Sprintf("data/2024/03/05/part-%05d.parquet", i)
		line := fmt.Sprintf(`%s amzn-s3-demo-bucket1 [05/Mar/2024:06:%02d:%02d +0000] 203.0.%d.%d arn:aws:sts::123456789012:assumed-role/etl/session-%d %016X %s %s "GET /amzn-s3-demo-bucket1/%s HTTP/1.1" %d %s %d %d %d %d "-" "%s" - %064x= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-east-1.amazonaws.com TLSv1.2 - - us-east-1`,
			owner, i%60, (i*13)%60, i%256, (i*7)%256, i%8, i*7919, ops[i%len(ops)], key, key, status, code,
			1000+i*37, 1000+i*37, 5+i%90, 3+i%40, agents[i%len(agents)], i*104729)
		out = append(out, []byte(line))
	}
	return out
}

func BenchmarkParse(b *testing.B) { pipelinetest.BenchmarkParser(b, benchLines(), Parse) }
