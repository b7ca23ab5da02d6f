package benchdata

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// The standard batches, by name. The first four are the files the
// reference generator (gen_batches.py in the reference folder) writes,
// built here in the same shape and layout, so that the reference
// implementations read what lakestream reads; the others are lakestream's
// own, for the transformations the references do not cover.
const (
	// CWLogs1MB is a Firehose transformation request holding 1 MB of
	// base64 data: CloudWatch Logs subscription payloads (gzip JSON) of
	// 400 VPC flow log events each, about 80 records.
	CWLogs1MB = "cwlogs-1mb"
	// CWLogs6MB is CWLogs1MB's shape at 5.5 MB of data, a full request:
	// its output does not fit one response, so part of it is re-ingested.
	CWLogs6MB = "cwlogs-6mb"
	// AccessLog1MB is a Firehose request of Apache combined-format lines,
	// one a record, until the records' base64 data reaches 1 MB.
	AccessLog1MB = "accesslog-1mb"
	// DynamoDB1000 is a DynamoDB stream event of 1,000 INSERT and MODIFY
	// records of an order item holding every attribute type (a third
	// with both images), about 1.1 MB of JSON.
	DynamoDB1000 = "ddb-1000"
	// CloudFront1MB is a Firehose request of CloudFront standard log
	// lines (the 33 tab-separated fields), one a record, 1 MB of data.
	CloudFront1MB = "cloudfront-1mb"
	// Syslog1MB is a Firehose request of syslog messages, RFC 3164 and
	// RFC 5424 mixed, one a record, 1 MB of data.
	Syslog1MB = "syslog-1mb"
	// JSON1MB is a Firehose request of application events as JSON
	// documents, one a record, 1 MB of data.
	JSON1MB = "json-1mb"
)

// Batches lists every batch name: the reference generator's files first.
var Batches = []string{CWLogs1MB, CWLogs6MB, AccessLog1MB, DynamoDB1000, CloudFront1MB, Syslog1MB, JSON1MB}

// generators build each batch; generated lists them once built.
var (
	generators = map[string]func() []byte{
		CWLogs1MB:     func() []byte { return VPCFlowLogs(1_000_000) },
		CWLogs6MB:     func() []byte { return VPCFlowLogs(5_500_000) },
		AccessLog1MB:  func() []byte { return AccessLog(1_000_000) },
		DynamoDB1000:  func() []byte { return DynamoDB(1000) },
		CloudFront1MB: func() []byte { return Lines("cloudfront", cloudFrontLine, 1_000_000) },
		Syslog1MB:     func() []byte { return Lines("syslog", syslogLine, 1_000_000) },
		JSON1MB:       func() []byte { return Lines("events", jsonLine, 1_000_000) },
	}
	generated sync.Map // name -> func() []byte (sync.OnceValue)
)

// Batch returns the named batch's bytes, built on first use and shared
// afterwards: callers must not modify them. Every call in every process
// returns the same bytes.
func Batch(name string) ([]byte, error) {
	gen, ok := generators[name]
	if !ok {
		return nil, fmt.Errorf("benchdata: no batch %q (one of %s)", name, strings.Join(Batches, ", "))
	}
	once, _ := generated.LoadOrStore(name, sync.OnceValue(gen))
	return once.(func() []byte)(), nil
}

// firehoseRecord is one record of a Firehose transformation request.
type firehoseRecord struct {
	id      string
	arrival int64 // ms since the epoch
	data    []byte
}

// firehoseRequest lays records out as a Firehose transformation request
// from the Direct PUT delivery stream of that name, byte for byte as
// Python's json.dump writes the reference batches (", " and ": "
// separators, keys in the generator's order).
func firehoseRequest(stream string, records []firehoseRecord) []byte {
	size := 200
	for _, r := range records {
		size += base64.StdEncoding.EncodedLen(len(r.data)) + 80
	}
	b := make([]byte, 0, size)
	b = append(b, `{"invocationId": "bench", "region": "us-east-1", "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/`...)
	b = append(b, stream...)
	b = append(b, `", "records": [`...)
	for i, r := range records {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, `{"recordId": "%s", "approximateArrivalTimestamp": %d, "data": "`, r.id, r.arrival)
		b = base64.StdEncoding.AppendEncode(b, r.data)
		b = append(b, `"}`...)
	}
	return append(b, "]}"...)
}

// VPCFlowLogs is a Firehose request of CloudWatch Logs subscription
// payloads of 400 VPC flow log events each, records added until their
// base64 data reaches size bytes, as gen_batches.py's cwlogs batches:
// the same events, the same payload JSON byte for byte (gzip at its best
// compression, as Python's gzip.compress, with no timestamp in the header
// so that the batch never changes), record i arriving i ms after
// 1620000000000.
func VPCFlowLogs(size int) []byte {
	var records []firehoseRecord
	var doc bytes.Buffer
	for i, total := 0, 0; total < size; i++ {
		doc.Reset()
		doc.WriteString(`{"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/vpc/flowlogs", "logStream": "eni-0a1b2c3d-all", "subscriptionFilters": ["Destination"], "logEvents": [`)
		for j := range 400 {
			n := i*400 + j
			if j > 0 {
				doc.WriteString(", ")
			}
			fmt.Fprintf(&doc, `{"id": "%056d", "timestamp": %d, "message": "%s"}`, n, 1620000000000+n, vpcFlowLogLine(n))
		}
		doc.WriteString("]}")
		data := gzipBest(doc.Bytes())
		records = append(records, firehoseRecord{id: fmt.Sprintf("r%05d", i), arrival: 1620000000000 + int64(i), data: data})
		total += base64.StdEncoding.EncodedLen(len(data))
	}
	return firehoseRequest("cwlogs", records)
}

// vpcFlowLogLine is flow log record n in the default (version 2) format.
func vpcFlowLogLine(n int) string {
	return fmt.Sprintf("2 123456789012 eni-0a1b2c3d 10.0.%d.%d 172.31.%d.%d %d 443 6 %d %d 1620000000 1620000060 ACCEPT OK",
		n%250, n*7%250, n*3%250, n*11%250, 1024+n%60000, 1+n%40, 40+n%9000)
}

// gzipBest compresses p as Python's gzip.compress does by default (level
// 9), without a modification time.
func gzipBest(p []byte) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		panic(err) // only for an invalid level
	}
	// Writes to a bytes.Buffer do not fail.
	zw.Write(p) //nolint:errcheck
	zw.Close()  //nolint:errcheck
	return buf.Bytes()
}

// AccessLog is a Firehose request of Apache combined-format lines, one a
// record, records added until their base64 data reaches size bytes, drawn
// as gen_batches.py draws its accesslog batch (addresses, days and times
// in November 2024, methods, paths, statuses, sizes and user agents; a
// Go random source, so the same kind of lines, not the same ones), record
// i arriving i ms after 1700000000000.
func AccessLog(size int) []byte {
	rnd := rand.New(rand.NewPCG(3, 3))
	paths := []string{"/", "/index.html", "/product/14926", "/api/v1/cart?id=%d", "/static/app.%d.js", "/search?q=shoes+red&page=%d"}
	agents := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
		"curl/8.5.0", "Googlebot/2.1 (+http://www.google.com/bot.html)",
	}
	methods := []string{"GET", "GET", "GET", "POST"}
	statuses := []int{200, 200, 200, 304, 404, 500}
	between := func(lo, hi int) int { return lo + rnd.IntN(hi-lo+1) } // Python's randint
	var records []firehoseRecord
	for i, total := 0, 0; total < size; i++ {
		p := paths[rnd.IntN(len(paths))]
		if strings.Contains(p, "%d") {
			p = fmt.Sprintf(p, between(1, 99999))
		}
		line := fmt.Appendf(nil, `%d.%d.%d.%d - - [%02d/Nov/2024:%02d:%02d:%02d +0000] "%s %s HTTP/1.1" %d %d "https://example.com/" "%s"`+"\n",
			between(1, 223), between(0, 255), between(0, 255), between(1, 254), between(1, 28),
			between(0, 23), between(0, 59), between(0, 59), methods[rnd.IntN(len(methods))], p,
			statuses[rnd.IntN(len(statuses))], between(0, 50000), agents[rnd.IntN(len(agents))])
		records = append(records, firehoseRecord{id: fmt.Sprintf("r%06d", i), arrival: 1700000000000 + int64(i), data: line})
		total += base64.StdEncoding.EncodedLen(len(line))
	}
	return firehoseRequest("access", records)
}

// linesArrival is when the records of Lines' batches arrive: just after
// the hour their lines were written in.
var linesArrival = time.Date(2024, 3, 5, 7, 0, 0, 0, time.UTC).UnixMilli()

// Lines is a Firehose request from the delivery stream of that name of
// the lines line(rnd, 0), line(rnd, 1), ..., each with its newline, one a
// record, records added until their base64 data reaches size bytes.
func Lines(stream string, line func(rnd *rand.Rand, i int) string, size int) []byte {
	rnd := rand.New(rand.NewPCG(5, uint64(len(stream))))
	var records []firehoseRecord
	for i, total := 0, 0; total < size; i++ {
		data := []byte(line(rnd, i) + "\n")
		records = append(records, firehoseRecord{id: fmt.Sprintf("r%06d", i), arrival: linesArrival + int64(i), data: data})
		total += base64.StdEncoding.EncodedLen(len(data))
	}
	return firehoseRequest(stream, records)
}

// browsers are user agents as a CDN or web server sees them.
var browsers = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"curl/8.5.0",
}

// cloudFrontLine is a CloudFront standard log line (the 33 fields of the
// current format, tab-separated, the user agent URL-encoded as CloudFront
// writes it) of an hour's traffic: hits and misses, a query now and then,
// IPv6 viewers.
func cloudFrontLine(rnd *rand.Rand, i int) string {
	results := []string{"Hit", "Hit", "Hit", "Miss", "RefreshHit", "Error"}
	paths := []string{"/", "/index.html", "/static/app.%x.js", "/images/hero-%d.jpg", "/api/v1/items/%d"}
	queries := []string{"-", "-", "-", "id=%d&sort=desc", "q=lake%%2520stream&page=%d"}
	ip := fmt.Sprintf("%d.%d.%d.%d", 1+rnd.IntN(223), rnd.IntN(256), rnd.IntN(256), 1+rnd.IntN(254))
	if rnd.IntN(5) == 0 {
		ip = fmt.Sprintf("2001:db8:%x::%x", rnd.IntN(4096), rnd.IntN(65536))
	}
	path := paths[rnd.IntN(len(paths))]
	if strings.Contains(path, "%") {
		path = fmt.Sprintf(path, rnd.IntN(100000))
	}
	query := queries[rnd.IntN(len(queries))]
	if strings.Contains(query, "%d") {
		query = fmt.Sprintf(query, rnd.IntN(1000))
	}
	r := results[rnd.IntN(len(results))]
	status := 200
	if r == "Error" {
		status = []int{403, 404, 502}[rnd.IntN(3)]
	}
	agent := strings.ReplaceAll(browsers[rnd.IntN(len(browsers))], " ", "%20")
	taken := rnd.IntN(900)
	return fmt.Sprintf("2024-03-05\t06:%02d:%02d\tFRA56-P%d\t%d\t%s\tGET\td111111abcdef8.cloudfront.net\t%s\t%d\thttps://www.example.com/\t%s\t%s\t-\t%s\t%sAbCdEfGhIjKlMnOpQrStUvWxYz012345==\twww.example.com\thttps\t%d\t0.%03d\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\t%s\tHTTP/2.0\t-\t-\t%d\t0.%03d\t%s\ttext/html\t%d\t-\t-",
		i/60%60, i%60, 1+rnd.IntN(9), 300+rnd.IntN(60000), ip, path, status, agent, query, r,
		fmt.Sprintf("%016x", rnd.Uint64()), 200+rnd.IntN(400), taken, r, 1024+rnd.IntN(60000), taken/2, r, 300+rnd.IntN(60000))
}

// syslogLine is a syslog message as a relay forwards it: mostly BSD
// (RFC 3164) lines from daemons, a quarter RFC 5424 with structured
// data; facilities 0 to 23 at every severity (debug is a seventh, which
// the template's DROP_IF filters).
func syslogLine(rnd *rand.Rand, i int) string {
	host := fmt.Sprintf("web-%02d", rnd.IntN(16))
	if rnd.IntN(4) == 0 {
		return fmt.Sprintf(`<%d>1 2024-03-05T06:%02d:%02d.%03dZ %s.example.com orders %d ID47 [origin ip="198.51.100.%d"][exampleSDID@32473 iut="3" eventSource="Application" eventID="%d"] order %d accepted for customer c-%d`,
			8*rnd.IntN(24)+rnd.IntN(8), i/60%60, i%60, rnd.IntN(1000), host, 1000+rnd.IntN(30000), rnd.IntN(256), rnd.IntN(10000), i, rnd.IntN(100000))
	}
	pri := 8*rnd.IntN(24) + rnd.IntN(8)
	var msg string
	switch rnd.IntN(4) {
	case 0:
		msg = fmt.Sprintf("sshd[%d]: Accepted publickey for deploy from 198.51.100.%d port %d ssh2: ED25519 SHA256:%016x", 1000+rnd.IntN(30000), rnd.IntN(256), 1024+rnd.IntN(60000), rnd.Uint64())
	case 1:
		msg = fmt.Sprintf("CRON[%d]: (root) CMD (run-parts /etc/cron.hourly)", 1000+rnd.IntN(30000))
	case 2:
		msg = fmt.Sprintf("kernel: [%d.%06d] eth0: renamed from veth%07x", rnd.IntN(900000), rnd.IntN(1000000), rnd.IntN(1<<28))
	default:
		msg = fmt.Sprintf("systemd[1]: Started Session %d of User app.", rnd.IntN(100000))
	}
	return fmt.Sprintf("<%d>Mar  5 06:%02d:%02d %s %s", pri, i/60%60, i%60, host, msg)
}

// jsonLine is an application event: page views, carts, purchases and
// logins with a user, a session, a client address, a time, a page and
// items.
func jsonLine(rnd *rand.Rand, i int) string {
	events := []string{"page_view", "page_view", "page_view", "add_to_cart", "purchase", "login"}
	items := make([]string, 1+rnd.IntN(3))
	for k := range items {
		items[k] = fmt.Sprintf(`{"sku":"SKU-%05d","qty":%d,"price":%d.%02d}`, rnd.IntN(100000), 1+rnd.IntN(4), 1+rnd.IntN(500), rnd.IntN(100))
	}
	return fmt.Sprintf(`{"event":"%s","user_id":"u-%d","session":"s-%016x","ip":"203.0.%d.%d","ts":"2024-03-05T06:%02d:%02d.%03dZ","page":"/products/%d?ref=home","referrer":"https://www.example.com/","amount":%d.%02d,"items":[%s],"ua":"%s"}`,
		events[rnd.IntN(len(events))], rnd.IntN(50000), rnd.Uint64(), rnd.IntN(256), rnd.IntN(256), i/60%60, i%60, rnd.IntN(1000),
		rnd.IntN(10000), rnd.IntN(1000), rnd.IntN(100), strings.Join(items, ","), browsers[rnd.IntN(len(browsers))])
}
