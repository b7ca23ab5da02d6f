package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/golden"
	"lakestream/shared/hivetype"
	"lakestream/shared/pipeline"
	"lakestream/shared/pipeline/pipelinetest"
	"lakestream/shared/record"
)

// inputExt names the log files in testdata; each has a <case>.golden.json.
const inputExt = ".trail.json"

// goldenCases are the golden tests: testdata/<input> scanned and parsed
// event by event against testdata/<case>.golden.json.
var goldenCases = map[string]struct {
	input string
}{
	"AWS's EC2 examples, pretty-printed":       {"ec2" + inputExt},
	"AWS's IAM examples, null responses":       {"iam" + inputExt},
	"AWS's error code and message example":     {"error" + inputExt},
	"current events, undocumented fields kept": {"current" + inputExt},
	"no events": {"empty" + inputExt},
}

// TestGolden scans each testdata/<case>.trail.json log file, parses every
// event and compares the records with testdata/<case>.golden.json.
func TestGolden(t *testing.T) {
	for name, tc := range goldenCases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", tc.input)
			golden.Bytes(t, strings.TrimSuffix(path, inputExt)+".golden.json", parseFile(t, path))
		})
	}
}

// TestGoldenCasesCovered keeps the table above and testdata/ in step.
func TestGoldenCasesCovered(t *testing.T) {
	var inputs []string
	for _, tc := range goldenCases {
		inputs = append(inputs, tc.input)
	}
	pipelinetest.CasesCovered(t, inputExt, inputs)
}

// parseFile scans a log file and parses its events, requiring both to
// succeed, and returns the records as one indented JSON array.
func parseFile(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := []byte{'['}
	s := NewScanner(f)
	for n := 0; s.Scan(); n++ {
		r, err := Parse(s.Bytes())
		require.NoError(t, err, "%s: event %d", path, n)
		if n > 0 {
			out = append(out, ',')
		}
		out, err = pipeline.AppendJSON(out, r)
		require.NoError(t, err)
	}
	require.NoError(t, s.Err())
	out = append(out, ']')
	var indented bytes.Buffer
	require.NoError(t, json.Indent(&indented, out, "", "  "))
	indented.WriteByte('\n')
	return indented.Bytes()
}

func inputs(t testing.TB) []string {
	paths, err := filepath.Glob(filepath.Join("testdata", "*"+inputExt))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	return paths
}

// TestScannerMatchesDecoder: the Scanner yields exactly the Records
// elements encoding/json reads from the whole file, in order, each on one
// line.
func TestScannerMatchesDecoder(t *testing.T) {
	for _, path := range inputs(t) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		var file struct{ Records []json.RawMessage }
		require.NoError(t, json.Unmarshal(data, &file))
		var want, got []string
		for _, event := range file.Records {
			want = append(want, compact(t, event))
		}
		for _, event := range scanAll(t, bytes.NewReader(data), 0) {
			got = append(got, compact(t, []byte(event)))
		}
		assert.Equal(t, want, got, path)
	}
}

func compact(t testing.TB, event []byte) string {
	var b bytes.Buffer
	require.NoError(t, json.Compact(&b, event))
	return b.String()
}

// TestScannerKeepsOneLineEvents: an event on one line is yielded as the
// file has it; one spread over lines is compacted.
func TestScannerKeepsOneLineEvents(t *testing.T) {
	file := "{\"Records\": [{\"a\": \"x y\", \"b\": [1, 2]},\n{\"a\":\n\t\"x y\",\r\n \"b\": [1,\n2]}\n]}"
	assert.Equal(t, []string{`{"a": "x y", "b": [1, 2]}`, `{"a":"x y","b":[1,2]}`}, scanAll(t, strings.NewReader(file), 0))
}

// scanAll returns every event a Scanner yields, requiring no error.
func scanAll(t testing.TB, r io.Reader, max int) []string {
	t.Helper()
	s := NewScanner(r)
	if max > 0 {
		s.SetMaxEventSize(max)
	}
	var out []string
	for s.Scan() {
		line := s.Bytes()
		require.NotContains(t, string(line), "\n")
		out = append(out, string(line))
	}
	require.NoError(t, s.Err())
	return out
}

// eventFile streams a log file of n events of about size bytes each,
// generated as it is read, so the test itself never holds the file.
func eventFile(n, size int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		pad := strings.Repeat("x", size)
		_, err := io.WriteString(pw, `{"Records":[`)
		for i := 0; i < n && err == nil; i++ {
			sep := ","
			if i == 0 {
				sep = ""
			}
			_, err = fmt.Fprintf(pw, "%s\n  {\"eventTime\": \"2024-03-05T06:07:08Z\", \"eventID\": \"%d\", \"pad\": %q}", sep, i, pad)
		}
		if err == nil {
			_, err = io.WriteString(pw, "\n]}\n")
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// TestScannerStreams: a file far larger than the Scanner's limit scans,
// which it could not if the Scanner buffered more than one event.
func TestScannerStreams(t *testing.T) {
	const events, size, limit = 20000, 1000, 4096 // a 20 MB file, a 4 KiB bound
	s := NewScanner(eventFile(events, size))
	s.SetMaxEventSize(limit)
	n := 0
	for s.Scan() {
		require.Equal(t, fmt.Sprintf(`{"eventTime": "2024-03-05T06:07:08Z", "eventID": "%d", "pad": "%s"}`, n, strings.Repeat("x", size)), string(s.Bytes()))
		n++
	}
	require.NoError(t, s.Err())
	assert.Equal(t, events, n)
}

func TestScannerMalformed(t *testing.T) {
	event := `{"eventTime":"2024-03-05T06:07:08Z"}`
	tests := map[string]struct {
		file   string
		events int // read before the error
		want   string
	}{
		"empty file":           {``, 0, `the log file ends inside the log file`},
		"not JSON":             {`Records`, 0, `the log file: invalid character 'R' looking for beginning of value`},
		"an array":             {`[` + event + `]`, 0, `the log file is an array, not an object`},
		"a string":             {`"Records"`, 0, `the log file is a string, not an object`},
		"no Records":           {`{"records":[]}`, 0, `the log file has no Records array`},
		"empty object":         {`{}`, 0, `the log file has no Records array`},
		"Records is an object": {`{"Records":{}}`, 0, `Records is an object, not an array`},
		"Records is null":      {`{"Records":null}`, 0, `Records is null, not an array`},
		"an event is a string": {`{"Records":[` + event + `,"x"]}`, 1, `Records[1] is a string, not an object`},
		"an event is null":     {`{"Records":[null]}`, 0, `Records[0] is null, not an object`},
		"truncated event":      {`{"Records":[` + event + `,{"eventTime":"2024`, 1, `the log file ends inside Records[1]`},
		"truncated array":      {`{"Records":[` + event, 1, `the log file ends inside Records`},
		"truncated object":     {`{"Records":[` + event + `]`, 1, `the log file ends inside the log file`},
		"syntax error":         {`{"Records":[` + event + `,{"a":1,}]}`, 1, `Records[1]: invalid character '}' looking for beginning of object key string`},
		"bad separator":        {`{"Records":[` + event + ` ` + event + `]}`, 1, `Records[1]: expected comma after array element`},
		"two Records":          {`{"Records":[],"Records":[]}`, 0, `the log file has two Records arrays`},
		"data after":           {`{"Records":[]} {}`, 0, `an object after the log file's object`},
		"bad member skipped":   {`{"x":[1,}`, 0, `member "x": invalid character '}' looking for beginning of value`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := NewScanner(strings.NewReader(tc.file))
			n := 0
			for s.Scan() {
				n++
			}
			err := s.Err()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrMalformed)
			assert.Equal(t, "cloudtrail: malformed log: "+tc.want, err.Error())
			assert.Equal(t, tc.events, n, "events before the error")
			assert.False(t, s.Scan(), "the error is sticky")
		})
	}
}

func TestScannerEventTooLarge(t *testing.T) {
	small := `{"eventTime":"2024-03-05T06:07:08Z"}`
	big := `{"pad":"` + strings.Repeat("x", 10000) + `"}`
	s := NewScanner(strings.NewReader(`{"Records":[` + small + `,` + big + `,` + small + `]}`))
	s.SetMaxEventSize(5000)
	require.True(t, s.Scan())
	assert.Equal(t, small, string(s.Bytes()))
	assert.False(t, s.Scan())
	err := s.Err()
	assert.ErrorIs(t, err, ErrMalformed)
	assert.ErrorIs(t, err, ErrEventTooLarge)
	assert.EqualError(t, err, "cloudtrail: malformed log: event too large: Records[1] is longer than 5000 bytes")

	// A skipped member is bounded too.
	s = NewScanner(strings.NewReader(`{"other":` + big + `,"Records":[]}`))
	s.SetMaxEventSize(5000)
	assert.False(t, s.Scan())
	assert.ErrorIs(t, s.Err(), ErrEventTooLarge)
}

// failingReader returns its data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestScannerReadError: a failed read is reported as such, not as a bad
// file, so the caller retries rather than giving up on the object.
func TestScannerReadError(t *testing.T) {
	lost := errors.New("connection reset")
	s := NewScanner(&failingReader{data: []byte(`{"Records":[{"eventTime":"2024-03-05T06:07:08Z"},{"eve`), err: lost})
	require.True(t, s.Scan())
	assert.False(t, s.Scan())
	err := s.Err()
	assert.ErrorIs(t, err, lost)
	assert.NotErrorIs(t, err, ErrMalformed)
	assert.EqualError(t, err, "cloudtrail: reading the log file at Records[1]: connection reset")
}

// TestColumns: the column list is valid, its complex types are Hive types,
// and every golden record fits it.
func TestColumns(t *testing.T) {
	cols := Columns()
	require.NoError(t, cols.Validate())
	for _, c := range cols {
		_, err := hivetype.Parse(c.Type)
		assert.NoError(t, err, "column %s", c.Name)
	}
	assert.Equal(t, OtherFields, cols[len(cols)-1].Name)

	cols[0].Name = "changed"
	assert.Equal(t, "eventVersion", Columns()[0].Name, "Columns returns a copy")

	for _, path := range inputs(t) {
		f, err := os.Open(path)
		require.NoError(t, err)
		s := NewScanner(f)
		for s.Scan() {
			r, err := Parse(s.Bytes())
			require.NoError(t, err)
			require.NoError(t, Columns().Check(r), path)
		}
		require.NoError(t, s.Err())
		f.Close()
	}
}

// TestParse: each line and its record, as JSON.
func TestParse(t *testing.T) {
	pipelinetest.ParsesTo(t, Parse, Columns(), pipelinetest.LineCases{
		"fields reordered to the columns": {
			`{"eventName":"GetObject","eventTime":"2024-03-05T06:07:08Z","eventVersion":"1.09"}`,
			`{"eventVersion":"1.09","eventTime":"2024-03-05T06:07:08Z","eventName":"GetObject"}`,
		},
		"eventTime in UTC": {
			`{"eventTime":"2024-03-05T08:07:08.5+02:00"}`,
			`{"eventTime":"2024-03-05T06:07:08.5Z"}`,
		},
		"undocumented fields last, in order": {
			`{"b":1,"eventTime":"2024-03-05T06:07:08Z","a":{"x":[1]},"otherFields":"mine"}`,
			`{"eventTime":"2024-03-05T06:07:08Z","otherFields":{"b":1,"a":{"x":[1]},"otherFields":"mine"}}`,
		},
		"numbers in string fields become text": {
			`{"eventTime":"2024-03-05T06:07:08Z","eventVersion":1.08,"recipientAccountId":123456789012}`,
			`{"eventVersion":"1.08","eventTime":"2024-03-05T06:07:08Z","recipientAccountId":"123456789012"}`,
		},
		"readOnly as text": {
			`{"eventTime":"2024-03-05T06:07:08Z","readOnly":"true"}`,
			`{"eventTime":"2024-03-05T06:07:08Z","readOnly":true}`,
		},
		"nested values kept as they came": {
			`{"eventTime":"2024-03-05T06:07:08Z","requestParameters":{"n":12345678901234567890123,"f":1.50},"resources":[]}`,
			`{"eventTime":"2024-03-05T06:07:08Z","requestParameters":{"n":12345678901234567890123,"f":1.50},"resources":[]}`,
		},
		"nulls kept": {
			`{"eventTime":"2024-03-05T06:07:08Z","userIdentity":null,"responseElements":null}`,
			`{"userIdentity":null,"eventTime":"2024-03-05T06:07:08Z","responseElements":null}`,
		},
	})
}

func TestParseMalformed(t *testing.T) {
	pipelinetest.Malformed(t, Parse, ErrMalformed, pipelinetest.LineCases{
		"not JSON":               {`Records`, `invalid JSON: invalid character 'R' looking for beginning of value`},
		"an array":               {`[]`, `not a JSON object: found an array`},
		"no eventTime":           {`{"eventName":"x"}`, `no eventTime`},
		"null eventTime":         {`{"eventTime":null}`, `no eventTime`},
		"bad eventTime":          {`{"eventTime":"yesterday"}`, `eventTime "yesterday" is not an RFC 3339 time`},
		"eventTime an object":    {`{"eventTime":{}}`, `eventTime is an object or array, not a time`},
		"eventTime as a number":  {`{"eventTime":1709618828}`, `eventTime "1709618828" is not an RFC 3339 time`},
		"eventTime out of range": {`{"eventTime":"0000-01-01T00:30:00+01:00"}`, `eventTime "0000-01-01T00:30:00+01:00" is out of range in UTC`},
		"readOnly not boolean":   {`{"eventTime":"2024-03-05T06:07:08Z","readOnly":"yes"}`, `field "readOnly": want a boolean, found string "yes"`},
		"userIdentity a string":  {`{"eventTime":"2024-03-05T06:07:08Z","userIdentity":"Alice"}`, `field "userIdentity": want an object, found string "Alice"`},
		"resources an object":    {`{"eventTime":"2024-03-05T06:07:08Z","resources":{}}`, `field "resources": want an array, found an object`},
	})
}

func FuzzScanner(f *testing.F) {
	for _, path := range inputs(f) {
		data, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(`{"a":{"Records":1},"Records":[{},{"b":[]}],"c":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewScanner(bytes.NewReader(data))
		s.SetMaxEventSize(1 << 12)
		for s.Scan() {
			line := s.Bytes()
			require.True(t, json.Valid(line), "%q", line)
			require.Equal(t, byte('{'), line[0])
			require.NotContains(t, string(line), "\n")
		}
		if err := s.Err(); err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		// A file the Scanner reads whole is one encoding/json reads.
		var file struct{ Records []json.RawMessage }
		require.NoError(t, json.Unmarshal(data, &file), "%q", data)
	})
}

func FuzzParse(f *testing.F) {
	// The events of the log files, as Scanner yields them.
	var seeds []string
	for _, path := range inputs(f) {
		data, err := os.ReadFile(path)
		require.NoError(f, err)
		s := NewScanner(bytes.NewReader(data))
		for s.Scan() {
			seeds = append(seeds, string(s.Bytes()))
		}
	}
	seeds = append(seeds, `{"eventTime":"2024-02-29T23:59:59.999999999-00:01","readOnly":"false","x":1e400}`)
	pipelinetest.FuzzParser(f, pipelinetest.Fuzz{
		Parse: Parse, Malformed: ErrMalformed, Columns: Columns(),
		// eventTime is an RFC 3339 time in UTC.
		Check: func(t *testing.T, r *record.Record) {
			when, _ := r.Get("eventTime")
			tm, err := time.Parse(time.RFC3339Nano, when.(string))
			require.NoError(t, err)
			require.Equal(t, time.UTC, tm.Location())
		},
		Seeds: seeds,
	})
}

// benchFile builds a log file of realistic events: S3 data events and
// management events of assumed roles.
func benchFile() []byte {
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i := range 1000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEID:session-%d","arn":"arn:aws:sts::123456789012:assumed-role/etl/session-%d","accountId":"123456789012","accessKeyId":"ASIAEXAMPLEKEY%04d","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEID","arn":"arn:aws:iam::123456789012:role/etl","accountId":"123456789012","userName":"etl"},"attributes":{"creationDate":"2024-03-05T06:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2024-03-05T06:%02d:%02dZ","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.%d","userAgent":"[aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22.5]","requestParameters":{"bucketName":"amzn-s3-demo-bucket","key":"data/2024/03/05/part-%05d.parquet"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","bytesTransferredIn":0,"bytesTransferredOut":%d},"requestID":"EXAMPLE%09d","eventID":"%08x-1111-2222-3333-444455556666","readOnly":true,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::amzn-s3-demo-bucket/data/2024/03/05/part-%05d.parquet"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"123456789012","eventCategory":"Data","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com"}}`,
			i%8, i%8, i, i%60, (i*13)%60, i%256, i, 1000+i*37, i*7919, i*104729, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func BenchmarkScanner(b *testing.B) {
	data := benchFile()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s := NewScanner(bytes.NewReader(data))
		n := 0
		for s.Scan() {
			n++
		}
		if s.Err() != nil || n != 1000 {
			b.Fatal(s.Err(), n)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	var lines [][]byte
	s := NewScanner(bytes.NewReader(benchFile()))
	for s.Scan() {
		lines = append(lines, bytes.Clone(s.Bytes()))
	}
	pipelinetest.BenchmarkParser(b, lines, Parse)
}
