package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
)

const logicalID = "GlueJobTriggerFunction"

var srv *moto.Server

func TestMain(m *testing.M) { moto.Main(m, &srv) }

// startTrigger builds the real bootstrap and starts it with the template's
// environment, pointed at moto, plus overrides.
func startTrigger(t *testing.T, overrides map[string]string) *lambdarun.Function {
	t.Helper()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	bin, err := lambdarun.Build(context.Background(), root, "glue-job-trigger", t.TempDir())
	require.NoError(t, err)
	tmpl, err := lambdarun.LoadTemplate(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	env, err := tmpl.Environment(logicalID)
	require.NoError(t, err)
	for k, v := range srv.Env() {
		env[k] = v
	}
	for k, v := range overrides {
		env[k] = v
	}
	f, err := lambdarun.Start(lambdarun.Options{Binary: bin, Env: env, Stderr: os.Stderr, Timeout: time.Minute})
	require.NoError(t, err)
	t.Cleanup(f.Stop)
	return f
}

func invokeFile(t *testing.T, f *lambdarun.Function, eventFile string) Result {
	t.Helper()
	b, err := os.ReadFile(eventFile)
	require.NoError(t, err)
	out, err := f.Invoke(context.Background(), b)
	require.NoError(t, err)
	var res Result
	require.NoError(t, json.Unmarshal(out, &res), string(out))
	return res
}

// createJob makes the template's default job in moto.
func createJob(t *testing.T, maxConcurrent int32) *glue.Client {
	t.Helper()
	ctx := context.Background()
	cfg, err := srv.Config(ctx)
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
	require.NoError(t, srv.Reset())
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
	require.NoError(t, srv.Reset())
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

func motoTransition(t *testing.T, op, body string) {
	t.Helper()
	resp, err := http.Post(srv.Endpoint+"/moto-api/state-manager/"+op, "application/json", strings.NewReader(body))
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
	samples, err := filepath.Glob("../../events/glue-job-trigger/*.json")
	require.NoError(t, err)
	for _, s := range samples {
		require.Contains(t, matches, s, "every sample event has an expectation")
	}
	require.NoError(t, srv.Reset())
	rules := patternRules(t, logicalID)
	require.ElementsMatch(t, []string{"ObjectCreated", "CrawlerSucceeded"}, slices.Collect(maps.Keys(rules)))
	bus := newPatternBus(t, rules)

	for file, want := range matches {
		t.Run(filepath.Base(file), func(t *testing.T) {
			assert.ElementsMatch(t, want, bus.match(t, readEvent(t, file)))
		})
	}
}

// patternBus is moto's default event bus with one rule per template
// pattern, each delivering to its own queue.
type patternBus struct {
	eb     *eventbridge.Client
	sqs    *sqs.Client
	queues map[string]string // rule name to queue URL
}

func newPatternBus(t *testing.T, patterns map[string]string) *patternBus {
	t.Helper()
	ctx := context.Background()
	cfg, err := srv.Config(ctx)
	require.NoError(t, err)
	b := &patternBus{eb: eventbridge.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg), queues: map[string]string{}}
	for name, pattern := range patterns {
		q, err := b.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("pattern-" + name)})
		require.NoError(t, err)
		_, err = b.eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(pattern)})
		require.NoError(t, err, pattern)
		_, err = b.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{{
			Id: aws.String("queue"), Arn: aws.String(fmt.Sprintf("arn:aws:sqs:%s:123456789012:pattern-%s", moto.Region, name)),
		}}})
		require.NoError(t, err)
		b.queues[name] = aws.ToString(q.QueueUrl)
	}
	return b
}

// match puts ev on the bus and returns the rules whose queue received it.
func (b *patternBus) match(t *testing.T, ev events.CloudWatchEvent) []string {
	t.Helper()
	ctx := context.Background()
	out, err := b.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String(ev.Source), DetailType: aws.String(ev.DetailType), Detail: aws.String(string(ev.Detail)),
		Resources: ev.Resources, Time: aws.Time(ev.Time),
	}}})
	require.NoError(t, err)
	require.Zero(t, out.FailedEntryCount)
	var matched []string
	for name, url := range b.queues {
		msgs, err := b.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		require.NoError(t, err)
		for _, m := range msgs.Messages {
			var got events.CloudWatchEvent
			require.NoError(t, json.Unmarshal([]byte(aws.ToString(m.Body)), &got))
			require.JSONEq(t, string(ev.Detail), string(got.Detail), "rule %s delivered another event", name)
			matched = append(matched, name)
			_, err := b.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
	}
	return matched
}

// patternRules reads the EventBridge patterns of a function's events from
// template.yaml, with !Ref parameters replaced by their defaults, as JSON
// by event name.
func patternRules(t *testing.T, function string) map[string]string {
	t.Helper()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	var tmpl struct {
		Parameters map[string]struct {
			Default string `yaml:"Default"`
		} `yaml:"Parameters"`
		Resources map[string]struct {
			Properties struct {
				Events map[string]struct {
					Type       string `yaml:"Type"`
					Properties struct {
						Pattern yaml.Node `yaml:"Pattern"`
					} `yaml:"Properties"`
				} `yaml:"Events"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal(b, &tmpl))
	fn, ok := tmpl.Resources[function]
	require.True(t, ok, "template.yaml has no %s", function)
	out := map[string]string{}
	for name, e := range fn.Properties.Events {
		if e.Type != "EventBridgeRule" {
			continue
		}
		v, err := resolveNode(&e.Properties.Pattern, func(ref string) (string, bool) {
			p, ok := tmpl.Parameters[ref]
			return p.Default, ok
		})
		require.NoError(t, err, "event %s", name)
		j, err := json.Marshal(v)
		require.NoError(t, err)
		out[name] = string(j)
	}
	return out
}

// resolveNode turns a YAML node into plain values, replacing !Ref
// parameter with the parameter's default.
func resolveNode(n *yaml.Node, param func(string) (string, bool)) (any, error) {
	switch {
	case n.Tag == "!Ref":
		v, ok := param(n.Value)
		if !ok {
			return nil, fmt.Errorf("!Ref %s is not a parameter", n.Value)
		}
		return v, nil
	case n.Kind == yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := resolveNode(n.Content[i+1], param)
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case n.Kind == yaml.SequenceNode:
		var s []any
		for _, c := range n.Content {
			v, err := resolveNode(c, param)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case n.Kind == yaml.ScalarNode && (n.Tag == "" || n.Tag == "!!str"):
		return n.Value, nil
	case n.Kind == yaml.ScalarNode && n.Tag != "" && n.Tag[0] == '!' && n.Tag[1] != '!':
		return nil, fmt.Errorf("%s is not supported in a pattern test", n.Tag)
	case n.Kind == yaml.ScalarNode:
		var v any
		err := n.Decode(&v)
		return v, err
	}
	return nil, fmt.Errorf("unexpected YAML node kind %d", n.Kind)
}
