package replay

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// OnFailure is the invocation record a DynamoDB or Kinesis stream event
// source mapping sends to its on-failure destination when it gives up on a
// batch (Lambda developer guide, "Retaining discarded batches"): what was
// invoked and why it failed, and which records, by shard and sequence
// number range; never the records themselves. Replay adds Replay when a
// run could send only part of the batch.
type OnFailure struct {
	RequestContext struct {
		RequestID              string `json:"requestId"`
		FunctionARN            string `json:"functionArn"`
		Condition              string `json:"condition"` // RetryAttemptsExhausted, RecordAgeExceeded, ...
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	ResponseContext struct {
		StatusCode      int    `json:"statusCode"`
		ExecutedVersion string `json:"executedVersion"`
		FunctionError   string `json:"functionError"`
	} `json:"responseContext"`
	Version   string `json:"version"`
	Timestamp string `json:"timestamp"`
	// DDBStreamBatchInfo or KinesisBatchInfo, by the source.
	DDBStreamBatchInfo *BatchInfo `json:"DDBStreamBatchInfo,omitempty"`
	KinesisBatchInfo   *BatchInfo `json:"KinesisBatchInfo,omitempty"`
	// Replay is lakestream's own: what an earlier replay left to send.
	Replay *ReplayState `json:"lakestreamReplay,omitempty"`
}

// BatchInfo names the records of a discarded batch: a contiguous range of
// one shard.
type BatchInfo struct {
	ShardID                         string    `json:"shardId"`
	StartSequenceNumber             string    `json:"startSequenceNumber"`
	EndSequenceNumber               string    `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord time.Time `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  time.Time `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int       `json:"batchSize"`
	StreamARN                       string    `json:"streamArn"`
}

// ReplayState is what a replay that could send only part of a batch
// leaves in the message it puts back: the records still to send, so that
// the next run sends those and no others.
type ReplayState struct {
	// Pending are the sequence numbers still to send, in order.
	Pending []string `json:"pending"`
	// Runs counts the replays that left records pending; LastError is why
	// the last one did.
	Runs      int    `json:"runs"`
	LastError string `json:"lastError,omitempty"`
}

// Source kinds of an OnFailure record.
const (
	SourceDynamoDB = "aws:dynamodb"
	SourceKinesis  = "aws:kinesis"
)

// ErrNotStreamBatch marks a message that is not an OnFailure record of a
// stream event source mapping.
var ErrNotStreamBatch = errors.New("not the on-failure record of a DynamoDB or Kinesis stream mapping")

// ParseOnFailure reads a queue message's body.
func ParseOnFailure(body string) (*OnFailure, error) {
	var r OnFailure
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotStreamBatch, err)
	}
	info := r.Batch()
	switch {
	case info == nil:
		return nil, fmt.Errorf("%w: no DDBStreamBatchInfo or KinesisBatchInfo", ErrNotStreamBatch)
	case r.DDBStreamBatchInfo != nil && r.KinesisBatchInfo != nil:
		return nil, fmt.Errorf("%w: both DDBStreamBatchInfo and KinesisBatchInfo", ErrNotStreamBatch)
	case info.ShardID == "" || info.StartSequenceNumber == "" || info.EndSequenceNumber == "" || info.StreamARN == "":
		return nil, fmt.Errorf("%w: the batch info lacks its shard, sequence numbers or stream ARN", ErrNotStreamBatch)
	case !isDecimal(info.StartSequenceNumber) || !isDecimal(info.EndSequenceNumber):
		return nil, fmt.Errorf("%w: sequence numbers %q and %q are not decimal", ErrNotStreamBatch, info.StartSequenceNumber, info.EndSequenceNumber)
	case compareSeq(info.StartSequenceNumber, info.EndSequenceNumber) > 0:
		return nil, fmt.Errorf("%w: the range starts after it ends", ErrNotStreamBatch)
	}
	return &r, nil
}

// Batch is the record's batch info, whichever the source.
func (r *OnFailure) Batch() *BatchInfo {
	if r.DDBStreamBatchInfo != nil {
		return r.DDBStreamBatchInfo
	}
	return r.KinesisBatchInfo
}

// Source is SourceDynamoDB or SourceKinesis.
func (r *OnFailure) Source() string {
	if r.DDBStreamBatchInfo != nil {
		return SourceDynamoDB
	}
	return SourceKinesis
}

// narrowed returns the message body that leaves only pending (a sorted
// subset of the batch) to a next run: the record as it came, its range
// narrowed to them and Replay saying which they are, with every field it
// had, lakestream's or not, kept.
func narrowed(body string, r *OnFailure, pending []string, why string) (string, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &fields); err != nil {
		return "", err
	}
	key := "KinesisBatchInfo"
	if r.Source() == SourceDynamoDB {
		key = "DDBStreamBatchInfo"
	}
	var info map[string]json.RawMessage
	if err := json.Unmarshal(fields[foldKey(fields, key)], &info); err != nil {
		return "", err
	}
	// encoding/json matched the fields case-insensitively: replace them
	// whatever their case, so that no other spelling is left to win.
	set := func(m map[string]json.RawMessage, k string, v any) {
		for old := range m {
			if strings.EqualFold(old, k) {
				delete(m, old)
			}
		}
		b, _ := json.Marshal(v) // strings, ints and ReplayState always marshal
		m[k] = b
	}
	set(info, "startSequenceNumber", pending[0])
	set(info, "endSequenceNumber", pending[len(pending)-1])
	set(info, "batchSize", len(pending))
	set(fields, key, info)
	state := ReplayState{Pending: pending, Runs: 1, LastError: clip(why, 500)}
	if r.Replay != nil {
		state.Runs = r.Replay.Runs + 1
	}
	set(fields, "lakestreamReplay", state)
	b, err := json.Marshal(fields)
	return string(b), err
}

// foldKey is the key of m that encoding/json would decode into a field
// named k: k itself, else one equal to it but for case.
func foldKey(m map[string]json.RawMessage, k string) string {
	if _, ok := m[k]; ok {
		return k
	}
	for key := range m {
		if strings.EqualFold(key, k) {
			return key
		}
	}
	return k
}

// compareSeq orders two stream sequence numbers: decimal strings of up to
// a few dozen digits, beyond any integer type.
func compareSeq(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func isDecimal(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
