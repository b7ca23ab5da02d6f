package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
	"lakestream/shared/benchdata"
	"lakestream/shared/config"
	"lakestream/shared/metrics"
)

// prereadConfigs are the settings the one-pass handler is checked in: the
// envelope of both images, and the item through the pipeline's stages
// (which write after the lines of later records).
func prereadConfigs(t testing.TB) map[string]Config {
	prereadOnce.Do(func() { prereadCfgs = makePrereadConfigs(t) })
	return prereadCfgs
}

var (
	prereadOnce sync.Once
	prereadCfgs map[string]Config
)

func makePrereadConfigs(t testing.TB) map[string]Config {
	env := config.New(config.FromMap(map[string]string{
		"DELIVERY_STREAM": "lake", "OUTPUT_SHAPE": "item", "REMOVES": "skip-ttl",
		"MASK_FIELDS": "k=hash", "HASH_SALT": "s", "DROP_IF": "k=drop", "SCHEMA": "n:float:0..",
	}))
	staged := loadConfig(env)
	require.NoError(t, env.Err())
	staged.Retry = instant(3)
	return map[string]Config{
		"envelope": {DeliveryStream: "lake", Convert: both, Retry: instant(3)},
		"staged":   staged,
	}
}

// handled is what one invocation did: the response or error, the lines
// Firehose took, and the failed records' warnings.
type handled struct {
	Response string
	Err      string
	Lines    map[string][][]byte
	Warnings []map[string]any
}

func handle(t *testing.T, h *batch.Handler, fh *fakeFirehose, out *bytes.Buffer, raw []byte) handled {
	t.Helper()
	resp, err := h.Handle(context.Background(), raw)
	var r handled
	if err != nil {
		r.Err = err.Error()
	}
	b, jerr := json.Marshal(resp)
	require.NoError(t, jerr)
	r.Response, r.Lines = string(b), fh.accepted
	for line := range strings.Lines(out.String()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		if m["msg"] == "record failed" {
			delete(m, "time")
			r.Warnings = append(r.Warnings, m)
		}
	}
	return r
}

// assertSamePreread checks that the handler, which converts records while
// the adapter decodes the request, does for raw exactly what it does when
// each record is converted on its own after decoding (Converter.convert,
// whose agreement with encoding/json FuzzConvertAsEncodingJSON holds).
func assertSamePreread(t *testing.T, raw []byte) {
	for name, cfg := range prereadConfigs(t) {
		var out1, out2 bytes.Buffer
		fh1, fh2 := newFakeFirehose(), newFakeFirehose()
		log1 := slog.New(slog.NewJSONHandler(&out1, nil))
		log2 := slog.New(slog.NewJSONHandler(&out2, nil))
		one := newHandler(cfg, fh1, nil, log1, metrics.New(&out1, "test"))
		f := newForwarder(cfg, fh2, nil, log2, metrics.New(&out2, "test"))
		two := batch.New(f.start, batch.WithNoun("records"), batch.WithLogger(log2), batch.WithMetrics(metrics.New(&out2, "test")))
		assertSameRecords(t, &cfg.Convert, raw)
		for round := range 2 { // the second with the first's scratch
			got, want := handle(t, one, fh1, &out1, raw), handle(t, two, fh2, &out2, raw)
			require.Equal(t, want, got, "%s, round %d: %q", name, round, raw)
			out1.Reset()
			out2.Reset()
		}
	}
}

// assertSameRecords checks that each record preread converts is the
// Record, line and error that Converter.convert makes of it after
// decoding.
func assertSameRecords(t *testing.T, c *Converter, raw []byte) {
	t.Helper()
	f := &forwarder{convert: *c}
	inv, err := batch.DecodeWith(raw, f.newPreread(len(raw)))
	if err != nil {
		return
	}
	p, ok := inv.StreamReader.(*preread)
	if !ok {
		return
	}
	s := p.done(len(inv.Items))
	for i, it := range inv.Items {
		if !it.Stream.Read {
			continue
		}
		got, gotErr := s.recs[i], s.errs[i]
		if s.itemID[i] {
			got.ID = it.ID
		}
		want, _, wantErr := c.convert(nil, it.Stream.JSON, it.ID)
		require.Equal(t, want, got, "record %d of %q", i, raw)
		if wantErr == nil {
			require.NoError(t, gotErr, "record %d of %q", i, raw)
		} else {
			require.EqualError(t, gotErr, wantErr.Error(), "record %d of %q", i, raw)
		}
	}
}

// prereadSeeds are events: every events/ sample, and each record of the
// conversion seeds between two plain ones.
func prereadSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	files, err := filepath.Glob(filepath.Join(eventsDir(t), "*.json"))
	require.NoError(t, err)
	for _, path := range files {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		seeds = append(seeds, raw)
	}
	plain := corners["plain"].in
	for _, rec := range convertSeeds(t) {
		seeds = append(seeds, []byte(`{"Records":[`+plain+`,`+string(rec)+`,`+plain+`]}`))
	}
	return append(seeds,
		[]byte(`{"Records":[`+plain+`],"Records":[`+plain+`,null]}`),
		[]byte(`{"Records":[`+plain+`,{"eventSource":"aws:dynamodb","dynamodb":{"SequenceNumber":"2",}}]}`),
		[]byte(`{"Records":[{"eventSource":"aws:kinesis","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","kinesis":{"sequenceNumber":"9"},"kinesis":null,"kinesis":{"data":"aGk="}},{"eventSource":"aws:kinesis","eventSourceARN":"x","kinesis":{"sequenceNumber":"8"},"kinesis":null,"kinesis":{"data":"aGk="}},{"eventSource":"aws:dynamodb",`+arn+`,"kinesis":{"sequenceNumber":"7"}},{"eventSource":"aws:kinesis","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","kinesis":{"sequenceNumber":"9","sequenceNumber":""}}]}`),
		[]byte(`{"Records":[{"eventSource":"aws:dynamodb",`+arn+`,"dynamodb":{"Keys":{"k":{"S":"drop"}},"SequenceNumber":"1"}},{"eventSource":"aws:dynamodb",`+arn+`,"dynamodb":{"Keys":{"k":{"S":"a"}},"NewImage":{"k":{"S":"a"},"n":{"N":"-1"}},"SequenceNumber":"2"}},`+plain+`]}`),
	)
}

// TestPreread: converting records in the adapter's pass changes nothing.
func TestPreread(t *testing.T) {
	for _, raw := range prereadSeeds(t) {
		assertSamePreread(t, raw)
	}
}

// FuzzPreread: for any event, converting records in the adapter's pass
// changes nothing (assertSamePreread).
func FuzzPreread(f *testing.F) {
	for _, raw := range prereadSeeds(f) {
		f.Add(raw)
	}
	f.Fuzz(assertSamePreread)
}

// TestPrereadConcurrent: invocations at once (tests do it; Lambda runs
// one at a time) each convert into their own scratch, taken at decoding.
func TestPrereadConcurrent(t *testing.T) {
	raw := benchdata.DynamoDB(50)
	fh := newFakeFirehose()
	h := testHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(3)}, fh, nil, nil)
	alone := newFakeFirehose()
	_, err := testHandler(Config{DeliveryStream: "lake", Convert: both, Retry: instant(3)}, alone, nil, nil).Handle(context.Background(), raw)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				resp, err := h.Handle(context.Background(), raw)
				assert.NoError(t, err)
				assert.Empty(t, failures(t, resp))
			}
		})
	}
	wg.Wait()
	got := map[string]int{}
	for _, line := range fh.accepted["lake"] {
		got[string(line)]++
	}
	require.Len(t, alone.accepted["lake"], 50)
	for _, line := range alone.accepted["lake"] {
		assert.Equal(t, 20, got[string(line)], "each line once per invocation")
	}
}
