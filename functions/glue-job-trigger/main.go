// Command glue-job-trigger starts a Glue job run (StartJobRun) for an
// EventBridge schedule (the window that has just ended, such as the previous
// hour in UTC), an S3 "Object Created" event (the object's path) or a
// crawler's success, with arguments rendered from templates in the
// environment. A run whose arguments match one of the job's recent runs is
// not started again, so a redelivered event starts nothing; while the job is
// at its maximum concurrent runs it backs off and retries, then fails the
// invocation so that Lambda retries it later.
//
// Environment: JOB_NAME, WINDOW, TIME_ZONE, SCHEDULE_ARGUMENTS,
// OBJECT_ARGUMENTS, CRAWLER_ARGUMENTS, RECENT_RUNS, START_ATTEMPTS,
// START_BACKOFF; see README.md.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"lakestream/shared/awsclient"
	"lakestream/shared/boot"
)

func main() {
	fn := boot.New()
	cfg := loadConfig(fn.Env)
	h := newHandler(cfg, glue.NewFromConfig(awsclient.Config(fn)), fn.Log, fn.Metrics)
	fn.Start(h)
}
