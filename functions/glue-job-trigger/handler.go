package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"

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
	// was at its maximum concurrent runs.
	Attempts int    `json:"attempts,omitempty"`
	Ignored  string `json:"ignored,omitempty"`
}

// ErrConcurrentRuns is wrapped by the error Handle returns when the job
// stayed at its maximum concurrent runs for every attempt.
var ErrConcurrentRuns = errors.New("job is at its maximum concurrent runs")

// Handler starts the Glue job for each event it is given, at most once per
// set of arguments.
type Handler struct {
	cfg     Config
	glue    jobs
	log     *slog.Logger
	metrics *metrics.Recorder
}

// newHandler returns a Handler; log and m may be nil.
func newHandler(cfg Config, g jobs, log *slog.Logger, m *metrics.Recorder) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, glue: g, log: log, metrics: m}
}

// Handle is the Lambda entry point. It returns an error, failing the
// invocation so that Lambda retries it and finally dead-letters it, when
// the event is malformed, its arguments cannot be rendered, or the run could
// not be started; a redelivered event then finds its run and starts nothing.
func (h *Handler) Handle(ctx context.Context, ev events.CloudWatchEvent) (res *Result, err error) {
	res = &Result{JobName: h.cfg.JobName}
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "trigger panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("glue-job-trigger panicked: %v", p)
		}
		h.report(ctx, ev, res, err)
	}()

	// On error the result still goes back, for the summary log line;
	// Lambda discards it.
	trig, err := decodeEvent(ev, h.cfg.Period, h.cfg.Location)
	if err != nil {
		return res, err
	}
	res.Trigger = trig.kind
	if trig.ignore != "" {
		res.Status, res.Ignored = StatusIgnored, trig.ignore
		return res, nil
	}
	args, err := h.cfg.Arguments[trig.kind].render(trig.data)
	if err != nil {
		return res, fmt.Errorf("%s arguments: %w", trig.kind, err)
	}
	res.Arguments = args

	earlier, err := h.earlierRun(ctx, args)
	if err != nil {
		return res, err
	}
	if earlier != nil {
		res.Status, res.JobRunID = StatusAlreadyStarted, aws.ToString(earlier.Id)
		return res, nil
	}

	err = h.cfg.Retry.Do(ctx, func(attempt int) error {
		res.Attempts = attempt
		out, err := h.glue.StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String(h.cfg.JobName), Arguments: args})
		switch {
		case err == nil:
			res.JobRunID = aws.ToString(out.JobRunId)
			return nil
		case isCode(err, "ConcurrentRunsExceededException"):
			// No run was started; one may finish while we back off.
			return fmt.Errorf("%w: %w", ErrConcurrentRuns, err)
		}
		return retry.Permanent(err)
	})
	if err != nil {
		return res, fmt.Errorf("start glue job %s with %v: %w", h.cfg.JobName, args, describe(err))
	}
	res.Status = StatusStarted
	return res, nil
}

// earlierRun returns the most recent of the job's last RecentRuns runs
// whose arguments include every one of args with the same value, in any
// state: a redelivered event, or a second event for the same window, must
// not start the job again. (To re-run a window, start the job by hand.)
func (h *Handler) earlierRun(ctx context.Context, args map[string]string) (*types.JobRun, error) {
	pages := glue.NewGetJobRunsPaginator(h.glue, &glue.GetJobRunsInput{
		JobName:    aws.String(h.cfg.JobName),
		MaxResults: aws.Int32(int32(min(h.cfg.RecentRuns, 200))), // GetJobRuns returns at most 200 a page
	})
	seen := 0
	for pages.HasMorePages() && seen < h.cfg.RecentRuns {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list recent runs of glue job %s: %w", h.cfg.JobName, describe(err))
		}
		for i := range page.JobRuns {
			if seen++; seen > h.cfg.RecentRuns {
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

// report writes the invocation's summary log line and metrics.
func (h *Handler) report(ctx context.Context, ev events.CloudWatchEvent, res *Result, err error) {
	if res == nil {
		res = &Result{JobName: h.cfg.JobName}
	}
	attrs := []any{"event_id", ev.ID, "detail_type", ev.DetailType, "job", res.JobName,
		"trigger", string(res.Trigger), "status", res.Status, "attempts", res.Attempts}
	if res.JobRunID != "" {
		attrs = append(attrs, "job_run_id", res.JobRunID)
	}
	if res.Arguments != nil {
		attrs = append(attrs, "arguments", res.Arguments)
	}
	if res.Ignored != "" {
		attrs = append(attrs, "ignored", res.Ignored)
	}
	started, skipped, failed := 0, 0, 0
	switch {
	case err != nil:
		failed = 1
	case res.Status == StatusStarted:
		started = 1
	default:
		skipped = 1
	}
	h.metrics.Count("JobRunsStarted", started)
	h.metrics.Count("EventsSkipped", skipped)
	h.metrics.Count("StartFailures", failed)
	h.metrics.Count("ConcurrentRunRetries", max(res.Attempts-1, 0))
	metrics.Report(ctx, h.log, h.metrics, err, attrs...)
}
