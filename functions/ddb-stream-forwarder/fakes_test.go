package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"lakestream/shared/batch"
	"lakestream/shared/metrics"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

// fakeFirehose is a Firehose that keeps what it accepts and rejects what
// its functions say: a whole call (throttled), or single records.
type fakeFirehose struct {
	mu sync.Mutex
	// throttle, when it returns true, fails call n (from 1) whole with
	// ThrottlingException.
	throttle func(n int) bool
	// reject returns the error code for a record of call n, or "".
	reject    func(n int, stream string, data []byte) string
	calls     int
	throttled int
	rejected  int
	// maxRecords and maxBytes are the largest request seen.
	maxRecords, maxBytes int
	accepted             map[string][][]byte // by delivery stream, in order
}

func newFakeFirehose() *fakeFirehose { return &fakeFirehose{accepted: map[string][][]byte{}} }

func (f *fakeFirehose) PutRecordBatch(ctx context.Context, stream string, in []streamput.Entry) ([]streamput.Answer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.throttle != nil && f.throttle(f.calls) {
		f.throttled++
		return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded", Fault: smithy.FaultClient}
	}
	size := 0
	for _, r := range in {
		size += len(r.Data)
	}
	f.maxRecords, f.maxBytes = max(f.maxRecords, len(in)), max(f.maxBytes, size)
	out := make([]streamput.Answer, len(in))
	for i, r := range in {
		if f.reject != nil {
			if code := f.reject(f.calls, stream, r.Data); code != "" {
				f.rejected++
				out[i] = streamput.Answer{ErrorCode: code, ErrorMessage: "rejected by the fake"}
				continue
			}
		}
		f.accepted[stream] = append(f.accepted[stream], bytes.Clone(r.Data))
	}
	return out, nil
}

// fakeS3 keeps the objects put, or fails every put with err.
type fakeS3 struct {
	mu      sync.Mutex
	err     error
	objects map[string][]byte // "bucket/key"
}

func (f *fakeS3) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	if f.objects == nil {
		f.objects = map[string][]byte{}
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

// testHandler builds a handler on fakes, with its logs and metrics in out.
func testHandler(cfg Config, fh *fakeFirehose, s3c *fakeS3, out *bytes.Buffer) *batch.Handler {
	if out == nil {
		out = &bytes.Buffer{}
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var putter ObjectPutter
	if s3c != nil {
		putter = s3c
	}
	return newHandler(cfg, fh, putter, log, metrics.New(out, "test"))
}
