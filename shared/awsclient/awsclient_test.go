package awsclient

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/faultproxy"
	"lakestream/shared/moto"
	"lakestream/shared/retry"
)

// TestLoadTalksToEndpointWithoutSegment: the traced config reaches the
// emulator named by AWS_ENDPOINT_URL, with no X-Ray segment in the context.
func TestLoadTalksToEndpointWithoutSegment(t *testing.T) {
	ctx := context.Background()
	srv, err := moto.Start(ctx)
	require.NoError(t, err)
	defer srv.Stop()
	for k, v := range srv.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR")

	cfg, err := Load(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, cfg.APIOptions, "X-Ray middleware is installed")

	client := s3.NewFromConfig(cfg, S3PathStyle)
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("traced")})
	require.NoError(t, err)
	out, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	require.Len(t, out.Buckets, 1)
	assert.Equal(t, "traced", aws.ToString(out.Buckets[0].Name))
}

func TestS3PathStyleOnlyWithEndpoint(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	var o s3.Options
	S3PathStyle(&o)
	assert.False(t, o.UsePathStyle, "real S3 keeps virtual-hosted URLs")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
	S3PathStyle(&o)
	assert.True(t, o.UsePathStyle)
}

// TestOneRetryLayer: a throttled call is retried by lakestream's retry
// policy alone. Through a proxy that throttles every call, a policy of 4
// attempts makes exactly 4 calls (with the SDK's default retryer inside it,
// 12), even with AWS_MAX_ATTEMPTS asking the SDK for more; and hundreds of
// throttled calls in a row still come back as throttling, not as the SDK's
// "retry quota exceeded".
func TestOneRetryLayer(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, `{"JobRunId":"jr_1"}`) //nolint:errcheck
	}))
	defer upstream.Close()
	proxy, err := faultproxy.Start(upstream.URL, 1)
	require.NoError(t, err)
	defer proxy.Close()
	proxy.SetRates(faultproxy.Rates{Throttle: 1})
	t.Setenv("AWS_ENDPOINT_URL", proxy.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_XRAY_SDK_DISABLED", "true")
	t.Setenv("AWS_MAX_ATTEMPTS", "5")
	t.Setenv("AWS_RETRY_MODE", "adaptive")

	cfg, err := Load(context.Background())
	require.NoError(t, err)
	client := glue.NewFromConfig(cfg)
	policy := retry.Policy{MaxAttempts: 4, Sleep: func(context.Context, time.Duration) error { return nil }}
	err = policy.Do(context.Background(), func(int) error {
		_, err := client.StartJobRun(context.Background(), &glue.StartJobRunInput{JobName: aws.String("job")})
		return err
	})
	require.ErrorIs(t, err, retry.ErrExhausted)
	require.Len(t, proxy.Calls(), 4, "one call per attempt of the policy, none added by the SDK")

	for i := range 300 {
		_, err := client.StartJobRun(context.Background(), &glue.StartJobRunInput{JobName: aws.String("job")})
		require.Equal(t, retry.ClassThrottling, retry.Classify(err), "call %d: %v", i, err)
	}
	assert.Len(t, proxy.Calls(), 304)

	proxy.SetRates(faultproxy.Rates{})
	out, err := client.StartJobRun(context.Background(), &glue.StartJobRunInput{JobName: aws.String("job")})
	require.NoError(t, err, "no client-side quota left the client unable to call")
	assert.Equal(t, "jr_1", aws.ToString(out.JobRunId))
}
