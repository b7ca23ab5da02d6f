package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
	"lakestream/shared/config"
	"lakestream/shared/metrics"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

// fakeFirehose keeps what it accepts and rejects what reject says.
type fakeFirehose struct {
	mu sync.Mutex
	// reject returns an error code for record i of call n (from 1), or "".
	reject func(n, i int) string
	// fail, when it returns an error, fails call n whole.
	fail     func(n int) error
	calls    int
	records  [][]byte
	maxBytes int
}

func (f *fakeFirehose) PutRecordBatch(ctx context.Context, _ string, in []streamput.Entry) ([]streamput.Answer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		if err := f.fail(f.calls); err != nil {
			return nil, err
		}
	}
	size := 0
	out := make([]streamput.Answer, len(in))
	for i, r := range in {
		size += len(r.Data)
		if f.reject != nil {
			if code := f.reject(f.calls, i); code != "" {
				out[i] = streamput.Answer{ErrorCode: code, ErrorMessage: "rejected by the fake"}
				continue
			}
		}
		f.records = append(f.records, bytes.Clone(r.Data))
	}
	f.maxBytes = max(f.maxBytes, size)
	return out, nil
}

// lines returns every line delivered, in order.
func (f *fakeFirehose) lines() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.records {
		for l := range strings.Lines(string(r)) {
			out = append(out, strings.TrimSuffix(l, "\n"))
		}
	}
	return out
}

// fakeS3 holds objects; GetObject honours Range and IfMatch as S3 does,
// and breaks its bodies as breakAt says.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string][]byte // "bucket/key"
	etags   map[string]string
	// breakAt, when set, makes the body of GetObject call n (from 1) fail
	// with a reset connection after that many bytes (-1: never).
	breakAt func(n int) int
	// putErr fails every PutObject.
	putErr error
	gets   []string // the Range of every GetObject ("" for none)
}

func newFakeS3() *fakeS3 { return &fakeS3{objects: map[string][]byte{}, etags: map[string]string{}} }

// add stores an object, gzipped when gz, and returns its ETag.
func (f *fakeS3) add(bucket, key string, body []byte, gz bool) string {
	if gz {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write(body)
		w.Close()
		body = b.Bytes()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[bucket+"/"+key] = body
	etag := fmt.Sprintf(`"%032x"`, len(body)*7919+len(key))
	f.etags[bucket+"/"+key] = etag
	return etag
}

func apiError(code string, status int) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: code},
	}
}

func (f *fakeS3) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.Bucket) + "/" + aws.ToString(in.Key)
	f.gets = append(f.gets, aws.ToString(in.Range))
	body, ok := f.objects[id]
	if !ok {
		return nil, apiError("NoSuchKey", http.StatusNotFound)
	}
	if in.IfMatch != nil && aws.ToString(in.IfMatch) != f.etags[id] {
		return nil, apiError("PreconditionFailed", http.StatusPreconditionFailed)
	}
	if r := aws.ToString(in.Range); r != "" {
		from, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r, "bytes="), "-"))
		if err != nil {
			return nil, fmt.Errorf("fake: range %q", r)
		}
		body = body[from:]
	}
	var rc io.ReadCloser = io.NopCloser(bytes.NewReader(body))
	if f.breakAt != nil {
		if at := f.breakAt(len(f.gets)); at >= 0 && at < len(body) {
			rc = io.NopCloser(io.MultiReader(bytes.NewReader(body[:at]), errReader{errors.New("connection reset by peer")}))
		}
	}
	return &s3.GetObjectOutput{Body: rc, ETag: aws.String(f.etags[id]), LastModified: aws.Time(time.Date(2024, 5, 1, 13, 10, 0, 0, time.UTC))}, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func (f *fakeS3) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.putErr != nil {
		return nil, f.putErr
	}
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)] = body
	return &s3.PutObjectOutput{}, nil
}

// instant is a retry policy that does not wait.
func instant(attempts int) retry.Policy {
	p := retry.Default()
	p.MaxAttempts = attempts
	p.Sleep = func(context.Context, time.Duration) error { return nil }
	return p
}

// testConfig loads the settings from env (FORMAT and DELIVERY_STREAM
// default to cloudfront and "logs") with a retry policy that does not wait.
func testConfig(t testing.TB, env map[string]string) *Config {
	t.Helper()
	full := map[string]string{"FORMAT": "cloudfront", "DELIVERY_STREAM": "logs"}
	for k, v := range env {
		full[k] = v
	}
	e := config.New(config.FromMap(full))
	cfg, err := loadConfig(e)
	require.NoError(t, e.Err())
	require.NoError(t, err)
	cfg.Retry = instant(cfg.Retry.MaxAttempts)
	return cfg
}

// testHandler builds the handler on fakes; its logs and metrics go to out.
func testHandler(cfg *Config, s *fakeS3, fh *fakeFirehose, out io.Writer) *batch.Handler {
	if out == nil {
		out = io.Discard
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return newHandler(cfg, s, fh, log, metrics.New(out, "test"))
}

// notification is an S3 event notification for the objects, as S3 sends it
// (keys URL-encoded).
func notification(bucket string, keys ...string) []byte {
	var recs []string
	for _, k := range keys {
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2024-05-01T13:05:00.000Z",`+
			`"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":%q},"object":{"key":%q,"size":1}}}`, bucket, strings.ReplaceAll(k, " ", "+")))
	}
	return []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
}
