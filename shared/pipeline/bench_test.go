package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lakestream/shared/firehose"
	"lakestream/shared/record"
)

// benchLines is the number of lines in a benchmark record: ~500 access-log
// lines is a typical well-batched Firehose record of about 100 KB.
const benchLines = 500

var accessFields = []string{"time", "remote_host", "user", "method", "uri", "status", "bytes", "referer", "user_agent"}

// parseFields is a trivial parser: space-separated values in a fixed field
// order, all strings. It stands for the cheapest real parser.
func parseFields(line []byte) (*record.Record, error) {
	r := record.New(len(accessFields))
	i := 0
	for v := range bytes.FieldsSeq(line) {
		if i == len(accessFields) {
			return nil, fmt.Errorf("more than %d fields", len(accessFields))
		}
		r.Fields = append(r.Fields, record.Field{Name: accessFields[i], Value: string(v)})
		i++
	}
	return r, nil
}

func benchData(json bool) []byte {
	var b strings.Builder
	methods := []string{"GET", "GET", "GET", "POST", "HEAD"}
	for i := range benchLines {
		t := fmt.Sprintf("2024-03-05T06:%02d:%02d.%03dZ", i/60%60, i%60, i%1000)
		ip := fmt.Sprintf("203.0.%d.%d", i%256, (i*7)%256)
		user, method := fmt.Sprintf("user%d", i%50), methods[i%len(methods)]
		uri := fmt.Sprintf("/api/v1/orders/%d?page=%d&sort=desc", i*31, i%9)
		ua := "Mozilla/5.0_(X11;_Linux_x86_64)_AppleWebKit/537.36_(KHTML,_like_Gecko)_Chrome/122.0.0.0_Safari/537.36"
		if json {
			fmt.Fprintf(&b, `{"time":%q,"remote_host":%q,"user":%q,"method":%q,"uri":%q,"status":%d,"bytes":%d,"referer":"https://example.com/","user_agent":%q}`+"\n",
				t, ip, user, method, uri, 200+i%3, 512+i, ua)
		} else {
			fmt.Fprintf(&b, "%s %s %s %s %s %d %d https://example.com/ %s\n", t, ip, user, method, uri, 200+i%3, 512+i, ua)
		}
	}
	return []byte(b.String())
}

// allStages is a realistic configuration with every stage on.
var allStages = Options{
	ArrivalTimeField: "received_at",
	MaskFields:       "remote_host=truncate-ip,user=hash,referer=drop",
	HashSalt:         "pepper",
	DropIf:           "method=HEAD,uri^=/health",
	Schema:           "time:timestamp:required,method:string:required,user_agent:string:max=512",
	TimeField:        "time",
	PartitionKeys:    "year,month,day,hour",
}

func BenchmarkTransform(b *testing.B) {
	tests := map[string]struct {
		parse Parser
		json  bool
		opts  Options
	}{
		"fields/bare":       {parse: parseFields},
		"fields/all-stages": {parse: parseFields, opts: allStages},
		"fields/csv":        {parse: parseFields, opts: Options{OutputFormat: FormatCSV, OutputColumns: strings.Join(accessFields, ",")}},
		"json/bare":         {parse: ParseJSON, json: true},
		"json/all-stages":   {parse: ParseJSON, json: true, opts: allStages},
	}
	for name, tc := range tests {
		b.Run(name, func(b *testing.B) {
			p, err := New(tc.parse, tc.opts)
			require.NoError(b, err)
			r := firehose.Record{Data: benchData(tc.json), ArrivalTime: arrival}
			ctx := context.Background()
			out, err := p.Transform(ctx, r)
			require.NoError(b, err)
			require.NotEmpty(b, out.Data)
			b.SetBytes(int64(len(r.Data)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.Transform(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchLines), "ns/line")
		})
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	r, err := ParseJSON(bytes.SplitN(benchData(true), []byte{'\n'}, 2)[0])
	require.NoError(b, err)
	buf, err := AppendJSON(nil, r)
	require.NoError(b, err)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = AppendJSON(buf[:0], r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseJSON(b *testing.B) {
	line := bytes.SplitN(benchData(true), []byte{'\n'}, 2)[0]
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseJSON(line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransformEvents transforms Firehose records of one JSON
// application event each, as firehose-json's standard batch holds them,
// with the template's settings for firehose-json: the per-record cost of
// reading, the stages and writing, apart from the Firehose framework.
func BenchmarkTransformEvents(b *testing.B) {
	p, err := NewInto(ParseJSONInto, Options{
		Split: SplitJSON, ArrivalTimeField: "arrival_time", TimeField: "ts", PartitionKeys: "year,month,day,hour",
		MaskFields: "ip=truncate-ip", DropIf: "event=healthcheck", Schema: "event:string:required,user_id:string:max=128,ts:timestamp",
	})
	require.NoError(b, err)
	events := []string{"page_view", "page_view", "page_view", "add_to_cart", "purchase", "login"}
	agents := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"curl/8.5.0",
	}
	records := make([]firehose.Record, 1000)
	size := 0
	for i := range records {
		var items []string
		for k := range 1 + i%3 {
			items = append(items, fmt.Sprintf(`{"sku":"SKU-%05d","qty":%d,"price":%d.%02d}`, i*7+k, 1+k, 1+i%500, i%100))
		}
		doc := fmt.Sprintf(`{"event":"%s","user_id":"u-%d","session":"s-%016x","ip":"203.0.%d.%d","ts":"2024-03-05T06:%02d:%02d.%03dZ","page":"/products/%d?ref=home","referrer":"https://www.example.com/","amount":%d.%02d,"items":[%s],"ua":"%s"}`+"\n",
			events[i%len(events)], i*37%50000, uint64(i)*0x9e3779b97f4a7c15, i%256, i*7%256, i/60%60, i%60, i%1000,
			i*13%10000, i%1000, i%100, strings.Join(items, ","), agents[i%len(agents)])
		// Out as the Firehose framework gives it (WithOutArena).
		records[i] = firehose.Record{Data: []byte(doc), ArrivalTime: arrival.Add(time.Duration(i) * time.Millisecond), Out: make([]byte, 0, 2*len(doc)+256)}
		size += len(doc)
	}
	ctx := context.Background()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	// The best round as well as the mean: on a shared machine the mean
	// moves with the other work.
	best := time.Duration(math.MaxInt64)
	for b.Loop() {
		start := time.Now()
		for _, r := range records {
			if _, err := p.Transform(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		best = min(best, time.Since(start))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(records)), "ns/record")
	b.ReportMetric(float64(best.Nanoseconds())/float64(len(records)), "best-ns/record")
}
