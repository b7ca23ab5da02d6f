package replay

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/golden"
)

func sampleBody(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/onfailure/" + name + ".json")
	require.NoError(t, err)
	return string(b)
}

// TestParseOnFailure reads the invocation records the Lambda developer
// guide shows for DynamoDB and Kinesis stream mappings.
func TestParseOnFailure(t *testing.T) {
	tests := map[string]struct {
		source, shard, start, end, stream string
		size                              int
		first                             time.Time
	}{
		"dynamodb": {SourceDynamoDB, "shardId-00000001714521600000-864758bb", "400000000000000499660", "400000000000000499662",
			"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2024-05-01T00:00:00.000", 3, time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC)},
		"kinesis": {SourceKinesis, "shardId-000000000001", "49601189658422359378836298521827638475320189012309704722",
			"49601189658422359378836298522902373528957594348623495186", "arn:aws:kinesis:us-east-1:123456789012:stream/clicks", 500,
			time.Date(2024, 5, 1, 13, 0, 4, 835_000_000, time.UTC)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := ParseOnFailure(sampleBody(t, name))
			require.NoError(t, err)
			info := r.Batch()
			assert.Equal(t, tc.source, r.Source())
			assert.Equal(t, tc.shard, info.ShardID)
			assert.Equal(t, tc.start, info.StartSequenceNumber)
			assert.Equal(t, tc.end, info.EndSequenceNumber)
			assert.Equal(t, tc.stream, info.StreamARN)
			assert.Equal(t, tc.size, info.BatchSize)
			assert.True(t, tc.first.Equal(info.ApproximateArrivalOfFirstRecord), "%s", info.ApproximateArrivalOfFirstRecord)
			assert.Equal(t, "RetryAttemptsExhausted", r.RequestContext.Condition)
			assert.Nil(t, r.Replay)
		})
	}
}

func TestParseOnFailureRejects(t *testing.T) {
	tests := map[string]struct{ body, want string }{
		"not json":        {`{"DDBStreamBatchInfo":`, "unexpected end of JSON input"},
		"async record":    {`{"requestContext":{"condition":"RetriesExhausted"},"requestPayload":{"awslogs":{}}}`, "no DDBStreamBatchInfo or KinesisBatchInfo"},
		"both":            {`{"DDBStreamBatchInfo":{"shardId":"s","startSequenceNumber":"1","endSequenceNumber":"2","streamArn":"a"},"KinesisBatchInfo":{"shardId":"s","startSequenceNumber":"1","endSequenceNumber":"2","streamArn":"a"}}`, "both"},
		"no shard":        {`{"DDBStreamBatchInfo":{"startSequenceNumber":"1","endSequenceNumber":"2","streamArn":"a"}}`, "lacks its shard"},
		"not decimal":     {`{"KinesisBatchInfo":{"shardId":"s","startSequenceNumber":"1e5","endSequenceNumber":"2","streamArn":"a"}}`, "not decimal"},
		"backwards range": {`{"KinesisBatchInfo":{"shardId":"s","startSequenceNumber":"30","endSequenceNumber":"4","streamArn":"a"}}`, "starts after it ends"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseOnFailure(tc.body)
			require.ErrorIs(t, err, ErrNotStreamBatch)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// TestNarrowed: the message put back for the records a run could not
// send keeps every field of the original, narrows the range to them and
// names them; a second narrowing counts the runs.
func TestNarrowed(t *testing.T) {
	body := sampleBody(t, "dynamodb")
	r, err := ParseOnFailure(body)
	require.NoError(t, err)
	once, err := narrowed(body, r, []string{"400000000000000499661", "400000000000000499662"}, "the forwarder reported 2 batch item failures")
	require.NoError(t, err)
	r2, err := ParseOnFailure(once)
	require.NoError(t, err)
	twice, err := narrowed(once, r2, []string{"400000000000000499662"}, "throttled")
	require.NoError(t, err)
	var got []json.RawMessage
	for _, b := range []string{once, twice} {
		got = append(got, json.RawMessage(b))
	}
	golden.JSON(t, "testdata/onfailure/narrowed.golden.json", got)

	r3, err := ParseOnFailure(twice)
	require.NoError(t, err)
	assert.Equal(t, []string{"400000000000000499662"}, r3.Replay.Pending)
	assert.Equal(t, 2, r3.Replay.Runs)
	assert.Equal(t, "400000000000000499662", r3.Batch().StartSequenceNumber)
	assert.Equal(t, 1, r3.Batch().BatchSize)
}

func TestCompareSeq(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "2", -1},
		{"10", "9", 1},
		{"0010", "10", 0},
		{"49601189658422359378836298521827638475320189012309704722", "49601189658422359378836298522902373528957594348623495186", -1},
		{"400000000000000499662", "400000000000000499662", 0},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, compareSeq(tc.a, tc.b), "%s vs %s", tc.a, tc.b)
		assert.Equal(t, -tc.want, compareSeq(tc.b, tc.a), "%s vs %s", tc.b, tc.a)
	}
}

// FuzzParseOnFailure: any message body parses or is rejected as not a
// stream batch, without panicking; one that parses names a range in order,
// and narrowing it to its start keeps it parsable.
func FuzzParseOnFailure(f *testing.F) {
	f.Add(sampleBody(f, "dynamodb"))
	f.Add(sampleBody(f, "kinesis"))
	f.Add(`{"KinesisBatchInfo":{"shardId":"s","startSequenceNumber":"1","endSequenceNumber":"2","streamArn":"a"},"lakestreamReplay":{"pending":["2"],"runs":1}}`)
	f.Fuzz(func(t *testing.T, body string) {
		r, err := ParseOnFailure(body)
		if err != nil {
			require.ErrorIs(t, err, ErrNotStreamBatch)
			return
		}
		info := r.Batch()
		require.LessOrEqual(t, compareSeq(info.StartSequenceNumber, info.EndSequenceNumber), 0)
		next, err := narrowed(body, r, []string{info.StartSequenceNumber}, "fuzz")
		require.NoError(t, err)
		r2, err := ParseOnFailure(next)
		require.NoError(t, err)
		require.Equal(t, []string{info.StartSequenceNumber}, r2.Replay.Pending)
	})
}
