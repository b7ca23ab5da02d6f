// Package transformertest is what the tests of the Firehose record
// transformers (functions/firehose-*) share, so that each function's test
// file holds only what is its own: the cases, a line generator and its
// format's checks.
//
//   - Golden runs the events/<function>/ samples through the handler built
//     as main builds it and compares the decoded response (result, partition
//     keys, output lines, failure reasons, counts) with golden files.
//   - Batch, Request and Benchmark measure a whole invocation (request
//     bytes in, response bytes out) on a realistic ~1 MB batch.
//   - Integration runs the real bootstrap binary under the local Runtime
//     API and then plays Firehose against moto: dynamic partitioning of the
//     Ok records and delivery to S3, where the test finds them.
package transformertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/boot"
	"lakestream/shared/config"
	"lakestream/shared/firehose"
	"lakestream/shared/golden"
	"lakestream/shared/lambdarun"
)

// NewHandler builds a function's handler from its settings, as its main
// does (each function's newHandler).
type NewHandler func(fn *boot.Function) *firehose.Handler

// Env returns a function's environment as deployed: template.yaml's
// variables with parameter defaults resolved, then overrides.
func Env(t testing.TB, function string, overrides map[string]string) map[string]string {
	t.Helper()
	tmpl, err := lambdarun.LoadTemplate(filepath.Join(root(t), "template.yaml"))
	require.NoError(t, err)
	env, err := tmpl.Environment(lambdarun.LogicalID(function))
	require.NoError(t, err)
	for k, v := range overrides {
		env[k] = v
	}
	return env
}

// Build returns the handler newHandler builds from env, failing the test
// on an init error, and the buffer its logs and metrics are written to.
func Build(t testing.TB, newHandler NewHandler, env map[string]string) (*firehose.Handler, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	fn := boot.NewFrom(config.FromMap(env), &out)
	h := newHandler(fn)
	require.NoError(t, fn.Err())
	require.NotNil(t, h)
	return h, &out
}

// Event reads the sample event events/<function>/<name>.
func Event(t testing.TB, function, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root(t), "events", function, name))
	require.NoError(t, err)
	return raw
}

// Decode decodes a Firehose transformation event with encoding/json, the
// reference for what the handler must have read.
func Decode(t testing.TB, raw []byte) events.KinesisFirehoseEvent {
	t.Helper()
	var ev events.KinesisFirehoseEvent
	require.NoError(t, json.Unmarshal(raw, &ev))
	require.NotEmpty(t, ev.Records)
	return ev
}

// Invoke runs the request raw through h as Lambda does, bytes in and bytes
// out, and returns the response decoded.
func Invoke(t testing.TB, h *firehose.Handler, raw []byte) *firehose.Response {
	t.Helper()
	out, err := h.Invoke(context.Background(), raw)
	require.NoError(t, err)
	var resp firehose.Response
	require.NoError(t, json.Unmarshal(out, &resp))
	return &resp
}

// InvokeEvent is Invoke for an event built in a test: it is encoded as
// Firehose would send it.
func InvokeEvent(t testing.TB, h *firehose.Handler, ev events.KinesisFirehoseEvent) *firehose.Response {
	t.Helper()
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	return Invoke(t, h, raw)
}

// Result is what became of one record: its result, its output, its
// partition keys and, when it failed, the reason logged.
type Result struct {
	Result        string
	Data          string
	PartitionKeys map[string]string
	Error         string
}

// Transform runs records with the given data (arrival time 2024-03-05
// 07:00 UTC) through the handler newHandler builds from env, and returns
// what became of each.
func Transform(t testing.TB, newHandler NewHandler, env map[string]string, data ...string) []Result {
	t.Helper()
	h, logs := Build(t, newHandler, env)
	ev := events.KinesisFirehoseEvent{InvocationID: "test"}
	for i, d := range data {
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{
			RecordID:                    fmt.Sprint(i),
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: benchArrival},
			Data:                        []byte(d),
		})
	}
	resp := InvokeEvent(t, h, ev)
	require.Len(t, resp.Records, len(data))
	reasons := failures(logs.Bytes())
	out := make([]Result, len(data))
	for i, r := range resp.Records {
		out[i] = Result{Result: r.Result, Data: string(r.Data), PartitionKeys: r.PartitionKeys, Error: reasons[r.RecordID]}
	}
	return out
}

// Malformed is one bad (or borderline) record and what must become of it:
// its result and, for a failure, a part of the logged reason.
type Malformed struct {
	Data       string
	WantResult string
	WantError  string
}

// CheckMalformed runs each case as a one-record batch with the template's
// settings: the record gets the wanted result alone, a failure logs the
// reason and carries its original data to the error prefix.
func CheckMalformed(t *testing.T, function string, newHandler NewHandler, cases map[string]Malformed) {
	t.Helper()
	env := Env(t, function, nil)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Transform(t, newHandler, env, tc.Data)[0]
			assert.Equal(t, tc.WantResult, got.Result)
			if tc.WantError != "" {
				assert.Contains(t, got.Error, tc.WantError)
				assert.Equal(t, tc.Data, got.Data, "the original goes to the error prefix")
			}
		})
	}
}

// failures maps record ids to the reasons their failures were logged with.
func failures(logs []byte) map[string]string {
	reasons := map[string]string{}
	for line := range bytes.Lines(logs) {
		var entry struct {
			Msg      string `json:"msg"`
			RecordID string `json:"record_id"`
			Error    string `json:"error"`
		}
		if json.Unmarshal(line, &entry) == nil && entry.Msg == "record failed" {
			reasons[entry.RecordID] = entry.Error
		}
	}
	return reasons
}

// Case is one golden case: a sample of events/<function>/ run with the
// template's environment plus Env.
type Case struct {
	Event string
	Env   map[string]string
}

// Golden runs each case through the handler newHandler builds and compares
// the result with testdata/<case>.golden.json byte for byte (go test
// -update rewrites it). The golden holds, per record, the result, the
// partition keys, the output decoded from base64 (JSON lines as objects in
// their field order, CSV and TSV rows as strings) and, for a failed
// record, the reason logged; and the invocation's counts. Every sample in
// events/<function>/ must be some case's event.
func Golden(t *testing.T, function string, newHandler NewHandler, cases map[string]Case) {
	t.Helper()
	samples, err := filepath.Glob(filepath.Join(root(t), "events", function, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, samples)
	used := map[string]bool{}
	for _, c := range cases {
		used[c.Event] = true
	}
	for _, s := range samples {
		assert.True(t, used[filepath.Base(s)], "events/%s/%s is in no golden case", function, filepath.Base(s))
	}
	goldens, err := filepath.Glob(filepath.Join("testdata", "*.golden.json"))
	require.NoError(t, err)
	for _, g := range goldens {
		_, ok := cases[strings.TrimSuffix(filepath.Base(g), ".golden.json")]
		assert.True(t, ok || golden.Update(), "%s belongs to no case", g)
	}

	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			env := Env(t, function, c.Env)
			h, logs := Build(t, newHandler, env)
			raw := Event(t, function, c.Event)
			resp := Invoke(t, h, raw)
			got := describe(t, Decode(t, raw), resp, logs.Bytes(), env["OUTPUT_FORMAT"])

			golden.Bytes(t, filepath.Join("testdata", name+".golden.json"), got)
		})
	}
}

// goldenDoc is the form of a golden file.
type goldenDoc struct {
	Summary summary        `json:"summary"`
	Records []goldenRecord `json:"records"`
}

// summary is the counts of the invocation's summary log line.
type summary struct {
	RecordsIn     int `json:"records_in"`
	Ok            int `json:"ok"`
	Dropped       int `json:"dropped"`
	Failed        int `json:"failed"`
	LinesSkipped  int `json:"lines_skipped"`
	LinesFiltered int `json:"lines_filtered"`
	LinesWritten  int `json:"lines_written"`
	BytesIn       int `json:"bytes_in"`
	BytesOut      int `json:"bytes_out"`
}

type goldenRecord struct {
	RecordID      string            `json:"recordId"`
	Result        string            `json:"result"`
	PartitionKeys map[string]string `json:"partitionKeys,omitempty"`
	Lines         []json.RawMessage `json:"lines,omitempty"`
	Rows          []string          `json:"rows,omitempty"`
	Error         string            `json:"error,omitempty"`
}

// describe turns a response into its golden form, checking on the way
// what holds for every response.
func describe(t *testing.T, ev events.KinesisFirehoseEvent, resp *firehose.Response, logs []byte, format string) []byte {
	t.Helper()
	require.Len(t, resp.Records, len(ev.Records), "one response record per input record")
	doc := goldenDoc{Records: make([]goldenRecord, len(resp.Records))}
	reasons := failures(logs)
	for line := range bytes.Lines(logs) {
		if bytes.Contains(line, []byte(`"msg":"invocation done"`)) {
			require.NoError(t, json.Unmarshal(line, &doc.Summary))
		}
	}
	for i, r := range resp.Records {
		require.Equal(t, ev.Records[i].RecordID, r.RecordID, "record %d keeps its id", i)
		g := goldenRecord{RecordID: r.RecordID, Result: r.Result, PartitionKeys: r.PartitionKeys}
		switch r.Result {
		case firehose.ResultOk:
			require.True(t, bytes.HasSuffix(r.Data, []byte("\n")), "record %s: output lines end in LF", r.RecordID)
			for line := range bytes.Lines(r.Data) {
				line = bytes.TrimSuffix(line, []byte("\n"))
				if format == "csv" || format == "tsv" {
					g.Rows = append(g.Rows, string(line))
					continue
				}
				require.True(t, json.Valid(line), "record %s: %s", r.RecordID, line)
				g.Lines = append(g.Lines, slices.Clone(line))
			}
		case firehose.ResultProcessingFailed:
			assert.Equal(t, ev.Records[i].Data, r.Data, "record %s: a failed record carries its input", r.RecordID)
			g.Error = reasons[r.RecordID]
			assert.NotEmpty(t, g.Error, "record %s: the reason is logged", r.RecordID)
		case firehose.ResultDropped:
			assert.Empty(t, r.Data)
		default:
			t.Fatalf("record %s: result %q", r.RecordID, r.Result)
		}
		doc.Records[i] = g
	}
	require.Equal(t, len(ev.Records), doc.Summary.RecordsIn, "the summary line was logged")
	// Not HTML-escaped, so a golden shows a user agent's < and & as they are.
	return golden.Marshal(t, doc)
}

// root is the repository root.
func root(t testing.TB) string {
	t.Helper()
	dir, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	return dir
}
