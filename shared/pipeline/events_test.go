package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/record"
)

// cloudwatch is the shared fields of the CloudWatch Logs source.
var cloudwatch = []string{"logGroup", "logStream", "owner"}

func newTestEvents(t testing.TB, env map[string]string) *EventPipeline {
	t.Helper()
	e := config.New(config.FromMap(env))
	opts := LoadDefaults(e, Options{OutputFormat: FormatLines, TimeField: FieldTimestamp,
		PartitionAliases: map[string]string{"log_group": "field:logGroup"}})
	require.NoError(t, e.Err())
	p, err := NewEvents(cloudwatch, opts)
	require.NoError(t, err)
	return p
}

// testEvents is a batch with what the writers must get right: escapes,
// control bytes, an object message, a message ending in a newline, times
// on both sides of an hour and of 1970.
func testEvents() *LogEvents {
	return &LogEvents{
		Shared: []string{"/aws/lambda/app", "2024/05/01/[$LATEST]0f1e", "123456789012"},
		Events: []LogEvent{
			{ID: "1", Timestamp: 1714575599999, Message: `{"level":"INFO","n":[1, 2]}`},
			{ID: "2", Timestamp: 1714575600000, Message: "tab\there \"quoted\" <html> & \u2028\x01\n"},
			{ID: "3", Timestamp: 1714575600001, Message: ""},
			{ID: "4", Timestamp: -1, Message: "before 1970"},
			{ID: "5", Timestamp: 1714575599000, Message: " {not json"},
		},
	}
}

// TestEventsDirectMatchesRecords: for every setting the direct path takes,
// it writes what the record path writes, byte for byte, with the same
// keys, groups and counts; settings it cannot take go to the record path.
func TestEventsDirectMatchesRecords(t *testing.T) {
	tests := map[string]struct {
		env    map[string]string
		direct bool
	}{
		"lines":                   {nil, true},
		"json":                    {map[string]string{"OUTPUT_FORMAT": "json"}, true},
		"json embedded":           {map[string]string{"OUTPUT_FORMAT": "json", "EMBED_JSON_MESSAGE": "true"}, true},
		"splunk":                  {map[string]string{"OUTPUT_FORMAT": "splunk", "SPLUNK_HOST": "field:logStream", "SPLUNK_SOURCE": "field:logGroup", "SPLUNK_SOURCETYPE": "st", "SPLUNK_INDEX": "i"}, true},
		"splunk embedded":         {map[string]string{"OUTPUT_FORMAT": "splunk", "EMBED_JSON_MESSAGE": "true", "SPLUNK_HOST": "literal"}, true},
		"splunk arrival time":     {map[string]string{"OUTPUT_FORMAT": "splunk", "TIME_FIELD": "nothing"}, false},
		"splunk host from id":     {map[string]string{"OUTPUT_FORMAT": "splunk", "SPLUNK_HOST": "field:id"}, false},
		"keys by time and fields": {map[string]string{"PARTITION_KEYS": "log_group,owner=field:owner,dt=date,hour"}, true},
		"keys by day":             {map[string]string{"PARTITION_KEYS": "dt=date"}, true},
		"keys by fields":          {map[string]string{"PARTITION_KEYS": "g=field:logGroup,s=field:logStream"}, true},
		"keys by message":         {map[string]string{"PARTITION_KEYS": "m=field:message"}, false},
		"drop if":                 {map[string]string{"DROP_IF": "message^=before"}, false},
		"schema":                  {map[string]string{"SCHEMA": "timestamp:int"}, false},
		"csv":                     {map[string]string{"OUTPUT_FORMAT": "csv", "OUTPUT_COLUMNS": "id,message"}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := newTestEvents(t, tc.env)
			assert.Equal(t, tc.direct, p.Direct())
			for _, limit := range []int{0, 100} {
				for _, valid := range []bool{false, true} {
					evs := testEvents()
					evs.ValidUTF8 = valid
					if !valid {
						evs.Events[2].Message = "bad \xff byte"
					}
					o := RunOptions{Limit: limit, LineEnds: true}
					direct, errDirect := p.Run(context.Background(), evs, arrival, o)
					o.Record = true
					viaRecords, errRecords := p.Run(context.Background(), evs, arrival, o)
					require.Equal(t, errRecords, errDirect)
					assert.Equal(t, string(viaRecords.Data), string(direct.Data), "limit %d", limit)
					assert.Equal(t, viaRecords, direct, "limit %d", limit)
				}
			}
		})
	}
}

func TestEventsRun(t *testing.T) {
	ctx := context.Background()
	evs := testEvents()

	t.Run("groups by partition", func(t *testing.T) {
		res, err := newTestEvents(t, map[string]string{"PARTITION_KEYS": "hour"}).Run(ctx, evs, arrival, RunOptions{})
		require.NoError(t, err)
		assert.Nil(t, res.Data)
		assert.Equal(t, [][]int{{0, 4}, {1, 2}, {3}}, res.Groups, "hours 14, 15 and 23 (of 1969), in order of appearance")
	})
	t.Run("one partition", func(t *testing.T) {
		one := &LogEvents{Shared: evs.Shared, Events: evs.Events[1:3]}
		res, err := newTestEvents(t, map[string]string{"PARTITION_KEYS": "log_group,dt=date,hour"}).Run(ctx, one, arrival, RunOptions{})
		require.NoError(t, err)
		assert.Nil(t, res.Groups)
		assert.Equal(t, map[string]string{"log_group": "aws_lambda_app", "dt": "2024-05-01", "hour": "15"}, res.PartitionKeys)
	})
	t.Run("no partition", func(t *testing.T) {
		res, err := newTestEvents(t, map[string]string{"PARTITION_KEYS": "hour"}).Run(ctx, evs, arrival, RunOptions{NoPartition: true, LineEnds: true})
		require.NoError(t, err)
		assert.Nil(t, res.PartitionKeys)
		assert.Len(t, res.LineEnds, len(evs.Events), "one line per event (one message ends in a newline of its own)")
		assert.Equal(t, len(res.Data), res.LineEnds[len(res.LineEnds)-1])
	})
	t.Run("over the limit", func(t *testing.T) {
		res, err := newTestEvents(t, nil).Run(ctx, evs, arrival, RunOptions{Limit: 30})
		require.NoError(t, err)
		assert.True(t, res.Over)
		assert.Nil(t, res.Data)
	})
	t.Run("into the caller's buffer", func(t *testing.T) {
		p := newTestEvents(t, nil)
		want, err := p.Run(ctx, evs, arrival, RunOptions{})
		require.NoError(t, err)
		roomy := make([]byte, 3, 1024)
		res, err := p.Run(ctx, evs, arrival, RunOptions{Out: roomy})
		require.NoError(t, err)
		assert.Equal(t, string(want.Data), string(res.Data))
		assert.Same(t, &roomy[:1][0], &res.Data[0], "written from the start of Out")
		small := make([]byte, 0, 8)
		res, err = p.Run(ctx, evs, arrival, RunOptions{Out: small})
		require.NoError(t, err)
		assert.Equal(t, string(want.Data), string(res.Data))
		assert.NotSame(t, &small[:1][0], &res.Data[0], "a buffer without room is left alone")
	})
	t.Run("filtered and counted", func(t *testing.T) {
		res, err := newTestEvents(t, map[string]string{"DROP_IF": "message~=^$,id=4"}).Run(ctx, evs, arrival, RunOptions{})
		require.NoError(t, err)
		assert.Equal(t, Stats{Filtered: 2, Written: 3}, res.Stats)
	})
	t.Run("all filtered", func(t *testing.T) {
		res, err := newTestEvents(t, map[string]string{"DROP_IF": "owner=123456789012"}).Run(ctx, evs, arrival, RunOptions{})
		require.NoError(t, err)
		assert.Nil(t, res.Data)
		assert.Equal(t, Stats{Filtered: 5}, res.Stats)
	})
	t.Run("a failing event names itself", func(t *testing.T) {
		_, err := newTestEvents(t, map[string]string{"SCHEMA": "message:string:max=10"}).Run(ctx, evs, arrival, RunOptions{})
		var evErr *EventError
		require.ErrorAs(t, err, &evErr)
		assert.Equal(t, 1, evErr.Index)
		assert.EqualError(t, err, `log event 1 (id "1"): field "message": 27 characters, more than the maximum 10`)
	})
	t.Run("shared values must match the fields", func(t *testing.T) {
		_, err := newTestEvents(t, nil).Run(ctx, &LogEvents{Shared: []string{"g"}}, arrival, RunOptions{})
		assert.EqualError(t, err, "pipeline: 1 shared values for the 3 shared fields [logGroup logStream owner]")
	})
	t.Run("context ended", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := newTestEvents(t, nil).Run(cctx, evs, arrival, RunOptions{})
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("parsed message", func(t *testing.T) {
		e := config.New(config.FromMap(map[string]string{"OUTPUT_FORMAT": "json", "DROP_IF": "level=DEBUG"}))
		opts := LoadDefaults(e, Options{})
		opts.ParseMessageName = "kv"
		opts.ParseMessage = func(line []byte, _ time.Time) (*record.Record, error) {
			r := record.New(2)
			for word := range strings.FieldsSeq(string(line)) {
				k, v, ok := strings.Cut(word, "=")
				if !ok {
					return nil, fmt.Errorf("word %q has no =", word)
				}
				r.Set(k, v)
			}
			return r, nil
		}
		p, err := NewEvents(cloudwatch, opts)
		require.NoError(t, err)
		kv := &LogEvents{Shared: []string{"g", "s", "o"}, Events: []LogEvent{
			{ID: "a", Timestamp: 1, Message: "level=INFO id=x"},
			{ID: "b", Timestamp: 2, Message: "level=DEBUG"},
		}}
		res, err := p.Run(ctx, kv, arrival, RunOptions{})
		require.NoError(t, err)
		assert.Equal(t, `{"logGroup":"g","logStream":"s","owner":"o","id":"a","timestamp":1,"message":"level=INFO id=x","level":"INFO","kv_id":"x"}`+"\n", string(res.Data))
		assert.Equal(t, Stats{Filtered: 1, Written: 1}, res.Stats)

		kv.Events[1].Message = "oops"
		_, err = p.Run(ctx, kv, arrival, RunOptions{})
		assert.EqualError(t, err, `log event 2 (id "b"): message does not parse: word "oops" has no =`)
	})
}

// FuzzEventsDirectMatchesRecords: for any messages, ids and times, the
// direct path and the record path agree, in every format.
func FuzzEventsDirectMatchesRecords(f *testing.F) {
	f.Add("{\"a\":1}", "x\ty", "1", int64(1714575599999), int64(1714575600000), uint8(0))
	f.Add("\xff\u2028", "", "", int64(-1), int64(99999999999999), uint8(7))
	pipes := map[uint8]*EventPipeline{}
	for v := range uint8(8) {
		env := map[string]string{"OUTPUT_FORMAT": []string{"lines", "json", "splunk"}[v%3], "PARTITION_KEYS": "log_group,dt=date,hour"}
		if v%3 != 0 && v&4 != 0 {
			env["EMBED_JSON_MESSAGE"] = "true"
		}
		pipes[v] = newTestEvents(f, env)
	}
	f.Fuzz(func(t *testing.T, m1, m2, id string, t1, t2 int64, variant uint8) {
		p := pipes[variant%8]
		evs := &LogEvents{Shared: []string{"/g", "s", "o"}, Events: []LogEvent{{ID: id, Timestamp: t1, Message: m1}, {ID: id, Timestamp: t2, Message: m2}}}
		for _, limit := range []int{0, 200} {
			o := RunOptions{Limit: limit}
			direct, errDirect := p.Run(context.Background(), evs, arrival, o)
			o.Record = true
			viaRecords, errRecords := p.Run(context.Background(), evs, arrival, o)
			require.Equal(t, errRecords, errDirect)
			assert.Equal(t, viaRecords, direct)
		}
	})
}
