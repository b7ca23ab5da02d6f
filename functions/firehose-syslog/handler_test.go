package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"

	"lakestream/shared/firehose"
	"lakestream/shared/transformer/transformertest"
)

const function = "firehose-syslog"

// TestHandlerGolden runs the events/ samples through the handler as main
// builds it, with the template's environment and as CSV.
func TestHandlerGolden(t *testing.T) {
	transformertest.Golden(t, function, newHandler, map[string]transformertest.Case{
		"mixed":          {Event: "mixed.json"},
		"kinesis-source": {Event: "kinesis-source.json"},
		"csv":            {Event: "kinesis-source.json", Env: map[string]string{"OUTPUT_FORMAT": "csv"}},
	})
}

// TestYearlessTimestampsFollowArrival: an RFC 3164 timestamp has no year;
// it is dated against the record's arrival time, so a December message
// that arrives in January belongs to last year's partition, however late
// the record is processed.
func TestYearlessTimestampsFollowArrival(t *testing.T) {
	h, _ := transformertest.Build(t, newHandler, transformertest.Env(t, function, nil))
	ev := events.KinesisFirehoseEvent{Records: []events.KinesisFirehoseEventRecord{{
		RecordID:                    "0",
		ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.Date(2025, 1, 1, 0, 0, 3, 0, time.UTC)},
		Data:                        []byte("<13>Dec 31 23:59:58 host app: last message of the year\n"),
	}}}
	got := transformertest.InvokeEvent(t, h, ev).Records[0]
	assert.Equal(t, firehose.ResultOk, got.Result)
	assert.Equal(t, map[string]string{"year": "2024", "month": "12", "day": "31", "hour": "23"}, got.PartitionKeys)
	assert.Contains(t, string(got.Data), `"timestamp":"2024-12-31T23:59:58Z"`)
}

// TestHandlerMalformed: input that is not syslog fails its record alone,
// with the line and the reason; empty input is dropped.
func TestHandlerMalformed(t *testing.T) {
	tests := map[string]transformertest.Malformed{
		"empty record":          {Data: "", WantResult: firehose.ResultDropped},
		"blank lines":           {Data: "\r\n\n", WantResult: firehose.ResultDropped},
		"plain text":            {Data: "disk full", WantResult: firehose.ResultProcessingFailed, WantError: `line 1: syslog: malformed message: no timestamp (Mmm dd hh:mm:ss or RFC 3339) at (value withheld: MASK_FIELDS)`}, // the template masks an IP: parse errors quote no value
		"json":                  {Data: `{"msg":"x"}`, WantResult: firehose.ResultProcessingFailed, WantError: "line 1: syslog: malformed message: no timestamp"},
		"priority out of range": {Data: "<200>1 2024-05-01T13:00:00Z h a - - - m", WantResult: firehose.ResultProcessingFailed, WantError: `priority (value withheld: MASK_FIELDS) is not <0> to <191>`},
		"5424 cut short":        {Data: "<13>1 2024-05-01T13:00:00Z h a - - - ok\n<13>1 2024-05-01T13:00:01Z host", WantResult: firehose.ResultProcessingFailed, WantError: "line 2: syslog: malformed message: message ends after the hostname"},
		"unclosed sd":           {Data: `<13>1 2024-05-01T13:00:00Z h a - - [x@1 k="v" m`, WantResult: firehose.ResultProcessingFailed, WantError: `structured data element (value withheld: MASK_FIELDS) has a parameter that is not name="value"`},
		"schema violation":      {Data: "<13>1 2024-05-01T13:00:00Z h a - ID-THAT-IS-LONGER-THAN-32-CHARACTERS - m", WantResult: firehose.ResultProcessingFailed, WantError: `line 1: field "msgid": `},
		"nil values everywhere": {Data: "<13>1 - - - - - -", WantResult: firehose.ResultProcessingFailed, WantError: `field "timestamp": `},
	}
	transformertest.CheckMalformed(t, function, newHandler, tests)
}

// benchLine is line i of a realistic syslog stream: mostly BSD messages
// from daemons, every fourth an RFC 5424 message with structured data; all
// in one hour.
func benchLine(i int) []byte {
	if i%4 == 0 {
		return fmt.Appendf(nil, `<165>1 2024-03-05T06:%02d:%02d.%03dZ web-%02d.example.com evntslog %d ID47 [origin ip="203.0.113.%d"][exampleSDID@32473 iut="3" eventSource="Application" eventID="%d"] An application event log entry number %d`,
			i/60%60, i%60, i%1000, i%16, 1000+i, i%256, i, i)
	}
	apps := []string{
		"sshd[%d]: Accepted publickey for alice from 198.51.100.%d port 52%03d ssh2",
		"CRON[%d]: (root) CMD (run-parts /etc/cron.hourly) %d %d",
		"kernel: [%d.%06d] eth0: link up %d",
		"systemd[1]: Started Session %d of user bob %d %d",
	}
	// Facilities 1 to 23 at severities 0 to 6: no debug, which the
	// template's DROP_IF filters.
	pri := 8*(1+i%23) + i%7
	return fmt.Appendf(nil, "<%d>Mar  5 06:%02d:%02d web-%02d "+apps[i%len(apps)], pri, i/60%60, i%60, i%16, 1000+i, i%256, i%1000)
}

// BenchmarkHandler measures the function on a ~1 MB batch with the
// template's settings (mask, filter, schema, partition keys, JSON out):
// records of 100 lines, and one line per record.
func BenchmarkHandler(b *testing.B) {
	env := transformertest.Env(b, function, nil)
	for _, perRecord := range []int{100, 1} {
		b.Run(fmt.Sprintf("lines-per-record=%d", perRecord), func(b *testing.B) {
			request, lines := transformertest.Batch(benchLine, perRecord, 1<<20)
			transformertest.Benchmark(b, newHandler, env, request, lines)
		})
	}
}
