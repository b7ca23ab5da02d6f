// Package config reads a function's settings from environment variables once,
// at start-up, into typed values. Every problem is collected, not just the
// first, and each message names the variable and what it accepts, so an
// operator fixes a broken deployment in one pass.
//
//	env := config.New(os.Getenv)
//	cfg := Config{
//		Stream:  env.Required("DELIVERY_STREAM"),
//		Format:  env.OneOf("OUTPUT_FORMAT", "lines", "lines", "json", "splunk"),
//		Retries: env.Int("MAX_ATTEMPTS", 20, 1, 100),
//	}
//	if err := env.Err(); err != nil { ... }
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Env reads typed values from a getenv-like function and remembers every
// invalid one. Read all values, then call Err once.
type Env struct {
	getenv func(string) string
	errs   []error
}

// New returns an Env reading from getenv (os.Getenv in main, a map in tests).
func New(getenv func(string) string) *Env { return &Env{getenv: getenv} }

// FromMap returns a getenv function over a map, for tests.
func FromMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// Error is one invalid variable: its name, the value seen and what it accepts.
type Error struct {
	Name    string
	Value   string
	Accepts string
}

func (e *Error) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s is required: %s", e.Name, e.Accepts)
	}
	return fmt.Sprintf("%s=%q is invalid: %s", e.Name, e.Value, e.Accepts)
}

// Err returns every problem found so far joined into one error, or nil.
func (e *Env) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid configuration: %w", errors.Join(e.errs...))
}

// Fail records a problem with a variable found by the caller's own checks,
// such as two settings that contradict each other.
func (e *Env) Fail(name, value, accepts string) {
	e.errs = append(e.errs, &Error{Name: name, Value: value, Accepts: accepts})
}

func (e *Env) lookup(name string) string { return strings.TrimSpace(e.getenv(name)) }

// String returns the variable, or def when it is unset or empty.
func (e *Env) String(name, def string) string {
	if v := e.lookup(name); v != "" {
		return v
	}
	return def
}

// Required returns the variable, recording an error when it is unset or empty.
func (e *Env) Required(name, accepts string) string {
	v := e.lookup(name)
	if v == "" {
		e.Fail(name, "", accepts)
	}
	return v
}

// OneOf returns the variable when it is one of allowed (compared
// case-insensitively, returned as spelled in allowed), or def when unset.
func (e *Env) OneOf(name, def string, allowed ...string) string {
	v := e.lookup(name)
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	e.Fail(name, v, "one of "+strings.Join(allowed, ", "))
	return def
}

// Int returns the variable as an integer within [min, max], or def when unset.
func (e *Env) Int(name string, def, min, max int) int {
	return Parse(e, name, def, fmt.Sprintf("an integer from %d to %d", min, max), func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err == nil && (n < min || n > max) {
			err = errors.New("out of range")
		}
		return n, err
	})
}

// Bool returns the variable as a boolean (true/false, 1/0, yes/no), or def when unset.
func (e *Env) Bool(name string, def bool) bool {
	return Parse(e, name, def, "true or false", func(s string) (bool, error) {
		switch strings.ToLower(s) {
		case "true", "1", "yes", "on":
			return true, nil
		case "false", "0", "no", "off":
			return false, nil
		}
		return false, errors.New("not a boolean")
	})
}

// Duration returns the variable as a positive Go duration ("250ms", "2s"), or def when unset.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	return Parse(e, name, def, `a positive duration such as "500ms" or "2s"`, func(s string) (time.Duration, error) {
		d, err := time.ParseDuration(s)
		if err == nil && d <= 0 {
			err = errors.New("not positive")
		}
		return d, err
	})
}

// Bytes returns the variable as a byte count ("1048576", "64KiB", "10MB",
// "1GiB"), at least 1, or def when unset.
func (e *Env) Bytes(name string, def int64) int64 {
	return Parse(e, name, def, `a byte count such as "1048576", "512KiB" or "10MB"`, ParseBytes)
}

// List returns the variable split on commas, items trimmed, empty items
// skipped; nil when unset.
func (e *Env) List(name string) []string {
	v := e.lookup(name)
	if v == "" {
		return nil
	}
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Map returns the variable parsed as "key=value,key=value"; nil when unset.
func (e *Env) Map(name string) map[string]string {
	items := e.List(name)
	if items == nil {
		return nil
	}
	m := make(map[string]string, len(items))
	for _, item := range items {
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			e.Fail(name, e.lookup(name), `comma-separated key=value pairs such as "a=x,b=y"`)
			return nil
		}
		m[k] = v
	}
	return m
}

// Parse reads a variable with a custom parser; def is returned when the
// variable is unset or invalid, and an invalid value is recorded with what
// the variable accepts.
func Parse[T any](e *Env, name string, def T, accepts string, parse func(string) (T, error)) T {
	v := e.lookup(name)
	if v == "" {
		return def
	}
	t, err := parse(v)
	if err != nil {
		e.Fail(name, v, accepts)
		return def
	}
	return t
}

var byteUnits = []struct {
	suffix string
	scale  int64
}{
	// Longest suffixes first so "KiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

// ParseBytes parses a positive byte count with an optional unit suffix.
func ParseBytes(s string) (int64, error) {
	scale := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, scale = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.scale
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n < 1 || n > (1<<62)/scale {
		return 0, errors.New("out of range")
	}
	return n * scale, nil
}

// Has reports whether the variable is set to a non-empty value.
func (e *Env) Has(name string) bool { return e.lookup(name) != "" }
