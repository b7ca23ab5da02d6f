// Package alarms reads what a lakestream template watches: its CloudWatch
// alarms (the metric, the resource it watches, the threshold, whether it
// notifies the AlarmTopicArn topic) and its dashboard. `make demo` lists
// the alarms with it, and its tests keep every function, failure queue and
// delivery stream of template.yaml from coming without its alarms.
package alarms

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// StackName stands in for ${AWS::StackName} in the names: the stack name
// samconfig.toml deploys.
const StackName = "lakestream"

// Alarm is one AWS::CloudWatch::Alarm of a template.
type Alarm struct {
	ID          string // logical id
	Name        string // AlarmName, ${AWS::StackName} resolved to StackName
	Description string
	Condition   string // the resource's Condition, if any
	Namespace   string
	Metric      string
	Statistic   string
	// Dimension is the alarm's one dimension's name and Watches the
	// logical id of the resource its value refers to (!Ref X, !GetAtt X.Attr).
	Dimension, Watches string
	Comparison         string
	// Threshold is the number, or the default of the parameter it refers to.
	Threshold         string
	Period            int
	EvaluationPeriods int
	// Notifies is set when AlarmActions and OKActions are both
	// !If [<condition>, [!Ref <topic parameter>], !Ref AWS::NoValue];
	// NotifyCondition and NotifyTopic name those two.
	Notifies                     bool
	NotifyCondition, NotifyTopic string
}

// String describes the alarm in one line:
// "lakestream-firehose-json-errors: AWS/Lambda Errors Sum >= 1 in 300 s (FunctionName of FirehoseJsonFunction)".
func (a Alarm) String() string {
	return fmt.Sprintf("%s: %s %s %s %s %s in %d s (%s of %s)", a.Name, a.Namespace, a.Metric, a.Statistic,
		comparisons[a.Comparison], a.Threshold, a.Period, a.Dimension, a.Watches)
}

var comparisons = map[string]string{
	"GreaterThanOrEqualToThreshold": ">=",
	"GreaterThanThreshold":          ">",
	"LessThanThreshold":             "<",
	"LessThanOrEqualToThreshold":    "<=",
}

// Template is what Load read.
type Template struct {
	Alarms []Alarm // in logical id order
	// Types is every resource's type, and Conditions every conditional
	// resource's condition, by logical id.
	Types, Conditions map[string]string
	// Params are the parameters' defaults.
	Params map[string]string
	// Dashboards are the AWS::CloudWatch::Dashboard bodies as written
	// (the !Sub text, before substitution), by logical id.
	Dashboards map[string]string
}

// Load reads a SAM or CloudFormation template (YAML, short-form tags).
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("alarms: %w", err)
	}
	var doc struct {
		Parameters map[string]struct {
			Default yaml.Node `yaml:"Default"`
		} `yaml:"Parameters"`
		Resources map[string]struct {
			Type       string               `yaml:"Type"`
			Condition  string               `yaml:"Condition"`
			Properties map[string]yaml.Node `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("alarms: parse %s: %w", path, err)
	}
	t := &Template{
		Types: map[string]string{}, Conditions: map[string]string{}, Params: map[string]string{},
		Dashboards: map[string]string{},
	}
	for name, p := range doc.Parameters {
		t.Params[name] = p.Default.Value
	}
	for id, r := range doc.Resources {
		t.Types[id] = r.Type
		if r.Condition != "" {
			t.Conditions[id] = r.Condition
		}
		switch r.Type {
		case "AWS::CloudWatch::Alarm":
			a, err := t.alarm(id, r.Condition, r.Properties)
			if err != nil {
				return nil, fmt.Errorf("alarms: %s: %w", id, err)
			}
			t.Alarms = append(t.Alarms, a)
		case "AWS::CloudWatch::Dashboard":
			body := r.Properties["DashboardBody"]
			t.Dashboards[id] = body.Value
		}
	}
	slices.SortFunc(t.Alarms, func(a, b Alarm) int { return strings.Compare(a.ID, b.ID) })
	return t, nil
}

func (t *Template) alarm(id, condition string, props map[string]yaml.Node) (Alarm, error) {
	a := Alarm{ID: id, Condition: condition}
	scalar := func(name string) string {
		n := props[name]
		return n.Value
	}
	a.Name = strings.ReplaceAll(scalar("AlarmName"), "${AWS::StackName}", StackName)
	a.Description = scalar("AlarmDescription")
	a.Namespace, a.Metric, a.Statistic = scalar("Namespace"), scalar("MetricName"), scalar("Statistic")
	a.Comparison = scalar("ComparisonOperator")
	th := props["Threshold"]
	a.Threshold = th.Value
	if th.Tag == "!Ref" {
		def, ok := t.Params[th.Value]
		if !ok {
			return a, fmt.Errorf("Threshold refers to %s, which is no parameter", th.Value)
		}
		a.Threshold = def
	}
	var err error
	if a.Period, err = strconv.Atoi(scalar("Period")); err != nil {
		return a, fmt.Errorf("Period: %w", err)
	}
	if a.EvaluationPeriods, err = strconv.Atoi(scalar("EvaluationPeriods")); err != nil {
		return a, fmt.Errorf("EvaluationPeriods: %w", err)
	}
	dims := props["Dimensions"]
	if dims.Kind != yaml.SequenceNode || len(dims.Content) != 1 {
		return a, fmt.Errorf("want one dimension")
	}
	var dim struct {
		Name  string    `yaml:"Name"`
		Value yaml.Node `yaml:"Value"`
	}
	if err := dims.Content[0].Decode(&dim); err != nil {
		return a, fmt.Errorf("Dimensions: %w", err)
	}
	a.Dimension = dim.Name
	switch dim.Value.Tag {
	case "!Ref":
		a.Watches = dim.Value.Value
	case "!GetAtt":
		a.Watches, _, _ = strings.Cut(dim.Value.Value, ".")
	default:
		return a, fmt.Errorf("dimension %s is %q, not a !Ref or !GetAtt of a resource", dim.Name, dim.Value.Value)
	}
	alarm, alarmTopic, alarmOK := notify(props["AlarmActions"])
	ok, okTopic, okOK := notify(props["OKActions"])
	if alarmOK && okOK && alarm == ok && alarmTopic == okTopic {
		a.Notifies, a.NotifyCondition, a.NotifyTopic = true, alarm, alarmTopic
	}
	return a, nil
}

// notify reads actions of the form
// !If [condition, [!Ref topic], !Ref AWS::NoValue].
func notify(n yaml.Node) (condition, topic string, ok bool) {
	if n.Tag != "!If" || n.Kind != yaml.SequenceNode || len(n.Content) != 3 {
		return "", "", false
	}
	cond, then, otherwise := n.Content[0], n.Content[1], n.Content[2]
	if then.Kind != yaml.SequenceNode || len(then.Content) != 1 || then.Content[0].Tag != "!Ref" {
		return "", "", false
	}
	if otherwise.Tag != "!Ref" || otherwise.Value != "AWS::NoValue" {
		return "", "", false
	}
	return cond.Value, then.Content[0].Value, true
}

// Watching returns the alarms on the resource with logical id id.
func (t *Template) Watching(id string) []Alarm {
	var out []Alarm
	for _, a := range t.Alarms {
		if a.Watches == id {
			out = append(out, a)
		}
	}
	return out
}

// OfType returns the logical ids of the resources of a type, sorted.
func (t *Template) OfType(typ string) []string {
	var ids []string
	for id, ty := range t.Types {
		if ty == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
