package main

import (
	"bytes"
	"fmt"
	"maps"
	"testing"

	"lakestream/shared/benchdata"
	"lakestream/shared/firehose"
	"lakestream/shared/transformer/transformertest"
)

const function = "firehose-accesslog"

// TestHandlerGolden runs the events/ samples through the handler as main
// builds it, with the template's environment and with CSV and TSV output.
func TestHandlerGolden(t *testing.T) {
	transformertest.Golden(t, function, newHandler, map[string]transformertest.Case{
		"combined":       {Event: "combined.json"},
		"kinesis-source": {Event: "kinesis-source.json"},
		"csv":            {Event: "kinesis-source.json", Env: map[string]string{"OUTPUT_FORMAT": "csv"}},
		"tsv-hashed-user": {Event: "combined.json", Env: map[string]string{
			"OUTPUT_FORMAT": "tsv", "OUTPUT_COLUMNS": "time,remote_host,user,method,path,query,status,bytes,user_agent",
			"MASK_FIELDS": "remote_host=truncate-ip,user=hash", "HASH_SALT": "pepper",
		}},
	})
}

const okLine = `192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1" 200 10 "-" "curl/8.5.0"`

// TestHandlerMalformed: input that is not an access log fails its record
// alone, with the line and the reason; empty input is dropped.
func TestHandlerMalformed(t *testing.T) {
	tests := map[string]transformertest.Malformed{
		"empty record":       {Data: "", WantResult: firehose.ResultDropped},
		"blank lines":        {Data: "\n \r\n\t\n", WantResult: firehose.ResultDropped},
		"binary":             {Data: "\x00\x01\xff\xfe", WantResult: firehose.ResultProcessingFailed, WantError: "line 1: accesslog: malformed line: no [time] field"},
		"json line":          {Data: `{"status":200}`, WantResult: firehose.ResultProcessingFailed, WantError: "line 1: accesslog: malformed line: no [time] field"},
		"error log line":     {Data: "[Tue Mar 05 06:07:08.123456 2024] [core:error] [pid 42] AH00037: Symbolic link not allowed", WantResult: firehose.ResultProcessingFailed, WantError: "line 1: accesslog: malformed line: more than 4 fields before the [time]"},
		"truncated 3rd line": {Data: okLine + "\n" + okLine + "\n" + okLine[:60], WantResult: firehose.ResultProcessingFailed, WantError: `line 3: accesslog: malformed line: line ends after the request`},
		"missing fields":     {Data: `192.0.2.1 - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1" 200 10`, WantResult: firehose.ResultProcessingFailed, WantError: "want 3 (host ident user)"},
		"schema violation":   {Data: `192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1" 700 10`, WantResult: firehose.ResultProcessingFailed, WantError: `line 1: field "status": `},
		"valid after errors": {Data: okLine, WantResult: firehose.ResultOk},
	}
	transformertest.CheckMalformed(t, function, newHandler, tests)
}

// benchLine is line i of a realistic access log: browsers and bots, IPv4
// and IPv6, queries, 304s without a body, an escaped agent now and then,
// every tenth line in the vhost format; all in one hour, as a batching
// producer's record is.
func benchLine(i int) []byte {
	agents := []string{
		`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36`,
		`Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1`,
		`Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)`,
		`curl/8.5.0`,
		`Mozilla/5.0 \"quoted\" agent`,
	}
	paths := []string{"/", "/index.html", "/api/v1/items?id=42&sort=desc", "/static/app.3f9a1c.js", "/search?q=lake+stream"}
	statuses := []string{"200 5120", "200 812", "304 -", "404 153", "301 0", "200 20480", "500 97"}
	host := fmt.Sprintf("203.0.%d.%d", i%256, (i*7)%256)
	if i%5 == 0 {
		host = fmt.Sprintf("2001:db8:%x::%x", i%4096, i%65536)
	}
	line := fmt.Sprintf(`%s - - [05/Mar/2024:06:%02d:%02d +0000] "GET %s HTTP/1.1" %s "https://www.example.com/" "%s"`,
		host, i/60%60, i%60, paths[i%len(paths)], statuses[i%len(statuses)], agents[i%len(agents)])
	if i%10 == 0 {
		line = "www.example.com:443 " + line
	}
	return []byte(line)
}

// referenceBatch is the access-log batch of the reference implementations
// (../shared/bench/gen_batches.py, accesslog-1mb.json) as benchdata
// rebuilds it, so that the benchmark depends on nothing outside the
// repository, and its number of lines, one a record.
func referenceBatch() ([]byte, int) {
	request := benchdata.AccessLog(1_000_000)
	return request, bytes.Count(request, []byte(`"recordId"`))
}

// BenchmarkHandler measures whole invocations (request bytes in, response
// bytes out) with the template's settings (mask, filter, schema, partition
// keys, JSON out): on the reference implementations' batch, and on ~1 MB
// batches of records of 100 lines and of one line. reference-1mb-parse-only
// does on the reference batch only what the Python blueprint approach does
// (parse each line, write it as JSON), with every optional stage off.
func BenchmarkHandler(b *testing.B) {
	env := transformertest.Env(b, function, nil)
	b.Run("reference-1mb", func(b *testing.B) {
		request, lines := referenceBatch()
		transformertest.Benchmark(b, newHandler, env, request, lines)
	})
	b.Run("reference-1mb-parse-only", func(b *testing.B) {
		request, lines := referenceBatch()
		bare := maps.Clone(env)
		for _, name := range []string{"ARRIVAL_TIME_FIELD", "PARTITION_KEYS", "MASK_FIELDS", "DROP_IF", "SCHEMA"} {
			delete(bare, name)
		}
		transformertest.Benchmark(b, newHandler, bare, request, lines)
	})
	for _, perRecord := range []int{100, 1} {
		b.Run(fmt.Sprintf("lines-per-record=%d", perRecord), func(b *testing.B) {
			request, lines := transformertest.Batch(benchLine, perRecord, 1<<20)
			transformertest.Benchmark(b, newHandler, env, request, lines)
		})
	}
}
