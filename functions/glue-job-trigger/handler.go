package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"

	"lakestream/shared/batch"
	"lakestream/shared/metrics"
	"lakestream/shared/retry"
)

// jobs is the part of the Glue API the trigger calls.
type jobs interface {
	StartJobRun(ctx context.Context, in *glue.StartJobRunInput, optFns ...func(*glue.Options)) (*glue.StartJobRunOutput, error)
	GetJobRuns(ctx context.Context, in *glue.GetJobRunsInput, optFns ...func(*glue.Options)) (*glue.GetJobRunsOutput, error)
}

// Statuses of a Result.
const (
	StatusStarted        = "started"
	StatusAlreadyStarted = "already-started"
	StatusIgnored        = "ignored"
)

// Result is what one invocation did: the Lambda's response and the source
// of its summary log line and metrics.
type Result struct {
	Trigger   Trigger           `json:"trigger,omitempty"`
	JobName   string            `json:"jobName"`
	Status    string            `json:"status"`
	Arguments map[string]string `json:"arguments,omitempty"`
	// JobRunID is the run started, or the earlier run with the same
	// arguments that made this one unnecessary.
	JobRunID string `json:"jobRunId,omitempty"`
	// Attempts counts the StartJobRun calls; more than one means the job
	// was at its maximum concurrent runs, or a call failed (throttled, or
	// its answer lost and no run found for it).
	Attempts int    `json:"attempts,omitempty"`
	Ignored  string `json:"ignored,omitempty"`
	// busy counts the StartJobRun calls refused with
	// ConcurrentRunsExceededException.
	busy int
}

// ErrConcurrentRuns is wrapped by the invocation's error when the job
// stayed at its maximum concurrent runs for every attempt.
var ErrConcurrentRuns = errors.New("job is at its maximum concurrent runs")

// starter starts the Glue job for each event it is given, at most once per
// set of arguments.
type starter struct {
	cfg     Config
	glue    jobs
	metrics *metrics.Recorder
}

// newHandler returns the Lambda handler; log and m may be nil. The
// invocation fails, so that Lambda retries it and finally dead-letters it,
// when the event is malformed, its arguments cannot be rendered, or the
// run could not be started; a redelivered event then finds its run and
// starts nothing. The response is the event's Result.
func newHandler(cfg Config, g jobs, log *slog.Logger, m *metrics.Recorder) *batch.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &starter{cfg: cfg, glue: g, metrics: m}
	return batch.New(s.start, batch.WithNoun("events"), batch.WithLogger(log), batch.WithMetrics(m))
}

// start is one invocation: EventBridge delivers one event; any other source
// gets each of its events handled the same way.
func (s *starter) start(inv *batch.Invocation) batch.Job {
	results := make([]*Result, len(inv.Items))
	return batch.Job{
		Item: func(ctx context.Context, it *batch.Item) error {
			res := &Result{JobName: s.cfg.JobName}
			results[it.Index] = res
			if it.Event == nil {
				return fmt.Errorf("%w: not an EventBridge event", ErrMalformedEvent)
			}
			if err := s.run(ctx, *it.Event, res); err != nil {
				return err
			}
			if res.Status != StatusStarted {
				return batch.Skip(res.Status)
			}
			return nil
		},
		Finish: func(_ context.Context, items []*batch.Item) (any, []any) {
			return s.finish(items, results)
		},
	}
}

// run starts the job for one event, filling res with what it did; on error
// res still holds what was done, for the summary line.
func (s *starter) run(ctx context.Context, ev events.EventBridgeEvent, res *Result) error {
	trig, err := decodeEvent(ev, s.cfg.Period, s.cfg.Location)
	if err != nil {
		return err
	}
	res.Trigger = trig.kind
	if trig.ignore != "" {
		res.Status, res.Ignored = StatusIgnored, trig.ignore
		return nil
	}
	args, err := s.cfg.Arguments[trig.kind].render(trig.data)
	if err != nil {
		return fmt.Errorf("%s arguments: %w", trig.kind, err)
	}
	res.Arguments = args

	return s.startOnce(ctx, args, res)
}

// startOnce starts the job with args unless a recent run has them. Glue's
// StartJobRun takes no idempotency token, and a call whose answer is lost
// (a dropped connection, an HTTP 500) may have started a run all the same:
// so every attempt, the retries included, first looks for a run with the
// same arguments, and StartJobRun is called again only when there is none.
// (The SDK's own retries are off, see awsclient: a retry inside the SDK
// would call StartJobRun again without looking.) A run found after a
// StartJobRun call was sent is that call's: res says started.
func (s *starter) startOnce(ctx context.Context, args map[string]string, res *Result) error {
	sent := false
	err := s.cfg.Retry.Do(ctx, func(int) error {
		earlier, err := s.earlierRun(ctx, args)
		if err != nil {
			return err
		}
		if earlier != nil {
			res.Status, res.JobRunID = StatusAlreadyStarted, aws.ToString(earlier.Id)
			if sent {
				res.Status = StatusStarted
			}
			return nil
		}
		res.Attempts++
		sent = true
		out, err := s.glue.StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String(s.cfg.JobName), Arguments: args})
		switch {
		case err == nil:
			res.Status, res.JobRunID = StatusStarted, aws.ToString(out.JobRunId)
			return nil
		case isCode(err, "ConcurrentRunsExceededException"):
			// A client fault that passes: no run was started, and one may
			// finish while we back off.
			res.busy++
			return retry.Retryable(fmt.Errorf("%w: %w", ErrConcurrentRuns, err))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("start glue job %s with %v: %w", s.cfg.JobName, args, describe(err))
	}
	return nil
}

// earlierRun returns the most recent of the job's last RecentRuns runs
// whose arguments include every one of args with the same value, in any
// state: a redelivered event, or a second event for the same window, must
// not start the job again. (To re-run a window, start the job by hand.)
func (s *starter) earlierRun(ctx context.Context, args map[string]string) (*types.JobRun, error) {
	pages := glue.NewGetJobRunsPaginator(s.glue, &glue.GetJobRunsInput{
		JobName:    aws.String(s.cfg.JobName),
		MaxResults: aws.Int32(int32(min(s.cfg.RecentRuns, 200))), // GetJobRuns returns at most 200 a page
	})
	seen := 0
	for pages.HasMorePages() && seen < s.cfg.RecentRuns {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list recent runs of glue job %s: %w", s.cfg.JobName, err)
		}
		for i := range page.JobRuns {
			if seen++; seen > s.cfg.RecentRuns {
				break
			}
			if run := &page.JobRuns[i]; sameArguments(run.Arguments, args) {
				return run, nil
			}
		}
	}
	return nil, nil
}

// sameArguments reports whether a run had every argument of args with the
// same value. Other arguments (the job's defaults, which Glue may list with
// the run's) do not matter.
func sameArguments(run, args map[string]string) bool {
	for k, v := range args {
		if got, ok := run[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// describe adds what the Glue errors that need an operator mean.
func describe(err error) error {
	switch {
	case isCode(err, "EntityNotFoundException"):
		return fmt.Errorf("the job does not exist (check JOB_NAME): %w", err)
	case isCode(err, "AccessDeniedException"):
		return fmt.Errorf("access denied: the function's role needs glue:StartJobRun and glue:GetJobRuns on the job: %w", err)
	case errors.Is(err, retry.ErrExhausted) && errors.Is(err, ErrConcurrentRuns):
		return fmt.Errorf("the job stayed at its maximum concurrent runs; the invocation fails so that it is retried later: %w", err)
	}
	return err
}

func isCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}

// finish counts the runs started and the retries they took, and says what
// the event did: its Result is the response and the summary line's
// attributes (several events, from a source other than EventBridge, are
// counted only).
func (s *starter) finish(items []*batch.Item, results []*Result) (any, []any) {
	started, retries := 0, 0
	for _, res := range results {
		if res == nil {
			continue // failed before it was handled
		}
		if res.Status == StatusStarted {
			started++
		}
		retries += res.busy
	}
	s.metrics.Count("JobRunsStarted", started)
	s.metrics.Count("ConcurrentRunRetries", retries)
	if len(items) != 1 {
		return results, nil
	}
	res := results[0]
	if res == nil {
		res = &Result{JobName: s.cfg.JobName}
	}
	var attrs []any
	if ev := items[0].Event; ev != nil {
		attrs = append(attrs, "event_id", ev.ID, "detail_type", ev.DetailType)
	}
	attrs = append(attrs, "job", res.JobName, "trigger", string(res.Trigger), "status", res.Status, "attempts", res.Attempts)
	if res.JobRunID != "" {
		attrs = append(attrs, "job_run_id", res.JobRunID)
	}
	if res.Arguments != nil {
		attrs = append(attrs, "arguments", res.Arguments)
	}
	if res.Ignored != "" {
		attrs = append(attrs, "ignored", res.Ignored)
	}
	return res, attrs
}
