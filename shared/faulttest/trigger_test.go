package faulttest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The trigger's run: 48 hourly schedule events, each for its own window.
// EventBridge invokes asynchronously: a failed invocation is retried twice,
// then dead-lettered.
const (
	triggerEvents = 48
	triggerJob    = "lake-hourly-etl"
)

// runTrigger: each window ends with exactly one run of the job with its
// arguments, or its event dead-lettered; a window started twice is a
// duplicate, which must never happen.
func runTrigger(t *testing.T, e *env) account {
	ctx := t.Context()
	g := glue.NewFromConfig(e.cfg)
	_, err := g.CreateJob(ctx, &glue.CreateJobInput{
		Name: aws.String(triggerJob), Role: aws.String("arn:aws:iam::123456789012:role/glue-etl"),
		Command:           &gtypes.JobCommand{Name: aws.String("glueetl"), ScriptLocation: aws.String("s3://lake-scripts/hourly.py")},
		ExecutionProperty: &gtypes.ExecutionProperty{MaxConcurrentRuns: triggerEvents},
	})
	require.NoError(t, err)
	f := e.start("glue-job-trigger", map[string]string{"JOB_NAME": triggerJob, "START_ATTEMPTS": "3", "START_BACKOFF": "20ms"})

	deadLettered := map[string]bool{}
	for i := range triggerEvents {
		at := time.Date(2024, 5, 1, 0, 5, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
		raw, err := json.Marshal(map[string]any{
			"version": "0", "id": fmt.Sprintf("schedule-%02d", i), "detail-type": "Scheduled Event", "source": "aws.events",
			"account": "123456789012", "time": at.Format(time.RFC3339), "region": "us-east-1",
			"resources": []string{"arn:aws:events:us-east-1:123456789012:rule/hourly"}, "detail": map[string]any{},
		})
		require.NoError(t, err)
		if !invokeAsync(ctx, f, raw) {
			deadLettered[window(at)] = true
		}
	}

	runs := map[string]int{}
	pages := glue.NewGetJobRunsPaginator(g, &glue.GetJobRunsInput{JobName: aws.String(triggerJob)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		require.NoError(t, err)
		for _, r := range page.JobRuns {
			runs[r.Arguments["--date"]+" "+r.Arguments["--hour"]]++
		}
	}
	a := account{In: triggerEvents}
	for i := range triggerEvents {
		w := window(time.Date(2024, 5, 1, 0, 5, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour))
		n := runs[w]
		a.Duplicates += max(n-1, 0)
		switch {
		case n > 0:
			a.Delivered++
		case deadLettered[w]:
			a.Failed++
		default:
			a.Lost++
			t.Errorf("window %s: no run, and its event was not dead-lettered", w)
		}
	}
	assert.Zero(t, a.Duplicates, "no window started twice")
	return a
}

// window is the previous hour's --date and --hour arguments for a schedule
// event at at.
func window(at time.Time) string {
	w := at.Add(-time.Hour)
	return w.Format("2006-01-02") + " " + w.Format("15")
}
