package firehose

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/jsonscan"
	"lakestream/shared/lambdarun"
)

// decodeBoth decodes raw with DecodeRequest and with encoding/json into
// aws-lambda-go's type.
func decodeBoth(raw []byte) (ours events.KinesisFirehoseEvent, err error, theirs events.KinesisFirehoseEvent, jerr error) {
	jerr = json.Unmarshal(raw, &theirs)
	req, err := DecodeRequest(raw)
	if err != nil {
		return ours, err, theirs, jerr
	}
	ours, err = req.Event()
	return ours, err, theirs, jerr
}

// TestDecodeRequestSamples: every Firehose sample in events/ decodes as
// encoding/json decodes it; every other function's sample is rejected.
func TestDecodeRequestSamples(t *testing.T) {
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	samples, err := filepath.Glob(filepath.Join(root, "events", "*", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, samples)
	firehoseSamples := 0
	for _, path := range samples {
		fn := filepath.Base(filepath.Dir(path))
		name := fn + "/" + filepath.Base(path)
		isFirehose := strings.HasPrefix(fn, "firehose-") || (fn == "cwlogs-decompressor" && filepath.Base(path) != "awslogs.json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			ours, err, theirs, jerr := decodeBoth(raw)
			if !isFirehose {
				require.Error(t, err, "another function's event is not a Firehose request")
				assert.ErrorIs(t, err, ErrInvalidRequest)
				return
			}
			firehoseSamples++
			require.NoError(t, jerr)
			require.NoError(t, err)
			require.NotEmpty(t, ours.Records)
			assert.Equal(t, theirs, ours)
		})
	}
	assert.GreaterOrEqual(t, firehoseSamples, 8, "the Firehose samples were found")
}

// TestDecodeRequestRejects: what encoding/json would take for a Firehose
// request but Firehose never sends is rejected, saying why.
func TestDecodeRequestRejects(t *testing.T) {
	const rec = `{"recordId":"r1","data":"aGk="}`
	tests := map[string]struct {
		in   string
		want string
	}{
		"S3 event":                 {in: `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"}}}]}`, want: `it has no "records" array (an S3 or DynamoDB event has "Records")`},
		"DynamoDB event":           {in: `{"Records":[{"eventID":"1","dynamodb":{}}]}`, want: `it has no "records" array (an S3 or DynamoDB event has "Records")`},
		"awslogs event":            {in: `{"awslogs":{"data":"H4sI"}}`, want: `it has no "records" array (a CloudWatch Logs subscription event has "awslogs")`},
		"EventBridge event":        {in: `{"version":"0","detail-type":"Object Created","detail":{}}`, want: `it has no "records" array (an EventBridge event has "detail-type")`},
		"empty object":             {in: `{}`, want: `it has no "records" array`},
		"null":                     {in: `null`, want: "it is null, not an object"},
		"array":                    {in: `[` + rec + `]`, want: "it is an array, not an object"},
		"not JSON":                 {in: `hello`, want: "invalid JSON: offset 0: expected a value, found 'h'"},
		"empty payload":            {in: ``, want: "invalid JSON: offset 0: expected a value, found end of input"},
		"trailing garbage":         {in: `{"records":[]} x`, want: "invalid JSON: offset 15: expected end of input, found 'x'"},
		"syntax error in record":   {in: `{"records":[` + rec + `,{"recordId":"r2",}]}`, want: `records[1]: invalid JSON: offset 61: expected '"' starting an object key, found '}'`},
		"records null":             {in: `{"records":null}`, want: "records: it is null, not an array"},
		"records an object":        {in: `{"records":{"recordId":"r1"}}`, want: "records: it is an object, not an array"},
		"record not an object":     {in: `{"records":["r1"]}`, want: "records[0]: it is a string, not an object"},
		"record null":              {in: `{"records":[` + rec + `,null]}`, want: "records[1]: it is null, not an object"},
		"no recordId":              {in: `{"records":[` + rec + `,{"data":"aGk="}]}`, want: `records[1]: it has no "recordId"`},
		"empty recordId":           {in: `{"records":[{"recordId":"","data":"aGk="}]}`, want: "records[0].recordId: it is empty"},
		"null recordId":            {in: `{"records":[{"recordId":null}]}`, want: "records[0].recordId: it is null, not a string"},
		"numeric recordId":         {in: `{"records":[{"recordId":7}]}`, want: "records[0].recordId: offset 24: expected a string, found a number"},
		"key in another case":      {in: `{"records":[{"RecordId":"r1"}]}`, want: `records[0]: key "RecordId" is not "recordId" (keys are case-sensitive)`},
		"Unicode case folding":     {in: `{"recordſ":[]}`, want: `key "recordſ" is not "records" (keys are case-sensitive)`},
		"metadata key in case":     {in: `{"records":[{"recordId":"r","kinesisRecordMetadata":{"PartitionKey":"p"}}]}`, want: `records[0]: key "PartitionKey" is not "kinesisRecordMetadata.partitionKey"`},
		"records twice":            {in: `{"records":[],"records":[` + rec + `]}`, want: `key "records" appears twice`},
		"recordId twice":           {in: `{"records":[{"recordId":"a","recordId":"b"}]}`, want: `records[0]: key "recordId" appears twice`},
		"data not a string":        {in: `{"records":[{"recordId":"r","data":[104,105]}]}`, want: "records[0].data: offset 35: expected a string, found an array"},
		"region not a string":      {in: `{"region":1,"records":[]}`, want: "region: offset 10: expected a string, found a number"},
		"fractional timestamp":     {in: `{"records":[{"recordId":"r","approximateArrivalTimestamp":1.5}]}`, want: "records[0].approximateArrivalTimestamp: offset 58: expected an integer in the int64 range, found 1.5"},
		"timestamp as a string":    {in: `{"records":[{"recordId":"r","approximateArrivalTimestamp":"1"}]}`, want: "expected a number, found a string"},
		"metadata not an object":   {in: `{"records":[{"recordId":"r","kinesisRecordMetadata":"x"}]}`, want: "records[0].kinesisRecordMetadata: it is a string, not an object"},
		"subsequence out of range": {in: `{"records":[{"recordId":"r","kinesisRecordMetadata":{"subsequenceNumber":1e3}}]}`, want: "records[0].kinesisRecordMetadata.subsequenceNumber: offset 73: expected an integer in the int64 range, found 1e3"},
		"deep nesting":             {in: `{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `,"records":[]}`, want: "nested arrays and objects"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeRequest([]byte(tc.in))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidRequest)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "not a Firehose data-transformation request: "), err.Error())
		})
	}
}

// TestDecodeRequestAsEncodingJSON: where Firehose's shape allows it, the
// decoder takes what encoding/json takes, with the same values.
func TestDecodeRequestAsEncodingJSON(t *testing.T) {
	tests := map[string]string{
		"minimal":             `{"records":[]}`,
		"unknown keys":        `{"future":{"a":[1,2]},"records":[{"recordId":"r","extra":null,"data":"aGk=","kinesisRecordMetadata":{"new":true}}]}`,
		"null fields":         `{"invocationId":null,"region":null,"records":[{"recordId":"r","data":null,"approximateArrivalTimestamp":null,"kinesisRecordMetadata":null}]}`,
		"null metadata items": `{"records":[{"recordId":"r","kinesisRecordMetadata":{"shardId":null,"subsequenceNumber":null,"approximateArrivalTimestamp":null}}]}`,
		"escaped strings":     `{"invocationId":"a\"b\u00e9\ud83d\ude00","records":[{"recordId":"r\\1\ud800","data":"aG\u006b="}]}`,
		"invalid UTF-8 id":    "{\"records\":[{\"recordId\":\"r\xff\",\"data\":\"\"}]}",
		"base64 line breaks":  `{"records":[{"recordId":"r","data":"aGVs\r\nbG8="}]}`,
		"empty data":          `{"records":[{"recordId":"r","data":""}]}`,
		"negative timestamp":  `{"records":[{"recordId":"r","approximateArrivalTimestamp":-1500}]}`,
		"whitespace":          " \n{ \"records\" : [ { \"recordId\" : \"r\" } ] }\r\n",
		"kinesis source": `{"invocationId":"i","deliveryStreamArn":"arn:aws:firehose:us-east-1:1:deliverystream/d","sourceKinesisStreamArn":"arn:aws:kinesis:us-east-1:1:stream/s","region":"us-east-1",` +
			`"records":[{"recordId":"r","approximateArrivalTimestamp":1714571102000,"data":"aGk=","kinesisRecordMetadata":{"approximateArrivalTimestamp":1714571101500,"partitionKey":"pk","sequenceNumber":"4959","shardId":"shardId-000000000000","subsequenceNumber":2}}]}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			ours, err, theirs, jerr := decodeBoth([]byte(in))
			require.NoError(t, jerr)
			require.NoError(t, err)
			assert.Equal(t, theirs, ours)
		})
	}
	req, err := DecodeRequest([]byte(tests["null fields"]))
	require.NoError(t, err)
	assert.Equal(t, time.Unix(0, 0), req.Records[0].ArrivalTime, "null is 0 ms, as MilliSecondsEpochTime reads it")
}

// TestDecodeRequestBadBase64: data that is not base64 is the record's
// problem, found only when its data is decoded; encoding/json fails the
// whole request for it.
func TestDecodeRequestBadBase64(t *testing.T) {
	in := []byte(`{"records":[{"recordId":"good","data":"aGk="},{"recordId":"bad","data":"not base64!"}]}`)
	var ev events.KinesisFirehoseEvent
	require.Error(t, json.Unmarshal(in, &ev))
	req, err := DecodeRequest(in)
	require.NoError(t, err)
	data, err := req.Records[0].AppendData([]byte("x"))
	require.NoError(t, err)
	assert.Equal(t, "xhi", string(data))
	data, err = req.Records[1].AppendData([]byte("x"))
	assert.ErrorContains(t, err, "data is not valid base64: illegal base64 data at input byte 3")
	assert.Equal(t, "x", string(data), "dst as it was")
	_, err = req.Event()
	assert.ErrorContains(t, err, "records[1]: data is not valid base64")
}

var requestSeeds = []string{
	`{"invocationId":"i","deliveryStreamArn":"arn:aws:firehose:us-east-1:1:deliverystream/d","region":"us-east-1","records":[{"recordId":"r1","approximateArrivalTimestamp":1700000000000,"data":"aGk="}]}`,
	`{"records":[{"recordId":"r","approximateArrivalTimestamp":1714571102000,"data":"aGk=","kinesisRecordMetadata":{"approximateArrivalTimestamp":1714571101500,"partitionKey":"pk","sequenceNumber":"4959","shardId":"s","subsequenceNumber":2}}]}`,
	`{"records":[{"recordId":"r\u00e9\ud800","data":"aG\u006b=\r\n","kinesisRecordMetadata":null}],"x":[1,{"y":null}]}`,
	`{"Records":[{"recordId":"r"}]}`,
	`{"records":[{"RecordId":"r"}]}`,
	`{"records":[{"recordId":"r","data":"!!"}]}`,
	`{"records":[],"records":[]}`,
	`{"records":[{"recordId":"r","approximateArrivalTimestamp":-9223372036854775808}]}`,
	`{"records":[{"recordId":"r","approximateArrivalTimestamp":null,"data":null}]}`,
}

// FuzzDecodeRequest: whatever the payload, when DecodeRequest accepts it,
// encoding/json accepts it into events.KinesisFirehoseEvent with every
// field the same, unless a record's data is not base64, which fails only
// that record here and the whole request there. So when encoding/json
// rejects a payload for anything else, DecodeRequest rejects it too.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var theirs events.KinesisFirehoseEvent
		jerr := json.Unmarshal(raw, &theirs)
		req, err := DecodeRequest(raw)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidRequest)
			return
		}
		ours, err := req.Event()
		if err != nil {
			var corrupt base64.CorruptInputError
			require.True(t, errors.As(jerr, &corrupt), "bad base64 here (%v) but encoding/json says %v", err, jerr)
			return
		}
		require.NoError(t, jerr, "accepted what encoding/json rejects: %q", raw)
		require.Equal(t, theirs, ours)
		for _, r := range req.Records {
			require.NotEmpty(t, r.RecordID)
		}
	})
}

// FuzzDecodeEvent: any event encoding/json writes from aws-lambda-go's
// type, with a record id, decodes to the same event: the decoder rejects
// nothing Firehose could send.
func FuzzDecodeEvent(f *testing.F) {
	f.Add("inv", "arn:aws:firehose:us-east-1:1:deliverystream/d", "", "us-east-1", "49590338271490256608559692538361571095921575989136588000", int64(1714571102000), []byte("hello\n"), "shardId-0", "pk", "4959", int64(0), 3)
	f.Add("\u2028<&>\xff", "", "arn:aws:kinesis:eu-west-1:1:stream/s", "", "id\"\\\x00", int64(-1), []byte{0, 255, 10}, "", "", "", int64(-5), 1)
	f.Fuzz(func(t *testing.T, inv, delivery, source, region, id string, ms int64, data []byte, shard, key, seq string, subseq int64, n int) {
		if id == "" {
			id = "r"
		}
		ev := events.KinesisFirehoseEvent{InvocationID: inv, DeliveryStreamArn: delivery, SourceKinesisStreamArn: source, Region: region}
		for i := range 1 + (n%8+8)%8 { // Firehose sends at least one record
			ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{
				RecordID:                    id + string(rune('a'+i)),
				ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(ms + int64(i))},
				Data:                        data[:len(data)*i/8],
				KinesisFirehoseRecordMetadata: events.KinesisFirehoseRecordMetadata{
					ShardID: shard, PartitionKey: key, SequenceNumber: seq, SubsequenceNumber: subseq,
					ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(ms - 500)},
				},
			})
		}
		raw, err := json.Marshal(ev)
		require.NoError(t, err)
		ours, err, theirs, jerr := decodeBoth(raw)
		require.NoError(t, jerr)
		require.NoError(t, err, "%s", raw)
		require.Equal(t, theirs, ours)
	})
}

// checkPlainRecords decodes raw both ways, plainRecord on and off, and
// holds the two to the same request or the same error.
func checkPlainRecords(t *testing.T, raw []byte) {
	t.Helper()
	var slow Request
	_, serr := slow.decodeAs(&jsonscan.Scanner{}, raw, nil, true, 0)
	// The plain way decoding no record as it reads it, the first few, or
	// all of them.
	for _, eager := range []int{0, 5, math.MaxInt} {
		var fast Request
		_, ferr := fast.decodeAs(&jsonscan.Scanner{}, raw, nil, false, eager)
		if serr != nil {
			require.Error(t, ferr, "%q", raw)
			assert.Equal(t, serr.Error(), ferr.Error(), "%q", raw)
			continue
		}
		require.NoError(t, ferr, "%q", raw)
		require.Equal(t, settled(t, &slow), settled(t, &fast), "%q, eager %d", raw, eager)
	}
}

// settled returns r as it is once every record's data is decoded, and
// without what tells how (the base64 text a plain record keeps, the
// decoding buffer), so that the general way's and the plain way's
// requests compare. A record's text, when kept, is checked to decode to
// its data, and its length to be known without decoding it.
func settled(t *testing.T, r *Request) Request {
	t.Helper()
	for i := range r.Records {
		in := &r.Records[i]
		n := in.dataLen()
		data, err := r.data(in)
		if err != nil {
			continue
		}
		assert.Equal(t, len(data), n, "records[%d]: length before decoding", i)
		if in.raw != nil {
			dec, err := base64.StdEncoding.DecodeString(string(in.raw))
			require.NoError(t, err, "records[%d]: %q", i, in.raw)
			assert.Equal(t, dec, data, "records[%d]", i)
		}
		in.raw = nil
	}
	out := *r
	out.buf = nil
	return out
}

// TestPlainRecord: plainRecord takes the records laid out as Firehose
// lays them out, and leaves any other to the general way, which reads
// them the same either way.
func TestPlainRecord(t *testing.T) {
	const id, ts = `"49546986683135544286507457936321625675700192471156785154"`, `1700000000000`
	tests := map[string]struct {
		rec   string
		plain bool
	}{
		"compact":               {`{"recordId":` + id + `,"approximateArrivalTimestamp":` + ts + `,"data":"aGVsbG8="}`, true},
		"Python's separators":   {`{"recordId": "r000001", "approximateArrivalTimestamp": ` + ts + `, "data": "aGk="}`, true},
		"whitespace":            {"{ \"recordId\"\t:\r\n\"r\" ,\n\"approximateArrivalTimestamp\" : 0 , \"data\" : \"\" }", true},
		"short id":              {`{"recordId":"r","approximateArrivalTimestamp":7,"data":"aGVsbG8sIHdvcmxkIQ=="}`, true},
		"DEL in id":             {"{\"recordId\":\"r\x7f\",\"approximateArrivalTimestamp\":7,\"data\":\"\"}", true},
		"18 digits":             {`{"recordId":"r","approximateArrivalTimestamp":999999999999999999,"data":"aGk="}`, true},
		"19 digits":             {`{"recordId":"r","approximateArrivalTimestamp":1000000000000000000,"data":"aGk="}`, true},
		"int64 range's end":     {`{"recordId":"r","approximateArrivalTimestamp":-9223372036854775808,"data":"aGk="}`, true},
		"past int64's range":    {`{"recordId":"r","approximateArrivalTimestamp":9223372036854775808,"data":"aGk="}`, false},
		"minus zero":            {`{"recordId":"r","approximateArrivalTimestamp":-0,"data":"aGk="}`, true},
		"negative timestamp":    {`{"recordId":"r","approximateArrivalTimestamp":-1,"data":"aGk="}`, true},
		"leading zero":          {`{"recordId":"r","approximateArrivalTimestamp":01,"data":"aGk="}`, false},
		"fraction":              {`{"recordId":"r","approximateArrivalTimestamp":1.5,"data":"aGk="}`, false},
		"exponent":              {`{"recordId":"r","approximateArrivalTimestamp":1e3,"data":"aGk="}`, false},
		"null timestamp":        {`{"recordId":"r","approximateArrivalTimestamp":null,"data":"aGk="}`, false},
		"escaped id":            {`{"recordId":"r\"1","approximateArrivalTimestamp":1,"data":"aGk="}`, false},
		"UTF-8 id":              {`{"recordId":"ré","approximateArrivalTimestamp":1,"data":"aGk="}`, false},
		"long UTF-8 id":         {`{"recordId":"r1234567é","approximateArrivalTimestamp":1,"data":"aGk="}`, false},
		"control byte in id":    {"{\"recordId\":\"r\x01\",\"approximateArrivalTimestamp\":1,\"data\":\"aGk=\"}", false},
		"empty id":              {`{"recordId":"","approximateArrivalTimestamp":1,"data":"aGk="}`, false},
		"null data":             {`{"recordId":"r","approximateArrivalTimestamp":1,"data":null}`, false},
		"bad base64":            {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aGk"}`, false},
		"escaped base64":        {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aG\u006b="}`, false},
		"no timestamp":          {`{"recordId":"r","data":"aGk="}`, false},
		"keys in another order": {`{"approximateArrivalTimestamp":1,"recordId":"r","data":"aGk="}`, false},
		"key in another case":   {`{"recordID":"r","approximateArrivalTimestamp":1,"data":"aGk="}`, false},
		"kinesis source":        {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aGk=","kinesisRecordMetadata":{"partitionKey":"pk"}}`, true},
		"all the metadata": {`{"recordId": "r", "approximateArrivalTimestamp": 1714571102000, "data": "aGk=", "kinesisRecordMetadata": ` +
			`{"shardId": "shardId-000000000000", "partitionKey": "p\u00e9", "approximateArrivalTimestamp": 1714571101500, "sequenceNumber": "4959", "subsequenceNumber": 2, "future": [{}]} }`, true},
		"null metadata":          {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aGk=","kinesisRecordMetadata":null}`, true},
		"metadata not an object": {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aGk=","kinesisRecordMetadata":"pk"}`, false},
		"metadata key in case":   {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aGk=","kinesisRecordMetadata":{"PartitionKey":"pk"}}`, false},
		"metadata key twice":     {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aGk=","kinesisRecordMetadata":{"shardId":"a","shardId":"b"}}`, false},
		"bad subsequence":        {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aGk=","kinesisRecordMetadata":{"subsequenceNumber":1.5}}`, false},
		"metadata unclosed":      {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aGk=","kinesisRecordMetadata":{"shardId":"a"`, false},
		"member after metadata":  {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aGk=","kinesisRecordMetadata":null,"x":1}`, false},
		"metadata at the depth limit": {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aGk=","kinesisRecordMetadata":{"x":` +
			strings.Repeat("[", jsonscan.MaxDepth-4) + strings.Repeat("]", jsonscan.MaxDepth-4) + `}}`, true},
		"metadata past the depth limit": {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aGk=","kinesisRecordMetadata":{"x":` +
			strings.Repeat("[", jsonscan.MaxDepth-3) + strings.Repeat("]", jsonscan.MaxDepth-3) + `}}`, false},
		"member after data": {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aGk=","data":"aGk="}`, false},
		"unclosed":          {`{"recordId":"r","approximateArrivalTimestamp":1,"data":"aGk="`, false},
		"not an object":     {`["recordId","r"]`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			raw := []byte(`{"records":[` + tc.rec + `, ` + tc.rec + `]}`)
			s := jsonscan.New([]byte(tc.rec))
			s.ResetNested([]byte(tc.rec), 2) // as deep as a record is
			d := requestDecoder{s: s, payload: []byte(tc.rec), data: make([]byte, 0, 64)}
			var r RequestRecord
			assert.Equal(t, tc.plain, d.plainRecord(&r))
			assert.Equal(t, !tc.plain, s.Offset() == 0, "the scanner moves past the record only when it is taken")
			checkPlainRecords(t, raw)
		})
	}
}

// FuzzPlainRecords holds plainRecord to the general way on any payload,
// and on records of Firehose's layout made of any id, timestamp, data
// and whitespace, which it nearly always takes.
func FuzzPlainRecords(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s), "r1", int64(1700000000000), []byte("hi"), " ")
	}
	f.Add([]byte(`{"records":[]}`), "r\"1", int64(-1), []byte{0, 0xff}, "\t\n")
	f.Fuzz(func(t *testing.T, raw []byte, id string, ms int64, data []byte, space string) {
		checkPlainRecords(t, raw)
		idJSON, err := json.Marshal(id)
		require.NoError(t, err)
		rec := fmt.Sprintf(`{%[1]s"recordId"%[1]s:%[1]s%[2]s%[1]s,%[1]s"approximateArrivalTimestamp"%[1]s:%[1]s%[3]d%[1]s,%[1]s"data"%[1]s:%[1]s"%[4]s"%[1]s`,
			space, idJSON, ms, base64.StdEncoding.EncodeToString(data))
		// From a Kinesis stream, with metadata made of the same pieces.
		kin := fmt.Sprintf(`,%[1]s"kinesisRecordMetadata"%[1]s:%[1]s{"shardId":%[2]s,%[1]s"partitionKey":%[2]s,"approximateArrivalTimestamp":%[3]d,"sequenceNumber":"%[4]s","subsequenceNumber":%[3]d}`,
			space, idJSON, ms, data)
		checkPlainRecords(t, []byte(`{"records":[`+rec+`}, `+rec+kin+space+`}]}`))
		// The layout learned from the first record, then broken off by
		// another (compact, the same values), then learned again.
		compact := fmt.Sprintf(`{"recordId":%s,"approximateArrivalTimestamp":%d,"data":"%s"}`,
			idJSON, ms, base64.StdEncoding.EncodeToString(data))
		checkPlainRecords(t, []byte(`{"records":[`+rec+`},`+rec+`},`+compact+`,`+rec+`},`+rec+`}]}`))
	})
}

// TestRecordLayout: records laid out as the one before are read by
// comparing the punctuation (recordLayout), and whatever differs from it
// (another layout, an id that stops plainASCIIEnd, a timestamp of
// another shape) goes back to finding the keys, taking it the same.
func TestRecordLayout(t *testing.T) {
	rec := func(id, ms, data string) string {
		return `{"recordId": "` + id + `", "approximateArrivalTimestamp": ` + ms + `, "data": "` + data + `"}`
	}
	compact := `{"recordId":"c","approximateArrivalTimestamp":1700000000000,"data":"aGk="}`
	tests := map[string]struct {
		records []string
		plain   []bool
	}{
		"the same layout": {[]string{rec("r1", "1700000000000", "aGk="), rec("r22", "1700000000001", ""), rec("r333", "7", "aGVsbG8=")},
			[]bool{true, true, true}},
		"another layout":     {[]string{rec("r1", "1", "aGk="), compact, rec("r2", "2", "aGk=")}, []bool{true, true, true}},
		"empty id":           {[]string{rec("r1", "1", "aGk="), rec("", "2", "aGk=")}, []bool{true, false}},
		"escaped id":         {[]string{rec("r1", "1", "aGk="), rec(`r"2`, "2", "aGk=")}, []bool{true, false}},
		"UTF-8 id":           {[]string{rec("r1", "1", "aGk="), rec("ré", "2", "aGk=")}, []bool{true, false}},
		"id running on":      {[]string{rec("r1", "1", "aGk="), `{"recordId": "r2 "approximateArrivalTimestamp": 2, "data": "aGk="}`}, []bool{true, false}},
		"negative timestamp": {[]string{rec("r1", "1", "aGk="), rec("r2", "-2", "aGk="), rec("r3", "-0", "aGk=")}, []bool{true, true, true}},
		"15 to 19 digits": {[]string{rec("r1", "1", "aGk="), rec("r2", "999999999999999", "aGk="), rec("r3", "9999999999999999", "aGk="),
			rec("r4", "99999999999999999", "aGk="), rec("r5", "999999999999999999", "aGk="), rec("r6", "1000000000000000000", "aGk=")}, []bool{true, true, true, true, true, true}},
		"past int64's range":     {[]string{rec("r1", "1", "aGk="), rec("r2", "9223372036854775808", "aGk=")}, []bool{true, false}},
		"leading zero":           {[]string{rec("r1", "1", "aGk="), rec("r2", "01", "aGk=")}, []bool{true, false}},
		"zero":                   {[]string{rec("r1", "1", "aGk="), rec("r2", "0", "aGk=")}, []bool{true, true}},
		"fraction":               {[]string{rec("r1", "1", "aGk="), rec("r2", "2.5", "aGk=")}, []bool{true, false}},
		"exponent":               {[]string{rec("r1", "1", "aGk="), rec("r2", "2e3", "aGk=")}, []bool{true, false}},
		"no digits":              {[]string{rec("r1", "1", "aGk="), rec("r2", "-", "aGk=")}, []bool{true, false}},
		"null timestamp":         {[]string{rec("r1", "1", "aGk="), rec("r2", "null", "aGk=")}, []bool{true, false}},
		"bad base64 after a run": {[]string{rec("r1", "1", "aGk="), rec("r2", "2", "aGk")}, []bool{true, false}},
		// Timestamps of the second the last one's was (its first ten of
		// thirteen digits), and what only looks like one.
		"the same second": {[]string{rec("r1", "1700000000123", "aGk="), rec("r2", "1700000000999", "aGk="),
			rec("r3", "1700000000000", "aGk="), rec("r4", "1700000001000", "aGk="), rec("r5", "1700000001001", "aGk="),
			rec("r6", "-1700000001001", "aGk="), rec("r7", "17000000010011", "aGk="), rec("r8", "1700000001", "aGk="),
			rec("r9", "170000000100", "aGk="), rec("r10", "1700000001002", "aGk=")}, []bool{true, true, true, true, true, true, true, true, true, true}},
		"the same second, then a fraction":  {[]string{rec("r1", "1700000000123", "aGk="), rec("r2", "1700000000.12", "aGk=")}, []bool{true, false}},
		"the same second, then an exponent": {[]string{rec("r1", "1700000000123", "aGk="), rec("r2", "1700000000123e3", "aGk=")}, []bool{true, false}},
		"the same second, then more digits": {[]string{rec("r1", "1700000000123", "aGk="), rec("r2", "1700000000123456", "aGk=")}, []bool{true, true}},
		"metadata after a run": {[]string{rec("r1", "1", "aGk="),
			`{"recordId": "r2", "approximateArrivalTimestamp": 2, "data": "aGk=", "kinesisRecordMetadata": {"partitionKey": "pk"}}`}, []bool{true, true}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			raw := []byte(`{"records":[` + strings.Join(tc.records, ", ") + `]}`)
			checkPlainRecords(t, raw)
			var r Request
			_, err := r.decodeAs(&jsonscan.Scanner{}, raw, nil, false, math.MaxInt)
			if err != nil {
				// Only an invalid request fails: the plain way left it to
				// the general way, which said why.
				assert.Contains(t, tc.plain, false, "%v", err)
				return
			}
			require.Len(t, r.Records, len(tc.plain))
			for i, want := range tc.plain {
				assert.Equal(t, want, r.Records[i].raw != nil, "records[%d] read the plain way", i)
			}
		})
	}
}
