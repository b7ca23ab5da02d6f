package moto

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartResetStop(t *testing.T) {
	ctx := context.Background()
	srv, err := Start(ctx)
	require.NoError(t, err)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, srv.Endpoint)

	cfg, err := srv.Config(ctx)
	require.NoError(t, err)
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")})
	require.NoError(t, err)
	list, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	require.Len(t, list.Buckets, 1)

	require.NoError(t, srv.Reset())
	list, err = client.ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	assert.Empty(t, list.Buckets, "Reset empties every service")

	env := srv.Env()
	assert.Equal(t, srv.Endpoint, env["AWS_ENDPOINT_URL"])
	assert.Equal(t, Region, env["AWS_REGION"])

	srv.Stop()
	_, err = http.Get(srv.Endpoint + "/moto-api/")
	assert.Error(t, err, "the server is gone after Stop")
}

func TestTwoServersDoNotShareState(t *testing.T) {
	ctx := context.Background()
	a, err := Start(ctx)
	require.NoError(t, err)
	defer a.Stop()
	b, err := Start(ctx)
	require.NoError(t, err)
	defer b.Stop()
	assert.NotEqual(t, a.Endpoint, b.Endpoint, "each gets its own free port")
}

func TestMissingMotoServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Start(context.Background())
	require.ErrorIs(t, err, ErrNotInstalled)
	assert.Contains(t, err.Error(), `pip install "moto[server]>=5"`, "the error says what to install")
}
