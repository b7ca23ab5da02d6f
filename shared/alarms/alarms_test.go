package alarms

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"lakestream/shared/lambdarun"
)

// The notification wiring every alarm must have: AlarmTopicArn, through a
// condition that is false for its default (no actions then).
const (
	topicParam   = "AlarmTopicArn"
	notifyIfSet  = "AlarmsNotify"
	functionType = "AWS::Serverless::Function"
)

// What each watched kind of resource must have an alarm on.
var required = []struct {
	resourceType string
	what         string
	match        func(Alarm) bool
}{
	{functionType, "its Lambda Errors", func(a Alarm) bool {
		return a.Namespace == "AWS/Lambda" && a.Metric == "Errors" && a.Dimension == "FunctionName"
	}},
	{functionType, "its failed items (an EMF ...Failed metric in namespace lakestream)", func(a Alarm) bool {
		return a.Namespace == "lakestream" && strings.HasSuffix(a.Metric, "Failed") && a.Dimension == "FunctionName"
	}},
	{"AWS::SQS::Queue", "its depth (ApproximateNumberOfMessagesVisible)", func(a Alarm) bool {
		return a.Namespace == "AWS/SQS" && a.Metric == "ApproximateNumberOfMessagesVisible" && a.Dimension == "QueueName"
	}},
	{"AWS::KinesisFirehose::DeliveryStream", "its delivery freshness (DeliveryToS3.DataFreshness)", func(a Alarm) bool {
		return a.Namespace == "AWS/Firehose" && a.Metric == "DeliveryToS3.DataFreshness" && a.Dimension == "DeliveryStreamName"
	}},
}

// problems lists what the template fails to watch, and alarms that would
// not deploy or not notify.
func problems(t *Template) []string {
	var out []string
	for _, r := range required {
		for _, id := range t.OfType(r.resourceType) {
			if !slices.ContainsFunc(t.Watching(id), r.match) {
				out = append(out, id+": no alarm on "+r.what)
			}
		}
	}
	for _, fn := range t.OfType(functionType) {
		if !slices.ContainsFunc(slices.Collect(mapValues(t.Dashboards)), func(body string) bool {
			return strings.Contains(body, `FunctionName=\"${`+fn+`}\"`)
		}) {
			out = append(out, fn+": on no dashboard")
		}
	}
	names := map[string]string{}
	for _, a := range t.Alarms {
		switch {
		case t.Types[a.Watches] == "":
			out = append(out, a.ID+": watches "+a.Watches+", which is no resource")
		case a.Condition != t.Conditions[a.Watches]:
			out = append(out, a.ID+": condition "+strconv.Quote(a.Condition)+", but "+a.Watches+"'s is "+strconv.Quote(t.Conditions[a.Watches]))
		}
		if !a.Notifies || a.NotifyCondition != notifyIfSet || a.NotifyTopic != topicParam {
			out = append(out, a.ID+": AlarmActions and OKActions must both be !If ["+notifyIfSet+", [!Ref "+topicParam+"], !Ref AWS::NoValue]")
		}
		if _, err := strconv.ParseFloat(a.Threshold, 64); err != nil {
			out = append(out, a.ID+": threshold "+strconv.Quote(a.Threshold)+" is no number")
		}
		if !strings.HasPrefix(a.Name, StackName+"-") {
			out = append(out, a.ID+": AlarmName must start with ${AWS::StackName}-")
		}
		if other, dup := names[a.Name]; dup {
			out = append(out, a.ID+": AlarmName "+a.Name+" is "+other+"'s too")
		}
		names[a.Name] = a.ID
	}
	return out
}

func mapValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

func repoTemplate(t *testing.T) (*Template, string) {
	t.Helper()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	tmpl, err := Load(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	return tmpl, root
}

// TestEveryResourceHasItsAlarms: every function has alarms on its Lambda
// Errors and its failed items and a dashboard widget, every queue one on
// its depth and every delivery stream one on its freshness; each notifies
// AlarmTopicArn when set, and deploys wherever what it watches does.
// Adding a function, queue or delivery stream without them fails here.
func TestEveryResourceHasItsAlarms(t *testing.T) {
	tmpl, _ := repoTemplate(t)
	require.NotEmpty(t, tmpl.OfType(functionType))
	assert.Empty(t, problems(tmpl))
	for _, a := range tmpl.Alarms {
		assert.NotEmpty(t, a.Description, a.ID)
		assert.Equal(t, 1, a.EvaluationPeriods, "%s: one period, so that a failure alarms within five minutes", a.ID)
	}
}

// TestUnwatchedTemplate: problems names each gap of a template that
// watches too little.
func TestUnwatchedTemplate(t *testing.T) {
	tmpl, err := Load("testdata/unwatched.yaml")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		"HalfFunction: no alarm on its failed items (an EMF ...Failed metric in namespace lakestream)",
		"ForgottenQueue: no alarm on its depth (ApproximateNumberOfMessagesVisible)",
		"ForgottenStream: no alarm on its delivery freshness (DeliveryToS3.DataFreshness)",
		"WatchedStream: no alarm on its delivery freshness (DeliveryToS3.DataFreshness)",
		"WatchedFunction: on no dashboard",
		`ConditionalQueueDepthAlarm: condition "", but ConditionalQueue's is "HasQueue"`,
		"WatchedFunctionFailedAlarm: AlarmActions and OKActions must both be !If [AlarmsNotify, [!Ref AlarmTopicArn], !Ref AWS::NoValue]",
		"WatchedStreamAlarm: AlarmActions and OKActions must both be !If [AlarmsNotify, [!Ref AlarmTopicArn], !Ref AWS::NoValue]",
		"WatchedStreamAlarm: AlarmName must start with ${AWS::StackName}-",
	}, problems(tmpl))
	assert.Equal(t, "600", tmpl.Watching("WatchedStream")[0].Threshold, "a threshold parameter's default")
	assert.Equal(t, "lakestream-watched-errors: AWS/Lambda Errors Sum >= 1 in 300 s (FunctionName of WatchedFunction)",
		tmpl.Watching("WatchedFunction")[0].String())
}

// TestAlarmsNotifyOnlyWhenATopicIsGiven: AlarmTopicArn defaults to empty,
// and the condition the actions hang on is exactly "it is not empty".
func TestAlarmsNotifyOnlyWhenATopicIsGiven(t *testing.T) {
	tmpl, root := repoTemplate(t)
	def, ok := tmpl.Params[topicParam]
	require.True(t, ok, "template has a %s parameter", topicParam)
	assert.Empty(t, def)
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	var doc struct {
		Conditions map[string]yaml.Node `yaml:"Conditions"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	cond := doc.Conditions[notifyIfSet]
	out, err := yaml.Marshal(&cond)
	require.NoError(t, err)
	assert.Equal(t, `!Not [!Equals [!Ref AlarmTopicArn, ""]]`, strings.TrimSpace(string(out)))
}

// TestFailedMetricsAreEmitted: the metric each function's failure alarm
// watches is one its code emits: a metric name in the Go sources of the
// function and the lakestream packages it links, or shared/batch's
// <Noun>Failed for the noun the function gives batch.WithNoun.
func TestFailedMetricsAreEmitted(t *testing.T) {
	tmpl, root := repoTemplate(t)
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	require.NoError(t, err)
	folders := map[string]string{}
	for _, e := range entries {
		folders[lambdarun.LogicalID(e.Name())] = e.Name()
	}
	for _, a := range tmpl.Alarms {
		if a.Namespace != "lakestream" {
			continue
		}
		t.Run(a.ID, func(t *testing.T) {
			folder, ok := folders[a.Watches]
			require.True(t, ok, "%s watches %s, which is no functions/ folder", a.ID, a.Watches)
			src := sources(t, root, folder)
			noun := strings.ToLower(strings.TrimSuffix(a.Metric, "Failed"))
			assert.True(t, strings.Contains(src, strconv.Quote(a.Metric)) || strings.Contains(src, "batch.WithNoun("+strconv.Quote(noun)+")"),
				"%s: functions/%s emits no metric %s", a.ID, folder, a.Metric)
		})
	}
}

// sources is the Go source (tests apart) of functions/<folder> and every
// lakestream package it links.
func sources(t *testing.T, root, folder string) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", `{{if and .Module (eq .Module.Path "lakestream")}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}`, "./functions/"+folder)
	cmd.Dir = root
	out, err := cmd.Output()
	require.NoError(t, err)
	var b strings.Builder
	for _, path := range strings.Fields(string(out)) {
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		b.Write(src)
	}
	return b.String()
}
