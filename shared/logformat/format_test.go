package logformat

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/cloudtrail"
	"lakestream/shared/config"
	"lakestream/shared/pipeline"
	"lakestream/shared/vpcflow"
)

// formatSamples are a parser's own test logs, one per format: the lines
// every format must read into records that fit its columns.
var formatSamples = map[string]string{
	AccessLog:  "../accesslog/testdata/combined.log",
	ALB:        "../alb/testdata/examples.log",
	CloudFront: "../cloudfront/testdata/standard.log",
	CloudTrail: "../cloudtrail/testdata/current.trail.json",
	JSON:       "../pipeline/testdata/transform/json-lines.ndjson",
	S3Access:   "../s3access/testdata/examples.log",
	Syslog:     "../syslog/testdata/rfc5424.log",
	VPCFlow:    "../vpcflow/testdata/s3-object.log",
	WAF:        "../waf/testdata/examples.log",
}

// sampleLines reads a sample as an S3 object of its format holds it:
// lines, or a CloudTrail log file's events.
func sampleLines(t *testing.T, f Format, path string) [][]byte {
	t.Helper()
	file, err := os.Open(path)
	require.NoError(t, err)
	defer file.Close()
	var lines [][]byte
	if f.CloudTrailFile {
		s := cloudtrail.NewScanner(file)
		for s.Scan() {
			lines = append(lines, append([]byte(nil), s.Bytes()...))
		}
		require.NoError(t, s.Err())
		return lines
	}
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(strings.TrimSpace(sc.Text())) > 0 {
			lines = append(lines, append([]byte(nil), sc.Bytes()...))
		}
	}
	require.NoError(t, sc.Err())
	return lines
}

// TestFormats: every format reads its parser's sample into records that
// fit its lake columns (with the fields an S3 key adds), its defaults make
// a pipeline for every output format, and its event-time field is a
// column.
func TestFormats(t *testing.T) {
	arrival := time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC)
	require.ElementsMatch(t, Formats, func() []string {
		var names []string
		for name := range formatSamples {
			names = append(names, name)
		}
		return names
	}())
	for _, name := range Formats {
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(map[string]string{"FORMAT": strings.ToUpper(name)}))
			f := LoadFormat(env)
			require.NoError(t, env.Err())
			assert.Equal(t, name, f.Name)
			if name != JSON {
				require.NoError(t, f.LakeColumns().Validate())
				assert.Contains(t, f.Columns.Names(), f.Defaults.TimeField, "TIME_FIELD default is a column")
				assert.Equal(t, strings.Join(f.Columns.Names(), ","), f.Defaults.OutputColumns)
			}
			parse := f.Parse
			written := 0
			for i, line := range sampleLines(t, f, formatSamples[name]) {
				if i == 0 && f.Header != nil {
					if p, ok := f.Header(line); ok {
						parse = p
						continue
					}
				}
				r, err := parse(line, arrival)
				if err != nil || r == nil {
					continue
				}
				if f.KeyFields != nil {
					r.Fields = append(r.Fields, f.KeyFields("logs/E2EXAMPLE.2024-05-01-13.abc.gz")...)
				}
				if name != JSON {
					if f.Name == VPCFlow {
						_, err = f.LakeColumns().Conform(r, "rest")
					} else {
						err = f.LakeColumns().Check(r)
					}
					assert.NoError(t, err, "%s", line)
				}
				written++
			}
			assert.Positive(t, written, "records read from %s", formatSamples[name])

			for _, out := range []string{"json", "csv", "tsv", "lines"} {
				e := config.New(config.FromMap(map[string]string{"OUTPUT_FORMAT": out}))
				opts := pipeline.LoadDefaults(e, f.Defaults)
				if name == JSON && (out == "csv" || out == "tsv") {
					assert.Error(t, e.Err(), "json has no default columns")
					continue
				}
				require.NoError(t, e.Err(), out)
				_, err := pipeline.NewAt(f.Parse, opts)
				assert.NoError(t, err, out)
			}
		})
	}
}

func TestLoadFormatRejects(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want string
	}{
		"no format":      {env: map[string]string{}, want: "FORMAT is required: the format of the log lines, one of accesslog, alb, cloudfront"},
		"unknown format": {env: map[string]string{"FORMAT": "elb"}, want: `FORMAT="elb" is invalid: one of accesslog, alb`},
		"user agent for alb": {env: map[string]string{"FORMAT": "alb", "DERIVE_USER_AGENT": "true"},
			want: `DERIVE_USER_AGENT="true" is invalid: unset unless FORMAT is cloudfront`},
		"flow log fields for waf": {env: map[string]string{"FORMAT": "waf", "VPCFLOW_FIELDS": "${srcaddr}"},
			want: `VPCFLOW_FIELDS="${srcaddr}" is invalid: unset unless FORMAT or PARSE_MESSAGE is vpcflow`},
		"unknown flow log field": {env: map[string]string{"FORMAT": "vpcflow", "VPCFLOW_FIELDS": "srcaddr nope"},
			want: `VPCFLOW_FIELDS="srcaddr nope" is invalid: the flow log's format`},
		"bad boolean": {env: map[string]string{"FORMAT": "cloudfront", "DERIVE_USER_AGENT": "maybe"},
			want: `DERIVE_USER_AGENT="maybe" is invalid: true or false`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(tc.env))
			LoadFormat(env)
			assert.ErrorContains(t, env.Err(), tc.want)
		})
	}
}

// TestLoadFormatOptions: the format's own settings change its parser.
func TestLoadFormatOptions(t *testing.T) {
	env := config.New(config.FromMap(map[string]string{"FORMAT": "cloudfront", "DERIVE_USER_AGENT": "true"}))
	f := LoadFormat(env)
	require.NoError(t, env.Err())
	assert.Equal(t, []string{"browser_family", "os_family", "is_bot", "distribution_id", "file_name"}, f.LakeColumns().Names()[34:])

	env = config.New(config.FromMap(map[string]string{"FORMAT": "vpcflow", "VPCFLOW_FIELDS": "${action} ${srcaddr}"}))
	f = LoadFormat(env)
	require.NoError(t, env.Err())
	assert.Nil(t, f.Header, "a configured format is not taken from the object")
	r, err := f.Parse([]byte("REJECT 192.0.2.1"), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, "action", r.Fields[0].Name)
	assert.Equal(t, []string{"action", "srcaddr"}, f.Columns.Names())
	assert.Equal(t, vpcflow.AllColumns(), f.LakeColumns(), "the lake table has every field")

	// PARSE_MESSAGE still takes VPCFLOW_FIELDS beside another FORMAT.
	env = config.New(config.FromMap(map[string]string{"FORMAT": "json", "PARSE_MESSAGE": "vpcflow", "VPCFLOW_FIELDS": "${action}"}))
	LoadFormat(env)
	Load(env)
	assert.NoError(t, env.Err())
}

// TestVPCFlowHeader: an S3 flow log's header line names its format; a
// data line or anything else is no header.
func TestVPCFlowHeader(t *testing.T) {
	f, _ := NewFormat(VPCFlow, false)
	require.NotNil(t, f.Header)
	parse, ok := f.Header([]byte("version srcaddr action log-status\r"))
	require.True(t, ok)
	r, err := parse([]byte("5 192.0.2.1 ACCEPT OK"), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, []string{"version", "srcaddr", "action", "log_status"}, []string{r.Fields[0].Name, r.Fields[1].Name, r.Fields[2].Name, r.Fields[3].Name})
	for _, line := range []string{"2 123456789010 eni-1 - - - - - - - 1 2 - NODATA", "", "version nope", "- eni-1 10.0.0.1"} {
		_, ok := f.Header([]byte(line))
		assert.False(t, ok, line)
	}
}

func TestNewFormatUnknown(t *testing.T) {
	_, ok := NewFormat("elb", false)
	assert.False(t, ok)
}
