package main

import (
	"fmt"
	"testing"

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
	tests := map[string]transformertest.Malformed{
		"empty record":        {Data: "", WantResult: firehose.ResultDropped},
		"whitespace":          {Data: " \n\t\r\n", WantResult: firehose.ResultDropped},
		"not json":            {Data: "hello", WantResult: firehose.ResultProcessingFailed, WantError: "line 1: invalid JSON"},
		"truncated object":    {Data: ok + "\n" + `{"event":"x",`, WantResult: firehose.ResultProcessingFailed, WantError: "line 2: invalid JSON"},
		"array":               {Data: `[1,2]`, WantResult: firehose.ResultProcessingFailed, WantError: "line 1: not a JSON object: found an array"},
		"missing required":    {Data: `{"user_id":"u-1"}`, WantResult: firehose.ResultProcessingFailed, WantError: `line 1: field "event": `},
		"time not a time":     {Data: `{"event":"x","ts":"yesterday"}`, WantResult: firehose.ResultProcessingFailed, WantError: `field "ts": `},
		"two hours in one":    {Data: ok + `{"event":"y","ts":"2024-05-01T14:00:00Z"}`, WantResult: firehose.ResultProcessingFailed, WantError: "lines of one record map to different partitions"},
		"invalid UTF-8 value": {Data: "{\"event\":\"caf\xe9\",\"ts\":\"2024-05-01T13:00:00Z\"}", WantResult: firehose.ResultOk},
	}
	transformertest.CheckMalformed(t, function, newHandler, tests)
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
			request, lines := transformertest.Batch(benchLine, perRecord, 1<<20)
			transformertest.Benchmark(b, newHandler, env, request, lines)
		})
	}
}
