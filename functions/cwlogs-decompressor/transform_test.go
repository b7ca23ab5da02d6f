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
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/cwlogs"
	"lakestream/shared/firehose"
	"lakestream/shared/golden"
)

// baseConfig is the default configuration, as loadConfig gives it for an
// empty environment.
func baseConfig() Config {
	return Config{Format: FormatLines, MaxDecompressed: DefaultMaxDecompressed, Budget: firehose.DefaultBudget}
}

func keys(t testing.TB, spec string) []PartitionKey {
	k, err := parsePartitionKeys(spec)
	require.NoError(t, err)
	return k
}

// TestTransformGolden runs each testdata/transform/<case> input (a .json
// document gzipped here as CloudWatch Logs would send it, or a .bin payload
// sent as it is) through the transform with the case's settings and
// compares the outcome with <case>.golden.json.
func TestTransformGolden(t *testing.T) {
	tests := map[string]struct {
		configure func(*Config)
	}{
		"lines":      {},
		"json":       {func(c *Config) { c.Format = FormatJSON }},
		"json-embed": {func(c *Config) { c.Format, c.EmbedJSON = FormatJSON, true }},
		"splunk":     {func(c *Config) { c.Format, c.Sourcetype = FormatSplunk, DefaultSourcetype }},
		"splunk-embed": {func(c *Config) {
			c.Format, c.EmbedJSON, c.Sourcetype, c.Host, c.Index = FormatSplunk, true, "aws:cloudwatchlogs:lambda", "orders-api", "lake"
		}},
		"escapes":      {func(c *Config) { c.Format = FormatJSON }},
		"include":      {func(c *Config) { c.Include = regexp.MustCompile(`\b(ERROR|WARN)\b|"level":"INFO"`) }},
		"exclude":      {func(c *Config) { c.Exclude = regexp.MustCompile(`^(START|END|REPORT) RequestId:`) }},
		"all-filtered": {func(c *Config) { c.Include = regexp.MustCompile(`CRITICAL`) }},
		"partition-keys": {func(c *Config) {
			c.Format, c.Partition = FormatJSON, keys(t, "log_group,stream=log_stream,account=owner,year,month,day,hour,dt=date")
		}},
		"partition-straddle": {func(c *Config) { c.Partition = keys(t, "log_group,dt=date,hour") }},
		"partition-same-day": {func(c *Config) { c.Partition = keys(t, "dt=date") }},
		"control":            {},
		// Budgets counted in base64 bytes plus the record id ("rec-0").
		"split":                {func(c *Config) { c.Budget = 300 }},
		"event-too-large":      {func(c *Config) { c.Budget = 150 }},
		"decompression-bomb":   {func(c *Config) { c.MaxDecompressed = 512 }},
		"not-gzip":             {},
		"truncated":            {},
		"invalid-json":         {},
		"missing-log-stream":   {},
		"unknown-message-type": {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := baseConfig()
			if tc.configure != nil {
				tc.configure(&cfg)
			}
			tr := newTransformer(cfg)
			out, err := tr.Transform(context.Background(), firehose.Record{ID: "rec-0", Data: input(t, name)})
			got := describe(t, out, err)
			got["counts"] = nonZero(tr.counts.take())
			golden.JSON(t, filepath.Join("testdata", "transform", name+".golden.json"), got)
		})
	}
}

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
	if errors.As(err, &missing) {
		return "MissingFieldError"
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
	for _, format := range []string{FormatJSON, FormatSplunk} {
		for _, embed := range []bool{false, true} {
			for _, name := range []string{"lines", "escapes"} {
				cfg := baseConfig()
				cfg.Format, cfg.EmbedJSON, cfg.Sourcetype = format, embed, DefaultSourcetype
				out, err := newTransformer(cfg).Transform(context.Background(), firehose.Record{ID: "r", Data: input(t, name)})
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
	cfg := baseConfig()
	cfg.Budget = 4000
	tr := newTransformer(cfg)

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
	_, err := newTransformer(baseConfig()).Transform(ctx, firehose.Record{ID: "r", Data: input(t, "lines")})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestSizeBoundsRendering: the size the transform allocates and decides
// by is exact without embedding, and bounds the rendering with it, so no
// record that would fit is split and no buffer regrows.
func TestSizeBoundsRendering(t *testing.T) {
	for _, name := range []string{"lines", "escapes", "split", "partition-straddle"} {
		d, err := cwlogs.Decode(input(t, name), 1<<20)
		require.NoError(t, err)
		d.LogEvents = append(d.LogEvents,
			events.CloudwatchLogsLogEvent{ID: "neg", Timestamp: -1, Message: " \n{\"pretty\": [1, 2]}\n"},
			events.CloudwatchLogsLogEvent{ID: "neg2", Timestamp: -1714571100001, Message: "{not json"})
		for _, format := range []string{FormatLines, FormatJSON, FormatSplunk} {
			for _, embed := range []bool{false, true} {
				r := renderer{format: format, embedJSON: embed && format != FormatLines, sourcetype: DefaultSourcetype}
				f := r.frame(&d)
				var out []byte
				for i := range d.LogEvents {
					out = r.appendEvent(out, f, &d.LogEvents[i])
				}
				lower, capacity := r.size(f, d.LogEvents)
				if !r.embedJSON {
					assert.Equal(t, len(out), lower, "%s %s exact", name, format)
					assert.Equal(t, len(out), capacity, "%s %s exact", name, format)
					continue
				}
				assert.LessOrEqual(t, lower, len(out), "%s %s embedded: lower bound", name, format)
				assert.GreaterOrEqual(t, capacity, len(out), "%s %s embedded: enough capacity", name, format)
			}
		}
	}
}
