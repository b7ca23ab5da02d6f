package streamput_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

const (
	streamName = "orders-to-lake"
	streamARN  = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
	kib        = 1 << 10
	mib        = 1 << 20
)

// idLen is the width of the decimal entry index every test record starts
// with, so the fakes know which entry they were sent.
const idLen = 8

// entry returns entry i: its index, then padding up to size bytes.
func entry(i, size int, key string) streamput.Entry {
	size = max(size, idLen)
	data := make([]byte, size)
	copy(data, fmt.Sprintf("%0*d", idLen, i))
	for j := idLen; j < size; j++ {
		data[j] = 'a' + byte(j%26)
	}
	return streamput.Entry{Data: data, PartitionKey: key}
}

// entries returns one entry per size, keyed "k<i>".
func entries(sizes ...int) []streamput.Entry {
	out := make([]streamput.Entry, len(sizes))
	for i, s := range sizes {
		out[i] = entry(i, s, "k"+strconv.Itoa(i))
	}
	return out
}

// repeat returns n copies of size.
func repeat(n, size int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = size
	}
	return out
}

func indexOf(t testing.TB, data []byte) int {
	t.Helper()
	require.GreaterOrEqual(t, len(data), idLen, "record without an index: %q", data)
	i, err := strconv.Atoi(string(data[:idLen]))
	require.NoError(t, err)
	return i
}

// sent is one record as the fake received it.
type sent struct {
	index int
	size  int // data, plus partition key for Kinesis
	key   string
}

// fakeAPI is both a FirehoseAPI and a KinesisAPI. It records every request,
// answers from its scripts, and checks as it goes that no record is sent
// again after it was accepted.
type fakeAPI struct {
	t testing.TB

	// fail, when set, may fail request n (from 0) whole.
	fail func(n int) error
	// reject, when set, returns an error code for a record on its try-th
	// send (from 1), or "" to accept it.
	reject func(index, try int) string

	mu        sync.Mutex
	requests  [][]sent
	tries     map[int]int
	delivered map[int]int
	names     []string // stream name or ARN of each request
}

func newFake(t testing.TB) *fakeAPI {
	return &fakeAPI{t: t, tries: map[int]int{}, delivered: map[int]int{}}
}

// answer handles one request and returns each record's error code.
func (f *fakeAPI) answer(ctx context.Context, name string, recs []sent) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.requests)
	f.requests = append(f.requests, recs)
	f.names = append(f.names, name)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("operation error: %w", err)
	}
	if f.fail != nil {
		if err := f.fail(n); err != nil {
			return nil, err
		}
	}
	codes := make([]string, len(recs))
	for i, r := range recs {
		if f.delivered[r.index] > 0 {
			f.t.Errorf("request %d: entry %d sent again after it was accepted", n, r.index)
		}
		f.tries[r.index]++
		if f.reject != nil {
			codes[i] = f.reject(r.index, f.tries[r.index])
		}
		if codes[i] == "" {
			f.delivered[r.index]++
		}
	}
	return codes, nil
}

func (f *fakeAPI) PutRecordBatch(ctx context.Context, stream string, in []streamput.Entry) ([]streamput.Answer, error) {
	recs := make([]sent, len(in))
	for i, r := range in {
		recs[i] = sent{index: indexOf(f.t, f.data(r)), size: r.Len()}
	}
	return f.answers(ctx, stream, recs)
}

func (f *fakeAPI) PutRecords(ctx context.Context, streamARN string, in []streamput.Entry) ([]streamput.Answer, error) {
	recs := make([]sent, len(in))
	for i, r := range in {
		recs[i] = sent{index: indexOf(f.t, f.data(r)), size: r.Len() + len(r.PartitionKey), key: r.PartitionKey}
	}
	return f.answers(ctx, streamARN, recs)
}

// data is an entry's data, decoded when it came as base64 text.
func (f *fakeAPI) data(e streamput.Entry) []byte {
	data, err := e.AppendData(nil)
	require.NoError(f.t, err)
	return data
}

// answers is answer's codes as the client returns them.
func (f *fakeAPI) answers(ctx context.Context, name string, recs []sent) ([]streamput.Answer, error) {
	codes, err := f.answer(ctx, name, recs)
	if err != nil {
		return nil, err
	}
	out := make([]streamput.Answer, len(codes))
	for i, code := range codes {
		if code != "" {
			out[i] = streamput.Answer{ErrorCode: code, ErrorMessage: message(recs[i].index, f.tries[recs[i].index])}
		}
	}
	return out, nil
}

// message is the fake's error message for a rejected record, naming the
// try so tests can see which message was kept.
func message(index, try int) string { return fmt.Sprintf("entry %d try %d: slow down", index, try) }

func (f *fakeAPI) requestSizes() []int {
	out := make([]int, len(f.requests))
	for i, r := range f.requests {
		out[i] = len(r)
	}
	return out
}

// kind builds a Writer of one stream type over the fake.
type kind struct {
	name   string
	limits streamput.Limits
	target string
	writer func(f *fakeAPI, p retry.Policy) *streamput.Writer
}

var (
	firehoseKind = kind{
		name: "firehose", limits: streamput.FirehoseLimits, target: streamName,
		writer: func(f *fakeAPI, p retry.Policy) *streamput.Writer { return streamput.NewFirehose(f, streamName, p) },
	}
	kinesisKind = kind{
		name: "kinesis", limits: streamput.KinesisLimits, target: streamARN,
		writer: func(f *fakeAPI, p retry.Policy) *streamput.Writer { return streamput.NewKinesis(f, streamARN, p) },
	}
	kinds = []kind{firehoseKind, kinesisKind}
)

// instant retries without waiting.
func instant(attempts int) retry.Policy {
	return retry.Policy{MaxAttempts: attempts, Base: time.Millisecond, Max: time.Second,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
}

// checkAccounting checks the promise of Put: every entry is delivered exactly
// once or listed in failures exactly once, never both; the error is non-nil
// exactly when something failed; every request kept to the limits; and each
// request went to the configured stream.
func checkAccounting(t *testing.T, k kind, in []streamput.Entry, f *fakeAPI, failures []streamput.Failure, err error) {
	t.Helper()
	failed := map[int]bool{}
	for _, fl := range failures {
		require.True(t, fl.Index >= 0 && fl.Index < len(in), "failure index %d out of range", fl.Index)
		assert.False(t, failed[fl.Index], "entry %d reported failed twice", fl.Index)
		failed[fl.Index] = true
		assert.NotEmpty(t, fl.Err, "entry %d failed without a reason", fl.Index)
	}
	for i := range in {
		switch d := f.delivered[i]; {
		case d > 1:
			t.Errorf("entry %d delivered %d times", i, d)
		case d == 1 && failed[i]:
			t.Errorf("entry %d delivered and reported failed", i)
		case d == 0 && !failed[i]:
			t.Errorf("entry %d neither delivered nor reported failed", i)
		}
	}
	if len(failures) > 0 {
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("%d of %d records not written", len(failures), len(in)))
	} else {
		assert.NoError(t, err)
	}
	for n, req := range f.requests {
		assert.NotEmpty(t, req, "request %d is empty", n)
		assert.LessOrEqual(t, len(req), k.limits.Records, "request %d: too many records", n)
		total := 0
		for _, r := range req {
			assert.LessOrEqual(t, r.size, k.limits.RecordBytes, "request %d: entry %d over the per-record limit", n, r.index)
			if k.name == "kinesis" {
				assert.Equal(t, in[r.index].PartitionKey, r.key, "request %d: entry %d sent with another partition key", n, r.index)
			}
			total += r.size
		}
		assert.LessOrEqual(t, total, k.limits.RequestBytes, "request %d: too many bytes", n)
		assert.Equal(t, k.target, f.names[n])
	}
}

func put(t *testing.T, k kind, f *fakeAPI, p retry.Policy, in []streamput.Entry) ([]streamput.Failure, error) {
	t.Helper()
	failures, err := k.writer(f, p).Put(context.Background(), in)
	checkAccounting(t, k, in, f, failures, err)
	return failures, err
}

func TestLimits(t *testing.T) {
	// The documented API limits; a change here must be deliberate.
	assert.Equal(t, 500, streamput.FirehoseLimits.Records)
	assert.Equal(t, 1000*kib, streamput.FirehoseLimits.RecordBytes)
	assert.Equal(t, 4*mib, streamput.FirehoseLimits.RequestBytes)
	assert.Equal(t, 500, streamput.KinesisLimits.Records)
	assert.Equal(t, mib, streamput.KinesisLimits.RecordBytes)
	assert.Equal(t, 5*mib, streamput.KinesisLimits.RequestBytes)
}

func TestBatching(t *testing.T) {
	// keyed gives every entry a partition key of keyLen bytes.
	keyed := func(keyLen int, sizes ...int) []streamput.Entry {
		out := entries(sizes...)
		for i := range out {
			out[i].PartitionKey = strings.Repeat("k", keyLen)
		}
		return out
	}
	tests := map[string]struct {
		kind kind
		in   []streamput.Entry
		want []int // records per request
	}{
		"firehose nothing":          {kind: firehoseKind, in: nil, want: []int{}},
		"firehose one":              {kind: firehoseKind, in: entries(10), want: []int{1}},
		"firehose 500":              {kind: firehoseKind, in: entries(repeat(500, 20)...), want: []int{500}},
		"firehose 501":              {kind: firehoseKind, in: entries(repeat(501, 20)...), want: []int{500, 1}},
		"firehose 1200":             {kind: firehoseKind, in: entries(repeat(1200, 100)...), want: []int{500, 500, 200}},
		"firehose 9 at record max":  {kind: firehoseKind, in: entries(repeat(9, 1000*kib)...), want: []int{4, 4, 1}},
		"firehose exactly 4 MiB":    {kind: firehoseKind, in: entries(append(repeat(4, 1000*kib), 4*mib-4000*kib)...), want: []int{5}},
		"firehose 4 MiB plus 1":     {kind: firehoseKind, in: entries(append(repeat(4, 1000*kib), 4*mib-4000*kib+1)...), want: []int{4, 1}},
		"firehose bytes before 500": {kind: firehoseKind, in: entries(repeat(600, 10*kib)...), want: []int{409, 191}},
		"kinesis 1200":              {kind: kinesisKind, in: keyed(10, repeat(1200, 100)...), want: []int{500, 500, 200}},
		"kinesis exactly 5 MiB":     {kind: kinesisKind, in: keyed(256, repeat(5, mib-256)...), want: []int{5}},
		"kinesis keys tip the request": {
			// The data alone fits one request; with the keys it does not.
			kind: kinesisKind, in: keyed(256, append(repeat(5, mib-256), 100)...), want: []int{5, 1},
		},
		"kinesis keys count toward 5 MiB": {
			// 500 records of 10 KiB: 5,120,000 bytes of data fit in 5 MiB
			// (5,242,880); with 256-byte keys, 5,248,000 do not.
			kind: kinesisKind, in: keyed(256, repeat(500, 10*kib)...), want: []int{499, 1},
		},
	}
	for name, tc := range tests {
		// As base64 text (Entry.Encoded), the limits count the same
		// decoded lengths, so the requests are the same.
		for form, in := range forms(tc.in) {
			t.Run(name+"/"+form, func(t *testing.T) {
				f := newFake(t)
				failures, err := put(t, tc.kind, f, instant(3), in)
				require.NoError(t, err)
				assert.Empty(t, failures)
				assert.Equal(t, tc.want, f.requestSizes())
				// Entries go out in their input order.
				var order []int
				for _, req := range f.requests {
					for _, r := range req {
						order = append(order, r.index)
					}
				}
				for i, idx := range order {
					require.Equal(t, i, idx, "entries must be sent in input order")
				}
			})
		}
	}
}

// forms returns in as it is and with every entry's data as base64 text
// (Entry.Encoded), as a record re-ingested as it came is written.
func forms(in []streamput.Entry) map[string][]streamput.Entry {
	enc := make([]streamput.Entry, len(in))
	for i, e := range in {
		enc[i] = streamput.Entry{Encoded: base64.StdEncoding.AppendEncode([]byte{}, e.Data), PartitionKey: e.PartitionKey}
	}
	return map[string][]streamput.Entry{"decoded": in, "encoded": enc}
}

func TestTooLarge(t *testing.T) {
	tests := map[string]struct {
		kind     kind
		in       []streamput.Entry
		tooLarge []int
		size     int // reported size of the too-large entry
	}{
		"firehose one byte over": {
			kind: firehoseKind, in: entries(10, 1000*kib+1, 10), tooLarge: []int{1}, size: 1000*kib + 1,
		},
		"firehose at the limit is fine": {
			kind: firehoseKind, in: entries(10, 1000*kib, 10),
		},
		"firehose 1 MiB is over": {
			kind: firehoseKind, in: entries(mib), tooLarge: []int{0}, size: mib,
		},
		"kinesis data plus key over": {
			kind:     kinesisKind,
			in:       []streamput.Entry{entry(0, 10, "a"), entry(1, mib-5, "123456"), entry(2, 10, "c")},
			tooLarge: []int{1}, size: mib + 1,
		},
		"kinesis data plus key at the limit is fine": {
			kind: kinesisKind,
			in:   []streamput.Entry{entry(0, mib-6, "123456")},
		},
		"kinesis data alone at the limit with a key is over": {
			kind:     kinesisKind,
			in:       []streamput.Entry{entry(0, mib, "k")},
			tooLarge: []int{0}, size: mib + 1,
		},
		"all too large": {
			kind: firehoseKind, in: entries(2*mib, 3*mib), tooLarge: []int{0, 1},
		},
	}
	for name, tc := range tests {
		for form, in := range forms(tc.in) {
			t.Run(name+"/"+form, func(t *testing.T) {
				testTooLarge(t, tc.kind, in, tc.tooLarge, tc.size)
			})
		}
	}
}

// testTooLarge puts in and checks that exactly the entries tooLarge are
// reported too large, the first of size bytes (when not 0), and not sent.
func testTooLarge(t *testing.T, k kind, in []streamput.Entry, tooLarge []int, size int) {
	t.Helper()
	f := newFake(t)
	failures, err := put(t, k, f, instant(3), in)
	var got []int
	for _, fl := range failures {
		got = append(got, fl.Index)
		assert.Contains(t, fl.Err, streamput.ErrRecordTooLarge.Error())
		assert.Contains(t, fl.Err, fmt.Sprintf("limit %d", k.limits.RecordBytes))
		if size != 0 {
			assert.Contains(t, fl.Err, fmt.Sprintf(": %d bytes", size))
		}
	}
	assert.Equal(t, tooLarge, got)
	for _, idx := range tooLarge {
		assert.Zero(t, f.tries[idx], "a too-large entry is never sent")
	}
	if len(tooLarge) == 0 {
		assert.NoError(t, err)
	} else {
		assert.ErrorContains(t, err, streamput.ErrRecordTooLarge.Error())
	}
	if len(tooLarge) == len(in) {
		assert.Empty(t, f.requests, "nothing to send, no request")
	}
}

func TestPartialFailureRetried(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			f := newFake(t)
			code := "ServiceUnavailableException"
			if k.name == "kinesis" {
				code = "ProvisionedThroughputExceededException"
			}
			// Every third entry is rejected on its first two tries.
			f.reject = func(index, try int) string {
				if index%3 == 0 && try <= 2 {
					return code
				}
				return ""
			}
			in := entries(repeat(10, 100)...)
			failures, err := put(t, k, f, instant(5), in)
			require.NoError(t, err)
			assert.Empty(t, failures)

			require.Len(t, f.requests, 3)
			indexes := func(req []sent) []int {
				var out []int
				for _, r := range req {
					out = append(out, r.index)
				}
				return out
			}
			assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, indexes(f.requests[0]))
			assert.Equal(t, []int{0, 3, 6, 9}, indexes(f.requests[1]), "only the rejected entries are sent again")
			assert.Equal(t, []int{0, 3, 6, 9}, indexes(f.requests[2]))
		})
	}
}

func TestPersistentFailure(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			f := newFake(t)
			f.reject = func(index, _ int) string {
				if index == 2 || index == 7 {
					return "InternalFailure"
				}
				return ""
			}
			const attempts = 4
			failures, err := put(t, k, f, instant(attempts), entries(repeat(10, 50)...))
			assert.Equal(t, []streamput.Failure{
				{Index: 2, Err: "InternalFailure: " + message(2, attempts)},
				{Index: 7, Err: "InternalFailure: " + message(7, attempts)},
			}, failures, "the last error AWS gave is kept")
			require.Error(t, err)
			assert.Equal(t, "streamput: 2 of 10 records not written, first: InternalFailure: "+message(2, attempts), err.Error())
			assert.Len(t, f.requests, attempts, "one request per attempt")
			assert.Equal(t, attempts, f.tries[2])
			assert.Equal(t, 1, f.tries[3])
		})
	}
}

// TestRejectionClassified: a record rejected with a code no retry cures
// (the stream's KMS key is unusable) fails at once, while the records
// rejected for a passing reason are retried beside it.
func TestRejectionClassified(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			f := newFake(t)
			f.reject = func(index, try int) string {
				switch {
				case index == 1:
					return "KMSAccessDeniedException"
				case index == 2 && try <= 2:
					return "InternalFailure"
				}
				return ""
			}
			in := entries(repeat(5, 50)...)
			if k.name == "kinesis" {
				for i := range in {
					in[i].PartitionKey = "key"
				}
			}
			failures, err := put(t, k, f, instant(5), in)
			require.Error(t, err)
			assert.Equal(t, []streamput.Failure{{Index: 1, Err: "KMSAccessDeniedException: " + message(1, 1)}}, failures)
			assert.Equal(t, 1, f.tries[1], "not retried")
			assert.Equal(t, 3, f.tries[2], "retried until written")
		})
	}
}

func TestPersistentFailureAcrossRequests(t *testing.T) {
	f := newFake(t)
	f.reject = func(index, _ int) string {
		if index%100 == 7 {
			return "ServiceUnavailableException"
		}
		return ""
	}
	const attempts = 3
	failures, err := put(t, firehoseKind, f, instant(attempts), entries(repeat(1200, 10)...))
	require.Error(t, err)
	var got []int
	for _, fl := range failures {
		got = append(got, fl.Index)
	}
	want := []int{7, 107, 207, 307, 407, 507, 607, 707, 807, 907, 1007, 1107}
	assert.Equal(t, want, got)
	assert.Equal(t, []int{500, 5, 5, 500, 5, 5, 200, 2, 2}, f.requestSizes(), "each request retried on its own")
}

func TestWholeRequestErrors(t *testing.T) {
	throttled := &streamput.APIError{StatusCode: 400, Code: "ServiceUnavailableException", Message: "Slow down."}
	tests := map[string]struct {
		kind     kind
		fail     func(n int) error
		attempts int
		requests int
		failed   bool
	}{
		"firehose throttled twice then accepted": {
			kind: firehoseKind, attempts: 5, requests: 3,
			fail: func(n int) error {
				if n < 2 {
					return throttled
				}
				return nil
			},
		},
		"kinesis throttled twice then accepted": {
			kind: kinesisKind, attempts: 5, requests: 3,
			fail: func(n int) error {
				if n < 2 {
					return &streamput.APIError{StatusCode: 400, Code: "ProvisionedThroughputExceededException", Message: "Rate exceeded"}
				}
				return nil
			},
		},
		"firehose throttled every time": {
			kind: firehoseKind, attempts: 4, requests: 4, failed: true,
			fail: func(int) error { return throttled },
		},
		"firehose missing stream is not retried": {
			kind: firehoseKind, attempts: 5, requests: 1, failed: true,
			fail: func(int) error {
				return &streamput.APIError{StatusCode: 400, Code: "ResourceNotFoundException", Message: "Firehose orders-to-lake not found"}
			},
		},
		"kinesis access denied is not retried": {
			kind: kinesisKind, attempts: 5, requests: 1, failed: true,
			fail: func(int) error {
				return &streamput.APIError{StatusCode: 400, Code: "AccessDeniedException", Message: "not authorized"}
			},
		},
		"kinesis network error every time": {
			kind: kinesisKind, attempts: 2, requests: 2, failed: true,
			fail: func(int) error { return errors.New("connection reset by peer") },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			f.fail = tc.fail
			in := entries(repeat(7, 30)...)
			if tc.kind.name == "kinesis" {
				for i := range in {
					in[i].PartitionKey = "key"
				}
			}
			failures, err := put(t, tc.kind, f, instant(tc.attempts), in)
			assert.Len(t, f.requests, tc.requests)
			for _, req := range f.requests {
				assert.Len(t, req, len(in), "a failed request is sent again whole")
			}
			if !tc.failed {
				assert.NoError(t, err)
				return
			}
			require.Len(t, failures, len(in))
			last := tc.fail(tc.requests - 1).Error()
			for i, fl := range failures {
				assert.Equal(t, i, fl.Index)
				assert.Contains(t, fl.Err, tc.kind.target, "the error names the stream")
				assert.Contains(t, fl.Err, last)
			}
			assert.Error(t, err)
		})
	}
}

func TestWholeThenPartial(t *testing.T) {
	f := newFake(t)
	f.fail = func(n int) error {
		if n == 0 {
			return errors.New("timeout")
		}
		return nil
	}
	f.reject = func(index, try int) string {
		if index == 1 && try == 1 {
			return "ServiceUnavailableException"
		}
		return ""
	}
	failures, err := put(t, firehoseKind, f, instant(3), entries(10, 10, 10))
	require.NoError(t, err)
	assert.Empty(t, failures)
	assert.Equal(t, []int{3, 3, 1}, f.requestSizes())
}

func TestFailureKeepsLastError(t *testing.T) {
	// A record rejected, then caught in a whole-request failure: the later
	// error is the one reported.
	f := newFake(t)
	f.reject = func(index, _ int) string {
		if index == 0 {
			return "ServiceUnavailableException"
		}
		return ""
	}
	f.fail = func(n int) error {
		if n == 1 {
			return errors.New("connection reset")
		}
		return nil
	}
	failures, _ := put(t, firehoseKind, f, instant(2), entries(10, 10))
	require.Len(t, failures, 1)
	assert.Equal(t, 0, failures[0].Index)
	assert.Contains(t, failures[0].Err, "connection reset")
}

func TestContextCancelled(t *testing.T) {
	t.Run("before Put", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		f := newFake(t)
		in := entries(repeat(1200, 10)...)
		failures, err := firehoseKind.writer(f, instant(20)).Put(ctx, in)
		checkAccounting(t, firehoseKind, in, f, failures, err)
		require.Len(t, failures, len(in))
		assert.Contains(t, failures[0].Err, context.Canceled.Error())
		assert.Len(t, f.requests, 3, "one try per request, no retries once the context is done")
	})
	t.Run("after the first request", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f := newFake(t)
		f.fail = func(n int) error {
			if n == 0 {
				cancel()
			}
			return nil
		}
		in := entries(repeat(1200, 10)...)
		failures, err := firehoseKind.writer(f, instant(20)).Put(ctx, in)
		checkAccounting(t, firehoseKind, in, f, failures, err)
		assert.Len(t, failures, 700, "the first 500 were delivered, the rest failed")
		assert.Equal(t, 500, failures[0].Index)
	})
}

// TestRandomized runs many generated scenarios, mixing sizes, keys,
// rejections and whole-request failures, and checks the accounting and the
// limits of each.
func TestRandomized(t *testing.T) {
	for seed := range uint64(150) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			k := kinds[rng.IntN(len(kinds))]
			n := rng.IntN(1300)
			bigChance := 0.0
			if n < 40 {
				bigChance = 0.5 // few entries: many of them large
			}
			in := make([]streamput.Entry, n)
			for i := range in {
				size := idLen + rng.IntN(3000)
				if rng.Float64() < bigChance {
					size = k.limits.RecordBytes - 300 + rng.IntN(600)
				}
				in[i] = entry(i, size, strings.Repeat("p", 1+rng.IntN(256)))
			}
			rejectRate := rng.Float64() * 0.5
			failRate := rng.Float64() * 0.3
			f := newFake(t)
			f.reject = func(int, int) string {
				if rng.Float64() < rejectRate {
					return "ServiceUnavailableException"
				}
				return ""
			}
			f.fail = func(int) error {
				if rng.Float64() < failRate {
					return errors.New("throttled")
				}
				return nil
			}
			put(t, k, f, instant(1+rng.IntN(6)), in)
		})
	}
}

func TestWriterIsReusable(t *testing.T) {
	f := newFake(t)
	w := streamput.NewKinesis(f, streamARN, instant(3))
	for range 3 {
		f.delivered = map[int]int{}
		failures, err := w.Put(context.Background(), entries(10, 20))
		require.NoError(t, err)
		assert.Empty(t, failures)
	}
	assert.Len(t, f.requests, 3)
}

func BenchmarkPut(b *testing.B) {
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			in := make([]streamput.Entry, 500)
			total := 0
			for i := range in {
				in[i] = entry(i, 200, "partition-"+strconv.Itoa(i%16))
				total += len(in[i].Data)
			}
			api := streamput.Discard{}
			var w *streamput.Writer
			if k.name == "firehose" {
				w = streamput.NewFirehose(api, streamName, retry.Default())
			} else {
				w = streamput.NewKinesis(api, streamARN, retry.Default())
			}
			ctx := context.Background()
			b.SetBytes(int64(total))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := w.Put(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBadPartitionKey: Kinesis rejects a whole request for one record with
// an empty or over-long key, so such records fail alone, unsent.
func TestBadPartitionKey(t *testing.T) {
	f := newFake(t)
	in := entries(10, 10, 10)
	in[0].PartitionKey = ""
	in[2].PartitionKey = strings.Repeat("k", 257)
	failures, err := put(t, kinesisKind, f, instant(3), in)
	require.Error(t, err)
	require.Len(t, failures, 2)
	assert.Equal(t, []int{0, 2}, []int{failures[0].Index, failures[1].Index})
	assert.Contains(t, failures[0].Err, streamput.ErrBadPartitionKey.Error())
	assert.Equal(t, 1, f.delivered[1])
}

// shortAPI answers fewer entries than it was sent, which AWS never should:
// the unanswered records must not count as written.
type shortAPI struct{ calls int }

func (s *shortAPI) PutRecordBatch(_ context.Context, _ string, in []streamput.Entry) ([]streamput.Answer, error) {
	s.calls++
	return make([]streamput.Answer, len(in)-1), nil
}

func TestMissingResponseEntriesFail(t *testing.T) {
	api := &shortAPI{}
	failures, err := streamput.NewFirehose(api, streamName, instant(3)).Put(context.Background(), entries(10, 10, 10))
	require.Error(t, err)
	require.Len(t, failures, 1)
	assert.Equal(t, 2, failures[0].Index)
	assert.Equal(t, "missing from the response", failures[0].Err)
	assert.Equal(t, 3, api.calls, "retried like any rejected record")
}
