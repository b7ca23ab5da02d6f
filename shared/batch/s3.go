package batch

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// s3Record is an S3 notification record. Its eventTime is read here rather
// than by events.S3EventRecord, whose time.Time rejects a time without a
// zone (some emulators write one), which would lose the whole record for a
// field that is only informative.
type s3Record struct {
	events.S3EventRecord
	EventTime string `json:"eventTime"`
}

// decodeS3 makes one item per record of an S3 notification.
func decodeS3(records []json.RawMessage) []*Item {
	out := items(len(records))
	for i, raw := range records {
		decodeS3Record(raw, out[i])
	}
	return out
}

// decodeS3Record reads one notification record into it. The key is
// URL-decoded as S3 encodes it ('+' is a space): events.S3Object's
// URLDecodedKey.
func decodeS3Record(raw json.RawMessage, it *Item) {
	var r s3Record
	if err := json.Unmarshal(raw, &r); err != nil {
		var rawKey struct {
			S3 struct {
				Bucket struct {
					Name string `json:"name"`
				} `json:"bucket"`
				Object struct {
					Key string `json:"key"`
				} `json:"object"`
			} `json:"s3"`
		}
		if json.Unmarshal(raw, &rawKey) == nil && rawKey.S3.Object.Key != "" {
			// The record is fine but for a key that is not URL-encoded
			// as S3 writes it (a lone '%'): name the object as it came.
			it.S3 = &S3Object{Bucket: rawKey.S3.Bucket.Name, Key: rawKey.S3.Object.Key}
			it.err = fmt.Errorf("%w: object key %q is not URL-encoded: %w", ErrUnreadable, it.S3.Key, err)
			return
		}
		it.err = fmt.Errorf("%w: S3 record: %w", ErrUnreadable, err)
		return
	}
	if r.EventSource != string(SourceS3) {
		it.err = fmt.Errorf("%w: record eventSource %q is not %s", ErrUnreadable, r.EventSource, SourceS3)
		return
	}
	obj := r.S3.Object
	it.S3 = &S3Object{
		Bucket: r.S3.Bucket.Name, Key: obj.URLDecodedKey, Size: obj.Size, ETag: obj.ETag,
		VersionID: obj.VersionID, Sequencer: obj.Sequencer, Event: r.EventName, Time: parseTime(r.EventTime),
	}
	it.err = checkObject(it.S3)
}

// checkObject fails an object that names no object.
func checkObject(o *S3Object) error {
	switch {
	case o.Bucket == "":
		return fmt.Errorf("%w: no bucket name", ErrUnreadable)
	case o.Key == "":
		return fmt.Errorf("%w: no object key", ErrUnreadable)
	}
	return nil
}

// parseTime reads an event's time (RFC 3339), taking a time without a zone
// as UTC; anything else is an unknown (zero) time.
func parseTime(s string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t
	}
	return time.Time{}
}
