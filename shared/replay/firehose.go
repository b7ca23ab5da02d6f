package replay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"lakestream/shared/streamput"
)

// The tags a replayed object gets (when not moved): when it was replayed,
// and how many of its records went back, which a later run reports as
// skipped without reading the object again.
const (
	TagReplayed = "lakestream:replayed"
	TagRecords  = "lakestream:replayed-records"
)

// unsentSuffix names the object that keeps an object's records a run
// could not put back (throttled past every retry): <key>-unsent-<time>.
// It sits beside the original, so the next run over the same prefix finds
// it, and keeps the original's name, and so its time, in front.
const unsentSuffix = "-unsent-"

// Objects is what the Firehose replay does in S3.
type Objects interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	GetObjectTagging(ctx context.Context, in *s3.GetObjectTaggingInput, opts ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
	PutObjectTagging(ctx context.Context, in *s3.PutObjectTaggingInput, opts ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, opts ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Writer puts records into the stream they are replayed into: a
// streamput.Writer, which keeps within PutRecordBatch's (or PutRecords')
// limits and retries partial failures.
type Writer interface {
	Put(ctx context.Context, entries []streamput.Entry) ([]streamput.Failure, error)
}

// Firehose replays the records of a delivery stream's error output
// objects.
type Firehose struct {
	S3 Objects
	// Bucket and Prefix are where the error objects are, such as
	// "cwlogs-errors/processing-failed/".
	Bucket, Prefix string
	// From and To bound the objects' delivery time (From included, To
	// not; zero is unbounded): the time in a Firehose object name
	// (<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>), else LastModified.
	From, To time.Time
	// Writer puts the records back; Target says where, for people
	// ("delivery stream lakestream-json").
	Writer Writer
	Target string
	// Apply replays; without it the run is dry.
	Apply bool
	// MoveTo, when set, is the prefix replayed objects are moved under
	// (their key relative to Prefix kept) instead of being tagged.
	MoveTo string
	// Progress receives a line per object; nil discards them.
	Progress io.Writer
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// object is an error object to look at.
type object struct {
	key  string
	time time.Time
}

// Run replays every error object under Prefix in the time range, in key
// order, and returns what it did. The error joins what went wrong with
// single objects (a read, a tag); the other objects are still replayed.
func (f Firehose) Run(ctx context.Context) (Summary, error) {
	if f.Now == nil {
		f.Now = time.Now
	}
	p := newProgress(f.Progress)
	sum := Summary{DryRun: !f.Apply}
	objects, err := f.list(ctx)
	if err != nil {
		return sum, err
	}
	p.total = len(objects)
	var errs []error
	for _, o := range objects {
		sum.Sources++
		if err := f.replay(ctx, o, &sum, p); err != nil {
			errs = append(errs, fmt.Errorf("s3://%s/%s: %w", f.Bucket, o.key, err))
		}
	}
	sum.Elapsed = time.Since(p.start)
	return sum, errors.Join(errs...)
}

// list returns the error objects under Prefix in the time range, leaving
// out those under MoveTo.
func (f Firehose) list(ctx context.Context) ([]object, error) {
	var out []object
	in := &s3.ListObjectsV2Input{Bucket: aws.String(f.Bucket), Prefix: aws.String(f.Prefix)}
	for {
		page, err := f.S3.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", f.Bucket, f.Prefix, err)
		}
		for _, c := range page.Contents {
			key := aws.ToString(c.Key)
			if strings.HasSuffix(key, "/") || f.MoveTo != "" && strings.HasPrefix(key, f.MoveTo) {
				continue
			}
			t, ok := KeyTime(key)
			if !ok {
				t = aws.ToTime(c.LastModified)
			}
			if !f.From.IsZero() && t.Before(f.From) || !f.To.IsZero() && !t.Before(f.To) {
				continue
			}
			out = append(out, object{key: key, time: t})
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.ContinuationToken = page.NextContinuationToken
	}
	slices.SortFunc(out, func(a, b object) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

// firehoseKeyTime is the delivery time in a Firehose object name:
// <stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>.
var firehoseKeyTime = regexp.MustCompile(`-(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-[0-9a-fA-F]{8}-`)

// KeyTime is the delivery time (UTC) Firehose put in an object's name.
func KeyTime(key string) (time.Time, bool) {
	m := firehoseKeyTime.FindStringSubmatch(path.Base(key))
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02-15-04-05", m[1])
	return t, err == nil
}

// replay sends one object's records back and marks the object.
func (f Firehose) replay(ctx context.Context, o object, sum *Summary, p *progress) error {
	tags, err := f.S3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(f.Bucket), Key: aws.String(o.key)})
	if err != nil {
		p.source("s3://%s/%s: not read: %v", f.Bucket, o.key, err)
		return fmt.Errorf("get tags: %w", err)
	}
	if when, n, ok := replayedTags(tags.TagSet); ok {
		sum.Skipped += n
		p.source("s3://%s/%s: skipped, its %d records were replayed at %s", f.Bucket, o.key, n, when)
		return nil
	}
	body, err := f.get(ctx, o.key)
	if err != nil {
		p.source("s3://%s/%s: not read: %v", f.Bucket, o.key, err)
		return err
	}
	lines, err := ReadErrorObject(body)
	if err != nil {
		p.source("s3://%s/%s: not read: %v", f.Bucket, o.key, err)
		return err
	}
	var entries []streamput.Entry
	var sent []Line // the lines of entries
	var broken []Line
	codes := map[string]int{}
	for _, l := range lines {
		if l.Err != nil {
			broken = append(broken, l)
			continue
		}
		entries = append(entries, streamput.Entry{Data: l.Record.RawData, PartitionKey: dataKey(l.Record.RawData)})
		sent = append(sent, l)
		codes[l.Record.ErrorCode]++
	}
	sum.Failed += len(broken)
	if !f.Apply {
		sum.Replayed += len(entries)
		p.source("s3://%s/%s (%s): would put %d records into %s%s", f.Bucket, o.key, o.time.Format(time.RFC3339), len(entries), f.Target, describeCodes(codes))
		noteBroken(p, broken)
		if len(sent) > 0 && sent[0].Record.ErrorMessage != "" {
			p.note("first error: %s", clip(sent[0].Record.ErrorMessage, 200))
		}
		return nil
	}

	failures, _ := f.Writer.Put(ctx, entries)
	var unsent []Line
	var unsentErr string
	var tooLarge []string
	for _, fl := range failures {
		if strings.HasPrefix(fl.Err, streamput.ErrRecordTooLarge.Error()) {
			// No retry can put it: it stays in the original object.
			tooLarge = append(tooLarge, fmt.Sprintf("line %d: %s", sent[fl.Index].N, fl.Err))
			continue
		}
		if unsentErr == "" {
			unsentErr = fl.Err
		}
		unsent = append(unsent, sent[fl.Index])
	}
	replayed := len(entries) - len(failures)
	sum.Replayed += replayed
	sum.Failed += len(failures)
	if replayed == 0 && len(unsent) > 0 {
		// Nothing went in: leave the object as it is for the next run.
		p.source("s3://%s/%s: none of %d records put into %s, kept for the next run: %s", f.Bucket, o.key, len(entries), f.Target, unsentErr)
		noteTooLarge(p, tooLarge)
		noteBroken(p, broken)
		return nil
	}
	leftover := ""
	if len(unsent) > 0 {
		leftover = o.key + unsentSuffix + f.Now().UTC().Format("20060102T150405Z")
		if err := f.putLines(ctx, leftover, unsent); err != nil {
			// The original stays unmarked: the next run sends it all again.
			p.source("s3://%s/%s: %d of %d records put into %s; the %d others not kept: %v", f.Bucket, o.key, replayed, len(entries), f.Target, len(unsent), err)
			return fmt.Errorf("keep unsent records: %w", err)
		}
	}
	how, err := f.mark(ctx, o.key, tags.TagSet, replayed)
	if err != nil {
		p.source("s3://%s/%s: %d records put into %s, but the object is not marked (a re-run sends them again): %v", f.Bucket, o.key, replayed, f.Target, err)
		return err
	}
	sum.Done++
	p.source("s3://%s/%s: %d records put into %s; %s", f.Bucket, o.key, replayed, f.Target, how)
	if leftover != "" {
		p.note("%d records not put (%s) are kept in s3://%s/%s for the next run", len(unsent), unsentErr, f.Bucket, leftover)
	}
	noteTooLarge(p, tooLarge)
	noteBroken(p, broken)
	return nil
}

func (f Firehose) get(ctx context.Context, key string) ([]byte, error) {
	out, err := f.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	return b, nil
}

// putLines writes lines as a new error object.
func (f Firehose) putLines(ctx context.Context, key string, lines []Line) error {
	var b []byte
	for _, l := range lines {
		b = append(append(b, l.Raw...), '\n')
	}
	_, err := f.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(key), Body: strings.NewReader(string(b)), ContentLength: aws.Int64(int64(len(b)))})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", f.Bucket, key, err)
	}
	return nil
}

// mark tags the object as replayed (keeping its other tags) or moves it
// under MoveTo, and says which.
func (f Firehose) mark(ctx context.Context, key string, tags []s3types.Tag, n int) (string, error) {
	if f.MoveTo != "" {
		dest := f.MoveTo + strings.TrimPrefix(key, f.Prefix)
		_, err := f.S3.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: aws.String(f.Bucket), Key: aws.String(dest),
			CopySource: aws.String(f.Bucket + "/" + escapeKey(key)),
		})
		if err != nil {
			return "", fmt.Errorf("move to %s: %w", dest, err)
		}
		if _, err := f.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(key)}); err != nil {
			return "", fmt.Errorf("move to %s: delete the original: %w", dest, err)
		}
		return "moved to s3://" + f.Bucket + "/" + dest, nil
	}
	keep := slices.DeleteFunc(slices.Clone(tags), func(t s3types.Tag) bool {
		k := aws.ToString(t.Key)
		return k == TagReplayed || k == TagRecords
	})
	set := append(keep,
		s3types.Tag{Key: aws.String(TagReplayed), Value: aws.String(f.Now().UTC().Format(time.RFC3339))},
		s3types.Tag{Key: aws.String(TagRecords), Value: aws.String(strconv.Itoa(n))})
	_, err := f.S3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket: aws.String(f.Bucket), Key: aws.String(key), Tagging: &s3types.Tagging{TagSet: set},
	})
	if err != nil {
		return "", fmt.Errorf("tag as replayed: %w", err)
	}
	return "tagged " + TagReplayed, nil
}

// replayedTags reads the tags mark sets.
func replayedTags(tags []s3types.Tag) (when string, n int, ok bool) {
	for _, t := range tags {
		switch aws.ToString(t.Key) {
		case TagReplayed:
			when, ok = aws.ToString(t.Value), true
		case TagRecords:
			n, _ = strconv.Atoi(aws.ToString(t.Value))
		}
	}
	return when, n, ok
}

// escapeKey URL-encodes a key for CopySource, keeping its slashes.
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(url.QueryEscape(p), "+", "%20")
	}
	return strings.Join(parts, "/")
}

// dataKey is a Kinesis partition key derived from the data, as
// streamput.SourceReingester derives one: it spreads records over shards
// and is the same on a re-run. Firehose ignores it.
func dataKey(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

func describeCodes(codes map[string]int) string {
	if len(codes) == 0 {
		return ""
	}
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(codes)) {
		name := c
		if name == "" {
			name = "no error code"
		}
		parts = append(parts, fmt.Sprintf("%s x%d", name, codes[c]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// noteTooLarge says which records are over the per-record limit.
func noteTooLarge(p *progress, lines []string) {
	if len(lines) > 0 {
		p.note("%d records over the per-record limit stay in the object: %s", len(lines), strings.Join(lines, "; "))
	}
}

// noteBroken says which lines are not records, the first few of them.
func noteBroken(p *progress, broken []Line) {
	for i, l := range broken {
		if i == 3 {
			p.note("... and %d more lines that are not records", len(broken)-i)
			return
		}
		p.note("not replayable: %v", l.Err)
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
