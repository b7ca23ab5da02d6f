package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"lakestream/shared/lambdarun"
)

// The trigger starts the template's GlueJobTriggerJobName (lake-hourly-etl).
var glueJobTriggerStage = stage{
	fn:    "glue-job-trigger",
	title: "Glue job trigger: the hourly schedule, a new S3 object and a crawl start the Glue job",
	run: func(ctx context.Context, d *demo) error {
		const fn = "glue-job-trigger"
		env, err := d.tmpl.Environment(lambdarun.LogicalID(fn))
		if err != nil {
			return err
		}
		job := env["JOB_NAME"]
		if err := d.setup(ctx, fn, nil); err != nil {
			return err
		}
		// The schedule twice: EventBridge delivers at least once.
		for _, sample := range []string{"scheduled.json", "scheduled.json", "object-created.json", "crawler-succeeded.json"} {
			ev, err := d.event("glue-job-trigger", sample)
			if err != nil {
				return err
			}
			out, err := d.invoke(ctx, "glue-job-trigger", ev, nil)
			if err != nil {
				return err
			}
			var res struct {
				Status, JobRunID string
				Arguments        map[string]string
			}
			if err := json.Unmarshal(out, &res); err != nil {
				return fmt.Errorf("trigger response: %w", err)
			}
			d.say("  in:  events/glue-job-trigger/%s", sample)
			d.say("  out: %s %s %s", res.Status, shortRunID(res.JobRunID), formatArgs(res.Arguments))
		}
		runs, err := d.lake.Glue.GetJobRuns(ctx, &glue.GetJobRunsInput{JobName: aws.String(job)})
		if err != nil {
			return fmt.Errorf("get job runs of %s: %w", job, err)
		}
		d.say("  job %s has %d runs (the redelivered schedule event started none):", job, len(runs.JobRuns))
		for _, r := range runs.JobRuns {
			d.say("    %s %s", shortRunID(aws.ToString(r.Id)), formatArgs(r.Arguments))
		}
		return nil
	},
}

func formatArgs(args map[string]string) string {
	parts := make([]string, 0, len(args))
	for k, v := range args {
		parts = append(parts, k+" "+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// shortRunID keeps a job run id (jr_ and 64 hex digits) readable.
func shortRunID(id string) string {
	if len(id) > 15 {
		return id[:15] + "..."
	}
	return id
}
