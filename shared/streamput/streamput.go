// Package streamput writes records into a Firehose delivery stream
// (PutRecordBatch) or a Kinesis data stream (PutRecords) without losing any:
// it splits them into requests within the API limits, retries the records a
// partial failure rejected through the shared retry policy, and reports by
// index the records that still could not be written.
package streamput

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kstypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

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

// Entry is one record to write. PartitionKey is used by Kinesis only.
type Entry struct {
	Data         []byte
	PartitionKey string
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
	send   func(ctx context.Context, batch []Entry) ([]string, error)
}

// FirehoseAPI is the one call a Writer makes to Firehose.
type FirehoseAPI interface {
	PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, opts ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error)
}

// KinesisAPI is the one call a Writer makes to Kinesis.
type KinesisAPI interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

// NewFirehose returns a Writer to the named delivery stream.
func NewFirehose(api FirehoseAPI, stream string, policy retry.Policy) *Writer {
	return &Writer{limits: FirehoseLimits, policy: policy, send: func(ctx context.Context, batch []Entry) ([]string, error) {
		recs := make([]fhtypes.Record, len(batch))
		for i, e := range batch {
			recs[i] = fhtypes.Record{Data: e.Data}
		}
		out, err := api.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: recs})
		if err != nil {
			return nil, fmt.Errorf("firehose PutRecordBatch to %s: %w", stream, err)
		}
		errs := make([]string, len(batch))
		for i, r := range out.RequestResponses {
			if i < len(errs) && r.ErrorCode != nil {
				errs[i] = aws.ToString(r.ErrorCode) + ": " + aws.ToString(r.ErrorMessage)
			}
		}
		return errs, nil
	}}
}

// NewKinesis returns a Writer to the Kinesis stream with the given ARN.
func NewKinesis(api KinesisAPI, streamARN string, policy retry.Policy) *Writer {
	return &Writer{limits: KinesisLimits, policy: policy, send: func(ctx context.Context, batch []Entry) ([]string, error) {
		recs := make([]kstypes.PutRecordsRequestEntry, len(batch))
		for i, e := range batch {
			recs[i] = kstypes.PutRecordsRequestEntry{Data: e.Data, PartitionKey: aws.String(e.PartitionKey)}
		}
		out, err := api.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: aws.String(streamARN), Records: recs})
		if err != nil {
			return nil, fmt.Errorf("kinesis PutRecords to %s: %w", streamARN, err)
		}
		errs := make([]string, len(batch))
		for i, r := range out.Records {
			if i < len(errs) && r.ErrorCode != nil {
				errs[i] = aws.ToString(r.ErrorCode) + ": " + aws.ToString(r.ErrorMessage)
			}
		}
		return errs, nil
	}}
}

// Put writes every entry, in order of the requests it sends, and returns
// the entries that still failed after the retry policy gave up. A request
// that fails whole (throttled, network) is retried like a partial failure.
// The error is non-nil exactly when some entry failed.
func (w *Writer) Put(ctx context.Context, entries []Entry) ([]Failure, error) {
	var failures []Failure
	pending := make([]int, 0, len(entries))
	for i, e := range entries {
		if w.size(e) > w.limits.RecordBytes {
			failures = append(failures, Failure{Index: i, Err: fmt.Sprintf("%v: %d bytes, limit %d", ErrRecordTooLarge, w.size(e), w.limits.RecordBytes)})
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
		return failures, fmt.Errorf("streamput: %d of %d records not written, first: %s", len(failures), len(entries), failures[0].Err)
	}
	return nil, nil
}

// putBatch sends one request's worth of entries, retrying what is rejected.
func (w *Writer) putBatch(ctx context.Context, entries []Entry, batch []int) []Failure {
	left := batch
	lastErr := make(map[int]string, len(batch))
	_ = w.policy.Do(ctx, func(int) error {
		recs := make([]Entry, len(left))
		for i, idx := range left {
			recs[i] = entries[idx]
		}
		errs, err := w.send(ctx, recs)
		if err != nil {
			for _, idx := range left {
				lastErr[idx] = err.Error()
			}
			return err
		}
		var retryLeft []int
		for i, idx := range left {
			if errs[i] != "" {
				lastErr[idx] = errs[i]
				retryLeft = append(retryLeft, idx)
			}
		}
		left = retryLeft
		if len(left) > 0 {
			return fmt.Errorf("%d records rejected", len(left))
		}
		return nil
	})
	failures := make([]Failure, len(left))
	for i, idx := range left {
		failures[i] = Failure{Index: idx, Err: lastErr[idx]}
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

func (w *Writer) size(e Entry) int {
	if w.limits.countsKeyName {
		return len(e.Data) + len(e.PartitionKey)
	}
	return len(e.Data)
}
