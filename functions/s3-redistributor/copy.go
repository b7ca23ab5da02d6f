package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"lakestream/shared/batch"
	"lakestream/shared/retry"
)

// objectStore is the part of the S3 API the redistributor calls.
type objectStore interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, optFns ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput, optFns ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	ListMultipartUploads(ctx context.Context, in *s3.ListMultipartUploadsInput, optFns ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// What became of one destination of an object.
const (
	// CopyCopied: copied with CopyObject.
	CopyCopied = "copied"
	// CopyMultipart: copied in parts with UploadPartCopy.
	CopyMultipart = "copied-multipart"
	// CopyUpToDate: a copy of the same size, as new as the source, was
	// already there (a repeated event).
	CopyUpToDate = "up-to-date"
	// CopyInPlace: the destination is the source object itself.
	CopyInPlace = "in-place"
	// CopyPresent: the source is gone (moved by an earlier invocation) and
	// its copy is there.
	CopyPresent = "present"
)

// ErrNotMoved means a source object is gone but its copies are not all
// there: it was deleted by something else, so nothing can be moved.
var ErrNotMoved = errors.New("source object is gone and not at its destinations")

// ErrCollision means two source objects map to one destination key (the
// template's layouts keep only the file name, and two folders held the same
// one): the destination holds, or is being given, another object's copy.
// The object fails rather than overwrite that copy or be taken for it, and
// a move keeps its source.
var ErrCollision = errors.New("destination collision")

// The user metadata every copy carries, naming the object it is a copy of:
// a destination is this source's copy only if it says so. HeadObject
// returns it, so telling costs no extra call.
const (
	// metaSource is the source's bucket/key (as sourceID writes it).
	metaSource = "lakestream-source"
	// metaSourceETag is the source's ETag when it was copied: a source
	// written again (a new ETag) is copied again over its own older copy.
	metaSourceETag = "lakestream-source-etag"
)

// copier copies objects within S3.
type copier struct {
	s3  objectStore
	cfg *Config
}

// head returns an object's metadata, or nil when there is no such object.
func (c *copier) head(ctx context.Context, bucket, key string) (*s3.HeadObjectOutput, error) {
	var out *s3.HeadObjectOutput
	err := c.cfg.Retry.Do(ctx, func(int) error {
		o, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		switch {
		case isNotFound(err):
			out = nil
			return nil
		case err != nil:
			return fmt.Errorf("head s3://%s/%s: %w", bucket, key, err)
		}
		out = o
		return nil
	})
	return out, err
}

// copyTo makes dst a copy of src, whose metadata is head, unless its copy
// is already there; it returns what it did and the bytes it copied. A
// destination that holds another object fails with ErrCollision.
//
// The copy is conditional on what HEAD found at the destination (nothing,
// or this source's older copy), so that a copy never lands on an object
// another writer put there meanwhile; when the condition fails, or a copy
// whose answer was lost is retried into its own result, the destination
// is read and judged again.
func (c *copier) copyTo(ctx context.Context, src batch.S3Object, head *s3.HeadObjectOutput, dst Target) (string, int64, error) {
	if dst.Bucket == src.Bucket && dst.Key == src.Key {
		return CopyInPlace, 0, nil
	}
	const rounds = 3
	for round := 1; ; round++ {
		existing, err := c.head(ctx, dst.Bucket, dst.Key)
		if err != nil {
			return "", 0, err
		}
		cond, err := judge(src, head, existing, dst)
		if err != nil || cond == nil {
			return CopyUpToDate, 0, err
		}
		status, size := CopyCopied, aws.ToInt64(head.ContentLength)
		if size > c.cfg.MultipartThreshold {
			status, err = CopyMultipart, c.multipartCopy(ctx, src, head, dst, *cond)
		} else {
			err = c.copyObject(ctx, src, head, dst, *cond)
		}
		if err == nil {
			return status, size, nil
		}
		if !isCode(err, "PreconditionFailed") || round == rounds {
			return "", 0, err
		}
	}
}

// copyObject copies an object of at most 5 GiB in one call.
func (c *copier) copyObject(ctx context.Context, src batch.S3Object, head *s3.HeadObjectOutput, dst Target, cond condition) error {
	h := headersOf(src, head)
	in := &s3.CopyObjectInput{
		Bucket:     aws.String(dst.Bucket),
		Key:        aws.String(dst.Key),
		CopySource: aws.String(copySource(src.Bucket, src.Key)),
		// REPLACE, to add the copy's own metadata; every header COPY would
		// keep is set from the source's (tags are still copied).
		MetadataDirective:       types.MetadataDirectiveReplace,
		ContentType:             h.contentType,
		ContentEncoding:         h.contentEncoding,
		ContentDisposition:      h.contentDisposition,
		ContentLanguage:         h.contentLanguage,
		CacheControl:            h.cacheControl,
		Expires:                 h.expires,
		WebsiteRedirectLocation: h.websiteRedirect,
		Metadata:                h.metadata,
		CopySourceIfMatch:       head.ETag,
		StorageClass:            types.StorageClass(head.StorageClass),
		IfNoneMatch:             cond.ifNoneMatch,
		IfMatch:                 cond.ifMatch,
	}
	if c.cfg.KMSKeyID != "" {
		in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String(c.cfg.KMSKeyID)
	}
	err := c.cfg.Retry.Do(ctx, func(int) error {
		_, err := c.s3.CopyObject(ctx, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst.URI(), err)
	}
	return nil
}

// condition is the precondition a copy puts on its destination: that it
// does not exist (IfNoneMatch "*"), or is still the ETag read (IfMatch).
type condition struct{ ifNoneMatch, ifMatch *string }

// judge decides, from what HEAD found at dst (existing, nil when nothing),
// whether src must be copied there: nil when src's copy is already there,
// the condition to copy under otherwise, or ErrCollision when dst holds an
// object that is not src's copy.
func judge(src batch.S3Object, head, existing *s3.HeadObjectOutput, dst Target) (*condition, error) {
	if existing == nil {
		return &condition{ifNoneMatch: aws.String("*")}, nil
	}
	id, copiedETag := existing.Metadata[metaSource], existing.Metadata[metaSourceETag]
	switch {
	case id == sourceID(src.Bucket, src.Key) && copiedETag == aws.ToString(head.ETag):
		return nil, nil
	case id == sourceID(src.Bucket, src.Key):
		// The source was written again since its copy was made.
		return &condition{ifMatch: existing.ETag}, nil
	case id != "":
		return nil, fmt.Errorf("%w: %s is the copy of s3://%s, not of %s; give the layouts a folder that tells the sources apart, or {key}",
			ErrCollision, dst.URI(), describeID(id), src.URI())
	case aws.ToInt64(existing.ContentLength) == aws.ToInt64(head.ContentLength) && existing.ETag != nil && aws.ToString(existing.ETag) == aws.ToString(head.ETag):
		// No copy of ours, but the same bytes (a copy made before copies
		// named their source): leaving it loses nothing.
		return nil, nil
	}
	return nil, fmt.Errorf("%w: %s holds another object (not a copy made by this function); %s is not copied over it", ErrCollision, dst.URI(), src.URI())
}

// sourceID names a source in its copies' metadata: bucket/key URL-encoded
// as in x-amz-copy-source (metadata values must be ASCII), or, for a key
// too long to keep within S3's 2 KB of user metadata, its SHA-256.
func sourceID(bucket, key string) string {
	id := copySource(bucket, key)
	if len(id) <= maxSourceID {
		return id
	}
	sum := sha256.Sum256([]byte(bucket + "/" + key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// maxSourceID bounds the readable form of sourceID.
const maxSourceID = 512

// describeID turns a sourceID back into bucket/key for a message.
func describeID(id string) string {
	if s, err := url.PathUnescape(id); err == nil {
		return s
	}
	return id
}

// headers are what a copy that replaces the metadata sets itself: the
// source's system metadata and user metadata, and the copy's provenance.
type headers struct {
	contentType, contentEncoding, contentDisposition, contentLanguage, cacheControl, websiteRedirect *string
	expires                                                                                          *time.Time
	metadata                                                                                         map[string]string
}

func headersOf(src batch.S3Object, head *s3.HeadObjectOutput) headers {
	h := headers{
		contentType: head.ContentType, contentEncoding: head.ContentEncoding, contentDisposition: head.ContentDisposition,
		contentLanguage: head.ContentLanguage, cacheControl: head.CacheControl, websiteRedirect: head.WebsiteRedirectLocation,
		metadata: make(map[string]string, len(head.Metadata)+2),
	}
	if head.ExpiresString != nil {
		if t, err := time.Parse(time.RFC1123, aws.ToString(head.ExpiresString)); err == nil {
			h.expires = &t
		}
	}
	maps.Copy(h.metadata, head.Metadata)
	h.metadata[metaSource] = sourceID(src.Bucket, src.Key)
	h.metadata[metaSourceETag] = aws.ToString(head.ETag)
	return h
}

// verifyMoved checks, for a source that is gone, that its copy dst is there:
// then an earlier invocation moved it and only its partitions may be left
// to register. A copy names its source; one made before copies did is
// checked by the size the event gave, when it gave one.
func (c *copier) verifyMoved(ctx context.Context, src batch.S3Object, dst Target) error {
	if dst.Bucket == src.Bucket && dst.Key == src.Key {
		return fmt.Errorf("%w: %s is its own destination", ErrNotMoved, src.URI())
	}
	existing, err := c.head(ctx, dst.Bucket, dst.Key)
	if err != nil {
		return err
	}
	if existing == nil {
		return fmt.Errorf("%w: %s is missing", ErrNotMoved, dst.URI())
	}
	// The copy of the key is enough, of whichever version: a source written
	// again after its move was moved again, over its own copy.
	id := existing.Metadata[metaSource]
	switch {
	case id != "" && id != sourceID(src.Bucket, src.Key):
		return fmt.Errorf("%w: %w: %s is the copy of s3://%s", ErrNotMoved, ErrCollision, dst.URI(), describeID(id))
	case id != "":
	case src.Size > 0 && aws.ToInt64(existing.ContentLength) != src.Size:
		return fmt.Errorf("%w: %s has %d bytes, the event reported %d", ErrNotMoved, dst.URI(), aws.ToInt64(existing.ContentLength), src.Size)
	}
	return nil
}

// remove deletes the source of a completed move, whose metadata was head,
// after checking again that each of its destinations holds its copy: a
// source is deleted only when every copy provably is its own. S3 answers a
// delete of a missing key with success, so a repeated delete is no error.
func (c *copier) remove(ctx context.Context, src batch.S3Object, etag string, targets []Target) error {
	for _, dst := range targets {
		existing, err := c.head(ctx, dst.Bucket, dst.Key)
		if err != nil {
			return fmt.Errorf("source kept: %w", err)
		}
		switch {
		case existing == nil:
			return fmt.Errorf("source kept: %s is missing", dst.URI())
		case existing.Metadata[metaSource] == sourceID(src.Bucket, src.Key) && existing.Metadata[metaSourceETag] == etag:
		case existing.Metadata[metaSource] == "" && aws.ToString(existing.ETag) == etag:
			// The same bytes, copied before copies named their source.
		default:
			return fmt.Errorf("source kept: %w: %s is not (or no longer) the copy of %s", ErrCollision, dst.URI(), src.URI())
		}
	}
	return c.cfg.Retry.Do(ctx, func(int) error {
		_, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(src.Bucket), Key: aws.String(src.Key)})
		if err != nil {
			return fmt.Errorf("delete %s: %w", src.URI(), err)
		}
		return nil
	})
}

// byteRange is one part of a multipart copy: bytes First to Last inclusive.
type byteRange struct{ First, Last int64 }

// ErrTooLarge means an object needs parts over 5 GiB to fit in 10,000.
var ErrTooLarge = errors.New("object too large to copy in 10,000 parts of at most 5 GiB")

// planParts splits size bytes into parts of partSize, grown (to a whole
// MiB) when more than 10,000 parts would be needed.
func planParts(size, partSize int64) ([]byteRange, error) {
	if size <= 0 {
		return nil, fmt.Errorf("multipart copy of an object of %d bytes", size)
	}
	if need := (size + maxParts - 1) / maxParts; need > partSize {
		partSize = (need + 1<<20 - 1) &^ (1<<20 - 1)
	}
	if partSize > maxPartSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, size)
	}
	parts := make([]byteRange, 0, (size+partSize-1)/partSize)
	for first := int64(0); first < size; first += partSize {
		parts = append(parts, byteRange{First: first, Last: min(first+partSize, size) - 1})
	}
	return parts, nil
}

// multipartCopy copies an object over CopyObject's 5 GiB limit: the parts
// are copied server-side with UploadPartCopy, Concurrency at a time, each
// pinned to the source's ETag so that all come from the same object. The
// upload carries the source's headers and the copy's provenance, and
// completes under cond, as copyObject copies. A failed
// copy is aborted, so no parts are left to be billed; what a killed copy
// left, the next copy to the same key aborts.
func (c *copier) multipartCopy(ctx context.Context, src batch.S3Object, head *s3.HeadObjectOutput, dst Target, cond condition) (err error) {
	parts, err := planParts(aws.ToInt64(head.ContentLength), c.cfg.PartSize)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst.URI(), err)
	}
	c.abortStaleUploads(ctx, dst)
	h := headersOf(src, head)
	create := &s3.CreateMultipartUploadInput{
		Bucket:                  aws.String(dst.Bucket),
		Key:                     aws.String(dst.Key),
		ContentType:             h.contentType,
		ContentEncoding:         h.contentEncoding,
		ContentDisposition:      h.contentDisposition,
		ContentLanguage:         h.contentLanguage,
		CacheControl:            h.cacheControl,
		Expires:                 h.expires,
		WebsiteRedirectLocation: h.websiteRedirect,
		Metadata:                h.metadata,
		StorageClass:            types.StorageClass(head.StorageClass),
	}
	if c.cfg.KMSKeyID != "" {
		create.ServerSideEncryption, create.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String(c.cfg.KMSKeyID)
	}
	var uploadID *string
	err = c.cfg.Retry.Do(ctx, func(int) error {
		out, err := c.s3.CreateMultipartUpload(ctx, create)
		if err != nil {
			return err
		}
		uploadID = out.UploadId
		return nil
	})
	if err != nil {
		return fmt.Errorf("start multipart copy to %s: %w", dst.URI(), err)
	}
	defer func() {
		if err != nil {
			// Abort even when ctx is done: the parts would be billed.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			aerr := c.cfg.Retry.Do(actx, func(int) error {
				_, err := c.s3.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: create.Bucket, Key: create.Key, UploadId: uploadID})
				return err
			})
			if aerr != nil {
				err = fmt.Errorf("%w (and the upload was not aborted: %w)", err, aerr)
			}
		}
	}()

	completed := make([]types.CompletedPart, len(parts))
	source := aws.String(copySource(src.Bucket, src.Key))
	var firstErr error
	var mu sync.Mutex
	forEach(ctx, len(parts), c.cfg.Concurrency, func(i int) {
		in := &s3.UploadPartCopyInput{
			Bucket:            create.Bucket,
			Key:               create.Key,
			UploadId:          uploadID,
			PartNumber:        aws.Int32(int32(i + 1)),
			CopySource:        source,
			CopySourceRange:   aws.String(fmt.Sprintf("bytes=%d-%d", parts[i].First, parts[i].Last)),
			CopySourceIfMatch: head.ETag,
		}
		err := c.cfg.Retry.Do(ctx, func(int) error {
			out, err := c.s3.UploadPartCopy(ctx, in)
			if err != nil {
				return err
			}
			if out.CopyPartResult == nil || out.CopyPartResult.ETag == nil {
				return retry.Permanent(errors.New("UploadPartCopy returned no ETag"))
			}
			completed[i] = types.CompletedPart{PartNumber: in.PartNumber, ETag: out.CopyPartResult.ETag}
			return nil
		})
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = fmt.Errorf("part %d (bytes %d-%d): %w", i+1, parts[i].First, parts[i].Last, err)
			}
			mu.Unlock()
		}
	})
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return fmt.Errorf("multipart copy to %s: %w", dst.URI(), firstErr)
	}
	err = c.cfg.Retry.Do(ctx, func(int) error {
		_, err := c.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: create.Bucket, Key: create.Key, UploadId: uploadID,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
			IfNoneMatch:     cond.ifNoneMatch,
			IfMatch:         cond.ifMatch,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("complete multipart copy to %s: %w", dst.URI(), err)
	}
	return nil
}

// staleUploadAge is how long ago an incomplete upload must have started for
// the redistributor to take it for a killed copy's: Lambda's longest
// timeout, so that no running invocation can still be completing it.
const staleUploadAge = 15 * time.Minute

// abortStaleUploads aborts the incomplete multipart uploads to dst's exact
// key that started over staleUploadAge ago: an invocation killed mid-copy
// (timeout, crash) leaves its upload behind, and its parts are billed
// until aborted. One page of ListMultipartUploads is looked at, for a key
// will not have a thousand. It is best effort: an error here (a policy
// without s3:ListBucketMultipartUploads, say) leaves the uploads to the
// bucket's AbortIncompleteMultipartUpload lifecycle rule and does not fail
// the copy, which does not depend on it.
func (c *copier) abortStaleUploads(ctx context.Context, dst Target) {
	var out *s3.ListMultipartUploadsOutput
	err := c.cfg.Retry.Do(ctx, func(int) error {
		var err error
		out, err = c.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(dst.Bucket), Prefix: aws.String(dst.Key)})
		return err
	})
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-staleUploadAge)
	for _, u := range out.Uploads {
		// The prefix also matches longer keys ("x.json" matches "x.json.gz").
		if aws.ToString(u.Key) != dst.Key || u.Initiated == nil || !u.Initiated.Before(cutoff) {
			continue
		}
		_ = c.cfg.Retry.Do(ctx, func(int) error {
			_, err := c.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(dst.Bucket), Key: u.Key, UploadId: u.UploadId})
			return err
		})
	}
}

// forEach calls fn(0..n-1), at most limit at a time, and stops starting
// new calls once ctx is done.
func forEach(ctx context.Context, n, limit int, fn func(i int)) {
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// copySource is CopyObject's x-amz-copy-source: bucket/key, URL-encoded as
// the API requires. Everything but unreserved characters and '/' is
// percent-encoded ('+' too, or it would be read as a space).
func copySource(bucket, key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(bucket) + 1 + len(key)*3)
	b.WriteString(bucket)
	b.WriteByte('/')
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// isNotFound reports a HeadObject 404.
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var nf *types.NotFound
	var nk *types.NoSuchKey
	if errors.As(err, &nf) || errors.As(err, &nk) {
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == 404 && !isCode(err, "NoSuchBucket")
}

func isCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}
