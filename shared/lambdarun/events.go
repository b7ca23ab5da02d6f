package lambdarun

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Override sets parameter values, as `sam deploy --parameter-overrides`
// does; a parameter the template does not declare is an error.
func (t *Template) Override(params map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(params)) {
		p, ok := t.Parameters[name]
		if !ok {
			return fmt.Errorf("lambdarun: template has no parameter %s", name)
		}
		p.Default = params[name]
		t.Parameters[name] = p
	}
	return nil
}

// EventPatterns returns the EventBridge patterns that invoke a function, as
// JSON, with !Ref, !Sub, !If and conditions resolved from the parameters:
// by event name for the function's SAM Events of Type EventBridgeRule, and
// by logical id for each AWS::Events::Rule resource with a target
// !GetAtt <logicalID>.Arn whose Condition (if any) holds.
func (t *Template) EventPatterns(logicalID string) (map[string]string, error) {
	res, ok := t.Resources[logicalID]
	if !ok || res.Type != "AWS::Serverless::Function" {
		return nil, fmt.Errorf("lambdarun: template has no function %s", logicalID)
	}
	out := map[string]string{}
	pattern := func(name string, n *yaml.Node) error {
		v, err := t.value(n)
		if err != nil {
			return fmt.Errorf("lambdarun: %s pattern: %w", name, err)
		}
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // keep numeric matchers such as ">" readable
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("lambdarun: %s pattern: %w", name, err)
		}
		out[name] = strings.TrimSuffix(b.String(), "\n")
		return nil
	}

	var evs map[string]struct {
		Type       string `yaml:"Type"`
		Properties struct {
			Pattern yaml.Node `yaml:"Pattern"`
		} `yaml:"Properties"`
	}
	if node, ok := res.Properties.Names["Events"]; ok {
		if err := node.Decode(&evs); err != nil {
			return nil, fmt.Errorf("lambdarun: %s Events: %w", logicalID, err)
		}
	}
	for name, e := range evs {
		if e.Type != "EventBridgeRule" {
			continue
		}
		if err := pattern(name, &e.Properties.Pattern); err != nil {
			return nil, err
		}
	}

	arn, err := t.getAtt(logicalID + ".Arn")
	if err != nil {
		return nil, err
	}
	for name, r := range t.Resources {
		if r.Type != "AWS::Events::Rule" || !t.targets(r.Properties.Names["Targets"], arn) {
			continue
		}
		if r.Condition != "" {
			deployed, err := t.condition(r.Condition)
			if err != nil {
				return nil, fmt.Errorf("lambdarun: %s: %w", name, err)
			}
			if !deployed {
				continue
			}
		}
		p := r.Properties.Names["EventPattern"]
		if err := pattern(name, &p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// targets reports whether a rule's Targets include arn. A target whose Arn
// does not resolve locally is some other resource.
func (t *Template) targets(targets yaml.Node, arn string) bool {
	var list []struct {
		Arn yaml.Node `yaml:"Arn"`
	}
	if targets.Decode(&list) != nil {
		return false
	}
	for _, target := range list {
		if got, err := t.resolve(&target.Arn); err == nil && got == arn {
			return true
		}
	}
	return false
}

// value turns a YAML node into plain values (maps, lists, strings, numbers,
// booleans), resolving intrinsic functions: !If by its condition, !Ref,
// !Sub and !GetAtt as in Environment.
func (t *Template) value(n *yaml.Node) (any, error) {
	fn, arg := intrinsic(n)
	switch {
	case fn == "Fn::If":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 3 {
			return nil, fmt.Errorf("!If takes [condition, value if true, value if false]")
		}
		ok, err := t.condition(arg.Content[0].Value)
		if err != nil {
			return nil, err
		}
		if ok {
			return t.value(arg.Content[1])
		}
		return t.value(arg.Content[2])
	case fn != "":
		return t.resolve(n)
	case n.Kind == yaml.AliasNode:
		return t.value(n.Alias)
	case n.Kind == yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := t.value(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case n.Kind == yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			v, err := t.value(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case n.Kind == yaml.ScalarNode && n.Tag != "!!str" && n.Tag != "":
		var v any
		err := n.Decode(&v)
		return v, err
	}
	return n.Value, nil
}

// condition evaluates one of the template's Conditions.
func (t *Template) condition(name string) (bool, error) {
	n, ok := t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("template has no condition %s", name)
	}
	return t.truth(&n)
}

// truth evaluates a condition function: Fn::Equals, Fn::Not, Fn::And,
// Fn::Or or Condition.
func (t *Template) truth(n *yaml.Node) (bool, error) {
	fn, arg := intrinsic(n)
	switch fn {
	case "Condition":
		return t.condition(arg.Value)
	case "Fn::Equals":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 2 {
			return false, fmt.Errorf("!Equals takes two values")
		}
		a, err := t.value(arg.Content[0])
		if err != nil {
			return false, err
		}
		b, err := t.value(arg.Content[1])
		return fmt.Sprint(a) == fmt.Sprint(b), err
	case "Fn::Not", "Fn::And", "Fn::Or":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) == 0 || fn == "Fn::Not" && len(arg.Content) != 1 {
			return false, fmt.Errorf("%s takes a list of conditions", fn)
		}
		all, anyOf := true, false
		for _, c := range arg.Content {
			v, err := t.truth(c)
			if err != nil {
				return false, err
			}
			all, anyOf = all && v, anyOf || v
		}
		switch fn {
		case "Fn::Not":
			return !all, nil
		case "Fn::And":
			return all, nil
		}
		return anyOf, nil
	}
	if fn == "" {
		return false, fmt.Errorf("a plain value is not a condition")
	}
	return false, fmt.Errorf("%s is not a condition function supported locally", fn)
}

// intrinsic names the intrinsic function n calls, in long form ("Ref",
// "Condition", "Fn::If"), and its argument; fn is empty when n is plain
// data. The short form !If [a, b, c] and the long form {"Fn::If": [a, b,
// c]} give the same argument.
func intrinsic(n *yaml.Node) (fn string, arg *yaml.Node) {
	switch {
	case strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!"):
		plain := *n
		plain.Tag = ""
		switch n.Tag {
		case "!Ref", "!Condition":
			return n.Tag[1:], &plain
		}
		return "Fn::" + n.Tag[1:], &plain
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		key := n.Content[0].Value
		if key == "Ref" || key == "Condition" || strings.HasPrefix(key, "Fn::") {
			return key, n.Content[1]
		}
	}
	return "", nil
}
