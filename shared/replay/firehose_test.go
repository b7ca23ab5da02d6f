package replay

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/streamput"
)

// bucket is an in-memory S3 bucket: objects by key, listed two to a page.
type bucket struct {
	objects map[string]*fakeObject
	failTag bool
}

type fakeObject struct {
	body     []byte
	tags     []s3types.Tag
	modified time.Time
}

func newBucket() *bucket { return &bucket{objects: map[string]*fakeObject{}} }

func (b *bucket) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	var keys []string
	for k := range b.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > aws.ToString(in.ContinuationToken) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := &s3.ListObjectsV2Output{}
	if len(keys) > 2 {
		keys = keys[:2]
		out.IsTruncated, out.NextContinuationToken = aws.Bool(true), aws.String(keys[1])
	}
	for _, k := range keys {
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k), LastModified: aws.Time(b.objects[k].modified)})
	}
	return out, nil
}

func (b *bucket) object(key *string) (*fakeObject, error) {
	o, ok := b.objects[aws.ToString(key)]
	if !ok {
		return nil, &s3types.NoSuchKey{}
	}
	return o, nil
}

func (b *bucket) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	o, err := b.object(in.Key)
	if err != nil {
		return nil, err
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(o.body))}, nil
}

func (b *bucket) GetObjectTagging(_ context.Context, in *s3.GetObjectTaggingInput, _ ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error) {
	o, err := b.object(in.Key)
	if err != nil {
		return nil, err
	}
	return &s3.GetObjectTaggingOutput{TagSet: slices.Clone(o.tags)}, nil
}

func (b *bucket) PutObjectTagging(_ context.Context, in *s3.PutObjectTaggingInput, _ ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error) {
	if b.failTag {
		return nil, errors.New("AccessDenied")
	}
	o, err := b.object(in.Key)
	if err != nil {
		return nil, err
	}
	o.tags = in.Tagging.TagSet
	return &s3.PutObjectTaggingOutput{}, nil
}

func (b *bucket) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	b.objects[aws.ToString(in.Key)] = &fakeObject{body: body, modified: time.Now()}
	return &s3.PutObjectOutput{}, nil
}

func (b *bucket) CopyObject(_ context.Context, in *s3.CopyObjectInput, _ ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	_, escaped, _ := strings.Cut(aws.ToString(in.CopySource), "/")
	src, err := url.PathUnescape(escaped)
	if err != nil {
		return nil, err
	}
	o, err := b.object(&src)
	if err != nil {
		return nil, err
	}
	b.objects[aws.ToString(in.Key)] = &fakeObject{body: o.body, tags: o.tags, modified: o.modified}
	return &s3.CopyObjectOutput{}, nil
}

func (b *bucket) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	delete(b.objects, aws.ToString(in.Key))
	return &s3.DeleteObjectOutput{}, nil
}

func (b *bucket) keys() []string {
	var keys []string
	for k := range b.objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (b *bucket) tag(key, name string) string {
	for _, t := range b.objects[key].tags {
		if aws.ToString(t.Key) == name {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// stream is a fake Writer: what it accepted, in order; reject says which
// records (by data) it rejects, and with what.
type stream struct {
	put    []string
	reject map[string]string
}

func (s *stream) Put(_ context.Context, entries []streamput.Entry) ([]streamput.Failure, error) {
	var failures []streamput.Failure
	for i, e := range entries {
		if why, ok := s.reject[string(e.Data)]; ok {
			failures = append(failures, streamput.Failure{Index: i, Err: why})
			continue
		}
		s.put = append(s.put, string(e.Data))
	}
	if len(failures) > 0 {
		return failures, fmt.Errorf("%d records not written", len(failures))
	}
	return nil, nil
}

// errorLines is an error object holding records with the given data.
func errorLines(data ...string) []byte {
	var b []byte
	for i, d := range data {
		line, _ := json.Marshal(map[string]string{
			"attemptsMade": "4", "arrivalTimestamp": "1714568400000", "errorCode": "Lambda.FunctionError",
			"errorMessage": fmt.Sprintf("failure %d", i), "attemptEndingTimestamp": "1714568460000",
			"rawData": base64.StdEncoding.EncodeToString([]byte(d)),
		})
		b = append(append(b, line...), '\n')
	}
	return b
}

const errPrefix = "errors/processing-failed/"

// key is an error object key as Firehose names it, delivered at hour h of
// 2024-05-01.
func key(h int, n int) string {
	return fmt.Sprintf("%s2024/05/01/%02d/lakestream-json-1-2024-05-01-%02d-00-0%d-4f1c2a9e-7d43-4b7e-9a55-2f1b3c4d5e6f", errPrefix, h, h, n)
}

var clock = func() time.Time { return time.Date(2024, 5, 2, 9, 0, 0, 0, time.UTC) }

func firehoseRun(t *testing.T, b *bucket, w *stream, change func(*Firehose)) (Summary, string, error) {
	t.Helper()
	var progress bytes.Buffer
	f := Firehose{S3: b, Bucket: "lake", Prefix: errPrefix, Writer: w, Target: "delivery stream lakestream-json", Apply: true, Progress: &progress, Now: clock}
	if change != nil {
		change(&f)
	}
	sum, err := f.Run(context.Background())
	return sum, progress.String(), err
}

// TestFirehoseReplay: a dry run reads and changes nothing; a run puts
// every record back and tags each object; a second run skips them.
func TestFirehoseReplay(t *testing.T) {
	b := newBucket()
	b.objects[key(13, 1)] = &fakeObject{body: errorLines("a\n", "b\n")}
	b.objects[key(14, 2)] = &fakeObject{body: errorLines("c\n"), tags: []s3types.Tag{{Key: aws.String("owner"), Value: aws.String("lake")}}}
	b.objects[key(15, 3)] = &fakeObject{body: errorLines("d\n", "e\n", "f\n")}
	b.objects[errPrefix] = &fakeObject{} // the console's "folder"
	w := &stream{}

	sum, progress, err := firehoseRun(t, b, w, func(f *Firehose) { f.Apply = false })
	require.NoError(t, err)
	assert.Equal(t, Summary{DryRun: true, Sources: 3, Replayed: 6}, zeroElapsed(sum))
	assert.Empty(t, w.put)
	assert.Empty(t, b.tag(key(13, 1), TagReplayed))
	assert.Contains(t, progress, "[1/3 ")
	assert.Contains(t, progress, "would put 2 records into delivery stream lakestream-json (Lambda.FunctionError x2)")
	assert.Contains(t, progress, "first error: failure 0")

	sum, progress, err = firehoseRun(t, b, w, nil)
	require.NoError(t, err)
	assert.Equal(t, Summary{Sources: 3, Done: 3, Replayed: 6}, zeroElapsed(sum))
	assert.Equal(t, []string{"a\n", "b\n", "c\n", "d\n", "e\n", "f\n"}, w.put)
	assert.Equal(t, "2024-05-02T09:00:00Z", b.tag(key(13, 1), TagReplayed))
	assert.Equal(t, "2", b.tag(key(13, 1), TagRecords))
	assert.Equal(t, "lake", b.tag(key(14, 2), "owner"), "other tags kept")
	assert.Contains(t, progress, "2 records put into delivery stream lakestream-json; tagged lakestream:replayed")

	sum, progress, err = firehoseRun(t, b, w, nil)
	require.NoError(t, err)
	assert.Equal(t, Summary{Sources: 3, Skipped: 6}, zeroElapsed(sum))
	assert.Len(t, w.put, 6, "nothing sent twice")
	assert.Contains(t, progress, "skipped, its 3 records were replayed at 2024-05-02T09:00:00Z")
}

func zeroElapsed(s Summary) Summary {
	s.Elapsed = 0
	return s
}

// TestFirehoseReplayRange: only objects delivered in [From, To), by the
// time in their Firehose name, or their LastModified when the name has
// none.
func TestFirehoseReplayRange(t *testing.T) {
	b := newBucket()
	for h := 12; h <= 15; h++ {
		b.objects[key(h, 0)] = &fakeObject{body: errorLines(fmt.Sprintf("%d\n", h))}
	}
	b.objects[errPrefix+"renamed.json"] = &fakeObject{body: errorLines("renamed\n"), modified: time.Date(2024, 5, 1, 13, 30, 0, 0, time.UTC)}
	w := &stream{}
	sum, _, err := firehoseRun(t, b, w, func(f *Firehose) {
		f.From, f.To = time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC), time.Date(2024, 5, 1, 15, 0, 0, 0, time.UTC)
	})
	require.NoError(t, err)
	assert.Equal(t, 3, sum.Sources)
	assert.Equal(t, []string{"13\n", "14\n", "renamed\n"}, w.put)
}

// TestFirehoseReplayPartial: records rejected past every retry are kept
// in a new object beside the original, which is marked, so that the next
// run sends those and nothing twice; records no retry can deliver (not
// records, too large) are reported and stay in the original.
func TestFirehoseReplayPartial(t *testing.T) {
	b := newBucket()
	body := append(errorLines("a\n", "big\n", "b\n", "c\n"), "not a record\n"...)
	b.objects[key(13, 1)] = &fakeObject{body: body}
	w := &stream{reject: map[string]string{
		"b\n":   "ServiceUnavailableException: Slow down.",
		"big\n": streamput.ErrRecordTooLarge.Error() + ": 1200000 bytes, limit 1024000",
	}}
	sum, progress, err := firehoseRun(t, b, w, nil)
	require.NoError(t, err)
	assert.Equal(t, Summary{Sources: 1, Done: 1, Replayed: 2, Failed: 3}, zeroElapsed(sum))
	assert.Equal(t, []string{"a\n", "c\n"}, w.put)
	leftover := key(13, 1) + "-unsent-20240502T090000Z"
	assert.Equal(t, []string{key(13, 1), leftover}, b.keys())
	assert.Equal(t, "2", b.tag(key(13, 1), TagRecords))
	assert.Contains(t, progress, "1 records not put (ServiceUnavailableException: Slow down.) are kept in s3://lake/"+leftover)
	assert.Contains(t, progress, "1 records over the per-record limit stay in the object")
	assert.Contains(t, progress, "not replayable: line 5 is not a Firehose error record")

	delete(w.reject, "b\n")
	sum, _, err = firehoseRun(t, b, w, nil)
	require.NoError(t, err)
	assert.Equal(t, Summary{Sources: 2, Done: 1, Replayed: 1, Skipped: 2}, zeroElapsed(sum))
	assert.Equal(t, []string{"a\n", "c\n", "b\n"}, w.put)
}

// TestFirehoseReplayNothingPut: an object none of whose records went in
// is left as it was, with nothing copied.
func TestFirehoseReplayNothingPut(t *testing.T) {
	b := newBucket()
	b.objects[key(13, 1)] = &fakeObject{body: errorLines("a\n", "b\n")}
	w := &stream{reject: map[string]string{"a\n": "ThrottlingException", "b\n": "ThrottlingException"}}
	sum, progress, err := firehoseRun(t, b, w, nil)
	require.NoError(t, err)
	assert.Equal(t, Summary{Sources: 1, Failed: 2}, zeroElapsed(sum))
	assert.Equal(t, []string{key(13, 1)}, b.keys())
	assert.Empty(t, b.tag(key(13, 1), TagReplayed))
	assert.Contains(t, progress, "none of 2 records put into delivery stream lakestream-json, kept for the next run: ThrottlingException")
}

// TestFirehoseReplayMove: with MoveTo, replayed objects move there (a
// re-run does not list them) instead of being tagged.
func TestFirehoseReplayMove(t *testing.T) {
	b := newBucket()
	b.objects[key(13, 1)] = &fakeObject{body: errorLines("a\n")}
	w := &stream{}
	moveTo := errPrefix + "replayed/" // under the prefix: a re-run must leave it out
	sum, _, err := firehoseRun(t, b, w, func(f *Firehose) { f.MoveTo = moveTo })
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Done)
	moved := moveTo + strings.TrimPrefix(key(13, 1), errPrefix)
	assert.Equal(t, []string{moved}, b.keys())
	assert.Empty(t, b.tag(moved, TagReplayed))

	sum, _, err = firehoseRun(t, b, w, func(f *Firehose) { f.MoveTo = moveTo })
	require.NoError(t, err)
	assert.Equal(t, 0, sum.Sources)
	assert.Equal(t, []string{"a\n"}, w.put)
}

// TestFirehoseReplayUnmarked: an object whose records went in but which
// could not be tagged is an error naming it; the run goes on.
func TestFirehoseReplayUnmarked(t *testing.T) {
	b := newBucket()
	b.objects[key(13, 1)] = &fakeObject{body: errorLines("a\n")}
	b.objects[key(14, 1)] = &fakeObject{body: errorLines("b\n")}
	b.failTag = true
	w := &stream{}
	sum, progress, err := firehoseRun(t, b, w, nil)
	require.Error(t, err)
	assert.ErrorContains(t, err, "s3://lake/"+key(13, 1)+": tag as replayed: AccessDenied")
	assert.Equal(t, Summary{Sources: 2, Replayed: 2}, zeroElapsed(sum))
	assert.Contains(t, progress, "but the object is not marked (a re-run sends them again)")
}

func TestKeyTime(t *testing.T) {
	got, ok := KeyTime(key(13, 4))
	require.True(t, ok)
	assert.Equal(t, time.Date(2024, 5, 1, 13, 0, 4, 0, time.UTC), got)
	got, ok = KeyTime(key(13, 4) + "-unsent-20240502T090000Z")
	require.True(t, ok, "a leftover keeps its original's time")
	assert.Equal(t, time.Date(2024, 5, 1, 13, 0, 4, 0, time.UTC), got)
	_, ok = KeyTime("errors/2024-05-01-13-00-04.json")
	assert.False(t, ok)
}
