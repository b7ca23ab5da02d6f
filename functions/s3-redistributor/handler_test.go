package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
	"lakestream/shared/deadline"
	"lakestream/shared/golden"
	"lakestream/shared/logging"
	"lakestream/shared/metrics"
)

// lakeGlue is the catalog of the template's defaults: database lakestream
// with the hourly and minute tables.
func lakeGlue() *fakeGlue {
	g := newFakeGlue()
	g.addTable("lakestream", "events_hourly", "s3://lakestream-lake/events/hourly/", "dt", "hour")
	g.addTable("lakestream", "events_minute", "s3://lakestream-lake/events/minute/", "year", "month", "day", "hour", "minute")
	return g
}

// seed stores every object raw reports as created, with as many bytes as
// the event says, so that the fake S3 holds what the event describes.
func seed(t *testing.T, f *fakeS3, raw []byte) {
	t.Helper()
	inv, err := batch.Decode(raw)
	require.NoError(t, err)
	for _, it := range inv.Items {
		if it.S3 != nil && it.Err() == nil && it.S3.Created() {
			f.put(it.S3.Bucket, it.S3.Key, bytes.Repeat([]byte("x"), int(it.S3.Size)), "application/x-ndjson")
		}
	}
}

// handlerWith builds a Handler over fakes with the template's environment
// plus overrides.
func handlerWith(t *testing.T, f *fakeS3, g *fakeGlue, overrides map[string]string) *batch.Handler {
	t.Helper()
	env := templateEnv(t)
	for k, v := range overrides {
		env[k] = v
	}
	return newHandler(mustConfig(t, env), f, g, nil, nil)
}

// invoke calls Handle and returns its response as JSON and its error.
func invoke(t *testing.T, h *batch.Handler, raw []byte) (json.RawMessage, error) {
	t.Helper()
	resp, err := h.Handle(context.Background(), raw)
	b, merr := json.Marshal(resp)
	require.NoError(t, merr)
	return b, err
}

// TestHandlerSamples runs every events/s3-redistributor sample through the
// handler with the template's environment, over a fake S3 holding the
// objects and a fake Glue holding the tables, and compares the response,
// the S3 calls and the partitions created with
// testdata/handler/<sample>.golden.json. The same event again must make no
// copy, register nothing new and answer the same.
func TestHandlerSamples(t *testing.T) {
	for _, name := range samples(t) {
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			raw := sample(t, name)
			f, g := newFakeS3(), lakeGlue()
			seed(t, f, raw)
			h := handlerWith(t, f, g, nil)

			resp, err := invoke(t, h, raw)
			got := map[string]any{"response": resp, "s3Calls": f.sortedCalls(), "partitions": g.partitionList()}
			if err != nil {
				got["error"] = err.Error()
			}
			golden.JSON(t, "testdata/handler/"+strings.TrimSuffix(name, ".json")+".golden.json", got)

			copies, partitions := f.count("CopyObject"), g.partitionList()
			again, err2 := invoke(t, h, raw)
			assert.Equal(t, fmt.Sprint(err), fmt.Sprint(err2), "the same event fails (or not) the same way")
			assert.Equal(t, copies, f.count("CopyObject"), "no copy is made again")
			assert.Equal(t, partitions, g.partitionList())
			var first, second struct {
				Objects []ObjectResult `json:"objects"`
			}
			require.NoError(t, json.Unmarshal(resp, &first))
			require.NoError(t, json.Unmarshal(again, &second))
			require.Len(t, second.Objects, len(first.Objects))
			for i := range second.Objects {
				assert.Equal(t, first.Objects[i].Status, second.Objects[i].Status)
				for _, c := range second.Objects[i].Copies {
					assert.Equal(t, CopyUpToDate, c.Status, "%s on the second run", c.Destination)
				}
			}
		})
	}
}

// TestHandlerMove moves objects (DELETE_SOURCE=true) through a crash
// between copy and delete: the retry finds the copies up to date and
// completes the move, and a third delivery of the event finds the source
// gone and its copies present.
func TestHandlerMove(t *testing.T) {
	raw := sample(t, "firehose-key.json")
	f, g := newFakeS3(), lakeGlue()
	seed(t, f, raw)
	h := handlerWith(t, f, g, map[string]string{"DELETE_SOURCE": "true"})
	src := "lakestream-landing/incoming/2024/05/01/13/lake-events-stream-1-2024-05-01-13-05-09-3f9a2c1e-8b7d-4e6f-a1b2-c3d4e5f6a7b8"
	hourly := "events/hourly/dt=2024-05-01/hour=13/lake-events-stream-1-2024-05-01-13-05-09-3f9a2c1e-8b7d-4e6f-a1b2-c3d4e5f6a7b8"

	// The delete fails as if the function had died after copying.
	f.fail = func(op, _, _ string) error {
		if op == "DeleteObject" {
			return apiError("AccessDenied")
		}
		return nil
	}
	_, err := invoke(t, h, raw)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 of 1 objects failed: s3://"+src+": delete s3://"+src)
	assert.NotNil(t, f.object("lakestream-lake", hourly), "copied before the delete")
	assert.NotNil(t, f.objects[src], "the source stays until it can be deleted")
	assert.Len(t, g.partitionList(), 2, "partitions registered before the delete")

	f.fail = nil
	resp, err := invoke(t, h, raw)
	require.NoError(t, err)
	var res Result
	require.NoError(t, json.Unmarshal(resp, &res))
	require.Len(t, res.Objects, 1)
	assert.Equal(t, StatusMoved, res.Objects[0].Status)
	for _, c := range res.Objects[0].Copies {
		assert.Equal(t, CopyUpToDate, c.Status)
	}
	assert.Nil(t, f.objects[src], "moved")
	assert.Equal(t, 2, f.count("CopyObject"), "each copy made once")

	resp, err = invoke(t, h, raw)
	require.NoError(t, err, "a repeated event after the move is no error")
	require.NoError(t, json.Unmarshal(resp, &res))
	assert.Equal(t, StatusMoved, res.Objects[0].Status)
	for _, c := range res.Objects[0].Copies {
		assert.Equal(t, CopyPresent, c.Status)
	}
	assert.Equal(t, 2, f.count("CopyObject"))
	assert.Equal(t, 2, res.PartitionsExisting, "partitions are checked again, in case the crash came before them")
}

// TestHandlerSourceGone: a source that is gone without its copies (deleted
// by something else) fails: there is nothing to move.
func TestHandlerSourceGone(t *testing.T) {
	f, g := newFakeS3(), lakeGlue()
	h := handlerWith(t, f, g, map[string]string{"DELETE_SOURCE": "true"})
	resp, err := invoke(t, h, sample(t, "firehose-key.json"))
	require.Error(t, err)
	assert.ErrorContains(t, err, "source object is gone and not at its destinations: s3://lakestream-lake/events/hourly/dt=2024-05-01/hour=13/lake-events-stream-1-2024-05-01-13-05-09-3f9a2c1e-8b7d-4e6f-a1b2-c3d4e5f6a7b8 is missing")
	assert.Contains(t, string(resp), `"status":"failed"`)
	assert.Empty(t, g.partitionList(), "no partition for data that is not there")
}

// sqsEvent wraps S3 notification bodies in an SQS batch, message ids m0, m1...
func sqsEvent(t testing.TB, bodies ...string) []byte {
	t.Helper()
	ev := events.SQSEvent{}
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: b, EventSource: "aws:sqs"})
	}
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	return raw
}

// notification is an S3 notification of one created object.
func notification(key string, size int) string {
	return fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2024-05-01T13:05:10.214Z","s3":{"bucket":{"name":"lakestream-landing"},"object":{"key":%q,"size":%d}}}]}`, key, size)
}

const uuid = "3f9a2c1e-8b7d-4e6f-a1b2-c3d4e5f6a7b8"

// TestHandlerSQSPartialFailure: only the SQS messages whose objects failed
// are reported, so only they are retried.
func TestHandlerSQSPartialFailure(t *testing.T) {
	good := "incoming/2024/05/01/13/s-1-2024-05-01-13-05-09-" + uuid
	denied := "incoming/2024/05/01/14/s-1-2024-05-01-14-05-09-" + uuid
	raw := sqsEvent(t,
		notification(good, 3),                            // m0: copied
		notification("incoming/manual/readme.txt", 3),    // m1: no time in key
		`{"Records":[{"eventSource":"aws:s3"`,            // m2: unreadable body
		notification(denied, 3),                          // m3: copy denied
		`{"Service":"Amazon S3","Event":"s3:TestEvent"}`, // m4: ignored
		notification("elsewhere/x.json", 3),              // m5: outside SOURCE_PREFIX
	)
	f, g := newFakeS3(), lakeGlue()
	f.put("lakestream-landing", good, []byte("abc"), "")
	f.put("lakestream-landing", "incoming/manual/readme.txt", []byte("abc"), "")
	f.put("lakestream-landing", denied, []byte("abc"), "")
	f.fail = func(op, _, key string) error {
		if op == "CopyObject" && strings.Contains(key, "hour=14") {
			return apiError("AccessDenied")
		}
		return nil
	}
	h := handlerWith(t, f, g, nil)
	resp, err := h.Handle(context.Background(), raw)
	require.NoError(t, err, "an SQS invocation reports failures per message, not as an error")
	assert.Equal(t, events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{
		{ItemIdentifier: "m1"}, {ItemIdentifier: "m2"}, {ItemIdentifier: "m3"},
	}}, resp)
	assert.NotNil(t, f.object("lakestream-lake", "events/hourly/dt=2024-05-01/hour=13/s-1-2024-05-01-13-05-09-"+uuid), "the good message's object is copied")
	assert.Equal(t, []string{
		"lakestream.events_hourly 2024-05-01/13 -> s3://lakestream-lake/events/hourly/dt=2024-05-01/hour=13/",
		"lakestream.events_minute 2024/05/01/13/05 -> s3://lakestream-lake/events/minute/2024/05/01/13/05/",
	}, g.partitionList(), "no partition for the failed copy")

	all, err := h.Handle(context.Background(), sqsEvent(t, notification(good, 3)))
	require.NoError(t, err)
	assert.Equal(t, events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}, all, "an empty list when every message succeeded")
}

// TestHandlerPartialFailureDirect: in a direct S3 invocation a bad key fails
// that object, the others are copied, and the error names the bad one.
func TestHandlerPartialFailureDirect(t *testing.T) {
	raw := sample(t, "bad-key.json")
	f, g := newFakeS3(), lakeGlue()
	seed(t, f, raw)
	h := handlerWith(t, f, g, nil)
	resp, err := h.Handle(context.Background(), raw)
	require.Error(t, err)
	assert.EqualError(t, err, `1 of 2 objects failed: s3://lakestream-landing/incoming/manual-upload/readme.txt: no time in the object key: "incoming/manual-upload/readme.txt" is not a Firehose object name, has no Hive year=/month=/day= or dt= folders and matches no KEY_PATTERNS; set KEY_PATTERNS for its layout, or TIME_FALLBACK=event-time to use the event's time`)
	res, ok := resp.(*Result)
	require.True(t, ok)
	assert.Equal(t, StatusCopied, res.Objects[0].Status)
	assert.Equal(t, StatusFailed, res.Objects[1].Status)
	assert.Equal(t, 2, f.count("CopyObject"), "the good object's two copies")
}

// TestHandlerManyFailuresNamed: the invocation error names at most five
// objects and counts the rest.
func TestHandlerManyFailuresNamed(t *testing.T) {
	var records []string
	for i := range 7 {
		records = append(records, fmt.Sprintf(`{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"lakestream-landing"},"object":{"key":"incoming/x%d.txt"}}}`, i))
	}
	raw := []byte(`{"Records":[` + strings.Join(records, ",") + `]}`)
	h := handlerWith(t, newFakeS3(), lakeGlue(), nil)
	_, err := h.Handle(context.Background(), raw)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "7 of 7 objects failed: s3://lakestream-landing/incoming/x0.txt: "))
	assert.True(t, strings.HasSuffix(err.Error(), "; and 2 more"), err.Error())
}

// TestHandlerGlueFailure: an object whose partition cannot be registered
// fails (its copies stay), and its retry registers the partition.
func TestHandlerGlueFailure(t *testing.T) {
	raw := sample(t, "sqs.json")
	f, g := newFakeS3(), lakeGlue()
	seed(t, f, raw)
	broken := true
	g.partitionError = func(table string, values []string) string {
		if broken && table == "lakestream.events_minute" && values[3] == "14" {
			return "InvalidInputException"
		}
		return ""
	}
	h := handlerWith(t, f, g, nil)
	resp, err := h.Handle(context.Background(), raw)
	require.NoError(t, err)
	assert.Equal(t, events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "b9c4a5d2-1f0e-4c8b-9a7d-3e6f5c4b3a21"}}}, resp)
	assert.Len(t, g.partitionList(), 3)

	broken = false
	resp, err = h.Handle(context.Background(), raw)
	require.NoError(t, err)
	assert.Empty(t, resp.(events.SQSEventResponse).BatchItemFailures)
	assert.Len(t, g.partitionList(), 4)
}

// TestHandlerDuplicates: the same object reported twice in one batch is
// copied once, and both messages succeed.
func TestHandlerDuplicates(t *testing.T) {
	key := "incoming/2024/05/01/13/s-1-2024-05-01-13-05-09-" + uuid
	f, g := newFakeS3(), lakeGlue()
	f.put("lakestream-landing", key, []byte("abc"), "")
	h := handlerWith(t, f, g, map[string]string{"DELETE_SOURCE": "true"})
	resp, err := h.Handle(context.Background(), sqsEvent(t, notification(key, 3), notification(key, 3)))
	require.NoError(t, err)
	assert.Empty(t, resp.(events.SQSEventResponse).BatchItemFailures)
	assert.Equal(t, 2, f.count("CopyObject"), "two destinations, copied once each")
	assert.Equal(t, 1, f.count("DeleteObject"))
}

// TestHandlerNoGlue: with GLUE_DATABASE empty nothing is registered and no
// Glue client is needed.
func TestHandlerNoGlue(t *testing.T) {
	raw := sample(t, "firehose-key.json")
	f := newFakeS3()
	seed(t, f, raw)
	h := handlerWith(t, f, nil, map[string]string{"GLUE_DATABASE": ""})
	resp, err := h.Handle(context.Background(), raw)
	require.NoError(t, err)
	res := resp.(*Result)
	assert.Equal(t, StatusCopied, res.Objects[0].Status)
	assert.Empty(t, res.Objects[0].Partitions)
}

// panicky panics on HeadObject of one key.
type panicky struct{ *fakeS3 }

func (p panicky) HeadObject(ctx context.Context, in *s3.HeadObjectInput, opt ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	if strings.Contains(*in.Key, "hour=14") {
		panic("boom")
	}
	return p.fakeS3.HeadObject(ctx, in, opt...)
}

// TestHandlerPanic: a panic while copying one object fails that object;
// nothing escapes the handler.
func TestHandlerPanic(t *testing.T) {
	raw := sample(t, "sqs.json")
	f, g := newFakeS3(), lakeGlue()
	seed(t, f, raw)
	h := newHandler(mustConfig(t, templateEnv(t)), panicky{f}, g, nil, nil)
	var resp any
	var err error
	require.NotPanics(t, func() { resp, err = h.Handle(context.Background(), raw) })
	require.NoError(t, err)
	assert.Equal(t, events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "b9c4a5d2-1f0e-4c8b-9a7d-3e6f5c4b3a21"}}}, resp)
}

// TestHandlerIgnores: events that create no object, and objects that are
// not the function's to copy, are ignored with the reason, and the
// invocation succeeds; an SQS message that carries no S3 event fails.
func TestHandlerIgnores(t *testing.T) {
	removed := strings.Replace(notification("incoming/a.json", 3), "ObjectCreated:Put", "ObjectRemoved:Delete", 1)
	glueCreated := `{"version":"0","id":"e","detail-type":"Object Created","source":"aws.glue","time":"2024-05-01T13:47:52Z","detail":{"bucket":{"name":"lakestream-landing"},"object":{"key":"incoming/a.json"}}}`
	s3Deleted := `{"version":"0","id":"e","detail-type":"Object Deleted","source":"aws.s3","time":"2024-05-01T13:47:52Z","detail":{"bucket":{"name":"lakestream-landing"},"object":{"key":"incoming/a.json"}}}`
	tests := map[string]struct {
		event  string
		reason string
	}{
		"object removed":                   {event: removed, reason: "event ObjectRemoved:Delete does not create an object"},
		"Object Created of another source": {event: glueCreated, reason: `EventBridge aws.glue event "Object Created" does not create an object`},
		"Object Deleted":                   {event: s3Deleted, reason: `EventBridge aws.s3 event "Object Deleted" does not create an object`},
		"folder marker":                    {event: notification("incoming/2024/", 0), reason: "folder marker"},
		"outside SOURCE_PREFIX":            {event: notification("elsewhere/a.json", 3), reason: "outside SOURCE_PREFIX incoming/"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFakeS3()
			resp, err := invoke(t, handlerWith(t, f, lakeGlue(), nil), []byte(tc.event))
			require.NoError(t, err)
			var res Result
			require.NoError(t, json.Unmarshal(resp, &res))
			require.Len(t, res.Objects, 1)
			assert.Equal(t, StatusIgnored, res.Objects[0].Status)
			assert.Equal(t, tc.reason, res.Objects[0].Reason)
			assert.Empty(t, f.sortedCalls(), "no S3 call")
		})
	}
	resp, err := handlerWith(t, newFakeS3(), lakeGlue(), nil).Handle(context.Background(), sqsEvent(t, `{"hello":"world"}`))
	require.NoError(t, err)
	assert.Equal(t, events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "m0"}}}, resp)
}

// TestHandlerMalformed: an event of no known shape fails the invocation; so
// does an SQS message without a messageId, which no response could name.
func TestHandlerMalformed(t *testing.T) {
	h := handlerWith(t, newFakeS3(), lakeGlue(), nil)
	for raw, want := range map[string]error{
		`{}`:       batch.ErrUnknownEvent,
		`[]`:       batch.ErrUnknownEvent,
		`not json`: batch.ErrUnknownEvent,
		`{"Records":[{"eventSource":"aws:sqs"}]}`: batch.ErrUnidentified,
	} {
		_, err := h.Handle(context.Background(), json.RawMessage(raw))
		assert.ErrorIs(t, err, want, raw)
	}
}

// TestHandlerDeadline: objects not copied before the invocation's deadline
// (less the margin kept for reporting) fail, and the batch still answers.
func TestHandlerDeadline(t *testing.T) {
	raw := sample(t, "sqs.json")
	f, g := newFakeS3(), lakeGlue()
	seed(t, f, raw)
	h := handlerWith(t, f, g, nil)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(deadline.Margin/2))
	defer cancel()
	resp, err := h.Handle(ctx, raw)
	require.NoError(t, err)
	failures := resp.(events.SQSEventResponse).BatchItemFailures
	assert.Len(t, failures, 2, "both messages with objects fail; the test event does not")
	assert.Zero(t, f.count("CopyObject"))
}

// TestHandlerLogsAndMetrics: one summary line with the counts, one error
// line per failed object naming it, EMF counts, and never the data.
func TestHandlerLogsAndMetrics(t *testing.T) {
	raw := sample(t, "bad-key.json")
	f, g := newFakeS3(), lakeGlue()
	seed(t, f, raw)
	var logs, emf bytes.Buffer
	h := newHandler(mustConfig(t, templateEnv(t)), f, g, logging.New(&logs, slog.LevelInfo, "test"), metrics.New(&emf, "lakestream"))
	_, err := h.Handle(context.Background(), raw)
	require.Error(t, err)

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 2)
	var failed, summary map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &failed))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &summary))
	assert.Equal(t, "object failed", failed["msg"])
	assert.Equal(t, "s3://lakestream-landing/incoming/manual-upload/readme.txt", failed["source"])
	assert.Equal(t, "invocation failed", summary["msg"])
	for k, v := range map[string]float64{"objects": 2, "copied": 1, "failed": 1, "copies_made": 2, "bytes_copied": 2 * 1342, "partitions_created": 2} {
		assert.Equal(t, v, summary[k], k)
	}
	assert.NotContains(t, logs.String(), "xxxx", "no object data in logs")

	var m map[string]any
	require.NoError(t, json.Unmarshal(emf.Bytes(), &m))
	assert.Equal(t, 2.0, m["ObjectsIn"])
	assert.Equal(t, 1.0, m["ObjectsFailed"])
	assert.Equal(t, 2.0, m["CopiesMade"])
	assert.Equal(t, 2.0, m["PartitionsCreated"])
}
