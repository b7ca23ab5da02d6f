package transformer

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/boot"
	"lakestream/shared/config"
	"lakestream/shared/firehose"
	"lakestream/shared/pipeline"
	"lakestream/shared/record"
	"lakestream/shared/transformer/transformertest"
)

// parseWords is a test parser: space-separated name=value words; "#"
// lines are skipped, a word without "=" fails the line.
func parseWords(line []byte) (*record.Record, error) {
	if bytes.HasPrefix(line, []byte("#")) {
		return nil, nil
	}
	r := record.New(4)
	for w := range strings.FieldsSeq(string(line)) {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return nil, errors.New("word " + w + " has no =")
		}
		r.Set(k, v)
	}
	return r, nil
}

var words = Format{
	Parse:    parseWords,
	Defaults: pipeline.Options{TimeField: "when", OutputColumns: "when,what"},
}

// arrival is in another hour than the event times, so a partition key
// tells which time it came from.
var arrival = time.Date(2024, 3, 5, 9, 30, 0, 0, time.UTC)

func event(data ...string) events.KinesisFirehoseEvent {
	ev := events.KinesisFirehoseEvent{InvocationID: "inv-1"}
	for i, d := range data {
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{
			RecordID:                    string(rune('a' + i)),
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: arrival},
			Data:                        []byte(d),
		})
	}
	return ev
}

func build(t *testing.T, env map[string]string) (*firehose.Handler, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	fn := boot.NewFrom(config.FromMap(env), &out)
	h := NewHandler(fn, words)
	require.NoError(t, fn.Err())
	require.NotNil(t, h)
	return h, &out
}

func TestNewHandlerDefaults(t *testing.T) {
	const line = "when=2024-03-05T06:07:08Z what=x other=2024-01-02T03:04:05Z\n"
	tests := map[string]struct {
		env      map[string]string
		line     string // the const line when empty
		wantData string
		wantKeys map[string]string
	}{
		"the format's time field partitions": {
			env:      map[string]string{"PARTITION_KEYS": "date,hour"},
			wantData: `{"when":"2024-03-05T06:07:08Z","what":"x","other":"2024-01-02T03:04:05Z"}` + "\n",
			wantKeys: map[string]string{"date": "2024-03-05", "hour": "06"},
		},
		"TIME_FIELD set wins": {
			env:      map[string]string{"PARTITION_KEYS": "date,hour", "TIME_FIELD": "other"},
			wantData: `{"when":"2024-03-05T06:07:08Z","what":"x","other":"2024-01-02T03:04:05Z"}` + "\n",
			wantKeys: map[string]string{"date": "2024-01-02", "hour": "03"},
		},
		"csv takes the format's columns and the arrival time": {
			env:      map[string]string{"OUTPUT_FORMAT": "csv", "ARRIVAL_TIME_FIELD": "arrived"},
			wantData: "2024-03-05T06:07:08Z,x,2024-03-05T09:30:00.000Z\n",
		},
		"PARSE_MESSAGE parses the message field": {
			env:      map[string]string{"PARSE_MESSAGE": "vpcflow", "VPCFLOW_FIELDS": "${action}", "DROP_IF": "action=REJECT"},
			line:     "when=2024-03-05T06:07:08Z message=ACCEPT\n",
			wantData: `{"when":"2024-03-05T06:07:08Z","message":"ACCEPT","action":"ACCEPT"}` + "\n",
		},
		"OUTPUT_COLUMNS set wins": {
			env:      map[string]string{"OUTPUT_FORMAT": "tsv", "OUTPUT_COLUMNS": "what,other"},
			wantData: "x\t2024-01-02T03:04:05Z\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h, _ := build(t, tc.env)
			if tc.line == "" {
				tc.line = line
			}
			resp := transformertest.InvokeEvent(t, h, event(tc.line))
			require.Len(t, resp.Records, 1)
			assert.Equal(t, firehose.ResultOk, resp.Records[0].Result)
			assert.Equal(t, tc.wantData, string(resp.Records[0].Data))
			assert.Equal(t, tc.wantKeys, resp.Records[0].PartitionKeys)
		})
	}
}

// TestNewHandlerParseAt: a format's ParserAt is given each record's
// arrival time.
func TestNewHandlerParseAt(t *testing.T) {
	fn := boot.NewFrom(config.FromMap(nil), &bytes.Buffer{})
	var seen time.Time
	h := NewHandler(fn, Format{ParseAt: func(line []byte, arrival time.Time) (*record.Record, error) {
		seen = arrival
		return parseWords(line)
	}})
	require.NoError(t, fn.Err())
	resp := transformertest.InvokeEvent(t, h, event("what=x\n"))
	assert.Equal(t, firehose.ResultOk, resp.Records[0].Result)
	assert.Equal(t, arrival, seen)
}

// TestNewHandlerParseInto: a format's ParserInto is given a record to
// fill (reset, and the same from line to line) and the arrival time, and
// makes the same output as a Parser.
func TestNewHandlerParseInto(t *testing.T) {
	fn := boot.NewFrom(config.FromMap(nil), &bytes.Buffer{})
	var seen time.Time
	records := map[*record.Builder]int{}
	h := NewHandler(fn, Format{ParseInto: func(r *record.Builder, line []byte, arrival time.Time) (bool, error) {
		seen = arrival
		records[r]++
		require.Empty(t, r.Fields, "a reset record")
		parsed, err := parseWords(line)
		if parsed == nil || err != nil {
			return false, err
		}
		for _, f := range parsed.Fields {
			r.Fields = append(r.Fields, record.Field{Name: f.Name, Value: r.Box(f.Value.(string))})
		}
		return true, nil
	}})
	require.NoError(t, fn.Err())
	ev := event("what=x\n# skipped\nwhat=y when=2024-03-05T06:07:08Z\n")
	resp := transformertest.InvokeEvent(t, h, ev)
	require.Equal(t, firehose.ResultOk, resp.Records[0].Result)
	assert.Equal(t, arrival, seen)
	assert.Len(t, records, 1, "one record for every line")

	plain := NewHandler(fn, Format{Parse: parseWords})
	assert.Equal(t, transformertest.InvokeEvent(t, plain, ev), resp)
}

// TestNewHandlerCounts: the pipeline's line counts join the framework's
// record counts in the one summary line and the one EMF document.
func TestNewHandlerCounts(t *testing.T) {
	h, out := build(t, map[string]string{"DROP_IF": "what=noise"})
	for range 2 {
		transformertest.InvokeEvent(t, h, event(
			"# header\nwhen=2024-03-05T06:00:00Z what=a\nwhen=2024-03-05T06:00:01Z what=noise\n",
			"when=2024-03-05T06:00:02Z what=b\n",
			"what=noise\n",
		))
	}
	var summaries, docs []map[string]any
	for line := range bytes.Lines(out.Bytes()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m))
		switch {
		case m["msg"] == "invocation done":
			summaries = append(summaries, m)
		case m["_aws"] != nil:
			docs = append(docs, m)
		}
	}
	require.Len(t, summaries, 2, "one summary line per invocation")
	require.Len(t, docs, 2, "one EMF document per invocation")
	for i := range 2 {
		// Counts are per invocation, not running totals.
		for key, want := range map[string]float64{"records_in": 3, "ok": 2, "dropped": 1, "lines_skipped": 1, "lines_filtered": 2, "lines_written": 2} {
			assert.Equal(t, want, summaries[i][key], "summary %d %s", i, key)
		}
		for key, want := range map[string]float64{"RecordsIn": 3, "LinesSkipped": 1, "LinesFiltered": 2, "LinesWritten": 2} {
			assert.Equal(t, want, docs[i][key], "EMF %d %s", i, key)
		}
	}
}

// TestNewHandlerBadLine: a line the parser rejects fails its record alone,
// with the line number and the reason logged.
func TestNewHandlerBadLine(t *testing.T) {
	h, out := build(t, nil)
	resp := transformertest.InvokeEvent(t, h, event("what=a\nbroken\n", "what=b\n"))
	assert.Equal(t, firehose.ResultProcessingFailed, resp.Records[0].Result)
	assert.Equal(t, "what=a\nbroken\n", string(resp.Records[0].Data), "the original goes to the error prefix")
	assert.Equal(t, firehose.ResultOk, resp.Records[1].Result)
	assert.Contains(t, out.String(), `"msg":"record failed"`)
	assert.Contains(t, out.String(), `"record_id":"a","error":"line 2: word broken has no ="`)
}

// TestNewHandlerInvalidSettings: every invalid variable is named once in
// the init error, and no handler is built.
func TestNewHandlerInvalidSettings(t *testing.T) {
	var out bytes.Buffer
	fn := boot.NewFrom(config.FromMap(map[string]string{"OUTPUT_FORMAT": "xml", "SCHEMA": "what:text"}), &out)
	h := NewHandler(fn, words)
	assert.Nil(t, h)
	err := fn.Err()
	require.Error(t, err)
	assert.Equal(t, 1, strings.Count(err.Error(), `OUTPUT_FORMAT="xml" is invalid: one of json, csv, tsv`), err.Error())
	assert.Equal(t, 1, strings.Count(err.Error(), `SCHEMA="what:text" is invalid`), err.Error())
}
