package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lakestream/shared/batch"
	"lakestream/shared/jsonenc"
)

// ObjectPutter is the S3 call that writes error objects.
type ObjectPutter interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// errorPartBytes is the size at which an object's failed lines so far are
// written out as one error object and the next is begun: an object of
// nothing but bad lines never holds more than this in memory.
const errorPartBytes = 4 << 20

// badLines collects an object's failed lines and writes them to its error
// objects, newline-delimited JSON, one entry per line:
//
//	{"line":12,"error":"alb: malformed line: ...","text":"<the line>"}
//
// ("event" instead of "line" for a CloudTrail file: the event's position
// in Records, from 1). The text is the line as read (invalid UTF-8 as
// U+FFFD; the object itself is the exact copy), so nothing is lost
// silently. The keys follow from the source's (Config.errorKey), so a
// retried object writes the same objects again.
type badLines struct {
	f       *forwarder
	src     batch.S3Object
	bucket  string
	unit    string // "line" or "event"
	buf     []byte
	parts   int
	objects []string
}

func newBadLines(f *forwarder, src batch.S3Object, events bool) *badLines {
	unit := "line"
	if events {
		unit = "event"
	}
	return &badLines{f: f, src: src, bucket: f.cfg.errorBucket(src.Bucket), unit: unit}
}

// add records line n as failed for reason, writing out a part when the
// entries have grown to errorPartBytes.
func (b *badLines) add(ctx context.Context, n int, reason string, text []byte) error {
	b.entry(n, reason)
	b.buf = append(b.buf, `,"text":`...)
	b.buf = jsonenc.AppendString(b.buf, string(text)) // invalid UTF-8 becomes U+FFFD
	b.buf = append(b.buf, "}\n"...)
	if len(b.buf) >= errorPartBytes {
		return b.write(ctx)
	}
	return nil
}

// addUnreadable records that the object could not be read from line n on.
func (b *badLines) addUnreadable(n int, reason string) error {
	b.entry(n, reason)
	b.buf = append(b.buf, "}\n"...)
	return nil
}

func (b *badLines) entry(n int, reason string) {
	b.buf = append(b.buf, `{"`...)
	b.buf = append(b.buf, b.unit...)
	b.buf = append(b.buf, `":`...)
	b.buf = strconv.AppendInt(b.buf, int64(n), 10)
	b.buf = append(b.buf, `,"error":`...)
	b.buf = jsonenc.AppendString(b.buf, reason)
}

// close writes what is left and returns every error object written, as
// s3:// URIs.
func (b *badLines) close(ctx context.Context) ([]string, error) {
	if len(b.buf) > 0 {
		if err := b.write(ctx); err != nil {
			return b.objects, err
		}
	}
	return b.objects, nil
}

// write puts the entries so far as the next error object.
func (b *badLines) write(ctx context.Context) error {
	b.parts++
	key := b.f.cfg.errorKey(b.src.Bucket, b.src.Key, b.parts)
	body := b.buf
	err := b.f.cfg.Retry.Do(ctx, func(int) error {
		_, err := b.f.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket:      aws.String(b.bucket),
			Key:         aws.String(key),
			Body:        bytes.NewReader(body),
			ContentType: aws.String("application/x-ndjson"),
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("write the failed lines to s3://%s/%s: %w", b.bucket, key, err)
	}
	b.objects = append(b.objects, "s3://"+b.bucket+"/"+key)
	b.buf = b.buf[:0]
	return nil
}
