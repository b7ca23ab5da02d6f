package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"lakestream/shared/golden"
	"lakestream/shared/lambdarun"
	"lakestream/shared/moto/lake"
)

// firehoseResponse holds one JSON line, two JSON lines, CSV text, binary
// data and a failed record without data.
var firehoseResponse = fmt.Sprintf(`{"records":[`+
	`{"recordId":"1","result":"Ok","data":%q,"metadata":{"partitionKeys":{"year":"2024"}}},`+
	`{"recordId":"2","result":"Ok","data":%q},`+
	`{"recordId":"3","result":"Ok","data":%q},`+
	`{"recordId":"4","result":"Ok","data":%q},`+
	`{"recordId":"5","result":"ProcessingFailed","data":""}]}`,
	b64(`{"event":"signup","amount":12345678901234567890.5}`+"\n"),
	b64(`{"a":1}`+"\n"+`{"b":[2]}`+"\n"),
	b64("ts,status\n2024-05-01,200\n"),
	b64("\xff\xfe"))

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestReport keeps make invoke's output: the response on stdout (decoded
// or as it came), then the log lines, the X-Ray segment tree with each
// call's duration and error, and what changed.
func TestReport(t *testing.T) {
	o := &outcome{
		fn:      "example",
		created: []string{"bucket lake", "Glue job etl"},
		result: &lambdarun.Result{RequestID: "00000000-0000-4000-8000-000000000001", TraceID: "1-66321a5c-0123456789abcdef01234567",
			Payload: []byte(firehoseResponse),
			Subsegments: []lambdarun.Segment{
				{Name: "Glue", StartTime: 10, EndTime: 10.0042, AWS: map[string]any{"operation": "GetJobRuns"}, HTTP: status(200)},
				{Name: "Glue", StartTime: 10.01, EndTime: 10.0125, AWS: map[string]any{"operation": "StartJobRun"}, HTTP: status(400), Error: true,
					Cause: &lambdarun.SegmentCause{Exceptions: []lambdarun.SegmentException{{Message: "ConcurrentRunsExceededException: too many runs"}}}},
			}},
		logs:     []byte(`{"level":"INFO","msg":"invocation done"}` + "\n"),
		changes:  []lake.Change{{Summary: "started a run", Detail: "started a run (jr_1)"}},
		emulated: true,
	}
	for name, decode := range map[string]bool{"raw": false, "decoded": true} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, 0, report(o, decode, &stdout, &stderr))
			golden.Bytes(t, "testdata/report-"+name+".golden.stdout", stdout.Bytes())
			golden.Bytes(t, "testdata/report-"+name+".golden.stderr", stderr.Bytes())
		})
	}

	failed := *o
	failed.err = &lambdarun.FunctionError{Type: "Sandbox.Timedout", Message: "task timed out after 3.00 seconds"}
	failed.result = &lambdarun.Result{RequestID: o.result.RequestID, TraceID: o.result.TraceID}
	failed.changes = nil
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, report(&failed, true, &stdout, &stderr))
	golden.Bytes(t, "testdata/report-failed.golden.stdout", stdout.Bytes())
	golden.Bytes(t, "testdata/report-failed.golden.stderr", stderr.Bytes())
}

func status(code int) lambdarun.SegmentHTTP {
	var h lambdarun.SegmentHTTP
	h.Response.Status = code
	return h
}

func TestDecodeFirehoseLeavesOtherResponsesAlone(t *testing.T) {
	for _, payload := range []string{`{"batchItemFailures":[]}`, `{"records":[{"recordId":"1","result":"Ok","data":"","extra":1}]}`, `[1,2]`, `not json`} {
		_, ok := decodeFirehose([]byte(payload))
		assert.False(t, ok, payload)
	}
}
