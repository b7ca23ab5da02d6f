package faulttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
)

// The log forwarder's run: 12 log files of 30 JSON lines and one line that
// is not JSON, announced in SQS batches of 4 messages.
const (
	logFiles      = 12
	logFileLines  = 31 // line badLine is not JSON
	badLine       = 16
	logFilesBatch = 4
	logBucket     = "lakestream-logs"
	logStream     = "lakestream-logs"
	logLakePrefix = "s3logs/"
	logErrPrefix  = "s3-log-forwarder-errors/"
)

// runLogForwarder counts lines: each good line ends in the delivery
// stream's S3 destination, the bad line in its file's error object with
// its number, or the file's message in the batch item failures (the queue
// hands it over again, and its lines are sent again: at least once).
func runLogForwarder(t *testing.T, e *env) account {
	ctx := t.Context()
	s3c := e.s3()
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(logBucket)})
	require.NoError(t, err)
	e.deliveryStream(logStream, cdcBucket, logLakePrefix)
	for i := range logFiles {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(logBucket), Key: aws.String(logKey(i)), Body: strings.NewReader(logFile(i))})
		require.NoError(t, err)
	}
	f := e.start("s3-log-forwarder", map[string]string{
		"FORMAT": "json", "DELIVERY_STREAM": logStream, "ERROR_PREFIX": logErrPrefix, "PUT_ATTEMPTS": "3",
		"DERIVE_USER_AGENT": "", "MASK_FIELDS": "", "DROP_IF": "", "SCHEMA": "",
	})

	failed := announce(t, f, logBucket, logFiles, logFilesBatch, logKey, func(i int) int { return len(logFile(i)) })

	copies := map[string]int{} // by line id
	for _, body := range e.objects(cdcBucket, logLakePrefix) {
		for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
			var l struct {
				ID string `json:"id"`
			}
			require.NoError(t, json.Unmarshal(line, &l), "%.200s", line)
			copies[l.ID]++
		}
	}
	reported := map[string]bool{} // by line id: in an error object with its number
	for key, body := range e.objects(logBucket, logErrPrefix) {
		for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
			var l struct {
				Line  int    `json:"line"`
				Error string `json:"error"`
			}
			require.NoError(t, json.Unmarshal(line, &l), "%s: %.200s", key, line)
			for i := range logFiles {
				if strings.Contains(key, logKey(i)) && l.Error != "" {
					reported[lineID(i, l.Line)] = true
				}
			}
		}
	}
	a := account{In: logFiles * logFileLines}
	for i := range logFiles {
		for n := 1; n <= logFileLines; n++ {
			id := lineID(i, n)
			a.Duplicates += max(copies[id]-1, 0)
			switch {
			case failed[messageID(i)]:
				a.Failed++
			case n == badLine && reported[id]:
				a.Failed++
			case n != badLine && copies[id] > 0:
				a.Delivered++
			default:
				a.Lost++
				t.Errorf("file %d line %d: neither delivered nor reported failed", i, n)
			}
		}
	}
	return a
}

// logKey is log file i's key.
func logKey(i int) string { return fmt.Sprintf("logs/app/2024/05/01/13/app-%02d.log", i) }

// lineID is the id line n of file i carries.
func lineID(i, n int) string { return fmt.Sprintf("f%02d-l%02d", i, n) }

// logFile is file i: JSON lines carrying their ids, but for line badLine.
func logFile(i int) string {
	var b strings.Builder
	for n := 1; n <= logFileLines; n++ {
		if n == badLine {
			fmt.Fprintf(&b, "{\"id\":%q,\"status\":\n", lineID(i, n)) // cut off: not JSON
			continue
		}
		fmt.Fprintf(&b, "{\"id\":%q,\"status\":%d,\"path\":\"/app/%d\"}\n", lineID(i, n), 200+n%3, n)
	}
	return b.String()
}
