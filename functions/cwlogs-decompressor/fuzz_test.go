package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/cwlogs"
	"lakestream/shared/firehose"
)

// fuzzConfig picks one of the settings the fuzzer explores: every format,
// with and without embedding, partition keys, a filter, a small budget and
// a small decompression cap.
func fuzzConfig(t testing.TB, variant uint8) Config {
	c := baseConfig()
	c.Format = []string{FormatLines, FormatJSON, FormatSplunk}[variant%3]
	c.EmbedJSON = c.Format != FormatLines && variant&4 != 0
	if c.Format == FormatSplunk {
		c.Sourcetype = DefaultSourcetype
	}
	if variant&8 != 0 {
		c.Partition = keys(t, "log_group,s=log_stream,owner,dt=date,hour")
	}
	if variant&16 != 0 {
		c.Exclude = regexp.MustCompile(`x`)
	}
	if variant&32 != 0 {
		c.Budget = 600
	}
	c.MaxDecompressed = 64 << 10
	return c
}

var safePartitionValue = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$`)

// FuzzTransform checks that the transform never panics, fails only with a
// documented error, and that what it returns is right: every kept event
// exactly once (rendered, or in a re-ingested payload), every json and
// splunk line one JSON object carrying the message, the output within the
// budget, partition values safe for an S3 key.
func FuzzTransform(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input it finds, at a cost
	// that grows with the square of its size.
	seeds := []string{
		`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/x","logStream":"s/1","logEvents":[` +
			`{"id":"1","timestamp":1714575599999,"message":"{\"a\": [1, {\"b\":null}]}"},` +
			`{"id":"2","timestamp":1714575600000,"message":"x\ty\"\u0001\udc00<>"}]}`,
		`{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","logEvents":[{"id":"","timestamp":1,"message":"c"}]}`,
		`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":-1,"message":""}]}`,
	}
	for i, doc := range seeds {
		for v := range uint8(64) {
			if int(v)%5 == i%5 {
				f.Add([]byte(doc), true, v)
			}
		}
	}
	f.Add(gz(f, []byte(seeds[0])), false, uint8(1))
	f.Add([]byte("not gzip"), false, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, compress bool, variant uint8) {
		payload := data
		if compress {
			payload = storedGzip(t, data)
		}
		cfg := fuzzConfig(t, variant)
		out, err := newTransformer(cfg).Transform(context.Background(), firehose.Record{ID: "r", Data: payload})
		if err != nil {
			assert.NotEqual(t, "other", errorKind(err), "undocumented error %v", err)
			return
		}
		in, err := cwlogs.Decode(payload, cfg.MaxDecompressed)
		require.NoError(t, err, "the transform accepted what Decode rejects")
		if in.MessageType == cwlogs.MessageTypeControl {
			assert.True(t, out.Drop)
			return
		}
		var kept []events.CloudwatchLogsLogEvent
		for _, ev := range in.LogEvents {
			if cfg.Exclude == nil || !cfg.Exclude.MatchString(ev.Message) {
				kept = append(kept, ev)
			}
		}
		switch {
		case out.Drop:
			assert.Empty(t, kept)
		case len(out.Reingest) > 0:
			var back []events.CloudwatchLogsLogEvent
			for _, p := range out.Reingest {
				d, err := cwlogs.Decode(p, 1<<30)
				require.NoError(t, err)
				assert.Equal(t, in.LogGroup, d.LogGroup)
				back = append(back, d.LogEvents...)
			}
			assert.ElementsMatch(t, kept, back)
		default:
			assert.LessOrEqual(t, base64.StdEncoding.EncodedLen(len(out.Data))+1, cfg.Budget)
			checkRendered(t, cfg, kept, out.Data)
			r := newRenderer(cfg)
			lower, capacity := r.size(r.frame(&in), kept)
			assert.LessOrEqual(t, lower, len(out.Data), "size's lower bound")
			assert.GreaterOrEqual(t, capacity, len(out.Data), "size's capacity")
			for k, v := range out.PartitionKeys {
				assert.True(t, v == hiveDefaultPartition || safePartitionValue.MatchString(v), "key %s=%q", k, v)
			}
		}
	})
}

// storedGzip wraps b in gzip without compressing it. Compressing with
// deflate would make nearly every input reach new code in the compressor,
// and the fuzzer would spend its time minimizing those instead of
// exploring the transform.
func storedGzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	require.NoError(t, err)
	_, err = w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// checkRendered checks data against the events it renders.
func checkRendered(t *testing.T, cfg Config, kept []events.CloudwatchLogsLogEvent, data []byte) {
	t.Helper()
	if cfg.Format == FormatLines {
		var want strings.Builder
		for _, ev := range kept {
			want.WriteString(ev.Message + "\n")
		}
		assert.Equal(t, want.String(), string(data))
		return
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	require.Len(t, lines, len(kept))
	for i, line := range lines {
		var obj map[string]any
		require.NoError(t, json.Unmarshal(line, &obj), "line %d: %s", i, line)
		key := "message"
		if cfg.Format == FormatSplunk {
			key = "event"
		}
		if s, isString := obj[key].(string); isString || !cfg.EmbedJSON {
			assert.Equal(t, kept[i].Message, s)
		}
	}
}
