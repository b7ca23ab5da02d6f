package main

import (
	"fmt"
	"strings"
	"testing"

	"lakestream/shared/firehose"
	"lakestream/shared/transformer/transformertest"
)

const function = "firehose-cloudfront"

// TestHandlerGolden runs the events/ sample through the handler as main
// builds it: with the template's environment, without the derived user
// agent fields, and as TSV in the documented column order.
func TestHandlerGolden(t *testing.T) {
	transformertest.Golden(t, function, newHandler, map[string]transformertest.Case{
		"standard-log":         {Event: "standard-log.json"},
		"no-derived-fields":    {Event: "standard-log.json", Env: map[string]string{"DERIVE_USER_AGENT": "false", "MASK_FIELDS": "c_ip=truncate-ip"}},
		"tsv-documented-order": {Event: "standard-log.json", Env: map[string]string{"OUTPUT_FORMAT": "tsv", "ARRIVAL_TIME_FIELD": ""}},
	})
}

// line is a well-formed current-layout line with one field replaced.
func line(k int, v string) string {
	f := strings.Split("2024-03-05\t06:07:08\tFRA56-P1\t1024\t192.0.2.10\tGET\td111111abcdef8.cloudfront.net\t/\t200\t-\tcurl/8.5.0\t-\t-\tHit\tid==\twww.example.com\thttps\t312\t0.002\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tHit\tHTTP/2.0\t-\t-\t51234\t0.001\tHit\ttext/html\t812\t-\t-", "\t")
	if k >= 0 {
		f[k] = v
	}
	return strings.Join(f, "\t")
}

// TestHandlerMalformed: input that is not a CloudFront log fails its
// record alone, with the line and the reason; headers alone are dropped.
func TestHandlerMalformed(t *testing.T) {
	tests := map[string]transformertest.Malformed{
		"empty record":        {Data: "", WantResult: firehose.ResultDropped},
		"headers only":        {Data: "#Version: 1.0\n#Fields: date time\n", WantResult: firehose.ResultDropped},
		"access log line":     {Data: `192.0.2.1 - - [05/Mar/2024:06:07:08 +0000] "GET / HTTP/1.1" 200 10`, WantResult: firehose.ResultProcessingFailed, WantError: "line 1: cloudfront: malformed line: 1 tab-separated fields, want at least 12"},
		"gzip bytes":          {Data: "\x1f\x8b\x08\x00\x00\x00\x00\x00", WantResult: firehose.ResultProcessingFailed, WantError: "line 1: cloudfront: malformed line: 1 tab-separated fields"},
		"missing fields":      {Data: strings.Join(strings.Split(line(-1, ""), "\t")[:11], "\t"), WantResult: firehose.ResultProcessingFailed, WantError: "11 tab-separated fields, want at least 12"},
		"bad bytes on line 3": {Data: line(-1, "") + "\n#Fields: x\n" + line(3, "1k"), WantResult: firehose.ResultProcessingFailed, WantError: `line 3: cloudfront: malformed line: sc-bytes (value withheld: MASK_FIELDS) is not a whole number`}, // the template masks c_ip: a parse error quotes no value
		"schema violation":    {Data: line(8, "700"), WantResult: firehose.ResultProcessingFailed, WantError: `line 1: field "sc_status": `},
		"dashes everywhere":   {Data: line(9, "-"), WantResult: firehose.ResultOk},
	}
	transformertest.CheckMalformed(t, function, newHandler, tests)
}

// benchLine is line i of a realistic CloudFront log: browser and bot user
// agents (URL-encoded), hits and misses, a query now and then, IPv6
// viewers; all in one hour.
func benchLine(i int) []byte {
	agents := []string{
		"Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/124.0.0.0%20Safari/537.36",
		"Mozilla/5.0%20(iPhone;%20CPU%20iPhone%20OS%2017_4%20like%20Mac%20OS%20X)%20AppleWebKit/605.1.15%20(KHTML,%20like%20Gecko)%20Version/17.4%20Mobile/15E148%20Safari/604.1",
		"Mozilla/5.0%20(compatible;%20Googlebot/2.1;%20+http://www.google.com/bot.html)",
		"curl/8.5.0",
	}
	results := []string{"Hit", "Hit", "Miss", "RefreshHit", "Error"}
	paths := []string{"/", "/index.html", "/static/app.3f9a1c.js", "/images/hero.jpg", "/api/v1/items"}
	queries := []string{"-", "-", "id=42&sort=desc", "q=lake%2520stream"}
	ip := fmt.Sprintf("203.0.%d.%d", i%256, (i*11)%256)
	if i%5 == 0 {
		ip = fmt.Sprintf("2001:db8:%x::%x", i%4096, i%65536)
	}
	r := results[i%len(results)]
	return fmt.Appendf(nil, "2024-03-05\t06:%02d:%02d\tFRA56-P%d\t%d\t%s\tGET\td111111abcdef8.cloudfront.net\t%s\t200\t-\t%s\t%s\t-\t%s\treq%08dAbCdEfGhIjKlMnOpQrStUvWxYz0123456789==\twww.example.com\thttps\t%d\t0.%03d\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\t%s\tHTTP/2.0\t-\t-\t%d\t0.%03d\t%s\ttext/html\t%d\t-\t-",
		i/60%60, i%60, i%9, 400+i*13, ip, paths[i%len(paths)], agents[i%len(agents)], queries[i%len(queries)],
		r, i, 300+i%200, i%1000, r, 1024+i*31%60000, i%997, r, 800+i)
}

// BenchmarkHandler measures the function on a ~1 MB batch with the
// template's settings (derived user agent, mask, filter, schema, partition
// keys, JSON out): records of 100 lines, and one line per record.
func BenchmarkHandler(b *testing.B) {
	env := transformertest.Env(b, function, nil)
	for _, perRecord := range []int{100, 1} {
		b.Run(fmt.Sprintf("lines-per-record=%d", perRecord), func(b *testing.B) {
			request, lines := transformertest.Batch(benchLine, perRecord, 1<<20)
			transformertest.Benchmark(b, newHandler, env, request, lines)
		})
	}
}
