package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/klauspost/compress/gzip"

	"lakestream/shared/retry"
)

// ObjectGetter is the S3 call that reads an object.
type ObjectGetter interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Errors of reading an object, for the handler to branch on.
var (
	// ErrGone: the object is not there (deleted since the event).
	ErrGone = errors.New("the object is gone")
	// ErrChanged: the object was overwritten since the event; the new
	// object has an event of its own.
	ErrChanged = errors.New("the object was overwritten since the event")
	// ErrNotText: the object holds Parquet, not log lines.
	ErrNotText = errors.New("a Parquet object, not text")
)

// readError is a failure to read the object's bytes from S3 (after every
// resume), as opposed to bytes that do not decode: a retry may cure it.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// maxResumes bounds how often one object's download is resumed after a
// broken connection.
const maxResumes = 10

// objectReader is an object's body that survives broken connections: a
// read that fails midway reopens the object at the offset reached (a
// ranged GetObject pinned to the same ETag), so that a download of
// gigabytes does not start over for a reset connection.
type objectReader struct {
	ctx     context.Context
	s3      ObjectGetter
	retry   retry.Policy
	in      s3.GetObjectInput
	body    io.ReadCloser
	offset  int64
	resumes int
	// Modified is the object's LastModified.
	Modified time.Time
}

// openObject starts reading bucket/key, which must still have etag when
// one is given (the event's).
func openObject(ctx context.Context, api ObjectGetter, policy retry.Policy, bucket, key, etag string) (*objectReader, error) {
	r := &objectReader{ctx: ctx, s3: api, retry: policy, in: s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}}
	if etag != "" {
		r.in.IfMatch = aws.String(quoted(etag))
	}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

// open (re)opens the object at r.offset.
func (r *objectReader) open() error {
	in := r.in
	if r.offset > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", r.offset))
	}
	var out *s3.GetObjectOutput
	err := r.retry.Do(r.ctx, func(int) error {
		var err error
		out, err = r.s3.GetObject(r.ctx, &in)
		switch status(err) {
		case 0:
			return nil
		case http.StatusNotFound:
			return retry.Permanent(fmt.Errorf("%w: %w", ErrGone, err))
		case http.StatusPreconditionFailed:
			return retry.Permanent(fmt.Errorf("%w: %w", ErrChanged, err))
		case http.StatusForbidden, http.StatusBadRequest:
			return retry.Permanent(err)
		}
		return err
	})
	if err != nil {
		if errors.Is(err, ErrGone) || errors.Is(err, ErrChanged) {
			return err
		}
		return &readError{fmt.Errorf("get s3://%s/%s: %w", aws.ToString(r.in.Bucket), aws.ToString(r.in.Key), err)}
	}
	if r.in.IfMatch == nil && out.ETag != nil {
		// Later parts must come from the object the first part came from.
		r.in.IfMatch = out.ETag
	}
	if r.Modified.IsZero() && out.LastModified != nil {
		r.Modified = out.LastModified.UTC()
	}
	r.body = out.Body
	return nil
}

// Read reads the body, resuming after a failed read.
func (r *objectReader) Read(p []byte) (int, error) {
	for {
		n, err := r.body.Read(p)
		r.offset += int64(n)
		switch {
		case err == nil, errors.Is(err, io.EOF):
			return n, err
		case n > 0:
			// The bytes read are good; the error shows again next time.
			return n, nil
		case r.ctx.Err() != nil:
			return 0, &readError{r.ctx.Err()}
		case r.resumes == maxResumes:
			return 0, &readError{fmt.Errorf("read s3://%s/%s at byte %d, %d resumes: %w", aws.ToString(r.in.Bucket), aws.ToString(r.in.Key), r.offset, r.resumes, err)}
		}
		r.resumes++
		r.body.Close()
		if err := r.open(); err != nil {
			return 0, err
		}
	}
}

// Close closes the body.
func (r *objectReader) Close() error { return r.body.Close() }

// Offset is how many bytes of the object were read.
func (r *objectReader) Offset() int64 { return r.offset }

// status is the HTTP status of an AWS error, 0 for none.
func status(err error) int {
	if err == nil {
		return 0
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return http.StatusNotFound
		case "PreconditionFailed":
			return http.StatusPreconditionFailed
		}
	}
	return -1
}

// quoted puts an ETag in the quotes S3 writes it with; events give it bare.
func quoted(etag string) string {
	if len(etag) >= 2 && etag[0] == '"' {
		return etag
	}
	return `"` + etag + `"`
}

// Magic numbers the first bytes of an object are told by.
var (
	gzipMagic    = []byte{0x1f, 0x8b}
	parquetMagic = []byte("PAR1")
)

// decompress returns the object's text: gunzipped when its first bytes
// are gzip's (whatever its name or Content-Encoding say; concatenated
// gzip members, as some writers append, are read one after another), as
// it is otherwise. Parquet is refused.
func decompress(r io.Reader) (io.Reader, bool, error) {
	br := bufio.NewReaderSize(r, readBuffer)
	head, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, err
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, true, err
		}
		return z, true, nil
	case bytes.Equal(head, parquetMagic):
		return nil, false, ErrNotText
	}
	return br, false, nil
}
