package cwlogs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/golden"
)

// TestScanTakesCanonicalPayloads: the scanner itself reads what CloudWatch
// Logs sends (escapes, Unicode, extra fields of account-level policies),
// leaving only the odd document to encoding/json, and reads it as
// encoding/json does.
func TestScanTakesCanonicalPayloads(t *testing.T) {
	tests := map[string]bool{ // fixture: read by the scanner
		"lambda-data": true, "control": true, "unicode-messages": true, "account-policy": true,
		"event-without-id": true, "event-without-timestamp": true, "missing-log-group": true,
		"missing-log-stream": true, "missing-owner": true, "no-log-events": true, "no-message-type": true,
		"unknown-message-type": true, "absent-log-events": true, "null-log-events": true,
		// encoding/json's to decide, and to word the error of.
		"timestamp-as-string": false, "cut-json": false, "two-documents": false, "array": false,
	}
	for name, fast := range tests {
		t.Run(name, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("testdata", name+".json"))
			require.NoError(t, err)
			var got events.CloudwatchLogsData
			err = new(payloadScanner).scan(doc, &got)
			if !fast {
				assert.ErrorIs(t, err, errFallback)
				return
			}
			require.NoError(t, err)
			var want events.CloudwatchLogsData
			require.NoError(t, json.Unmarshal(doc, &want))
			assert.Equal(t, want, got)
		})
	}
}

// TestScanEdgeCases: documents at the edges of what JSON and encoding/json
// allow, each either read as encoding/json reads it or left to it.
func TestScanEdgeCases(t *testing.T) {
	tests := map[string]struct {
		doc  string
		fast bool
	}{
		"escapes":                {`{"logEvents":[{"id":"1","timestamp":2,"message":"a\"b\\c\/d\b\f\n\r\t\u00e9\u2028"}]}`, true},
		"surrogate pair":         {`{"owner":"\ud83d\ude00"}`, true},
		"lone high surrogate":    {`{"owner":"a\ud83db"}`, true},
		"two high surrogates":    {`{"owner":"\ud83d\ud83d"}`, true},
		"lone low surrogate":     {`{"owner":"\ude00"}`, true},
		"white space everywhere": {" {\n\t\"owner\" : \"1\" ,\r\n \"logEvents\" : [ { \"id\" : \"1\" , \"timestamp\" : -5 } ] } \n", true},
		"unknown keys":           {`{"policyLevel":"ACCOUNT_LEVEL_POLICY","n":-1.5e+3,"t":true,"f":false,"z":null,"o":{"owner":"x","a":[1,{}]},"logEvents":[{"ingestionTime":1,"x":"y","l":[null]}]}`, true},
		"escaped key":            {`{"\u006fwner":"1","logEvents":[{"\u0069d":"2"}]}`, true},
		"empty object":           {`{}`, true},
		"empty arrays":           {`{"subscriptionFilters":[],"logEvents":[]}`, true},
		"utf-8 text":             {`{"owner":"čeněk 李"}`, true},
		"invalid UTF-8":          {"{\"owner\":\"a\xffb\xed\xa0\x80\",\"logEvents\":[{\"message\":\"\xe2\x98 \\n\"}]}", true},
		"largest int64":          {`{"logEvents":[{"timestamp":9223372036854775807},{"timestamp":-9223372036854775808}]}`, true},
		"nulls":                  {`{"owner":null,"subscriptionFilters":[null,"f"],"logEvents":[null,{"id":null,"timestamp":null,"message":null}]}`, true},
		"null arrays":            {`{"subscriptionFilters":null,"logEvents":null}`, true},
		"beyond int64":           {`{"logEvents":[{"timestamp":9223372036854775808}]}`, false},
		"fraction":               {`{"logEvents":[{"timestamp":1.0}]}`, false},
		"exponent":               {`{"logEvents":[{"timestamp":1e3}]}`, false},
		"leading zero":           {`{"logEvents":[{"timestamp":01}]}`, false},
		"key by case":            {`{"Owner":"1"}`, false},
		"event key by case":      {`{"logEvents":[{"ID":"1"}]}`, false},
		"key by Unicode case":    {`{"meſſageType":"DATA_MESSAGE"}`, false},
		"key given twice":        {`{"owner":"1","owner":"2"}`, false},
		"event key given twice":  {`{"logEvents":[{"id":"1","id":"2"}]}`, false},
		"events given twice":     {`{"logEvents":[{"id":"1"}],"logEvents":[{"message":"m"}]}`, false},
		"number event":           {`{"logEvents":[1]}`, false},
		"object for array":       {`{"logEvents":{}}`, false},
		"control byte":           {"{\"owner\":\"a\x01\"}", false},
		"bad escape":             {`{"owner":"\x"}`, false},
		"trailing comma":         {`{"owner":"1",}`, false},
		"trailing data":          {`{"owner":"1"} x`, false},
		"number for string":      {`{"owner":1}`, false},
		"bad nested unknown":     {`{"x":{"owner":1,}}`, false},
		"top-level null":         {`null`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got events.CloudwatchLogsData
			err := new(payloadScanner).scan([]byte(tc.doc), &got)
			if !tc.fast {
				assert.ErrorIs(t, err, errFallback)
				return
			}
			require.NoError(t, err)
			var want events.CloudwatchLogsData
			require.NoError(t, json.Unmarshal([]byte(tc.doc), &want))
			assert.Equal(t, want, got)
		})
	}
}

// TestScanReusesBuffers: a second payload reuses the slices and the text
// buffer of the first without disturbing what it reads.
func TestScanReusesBuffers(t *testing.T) {
	dec := new(Decoder)
	for _, msg := range []string{`first\n`, `second, longer\t`, `x`} {
		doc := `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],` +
			`"logEvents":[{"id":"1","timestamp":1,"message":"` + msg + `"},{"id":"2","timestamp":2,"message":"plain"}]}`
		d, err := dec.Decode(gzipped(t, doc), 1<<20)
		require.NoError(t, err)
		want := strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(msg)
		assert.Equal(t, []events.CloudwatchLogsLogEvent{{ID: "1", Timestamp: 1, Message: want}, {ID: "2", Timestamp: 2, Message: "plain"}}, d.LogEvents)
	}
}

// FuzzScanAgrees is the differential test of the scanner: whatever it
// accepts, encoding/json accepts too and decodes into the same data.
func FuzzScanAgrees(f *testing.F) {
	for _, p := range golden.Inputs(f, "testdata/*.json") {
		doc, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(doc)
	}
	for _, doc := range []string{
		`{"owner":"\ud83d\ude00\ud800\u0041","logEvents":[{"id":"\u0000","timestamp":-0,"message":"\"\\"}]}`,
		`{"OWNER":"1","logevents":[]}`, `{"a":[1],"b":{}}`, `{"logEvents":[{}, {"id":"x"}]}`,
	} {
		f.Add([]byte(doc))
	}
	// One scanner for every input, as a Decoder reuses it.
	p := new(payloadScanner)
	f.Fuzz(func(t *testing.T, doc []byte) {
		var got events.CloudwatchLogsData
		if err := p.scan(doc, &got); err != nil {
			require.ErrorIs(t, err, errFallback)
			return
		}
		var want events.CloudwatchLogsData
		require.NoError(t, json.Unmarshal(doc, &want), "the scanner accepted %q", doc)
		assert.Equal(t, want, got)
	})
}

func gzipped(t testing.TB, doc string) []byte {
	t.Helper()
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.out.Reset()
	e.zw.Reset(&e.out)
	_, err := e.zw.Write([]byte(doc))
	require.NoError(t, err)
	require.NoError(t, e.zw.Close())
	return append([]byte(nil), e.out.Bytes()...)
}
