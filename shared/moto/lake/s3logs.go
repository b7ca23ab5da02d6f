package lake

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lakestream/shared/laketable"
	"lakestream/shared/lambdarun"
)

// TablesBucket stands for the template's LakeBucket, which it leaves
// unnamed: the lake tables' data, each format under its folder.
const TablesBucket = "lakestream-tables"

// sampleObjects is where the s3-log-forwarder's sample events find their
// objects' contents: events/s3-log-forwarder/objects/<bucket>/<key>.
const sampleObjects = "events/s3-log-forwarder/objects"

// s3LogForwarder creates DELIVERY_STREAM writing to TablesBucket under the
// folder of FORMAT's table (as the template's stream does, without its
// dynamic partitioning, which moto lacks), and the log files the event
// names, with their sample contents.
func (l *Lake) s3LogForwarder(ctx context.Context, env map[string]string, event []byte) ([]string, error) {
	prefix := env["FORMAT"] + "/"
	if t, ok := laketable.Lookup(env["FORMAT"]); ok {
		prefix = t.Prefix
	}
	created, err := l.DeliveryStream(ctx, env["DELIVERY_STREAM"], TablesBucket, prefix)
	if err != nil {
		return created, err
	}
	c, err := l.LogFiles(ctx, event)
	return append(created, c...), err
}

// LogFiles puts the log files an event names that are not there yet, with
// the contents of events/s3-log-forwarder/objects/<bucket>/<key>: a key
// ending in .gz without a file of its own is the file without .gz,
// gzipped, as log sources write it. A key with no sample file gets as
// many bytes as the event says (Seed).
func (l *Lake) LogFiles(ctx context.Context, event []byte) ([]string, error) {
	root, err := lambdarun.RepoRoot(".")
	if err != nil {
		return nil, err
	}
	var created []string
	for _, o := range namedObjects(event, 0) {
		c, err := l.Bucket(ctx, o.bucket)
		created = append(created, c...)
		if err != nil {
			return created, err
		}
		body, err := sampleFile(filepath.Join(root, sampleObjects, o.bucket), o.key)
		if errors.Is(err, os.ErrNotExist) {
			c, err := l.Seed(ctx, []byte(fmt.Sprintf(`{"detail-type":"Object Created","detail":{"bucket":{"name":%q},"object":{"key":%q,"size":%d}}}`, o.bucket, o.key, o.size)))
			created = append(created, c...)
			if err != nil {
				return created, err
			}
			continue
		}
		if err != nil {
			return created, err
		}
		if _, err := l.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key)}); err == nil {
			continue
		}
		if _, err := l.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key), Body: bytes.NewReader(body)}); err != nil {
			return created, fmt.Errorf("put s3://%s/%s: %w", o.bucket, o.key, err)
		}
		created = append(created, fmt.Sprintf("log file s3://%s/%s (%d bytes) from %s", o.bucket, o.key, len(body), sampleObjects))
	}
	return created, nil
}

// sampleFile reads key's sample under dir, gzipping the file of a .gz key
// that has none of its own.
func sampleFile(dir, key string) ([]byte, error) {
	body, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.HasSuffix(key, ".gz") {
		return body, err
	}
	plain, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(key, ".gz"))))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
