package main

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/faultproxy"
	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
)

const logicalID = "GlueJobTriggerFunction"

func TestMain(m *testing.M) { moto.Main(m) }

// startTrigger builds the real bootstrap and starts it with the template's
// environment, pointed at moto, plus overrides.
func startTrigger(t *testing.T, overrides map[string]string) *lambdarun.Function {
	t.Helper()
	f, err := lambdarun.StartRepoFunction("glue-job-trigger", lambdarun.Options{Stderr: os.Stderr, Timeout: time.Minute}, moto.Shared(t).Env(), overrides)
	require.NoError(t, err)
	t.Cleanup(f.Stop)
	return f
}

func invokeFile(t *testing.T, f *lambdarun.Function, eventFile string) Result {
	t.Helper()
	var res Result
	require.NoError(t, f.InvokeFile(context.Background(), eventFile, &res))
	return res
}

// createJob makes the template's default job in moto.
func createJob(t *testing.T, maxConcurrent int32) *glue.Client {
	t.Helper()
	ctx := context.Background()
	cfg, err := moto.Shared(t).Config(ctx)
	require.NoError(t, err)
	g := glue.NewFromConfig(cfg)
	_, err = g.CreateJob(ctx, &glue.CreateJobInput{
		Name: aws.String("lake-hourly-etl"), Role: aws.String("arn:aws:iam::123456789012:role/glue-etl"),
		Command:           &types.JobCommand{Name: aws.String("glueetl"), ScriptLocation: aws.String("s3://lake-scripts/hourly.py")},
		ExecutionProperty: &types.ExecutionProperty{MaxConcurrentRuns: maxConcurrent},
	})
	require.NoError(t, err)
	return g
}

func jobRuns(t *testing.T, g *glue.Client) []types.JobRun {
	t.Helper()
	out, err := g.GetJobRuns(context.Background(), &glue.GetJobRunsInput{JobName: aws.String("lake-hourly-etl")})
	require.NoError(t, err)
	return out.JobRuns
}

// TestIntegrationStartOnce runs the real binary against moto: the hourly
// schedule starts the job for the previous hour with --date and --hour, the
// same event delivered again starts nothing, and an S3 object starts a run
// with its path.
func TestIntegrationStartOnce(t *testing.T) {
	require.NoError(t, moto.Shared(t).Reset())
	g := createJob(t, 3)
	f := startTrigger(t, nil)

	res := invokeFile(t, f, "../../events/glue-job-trigger/scheduled.json")
	assert.Equal(t, StatusStarted, res.Status)
	runs := jobRuns(t, g)
	require.Len(t, runs, 1)
	assert.Equal(t, res.JobRunID, aws.ToString(runs[0].Id))
	assert.Equal(t, "2024-05-01", runs[0].Arguments["--date"])
	assert.Equal(t, "12", runs[0].Arguments["--hour"])

	again := invokeFile(t, f, "../../events/glue-job-trigger/scheduled.json")
	assert.Equal(t, StatusAlreadyStarted, again.Status)
	assert.Equal(t, res.JobRunID, again.JobRunID)
	assert.Len(t, jobRuns(t, g), 1, "a redelivered schedule event does not start the window twice")

	obj := invokeFile(t, f, "../../events/glue-job-trigger/object-created.json")
	assert.Equal(t, StatusStarted, obj.Status)
	runs = jobRuns(t, g)
	require.Len(t, runs, 2)
	var paths []string
	for _, r := range runs {
		if p, ok := r.Arguments["--path"]; ok {
			paths = append(paths, p)
		}
	}
	assert.Equal(t, []string{"s3://lake-raw/incoming/orders/dt=2024-05-01/hour=12/orders-1-2024-05-01-12-58-30-6f1c2a4e-9b7d-4c3a-8e21-0d5f6a7b8c9d.parquet"}, paths)
}

// TestIntegrationConcurrentRuns: with the job's one concurrent run busy,
// the next window's StartJobRun gets ConcurrentRunsExceededException; the
// binary retries START_ATTEMPTS times and then fails the invocation with an
// error that says why.
func TestIntegrationConcurrentRuns(t *testing.T) {
	require.NoError(t, moto.Shared(t).Reset())
	// Keep moto's job runs in STARTING instead of finishing them at once.
	motoTransition(t, "set-transition", `{"model_name":"glue::job_run","transition":{"progression":"manual","times":1000000}}`)
	t.Cleanup(func() { motoTransition(t, "unset-transition", `{"model_name":"glue::job_run"}`) })
	g := createJob(t, 1)
	f := startTrigger(t, map[string]string{"START_ATTEMPTS": "3", "START_BACKOFF": "10ms"})

	res := invokeFile(t, f, "../../events/glue-job-trigger/scheduled.json")
	require.Equal(t, StatusStarted, res.Status)

	next := readEvent(t, "../../events/glue-job-trigger/scheduled.json")
	next.ID, next.Time = "next-hour", next.Time.Add(time.Hour)
	b, err := json.Marshal(next)
	require.NoError(t, err)
	_, err = f.Invoke(context.Background(), b)
	var fe *lambdarun.FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Message, "start glue job lake-hourly-etl with map[--date:2024-05-01 --hour:13]: the job stayed at its maximum concurrent runs")
	assert.Contains(t, fe.Message, "attempts exhausted after 3 attempts")
	assert.Contains(t, fe.Message, "ConcurrentRunsExceededException")
	assert.Len(t, jobRuns(t, g), 1)
}

// TestIntegrationLostStartAnswer is issue 12's duplicate run: every
// StartJobRun answer is lost after Glue started the run (faultproxy drops
// it). The binary must not start the window again: before a retry it looks
// for the run its lost call may have started, finds it, and reports it;
// the job has one run.
func TestIntegrationLostStartAnswer(t *testing.T) {
	require.NoError(t, moto.Shared(t).Reset())
	g := createJob(t, 3)
	proxy, err := faultproxy.Start(moto.Shared(t).Endpoint, 12)
	require.NoError(t, err)
	t.Cleanup(func() { proxy.Close() })
	proxy.Only(func(op string) bool { return op == "AWSGlue.StartJobRun" })
	proxy.SetRates(faultproxy.Rates{DropResponse: 1})
	f := startTrigger(t, map[string]string{"AWS_ENDPOINT_URL": proxy.URL, "START_BACKOFF": "10ms"})

	var res Result
	require.NoError(t, f.InvokeFile(context.Background(), "../../events/glue-job-trigger/scheduled.json", &res))
	runs := jobRuns(t, g)
	require.Len(t, runs, 1, "one run for the window, however many answers were lost")
	assert.Equal(t, StatusStarted, res.Status)
	assert.Equal(t, aws.ToString(runs[0].Id), res.JobRunID, "the run the lost call started is reported")
	starts := 0
	for _, c := range proxy.Calls() {
		if c.Operation == "AWSGlue.StartJobRun" {
			starts++
		}
	}
	assert.Equal(t, 1, starts, "StartJobRun is not called again once its run is found")
}

func motoTransition(t *testing.T, op, body string) {
	t.Helper()
	resp, err := http.Post(moto.Shared(t).Endpoint+"/moto-api/state-manager/"+op, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode, op)
}

// TestIntegrationInitError: a template that uses a field its trigger does
// not have stops the function at start-up, naming the variable.
func TestIntegrationInitError(t *testing.T) {
	f := startTrigger(t, map[string]string{"SCHEDULE_ARGUMENTS": `{"--path":"{{.Path}}"}`})
	_, err := f.Invoke(context.Background(), []byte(`{}`))
	require.True(t, lambdarun.IsInit(err), "%v", err)
	assert.Contains(t, err.Error(), `SCHEDULE_ARGUMENTS="{\"--path\":\"{{.Path}}\"}" is invalid`)
}

// TestEventPatterns proves each EventBridge pattern of the function in
// template.yaml matches the events/ samples it is meant for and lets the
// others by: moto's TestEventPattern is a stub, so each pattern becomes a
// rule with an SQS queue as its target, every event is put on the bus, and
// the queues say which rules matched. (The schedule is a rule with no
// pattern; its sample matches neither.)
func TestEventPatterns(t *testing.T) {
	matches := map[string][]string{
		"../../events/glue-job-trigger/scheduled.json":         nil,
		"../../events/glue-job-trigger/object-created.json":    {"ObjectCreated"},
		"../../events/glue-job-trigger/crawler-succeeded.json": {"CrawlerSucceeded"},
		"testdata/events/object-other-bucket.json":             nil,
		"testdata/events/object-other-prefix.json":             nil,
		"testdata/events/object-deleted.json":                  nil,
		"testdata/events/crawler-failed.json":                  nil,
	}
	tmpl, err := lambdarun.LoadRepoTemplate()
	require.NoError(t, err)
	rules, err := tmpl.EventPatterns(logicalID)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"ObjectCreated", "CrawlerSucceeded"}, slices.Collect(maps.Keys(rules)))
	srv := moto.Shared(t)
	require.NoError(t, srv.Reset())
	moto.NewPatternBus(t, srv, rules).MatchFiles(t, "../../events/glue-job-trigger/*.json", matches)
}
