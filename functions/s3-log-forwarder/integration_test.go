package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

const (
	logBucket  = "lakestream-logs"
	lakeBucket = "lake"
)

// testWriter sends a function's stderr to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// integration is moto with the log bucket and a delivery stream writing
// to the lake bucket under prefix, as the template's stream does.
type integration struct {
	t  *testing.T
	s3 *s3.Client
}

func newIntegration(t *testing.T, stream, prefix string) *integration {
	t.Helper()
	srv := moto.Shared(t)
	require.NoError(t, srv.Reset())
	cfg, err := srv.Config(t.Context())
	require.NoError(t, err)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
	for _, b := range []string{logBucket, lakeBucket} {
		_, err = s3c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(b)})
		require.NoError(t, err)
	}
	_, err = firehose.NewFromConfig(cfg).CreateDeliveryStream(t.Context(), &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(stream),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::123456789012:role/firehose"), BucketARN: aws.String("arn:aws:s3:::" + lakeBucket), Prefix: aws.String(prefix),
		},
	})
	require.NoError(t, err)
	return &integration{t: t, s3: s3c}
}

// put stores an object, gzipped when gz, and returns its ETag.
func (in *integration) put(key string, body []byte, gz bool) string {
	in.t.Helper()
	if gz {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write(body)
		require.NoError(in.t, w.Close())
		body = b.Bytes()
	}
	out, err := in.s3.PutObject(in.t.Context(), &s3.PutObjectInput{Bucket: aws.String(logBucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	require.NoError(in.t, err)
	return strings.Trim(aws.ToString(out.ETag), `"`)
}

// objects returns the bodies of the objects under prefix in bucket.
func (in *integration) objects(bucket, prefix string) map[string][]byte {
	in.t.Helper()
	out := map[string][]byte{}
	list, err := in.s3.ListObjectsV2(in.t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	require.NoError(in.t, err)
	for _, o := range list.Contents {
		got, err := in.s3.GetObject(in.t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		require.NoError(in.t, err)
		body, err := io.ReadAll(got.Body)
		got.Body.Close()
		require.NoError(in.t, err)
		out[aws.ToString(o.Key)] = body
	}
	return out
}

// lines are the lines of the objects, in key order.
func lines(objects map[string][]byte) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(objects)) {
		for l := range strings.Lines(string(objects[k])) {
			out = append(out, strings.TrimSuffix(l, "\n"))
		}
	}
	return out
}

// startFunction runs the real binary with the template's environment,
// moto's and the overrides.
func startFunction(t *testing.T, overrides map[string]string) *lambdarun.Function {
	t.Helper()
	f, err := lambdarun.StartRepoFunction("s3-log-forwarder", lambdarun.Options{Timeout: 120 * time.Second, Stderr: testWriter{t}}, moto.Shared(t).Env(), overrides)
	require.NoError(t, err)
	t.Cleanup(f.Stop)
	return f
}

// TestIntegrationCloudFront: the sample CloudFront log file, gzipped in
// S3, and its sample event through the real binary with the template's
// settings: the typed JSON lines land in the delivery stream's bucket as
// the in-process handler writes them, and the failed lines in the error
// object beside the logs.
func TestIntegrationCloudFront(t *testing.T) {
	in := newIntegration(t, "lakestream-logs", "cloudfront/")
	body, err := os.ReadFile(cloudfrontSample)
	require.NoError(t, err)
	in.put("cloudfront/E2EXAMPLE1234.2024-05-01-13.a1b2c3d4.gz", body, true)
	event, err := os.ReadFile("../../events/s3-log-forwarder/cloudfront.json")
	require.NoError(t, err)

	f := startFunction(t, nil)
	out, err := f.Invoke(t.Context(), event)
	require.NoError(t, err)
	var res Result
	require.NoError(t, json.Unmarshal(out, &res))
	require.Len(t, res.Objects, 1)
	o := res.Objects[0]
	assert.Equal(t, StatusForwarded, o.Status, o.Error)
	assert.Equal(t, Counts{LinesRead: 14, LinesSent: 9, LinesSkipped: 2, LinesFiltered: 1, LinesFailed: 2, RecordsPut: 1,
		BytesRead: o.BytesRead, BytesSent: o.BytesSent}, o.Counts)

	// What landed is what the handler tests' golden says is sent.
	var want struct {
		Lines []json.RawMessage `json:"lines"`
	}
	g, err := os.ReadFile("testdata/events/cloudfront.golden.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(g, &want))
	landed := lines(in.objects(lakeBucket, "cloudfront/"))
	require.Len(t, landed, len(want.Lines))
	for i, l := range landed {
		assert.JSONEq(t, string(want.Lines[i]), l)
	}

	errs := in.objects(logBucket, "s3-log-forwarder-errors/")
	require.Len(t, errs, 1)
	for key, body := range errs {
		assert.Equal(t, "s3-log-forwarder-errors/lakestream-logs/cloudfront/E2EXAMPLE1234.2024-05-01-13.a1b2c3d4.gz.errors-0001.ndjson", key)
		assert.Equal(t, 2, bytes.Count(body, []byte("\n")))
		assert.Contains(t, string(body), `{"line":11,"error":"cloudfront: malformed line: date \"01/May/2024\" is not YYYY-MM-DD"`)
	}
}

// albLine is line i of a busy ALB's log: all in one hour, every tenth
// request an error, now and then a line that is not an ALB entry.
func albLine(i int) string {
	if i%997 == 0 {
		return fmt.Sprintf("garbage line %d", i)
	}
	status := 200
	if i%10 == 0 {
		status = 502
	}
	return fmt.Sprintf(`https 2024-05-01T13:%02d:%02d.%06dZ app/my-loadbalancer/50dc6c495c0c9188 192.0.2.%d:%d 10.0.0.%d:443 0.000 0.%03d 0.000 %d %d 312 %d "GET https://www.example.com:443/items/%d?page=%d HTTP/1.1" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-6632%04x-%024x" "www.example.com" "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 0 2024-05-01T13:%02d:%02d.000000Z "forward" "-" "-" "10.0.0.%d:443" "%d" "-" "-" TID_%032x "-" "-" "-"`,
		i/60%60, i%60, i%1000000, i%250+1, 1024+i%60000, i%200+1, i%1000, status, status, 1000+i%5000, i, i%7, i%65536, i, i/60%60, i%60, i%200+1, status, i)
}

// TestIntegrationLargeObject: an ALB log file of ~40 MB (gzipped a few MB)
// goes through the real binary into moto in many PutRecordBatch requests,
// every line once, in order; the bad lines are in the error object.
func TestIntegrationLargeObject(t *testing.T) {
	in := newIntegration(t, "alb-logs", "alb/")
	var b strings.Builder
	const n = 60000
	for i := 1; i <= n; i++ {
		b.WriteString(albLine(i))
		b.WriteByte('\n')
	}
	key := "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/05/01/123456789012_elasticloadbalancing_us-east-1_app.my-loadbalancer.50dc6c495c0c9188_20240501T1300Z_192.0.2.1_big.log.gz"
	etag := in.put(key, []byte(b.String()), true)
	event := fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2024-05-01T13:59:59Z","s3":{"bucket":{"name":%q},"object":{"key":%q,"eTag":%q}}}]}`, logBucket, key, etag)

	f := startFunction(t, map[string]string{"FORMAT": "alb", "DELIVERY_STREAM": "alb-logs", "DERIVE_USER_AGENT": "", "MASK_FIELDS": "", "DROP_IF": "", "SCHEMA": ""})
	began := time.Now()
	out, err := f.Invoke(t.Context(), []byte(event))
	require.NoError(t, err)
	t.Logf("%d bytes of ALB log in %v", b.Len(), time.Since(began))
	var res Result
	require.NoError(t, json.Unmarshal(out, &res))
	o := res.Objects[0]
	require.Equal(t, StatusForwarded, o.Status, o.Error)
	bad := int64(n / 997)
	assert.EqualValues(t, n, o.LinesRead)
	assert.Equal(t, n-bad, o.LinesSent)
	assert.Equal(t, bad, o.LinesFailed)
	assert.Greater(t, o.RecordsPut, int64(40), "records of at most 1,000 KiB")

	landed := in.objects(lakeBucket, "alb/")
	assert.Greater(t, len(landed), 10, "many PutRecordBatch requests, each an object in moto")
	// Every line once (moto names the objects of one second in no
	// particular order, so the order across objects is not checked).
	got := lines(landed)
	require.Len(t, got, int(n-bad))
	seen := make(map[int]bool, n)
	for _, l := range got {
		var v struct {
			URL string `json:"request_url"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &v))
		var i, page int
		_, err := fmt.Sscanf(v.URL, "https://www.example.com:443/items/%d?page=%d", &i, &page)
		require.NoError(t, err, v.URL)
		require.False(t, seen[i], "line %d twice", i)
		seen[i] = true
	}
	for i := 1; i <= n; i++ {
		if i%997 != 0 {
			require.True(t, seen[i], "line %d landed", i)
		}
	}
	errs := in.objects(logBucket, "s3-log-forwarder-errors/")
	require.Len(t, errs, 1)
	for _, body := range errs {
		assert.EqualValues(t, bad, bytes.Count(body, []byte("\n")))
	}
}
