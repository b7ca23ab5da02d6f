// Package metrics writes CloudWatch Embedded Metric Format (EMF) lines:
// JSON log lines that CloudWatch turns into metrics without any API call,
// so counting costs the function nothing but a write to stdout.
package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Unit is a CloudWatch metric unit.
type Unit string

// Units lakestream reports in.
const (
	UnitCount Unit = "Count"
	UnitBytes Unit = "Bytes"
	UnitMs    Unit = "Milliseconds"
)

// Recorder emits one EMF line per Flush under a namespace with fixed
// dimensions (for example FunctionName).
type Recorder struct {
	mu         sync.Mutex
	w          io.Writer
	namespace  string
	dimensions [][2]string
	now        func() time.Time
	names      []string
	units      map[string]Unit
	values     map[string]float64
}

// New returns a Recorder writing to w. dims are name, value pairs.
func New(w io.Writer, namespace string, dims ...string) *Recorder {
	r := &Recorder{w: w, namespace: namespace, now: time.Now, units: map[string]Unit{}, values: map[string]float64{}}
	for i := 0; i+1 < len(dims); i += 2 {
		r.dimensions = append(r.dimensions, [2]string{dims[i], dims[i+1]})
	}
	return r
}

// Add adds v to the named metric for the current invocation. A nil
// Recorder records nothing, so handlers built without metrics (tests) need
// no checks.
func (r *Recorder) Add(name string, unit Unit, v float64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, seen := r.units[name]; !seen {
		r.names = append(r.names, name)
		r.units[name] = unit
	}
	r.values[name] += v
}

// Count adds n to a Count metric.
func (r *Recorder) Count(name string, n int) { r.Add(name, UnitCount, float64(n)) }

// Flush writes the metrics added since the last Flush as one EMF line and
// resets them. Metrics are written even when zero, so dashboards show a
// quiet invocation as 0 rather than missing data.
func (r *Recorder) Flush() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.names) == 0 {
		return nil
	}
	type metric struct {
		Name string `json:"Name"`
		Unit Unit   `json:"Unit"`
	}
	dimNames := make([]string, len(r.dimensions))
	doc := map[string]any{}
	for i, d := range r.dimensions {
		dimNames[i] = d[0]
		doc[d[0]] = d[1]
	}
	defs := make([]metric, len(r.names))
	for i, n := range r.names {
		defs[i] = metric{n, r.units[n]}
		doc[n] = r.values[n]
	}
	doc["_aws"] = map[string]any{
		"Timestamp": r.now().UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  r.namespace,
			"Dimensions": [][]string{dimNames},
			"Metrics":    defs,
		}},
	}
	r.names, r.units, r.values = nil, map[string]Unit{}, map[string]float64{}
	line, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("metrics: encode EMF: %w", err)
	}
	_, err = r.w.Write(append(line, '\n'))
	return err
}

// Report ends an invocation the same way in every function: one summary
// log line ("invocation done" at info, or "invocation failed" at error with
// err) carrying attrs, then the metrics added since the last report as one
// EMF document. A metrics write that fails is logged, never returned: it
// must not fail the invocation.
func Report(ctx context.Context, log *slog.Logger, r *Recorder, err error, attrs ...any) {
	if err != nil {
		log.ErrorContext(ctx, "invocation failed", append(attrs, "error", err.Error())...)
	} else {
		log.InfoContext(ctx, "invocation done", attrs...)
	}
	if ferr := r.Flush(); ferr != nil {
		log.WarnContext(ctx, "metrics not written", "error", ferr.Error())
	}
}
