package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/deadline"
	"lakestream/shared/logging/logtest"
	"lakestream/shared/metrics"
)

// Each test item carries a tag saying what the test Job does with it: in a
// stream record's "tag" field, as an object's key, an event's id or a
// message's body.
const (
	tagOK         = "ok"
	tagSkip       = "skip"
	tagFail       = "fail"
	tagPermanent  = "permanent"
	tagPanic      = "panic"
	tagDefer      = "defer"      // Flush delivers it
	tagDeferFail  = "defer-fail" // Flush fails it
	tagUndecided  = "undecided"  // Flush leaves it alone
	tagFlushPanic = "flush-panic"
)

var errTold = errors.New("told to fail")

func tag(t testing.TB, it *Item) string {
	switch {
	case it.Stream != nil:
		var r struct{ Tag string }
		require.NoError(t, json.Unmarshal(it.Stream.JSON, &r))
		return r.Tag
	case it.S3 != nil:
		return it.S3.Key
	case it.Event != nil:
		return it.Event.ID
	case it.Message != nil:
		return string(it.Message.Body)
	}
	t.Fatalf("item %d carries nothing", it.Index)
	return ""
}

// testJob does what each item's tag says and records what it saw.
type testJob struct {
	t        testing.TB
	items    []string // tags in the order Item saw them
	deferred []string // tags Flush was given
	finished []Outcome
}

func (j *testJob) start(inv *Invocation) Job {
	return Job{
		Item: func(ctx context.Context, it *Item) error {
			tg := tag(j.t, it)
			j.items = append(j.items, tg)
			switch tg {
			case tagSkip:
				return Skip("told to")
			case tagFail:
				return fmt.Errorf("item %d: %w", it.Index, errTold)
			case tagPermanent:
				return Permanent(fmt.Errorf("item %d: %w", it.Index, errTold))
			case tagPanic:
				panic("boom")
			case tagDefer, tagDeferFail, tagUndecided, tagFlushPanic:
				return Defer
			}
			return nil
		},
		Flush: func(ctx context.Context, deferred []*Item) {
			for _, it := range deferred {
				tg := tag(j.t, it)
				j.deferred = append(j.deferred, tg)
				switch tg {
				case tagDefer:
					it.Settle(nil)
				case tagDeferFail:
					it.Settle(fmt.Errorf("flush: %w", errTold))
				case tagFlushPanic:
					panic("flush boom")
				}
			}
		},
		Finish: func(ctx context.Context, items []*Item) (any, []any) {
			for _, it := range items {
				j.finished = append(j.finished, it.Outcome())
			}
			return map[string]int{"items": len(items)}, []any{"job_attr", "x"}
		},
	}
}

// Events of each source, one item per tag.

func dynamoDBEvent(tags ...string) []byte {
	var recs []string
	for i, tg := range tags {
		recs = append(recs, fmt.Sprintf(`{"eventSource":"aws:dynamodb","eventName":"INSERT","eventSourceARN":"arn:aws:dynamodb:eu-west-1:123456789012:table/T/stream/x","dynamodb":{"SequenceNumber":"%d","Keys":{"pk":{"S":"a"}}},"tag":%q}`, 100+i, tg))
	}
	return []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
}

func kinesisEvent(tags ...string) []byte {
	var recs []string
	for i, tg := range tags {
		recs = append(recs, fmt.Sprintf(`{"eventSource":"aws:kinesis","eventSourceARN":"arn:aws:kinesis:eu-west-1:123456789012:stream/s","kinesis":{"sequenceNumber":"4959%d","partitionKey":"p","data":"e30="},"tag":%q}`, i, tg))
	}
	return []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
}

func s3Notification(keys ...string) string {
	var recs []string
	for _, k := range keys {
		recs = append(recs, fmt.Sprintf(`{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2024-05-01T13:05:10.214Z","s3":{"bucket":{"name":"b"},"object":{"key":%q,"size":3}}}`, k))
	}
	return `{"Records":[` + strings.Join(recs, ",") + `]}`
}

func eventBridgeEvent(id string) string {
	return fmt.Sprintf(`{"version":"0","id":%q,"detail-type":"Glue Crawler State Change","source":"aws.glue","time":"2024-05-01T12:05:00Z","detail":{"crawlerName":"c","state":"Succeeded"}}`, id)
}

func snsEnvelope(message string) string {
	b, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "n", "Message": message})
	return string(b)
}

// sqsEvent is an SQS batch of the bodies, message ids m0, m1, ...
func sqsEvent(bodies ...string) []byte {
	var recs []string
	for i, b := range bodies {
		body, _ := json.Marshal(b)
		recs = append(recs, fmt.Sprintf(`{"messageId":"m%d","receiptHandle":"r","body":%s,"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-west-1:123456789012:q"}`, i, body))
	}
	return []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
}

func snsEvent(messages ...string) []byte {
	var recs []string
	for _, m := range messages {
		msg, _ := json.Marshal(m)
		recs = append(recs, fmt.Sprintf(`{"EventSource":"aws:sns","Sns":{"Type":"Notification","MessageId":"n","Message":%s,"Timestamp":"2024-05-01T13:05:10.350Z"}}`, msg))
	}
	return []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
}

// outcome is what one invocation answered, logged and counted.
type outcome struct {
	job      *testJob
	resp     any
	err      error
	summary  map[string]any
	emf      map[string]any
	logs     string
	response string // resp as JSON
}

// testHandler is a Handler running a testJob, logging and counting into
// buffers.
func testHandler(t testing.TB) (*Handler, *testJob, *bytes.Buffer, *bytes.Buffer) {
	var logs, emf bytes.Buffer
	job := &testJob{t: t}
	h := New(job.start, WithNoun("records"), WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))), WithMetrics(metrics.New(&emf, "test")))
	return h, job, &logs, &emf
}

// invoke runs payload through Handle, and through Invoke on a second
// handler to check that it answers the same bytes.
func invoke(t *testing.T, ctx context.Context, payload []byte) outcome {
	t.Helper()
	h, job, logs, emf := testHandler(t)
	resp, err := h.Handle(ctx, payload)
	o := outcome{job: job, resp: resp, err: err, logs: logs.String()}
	b, merr := json.Marshal(resp)
	require.NoError(t, merr)
	o.response = string(b)

	h2, _, _, _ := testHandler(t)
	body, ierr := h2.Invoke(ctx, payload)
	if err != nil {
		require.Error(t, ierr)
		assert.Equal(t, err.Error(), ierr.Error(), "Invoke fails as Handle does")
		assert.Nil(t, body, "a failed invocation answers nothing")
	} else {
		require.NoError(t, ierr)
		assert.JSONEq(t, o.response, string(body), "Invoke answers what Handle returns")
	}

	o.summary = logtest.Summary(t, o.logs)
	wantMsg := "invocation done"
	if err != nil {
		wantMsg = "invocation failed"
	}
	assert.Equal(t, wantMsg, o.summary["msg"])
	docs := strings.Split(strings.TrimSpace(emf.String()), "\n")
	require.Len(t, docs, 1, "one EMF document per invocation")
	require.NoError(t, json.Unmarshal([]byte(docs[0]), &o.emf))
	return o
}

// TestHandleSources runs each source through the adapter with items that
// succeed, skip, fail, fail for good, panic, and defer to a Flush that
// delivers, fails or forgets them.
func TestHandleSources(t *testing.T) {
	everything := []string{tagOK, tagSkip, tagFail, tagPermanent, tagPanic, tagDefer, tagDeferFail, tagUndecided}
	tests := map[string]struct {
		payload []byte
		source  Source
		counts  Counts
		// response is the JSON answered, or "" when the invocation fails.
		response string
		err      string // error text (contained), when it fails
	}{
		"DynamoDB stream: failures by sequence number": {
			payload:  dynamoDBEvent(everything...),
			source:   SourceDynamoDB,
			counts:   Counts{In: 8, Delivered: 2, Skipped: 1, Failed: 5},
			response: `{"batchItemFailures":[{"itemIdentifier":"102"},{"itemIdentifier":"103"},{"itemIdentifier":"104"},{"itemIdentifier":"106"},{"itemIdentifier":"107"}]}`,
		},
		"Kinesis stream": {
			payload:  kinesisEvent(tagOK, tagFail, tagDefer, tagDeferFail),
			source:   SourceKinesis,
			counts:   Counts{In: 4, Delivered: 2, Failed: 2},
			response: `{"batchItemFailures":[{"itemIdentifier":"49591"},{"itemIdentifier":"49593"}]}`,
		},
		"SQS of S3 notifications: a message fails once for any of its objects": {
			payload:  sqsEvent(s3Notification(tagOK, tagDefer), s3Notification(tagOK, tagFail, tagDeferFail), s3Notification(tagSkip), s3Notification(tagPanic)),
			source:   SourceSQS,
			counts:   Counts{In: 7, Delivered: 3, Skipped: 1, Failed: 3},
			response: `{"batchItemFailures":[{"itemIdentifier":"m1"},{"itemIdentifier":"m3"}]}`,
		},
		"SQS of SNS envelopes and EventBridge events, a test event and a bare message": {
			payload: sqsEvent(snsEnvelope(s3Notification(tagFail)), eventBridgeEvent(tagOK), `{"Service":"Amazon S3","Event":"s3:TestEvent"}`, tagDefer,
				snsEnvelope(eventBridgeEvent(tagUndecided))),
			source:   SourceSQS,
			counts:   Counts{In: 4, Delivered: 2, Failed: 2},
			response: `{"batchItemFailures":[{"itemIdentifier":"m0"},{"itemIdentifier":"m4"}]}`,
		},
		"SQS: a message that does not decode fails by its messageId": {
			payload:  []byte(`{"Records":[{"eventSource":"aws:sqs","messageId":"m0","body":7},{"eventSource":"aws:sqs","messageId":"m1","body":"ok"}]}`),
			source:   SourceSQS,
			counts:   Counts{In: 2, Delivered: 1, Failed: 1},
			response: `{"batchItemFailures":[{"itemIdentifier":"m0"}]}`,
		},
		"S3 notification: the error counts and names the failed objects": {
			payload: []byte(s3Notification(tagOK, tagFail, tagPermanent, tagDeferFail)),
			source:  SourceS3,
			counts:  Counts{In: 4, Delivered: 1, Failed: 3},
			err:     "2 of 4 records failed: s3://b/fail: item 1: told to fail; s3://b/defer-fail: flush: told to fail",
		},
		"S3 notification: a failure no retry cures does not fail the invocation": {
			payload:  []byte(s3Notification(tagOK, tagPermanent, tagSkip)),
			source:   SourceS3,
			counts:   Counts{In: 3, Delivered: 1, Skipped: 1, Failed: 1},
			response: `{"items":3}`,
		},
		"S3 test event: no items": {
			payload:  []byte(`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-05-01T12:59:58.000Z","Bucket":"b"}`),
			source:   SourceS3,
			response: `{"items":0}`,
		},
		"SNS of S3 notifications and EventBridge events": {
			payload: snsEvent(s3Notification(tagOK, tagDefer), eventBridgeEvent(tagPanic)),
			source:  SourceSNS,
			counts:  Counts{In: 3, Delivered: 2, Failed: 1},
			err:     "1 of 3 records failed: event panic: panic: boom",
		},
		"SNS: a message that is no envelope reaches the function": {
			payload:  snsEvent(tagOK),
			source:   SourceSNS,
			counts:   Counts{In: 1, Delivered: 1},
			response: `{"items":1}`,
		},
		"EventBridge: the event's error is the invocation's": {
			payload: []byte(eventBridgeEvent(tagFail)),
			source:  SourceEventBridge,
			counts:  Counts{In: 1, Failed: 1},
			err:     "item 0: told to fail",
		},
		"EventBridge: done": {
			payload:  []byte(eventBridgeEvent(tagDefer)),
			source:   SourceEventBridge,
			counts:   Counts{In: 1, Delivered: 1},
			response: `{"items":1}`,
		},
		"records without any": {
			payload:  []byte(`{"Records":[]}`),
			response: `{"batchItemFailures":[]}`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := invoke(t, context.Background(), tc.payload)
			if tc.err != "" {
				require.Error(t, o.err)
				assert.Contains(t, o.err.Error(), tc.err)
				if !strings.Contains(tc.err, "panic") {
					assert.ErrorIs(t, o.err, errTold, "item errors stay reachable with errors.Is")
				}
			} else {
				require.NoError(t, o.err)
				assert.JSONEq(t, tc.response, o.response)
			}
			assert.Equal(t, string(tc.source), o.summary["source"])
			got := Counts{In: num(o.summary["records"]), Delivered: num(o.summary["delivered"]), Skipped: num(o.summary["skipped"]), Failed: num(o.summary["failed"])}
			assert.Equal(t, tc.counts, got, "summary counts")
			assert.Equal(t, "x", o.summary["job_attr"], "the Job's attributes are in the summary")
			assert.Contains(t, o.summary, "duration_ms")
			emf := Counts{In: num(o.emf["RecordsIn"]), Delivered: num(o.emf["RecordsDelivered"]), Skipped: num(o.emf["RecordsSkipped"]), Failed: num(o.emf["RecordsFailed"])}
			assert.Equal(t, tc.counts, emf, "EMF counts")
			assert.Len(t, o.job.finished, tc.counts.In, "Finish sees every item")
			for _, out := range o.job.finished {
				assert.NotEqual(t, Pending, out, "every item is decided before Finish")
			}
		})
	}
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// TestHandleItemErrors: what each item ends as, with its error or reason.
func TestHandleItemErrors(t *testing.T) {
	var items []*Item
	job := &testJob{t: t}
	h := New(func(inv *Invocation) Job {
		j := job.start(inv)
		items = inv.Items
		return j
	})
	_, err := h.Handle(context.Background(), dynamoDBEvent(tagOK, tagSkip, tagFail, tagPanic, tagDefer, tagDeferFail, tagUndecided))
	require.NoError(t, err)
	want := []struct {
		out Outcome
		err string
	}{
		{Delivered, ""}, {Skipped, ""}, {Failed, "item 2: told to fail"}, {Failed, "panic: boom"},
		{Delivered, ""}, {Failed, "flush: told to fail"}, {Failed, ErrUndecided.Error()},
	}
	require.Len(t, items, len(want))
	for i, w := range want {
		assert.Equal(t, w.out, items[i].Outcome(), "item %d", i)
		if w.err == "" {
			assert.NoError(t, items[i].Err(), "item %d", i)
		} else {
			assert.EqualError(t, items[i].Err(), w.err, "item %d", i)
		}
	}
	assert.Equal(t, "told to", items[1].Reason())
	assert.Equal(t, []string{tagDefer, tagDeferFail, tagUndecided}, job.deferred, "Flush gets the deferred items, in order")
}

// TestHandleFlushPanic: a panic in Flush fails the deferred items it had
// not settled, keeps those it had, and the process and the batch go on.
func TestHandleFlushPanic(t *testing.T) {
	o := invoke(t, context.Background(), dynamoDBEvent(tagOK, tagDefer, tagFlushPanic, tagDefer, tagFail))
	require.NoError(t, o.err)
	assert.JSONEq(t, `{"batchItemFailures":[{"itemIdentifier":"102"},{"itemIdentifier":"103"},{"itemIdentifier":"104"}]}`, o.response)
	assert.Equal(t, []string{tagDefer, tagFlushPanic}, o.job.deferred, "Flush stopped at the panic")
	assert.Contains(t, o.logs, `"msg":"flush panicked"`)
	assert.Equal(t, []Outcome{Delivered, Delivered, Failed, Failed, Failed}, o.job.finished)
}

// TestHandleDeadline: items not handled before the deadline margin fail,
// Flush is not called once it is reached, and the answer still goes out.
func TestHandleDeadline(t *testing.T) {
	t.Run("before the first item", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), deadline.Margin/2)
		defer cancel()
		o := invoke(t, ctx, sqsEvent(s3Notification(tagOK), s3Notification(tagDefer)))
		require.NoError(t, o.err)
		assert.JSONEq(t, `{"batchItemFailures":[{"itemIdentifier":"m0"},{"itemIdentifier":"m1"}]}`, o.response)
		assert.Empty(t, o.job.items, "no item was handled")
	})
	t.Run("while items are handled", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), deadline.Margin+200*time.Millisecond)
		defer cancel()
		var seen []int
		h := New(func(inv *Invocation) Job {
			return Job{
				Item: func(ctx context.Context, it *Item) error {
					seen = append(seen, it.Index)
					if it.Index == 1 {
						<-ctx.Done() // a slow item uses up the time
					}
					return Defer
				},
				Flush: func(context.Context, []*Item) { t.Error("Flush called after the deadline margin") },
			}
		})
		start := time.Now()
		resp, err := h.Handle(ctx, kinesisEvent(tagOK, tagOK, tagOK))
		require.NoError(t, err)
		assert.Less(t, time.Since(start), deadline.Margin, "answered before the deadline")
		assert.Equal(t, []int{0, 1}, seen)
		b, _ := json.Marshal(resp)
		assert.JSONEq(t, `{"batchItemFailures":[{"itemIdentifier":"49590"},{"itemIdentifier":"49591"},{"itemIdentifier":"49592"}]}`, string(b))
	})
}

// TestHandleUnidentified: a failed record without an identifier fails the
// invocation, rather than answering an empty identifier (which Lambda reads
// as a failure of the whole batch without saying why).
func TestHandleUnidentified(t *testing.T) {
	raw := []byte(`{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"1"},"tag":"fail"},{"eventSource":"aws:dynamodb","tag":"fail"},{"eventSource":"aws:dynamodb","tag":"ok"}]}`)
	var logs bytes.Buffer
	job := &testJob{t: t}
	h := New(job.start, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	resp, err := h.Handle(context.Background(), raw)
	require.ErrorIs(t, err, ErrUnidentified)
	assert.EqualError(t, err, "batch: a failed record has no identifier: 1 of 2 failed records")
	b, _ := json.Marshal(resp)
	assert.JSONEq(t, `{"batchItemFailures":[{"itemIdentifier":"1"}]}`, string(b), "never an empty identifier")
	line := logtest.Line(t, logs.String(), "invocation failed")
	assert.Equal(t, float64(3), line["items"], "the default noun")
}

// TestHandleMalformed: a request of no known shape fails the invocation,
// and still writes the summary line and the metrics.
func TestHandleMalformed(t *testing.T) {
	for _, raw := range []string{`{}`, `not json`, `{"Records":[{"eventSource":"aws:kafka"}]}`} {
		t.Run(raw, func(t *testing.T) {
			o := invoke(t, context.Background(), []byte(raw))
			require.ErrorIs(t, o.err, ErrUnknownEvent)
			assert.Nil(t, o.resp)
			assert.Empty(t, o.job.items, "no Job runs")
			assert.Equal(t, "", o.summary["source"])
			assert.Equal(t, float64(0), o.summary["records"])
			assert.Contains(t, o.summary["error"], "not a DynamoDB or Kinesis stream")
			assert.Equal(t, float64(0), o.emf["RecordsIn"])
		})
	}
}

// TestHandleJobPanics: a panic in the Job's start fails every item; one in
// Finish loses the response and the Job's attributes, not the answer.
func TestHandleJobPanics(t *testing.T) {
	t.Run("start", func(t *testing.T) {
		var logs bytes.Buffer
		h := New(func(*Invocation) Job { panic("no job") }, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
		resp, err := h.Handle(context.Background(), dynamoDBEvent(tagOK, tagOK))
		require.NoError(t, err)
		b, _ := json.Marshal(resp)
		assert.JSONEq(t, `{"batchItemFailures":[{"itemIdentifier":"100"},{"itemIdentifier":"101"}]}`, string(b))
		assert.Contains(t, logs.String(), `"msg":"job start panicked"`)
		assert.Equal(t, float64(2), logtest.Line(t, logs.String(), "invocation done")["failed"])
	})
	t.Run("no Item function", func(t *testing.T) {
		h := New(func(*Invocation) Job { return Job{} })
		_, err := h.Handle(context.Background(), []byte(eventBridgeEvent(tagOK)))
		require.EqualError(t, err, "batch: the Job has no Item function")
	})
	t.Run("finish", func(t *testing.T) {
		var logs bytes.Buffer
		h := New(func(*Invocation) Job {
			return Job{
				Item:   func(context.Context, *Item) error { return nil },
				Finish: func(context.Context, []*Item) (any, []any) { panic("no summary") },
			}
		}, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
		resp, err := h.Handle(context.Background(), []byte(eventBridgeEvent(tagOK)))
		require.NoError(t, err)
		assert.Nil(t, resp)
		assert.Contains(t, logs.String(), `"msg":"finish panicked"`)
		assert.Equal(t, float64(1), logtest.Line(t, logs.String(), "invocation done")["delivered"])
	})
}

// TestSettleOnlyDeferred: Settle decides deferred items only.
func TestSettleOnlyDeferred(t *testing.T) {
	it := &Item{}
	it.set(Skip("no"))
	it.Settle(nil)
	assert.Equal(t, Skipped, it.Outcome(), "an item decided in Item keeps its outcome")
	it = &Item{deferred: true}
	it.Settle(Defer)
	assert.Equal(t, Failed, it.Outcome())
	assert.ErrorIs(t, it.Err(), ErrUndecided, "Defer is no outcome")
	assert.Equal(t, "failed", it.Outcome().String())
	assert.Equal(t, "Outcome(9)", Outcome(9).String())
	assert.NoError(t, Permanent(nil))
}

// TestSetOutcomes: the error an item is set with decides its outcome,
// wrapped or not, and deciding a delivered or skipped item allocates
// nothing (it used to cost an allocation per item, a third of a stream
// invocation's).
func TestSetOutcomes(t *testing.T) {
	skip := Skip("filtered")
	tests := map[string]struct {
		err       error
		outcome   Outcome
		reason    string
		permanent bool
	}{
		"nil":               {err: nil, outcome: Delivered},
		"skip":              {err: skip, outcome: Skipped, reason: "filtered"},
		"wrapped skip":      {err: fmt.Errorf("stage: %w", skip), outcome: Skipped, reason: "filtered"},
		"defer":             {err: Defer, outcome: Failed},
		"failure":           {err: errors.New("no"), outcome: Failed},
		"permanent failure": {err: fmt.Errorf("x: %w", Permanent(errors.New("bad"))), outcome: Failed, permanent: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			it := &Item{}
			it.set(tc.err)
			assert.Equal(t, tc.outcome, it.Outcome())
			assert.Equal(t, tc.reason, it.Reason())
			assert.Equal(t, tc.permanent, it.permanent)
			if tc.outcome == Skipped {
				assert.NoError(t, it.Err())
			}
		})
	}
	it := &Item{}
	assert.Zero(t, testing.AllocsPerRun(100, func() { it.set(nil) }), "delivered")
	assert.Zero(t, testing.AllocsPerRun(100, func() { it.set(skip) }), "skipped")
}

// FuzzHandle runs any request through the adapter with a Job that fails,
// skips, defers and panics on items by their position: it never panics,
// answers one summary line, counts every item once, and for streams and
// SQS lists exactly the identifiers of the failed items, never an empty
// one.
func FuzzHandle(f *testing.F) {
	for _, raw := range cases(f) {
		f.Add(raw, uint8(7))
	}
	f.Fuzz(func(t *testing.T, raw []byte, seed uint8) {
		var logs bytes.Buffer
		var items []*Item
		h := New(func(inv *Invocation) Job {
			items = inv.Items
			return Job{
				Item: func(_ context.Context, it *Item) error {
					switch (int(seed) + it.Index) % 5 {
					case 0:
						return errTold
					case 1:
						return Skip("s")
					case 2:
						return Defer
					case 3:
						panic("p")
					}
					return nil
				},
				Flush: func(_ context.Context, deferred []*Item) {
					for i, it := range deferred {
						if i%2 == 0 {
							it.Settle(nil)
						}
					}
				},
			}
		}, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
		resp, err := h.Handle(context.Background(), raw)
		require.Equal(t, 1, strings.Count(logs.String(), `"msg":"invocation `), "one summary line")
		if errors.Is(err, ErrUnknownEvent) {
			return
		}
		c := Count(items)
		require.Equal(t, len(items), c.Delivered+c.Skipped+c.Failed)
		failed := map[string]bool{}
		unidentified := false
		for _, it := range items {
			require.NotEqual(t, Pending, it.Outcome())
			if it.Outcome() == Failed {
				require.Error(t, it.Err())
				failed[it.ID] = true
				unidentified = unidentified || it.ID == ""
			}
		}
		b, merr := json.Marshal(resp)
		require.NoError(t, merr)
		if len(items) == 0 || !items[0].Source.partial() {
			return
		}
		require.Equal(t, unidentified, errors.Is(err, ErrUnidentified))
		var r struct {
			BatchItemFailures []struct{ ItemIdentifier string }
		}
		require.NoError(t, json.Unmarshal(b, &r))
		listed := map[string]bool{}
		for _, f := range r.BatchItemFailures {
			require.NotEmpty(t, f.ItemIdentifier)
			require.False(t, listed[f.ItemIdentifier], "listed once")
			listed[f.ItemIdentifier] = true
		}
		delete(failed, "")
		require.Equal(t, failed, listed)
	})
}

// TestInvokeEncoding: Invoke answers the Job's response as aws-lambda-go
// answers a typed handler's, HTML characters as they are.
func TestInvokeEncoding(t *testing.T) {
	h := New(func(*Invocation) Job {
		return Job{
			Item:   func(context.Context, *Item) error { return nil },
			Finish: func(context.Context, []*Item) (any, []any) { return map[string]string{"key": "a&b<c>.json"}, nil },
		}
	})
	body, err := h.Invoke(context.Background(), []byte(eventBridgeEvent(tagOK)))
	require.NoError(t, err)
	assert.Equal(t, `{"key":"a&b<c>.json"}`, string(body))
}
