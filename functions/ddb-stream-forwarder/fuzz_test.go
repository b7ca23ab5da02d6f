package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzConvert feeds Convert single records, starting from every test and
// sample record, and checks that it never panics; that a failed record
// leaves the arena as it was and has no line; and that a converted
// DynamoDB record is one compact JSON line naming the record, holding the
// keys and chosen images with the attributes the input has, while Kinesis
// data is forwarded byte for byte.
func FuzzConvert(f *testing.F) {
	var seeds []string
	for _, glob := range []string{filepath.Join("testdata", "*.json"), filepath.Join(eventsDir(f), "*.json")} {
		files, err := filepath.Glob(glob)
		require.NoError(f, err)
		seeds = append(seeds, files...)
	}
	for _, path := range seeds {
		if filepath.Ext(filepath.Base(path[:len(path)-5])) == ".golden" {
			continue
		}
		for _, raw := range records(f, path) {
			f.Add([]byte(raw))
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		arena := []byte("previous lines\n")
		rec, out, err := both.Convert(slices.Clip(arena), raw)
		require.True(t, bytes.HasPrefix(out, arena), "earlier lines are kept")
		if err != nil {
			assert.Nil(t, rec.Line)
			assert.Equal(t, len(arena), len(out), "a failed record adds nothing")
			return
		}
		if rec.Skip {
			return
		}
		require.Equal(t, string(out[len(arena):]), string(rec.Line), "the line is what was appended")
		switch rec.Kind {
		case sourceKinesis:
			var kin events.KinesisEventRecord
			require.NoError(t, json.Unmarshal(raw, &kin))
			assert.True(t, bytes.HasPrefix(rec.Line, kin.Kinesis.Data), "data forwarded as it is")
			assert.True(t, bytes.HasSuffix(rec.Line, []byte("\n")))
		case sourceDynamoDB:
			require.True(t, bytes.HasSuffix(rec.Line, []byte("\n")))
			body := rec.Line[:len(rec.Line)-1]
			require.NotContains(t, string(body), "\n", "one line")
			require.True(t, json.Valid(body), "valid JSON: %s", body)
			var compact bytes.Buffer
			require.NoError(t, json.Compact(&compact, body))
			assert.Equal(t, compact.String(), string(body), "compact")
			var line struct {
				Table          string                     `json:"table"`
				SequenceNumber string                     `json:"sequence_number"`
				Keys           map[string]json.RawMessage `json:"keys"`
				NewImage       map[string]json.RawMessage `json:"new_image"`
				OldImage       map[string]json.RawMessage `json:"old_image"`
			}
			require.NoError(t, json.Unmarshal(body, &line))
			assert.Equal(t, rec.Source, line.Table)
			assert.NotEmpty(t, line.Table)
			assert.Equal(t, rec.ID, line.SequenceNumber)
			var ddb events.DynamoDBEventRecord
			require.NoError(t, json.Unmarshal(raw, &ddb), "Convert read it, so it decodes")
			assert.ElementsMatch(t, keysOf(ddb.Change.Keys), keysOfRaw(line.Keys))
			assert.ElementsMatch(t, keysOf(ddb.Change.NewImage), keysOfRaw(line.NewImage))
			assert.ElementsMatch(t, keysOf(ddb.Change.OldImage), keysOfRaw(line.OldImage))
		default:
			t.Fatalf("converted a record of kind %q", rec.Kind)
		}
	})
}

func keysOf(m map[string]events.DynamoDBAttributeValue) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

func keysOfRaw(m map[string]json.RawMessage) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

// converters are the settings the differential tests convert with.
var converters = map[string]Converter{
	"both":             both,
	"new image":        {NewImage: true},
	"old image":        {OldImage: true},
	"keys only":        {},
	"skip removes":     {NewImage: true, OldImage: true, SkipRemoves: true},
	"skip TTL removes": {NewImage: true, SkipTTLRemoves: true, KinesisNewline: true},
	"item":             {NewImage: true, OldImage: true, Shape: ShapeItem},
	"item, old image":  {OldImage: true, Shape: ShapeItem, SkipTTLRemoves: true},
	"projection": {NewImage: true, OldImage: true, Shape: ShapeProjection, Projection: mustProjection(
		"@table,e=@event_name,@event_id,@sequence_number,t=@approximate_creation_time,s=@approximate_creation_time:epoch-s," +
			"ms=@approximate_creation_time:epoch-ms,@ttl_delete,@keys,nested=m.a,deeper=m.inner.l,k,*")},
	"projection, paths only": {OldImage: true, Shape: ShapeProjection, Projection: mustProjection("a,x=m.b,y=l.z,n")},
}

// assertSameConversion checks that Convert and the encoding/json
// conversion it replaced agree on raw under every setting: the same line
// byte for byte, skipped alike, or both failing; and, either way, the same
// kind, sequence number, source and key for the logs. Errors of records
// that decode are worded alike; decoding errors are not (encoding/json's
// name Go types).
func assertSameConversion(t *testing.T, raw []byte) {
	t.Helper()
	for name, c := range converters {
		want := oracleConvert(c, raw)
		arena := []byte("previous line\n")
		got, out, err := c.Convert(slices.Clip(arena), raw)
		if want.Err != nil {
			require.Error(t, err, "%s: encoding/json conversion fails (%v); Convert wrote %q from %s", name, want.Err, got.Line, raw)
			if want.Decoded {
				assert.Equal(t, want.Err.Error(), err.Error(), name)
			} else {
				assert.ErrorIs(t, err, ErrMalformed, name)
			}
			assert.Equal(t, string(arena), string(out), "%s: the arena comes back as given", name)
			assert.Nil(t, got.Line, name)
		} else {
			require.NoError(t, err, "%s: encoding/json conversion reads %s", name, raw)
			assert.Equal(t, want.Skip, got.Skip, name)
			assert.Equal(t, string(want.Line), string(got.Line), "%s: %s", name, raw)
			assert.Equal(t, string(arena)+string(want.Line), string(out), name)
		}
		assert.Equal(t, want.Kind, got.Kind, name)
		assert.Equal(t, want.ID, got.ID, name)
		assert.Equal(t, want.Source, got.Source, name)
		assert.Equal(t, want.Key, got.Key(), name)
	}
}

// convertSeeds are the records of every test file and sample, and records
// that take encoding/json's corners.
func convertSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, glob := range []string{filepath.Join("testdata", "*.json"), filepath.Join(eventsDir(t), "*.json")} {
		files, err := filepath.Glob(glob)
		require.NoError(t, err)
		for _, path := range files {
			if strings.HasSuffix(path, ".golden.json") {
				continue
			}
			for _, raw := range records(t, path) {
				seeds = append(seeds, raw)
			}
		}
	}
	for _, c := range corners {
		seeds = append(seeds, []byte(c.in))
	}
	return seeds
}

const arn = `"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/x"`

// corners are records where encoding/json's and aws-lambda-go's rules show,
// with the line each must give ("" when it fails or is skipped).
var corners = map[string]struct{ in, line string }{
	"plain": {in: `{"eventSource":"aws:dynamodb",` + arn + `,"eventName":"INSERT","eventID":"e","dynamodb":{"SequenceNumber":"1","Keys":{"k":{"S":"a"}},"NewImage":{"k":{"S":"a"},"n":{"N":"1"}}}}`,
		line: `{"table":"T","event_name":"INSERT","event_id":"e","sequence_number":"1","ttl_delete":false,"keys":{"k":"a"},"new_image":{"k":"a","n":1}}`},
	"names in any case": {in: `{"EVENTSOURCE":"aws:dynamodb",` + arn + `,"eventname":"INSERT","Dynamodb":{"sequencenumber":"1","keys":{"k":{"S":"a"}},"NEWIMAGE":{"k":{"S":"b"}}}}`,
		line: `{"table":"T","event_name":"INSERT","event_id":"","sequence_number":"1","ttl_delete":false,"keys":{"k":"a"},"new_image":{"k":"b"}}`},
	"Unicode folding": {in: `{"eventſource":"aws:dynamodb",` + arn + `,"dynamodb":{"SequenceNumber":"1","\u212aeys":{"k":{"S":"a"}}}}`,
		line: `{"table":"T","event_name":"","event_id":"","sequence_number":"1","ttl_delete":false,"keys":{"k":"a"}}`},
	"repeated objects merge": {in: `{"eventSource":"aws:dynamodb",` + arn + `,"dynamodb":{"SequenceNumber":"1","Keys":{"a":{"S":"x"}}},"dynamodb":{"Keys":{"b":{"N":"2"},"a":{"S":"y"}},"NewImage":null}}`,
		line: `{"table":"T","event_name":"","event_id":"","sequence_number":"1","ttl_delete":false,"keys":{"a":"y","b":2}}`},
	"null empties an image": {in: `{"eventSource":"aws:dynamodb",` + arn + `,"dynamodb":{"SequenceNumber":"1","NewImage":{"a":{"S":"x"}},"NewImage":null,"OldImage":{},"Keys":null}}`,
		line: `{"table":"T","event_name":"","event_id":"","sequence_number":"1","ttl_delete":false,"keys":{},"old_image":{}}`},
	"null time is the epoch": {in: `{"eventSource":"aws:dynamodb",` + arn + `,"dynamodb":{"SequenceNumber":"1","ApproximateCreationDateTime":null}}`,
		line: `{"table":"T","event_name":"","event_id":"","sequence_number":"1","approximate_creation_time":"1970-01-01T00:00:00Z","approximate_creation_epoch":0,"ttl_delete":false,"keys":{}}`},
	"fractional time": {in: `{"eventSource":"aws:dynamodb",` + arn + `,"dynamodb":{"SequenceNumber":"1","ApproximateCreationDateTime":1714521600.1234567}}`,
		line: `{"table":"T","event_name":"","event_id":"","sequence_number":"1","approximate_creation_time":"2024-05-01T00:00:00.123Z","approximate_creation_epoch":1714521600,"ttl_delete":false,"keys":{}}`},
	"TTL identity": {in: `{"eventSource":"aws:dynamodb",` + arn + `,"eventName":"REMOVE","userIdentity":{"type":"x"},"userIdentity":{"principalId":"dynamodb.amazonaws.com","TYPE":"Service"},"dynamodb":{"SequenceNumber":"1"}}`,
		line: `{"table":"T","event_name":"REMOVE","event_id":"","sequence_number":"1","ttl_delete":true,"keys":{}}`},
	"identity nulled": {in: `{"eventSource":"aws:dynamodb",` + arn + `,"eventName":"REMOVE","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},"userIdentity":null,"dynamodb":{"SequenceNumber":"1"}}`,
		line: `{"table":"T","event_name":"REMOVE","event_id":"","sequence_number":"1","ttl_delete":false,"keys":{}}`},
	"strings null": {in: `{"eventSource":"aws:dynamodb",` + arn + `,"eventName":"INSERT","eventName":null,"awsRegion":null,"dynamodb":{"SequenceNumber":"1","SizeBytes":null}}`,
		line: `{"table":"T","event_name":"INSERT","event_id":"","sequence_number":"1","ttl_delete":false,"keys":{}}`},
	"escapes": {in: `{"eventSource":"aws:\u0064ynamodb",` + arn + `,"eventID":"\u00e9\"","dynamodb":{"SequenceNumber":"\u0031"}}`, line: `{"table":"T","event_name":"","event_id":"é\"","sequence_number":"1","ttl_delete":false,"keys":{}}`},
	// Written by the "new image" converter only, which must not fail it.
	"unwritten image unread":  {in: `{"eventSource":"aws:dynamodb",` + arn + `,"dynamodb":{"SequenceNumber":"1","OldImage":{"n":{"N":"not a number"}}}}`},
	"size not an integer":     {in: `{"eventSource":"aws:dynamodb",` + arn + `,"dynamodb":{"SequenceNumber":"1","SizeBytes":1.5}}`},
	"region not a string":     {in: `{"eventSource":"aws:dynamodb",` + arn + `,"awsRegion":1,"dynamodb":{"SequenceNumber":"1"}}`},
	"time out of range":       {in: `{"eventSource":"aws:dynamodb",` + arn + `,"dynamodb":{"SequenceNumber":"1","ApproximateCreationDateTime":1e999}}`},
	"type error then syntax":  {in: `{"eventSource":"aws:dynamodb",` + arn + `,"awsRegion":1,"dynamodb":{"SequenceNumber":"1"}`},
	"null record":             {in: `null`},
	"kinesis data":            {in: `{"eventSource":"aws:kinesis","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","kinesis":{"data":"aGk=","sequenceNumber":"9","partitionKey":"p"}}`},
	"kinesis data null":       {in: `{"eventSource":"aws:kinesis","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","kinesis":{"data":"aGk=","data":null}}`},
	"kinesis data array":      {in: `{"eventSource":"aws:kinesis","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","kinesis":{"data":[104,105,10]}}`},
	"kinesis data arrays":     {in: `{"eventSource":"aws:kinesis","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","kinesis":{"data":[1,2,3],"data":[4],"data":[5,null,null]}}`},
	"kinesis data over text":  {in: `{"eventSource":"aws:kinesis","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","kinesis":{"data":"aGk=","data":[null,null,null,null]}}`},
	"kinesis data line break": {in: `{"eventSource":"aws:kinesis","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","kinesis":{"data":"aG\nk="}}`},
	"kinesis byte too big":    {in: `{"eventSource":"aws:kinesis","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","kinesis":{"data":[256]}}`},
	"kinesis nulled":          {in: `{"eventSource":"aws:kinesis","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","kinesis":{"sequenceNumber":"9","partitionKey":"p"},"kinesis":null,"kinesis":{"data":""}}`},
	"unknown source":          {in: `{"eventSource":"aws:sqs","dynamodb":{"SequenceNumber":""},"kinesis":{"sequenceNumber":"k"}}`},
}

// TestConvertAsEncodingJSON runs the corners through both conversions,
// and checks the lines the corners name.
func TestConvertAsEncodingJSON(t *testing.T) {
	for name, c := range corners {
		t.Run(name, func(t *testing.T) {
			assertSameConversion(t, []byte(c.in))
			if c.line != "" {
				rec, _, err := both.Convert(nil, []byte(c.in))
				require.NoError(t, err)
				assert.Equal(t, c.line+"\n", string(rec.Line))
			}
		})
	}
	for _, raw := range convertSeeds(t) {
		assertSameConversion(t, raw)
	}
}

// FuzzConvertAsEncodingJSON: for any record, Convert and the encoding/json
// conversion it replaced agree (assertSameConversion).
func FuzzConvertAsEncodingJSON(f *testing.F) {
	for _, raw := range convertSeeds(f) {
		f.Add(raw)
	}
	f.Fuzz(assertSameConversion)
}
