package retry_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kstypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/faultproxy"
	"lakestream/shared/retry"
)

// answer is one canned HTTP response of a fake AWS endpoint.
type answer struct {
	status int
	body   string
	header map[string]string
	// hangUp closes the connection instead of answering; slow answers
	// after the caller's deadline.
	hangUp, slow bool
}

// endpoint serves a as every answer.
func endpoint(t *testing.T, a answer) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case a.hangUp:
			conn, _, err := http.NewResponseController(w).Hijack()
			require.NoError(t, err)
			conn.Close()
			return
		case a.slow:
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// jsonError is an AWS JSON-protocol error answer.
func jsonError(status int, code string) answer {
	return answer{status: status, body: fmt.Sprintf(`{"__type":%q,"message":"canned"}`, code),
		header: map[string]string{"Content-Type": "application/x-amz-json-1.1"}}
}

// xmlError is an S3 REST-XML error answer.
func xmlError(status int, code string) answer {
	return answer{status: status, body: "<Error><Code>" + code + "</Code><Message>canned</Message></Error>",
		header: map[string]string{"Content-Type": "application/xml"}}
}

// sdk is an aws.Config for a fake endpoint, with the SDK's retries off as
// lakestream's functions have them, so each error is one attempt's.
func sdk(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// The calls whose real SDK errors are classified.
func startJobRun(ctx context.Context, url string) error {
	_, err := glue.NewFromConfig(sdk(url)).StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String("job")})
	return err
}

func putRecordBatch(ctx context.Context, url string) error {
	_, err := firehose.NewFromConfig(sdk(url)).PutRecordBatch(ctx, &firehose.PutRecordBatchInput{
		DeliveryStreamName: aws.String("s"), Records: []fhtypes.Record{{Data: []byte("x")}}})
	return err
}

func putRecords(ctx context.Context, url string) error {
	_, err := kinesis.NewFromConfig(sdk(url)).PutRecords(ctx, &kinesis.PutRecordsInput{
		StreamName: aws.String("s"), Records: []kstypes.PutRecordsRequestEntry{{Data: []byte("x"), PartitionKey: aws.String("k")}}})
	return err
}

func s3Client(url string) *s3.Client {
	return s3.NewFromConfig(sdk(url), func(o *s3.Options) { o.UsePathStyle = true })
}

func copyObject(ctx context.Context, url string) error {
	_, err := s3Client(url).CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), CopySource: aws.String("b/src")})
	return err
}

func headObject(ctx context.Context, url string) error {
	_, err := s3Client(url).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	return err
}

// TestClassifySDKErrors classifies the errors the SDK really returns for
// AWS's answers, each made by a real client against a canned endpoint.
func TestClassifySDKErrors(t *testing.T) {
	tests := map[string]struct {
		call   func(context.Context, string) error
		answer answer
		want   retry.Class
	}{
		"Glue throttling":                       {call: startJobRun, answer: jsonError(400, "ThrottlingException"), want: retry.ClassThrottling},
		"Glue concurrent runs (a client fault)": {call: startJobRun, answer: jsonError(400, "ConcurrentRunsExceededException"), want: retry.ClassPermanent},
		"Glue access denied":                    {call: startJobRun, answer: jsonError(400, "AccessDeniedException"), want: retry.ClassPermanent},
		"Glue no such job":                      {call: startJobRun, answer: jsonError(400, "EntityNotFoundException"), want: retry.ClassPermanent},
		"Glue invalid input":                    {call: startJobRun, answer: jsonError(400, "InvalidInputException"), want: retry.ClassPermanent},
		"Glue internal error (server fault)":    {call: startJobRun, answer: jsonError(500, "InternalServiceException"), want: retry.ClassRetryable},
		"Glue operation timeout":                {call: startJobRun, answer: jsonError(400, "OperationTimeoutException"), want: retry.ClassRetryable},
		"Glue unknown server fault":             {call: startJobRun, answer: jsonError(503, "SomethingNewException"), want: retry.ClassRetryable},
		"Glue unknown client fault":             {call: startJobRun, answer: jsonError(400, "SomethingNewException"), want: retry.ClassPermanent},
		"Firehose service unavailable":          {call: putRecordBatch, answer: jsonError(503, "ServiceUnavailableException"), want: retry.ClassRetryable},
		"Firehose limit exceeded":               {call: putRecordBatch, answer: jsonError(400, "LimitExceededException"), want: retry.ClassThrottling},
		"Firehose no such stream":               {call: putRecordBatch, answer: jsonError(400, "ResourceNotFoundException"), want: retry.ClassPermanent},
		"Firehose KMS key unusable":             {call: putRecordBatch, answer: jsonError(400, "InvalidKMSResourceException"), want: retry.ClassPermanent},
		"Kinesis throughput exceeded":           {call: putRecords, answer: jsonError(400, "ProvisionedThroughputExceededException"), want: retry.ClassThrottling},
		"Kinesis KMS throttling":                {call: putRecords, answer: jsonError(400, "KMSThrottlingException"), want: retry.ClassThrottling},
		"Kinesis KMS access denied":             {call: putRecords, answer: jsonError(400, "KMSAccessDeniedException"), want: retry.ClassPermanent},
		"unmodelled HTTP 429":                   {call: putRecords, answer: answer{status: 429, body: "slow down"}, want: retry.ClassThrottling},
		"S3 SlowDown":                           {call: copyObject, answer: xmlError(503, "SlowDown"), want: retry.ClassThrottling},
		"S3 internal error":                     {call: copyObject, answer: xmlError(500, "InternalError"), want: retry.ClassRetryable},
		"S3 error inside an HTTP 200 answer":    {call: copyObject, answer: xmlError(200, "InternalError"), want: retry.ClassRetryable},
		"S3 request timeout":                    {call: copyObject, answer: xmlError(400, "RequestTimeout"), want: retry.ClassRetryable},
		"S3 conflicting operation":              {call: copyObject, answer: xmlError(409, "OperationAborted"), want: retry.ClassRetryable},
		"S3 access denied":                      {call: copyObject, answer: xmlError(403, "AccessDenied"), want: retry.ClassPermanent},
		"S3 no such bucket":                     {call: copyObject, answer: xmlError(404, "NoSuchBucket"), want: retry.ClassPermanent},
		"S3 precondition failed":                {call: copyObject, answer: xmlError(412, "PreconditionFailed"), want: retry.ClassPermanent},
		"S3 KMS error":                          {call: copyObject, answer: xmlError(400, "KMS.DisabledException"), want: retry.ClassPermanent},
		"S3 HEAD 404 (no body)":                 {call: headObject, answer: answer{status: 404}, want: retry.ClassPermanent},
		"S3 HEAD 403 (no body)":                 {call: headObject, answer: answer{status: 403}, want: retry.ClassPermanent},
		"S3 HEAD 503 (no body)":                 {call: headObject, answer: answer{status: 503}, want: retry.ClassRetryable},
		"connection closed without an answer":   {call: startJobRun, answer: answer{hangUp: true}, want: retry.ClassRetryable},
		"S3 connection closed":                  {call: copyObject, answer: answer{hangUp: true}, want: retry.ClassRetryable},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.call(context.Background(), endpoint(t, tc.answer))
			require.Error(t, err)
			assert.Equal(t, tc.want, retry.Classify(err), "%v", err)
			assert.Equal(t, tc.want, retry.Classify(fmt.Errorf("start job: %w", err)), "wrapping keeps the class")
		})
	}
}

// TestClassifyCallerGaveUp: a context that ends is never retried, however
// the SDK reports it; a network timeout, which is also DeadlineExceeded to
// errors.Is, is.
func TestClassifyCallerGaveUp(t *testing.T) {
	t.Run("canceled before the call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := startJobRun(ctx, endpoint(t, jsonError(400, "ThrottlingException")))
		require.Error(t, err)
		assert.Equal(t, retry.ClassPermanent, retry.Classify(err), "%v", err)
	})
	t.Run("deadline while waiting for the answer", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := copyObject(ctx, endpoint(t, answer{slow: true}))
		require.Error(t, err)
		assert.Equal(t, retry.ClassPermanent, retry.Classify(err), "%v", err)
	})
	t.Run("the context errors themselves", func(t *testing.T) {
		assert.Equal(t, retry.ClassPermanent, retry.Classify(context.Canceled))
		assert.Equal(t, retry.ClassPermanent, retry.Classify(fmt.Errorf("put: %w", context.DeadlineExceeded)))
		assert.Equal(t, retry.ClassPermanent, retry.Classify(retry.Retryable(context.Canceled)), "a mark does not make a canceled call retryable")
	})
	t.Run("network timeout", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		d := net.Dialer{Timeout: time.Nanosecond}
		_, derr := d.Dial("tcp", l.Addr().String())
		require.ErrorIs(t, derr, context.DeadlineExceeded, "package net's dial timeout is DeadlineExceeded to errors.Is")
		assert.Equal(t, retry.ClassRetryable, retry.Classify(derr))
	})
}

// TestClassifyFaultProxy: each fault the standing fault test injects is
// read as AWS's own would be, for each protocol.
func TestClassifyFaultProxy(t *testing.T) {
	tests := map[string]struct {
		rates faultproxy.Rates
		call  func(context.Context, string) error
		want  retry.Class
	}{
		"Glue throttled":     {rates: faultproxy.Rates{Throttle: 1}, call: startJobRun, want: retry.ClassThrottling},
		"Kinesis throttled":  {rates: faultproxy.Rates{Throttle: 1}, call: putRecords, want: retry.ClassThrottling},
		"Firehose throttled": {rates: faultproxy.Rates{Throttle: 1}, call: putRecordBatch, want: retry.ClassThrottling},
		"S3 throttled":       {rates: faultproxy.Rates{Throttle: 1}, call: copyObject, want: retry.ClassThrottling},
		"Glue HTTP 500":      {rates: faultproxy.Rates{ServerError: 1}, call: startJobRun, want: retry.ClassRetryable},
		"S3 HTTP 500":        {rates: faultproxy.Rates{ServerError: 1}, call: copyObject, want: retry.ClassRetryable},
		"Glue dropped":       {rates: faultproxy.Rates{DropResponse: 1}, call: startJobRun, want: retry.ClassRetryable},
		"S3 dropped":         {rates: faultproxy.Rates{DropResponse: 1}, call: copyObject, want: retry.ClassRetryable},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := faultproxy.Start(endpoint(t, answer{status: 200, body: "{}"}), 1)
			require.NoError(t, err)
			defer p.Close()
			p.SetRates(tc.rates)
			err = tc.call(context.Background(), p.URL)
			require.Error(t, err)
			assert.Equal(t, tc.want, retry.Classify(err), "%v", err)
		})
	}
}

func TestClassifyOwnErrors(t *testing.T) {
	apiDenied := startJobRun(context.Background(), endpoint(t, jsonError(400, "AccessDeniedException")))
	require.Error(t, apiDenied)
	tests := map[string]struct {
		err  error
		want retry.Class
	}{
		"nil":                               {err: nil, want: retry.ClassPermanent},
		"the caller's own error":            {err: errors.New("3 records rejected"), want: retry.ClassRetryable},
		"marked Permanent":                  {err: retry.Permanent(errors.New("bad record")), want: retry.ClassPermanent},
		"marked Permanent, wrapped":         {err: fmt.Errorf("put: %w", retry.Permanent(errors.New("bad record"))), want: retry.ClassPermanent},
		"AWS client fault marked Retryable": {err: retry.Retryable(apiDenied), want: retry.ClassRetryable},
		"marked throttling":                 {err: retry.Mark(errors.New("busy"), retry.ClassThrottling), want: retry.ClassThrottling},
		"input the SDK refused": {err: func() error {
			_, err := glue.NewFromConfig(sdk("http://127.0.0.1:1")).StartJobRun(context.Background(), &glue.StartJobRunInput{})
			return err
		}(), want: retry.ClassPermanent},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, retry.Classify(tc.err), "%v", tc.err)
		})
	}
	assert.NoError(t, retry.Mark(nil, retry.ClassRetryable))
}

func TestClassifyCode(t *testing.T) {
	tests := map[string]retry.Class{
		"":                                       retry.ClassRetryable,
		"ServiceUnavailableException":            retry.ClassRetryable,
		"InternalFailure":                        retry.ClassRetryable,
		"InternalServiceException":               retry.ClassRetryable,
		"ConcurrentModificationException":        retry.ClassRetryable,
		"ProvisionedThroughputExceededException": retry.ClassThrottling,
		"KMSThrottlingException":                 retry.ClassThrottling,
		"ThrottlingException":                    retry.ClassThrottling,
		"KMSAccessDeniedException":               retry.ClassPermanent,
		"AccessDeniedException":                  retry.ClassPermanent,
		"InvalidInputException":                  retry.ClassPermanent,
		"EntityNotFoundException":                retry.ClassPermanent,
	}
	for code, want := range tests {
		t.Run(code, func(t *testing.T) {
			assert.Equal(t, want, retry.ClassifyCode(code))
		})
	}
}

func TestClassString(t *testing.T) {
	assert.Equal(t, "permanent", retry.ClassPermanent.String())
	assert.Equal(t, "retryable", retry.ClassRetryable.String())
	assert.Equal(t, "throttling", retry.ClassThrottling.String())
	assert.Equal(t, "Class(7)", retry.Class(7).String())
	assert.False(t, retry.ClassPermanent.Retries())
	assert.True(t, retry.ClassRetryable.Retries())
	assert.True(t, retry.ClassThrottling.Retries())
}

// TestDoClassifies: Do retries what Classify calls throttling or retryable
// and returns at once what it calls permanent, without the caller marking
// anything.
func TestDoClassifies(t *testing.T) {
	tests := map[string]struct {
		answer answer
		want   int // calls made, of at most 4
	}{
		"throttled":     {answer: jsonError(400, "ThrottlingException"), want: 4},
		"server error":  {answer: jsonError(500, "InternalServiceException"), want: 4},
		"dropped":       {answer: answer{hangUp: true}, want: 4},
		"access denied": {answer: jsonError(400, "AccessDeniedException"), want: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			url := endpoint(t, tc.answer)
			p, _ := instant(4)
			calls := 0
			err := p.Do(context.Background(), func(int) error {
				calls++
				return startJobRun(context.Background(), url)
			})
			require.Error(t, err)
			assert.Equal(t, tc.want, calls)
			assert.Equal(t, tc.want == 4, errors.Is(err, retry.ErrExhausted))
		})
	}
}
