package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
	"lakestream/shared/benchdata"
	"lakestream/shared/streamput"
)

// cloudfrontLine is line i of a busy distribution's hour: browsers and
// bots, hits and misses, IPv4 and IPv6, now and then a query.
func cloudfrontLine(i int) string {
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
	return fmt.Sprintf("2024-05-01\t13:%02d:%02d\tFRA56-P%d\t%d\t%s\tGET\td111111abcdef8.cloudfront.net\t%s\t200\t-\t%s\t%s\t-\t%s\treq%08dAbCdEfGhIjKlMnOpQrStUvWxYz0123456789==\twww.example.com\thttps\t%d\t0.%03d\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\t%s\tHTTP/2.0\t-\t-\t%d\t0.%03d\t%s\ttext/html\t%d\t-\t-\n",
		i/60%60, i%60, i%9, 400+i*13, ip, paths[i%len(paths)], agents[i%len(agents)], queries[i%len(queries)],
		r, i, 300+i%200, i%1000, r, 1024+i*31%60000, i%997, r, 800+i)
}

// logText is about size bytes of a CloudFront log.
func logText(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		b.WriteString(cloudfrontLine(i))
	}
	return b.Bytes()
}

// discard is a Firehose that takes every record and keeps none.
type discard struct{ records, bytes atomic.Int64 }

func (d *discard) PutRecordBatch(_ context.Context, _ string, in []streamput.Entry) ([]streamput.Answer, error) {
	for _, r := range in {
		d.records.Add(1)
		d.bytes.Add(int64(len(r.Data)))
	}
	return make([]streamput.Answer, len(in)), nil
}

// BenchmarkForward measures one CPU forwarding a gzipped CloudFront log
// with the template's settings (derived user agent, mask, filter, schema,
// JSON out) into a Firehose that answers at once: the bytes are the
// uncompressed log's, so MB/s is log text per second. Run it pinned to
// one core (taskset -c 1) to read it as one vCPU, which Lambda gives a
// function of 1,769 MB.
func BenchmarkForward(b *testing.B) {
	text := logText(32 << 20)
	s := newFakeS3()
	s.add("logs", "cf/E2.2024-05-01-13.x.gz", text, true)
	for _, gz := range []bool{true, false} {
		key := "cf/E2.2024-05-01-13.x.gz"
		if !gz {
			key = "cf/E2.2024-05-01-13.x"
			s.add("logs", key, text, false)
		}
		b.Run(fmt.Sprintf("gzip=%v", gz), func(b *testing.B) {
			cfg := testConfig(b, templateEnv(b, map[string]string{"DELIVERY_STREAM": "logs"}))
			fh := &discard{}
			f := &forwarder{cfg: cfg, s3: s, put: newWriter(fh, cfg), log: discardLog(), metrics: nil}
			obj := batch.S3Object{Bucket: "logs", Key: key, Event: "ObjectCreated:Put", Time: eventTime}
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			cpu := benchdata.CPUTime()
			for b.Loop() {
				out, err := f.forwardObject(context.Background(), obj)
				if err != nil || out.LinesSent == 0 {
					b.Fatal(err, out.LinesSent)
				}
			}
			cpu = benchdata.CPUTime() - cpu
			b.ReportMetric(float64(fh.bytes.Load())/float64(b.N)/float64(len(text)), "out/in")
			// CPU time varies far less than wall time on a busy machine.
			b.ReportMetric(float64(len(text))*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
		})
	}
}

// generated is an S3 that serves one object it generates as it is read:
// size bytes of CloudFront log, gzipped on the fly, so that an object far
// larger than the memory a test may use can be forwarded.
type generated struct{ size int64 }

func (g generated) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	pr, pw := io.Pipe()
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		written := int64(0)
		for i := 0; written < g.size; i++ {
			n, err := io.WriteString(zw, cloudfrontLine(i))
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			written += int64(n)
		}
		pw.CloseWithError(zw.Close())
	}()
	return &s3.GetObjectOutput{Body: pr, ETag: aws.String(`"gen"`), LastModified: aws.Time(eventTime)}, nil
}

func (g generated) PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return &s3.PutObjectOutput{}, nil
}

var bigObject = flag.Int64("big-object", 48<<20, "bytes of log text TestMemoryBounded forwards (README's figure: 1073741824)")

// TestMemoryBounded forwards a generated gzipped CloudFront log, as large
// as -big-object says, and samples the Go heap all along: what a function
// holds is a few batches and buffers whatever the object's size, so that a
// 5 GB file fits the template's 256 MB.
func TestMemoryBounded(t *testing.T) {
	cfg := testConfig(t, templateEnv(t, map[string]string{"DELIVERY_STREAM": "logs"}))
	fh := &discard{}
	f := &forwarder{cfg: cfg, s3: generated{size: *bigObject}, put: newWriter(fh, cfg), log: discardLog()}
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()
	began, cpu := time.Now(), benchdata.CPUTime()
	out, err := f.forwardObject(context.Background(), batch.S3Object{Bucket: "logs", Key: "E2.2024-05-01-13.big.gz", Event: "ObjectCreated:Put", Time: eventTime})
	close(done)
	require.NoError(t, err)
	took, cpu := time.Since(began), benchdata.CPUTime()-cpu
	t.Logf("%d MB of log text, %d lines, %d MB sent in %d records, in %v (%.1f MB/s; CPU %v, generating the gzip included); peak heap in use %d MiB",
		*bigObject>>20, out.LinesRead, out.BytesSent>>20, out.RecordsPut, took.Round(time.Millisecond),
		float64(*bigObject)/1e6/took.Seconds(), cpu.Round(time.Millisecond), peak.Load()>>20)
	assert.Positive(t, out.LinesSent)
	assert.Less(t, peak.Load(), uint64(64<<20), "the heap stays within a quarter of 256 MB")
}

func newWriter(fh streamput.FirehoseAPI, cfg *Config) *streamput.Writer {
	return streamput.NewFirehose(fh, cfg.DeliveryStream, cfg.Retry)
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
