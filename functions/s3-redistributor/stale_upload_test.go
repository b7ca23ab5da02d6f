package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMultipartCopyAbortsStaleUploads: before a multipart copy starts its
// upload, it aborts the uploads a killed copy left at the same key, and
// only those: an upload too recent to be dead, one to a longer key under
// the same prefix and one in another bucket stay.
func TestMultipartCopyAbortsStaleUploads(t *testing.T) {
	f := newFakeS3()
	c := newCopier(t, f, nil)
	src, head := bigObject(f, 5<<30+1)
	now := time.Now()
	leftovers := map[string]*fakeUpload{
		"killed-an-hour-ago":  {bucket: "lake", key: bigTarget.Key, initiated: now.Add(-time.Hour)},
		"killed-just-now":     {bucket: "lake", key: bigTarget.Key, initiated: now.Add(-staleUploadAge - time.Second)},
		"maybe-still-running": {bucket: "lake", key: bigTarget.Key, initiated: now.Add(-staleUploadAge + time.Minute)},
		"longer-key":          {bucket: "lake", key: bigTarget.Key + ".tmp", initiated: now.Add(-time.Hour)},
		"other-bucket":        {bucket: "landing", key: bigTarget.Key, initiated: now.Add(-time.Hour)},
	}
	for id, up := range leftovers {
		up.parts = map[int32]fakePart{}
		f.uploads[id] = up
	}

	status, _, err := c.copyTo(context.Background(), src, head, bigTarget)
	require.NoError(t, err)
	assert.Equal(t, CopyMultipart, status)
	assert.Equal(t, []string{"longer-key", "maybe-still-running", "other-bucket"}, slices.Sorted(maps.Keys(f.uploads)))
	assert.Equal(t, 2, f.count("AbortMultipartUpload"))
	assert.Equal(t, 1, f.count("ListMultipartUploads"))
	assert.Contains(t, f.calls, "ListMultipartUploads lake/"+bigTarget.Key, "listed by the destination key as prefix")
}

// TestMultipartCopyWithoutUploadListing: a policy without
// s3:ListBucketMultipartUploads costs the clean-up, not the copy.
func TestMultipartCopyWithoutUploadListing(t *testing.T) {
	f := newFakeS3()
	f.fail = func(op, _, _ string) error {
		if op == "ListMultipartUploads" {
			return apiError("AccessDenied")
		}
		return nil
	}
	c := newCopier(t, f, nil)
	src, head := bigObject(f, 5<<30+1)

	status, _, err := c.copyTo(context.Background(), src, head, bigTarget)
	require.NoError(t, err)
	assert.Equal(t, CopyMultipart, status)
	assert.Zero(t, f.count("AbortMultipartUpload"))
	assert.NotNil(t, f.object("lake", bigTarget.Key))
}

// TestIntegrationRetryAbortsKilledUpload: a multipart copy killed midway
// leaves an incomplete upload at its destination (here made by hand, with
// one part copied, as the killed invocation would have). The retry, the
// real binary against moto, aborts it and completes its own; an upload to
// another key under the same prefix is not touched. moto reports every
// upload as initiated in 2010, so the leftover is stale.
func TestIntegrationRetryAbortsKilledUpload(t *testing.T) {
	l := newLake(t)
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16)
	key := "incoming/2024/05/01/13/big-stream-1-2024-05-01-13-05-09-" + uuid + ".gz"
	_, err := l.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(landing), Key: aws.String(key), Body: bytes.NewReader(big)})
	require.NoError(t, err)
	hourly := "events/hourly/dt=2024-05-01/hour=13/big-stream-1-2024-05-01-13-05-09-" + uuid + ".gz"
	killed := l.startUpload(t, hourly)
	_, err = l.s3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
		Bucket: aws.String(lake), Key: aws.String(hourly), UploadId: killed, PartNumber: aws.Int32(1),
		CopySource: aws.String(landing + "/" + key), CopySourceRange: aws.String("bytes=0-5242879"),
	})
	require.NoError(t, err)
	other := l.startUpload(t, hourly+".other")

	event := []byte(`{"Records":[` + notificationRecord(key, len(big)) + `]}`)
	resp, err, logs := run(t, event, map[string]string{"MULTIPART_THRESHOLD": "5MiB", "MULTIPART_PART_SIZE": "5MiB"})
	require.NoError(t, err, logs)
	var res Result
	require.NoError(t, json.Unmarshal(resp, &res))
	require.Len(t, res.Objects, 1)
	require.Len(t, res.Objects[0].Copies, 2)
	assert.Equal(t, CopyMultipart, res.Objects[0].Copies[0].Status)
	b, _ := l.body(t, lake, hourly)
	assert.True(t, bytes.Equal(big, b), "the copy is complete")

	uploads, err := l.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(lake)})
	require.NoError(t, err)
	var left []string
	for _, u := range uploads.Uploads {
		left = append(left, aws.ToString(u.UploadId))
	}
	assert.Equal(t, []string{aws.ToString(other)}, left, "the killed copy's upload is aborted, the other key's is not")
}

// startUpload starts a multipart upload to key in the lake bucket.
func (l *awsLake) startUpload(t *testing.T, key string) *string {
	t.Helper()
	out, err := l.s3.CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{Bucket: aws.String(lake), Key: aws.String(key)})
	require.NoError(t, err)
	return out.UploadId
}
