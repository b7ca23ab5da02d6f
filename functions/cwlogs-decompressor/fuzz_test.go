package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
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
	"lakestream/shared/pipeline"
)

// fuzzConfig picks one of the settings the fuzzer explores: every format,
// with and without embedding, partition keys, a filter, a small budget and
// a small decompression cap.
func fuzzConfig(t testing.TB, variant uint8) Config {
	format := []string{"lines", "json", "splunk"}[variant%3]
	env := map[string]string{"OUTPUT_FORMAT": format, "MAX_DECOMPRESSED_BYTES": "64KiB"}
	if format != "lines" && variant&4 != 0 {
		env["EMBED_JSON_MESSAGE"] = "true"
	}
	if variant&8 != 0 {
		env["PARTITION_KEYS"] = "log_group,s=log_stream,owner,dt=date,hour"
	}
	if variant&16 != 0 {
		env["EXCLUDE_PATTERN"] = "x"
	}
	c := testConfig(t, env)
	if variant&32 != 0 {
		c.Budget = 600
	}
	return c
}

// fuzzTransformers holds one transformer per variant: building one (the
// settings, the pipeline's plan, the regexp) would cost more than most
// executions.
var fuzzTransformers sync.Map

func fuzzTransformer(t testing.TB, variant uint8, cfg Config) *transformer {
	if tr, ok := fuzzTransformers.Load(variant); ok {
		return tr.(*transformer)
	}
	tr, _ := fuzzTransformers.LoadOrStore(variant, newTestTransformer(t, cfg))
	return tr.(*transformer)
}

var safePartitionValue = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$`)

// FuzzTransform checks that the transform never panics, fails only with a
// documented error, and that what it returns is right: every kept event
// exactly once (rendered, or in a re-ingested payload), every json and
// splunk line one JSON object carrying the message, the output within the
// budget, partition values safe for an S3 key.
func FuzzTransform(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input it finds, trying
	// every pair of bytes to cut, so its cost grows with the square of the
	// input's size.
	seeds := []string{
		`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/a","logStream":"s","logEvents":[` +
			`{"id":"1","timestamp":1714575599999,"message":"{\"a\":[1]}"},{"id":"2","timestamp":1714575600000,"message":"x\t\udc00<"}]}`,
		`{"messageType":"CONTROL_MESSAGE","owner":"C","logEvents":[{"id":"","timestamp":1,"message":"c"}]}`,
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
			payload = storedGzip(data)
		}
		cfg := fuzzConfig(t, variant)
		tr := fuzzTransformer(t, variant, cfg)
		out, err := tr.Transform(context.Background(), firehose.Record{ID: "r", Data: payload})
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
			for k, v := range out.PartitionKeys {
				assert.True(t, v == pipeline.HiveDefaultPartition || safePartitionValue.MatchString(v), "key %s=%q", k, v)
			}
		}
		// The pipeline writes the events straight from the payload; the
		// record path must agree with it byte for byte.
		if len(kept) > 0 {
			in.LogEvents = kept
			opts := pipeline.RunOptions{Limit: 4000}
			direct, errDirect := tr.pipe.Run(context.Background(), eventsOf(&in), time.Time{}, opts)
			opts.Record = true
			viaRecords, errRecords := tr.pipe.Run(context.Background(), eventsOf(&in), time.Time{}, opts)
			assert.Equal(t, errRecords, errDirect)
			assert.Equal(t, viaRecords, direct)
		}
	})
}

// storedGzip wraps b in gzip without compressing it, written by hand:
// compressing would make nearly every input reach new code in the
// compressor, which the fuzzer would spend its time minimizing, and
// compress/flate's writer allocates over 600 KiB of hash tables even to
// store, which made every execution take about a millisecond. (Those two
// kept FuzzTransform near 50 executions in 30 seconds.)
func storedGzip(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/65535*5+32)
	out = append(out, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff) // deflate, no flags, no time, unknown OS
	rest := b
	for {
		n := min(len(rest), 0xffff)
		final := byte(0)
		if n == len(rest) {
			final = 1
		}
		out = append(out, final) // a stored block (BTYPE 00)
		out = binary.LittleEndian.AppendUint16(out, uint16(n))
		out = binary.LittleEndian.AppendUint16(out, ^uint16(n))
		out = append(out, rest[:n]...)
		if rest = rest[n:]; final == 1 {
			break
		}
	}
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(b))
	return binary.LittleEndian.AppendUint32(out, uint32(len(b)))
}

// checkRendered checks data against the events it renders.
func checkRendered(t *testing.T, cfg Config, kept []events.CloudwatchLogsLogEvent, data []byte) {
	t.Helper()
	if cfg.Pipeline.OutputFormat == pipeline.FormatLines {
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
		if cfg.Pipeline.OutputFormat == pipeline.FormatSplunk {
			key = "event"
		}
		if s, isString := obj[key].(string); isString || !cfg.Pipeline.EmbedJSON {
			assert.Equal(t, kept[i].Message, s)
		}
	}
}
