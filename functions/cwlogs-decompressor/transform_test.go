package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/cwlogs"
	"lakestream/shared/firehose"
	"lakestream/shared/golden"
	"lakestream/shared/pipeline"
)

// testConfig is the configuration loadConfig reads from env, which must
// be valid.
func testConfig(t testing.TB, env map[string]string) Config {
	t.Helper()
	e := config.New(config.FromMap(env))
	c := loadConfig(e)
	require.NoError(t, e.Err())
	return c
}

// baseConfig is the default configuration, as loadConfig gives it for an
// empty environment.
func baseConfig(t testing.TB) Config { return testConfig(t, nil) }

func newTestTransformer(t testing.TB, c Config) *transformer {
	t.Helper()
	tr, err := newTransformer(c)
	require.NoError(t, err)
	return tr
}

// TestTransformGolden runs each case's input, testdata/transform/<input>
// (a .json document gzipped here as CloudWatch Logs would send it, or a
// .bin payload sent as it is; the case's name by default), through the
// transform with the case's settings and compares the outcome with
// testdata/transform/<case>.golden.json.
func TestTransformGolden(t *testing.T) {
	const vpcFields = "${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${end} ${type} ${packets} ${bytes} " +
		"${account-id} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${region} ${az-id} ${sublocation-type} ${sublocation-id} " +
		"${action} ${tcp-flags} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${flow-direction} ${log-status}"
	tests := map[string]struct {
		input     string // default: the case's name
		env       map[string]string
		configure func(*Config)
	}{
		"lines":      {},
		"json":       {env: map[string]string{"OUTPUT_FORMAT": "json"}},
		"json-embed": {env: map[string]string{"OUTPUT_FORMAT": "json", "EMBED_JSON_MESSAGE": "true"}},
		"splunk":     {env: map[string]string{"OUTPUT_FORMAT": "splunk"}},
		"splunk-embed": {env: map[string]string{"OUTPUT_FORMAT": "splunk", "EMBED_JSON_MESSAGE": "true",
			"SPLUNK_SOURCETYPE": "aws:cloudwatchlogs:lambda", "SPLUNK_HOST": "orders-api", "SPLUNK_INDEX": "lake"}},
		"escapes":      {env: map[string]string{"OUTPUT_FORMAT": "json"}},
		"include":      {env: map[string]string{"INCLUDE_PATTERN": `\b(ERROR|WARN)\b|"level":"INFO"`}},
		"exclude":      {env: map[string]string{"EXCLUDE_PATTERN": `^(START|END|REPORT) RequestId:`}},
		"all-filtered": {env: map[string]string{"INCLUDE_PATTERN": `CRITICAL`}},
		"partition-keys": {env: map[string]string{"OUTPUT_FORMAT": "json",
			"PARTITION_KEYS": "log_group,stream=log_stream,account=owner,year,month,day,hour,dt=date"}},
		"partition-straddle": {env: map[string]string{"PARTITION_KEYS": "log_group,dt=date,hour"}},
		"partition-same-day": {env: map[string]string{"PARTITION_KEYS": "dt=date"}},
		"control":            {},
		// Budgets counted in base64 bytes plus the record id ("rec-0").
		"split":                {configure: func(c *Config) { c.Budget = 300 }},
		"event-too-large":      {configure: func(c *Config) { c.Budget = 150 }},
		"decompression-bomb":   {env: map[string]string{"MAX_DECOMPRESSED_BYTES": "512"}},
		"not-gzip":             {},
		"truncated":            {},
		"invalid-json":         {},
		"missing-log-stream":   {},
		"unknown-message-type": {},
		// Issue 12 item 7: a DATA_MESSAGE without events is well-formed.
		"empty-log-events": {},

		// The pipeline's stages on log events.
		"vpcflow":        {env: map[string]string{"PARSE_MESSAGE": "vpcflow", "OUTPUT_FORMAT": "json"}},
		"vpcflow-csv":    {input: "vpcflow", env: map[string]string{"PARSE_MESSAGE": "vpcflow", "OUTPUT_FORMAT": "csv"}},
		"vpcflow-custom": {env: map[string]string{"PARSE_MESSAGE": "vpcflow", "OUTPUT_FORMAT": "json", "VPCFLOW_FIELDS": vpcFields}},
		"vpcflow-bad":    {env: map[string]string{"PARSE_MESSAGE": "vpcflow", "OUTPUT_FORMAT": "json"}},
		"vpcflow-drop-if": {input: "vpcflow", env: map[string]string{"PARSE_MESSAGE": "vpcflow",
			"DROP_IF": "action=REJECT,log_status=NODATA", "PARTITION_KEYS": "log_group,dt=date"}},
		"vpcflow-masked": {input: "vpcflow", env: map[string]string{"PARSE_MESSAGE": "vpcflow", "OUTPUT_FORMAT": "json",
			"MASK_FIELDS": "srcaddr=truncate-ip,dstaddr=truncate-ip,message=drop,account_id=hash", "HASH_SALT": "pepper",
			"SCHEMA": "srcport:int:0..65535,bytes:int:0..,action:string"}},
		"vpcflow-schema-fails": {input: "vpcflow", env: map[string]string{"PARSE_MESSAGE": "vpcflow", "OUTPUT_FORMAT": "json",
			"SCHEMA": "action:string:required"}},
		"vpcflow-partition-action": {input: "vpcflow", env: map[string]string{"PARSE_MESSAGE": "vpcflow",
			"PARTITION_KEYS": "action=field:action"}},
		"parse-json":          {env: map[string]string{"PARSE_MESSAGE": "json", "OUTPUT_FORMAT": "json", "PARTITION_KEYS": "dt=date,hour"}},
		"parse-json-not-json": {input: "lines", env: map[string]string{"PARSE_MESSAGE": "json", "OUTPUT_FORMAT": "json"}},
		"tsv":                 {input: "escapes", env: map[string]string{"OUTPUT_FORMAT": "tsv"}},
		"splunk-arrival-time": {input: "lines", env: map[string]string{"OUTPUT_FORMAT": "splunk", "TIME_FIELD": "nothing",
			"SPLUNK_HOST": "field:owner", "SPLUNK_SOURCE": "app"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t, tc.env)
			if tc.configure != nil {
				tc.configure(&cfg)
			}
			if tc.input == "" {
				tc.input = name
			}
			tr := newTestTransformer(t, cfg)
			out, err := tr.Transform(context.Background(), firehose.Record{ID: "rec-0", Data: input(t, tc.input), ArrivalTime: testArrival})
			got := describe(t, out, err)
			got["counts"] = nonZero(tr.counts.take())
			golden.JSON(t, filepath.Join("testdata", "transform", name+".golden.json"), got)
		})
	}
}

// testArrival is the arrival time of the test records.
var testArrival = time.Date(2024, 5, 1, 13, 50, 0, 0, time.UTC)

// input reads testdata/transform/<name>.json, gzipped, or <name>.bin as is.
func input(t testing.TB, name string) []byte {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join("testdata", "transform", name+".bin")); err == nil {
		return b
	}
	doc, err := os.ReadFile(filepath.Join("testdata", "transform", name+".json"))
	require.NoError(t, err)
	return gz(t, doc)
}

// gzipWriters keeps fuzzing fast: a gzip.Writer allocates about 800 KB.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(w)
	w.Reset(&buf)
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// describe renders an Output readably: lines as strings, re-ingested
// payloads decoded.
func describe(t testing.TB, out firehose.Output, err error) map[string]any {
	t.Helper()
	switch {
	case err != nil:
		return map[string]any{"result": "ProcessingFailed", "error": err.Error(), "kind": errorKind(err)}
	case len(out.Reingest) > 0:
		var docs []events.CloudwatchLogsData
		for _, p := range out.Reingest {
			d, err := cwlogs.Decode(p, 1<<30)
			require.NoError(t, err, "a re-ingested payload decodes")
			docs = append(docs, d)
		}
		return map[string]any{"result": "Reingest", "reingest": docs}
	case out.Drop:
		return map[string]any{"result": "Dropped"}
	}
	lines := strings.SplitAfter(string(out.Data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	got := map[string]any{"result": "Ok", "lines": lines}
	if out.PartitionKeys != nil {
		got["partitionKeys"] = out.PartitionKeys
	}
	return got
}

// errorKind names the documented error an error wraps.
func errorKind(err error) string {
	var missing *cwlogs.MissingFieldError
	for _, k := range []struct {
		name string
		err  error
	}{
		{"ErrNotGzip", cwlogs.ErrNotGzip}, {"ErrTruncated", cwlogs.ErrTruncated}, {"ErrTooLarge", cwlogs.ErrTooLarge},
		{"ErrInvalidJSON", cwlogs.ErrInvalidJSON}, {"ErrUnknownMessageType", cwlogs.ErrUnknownMessageType},
		{"ErrEventTooLarge", ErrEventTooLarge},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	var evErr *pipeline.EventError
	switch {
	case errors.As(err, &missing):
		return "MissingFieldError"
	case errors.As(err, &evErr):
		return "EventError"
	}
	return "other"
}

func nonZero(counts []firehose.Count) map[string]int {
	m := map[string]int{}
	for _, c := range counts {
		if c.N != 0 {
			m[c.Name] = c.N
		}
	}
	return m
}

// TestRenderedJSONIsValid: every json and splunk line of the golden inputs
// is one valid JSON object, whatever the messages hold.
func TestRenderedJSONIsValid(t *testing.T) {
	for _, format := range []string{"json", "splunk"} {
		for _, embed := range []string{"false", "true"} {
			for _, name := range []string{"lines", "escapes"} {
				cfg := testConfig(t, map[string]string{"OUTPUT_FORMAT": format, "EMBED_JSON_MESSAGE": embed})
				out, err := newTestTransformer(t, cfg).Transform(context.Background(), firehose.Record{ID: "r", Data: input(t, name)})
				require.NoError(t, err)
				lines := bytes.Split(bytes.TrimSuffix(out.Data, []byte("\n")), []byte("\n"))
				for i, line := range lines {
					var obj map[string]any
					assert.NoError(t, json.Unmarshal(line, &obj), "%s/%v/%s line %d: %s", format, embed, name, i, line)
				}
			}
		}
	}
}

// TestSplitReingestsEveryEventOnce: a record too large for the budget
// comes back as payloads that together hold each of its events exactly
// once, each payload again a valid subscription payload that
// fits the budget when rendered.
func TestSplitReingestsEveryEventOnce(t *testing.T) {
	d := events.CloudwatchLogsData{MessageType: cwlogs.MessageTypeData, Owner: "1", LogGroup: "g", LogStream: "s"}
	for i := range 1000 {
		d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{
			ID: string(rune('a'+i%26)) + strings.Repeat("0", i%7), Timestamp: 1714571100000 + int64(i), Message: strings.Repeat("x", i%50),
		})
	}
	payload, err := cwlogs.Encode(d)
	require.NoError(t, err)
	cfg := baseConfig(t)
	cfg.Budget = 4000
	tr := newTestTransformer(t, cfg)

	// Re-ingest until everything comes out Ok, as Firehose would.
	pending := [][]byte{payload}
	var seen []events.CloudwatchLogsLogEvent
	for rounds := 0; len(pending) > 0; rounds++ {
		require.Less(t, rounds, 100, "re-ingestion does not terminate")
		var next [][]byte
		for _, p := range pending {
			out, err := tr.Transform(context.Background(), firehose.Record{ID: "r", Data: p})
			require.NoError(t, err)
			if len(out.Reingest) > 0 {
				assert.Len(t, out.Reingest, 2)
				next = append(next, out.Reingest...)
				continue
			}
			assert.LessOrEqual(t, base64.StdEncoding.EncodedLen(len(out.Data))+1, cfg.Budget)
			back, err := cwlogs.Decode(p, 1<<30)
			require.NoError(t, err)
			seen = append(seen, back.LogEvents...)
		}
		pending = next
	}
	require.Len(t, seen, len(d.LogEvents))
	assert.ElementsMatch(t, d.LogEvents, seen)
}

// TestEncodeBoundedHalvesOversizedPayloads: a payload to re-ingest that
// compresses to more than a Firehose record holds is halved again.
func TestEncodeBoundedHalvesOversizedPayloads(t *testing.T) {
	old := maxReingest
	maxReingest = 2000
	t.Cleanup(func() { maxReingest = old })
	d := events.CloudwatchLogsData{MessageType: cwlogs.MessageTypeData, Owner: "1", LogGroup: "g", LogStream: "s"}
	for i := range 64 {
		d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{ID: "id", Timestamp: 1714571100000 + int64(i), Message: randomText(i, 200)})
	}
	payloads, err := encodeBounded(d)
	require.NoError(t, err)
	assert.Greater(t, len(payloads), 4)
	var all []events.CloudwatchLogsLogEvent
	for _, p := range payloads {
		assert.LessOrEqual(t, len(p), maxReingest)
		back, err := cwlogs.Decode(p, 1<<20)
		require.NoError(t, err)
		all = append(all, back.LogEvents...)
	}
	assert.Equal(t, d.LogEvents, all)

	d.LogEvents = d.LogEvents[:1]
	d.LogEvents[0].Message = randomText(1, 8000)
	_, err = encodeBounded(d)
	assert.ErrorIs(t, err, ErrEventTooLarge)
}

// randomText is incompressible-looking text, the same for the same seed.
func randomText(seed, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
	b := make([]byte, n)
	x := uint64(seed)*0x9e3779b97f4a7c15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = alphabet[x%uint64(len(alphabet))]
	}
	return string(b)
}

// TestTransformStopsWhenContextEnds: after the deadline a record fails
// rather than being half done.
func TestTransformStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	_, err := newTestTransformer(t, baseConfig(t)).Transform(ctx, firehose.Record{ID: "r", Data: input(t, "lines")})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
