package lambdarun

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Local stand-ins for the pseudo parameters a deployed stack would resolve.
var pseudoParams = map[string]string{
	"AWS::Region":    "us-east-1",
	"AWS::AccountId": "123456789012",
	"AWS::Partition": "aws",
	"AWS::StackName": "lakestream",
	"AWS::URLSuffix": "amazonaws.com",
}

// Template is the part of a SAM template the local runner and tests read:
// parameter defaults, conditions, each function's environment and the
// EventBridge patterns that invoke it.
type Template struct {
	Parameters map[string]struct {
		Default any `yaml:"Default"`
	} `yaml:"Parameters"`
	Conditions map[string]yaml.Node `yaml:"Conditions"`
	Globals    struct {
		Function resourceProps `yaml:"Function"`
	} `yaml:"Globals"`
	Resources map[string]struct {
		Type       string        `yaml:"Type"`
		Condition  string        `yaml:"Condition"`
		Properties resourceProps `yaml:"Properties"`
	} `yaml:"Resources"`
}

type resourceProps struct {
	CodeURI     string    `yaml:"CodeUri"`
	MemorySize  yaml.Node `yaml:"MemorySize"`
	Timeout     yaml.Node `yaml:"Timeout"`
	Environment struct {
		Variables map[string]yaml.Node `yaml:"Variables"`
	} `yaml:"Environment"`
	Names map[string]yaml.Node `yaml:",inline"`
}

// LoadTemplate reads a SAM template (YAML with CloudFormation's short-form
// tags such as !Ref and !Sub).
func LoadTemplate(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: %w", err)
	}
	var t Template
	if err := yaml.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("lambdarun: parse %s: %w", path, err)
	}
	return &t, nil
}

// LoadRepoTemplate reads the template.yaml of the repository holding the
// working directory.
func LoadRepoTemplate() (*Template, error) {
	root, err := RepoRoot(".")
	if err != nil {
		return nil, err
	}
	return LoadTemplate(filepath.Join(root, "template.yaml"))
}

// LogicalID is the template resource of a function folder:
// "cwlogs-decompressor" is CwlogsDecompressorFunction.
func LogicalID(folder string) string {
	var b strings.Builder
	for _, part := range strings.Split(folder, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String() + "Function"
}

// Environment returns a function's variables (Globals, then the function's
// own), with !Ref, !Sub and !GetAtt resolved to parameter defaults and
// local stand-ins, plus AWS_LAMBDA_FUNCTION_NAME and the memory size.
func (t *Template) Environment(logicalID string) (map[string]string, error) {
	res, ok := t.Resources[logicalID]
	if !ok || res.Type != "AWS::Serverless::Function" {
		return nil, fmt.Errorf("lambdarun: template has no function %s", logicalID)
	}
	env := map[string]string{"AWS_LAMBDA_FUNCTION_NAME": logicalID}
	mem, err := t.property(logicalID, "MemorySize", &res.Properties.MemorySize, &t.Globals.Function.MemorySize)
	if err != nil {
		return nil, err
	}
	if mem != "" {
		env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = mem
	}
	for _, vars := range []map[string]yaml.Node{t.Globals.Function.Environment.Variables, res.Properties.Environment.Variables} {
		for name, node := range vars {
			v, err := t.resolve(&node)
			if err != nil {
				return nil, fmt.Errorf("lambdarun: %s variable %s: %w", logicalID, name, err)
			}
			env[name] = v
		}
	}
	return env, nil
}

// CallsAWS reports whether the template grants a function any AWS actions
// (a Policies property): a function without is a pure transformation.
func (t *Template) CallsAWS(logicalID string) bool {
	res, ok := t.Resources[logicalID]
	if !ok {
		return false
	}
	_, ok = res.Properties.Names["Policies"]
	return ok
}

// defaultTimeout is SAM's Timeout when neither the function nor Globals
// sets one.
const defaultTimeout = 3 * time.Second

// Timeout returns a function's Timeout: its own property, else Globals',
// else SAM's default of 3 seconds, with !Ref resolved to a parameter's
// default as in Environment.
func (t *Template) Timeout(logicalID string) (time.Duration, error) {
	res, ok := t.Resources[logicalID]
	if !ok || res.Type != "AWS::Serverless::Function" {
		return 0, fmt.Errorf("lambdarun: template has no function %s", logicalID)
	}
	v, err := t.property(logicalID, "Timeout", &res.Properties.Timeout, &t.Globals.Function.Timeout)
	if err != nil || v == "" {
		return defaultTimeout, err
	}
	seconds, err := strconv.Atoi(v)
	if err != nil || seconds < 1 {
		return 0, fmt.Errorf("lambdarun: %s Timeout %q is not a whole number of seconds", logicalID, v)
	}
	return time.Duration(seconds) * time.Second, nil
}

// property resolves a function property that Globals may set: the
// function's own value, else the global one, else "".
func (t *Template) property(logicalID, name string, own, global *yaml.Node) (string, error) {
	for _, n := range []*yaml.Node{own, global} {
		if n.Kind == 0 {
			continue
		}
		v, err := t.resolve(n)
		if err != nil {
			return "", fmt.Errorf("lambdarun: %s %s: %w", logicalID, name, err)
		}
		return v, nil
	}
	return "", nil
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

func (t *Template) resolve(n *yaml.Node) (string, error) {
	switch {
	case n.Tag == "!Ref":
		return t.ref(n.Value)
	case n.Tag == "!Sub" && n.Kind == yaml.ScalarNode:
		var err error
		out := subVar.ReplaceAllStringFunc(n.Value, func(m string) string {
			name := m[2 : len(m)-1]
			v, rerr := t.ref(name)
			if strings.Contains(name, ".") {
				v, rerr = t.getAtt(name)
			}
			if rerr != nil {
				err = rerr
			}
			return v
		})
		return out, err
	case n.Tag == "!GetAtt" && n.Kind == yaml.SequenceNode && len(n.Content) == 2:
		return t.getAtt(n.Content[0].Value + "." + n.Content[1].Value)
	case n.Tag == "!GetAtt":
		return t.getAtt(n.Value)
	case n.Tag == "!If" && n.Kind == yaml.SequenceNode && len(n.Content) == 3:
		// A setting that depends on a parameter (the S3 log forwarder's
		// format-specific variables): the branch its condition picks.
		ok, err := t.condition(n.Content[0].Value)
		if err != nil {
			return "", err
		}
		if ok {
			return t.resolve(n.Content[1])
		}
		return t.resolve(n.Content[2])
	case n.Kind == yaml.ScalarNode && (!strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!")):
		return n.Value, nil
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		key, val := n.Content[0].Value, *n.Content[1]
		switch key {
		case "Ref":
			val.Tag = "!Ref"
		case "Fn::Sub":
			val.Tag = "!Sub"
		case "Fn::GetAtt":
			if val.Kind == yaml.SequenceNode && len(val.Content) == 2 {
				return t.getAtt(val.Content[0].Value + "." + val.Content[1].Value)
			}
			val.Tag = "!GetAtt"
		default:
			return "", fmt.Errorf("%s is not supported locally; override it in env.json", key)
		}
		return t.resolve(&val)
	}
	return "", fmt.Errorf("%s value is not supported locally; override it in env.json", n.Tag)
}

// Ref resolves a !Ref as Environment does: a parameter's default (or
// override), a pseudo parameter's local stand-in, or a resource's name
// (its name property when set, else its logical id).
func (t *Template) Ref(name string) (string, error) { return t.ref(name) }

func (t *Template) ref(name string) (string, error) {
	if v, ok := pseudoParams[name]; ok {
		return v, nil
	}
	if p, ok := t.Parameters[name]; ok {
		if p.Default == nil {
			return "", nil
		}
		return fmt.Sprint(p.Default), nil
	}
	if r, ok := t.Resources[name]; ok {
		for _, prop := range []string{"DeliveryStreamName", "BucketName", "TableName", "QueueName", "Name", "StreamName", "DatabaseName"} {
			if node, ok := r.Properties.Names[prop]; ok {
				return t.resolve(&node)
			}
		}
		return name, nil
	}
	return "", fmt.Errorf("!Ref %s names no parameter or resource", name)
}

// getAtt gives a plausible local ARN for Resource.Arn.
func (t *Template) getAtt(ref string) (string, error) {
	name, attr, _ := strings.Cut(ref, ".")
	r, ok := t.Resources[name]
	if !ok {
		return "", fmt.Errorf("!GetAtt %s names no resource", ref)
	}
	id, err := t.ref(name)
	if err != nil || attr != "Arn" {
		return id, err
	}
	region, account := pseudoParams["AWS::Region"], pseudoParams["AWS::AccountId"]
	switch r.Type {
	case "AWS::KinesisFirehose::DeliveryStream":
		return fmt.Sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", region, account, id), nil
	case "AWS::Kinesis::Stream":
		return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", region, account, id), nil
	case "AWS::S3::Bucket":
		return "arn:aws:s3:::" + id, nil
	case "AWS::SQS::Queue":
		return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, account, id), nil
	}
	return fmt.Sprintf("arn:aws:local:%s:%s:%s", region, account, id), nil
}

// ApplyEnvFile overrides env with a SAM --env-vars file: a JSON object whose
// "Parameters" entry applies to every function and whose entry named by the
// function's logical id applies to it alone.
func ApplyEnvFile(env map[string]string, path, logicalID string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("lambdarun: %w", err)
	}
	var file map[string]map[string]any
	if err := json.Unmarshal(b, &file); err != nil {
		return fmt.Errorf("lambdarun: %s is not a SAM env-vars file ({\"Parameters\":{...},\"<LogicalId>\":{...}}): %w", path, err)
	}
	for _, section := range []string{"Parameters", logicalID} {
		for k, v := range file[section] {
			env[k] = fmt.Sprint(v)
		}
	}
	return nil
}
