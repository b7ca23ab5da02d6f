package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/template"
)

// Arguments renders a job run's arguments from an event: a JSON object
// from argument name to a Go text/template over the trigger's data, such as
// {"--date":"{{.Date}}","--hour":"{{.Hour}}"}.
type Arguments struct {
	names     []string
	templates map[string]*template.Template
}

// parseArguments reads a JSON object of argument templates and executes it
// once with sample, so a template that uses a field the trigger's data does
// not have fails at start-up, not on the first event. A missing map entry
// ({{.Partition.dt}} for a key without dt=) is "" and fails render.
func parseArguments(spec string, sample any) (*Arguments, error) {
	var raw map[string]string
	if err := json.Unmarshal([]byte(spec), &raw); err != nil {
		return nil, fmt.Errorf("not a JSON object of argument templates: %w", err)
	}
	if len(raw) == 0 {
		return nil, errors.New("no arguments")
	}
	a := &Arguments{names: slices.Sorted(maps.Keys(raw)), templates: map[string]*template.Template{}}
	for _, name := range a.names {
		// StartJobRun's argument names start with "--"; Glue passes them to
		// the script as command-line options.
		if !strings.HasPrefix(name, "--") || len(name) == 2 {
			return nil, fmt.Errorf("argument name %q does not start with \"--\"", name)
		}
		t, err := template.New(name).Option("missingkey=zero").Parse(raw[name])
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", name, err)
		}
		a.templates[name] = t
	}
	for _, name := range a.names {
		if err := a.templates[name].Execute(io.Discard, sample); err != nil {
			return nil, fmt.Errorf("argument %s: %w", name, err)
		}
	}
	return a, nil
}

// render executes every template with data. An argument that renders empty
// is an error: it names a value this event does not have (a partition the
// key lacks), and a job run without it would process the wrong data.
func (a *Arguments) render(data any) (map[string]string, error) {
	out := make(map[string]string, len(a.names))
	var b strings.Builder
	for _, name := range a.names {
		b.Reset()
		if err := a.templates[name].Execute(&b, data); err != nil {
			return nil, fmt.Errorf("argument %s: %w", name, err)
		}
		if strings.TrimSpace(b.String()) == "" {
			return nil, fmt.Errorf("argument %s renders empty for this event", name)
		}
		out[name] = b.String()
	}
	return out, nil
}
