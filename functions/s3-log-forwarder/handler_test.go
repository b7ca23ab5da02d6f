package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
	"lakestream/shared/golden"
	"lakestream/shared/lambdarun"
	"lakestream/shared/streamput"
)

// templateEnv is the function's environment as the template deploys it.
func templateEnv(t testing.TB, overrides map[string]string) map[string]string {
	t.Helper()
	tmpl, err := lambdarun.LoadRepoTemplate()
	require.NoError(t, err)
	env, err := tmpl.Environment(lambdarun.LogicalID("s3-log-forwarder"))
	require.NoError(t, err)
	for k, v := range overrides {
		env[k] = v
	}
	return env
}

// loadSampleObjects puts the events/ samples' objects into s: each file
// objects/<bucket>/<key> as the object <key>, and gzipped as <key>.gz, the
// name the sample events give it (as `make invoke` does).
func loadSampleObjects(t testing.TB, s *fakeS3) {
	t.Helper()
	err := filepath.WalkDir(sampleObjects, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(sampleObjects, path)
		bucket, key, _ := strings.Cut(filepath.ToSlash(rel), "/")
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s.add(bucket, key, body, false)
		s.add(bucket, key+".gz", body, true)
		return nil
	})
	require.NoError(t, err)
}

// sampleCases are the events/ samples: each with the template's settings,
// the ALB one (for another deployment) with FORMAT=alb.
var sampleCases = map[string]map[string]string{
	"cloudfront.json":  nil,
	"eventbridge.json": nil,
	"sqs.json":         nil,
	"alb/eventbridge.json": {"FORMAT": "alb", "DERIVE_USER_AGENT": "", "MASK_FIELDS": "client_ip=truncate-ip",
		"DROP_IF": "", "SCHEMA": "elb_status_code:int:100..599"},
}

// TestHandlerSamples runs every events/s3-log-forwarder sample through the
// handler as main builds it, with the template's environment, and compares
// the response, the lines delivered and the error objects with
// testdata/events/<sample>.golden.json.
func TestHandlerSamples(t *testing.T) {
	samples, err := filepath.Glob("../../events/s3-log-forwarder/*.json")
	require.NoError(t, err)
	more, err := filepath.Glob("../../events/s3-log-forwarder/*/*.json")
	require.NoError(t, err)
	var names []string
	for _, s := range append(samples, more...) {
		rel, _ := filepath.Rel("../../events/s3-log-forwarder", s)
		names = append(names, filepath.ToSlash(rel))
	}
	require.ElementsMatch(t, names, keys(sampleCases), "every sample is a case")

	for name, overrides := range sampleCases {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("../../events/s3-log-forwarder", name))
			require.NoError(t, err)
			s := newFakeS3()
			loadSampleObjects(t, s)
			fh := &fakeFirehose{}
			env := templateEnv(t, overrides)
			cfg := testConfig(t, env)
			var logs bytes.Buffer
			h := testHandler(cfg, s, fh, &logs)
			resp, err := h.Handle(context.Background(), raw)
			require.NoError(t, err, "logs:\n%s", logs.String())

			doc := struct {
				Response any                          `json:"response"`
				Lines    []json.RawMessage            `json:"lines"`
				Errors   map[string][]json.RawMessage `json:"errorObjects,omitempty"`
			}{Response: zeroDurations(resp)}
			for _, l := range fh.lines() {
				doc.Lines = append(doc.Lines, json.RawMessage(l))
			}
			for id, body := range s.objects {
				if strings.Contains(id, cfg.ErrorPrefix) {
					if doc.Errors == nil {
						doc.Errors = map[string][]json.RawMessage{}
					}
					for l := range strings.Lines(string(body)) {
						doc.Errors[id] = append(doc.Errors[id], json.RawMessage(strings.TrimSpace(l)))
					}
				}
			}
			golden.JSON(t, filepath.Join("testdata", "events", strings.TrimSuffix(strings.ReplaceAll(name, "/", "-"), ".json")+".golden.json"), doc)
			assert.Equal(t, 1, strings.Count(logs.String(), `"msg":"invocation done"`))
			assert.Equal(t, strings.Count(logs.String(), `"msg":"object forwarded"`), len(fh.records), "one summary line per object, each object one record here")
		})
	}
}

func zeroDurations(resp any) any {
	switch r := resp.(type) {
	case *Result:
		for i := range r.Objects {
			r.Objects[i].DurationMS = 0
		}
	}
	return resp
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestSkips: what is left alone, and why.
func TestSkips(t *testing.T) {
	cfg := testConfig(t, map[string]string{"FORMAT": "cloudtrail", "ERROR_PREFIX": "errors/"})
	tests := map[string]struct {
		event  string
		reason string
	}{
		"deleted": {event: `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"logs"},"object":{"key":"a.log"}}}]}`,
			reason: "event ObjectRemoved:Delete does not create an object"},
		"folder marker":   {event: string(notification("logs", "AWSLogs/")), reason: "folder marker"},
		"an error object": {event: string(notification("logs", "errors/logs/a.log.errors-0001.ndjson")), reason: "an error object of this function"},
		"a digest file": {event: string(notification("logs", "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/05/01/x.json.gz")),
			reason: "a CloudTrail digest file"},
		"another EventBridge event": {event: `{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events","time":"2024-05-01T13:00:00Z","detail":{}}`,
			reason: `EventBridge aws.events event "Scheduled Event" does not create an object`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fh := &fakeFirehose{}
			resp, err := testHandler(cfg, newFakeS3(), fh, nil).Handle(context.Background(), []byte(tc.event))
			require.NoError(t, err)
			r := resp.(*Result)
			require.Len(t, r.Objects, 1)
			assert.Equal(t, StatusIgnored, r.Objects[0].Status)
			assert.Contains(t, r.Objects[0].Reason, tc.reason)
			assert.Zero(t, fh.calls)
		})
	}
}

// TestRepeatedObject: an object an event names twice is sent once.
func TestRepeatedObject(t *testing.T) {
	s := newFakeS3()
	s.add("logs", "a.log", []byte(`{"n":1}`+"\n"), false)
	fh := &fakeFirehose{}
	resp, err := testHandler(testConfig(t, map[string]string{"FORMAT": "json"}), s, fh, nil).Handle(context.Background(), notification("logs", "a.log", "a.log"))
	require.NoError(t, err)
	r := resp.(*Result)
	assert.Equal(t, StatusForwarded, r.Objects[0].Status)
	assert.Equal(t, StatusIgnored, r.Objects[1].Status)
	assert.Equal(t, "the same object as item 0", r.Objects[1].Reason)
	assert.Equal(t, []string{`{"n":1}`}, fh.lines())
}

// jsonLines is n JSON lines numbered from 1.
func jsonLines(n int) []byte {
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"n":%d,"pad":"%s"}`+"\n", i, strings.Repeat("p", i%50))
	}
	return b.Bytes()
}

// checkDelivered checks that lines 1 to n arrived once each, in order.
func checkDelivered(t *testing.T, fh *fakeFirehose, n int) {
	t.Helper()
	lines := fh.lines()
	require.Len(t, lines, n)
	for i, l := range lines {
		var v struct{ N int }
		require.NoError(t, json.Unmarshal([]byte(l), &v))
		require.Equal(t, i+1, v.N, "line %d in order, once", i+1)
	}
}

// withLimits lowers the batch and record sizes for a test, so that a small
// object spans many batches, records and requests.
func withLimits(t *testing.T, flush, record int) {
	oldFlush, oldRecord := flushAt, recordLimit
	flushAt, recordLimit = flush, record
	t.Cleanup(func() { flushAt, recordLimit = oldFlush, oldRecord })
}

// TestBatching: an object spanning many batches is delivered whole, in
// order, in records of at most the record limit cut between lines.
func TestBatching(t *testing.T) {
	withLimits(t, 4096, 1000)
	s := newFakeS3()
	s.add("logs", "many.log.gz", jsonLines(5000), true)
	fh := &fakeFirehose{}
	resp, err := testHandler(testConfig(t, map[string]string{"FORMAT": "json"}), s, fh, nil).Handle(context.Background(), notification("logs", "many.log.gz"))
	require.NoError(t, err)
	checkDelivered(t, fh, 5000)
	for _, r := range fh.records {
		assert.LessOrEqual(t, len(r), 1000)
		assert.True(t, bytes.HasSuffix(r, []byte("\n")), "records end between lines")
	}
	o := resp.(*Result).Objects[0]
	assert.EqualValues(t, 5000, o.LinesSent)
	assert.EqualValues(t, len(fh.records), o.RecordsPut)
	assert.Greater(t, fh.calls, 10, "many requests")
}

// TestLineOverRecordLimit: a line whose output no Firehose record can
// carry fails alone.
func TestLineOverRecordLimit(t *testing.T) {
	withLimits(t, 4096, 100)
	s := newFakeS3()
	s.add("logs", "a.log", []byte(`{"n":1}`+"\n"+`{"n":2,"big":"`+strings.Repeat("b", 200)+`"}`+"\n"+`{"n":3}`+"\n"), false)
	fh := &fakeFirehose{}
	resp, err := testHandler(testConfig(t, map[string]string{"FORMAT": "json"}), s, fh, nil).Handle(context.Background(), notification("logs", "a.log"))
	require.NoError(t, err)
	assert.Equal(t, []string{`{"n":1}`, `{"n":3}`}, fh.lines())
	o := resp.(*Result).Objects[0]
	assert.EqualValues(t, 1, o.LinesFailed)
	errs := string(s.objects["logs/s3-log-forwarder-errors/logs/a.log.errors-0001.ndjson"])
	assert.Contains(t, errs, `{"line":2,"error":"its output of 217 bytes is over Firehose's record limit of 100"`)
}

// TestResume: a download that breaks midway resumes where it broke, pinned
// to the same object, and every line arrives once.
func TestResume(t *testing.T) {
	s := newFakeS3()
	s.add("logs", "big.log.gz", jsonLines(20000), true)
	size := len(s.objects["logs/big.log.gz"])
	s.breakAt = func(n int) int {
		switch n {
		case 1:
			return size / 3
		case 2:
			return size / 3 // of what is left
		}
		return -1
	}
	fh := &fakeFirehose{}
	resp, err := testHandler(testConfig(t, map[string]string{"FORMAT": "json"}), s, fh, nil).Handle(context.Background(), notification("logs", "big.log.gz"))
	require.NoError(t, err)
	checkDelivered(t, fh, 20000)
	require.Len(t, s.gets, 3)
	assert.Equal(t, []string{"", fmt.Sprintf("bytes=%d-", size/3), fmt.Sprintf("bytes=%d-", size/3+size/3)}, s.gets)
	assert.EqualValues(t, size, resp.(*Result).Objects[0].BytesRead)
}

// TestResumeGivesUp: a download that keeps breaking fails the object, to
// be retried whole, and nothing of it is sent meanwhile.
func TestResumeGivesUp(t *testing.T) {
	withLimits(t, 4096, 1000)
	s := newFakeS3()
	s.add("logs", "big.log", jsonLines(20000), false)
	s.breakAt = func(n int) int { return 10000 }
	fh := &fakeFirehose{}
	_, err := testHandler(testConfig(t, map[string]string{"FORMAT": "json"}), s, fh, nil).Handle(context.Background(), notification("logs", "big.log"))
	var ie *batch.ItemsError
	require.ErrorAs(t, err, &ie, "the invocation fails: S3 retries it")
	assert.ErrorContains(t, err, "10 resumes")
	assert.Len(t, s.gets, maxResumes+1)
	// Lines sent before it broke are sent again by the retry: at least
	// once, as documented.
	assert.NotEmpty(t, fh.records)
}

// TestObjectState: an object gone or overwritten since its event.
func TestObjectState(t *testing.T) {
	s := newFakeS3()
	etag := s.add("logs", "a.log", []byte(`{"n":1}`+"\n"), false)
	cfg := testConfig(t, map[string]string{"FORMAT": "json"})
	withETag := func(key, tag string) []byte {
		return []byte(fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2024-05-01T13:00:00Z","s3":{"bucket":{"name":"logs"},"object":{"key":%q,"eTag":%q}}}]}`, key, tag))
	}

	fh := &fakeFirehose{}
	resp, err := testHandler(cfg, s, fh, nil).Handle(context.Background(), withETag("a.log", strings.Trim(etag, `"`)))
	require.NoError(t, err)
	assert.Equal(t, StatusForwarded, resp.(*Result).Objects[0].Status, "the event's ETag, unquoted as events give it")

	resp, err = testHandler(cfg, s, fh, nil).Handle(context.Background(), withETag("a.log", "0123"))
	require.NoError(t, err)
	o := resp.(*Result).Objects[0]
	assert.Equal(t, StatusIgnored, o.Status, "overwritten: its new version has an event of its own")
	assert.Contains(t, o.Reason, ErrChanged.Error())

	resp, err = testHandler(cfg, s, fh, nil).Handle(context.Background(), withETag("gone.log", "0123"))
	require.NoError(t, err, "nothing a retry could do")
	o = resp.(*Result).Objects[0]
	assert.Equal(t, StatusFailed, o.Status)
	assert.Contains(t, o.Error, ErrGone.Error())
}

// TestFirehoseRejects: lines Firehose still rejects after the retries fail
// the object (the invocation is retried); rejections it then takes are
// delivered once.
func TestFirehoseRejects(t *testing.T) {
	withLimits(t, 4096, 1000)
	s := newFakeS3()
	s.add("logs", "a.log", jsonLines(300), false)
	cfg := testConfig(t, map[string]string{"FORMAT": "json", "PUT_ATTEMPTS": "3"})

	// Every other record of each first attempt is rejected, and taken
	// when retried.
	fh := &fakeFirehose{reject: func(n, i int) string {
		if n%2 == 1 && i%2 == 0 {
			return "ServiceUnavailableException"
		}
		return ""
	}}
	resp, err := testHandler(cfg, s, fh, nil).Handle(context.Background(), notification("logs", "a.log"))
	require.NoError(t, err)
	assert.Equal(t, StatusForwarded, resp.(*Result).Objects[0].Status)
	assert.Len(t, fh.lines(), 300)

	fh = &fakeFirehose{reject: func(n, i int) string { return "ServiceUnavailableException" }}
	var logs bytes.Buffer
	resp, err = testHandler(cfg, s, fh, &logs).Handle(context.Background(), notification("logs", "a.log"))
	require.Error(t, err)
	o := resp.(*Result).Objects[0]
	assert.Equal(t, StatusFailed, o.Status)
	assert.Contains(t, o.Error, "put into Firehose stream logs")
	assert.Zero(t, o.LinesSent)
	assert.Positive(t, o.LinesUnsent)
	assert.Contains(t, logs.String(), `"msg":"object failed"`)
	assert.LessOrEqual(t, fh.calls, 3*2, "reading stops once a batch could not be sent")
}

// TestErrorObjects: an object of bad lines writes them in parts, so it
// never holds them all; a write that fails fails the object.
func TestErrorObjects(t *testing.T) {
	var b bytes.Buffer
	for range 6000 {
		b.WriteString("not json " + strings.Repeat("x", 1000) + "\n")
	}
	s := newFakeS3()
	s.add("logs", "bad.log", b.Bytes(), false)
	cfg := testConfig(t, map[string]string{"FORMAT": "json", "ERROR_BUCKET": "errors-bucket"})
	resp, err := testHandler(cfg, s, &fakeFirehose{}, nil).Handle(context.Background(), notification("logs", "bad.log"))
	require.NoError(t, err)
	o := resp.(*Result).Objects[0]
	assert.EqualValues(t, 6000, o.LinesFailed)
	assert.Equal(t, []string{
		"s3://errors-bucket/s3-log-forwarder-errors/logs/bad.log.errors-0001.ndjson",
		"s3://errors-bucket/s3-log-forwarder-errors/logs/bad.log.errors-0002.ndjson",
	}, o.ErrorObjects)
	entries := 0
	for _, uri := range o.ErrorObjects {
		body := s.objects[strings.TrimPrefix(uri, "s3://")]
		entries += bytes.Count(body, []byte("\n"))
		assert.LessOrEqual(t, len(body), errorPartBytes+2048)
	}
	assert.Equal(t, 6000, entries)

	s.putErr = errors.New("AccessDenied")
	resp, err = testHandler(cfg, s, &fakeFirehose{}, nil).Handle(context.Background(), notification("logs", "bad.log"))
	require.Error(t, err, "a retry may cure it")
	assert.Contains(t, resp.(*Result).Objects[0].Error, "write the failed lines to s3://errors-bucket/s3-log-forwarder-errors/logs/bad.log.errors-0001.ndjson")
}

// TestDeadline: an object not done by the deadline fails, to be retried.
func TestDeadline(t *testing.T) {
	withLimits(t, 4096, 1000)
	s := newFakeS3()
	s.add("logs", "a.log", jsonLines(50000), false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fh := &fakeFirehose{fail: func(n int) error {
		if n == 2 {
			cancel() // the deadline strikes while the object is read
		}
		return nil
	}}
	resp, err := testHandler(testConfig(t, map[string]string{"FORMAT": "json"}), s, fh, nil).Handle(ctx, notification("logs", "a.log"))
	require.Error(t, err)
	o := resp.(*Result).Objects[0]
	assert.Equal(t, StatusFailed, o.Status)
	assert.Less(t, o.LinesRead, int64(50000))
}

// TestNotAnObjectEvent: a message that is not an S3 event fails alone.
func TestNotAnObjectEvent(t *testing.T) {
	ev := `{"Records":[{"messageId":"m1","body":"hello","eventSource":"aws:sqs"}]}`
	resp, err := testHandler(testConfig(t, nil), newFakeS3(), &fakeFirehose{}, nil).Handle(context.Background(), []byte(ev))
	require.NoError(t, err)
	assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "m1"}}, resp.(events.SQSEventResponse).BatchItemFailures)
}

// panicky is a Firehose whose every call panics.
type panicky struct{}

func (panicky) PutRecordBatch(context.Context, string, []streamput.Entry) ([]streamput.Answer, error) {
	panic("boom")
}

// TestSenderPanic: a panic while sending fails the object, not the process.
func TestSenderPanic(t *testing.T) {
	s := newFakeS3()
	s.add("logs", "a.log", jsonLines(10), false)
	cfg := testConfig(t, map[string]string{"FORMAT": "json"})
	h := newHandler(cfg, s, panicky{}, nil, nil)
	resp, err := h.Handle(context.Background(), notification("logs", "a.log"))
	require.Error(t, err)
	assert.Contains(t, resp.(*Result).Objects[0].Error, "panicked: boom")
}
