package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
	"lakestream/shared/golden"
)

// sampleObjects is where the events/ samples' objects are: objects/<bucket>/<key>.
const sampleObjects = "../../events/s3-log-forwarder/objects"

// cloudfrontSample is the CloudFront log file of the events/ samples.
var cloudfrontSample = filepath.Join(sampleObjects, "lakestream-logs/cloudfront/E2EXAMPLE1234.2024-05-01-13.a1b2c3d4")

// albSample is the ALB log file of the events/ samples.
var albSample = filepath.Join(sampleObjects, "lakestream-logs/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/05/01/"+
	"123456789012_elasticloadbalancing_us-east-1_app.my-loadbalancer.50dc6c495c0c9188_20240501T1305Z_198.51.100.7_2kjgk3nx.log")

// forwardCase is one object forwarded with one set of settings.
type forwardCase struct {
	input string // file under testdata/, or a path
	key   string // the object's key in bucket "logs"
	gz    bool
	body  []byte // instead of input
	env   map[string]string
}

// eventTime is the time of every test event: the arrival time of the
// lines, which syslog dates year-less times against.
var eventTime = time.Date(2024, 5, 1, 13, 59, 30, 0, time.UTC)

var forwardCases = map[string]forwardCase{
	// A CloudFront hourly file, with the settings the template deploys:
	// headers skipped, health checks filtered, a line of another date
	// format and one breaking the schema in the error object.
	"cloudfront": {input: cloudfrontSample, key: "cloudfront/E2EXAMPLE1234.2024-05-01-13.a1b2c3d4.gz", gz: true, env: map[string]string{
		"DERIVE_USER_AGENT": "true", "MASK_FIELDS": "c_ip=truncate-ip,x_forwarded_for=drop,cs_cookie=drop",
		"DROP_IF": "cs_user_agent^=Amazon-Route53-Health-Check-Service", "ARRIVAL_TIME_FIELD": "arrival_time",
		"SCHEMA": "timestamp:timestamp:required,sc_status:int:0..599"}},
	// The column names of the Athena table AWS's CloudFront log pipeline
	// creates, kept with FIELDS; a renamed file has no distribution id.
	"cloudfront-fields": {input: cloudfrontSample, key: "logs/renamed.log", env: map[string]string{
		"FIELDS": "date,time,location=x_edge_location,bytes=sc_bytes,requestip=c_ip,method=cs_method,host=cs_host,uri=cs_uri_stem," +
			"status=sc_status,referrer=cs_referer,useragent=cs_user_agent,querystring=cs_uri_query,distributionid=distribution_id,file=file_name"}},
	"alb":      {input: albSample, key: "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/05/01/app.log.gz", gz: true, env: map[string]string{"FORMAT": "alb"}},
	"s3access": {input: "s3access.log", key: "s3-access/2019-02-06-00-00-38-5D8A0DB4EXAMPLE", env: map[string]string{"FORMAT": "s3access"}},
	"waf":      {input: "waf.log", key: "AWSLogs/123456789012/WAFLogs/us-east-1/acl/2024/05/01/13/05/123456789012_waflogs_us-east-1_acl_20240501T1305Z_abc.log.gz", gz: true, env: map[string]string{"FORMAT": "waf"}},
	"cloudtrail": {input: "cloudtrail.json", key: "AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/123456789012_CloudTrail_us-east-1_20240501T1305Z_abc.json.gz", gz: true,
		env: map[string]string{"FORMAT": "cloudtrail", "FIELDS": "eventTime,eventSource,eventName,arn=userIdentity.arn,sourceIPAddress"}},
	// The header line of a flow log object names its custom format.
	"vpcflow-header": {input: "vpcflow.log", key: "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/flows.log.gz", gz: true, env: map[string]string{"FORMAT": "vpcflow", "DROP_IF": "action=ACCEPT&tcp_flags=2"}},
	// A configured format is the object's: the header of another one
	// fails as a line.
	"vpcflow-configured": {input: "vpcflow.log", key: "flows.log", env: map[string]string{"FORMAT": "vpcflow", "VPCFLOW_FIELDS": "${version} ${vpc-id}"}},
	"syslog":             {input: "syslog.log", key: "syslog/host1.log", env: map[string]string{"FORMAT": "syslog"}},
	"accesslog-crlf":     {input: "accesslog.log", key: "nginx/access.log", env: map[string]string{"FORMAT": "accesslog", "OUTPUT_FORMAT": "csv"}},
	"json": {key: "events/app.ndjson", env: map[string]string{"FORMAT": "json", "SCHEMA": "n:int:required"},
		body: []byte("{\"n\":1,\"msg\":\"a\"}\n{\"n\":\"x\"}\n[1,2]\n{\"n\":3,\"nested\":{\"a\":[1,2]}}\n")},
	"line-too-long": {key: "big/line.log", env: map[string]string{"FORMAT": "json", "MAX_LINE_BYTES": "1KiB"},
		body: []byte("{\"n\":1}\n{\"pad\":\"" + strings.Repeat("x", 3000) + "\"}\n{\"n\":3}\n")},
	"empty":    {key: "empty.log.gz", gz: true, body: []byte{}},
	"no-lines": {key: "blank.log", body: []byte("\n\r\n\n")},
	// gzip that breaks off: the lines before it are sent, the rest is
	// recorded as unreadable, and the object fails for good.
	"truncated-gzip": {key: "cut.log.gz", env: map[string]string{"FORMAT": "json"}, body: truncatedGzip()},
	"parquet":        {key: "flows.parquet", env: map[string]string{"FORMAT": "vpcflow"}, body: []byte("PAR1\x15\x04\x15")},
	"not-a-trail": {key: "AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/x.json", env: map[string]string{"FORMAT": "cloudtrail"},
		body: []byte(`{"Records":[{"eventVersion":"1.09","eventTime":"2024-05-01T13:00:00Z","eventName":"A"},{"eventTime":"yesterday"},3]}`)},
}

// truncatedGzip is a gzip of JSON lines cut off after its first part.
func truncatedGzip() []byte {
	s := newFakeS3()
	var lines bytes.Buffer
	for i := range 2000 {
		lines.WriteString(`{"n":` + strings.Repeat("1", i%7+1) + `,"text":"` + strings.Repeat("abcdefgh", i%13) + "\"}\n")
	}
	s.add("b", "k", lines.Bytes(), true)
	full := s.objects["b/k"]
	return full[:len(full)*2/3]
}

// goldenObject is what a case's golden holds.
type goldenObject struct {
	Result  ObjectResult                 `json:"result"`
	Records int                          `json:"records"`
	Lines   []json.RawMessage            `json:"lines,omitempty"`
	Rows    []string                     `json:"rows,omitempty"`
	Errors  map[string][]json.RawMessage `json:"errorObjects,omitempty"`
}

// TestForwardGolden forwards each case's object and compares the object's
// result, the lines Firehose got and the error objects with
// testdata/<case>.golden.json.
func TestForwardGolden(t *testing.T) {
	for name, tc := range forwardCases {
		t.Run(name, func(t *testing.T) {
			body := tc.body
			if body == nil {
				path := tc.input
				if !strings.Contains(path, "/") {
					path = filepath.Join("testdata", path)
				}
				var err error
				body, err = os.ReadFile(path)
				require.NoError(t, err)
			}
			s := newFakeS3()
			s.add("logs", tc.key, body, tc.gz)
			fh := &fakeFirehose{}
			cfg := testConfig(t, tc.env)
			var out bytes.Buffer
			h := testHandler(cfg, s, fh, &out)
			resp, err := h.Handle(context.Background(), notificationAt("logs", tc.key))
			res := resp.(*Result)
			require.Len(t, res.Objects, 1)
			got := goldenObject{Result: res.Objects[0], Records: len(fh.records)}
			// A failure no retry cures does not fail the invocation.
			if got.Result.Status == StatusFailed && !permanent(name) {
				assert.Error(t, err)
			} else {
				assert.NoError(t, err)
			}
			got.Result.DurationMS = 0
			c := got.Result.Counts
			if got.Result.Status != StatusFailed {
				assert.Equal(t, c.LinesRead, c.LinesSent+c.LinesSkipped+c.LinesFiltered+c.LinesFailed, "every line accounted for")
			}
			for _, l := range fh.lines() {
				if tc.env["OUTPUT_FORMAT"] == "csv" {
					got.Rows = append(got.Rows, l)
					continue
				}
				require.True(t, json.Valid([]byte(l)), l)
				got.Lines = append(got.Lines, json.RawMessage(l))
			}
			assert.EqualValues(t, len(fh.lines()), c.LinesSent)
			for _, uri := range got.Result.ErrorObjects {
				if got.Errors == nil {
					got.Errors = map[string][]json.RawMessage{}
				}
				data := s.objects[strings.TrimPrefix(uri, "s3://")]
				require.NotNil(t, data, uri)
				for l := range strings.Lines(string(data)) {
					require.True(t, json.Valid([]byte(l)), l)
					got.Errors[uri] = append(got.Errors[uri], json.RawMessage(strings.TrimSpace(l)))
				}
			}
			golden.JSON(t, filepath.Join("testdata", name+".golden.json"), got)
			assert.Contains(t, out.String(), `"msg":"invocation done"`)
		})
	}
}

// permanent names the cases whose object fails in a way no retry cures.
func permanent(name string) bool {
	return name == "truncated-gzip" || name == "parquet" || name == "not-a-trail"
}

// notificationAt is a notification at eventTime for one object.
func notificationAt(bucket, key string) []byte {
	return bytes.Replace(notification(bucket, key), []byte("2024-05-01T13:05:00.000Z"), []byte(eventTime.Format(time.RFC3339)), 1)
}

// TestGoldenCasesCovered keeps the case table and testdata/ in step.
func TestGoldenCasesCovered(t *testing.T) {
	goldens, err := filepath.Glob("testdata/*.golden.json")
	require.NoError(t, err)
	var names []string
	for _, g := range goldens {
		names = append(names, strings.TrimSuffix(filepath.Base(g), ".golden.json"))
	}
	var want []string
	for name := range forwardCases {
		want = append(want, name)
	}
	assert.ElementsMatch(t, want, names)
}

// TestClassify: what a failed object's error means for the invocation.
func TestClassify(t *testing.T) {
	assert.Equal(t, batch.Skip(ErrChanged.Error()), classify(ErrChanged))
	for _, err := range []error{ErrGone, ErrNotText, &decodeError{errors.New("gzip: invalid header")}} {
		assert.Equal(t, batch.Permanent(err), classify(err))
	}
	other := &readError{errors.New("connection reset")}
	assert.Equal(t, error(other), classify(other))
}
