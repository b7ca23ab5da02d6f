package awsclient

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/moto"
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
