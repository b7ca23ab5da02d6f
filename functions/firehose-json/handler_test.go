package main

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"lakestream/shared/firehose"
	"lakestream/shared/transformer/transformertest"
)

const function = "firehose-json"

// TestHandlerGolden runs the events/ sample through the handler as main
// builds it, with the template's environment and as CSV.
func TestHandlerGolden(t *testing.T) {
	transformertest.Golden(t, function, newHandler, map[string]transformertest.Case{
		"mixed": {Event: "mixed.json"},
		"csv":   {Event: "mixed.json", Env: map[string]string{"OUTPUT_FORMAT": "csv", "OUTPUT_COLUMNS": "ts,event,user_id,ip,amount,items,arrival_time"}},
	})
}

// TestHandlerMalformed: input that is not a JSON object fails its record
// alone, with the line and the reason; empty input is dropped.
func TestHandlerMalformed(t *testing.T) {
	const ok = `{"event":"login","user_id":"u-1","ts":"2024-05-01T13:00:00Z"}`
	tests := map[string]struct {
		data       string
		wantResult string
		wantError  string
	}{
		"empty record":        {data: "", wantResult: firehose.ResultDropped},
		"whitespace":          {data: " \n\t\r\n", wantResult: firehose.ResultDropped},
		"not json":            {data: "hello", wantResult: firehose.ResultProcessingFailed, wantError: "line 1: invalid JSON"},
		"truncated object":    {data: ok + "\n" + `{"event":"x",`, wantResult: firehose.ResultProcessingFailed, wantError: "line 2: invalid JSON"},
		"array":               {data: `[1,2]`, wantResult: firehose.ResultProcessingFailed, wantError: "line 1: not a JSON object: found an array"},
		"missing required":    {data: `{"user_id":"u-1"}`, wantResult: firehose.ResultProcessingFailed, wantError: `line 1: field "event": `},
		"time not a time":     {data: `{"event":"x","ts":"yesterday"}`, wantResult: firehose.ResultProcessingFailed, wantError: `field "ts": `},
		"two hours in one":    {data: ok + `{"event":"y","ts":"2024-05-01T14:00:00Z"}`, wantResult: firehose.ResultProcessingFailed, wantError: "lines of one record map to different partitions"},
		"invalid UTF-8 value": {data: "{\"event\":\"caf\xe9\",\"ts\":\"2024-05-01T13:00:00Z\"}", wantResult: firehose.ResultOk},
	}
	env := transformertest.Env(t, function, nil)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := transformertest.Transform(t, newHandler, env, tc.data)[0]
			assert.Equal(t, tc.wantResult, got.Result)
			if tc.wantError != "" {
				assert.Contains(t, got.Error, tc.wantError)
				assert.Equal(t, tc.data, got.Data, "the original goes to the error prefix")
			}
		})
	}
}

// benchLine is line i of a realistic application event stream; all in one
// hour.
func benchLine(i int) []byte {
	events := []string{"page_view", "page_view", "add_to_cart", "purchase", "login"}
	return fmt.Appendf(nil, `{"event":%q,"user_id":"u-%d","session":"s-%08x","ip":"203.0.%d.%d","ts":"2024-03-05T06:%02d:%02d.%03dZ","page":"/products/%d?ref=home","amount":%d.%02d,"items":[{"sku":"SKU-%d","qty":%d}],"ua":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"}`,
		events[i%len(events)], i%5000, i*2654435761%(1<<32), i%256, (i*7)%256, i/60%60, i%60, i%1000, i%977, i%200, i%100, i%977, 1+i%3)
}

// BenchmarkHandler measures the function on a ~1 MB batch with the
// template's settings (mask, filter, schema, partition keys, JSON out):
// records of 100 documents, and one document per record.
func BenchmarkHandler(b *testing.B) {
	env := transformertest.Env(b, function, nil)
	for _, perRecord := range []int{100, 1} {
		b.Run(fmt.Sprintf("lines-per-record=%d", perRecord), func(b *testing.B) {
			ev, lines := transformertest.Batch(benchLine, perRecord, 1<<20)
			transformertest.Benchmark(b, newHandler, env, ev, lines)
		})
	}
}
