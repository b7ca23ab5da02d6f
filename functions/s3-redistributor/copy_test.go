package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
)

const kmsKey = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func TestPlanParts(t *testing.T) {
	tests := map[string]struct {
		size, partSize int64
		wantParts      int
		wantPartSize   int64
		err            error
	}{
		"just over 5 GiB":        {size: 5<<30 + 1, partSize: 512 << 20, wantParts: 11, wantPartSize: 512 << 20},
		"exact multiple":         {size: 10 << 30, partSize: 512 << 20, wantParts: 20, wantPartSize: 512 << 20},
		"test threshold":         {size: 11 << 20, partSize: 5 << 20, wantParts: 3, wantPartSize: 5 << 20},
		"one byte":               {size: 1, partSize: 5 << 20, wantParts: 1, wantPartSize: 5 << 20},
		"grows past 10,000":      {size: 6 << 40, partSize: 512 << 20, wantParts: 9987, wantPartSize: 630 << 20},
		"10,000 parts of 5 GiB":  {size: maxParts * maxPartSize, partSize: 512 << 20, wantParts: maxParts, wantPartSize: maxPartSize},
		"too large":              {size: maxParts*maxPartSize + 1, partSize: 512 << 20, err: ErrTooLarge},
		"empty object cannot be": {size: 0, partSize: 512 << 20, err: errors.New("multipart copy of an object of 0 bytes")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			parts, err := planParts(tc.size, tc.partSize)
			if tc.err != nil {
				require.Error(t, err)
				if errors.Is(tc.err, ErrTooLarge) {
					assert.ErrorIs(t, err, ErrTooLarge)
				} else {
					assert.EqualError(t, err, tc.err.Error())
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantParts, len(parts))
			assert.LessOrEqual(t, len(parts), maxParts)
			next := int64(0)
			for i, p := range parts {
				length := p.Last - p.First + 1
				require.Equal(t, next, p.First, "part %d starts where the one before ended", i+1)
				require.LessOrEqual(t, length, int64(maxPartSize))
				if i < len(parts)-1 {
					require.Equal(t, tc.wantPartSize, length, "part %d", i+1)
					require.GreaterOrEqual(t, length, int64(minPartSize))
				}
				next = p.Last + 1
			}
			assert.Equal(t, tc.size, next, "the parts cover the object")
		})
	}
}

// newCopier returns a copier over f with cfg's defaults (5 GiB threshold,
// 512 MiB parts) and instant retries.
func newCopier(t *testing.T, f *fakeS3, vars map[string]string) *copier {
	t.Helper()
	env := map[string]string{"DESTINATIONS": "s3://lake/events/dt={yyyy}-{MM}-{dd}/hour={HH}/{filename}"}
	for k, v := range vars {
		env[k] = v
	}
	return &copier{s3: f, cfg: mustConfig(t, env)}
}

// bigObject stores a source of size bytes (without data) with metadata.
func bigObject(f *fakeS3, size int64) (batch.S3Object, *s3.HeadObjectOutput) {
	o := f.put("landing", "incoming/big.json.gz", nil, "application/json")
	o.size, o.etag = size, `"big-etag"`
	o.contentEncoding = "gzip"
	o.metadata = map[string]string{"origin": "firehose", "schema": "v2"}
	src := batch.S3Object{Bucket: "landing", Key: "incoming/big.json.gz"}
	head, _ := f.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(src.Bucket), Key: aws.String(src.Key)})
	return src, head
}

var bigTarget = Target{Bucket: "lake", Key: "events/dt=2024-05-01/hour=13/big.json.gz"}

// TestMultipartCopyJustOver5GiB copies an object one byte over CopyObject's
// limit: it must go in 512 MiB parts through UploadPartCopy, keep the
// content type, encoding and user metadata, and apply the KMS key.
func TestMultipartCopyJustOver5GiB(t *testing.T) {
	f := newFakeS3()
	c := newCopier(t, f, map[string]string{"KMS_KEY_ID": kmsKey})
	src, head := bigObject(f, 5<<30+1)

	status, n, err := c.copyTo(context.Background(), src, head, bigTarget)
	require.NoError(t, err)
	assert.Equal(t, CopyMultipart, status)
	assert.Equal(t, int64(5<<30+1), n)
	assert.Zero(t, f.count("CopyObject"), "CopyObject refuses sources over 5 GiB")
	assert.Equal(t, 11, f.count("UploadPartCopy"))
	assert.Equal(t, 1, f.count("CompleteMultipartUpload"))
	assert.Zero(t, f.count("AbortMultipartUpload"))

	dst := f.object("lake", bigTarget.Key)
	require.NotNil(t, dst)
	assert.Equal(t, int64(5<<30+1), dst.size)
	assert.Equal(t, "application/json", dst.contentType)
	assert.Equal(t, "gzip", dst.contentEncoding)
	assert.Equal(t, map[string]string{"origin": "firehose", "schema": "v2",
		metaSource: "landing/incoming/big.json.gz", metaSourceETag: `"big-etag"`}, dst.metadata, "user metadata kept, provenance added")
	assert.Equal(t, types.ServerSideEncryptionAwsKms, dst.sse)
	assert.Equal(t, kmsKey, dst.kmsKey)
	assert.Empty(t, f.uploads, "no upload left open")

	// A second copy finds it up to date: it names its source and ETag.
	status, n, err = c.copyTo(context.Background(), src, head, bigTarget)
	require.NoError(t, err)
	assert.Equal(t, CopyUpToDate, status)
	assert.Zero(t, n)
	assert.Equal(t, 1, f.count("CreateMultipartUpload"))
}

// TestMultipartCopyAtThreshold: an object of exactly the threshold is
// still one CopyObject.
func TestMultipartCopyAtThreshold(t *testing.T) {
	f := newFakeS3()
	c := newCopier(t, f, nil)
	src, head := bigObject(f, 5<<30)
	status, _, err := c.copyTo(context.Background(), src, head, bigTarget)
	require.NoError(t, err)
	assert.Equal(t, CopyCopied, status)
	assert.Equal(t, 1, f.count("CopyObject"))
	assert.Zero(t, f.count("CreateMultipartUpload"))
}

// TestMultipartCopyData copies real bytes in 5 MiB parts and checks the
// copy byte for byte.
func TestMultipartCopyData(t *testing.T) {
	f := newFakeS3()
	c := newCopier(t, f, map[string]string{"MULTIPART_THRESHOLD": "5MiB", "MULTIPART_PART_SIZE": "5MiB", "CONCURRENCY": "3"})
	data := make([]byte, 11<<20+17)
	for i := range data {
		data[i] = byte(i * 7)
	}
	f.put("landing", "incoming/data.bin", data, "application/octet-stream")
	src := batch.S3Object{Bucket: "landing", Key: "incoming/data.bin"}
	head, err := c.head(context.Background(), src.Bucket, src.Key)
	require.NoError(t, err)

	status, _, err := c.copyTo(context.Background(), src, head, bigTarget)
	require.NoError(t, err)
	assert.Equal(t, CopyMultipart, status)
	assert.Equal(t, 3, f.count("UploadPartCopy"))
	assert.Equal(t, data, f.object("lake", bigTarget.Key).data)
}

// TestMultipartCopyAborts: a part that cannot be copied aborts the upload,
// so that no parts are left behind, and fails the copy.
func TestMultipartCopyAborts(t *testing.T) {
	f := newFakeS3()
	c := newCopier(t, f, map[string]string{"CONCURRENCY": "1"})
	var parts atomic.Int32
	f.fail = func(op, _, _ string) error {
		if op == "UploadPartCopy" && parts.Add(1) == 3 {
			return apiError("AccessDenied")
		}
		return nil
	}
	src, head := bigObject(f, 6<<30)
	_, _, err := c.copyTo(context.Background(), src, head, bigTarget)
	require.Error(t, err)
	assert.ErrorContains(t, err, "multipart copy to s3://lake/events/dt=2024-05-01/hour=13/big.json.gz: part 3 (bytes 1073741824-1610612735)")
	assert.ErrorContains(t, err, "AccessDenied")
	assert.Equal(t, 1, f.count("AbortMultipartUpload"))
	assert.Zero(t, f.count("CompleteMultipartUpload"))
	assert.Nil(t, f.object("lake", bigTarget.Key))
	assert.Empty(t, f.uploads)
}

// TestMultipartCopyRetriesPart: a throttled part is retried, not the copy.
func TestMultipartCopyRetriesPart(t *testing.T) {
	f := newFakeS3()
	c := newCopier(t, f, map[string]string{"CONCURRENCY": "1"})
	var parts atomic.Int32
	f.fail = func(op, _, _ string) error {
		if op == "UploadPartCopy" && parts.Add(1) == 2 {
			return apiError("SlowDown")
		}
		return nil
	}
	src, head := bigObject(f, 5<<30+1)
	status, _, err := c.copyTo(context.Background(), src, head, bigTarget)
	require.NoError(t, err)
	assert.Equal(t, CopyMultipart, status)
	assert.Equal(t, 12, f.count("UploadPartCopy"), "11 parts, one of them twice")
	assert.Equal(t, 1, f.count("CreateMultipartUpload"))
}

// TestCopyObjectInput checks the single-call copy: the source's headers and
// user metadata set again with the REPLACE directive, beside the copy's
// provenance; the source URL-encoded and pinned to its ETag; the
// destination required absent; and the KMS key applied.
func TestCopyObjectInput(t *testing.T) {
	f := newFakeS3()
	c := newCopier(t, f, map[string]string{"KMS_KEY_ID": kmsKey})
	o := f.put("landing", "incoming/a b+c/données #1.json", []byte(`{"a":1}`), "application/json")
	o.contentEncoding, o.metadata = "identity", map[string]string{"k": "v"}
	src := batch.S3Object{Bucket: "landing", Key: "incoming/a b+c/données #1.json"}
	head, err := c.head(context.Background(), src.Bucket, src.Key)
	require.NoError(t, err)

	status, n, err := c.copyTo(context.Background(), src, head, Target{Bucket: "lake", Key: "x/données #1.json"})
	require.NoError(t, err)
	assert.Equal(t, CopyCopied, status)
	assert.Equal(t, int64(7), n)
	require.Len(t, f.copies, 1)
	in := f.copies[0]
	assert.Equal(t, "landing/incoming/a%20b%2Bc/donn%C3%A9es%20%231.json", aws.ToString(in.CopySource))
	assert.Equal(t, types.MetadataDirectiveReplace, in.MetadataDirective)
	assert.Equal(t, "application/json", aws.ToString(in.ContentType))
	assert.Equal(t, "identity", aws.ToString(in.ContentEncoding))
	assert.Equal(t, o.etag, aws.ToString(in.CopySourceIfMatch))
	assert.Equal(t, "*", aws.ToString(in.IfNoneMatch), "a first copy lands only where nothing is")
	assert.Nil(t, in.IfMatch)
	assert.Equal(t, types.ServerSideEncryptionAwsKms, in.ServerSideEncryption)
	assert.Equal(t, kmsKey, aws.ToString(in.SSEKMSKeyId))

	dst := f.object("lake", "x/données #1.json")
	require.NotNil(t, dst)
	assert.Equal(t, []byte(`{"a":1}`), dst.data)
	assert.Equal(t, "application/json", dst.contentType)
	assert.Equal(t, "identity", dst.contentEncoding)
	assert.Equal(t, map[string]string{"k": "v", metaSource: "landing/incoming/a%20b%2Bc/donn%C3%A9es%20%231.json", metaSourceETag: o.etag}, dst.metadata)
}

// TestCopyWithoutKMS leaves encryption to the destination bucket.
func TestCopyWithoutKMS(t *testing.T) {
	f := newFakeS3()
	c := newCopier(t, f, nil)
	f.put("landing", "incoming/a.json", []byte("x"), "")
	src := batch.S3Object{Bucket: "landing", Key: "incoming/a.json"}
	head, err := c.head(context.Background(), src.Bucket, src.Key)
	require.NoError(t, err)
	_, _, err = c.copyTo(context.Background(), src, head, Target{Bucket: "lake", Key: "a.json"})
	require.NoError(t, err)
	require.Len(t, f.copies, 1)
	assert.Empty(t, f.copies[0].ServerSideEncryption)
	assert.Nil(t, f.copies[0].SSEKMSKeyId)
}

func TestCopyInPlace(t *testing.T) {
	f := newFakeS3()
	c := newCopier(t, f, nil)
	f.put("landing", "a.json", []byte("x"), "")
	src := batch.S3Object{Bucket: "landing", Key: "a.json"}
	head, err := c.head(context.Background(), src.Bucket, src.Key)
	require.NoError(t, err)
	status, _, err := c.copyTo(context.Background(), src, head, Target{Bucket: "landing", Key: "a.json"})
	require.NoError(t, err)
	assert.Equal(t, CopyInPlace, status)
	assert.Zero(t, f.count("CopyObject"))
}

// TestJudge: a destination is taken for this source's copy only when its
// metadata says so (or it holds the very same bytes); another source's copy
// or a stranger's object is a collision, never "up to date", never
// overwritten.
func TestJudge(t *testing.T) {
	src := batch.S3Object{Bucket: "landing", Key: "incoming/app1/part-00000.json"}
	head := &s3.HeadObjectOutput{ContentLength: aws.Int64(10), ETag: aws.String(`"a"`)}
	dst := Target{Bucket: "lake", Key: "events/part-00000.json"}
	object := func(size int64, etag string, meta map[string]string) *s3.HeadObjectOutput {
		return &s3.HeadObjectOutput{ContentLength: aws.Int64(size), ETag: aws.String(etag), Metadata: meta}
	}
	ours := func(etag string) map[string]string {
		return map[string]string{metaSource: "landing/incoming/app1/part-00000.json", metaSourceETag: etag}
	}
	tests := map[string]struct {
		existing *s3.HeadObjectOutput
		want     *condition // nil: up to date
		err      string
	}{
		"missing":                    {existing: nil, want: &condition{ifNoneMatch: aws.String("*")}},
		"its copy":                   {existing: object(10, `"kms"`, ours(`"a"`))},
		"its copy, source rewritten": {existing: object(10, `"old"`, ours(`"b"`)), want: &condition{ifMatch: aws.String(`"old"`)}},
		"another source's copy, same size": {
			existing: object(10, `"c"`, map[string]string{metaSource: "landing/incoming/app2/part-00000.json", metaSourceETag: `"c"`}),
			err:      "destination collision: s3://lake/events/part-00000.json is the copy of s3://landing/incoming/app2/part-00000.json, not of s3://landing/incoming/app1/part-00000.json",
		},
		"no provenance, same bytes": {existing: object(10, `"a"`, nil)},
		"no provenance, same size":  {existing: object(10, `"b"`, nil), err: "destination collision: s3://lake/events/part-00000.json holds another object (not a copy made by this function)"},
		"no provenance, other size": {existing: object(11, `"a"`, nil), err: "destination collision"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cond, err := judge(src, head, tc.existing, dst)
			if tc.err != "" {
				assert.ErrorIs(t, err, ErrCollision)
				assert.ErrorContains(t, err, tc.err)
				assert.Nil(t, cond)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, cond)
		})
	}
}

func TestSourceID(t *testing.T) {
	assert.Equal(t, "b/a%20b%2Bc", sourceID("b", "a b+c"))
	long := sourceID("b", strings.Repeat("é", 300))
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, long, "a long key is named by its hash, within S3's 2 KB of metadata")
	assert.NotEqual(t, long, sourceID("b", strings.Repeat("é", 301)))
}

func TestVerifyMoved(t *testing.T) {
	f := newFakeS3()
	c := newCopier(t, f, nil)
	f.put("lake", "copy.json", []byte("12345"), "")
	f.put("lake", "named.json", []byte("12345"), "").metadata = map[string]string{metaSource: "landing/a.json", metaSourceETag: `"e1"`}
	tests := map[string]struct {
		src batch.S3Object
		dst Target
		err string
	}{
		"its named copy":                {src: batch.S3Object{Bucket: "landing", Key: "a.json", ETag: "e1", Size: 5}, dst: Target{Bucket: "lake", Key: "named.json"}},
		"its named copy, no ETag given": {src: batch.S3Object{Bucket: "landing", Key: "a.json"}, dst: Target{Bucket: "lake", Key: "named.json"}},
		"another version's copy":        {src: batch.S3Object{Bucket: "landing", Key: "a.json", ETag: "e2", Size: 9}, dst: Target{Bucket: "lake", Key: "named.json"}},
		"another source's copy":         {src: batch.S3Object{Bucket: "landing", Key: "b.json", Size: 5}, dst: Target{Bucket: "lake", Key: "named.json"}, err: "source object is gone and not at its destinations: destination collision: s3://lake/named.json is the copy of s3://landing/a.json"},
		"copy there":                    {src: batch.S3Object{Bucket: "landing", Key: "a.json", Size: 5}, dst: Target{Bucket: "lake", Key: "copy.json"}},
		"size not in event":             {src: batch.S3Object{Bucket: "landing", Key: "a.json"}, dst: Target{Bucket: "lake", Key: "copy.json"}},
		"copy missing":                  {src: batch.S3Object{Bucket: "landing", Key: "a.json", Size: 5}, dst: Target{Bucket: "lake", Key: "other.json"}, err: "source object is gone and not at its destinations: s3://lake/other.json is missing"},
		"copy of other size":            {src: batch.S3Object{Bucket: "landing", Key: "a.json", Size: 6}, dst: Target{Bucket: "lake", Key: "copy.json"}, err: "source object is gone and not at its destinations: s3://lake/copy.json has 5 bytes, the event reported 6"},
		"its own destination":           {src: batch.S3Object{Bucket: "lake", Key: "copy.json"}, dst: Target{Bucket: "lake", Key: "copy.json"}, err: "source object is gone and not at its destinations: s3://lake/copy.json is its own destination"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := c.verifyMoved(context.Background(), tc.src, tc.dst)
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, ErrNotMoved)
			assert.EqualError(t, err, tc.err)
		})
	}
}

func TestCopySource(t *testing.T) {
	tests := map[string]struct{ bucket, key, want string }{
		"plain":          {"b", "incoming/2024/05/01/13/s-1-2024.gz", "b/incoming/2024/05/01/13/s-1-2024.gz"},
		"space and plus": {"b", "a b+c", "b/a%20b%2Bc"},
		"non-ASCII":      {"b", "données/été", "b/donn%C3%A9es/%C3%A9t%C3%A9"},
		"reserved":       {"b", "k=v&x?y#z%", "b/k%3Dv%26x%3Fy%23z%25"},
		"unreserved":     {"b", "A-z_0.9~", "b/A-z_0.9~"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, copySource(tc.bucket, tc.key))
		})
	}
}

// lostAnswer is S3 whose first CopyObject answer is lost after the copy was
// made, as faultproxy's dropped responses are.
type lostAnswer struct {
	*fakeS3
	lost atomic.Bool
}

func (l *lostAnswer) CopyObject(ctx context.Context, in *s3.CopyObjectInput, opts ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	out, err := l.fakeS3.CopyObject(ctx, in, opts...)
	if err == nil && l.lost.CompareAndSwap(false, true) {
		return nil, errors.New("read tcp: connection reset by peer")
	}
	return out, err
}

// TestCopyLostAnswer: a copy whose answer was lost is retried; S3 refuses
// the retry (the destination now exists), and the destination, read again,
// is found to be this source's copy.
func TestCopyLostAnswer(t *testing.T) {
	f := newFakeS3()
	store := &lostAnswer{fakeS3: f}
	c := &copier{s3: store, cfg: mustConfig(t, map[string]string{"DESTINATIONS": "s3://lake/events/{yyyy}/{filename}"})}
	f.put("landing", "incoming/a.json", []byte("x"), "")
	src := batch.S3Object{Bucket: "landing", Key: "incoming/a.json"}
	head, err := c.head(context.Background(), src.Bucket, src.Key)
	require.NoError(t, err)
	status, _, err := c.copyTo(context.Background(), src, head, Target{Bucket: "lake", Key: "a.json"})
	require.NoError(t, err)
	assert.Equal(t, CopyUpToDate, status)
	assert.Equal(t, 2, f.count("CopyObject"), "the retry was refused by its condition")
	assert.Equal(t, 2, slices.Index(f.sortedCalls(), "HeadObject landing/incoming/a.json")-slices.Index(f.sortedCalls(), "HeadObject lake/a.json"), "the destination read twice")
	assert.Equal(t, "landing/incoming/a.json", f.object("lake", "a.json").metadata[metaSource])
}

// TestRemoveKeepsSource: a move deletes its source only if every
// destination still holds that source's copy.
func TestRemoveKeepsSource(t *testing.T) {
	f := newFakeS3()
	c := newCopier(t, f, nil)
	src := batch.S3Object{Bucket: "landing", Key: "incoming/app2/a.json"}
	o := f.put("landing", src.Key, []byte("app2"), "")
	f.put("lake", "ours.json", []byte("app2"), "").metadata = map[string]string{metaSource: "landing/incoming/app2/a.json", metaSourceETag: o.etag}
	f.put("lake", "theirs.json", []byte("app1"), "").metadata = map[string]string{metaSource: "landing/incoming/app1/a.json", metaSourceETag: `"x"`}
	f.put("lake", "stale.json", []byte("app2"), "").metadata = map[string]string{metaSource: "landing/incoming/app2/a.json", metaSourceETag: `"older"`}
	f.put("lake", "same-bytes.json", []byte("app2"), "")
	tests := map[string]struct {
		targets []string
		err     string
	}{
		"another source's copy": {targets: []string{"ours.json", "theirs.json"}, err: "source kept: destination collision: s3://lake/theirs.json is not (or no longer) the copy of s3://landing/incoming/app2/a.json"},
		"an older version's":    {targets: []string{"stale.json"}, err: "source kept: destination collision: s3://lake/stale.json"},
		"missing":               {targets: []string{"gone.json"}, err: "source kept: s3://lake/gone.json is missing"},
		"its copies":            {targets: []string{"ours.json", "same-bytes.json"}},
	}
	for _, name := range []string{"another source's copy", "an older version's", "missing", "its copies"} {
		tc := tests[name]
		t.Run(name, func(t *testing.T) {
			var targets []Target
			for _, k := range tc.targets {
				targets = append(targets, Target{Bucket: "lake", Key: k})
			}
			err := c.remove(context.Background(), src, o.etag, targets)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				assert.NotNil(t, f.object("landing", src.Key), "source kept")
				return
			}
			require.NoError(t, err)
			assert.Nil(t, f.object("landing", src.Key), "source deleted")
		})
	}
}
