package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
	"lakestream/shared/eventbridge"
	"lakestream/shared/golden"
	"lakestream/shared/logging/logtest"
	"lakestream/shared/metrics"
)

// fakeJobs is one Glue job: its runs, newest first, as GetJobRuns lists them.
type fakeJobs struct {
	job      string
	runs     []types.JobRun
	starts   []*glue.StartJobRunInput
	gets     int
	pageSize int
	// startErr fails the n-th StartJobRun call (from 1) when it returns an error.
	startErr func(n int) error
}

func newFakeJobs() *fakeJobs { return &fakeJobs{job: "lake-hourly-etl", pageSize: 200} }

func (f *fakeJobs) GetJobRuns(_ context.Context, in *glue.GetJobRunsInput, _ ...func(*glue.Options)) (*glue.GetJobRunsOutput, error) {
	f.gets++
	if aws.ToString(in.JobName) != f.job {
		return nil, &types.EntityNotFoundException{Message: aws.String("Job " + aws.ToString(in.JobName) + " not found")}
	}
	start, _ := strconv.Atoi(aws.ToString(in.NextToken))
	end := min(start+min(int(aws.ToInt32(in.MaxResults)), f.pageSize), len(f.runs))
	out := &glue.GetJobRunsOutput{JobRuns: f.runs[start:end]}
	if end < len(f.runs) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func (f *fakeJobs) StartJobRun(_ context.Context, in *glue.StartJobRunInput, _ ...func(*glue.Options)) (*glue.StartJobRunOutput, error) {
	f.starts = append(f.starts, in)
	if f.startErr != nil {
		if err := f.startErr(len(f.starts)); err != nil {
			return nil, err
		}
	}
	if aws.ToString(in.JobName) != f.job {
		return nil, &types.EntityNotFoundException{Message: aws.String("Job " + aws.ToString(in.JobName) + " not found")}
	}
	id := fmt.Sprintf("jr_%d", len(f.runs)+1)
	f.runs = append([]types.JobRun{{Id: aws.String(id), Arguments: in.Arguments, JobRunState: types.JobRunStateRunning}}, f.runs...)
	return &glue.StartJobRunOutput{JobRunId: aws.String(id)}, nil
}

// handle invokes h with ev as EventBridge sends it and returns its Result,
// which the Handler returns even when the invocation fails.
func handle(t testing.TB, h *batch.Handler, ev events.CloudWatchEvent) (*Result, error) {
	t.Helper()
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	resp, err := h.Handle(context.Background(), raw)
	res, ok := resp.(*Result)
	require.True(t, ok, "response %T", resp)
	return res, err
}

func concurrentRuns() error {
	return &types.ConcurrentRunsExceededException{Message: aws.String("Concurrent runs exceeded for lake-hourly-etl")}
}

func testConfig(t *testing.T, vars map[string]string) Config {
	t.Helper()
	all := map[string]string{"JOB_NAME": "lake-hourly-etl"}
	for k, v := range vars {
		all[k] = v
	}
	env := testEnv(all)
	cfg := loadConfig(env)
	require.NoError(t, env.Err())
	cfg.Retry.Sleep = func(context.Context, time.Duration) error { return nil }
	return cfg
}

// TestHandleSamples runs every events/glue-job-trigger sample, compares
// the result with testdata/handle/<sample>.golden.json, checks StartJobRun
// got the job and the arguments, then delivers the same event again, as
// EventBridge may: it must start nothing.
func TestHandleSamples(t *testing.T) {
	samples, err := filepath.Glob("../../events/glue-job-trigger/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, samples)
	for _, sample := range samples {
		name := strings.TrimSuffix(filepath.Base(sample), ".json")
		t.Run(name, func(t *testing.T) {
			jobs := newFakeJobs()
			var logs, emf bytes.Buffer
			h := newHandler(testConfig(t, nil), jobs, slog.New(slog.NewJSONHandler(&logs, nil)), metrics.New(&emf, "lakestream"))
			ev := readEvent(t, sample)

			res, err := handle(t, h, ev)
			require.NoError(t, err)
			golden.JSON(t, filepath.Join("testdata/handle", name+".golden.json"), res)
			require.Len(t, jobs.starts, 1)
			assert.Equal(t, "lake-hourly-etl", aws.ToString(jobs.starts[0].JobName))
			assert.Equal(t, res.Arguments, jobs.starts[0].Arguments)
			line := logtest.Line(t, logs.String(), "invocation done")
			assert.Equal(t, StatusStarted, line["status"])
			assert.Contains(t, emf.String(), `"JobRunsStarted":1`)

			again, err := handle(t, h, ev)
			require.NoError(t, err)
			assert.Equal(t, StatusAlreadyStarted, again.Status)
			assert.Equal(t, res.JobRunID, again.JobRunID, "names the run that was started")
			assert.Len(t, jobs.starts, 1, "a redelivered event starts nothing")
		})
	}
}

// TestHandleSameWindow: two different events for the same window (a second
// rule, a schedule fired twice) start one run; the next window starts its
// own.
func TestHandleSameWindow(t *testing.T) {
	jobs := newFakeJobs()
	jobs.runs = []types.JobRun{{Id: aws.String("jr_manual"), Arguments: map[string]string{"--date": "2024-05-01", "--hour": "11", "--extra": "x"}}}
	h := newHandler(testConfig(t, nil), jobs, nil, nil)

	for i, at := range []string{"2024-05-01T12:00:03Z", "2024-05-01T12:59:59Z", "2024-05-01T13:00:00Z"} {
		ev := event(eventbridge.DetailTypeScheduled, `{}`)
		ev.ID = fmt.Sprint("event-", i)
		ev.Time, _ = time.Parse(time.RFC3339, at)
		res, err := handle(t, h, ev)
		require.NoError(t, err)
		switch i {
		case 0, 1:
			assert.Equal(t, StatusAlreadyStarted, res.Status, "hour 11 ran already, started by hand with more arguments")
			assert.Equal(t, "jr_manual", res.JobRunID)
		case 2:
			assert.Equal(t, StatusStarted, res.Status)
			assert.Equal(t, map[string]string{"--date": "2024-05-01", "--hour": "12"}, res.Arguments)
		}
	}
	assert.Len(t, jobs.starts, 1)
}

// TestHandleRecentRunsBound: only the RECENT_RUNS latest runs are searched,
// across GetJobRuns pages.
func TestHandleRecentRunsBound(t *testing.T) {
	jobs := newFakeJobs()
	jobs.pageSize = 3
	for i := range 10 {
		jobs.runs = append(jobs.runs, types.JobRun{Id: aws.String(fmt.Sprint("old", i)), Arguments: map[string]string{"--date": "2024-04-01", "--hour": strconv.Itoa(i)}})
	}
	jobs.runs = append(jobs.runs, types.JobRun{Id: aws.String("oldest"), Arguments: map[string]string{"--date": "2024-05-01", "--hour": "12"}})
	ev := readEvent(t, "../../events/glue-job-trigger/scheduled.json")

	h := newHandler(testConfig(t, map[string]string{"RECENT_RUNS": "11"}), jobs, nil, nil)
	res, err := handle(t, h, ev)
	require.NoError(t, err)
	assert.Equal(t, StatusAlreadyStarted, res.Status, "found on the fourth page")
	assert.Equal(t, "oldest", res.JobRunID)
	assert.Equal(t, 4, jobs.gets)

	jobs.gets = 0
	h = newHandler(testConfig(t, map[string]string{"RECENT_RUNS": "10"}), jobs, nil, nil)
	res, err = handle(t, h, ev)
	require.NoError(t, err)
	assert.Equal(t, StatusStarted, res.Status, "the 11th run is beyond RECENT_RUNS")
	assert.Equal(t, 4, jobs.gets, "stops reading once RECENT_RUNS runs were seen")
}

// TestHandleConcurrentRuns: while the job is at its maximum concurrent
// runs, StartJobRun is retried with backoff; a run that frees a slot lets it
// start.
func TestHandleConcurrentRuns(t *testing.T) {
	jobs := newFakeJobs()
	jobs.startErr = func(n int) error {
		if n < 3 {
			return concurrentRuns()
		}
		return nil
	}
	cfg := testConfig(t, map[string]string{"START_BACKOFF": "1s"})
	var waits []time.Duration
	cfg.Retry.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	var emf bytes.Buffer
	h := newHandler(cfg, jobs, nil, metrics.New(&emf, "lakestream"))

	res, err := handle(t, h, readEvent(t, "../../events/glue-job-trigger/scheduled.json"))
	require.NoError(t, err)
	assert.Equal(t, StatusStarted, res.Status)
	assert.Equal(t, 3, res.Attempts)
	require.Len(t, waits, 2)
	assert.LessOrEqual(t, waits[0], time.Second)
	assert.LessOrEqual(t, waits[1], 2*time.Second)
	assert.Contains(t, emf.String(), `"ConcurrentRunRetries":2`)
}

// TestHandleConcurrentRunsBounded: a job that stays busy fails the
// invocation after START_ATTEMPTS, with an error that says so, so that
// Lambda retries the event and finally dead-letters it.
func TestHandleConcurrentRunsBounded(t *testing.T) {
	jobs := newFakeJobs()
	jobs.startErr = func(int) error { return concurrentRuns() }
	var logs bytes.Buffer
	h := newHandler(testConfig(t, map[string]string{"START_ATTEMPTS": "4"}), jobs, slog.New(slog.NewJSONHandler(&logs, nil)), nil)

	_, err := handle(t, h, readEvent(t, "../../events/glue-job-trigger/scheduled.json"))
	require.ErrorIs(t, err, ErrConcurrentRuns)
	assert.EqualError(t, err, "start glue job lake-hourly-etl with map[--date:2024-05-01 --hour:12]: "+
		"the job stayed at its maximum concurrent runs; the invocation fails so that it is retried later: "+
		"retry: attempts exhausted after 4 attempts: job is at its maximum concurrent runs: "+
		"ConcurrentRunsExceededException: Concurrent runs exceeded for lake-hourly-etl")
	assert.Len(t, jobs.starts, 4)
	line := logtest.Line(t, logs.String(), "invocation failed")
	assert.Equal(t, float64(4), line["attempts"])
}

// lostAnswer is the error of a call whose answer never came: the
// connection closed after Glue acted on it.
var lostAnswer = errors.New(`operation error Glue: StartJobRun, https response error StatusCode: 0, request send failed, Post "http://127.0.0.1:4566/": read: connection reset by peer`)

// TestHandleLostStartAnswer: a StartJobRun whose answer is lost may have
// started the run. The retry looks for it first, finds it and starts
// nothing more; where the lost call started nothing, the retry starts it.
func TestHandleLostStartAnswer(t *testing.T) {
	for name, tc := range map[string]struct {
		tookEffect bool
		starts     int
	}{
		"the run started": {tookEffect: true, starts: 1},
		"nothing started": {tookEffect: false, starts: 2},
	} {
		t.Run(name, func(t *testing.T) {
			jobs := &lostJobs{fakeJobs: newFakeJobs(), tookEffect: tc.tookEffect}
			h := newHandler(testConfig(t, nil), jobs, nil, nil)
			res, err := handle(t, h, readEvent(t, "../../events/glue-job-trigger/scheduled.json"))
			require.NoError(t, err)
			assert.Equal(t, StatusStarted, res.Status)
			require.Len(t, jobs.runs, 1, "one run for the window")
			assert.Equal(t, aws.ToString(jobs.runs[0].Id), res.JobRunID)
			assert.Len(t, jobs.starts, tc.starts)
			assert.Equal(t, tc.starts, res.Attempts)
			assert.Equal(t, 2, jobs.gets, "the runs are read before each StartJobRun call, and before the retry")
		})
	}
}

// lostJobs loses the answer of the first StartJobRun call; tookEffect says
// whether Glue started the run all the same.
type lostJobs struct {
	*fakeJobs
	tookEffect bool
}

func (l *lostJobs) StartJobRun(ctx context.Context, in *glue.StartJobRunInput, opts ...func(*glue.Options)) (*glue.StartJobRunOutput, error) {
	if len(l.starts) > 0 {
		return l.fakeJobs.StartJobRun(ctx, in, opts...)
	}
	if l.tookEffect {
		if _, err := l.fakeJobs.StartJobRun(ctx, in, opts...); err != nil {
			return nil, err
		}
	} else {
		l.starts = append(l.starts, in)
	}
	return nil, lostAnswer
}

// TestHandleThrottled: throttled GetJobRuns and StartJobRun calls are
// retried (the SDK's own retries are off), each retry looking for the run
// first.
func TestHandleThrottled(t *testing.T) {
	jobs := &throttledJobs{fakeJobs: newFakeJobs(), getsLeft: 2}
	jobs.startErr = func(n int) error {
		if n == 1 {
			return &types.ThrottlingException{Message: aws.String("Rate exceeded")}
		}
		return nil
	}
	h := newHandler(testConfig(t, nil), jobs, nil, nil)
	res, err := handle(t, h, readEvent(t, "../../events/glue-job-trigger/scheduled.json"))
	require.NoError(t, err)
	assert.Equal(t, StatusStarted, res.Status)
	assert.Len(t, jobs.runs, 1)
	assert.Len(t, jobs.starts, 2, "the throttled call, then the one that started the run")
}

// throttledJobs throttles its first getsLeft GetJobRuns calls.
type throttledJobs struct {
	*fakeJobs
	getsLeft int
}

func (j *throttledJobs) GetJobRuns(ctx context.Context, in *glue.GetJobRunsInput, opts ...func(*glue.Options)) (*glue.GetJobRunsOutput, error) {
	if j.getsLeft > 0 {
		j.getsLeft--
		return nil, &types.ThrottlingException{Message: aws.String("Rate exceeded")}
	}
	return j.fakeJobs.GetJobRuns(ctx, in, opts...)
}

func TestHandleErrors(t *testing.T) {
	tests := map[string]struct {
		vars     map[string]string
		startErr error
		ev       string
		err      string
		starts   int
	}{
		"job missing": {
			vars: map[string]string{"JOB_NAME": "nope"}, ev: "scheduled.json", starts: 0,
			err: "start glue job nope with map[--date:2024-05-01 --hour:12]: the job does not exist (check JOB_NAME): list recent runs of glue job nope: EntityNotFoundException: Job nope not found",
		},
		"access denied": {
			startErr: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: glue:StartJobRun"},
			ev:       "object-created.json", starts: 1,
			err: "start glue job lake-hourly-etl with map[--path:s3://lake-raw/incoming/orders/dt=2024-05-01/hour=12/orders-1-2024-05-01-12-58-30-6f1c2a4e-9b7d-4c3a-8e21-0d5f6a7b8c9d.parquet]: " +
				"access denied: the function's role needs glue:StartJobRun and glue:GetJobRuns on the job: api error AccessDeniedException: not authorized to perform: glue:StartJobRun",
		},
		"other errors are not retried": {
			startErr: &types.InvalidInputException{Message: aws.String("Argument value too long")},
			ev:       "crawler-succeeded.json", starts: 1,
			err: "start glue job lake-hourly-etl with map[--crawl-time:2024-05-01T12:05:00Z --crawler:lake-crawler]: InvalidInputException: Argument value too long",
		},
		"argument renders empty": {
			vars: map[string]string{"OBJECT_ARGUMENTS": `{"--day":"{{.Partition.day}}"}`}, ev: "object-created.json", starts: 0,
			err: "object arguments: argument --day renders empty for this event",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			jobs := newFakeJobs()
			if tc.startErr != nil {
				jobs.startErr = func(int) error { return tc.startErr }
			}
			h := newHandler(testConfig(t, tc.vars), jobs, nil, nil)
			_, err := handle(t, h, readEvent(t, "../../events/glue-job-trigger/"+tc.ev))
			assert.EqualError(t, err, tc.err)
			assert.Len(t, jobs.starts, tc.starts)
		})
	}
}

func TestHandleIgnoresFailedCrawl(t *testing.T) {
	jobs := newFakeJobs()
	h := newHandler(testConfig(t, nil), jobs, nil, nil)
	res, err := handle(t, h, event(eventbridge.DetailTypeGlueCrawlerStateChange, `{"crawlerName":"lake-crawler","state":"Failed"}`))
	require.NoError(t, err)
	assert.Equal(t, StatusIgnored, res.Status)
	assert.Zero(t, jobs.gets)
	assert.Empty(t, jobs.starts)
}

// TestHandleMalformedEvent: the invocation fails, once, counted as a failed
// event (EventsFailed, which replaces StartFailures).
func TestHandleMalformedEvent(t *testing.T) {
	jobs := newFakeJobs()
	var logs, emf bytes.Buffer
	h := newHandler(testConfig(t, nil), jobs, slog.New(slog.NewJSONHandler(&logs, nil)), metrics.New(&emf, "lakestream"))
	_, err := handle(t, h, event(eventbridge.DetailTypeS3ObjectCreated, `{"bucket":{"name":7}}`))
	require.ErrorIs(t, err, ErrMalformedEvent)
	assert.Zero(t, jobs.gets)
	assert.Empty(t, jobs.starts)
	line := logtest.Line(t, logs.String(), "invocation failed")
	assert.Contains(t, line["error"], "malformed event")
	assert.Equal(t, float64(1), line["failed"])
	assert.Contains(t, emf.String(), `"EventsFailed":1`)

	// Not an EventBridge event at all: the adapter cannot tell what it is.
	_, err = h.Handle(context.Background(), []byte(`{"Records":[{"eventSource":"aws:kafka"}]}`))
	require.ErrorIs(t, err, batch.ErrUnknownEvent)
}

// BenchmarkHandleRedelivered is the cost of a redelivered schedule event
// against a job with 200 recent runs: decode, render, search, start nothing.
func BenchmarkHandleRedelivered(b *testing.B) {
	jobs := newFakeJobs()
	for i := range 199 {
		jobs.runs = append(jobs.runs, types.JobRun{Id: aws.String(fmt.Sprint(i)), Arguments: map[string]string{"--date": "2024-04-01", "--hour": "00"}})
	}
	jobs.runs = append(jobs.runs, types.JobRun{Id: aws.String("match"), Arguments: map[string]string{"--date": "2024-05-01", "--hour": "12"}})
	env := testEnv(map[string]string{"JOB_NAME": "lake-hourly-etl"})
	h := newHandler(loadConfig(env), jobs, nil, nil)
	raw, err := os.ReadFile("../../events/glue-job-trigger/scheduled.json")
	require.NoError(b, err)
	ctx := context.Background()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := h.Handle(ctx, raw)
		if res, _ := resp.(*Result); err != nil || res.Status != StatusAlreadyStarted {
			b.Fatal(resp, err)
		}
	}
}
