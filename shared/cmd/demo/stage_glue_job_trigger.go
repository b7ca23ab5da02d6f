package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// The trigger starts the template's GlueJobTriggerJobName (lake-hourly-etl).
var glueJobTriggerStage = stage{
	fn:    "glue-job-trigger",
	title: "Glue job trigger: the hourly schedule, a new S3 object and a crawl start the Glue job",
	run: func(ctx context.Context, d *demo) error {
		const job = "lake-hourly-etl"
		g := glue.NewFromConfig(d.aws)
		_, err := g.CreateJob(ctx, &glue.CreateJobInput{
			Name:              aws.String(job),
			Role:              aws.String("arn:aws:iam::123456789012:role/glue-etl"),
			Command:           &gluetypes.JobCommand{Name: aws.String("glueetl"), ScriptLocation: aws.String("s3://lake-scripts/hourly.py")},
			ExecutionProperty: &gluetypes.ExecutionProperty{MaxConcurrentRuns: 3},
		})
		var exists *gluetypes.AlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("create job %s: %w", job, err)
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
		runs, err := g.GetJobRuns(ctx, &glue.GetJobRunsInput{JobName: aws.String(job)})
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
