// Package streamput writes records into a Firehose delivery stream
// (PutRecordBatch) or a Kinesis data stream (PutRecords) without losing any:
// it splits them into requests within the API limits, retries the records a
// partial failure rejected through the shared retry policy (the records
// and requests its classifier calls throttled or passing; the others fail
// at once), and reports by index the records that still could not be
// written.
package streamput

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"lakestream/shared/firehose"
	"lakestream/shared/retry"
)

// Limits of one batch write request (from the Firehose and Kinesis API references).
type Limits struct {
	Records       int // records per request
	RecordBytes   int // bytes per record (Kinesis: data plus partition key)
	RequestBytes  int // bytes per request
	countsKeyName bool
}

var (
	// FirehoseLimits: PutRecordBatch takes at most 500 records, 1,000 KiB
	// each, 4 MiB per request.
	FirehoseLimits = Limits{Records: 500, RecordBytes: 1000 * 1024, RequestBytes: 4 << 20}
	// KinesisLimits: PutRecords takes at most 500 records, 1 MiB each
	// (data and partition key), 5 MiB per request.
	KinesisLimits = Limits{Records: 500, RecordBytes: 1 << 20, RequestBytes: 5 << 20, countsKeyName: true}
)

// ErrRecordTooLarge marks a record over the per-record limit: no retry can
// deliver it, so it is reported failed at once for the caller to divert.
var ErrRecordTooLarge = errors.New("streamput: record exceeds the per-record limit")

// ErrBadPartitionKey marks a Kinesis record whose partition key is not 1 to
// 256 characters, which Kinesis rejects with the whole request.
var ErrBadPartitionKey = errors.New("streamput: Kinesis partition key must be 1 to 256 characters")

// Entry is one record to write. PartitionKey is used by Kinesis only.
type Entry struct {
	Data []byte
	// Encoded, when not nil, is the record's data instead of Data, as
	// standard base64 text with padding, exactly what encoding the data
	// gives (no line breaks, no stray bits after the last byte): written
	// into the request as it is, never decoded. A record re-ingested as
	// it came (firehose.Reingest.Encoded) travels so. The caller vouches
	// for the text; the limits count its decoded length (Len).
	Encoded      []byte
	PartitionKey string
}

// Len is the length of the entry's data, decoded: what the API's limits
// count. For Encoded text it is known from the text's length and padding.
func (e Entry) Len() int {
	if e.Encoded == nil {
		return len(e.Data)
	}
	n := len(e.Encoded) / 4 * 3
	if k := len(e.Encoded); k > 0 && e.Encoded[k-1] == '=' {
		n--
		if k > 1 && e.Encoded[k-2] == '=' {
			n--
		}
	}
	return n
}

// AppendData appends the entry's data, decoded, to dst.
func (e Entry) AppendData(dst []byte) ([]byte, error) {
	if e.Encoded == nil {
		return append(dst, e.Data...), nil
	}
	out, err := base64.StdEncoding.AppendDecode(dst, e.Encoded)
	if err != nil {
		return dst, fmt.Errorf("streamput: encoded data: %w", err)
	}
	return out, nil
}

// appendBase64 appends the entry's data in base64 to b, as a request
// carries it.
func (e Entry) appendBase64(b []byte) []byte {
	if e.Encoded != nil {
		return append(b, e.Encoded...)
	}
	return firehose.AppendBase64(b, e.Data)
}

// Failure is an entry that could not be written after every retry.
type Failure struct {
	Index int    // index into the entries passed to Put
	Err   string // the last error code and message AWS gave, or ours
}

// Writer puts entries into one stream.
type Writer struct {
	limits Limits
	policy retry.Policy
	// send makes one request: a rejection per entry, or the error of the
	// whole request.
	send func(ctx context.Context, batch []Entry) ([]rejection, error)
}

// FirehoseAPI is the one call a Writer makes to Firehose: one
// PutRecordBatch request, answered record by record (Client makes it).
type FirehoseAPI interface {
	PutRecordBatch(ctx context.Context, stream string, records []Entry) ([]Answer, error)
}

// KinesisAPI is the one call a Writer makes to Kinesis: one PutRecords
// request, answered record by record (Client makes it).
type KinesisAPI interface {
	PutRecords(ctx context.Context, streamARN string, records []Entry) ([]Answer, error)
}

// Discard is a delivery stream and a Kinesis stream that accept every
// record and keep none: what an in-process benchmark gives a function
// that delivers or re-ingests, so that its figure is the function's own.
type Discard struct{}

// PutRecordBatch implements FirehoseAPI, accepting every record.
func (Discard) PutRecordBatch(_ context.Context, _ string, records []Entry) ([]Answer, error) {
	return make([]Answer, len(records)), nil
}

// PutRecords implements KinesisAPI, accepting every record.
func (Discard) PutRecords(_ context.Context, _ string, records []Entry) ([]Answer, error) {
	return make([]Answer, len(records)), nil
}

// NewFirehose returns a Writer to the named delivery stream.
func NewFirehose(api FirehoseAPI, stream string, policy retry.Policy) *Writer {
	return &Writer{limits: FirehoseLimits, policy: policy, send: func(ctx context.Context, batch []Entry) ([]rejection, error) {
		answers, err := api.PutRecordBatch(ctx, stream, batch)
		if err != nil {
			return nil, fmt.Errorf("firehose PutRecordBatch to %s: %w", stream, err)
		}
		return rejections(len(batch), answers), nil
	}}
}

// NewKinesis returns a Writer to the Kinesis stream with the given ARN.
func NewKinesis(api KinesisAPI, streamARN string, policy retry.Policy) *Writer {
	return &Writer{limits: KinesisLimits, policy: policy, send: func(ctx context.Context, batch []Entry) ([]rejection, error) {
		answers, err := api.PutRecords(ctx, streamARN, batch)
		if err != nil {
			return nil, fmt.Errorf("kinesis PutRecords to %s: %w", streamARN, err)
		}
		return rejections(len(batch), answers), nil
	}}
}

// rejection is why one record of an answer was not written: the ErrorCode
// and ErrorMessage AWS gave; the zero value means it was written.
type rejection struct {
	code, message string
	unanswered    bool // the answer left the record out
}

func (r rejection) failed() bool { return r.code != "" || r.unanswered }

func (r rejection) String() string {
	if r.unanswered {
		return "missing from the response"
	}
	return r.code + ": " + r.message
}

// Put writes every entry, in order of the requests it sends, and returns
// the entries that still failed after the retry policy gave up. A request
// that fails whole (throttled, network) is retried like a partial failure.
// The error is non-nil exactly when some entry failed.
func (w *Writer) Put(ctx context.Context, entries []Entry) ([]Failure, error) {
	var failures []Failure
	pending := make([]int, 0, len(entries))
	for i, e := range entries {
		if err := w.check(e); err != "" {
			failures = append(failures, Failure{Index: i, Err: err})
			continue
		}
		pending = append(pending, i)
	}
	for len(pending) > 0 {
		n := w.batchLen(entries, pending)
		batch := pending[:n]
		pending = pending[n:]
		failures = append(failures, w.putBatch(ctx, entries, batch)...)
	}
	if len(failures) > 0 {
		slices.SortFunc(failures, func(a, b Failure) int { return a.Index - b.Index })
		return failures, fmt.Errorf("streamput: %d of %d records not written, first: %s", len(failures), len(entries), failures[0].Err)
	}
	return nil, nil
}

// putBatch sends one request's worth of entries, retrying what is rejected
// for a passing reason (throttling, a service fault) and failing at once
// what is rejected for good (a KMS key the stream cannot use, say).
func (w *Writer) putBatch(ctx context.Context, entries []Entry, batch []int) []Failure {
	var failures []Failure
	left := batch
	lastErr := make(map[int]string, len(batch))
	_ = w.policy.Do(ctx, func(int) error {
		recs := make([]Entry, len(left))
		for i, idx := range left {
			recs[i] = entries[idx]
		}
		rejected, err := w.send(ctx, recs)
		if err != nil {
			for _, idx := range left {
				lastErr[idx] = err.Error()
			}
			return err
		}
		var retryLeft []int
		for i, idx := range left {
			r := rejected[i]
			switch {
			case !r.failed():
			case retry.ClassifyCode(r.code).Retries():
				lastErr[idx] = r.String()
				retryLeft = append(retryLeft, idx)
			default:
				failures = append(failures, Failure{Index: idx, Err: r.String()})
			}
		}
		left = retryLeft
		if len(left) > 0 {
			return fmt.Errorf("%d records rejected", len(left))
		}
		return nil
	})
	for _, idx := range left {
		failures = append(failures, Failure{Index: idx, Err: lastErr[idx]})
	}
	return failures
}

// batchLen is how many of the pending entries fit in one request.
func (w *Writer) batchLen(entries []Entry, pending []int) int {
	total := 0
	for n, idx := range pending {
		size := w.size(entries[idx])
		if n == w.limits.Records || total+size > w.limits.RequestBytes {
			return n
		}
		total += size
	}
	return len(pending)
}

// check rejects what no retry can deliver.
func (w *Writer) check(e Entry) string {
	if size := w.size(e); size > w.limits.RecordBytes {
		return fmt.Sprintf("%v: %d bytes, limit %d", ErrRecordTooLarge, size, w.limits.RecordBytes)
	}
	if w.limits.countsKeyName && (len(e.PartitionKey) < 1 || len(e.PartitionKey) > 256) {
		return fmt.Sprintf("%v: %d characters", ErrBadPartitionKey, len(e.PartitionKey))
	}
	return ""
}

// rejections reads the answers to a request of sent records. AWS answers
// one entry per record, in order; a record the answer leaves out is
// failed, since one never confirmed must not count as written.
func rejections(sent int, answers []Answer) []rejection {
	rejected := make([]rejection, sent)
	for i := range rejected {
		switch {
		case i >= len(answers):
			rejected[i].unanswered = true
		case answers[i].ErrorCode != "":
			rejected[i] = rejection{code: answers[i].ErrorCode, message: answers[i].ErrorMessage}
		}
	}
	return rejected
}

func (w *Writer) size(e Entry) int {
	if w.limits.countsKeyName {
		return e.Len() + len(e.PartitionKey)
	}
	return e.Len()
}
