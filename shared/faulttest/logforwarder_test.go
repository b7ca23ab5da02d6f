package faulttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
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
	for _, b := range []string{logBucket, cdcBucket} {
		_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		require.NoError(t, err)
	}
	_, err := firehose.NewFromConfig(e.cfg).CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(logStream),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::123456789012:role/firehose"), BucketARN: aws.String("arn:aws:s3:::" + cdcBucket), Prefix: aws.String(logLakePrefix),
		},
	})
	require.NoError(t, err)
	for i := range logFiles {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(logBucket), Key: aws.String(logKey(i)), Body: strings.NewReader(logFile(i))})
		require.NoError(t, err)
	}
	f := e.start("s3-log-forwarder", map[string]string{
		"FORMAT": "json", "DELIVERY_STREAM": logStream, "ERROR_PREFIX": logErrPrefix, "PUT_ATTEMPTS": "3",
		"DERIVE_USER_AGENT": "", "MASK_FIELDS": "", "DROP_IF": "", "SCHEMA": "",
	})

	failed := map[string]bool{}
	for start := 0; start < logFiles; start += logFilesBatch {
		var ev events.SQSEvent
		for i := start; i < start+logFilesBatch; i++ {
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId: messageID(i), EventSource: "aws:sqs", AWSRegion: "us-east-1",
				EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:log-files",
				Body:           fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2024-05-01T13:59:59Z","s3":{"bucket":{"name":%q},"object":{"key":%q,"size":%d}}}]}`, logBucket, logKey(i), len(logFile(i))),
			})
		}
		raw, err := json.Marshal(ev)
		require.NoError(t, err)
		out, err := f.Invoke(ctx, raw)
		require.NoError(t, err, "an SQS batch is answered with its failures, not failed")
		var resp events.SQSEventResponse
		require.NoError(t, json.Unmarshal(out, &resp), "%s", out)
		for _, item := range resp.BatchItemFailures {
			failed[item.ItemIdentifier] = true
		}
	}

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
