package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/functions/ddb-stream-forwarder/ddbjson"
	"lakestream/shared/golden"
)

var both = Converter{NewImage: true, OldImage: true, KinesisNewline: true}

// convertedRecord is one record's conversion as the golden files show it.
type convertedRecord struct {
	Kind   string    `json:"kind,omitempty"`
	ID     string    `json:"sequence_number,omitempty"`
	Source string    `json:"source,omitempty"`
	Key    string    `json:"key,omitempty"`
	Skip   bool      `json:"skip,omitempty"`
	Line   *lineJSON `json:"line,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// TestConvert converts every record of testdata/<in>.json and compares the
// lines (or errors) with testdata/<case>.golden.json.
func TestConvert(t *testing.T) {
	tests := map[string]struct {
		in   string // input file, when not the case's own
		conv Converter
	}{
		"changes":          {conv: both},
		"new-image-only":   {in: "changes", conv: Converter{NewImage: true}},
		"old-image-only":   {in: "changes", conv: Converter{OldImage: true}},
		"skip-removes":     {in: "changes", conv: Converter{NewImage: true, OldImage: true, SkipRemoves: true}},
		"skip-ttl-removes": {in: "changes", conv: Converter{NewImage: true, OldImage: true, SkipTTLRemoves: true}},
		"all-types":        {conv: both},
		"kinesis":          {conv: both},
		"kinesis-as-is":    {in: "kinesis", conv: Converter{}},
		"malformed":        {conv: both},
		// The item shape: the new image, else the old, else the keys.
		"item":               {in: "changes", conv: Converter{NewImage: true, OldImage: true, Shape: ShapeItem}},
		"item-new-image":     {in: "changes", conv: Converter{NewImage: true, Shape: ShapeItem}},
		"item-old-image":     {in: "changes", conv: Converter{OldImage: true, Shape: ShapeItem}},
		"item-all-types":     {in: "all-types", conv: Converter{NewImage: true, OldImage: true, Shape: ShapeItem}},
		"item-kinesis-as-is": {in: "kinesis", conv: Converter{NewImage: true, Shape: ShapeItem, KinesisNewline: true}},
		"projection": {in: "changes", conv: Converter{NewImage: true, OldImage: true, Shape: ShapeProjection, Projection: mustProjection(
			"@table, change=@event_name, @event_id, seq=@sequence_number, at=@approximate_creation_time, at_s=@approximate_creation_time:epoch-s, " +
				"at_ms=@approximate_creation_time:epoch-ms, at_rfc=@approximate_creation_time:rfc3339, @ttl_delete, @keys, user=pk, *")}},
		"projection-paths": {in: "all-types", conv: Converter{NewImage: true, Shape: ShapeProjection, Projection: mustProjection(
			"first=m.a, deep=m.inner.l, absent=m.none, through_a_string=s.x, int38=n_int38, m, ss")}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := tc.in
			if in == "" {
				in = name
			}
			var got []convertedRecord
			var arena []byte
			for _, raw := range records(t, filepath.Join("testdata", in+".json")) {
				rec, out, err := tc.conv.Convert(arena, raw)
				arena = out
				c := convertedRecord{Kind: rec.Kind, ID: rec.ID, Source: rec.Source, Key: rec.Key(), Skip: rec.Skip, Line: showLine(rec.Line)}
				if err != nil {
					c.Error = err.Error()
					assert.Nil(t, rec.Line, "a failed record has no line")
				}
				if rec.Kind == sourceDynamoDB && rec.Line != nil {
					// The golden file shows lines indented; check here that
					// they are written compact, as one line.
					var compact bytes.Buffer
					require.NoError(t, json.Compact(&compact, rec.Line))
					assert.Equal(t, compact.String()+"\n", string(rec.Line))
				}
				got = append(got, c)
			}
			golden.Bytes(t, filepath.Join("testdata", name+".golden.json"), golden.Marshal(t, got))
		})
	}
}

// TestConvert38Digits: a 38-digit number, the most DynamoDB keeps, comes
// out with every digit, as a JSON number, never through float64.
func TestConvert38Digits(t *testing.T) {
	numbers := map[string]string{
		"integer":          "12345678901234567890123456789012345678",
		"negative":         "-99999999999999999999999999999999999999",
		"fraction":         "0.12345678901234567890123456789012345678",
		"exponent":         "9.9999999999999999999999999999999999999E+125",
		"float64 rounding": "9007199254740993123456789012345678901",
	}
	for name, n := range numbers {
		t.Run(name, func(t *testing.T) {
			rec := events.DynamoDBEventRecord{
				EventID: "e", EventName: "INSERT", EventSource: sourceDynamoDB,
				EventSourceArn: "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/x",
				Change: events.DynamoDBStreamRecord{
					SequenceNumber: "1",
					Keys:           map[string]events.DynamoDBAttributeValue{"id": events.NewNumberAttribute(n)},
					NewImage: map[string]events.DynamoDBAttributeValue{
						"id":  events.NewNumberAttribute(n),
						"set": events.NewNumberSetAttribute([]string{n}),
					},
				},
			}
			raw, err := json.Marshal(rec)
			require.NoError(t, err)
			got, _, err := both.Convert(nil, raw)
			require.NoError(t, err)
			dec := json.NewDecoder(bytes.NewReader(got.Line))
			dec.UseNumber()
			var line struct {
				Keys     map[string]json.Number `json:"keys"`
				NewImage map[string]any         `json:"new_image"`
			}
			require.NoError(t, dec.Decode(&line))
			assert.Equal(t, n, line.Keys["id"].String())
			assert.Equal(t, json.Number(n), line.NewImage["id"])
			assert.Equal(t, []any{json.Number(n)}, line.NewImage["set"])
			assert.Contains(t, string(got.Line), `"id":`+n+`}`, "written verbatim")
		})
	}
}

// TestConvertMalformed: a record that cannot be read fails alone, with the
// sequence number that names it in the partial batch response; a bad BS
// element (on which aws-lambda-go's decoder panics) is among them.
func TestConvertMalformed(t *testing.T) {
	recs := records(t, filepath.Join("testdata", "malformed.json"))
	tests := map[string]struct {
		index int
		id    string
		is    error
		msg   string
	}{
		"BS element not a string":               {index: 0, id: "400", is: ErrMalformed, msg: `NewImage: ddbjson: attribute "bs[1]": malformed attribute value: BS element is a number`},
		"number with letters":                   {index: 2, id: "402", msg: `attribute "n": invalid number "12abc"`},
		"NaN key":                               {index: 3, id: "403", msg: `keys: ddbjson: attribute "sk": invalid number "NaN"`},
		"bad number in a list of the old image": {index: 4, id: "404", msg: `OldImage: ddbjson: attribute "l[1]"`},
		"two types in one value":                {index: 5, id: "405", is: ErrMalformed},
		"unknown type":                          {index: 6, id: "406", is: ErrMalformed},
		"binary not base64":                     {index: 7, id: "407", is: ErrMalformed},
		"image not an object":                   {index: 8, id: "408", is: ErrMalformed},
		"no event source ARN":                   {index: 9, id: "409", is: ErrMalformed, msg: "names no table"},
		"ARN without a table":                   {index: 10, id: "410", is: ErrMalformed, msg: "names no table"},
		"creation time not a number":            {index: 11, id: "411", is: ErrMalformed},
		"unknown event source":                  {index: 12, id: "412", is: ErrMalformed, msg: `eventSource "aws:sqs"`},
		"Kinesis data not base64":               {index: 13, id: "413", is: ErrMalformed},
		"not an object":                         {index: 14, id: "", is: ErrMalformed},
		"no sequence number":                    {index: 15, id: "", is: ErrMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec, out, err := both.Convert([]byte("arena"), recs[tc.index])
			require.Error(t, err)
			assert.Equal(t, tc.id, rec.ID)
			assert.Equal(t, "arena", string(out), "the arena is given back unchanged")
			assert.Nil(t, rec.Line)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			var numErr *ddbjson.NumberError
			if tc.is == nil {
				assert.True(t, errors.As(err, &numErr), "a bad number is a *ddbjson.NumberError: %v", err)
			}
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	rec, _, err := both.Convert(nil, recs[1])
	require.NoError(t, err, "the good record between the bad ones")
	assert.True(t, strings.HasSuffix(string(rec.Line), "}\n"))
}

func TestSourceName(t *testing.T) {
	tests := map[string]struct {
		arn, marker, want string
	}{
		"table stream":      {"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2024-05-01T00:00:00.000", "table/", "Orders"},
		"table with dots":   {"arn:aws-cn:dynamodb:cn-north-1:123456789012:table/app.orders-v2/stream/x", "table/", "app.orders-v2"},
		"kinesis stream":    {"arn:aws:kinesis:us-east-1:123456789012:stream/clicks", "stream/", "clicks"},
		"kinesis consumer":  {"arn:aws:kinesis:us-east-1:123456789012:stream/clicks/consumer/c:1", "stream/", "clicks"},
		"empty":             {"", "table/", ""},
		"no name":           {"arn:aws:dynamodb:us-east-1:123456789012:table/", "table/", ""},
		"marker in account": {"arn:aws:dynamodb:us-east-1:table/x", "stream/", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := sourceName(tc.arn, tc.marker)
			assert.Equal(t, tc.want, got)
			if tc.want == "" {
				assert.ErrorIs(t, err, ErrMalformed)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

func mustProjection(spec string) *Projection {
	p, err := ParseProjection(spec)
	if err != nil {
		panic(err)
	}
	return p
}

// TestAppendTime: the line's time is written as time.Format writes it with
// timeLayout, for times as the stream gives them (whole seconds, and
// fractions an emulator or a float epoch gives), across the years the
// shortcut writes and beyond them, where Format writes them its own way.
func TestAppendTime(t *testing.T) {
	times := []time.Time{
		time.Unix(0, 0), time.Unix(1700000000, 0), time.Unix(1714521600, 123456789),
		time.Unix(-1, 0), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 6, 15, 1, 2, 3, 4e6, time.UTC),
		time.Unix(1e15, 5e8), time.Unix(-1e12, 0), time.Unix(1714521600, 10e6), time.Unix(1714521600, 100e6),
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, time.Unix(rnd.Int64N(1<<40)-1<<39, rnd.Int64N(1e9)))
	}
	for _, tm := range times {
		tm = tm.Round(time.Millisecond).UTC()
		assert.Equal(t, tm.Format(timeLayout), string(appendTime([]byte("x"), tm))[1:], "%v", tm)
	}
	local := time.Unix(1700000000, 0).In(time.FixedZone("X", 3600))
	assert.Equal(t, local.Format(timeLayout), string(appendTime(nil, local)), "a zone other than UTC")
}
