package awsclient

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
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
// emulator named by AWS_ENDPOINT_URL, with no X-Ray trace header in the
// context (the call is not traced, and not failed).
func TestLoadTalksToEndpointWithoutSegment(t *testing.T) {
	ctx := context.Background()
	srv, err := moto.Start(ctx)
	require.NoError(t, err)
	defer srv.Stop()
	for k, v := range srv.Env() {
		t.Setenv(k, v)
	}

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

// TestLoadTracesS3Calls: a call made in a sampled invocation's context is
// one subsegment sent to the daemon AWS_XRAY_DAEMON_ADDRESS names, with the
// bucket and key of an S3 object call and S3's two request ids; a call of
// another S3 operation names no resource.
func TestLoadTracesS3Calls(t *testing.T) {
	daemon, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer daemon.Close()
	s3api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amz-Request-Id", "C3D13FE58DE4C810")
		w.Header().Set("X-Amz-Id-2", "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD")
		if r.Method == http.MethodGet {
			io.WriteString(w, `<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>`) //nolint:errcheck
		}
	}))
	defer s3api.Close()
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", daemon.LocalAddr().String())
	t.Setenv("AWS_XRAY_SDK_DISABLED", "")
	t.Setenv("AWS_ENDPOINT_URL", s3api.URL)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")

	cfg, err := Load(context.Background())
	require.NoError(t, err)
	client := s3.NewFromConfig(cfg, S3PathStyle)
	//nolint:staticcheck // aws-lambda-go's own key for the invocation's trace header
	ctx := context.WithValue(context.Background(), "x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("events/données été #1.json"), Body: strings.NewReader("{}")})
	require.NoError(t, err)
	_, err = client.ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)

	read := func() map[string]any {
		require.NoError(t, daemon.SetReadDeadline(time.Now().Add(5*time.Second)))
		buf := make([]byte, 64<<10)
		n, err := daemon.Read(buf)
		require.NoError(t, err)
		_, body, ok := strings.Cut(string(buf[:n]), "\n")
		require.True(t, ok, "the daemon header, then the document: %s", buf[:n])
		var doc map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &doc))
		return doc
	}
	put := read()
	assert.Equal(t, "S3", put["name"])
	assert.Equal(t, "subsegment", put["type"])
	assert.Equal(t, "1-5759e988-bd862e3fe1be46a994272793", put["trace_id"])
	assert.Equal(t, "53995c3f42cd8ad8", put["parent_id"])
	assert.Equal(t, map[string]any{
		"operation": "PutObject", "region": "eu-west-1", "retries": 0.0,
		"request_id": "C3D13FE58DE4C810", "id_2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
		"bucket_name": "lake", "key": "events/données été #1.json",
	}, put["aws"])
	list := read()
	assert.Equal(t, "ListBuckets", list["aws"].(map[string]any)["operation"])
	assert.NotContains(t, list["aws"], "bucket_name")
}

// TestLoadRejectsBadDaemonAddress: an AWS_XRAY_DAEMON_ADDRESS the X-Ray SDK
// would reject fails init, naming the variable.
func TestLoadRejectsBadDaemonAddress(t *testing.T) {
	t.Setenv("AWS_XRAY_SDK_DISABLED", "")
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1")
	t.Setenv("AWS_REGION", "eu-west-1")
	_, err := Load(context.Background())
	require.ErrorContains(t, err, "AWS_XRAY_DAEMON_ADDRESS")
}
