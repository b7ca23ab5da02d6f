package benchdata

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// firehoseEvent decodes a Firehose batch with aws-lambda-go's type.
func firehoseEvent(t *testing.T, name string) events.KinesisFirehoseEvent {
	t.Helper()
	raw, err := Batch(name)
	require.NoError(t, err)
	var ev events.KinesisFirehoseEvent
	require.NoError(t, json.Unmarshal(raw, &ev))
	return ev
}

func gunzip(t *testing.T, p []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(p))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

// TestVPCFlowLogsIsTheReferenceBatch: the payloads are the reference
// generator's byte for byte (the hashes are of the decompressed records 0
// and 81 of gen_batches.py's cwlogs-1mb.json), and so is the request's
// layout around the data.
func TestVPCFlowLogsIsTheReferenceBatch(t *testing.T) {
	ev := firehoseEvent(t, CWLogs1MB)
	require.Equal(t, 83, len(ev.Records), "gen_batches.py's has 82: Python's zlib compresses a little better")
	for i, want := range map[int]string{
		0:  "a4e1151ca0896a631da5653309dcfd468bed30e2e2907a81ff8ef632b3d5238b",
		81: "288527bc13c2d9ecc5450988319741158fb73b4c74fee9f126e1fd0285d69572",
	} {
		sum := sha256.Sum256(gunzip(t, ev.Records[i].Data))
		assert.Equal(t, want, hex.EncodeToString(sum[:]), "record %d", i)
	}

	raw, err := Batch(CWLogs1MB)
	require.NoError(t, err)
	elided := regexp.MustCompile(`"data": "[^"]*"`).ReplaceAllString(string(raw), `"data": ""`)
	assert.True(t, strings.HasPrefix(elided, `{"invocationId": "bench", "region": "us-east-1", "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/cwlogs", "records": [{"recordId": "r00000", "approximateArrivalTimestamp": 1620000000000, "data": ""}, {"recordId": "r00001", "approximateArrivalTimestamp": 1620000000001, "data": ""}, `), elided[:300])

	// Records are added until their base64 data reaches the size.
	total := 0
	for _, r := range ev.Records {
		total += base64.StdEncoding.EncodedLen(len(r.Data))
	}
	last := base64.StdEncoding.EncodedLen(len(ev.Records[len(ev.Records)-1].Data))
	assert.GreaterOrEqual(t, total, 1_000_000)
	assert.Less(t, total-last, 1_000_000)

	full := firehoseEvent(t, CWLogs6MB)
	assert.Equal(t, 454, len(full.Records), "gen_batches.py's has 447")
	assert.Equal(t, ev.Records[0].Data, full.Records[0].Data, "the same records, more of them")
}

// TestLineBatches: each line batch is a Firehose request of one line a
// record, each ending in its newline, records numbered and arriving a
// millisecond apart, 1 MB of base64 data.
func TestLineBatches(t *testing.T) {
	for name, want := range map[string]*regexp.Regexp{
		AccessLog1MB:  regexp.MustCompile(`^[\d.]+ - - \[\d\d/Nov/2024:\d\d:\d\d:\d\d \+0000\] "(GET|POST) \S+ HTTP/1.1" \d{3} \d+ "https://example.com/" "[^"]+"\n$`),
		CloudFront1MB: regexp.MustCompile(`^2024-03-05\t06:\d\d:\d\d\t([^\t\n]*\t){30}[^\t\n]*\n$`),
		Syslog1MB:     regexp.MustCompile(`^<\d{1,3}>(1 2024-03-05T06:\d\d:\d\d\.\d{3}Z |Mar  5 06:\d\d:\d\d )web-\d\d[ .][^\n]+\n$`),
		JSON1MB:       regexp.MustCompile(`^\{"event":"[a-z_]+","user_id":"u-\d+",.*\}\n$`),
	} {
		t.Run(name, func(t *testing.T) {
			ev := firehoseEvent(t, name)
			total := 0
			for i, r := range ev.Records {
				require.Regexp(t, want, string(r.Data), "record %d", i)
				assert.Equal(t, fmt.Sprintf("r%06d", i), r.RecordID)
				assert.Equal(t, ev.Records[0].ApproximateArrivalTimestamp.UnixMilli()+int64(i), r.ApproximateArrivalTimestamp.UnixMilli())
				total += base64.StdEncoding.EncodedLen(len(r.Data))
			}
			assert.GreaterOrEqual(t, total, 1_000_000)
			assert.Less(t, total, 1_001_000)
			if name == JSON1MB {
				for _, r := range ev.Records[:50] {
					assert.True(t, json.Valid(r.Data), "%s", r.Data)
				}
			}
		})
	}
}

// TestDynamoDBBatch: the event decodes into aws-lambda-go's type with
// every attribute type, a third of the records MODIFYs with their old
// image, and is laid out as the reference generator writes it up to the
// first value it draws at random.
func TestDynamoDBBatch(t *testing.T) {
	raw, err := Batch(DynamoDB1000)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(raw), `{"Records": [{"eventID": "e00000", "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/orders-prod/stream/2024-01-01T00:00:00.000", "dynamodb": {"ApproximateCreationDateTime": 1700000000, "Keys": {"pk": {"S": "order#000000"}, "sk": {"N": "0"}}, "NewImage": {"pk": {"S": "order#000000"}, "sk": {"N": "0"}, "customer": {"S": "`))
	assert.InDelta(t, 1_080_000, len(raw), 60_000, "gen_batches.py's is 1,082,805 bytes")

	var ev events.DynamoDBEvent
	require.NoError(t, json.Unmarshal(raw, &ev))
	require.Len(t, ev.Records, 1000)
	types := map[events.DynamoDBDataType]bool{}
	customers := map[string]bool{}
	for i, r := range ev.Records {
		assert.Equal(t, fmt.Sprintf("e%05d", i), r.EventID)
		assert.Equal(t, fmt.Sprintf("1%020d", i), r.Change.SequenceNumber)
		assert.Equal(t, "orders-prod", strings.Split(r.EventSourceArn, "/")[1], "the table, as the reference reads it")
		if i%3 == 0 {
			assert.Equal(t, "MODIFY", r.EventName)
			assert.Len(t, r.Change.OldImage, 11)
		} else {
			assert.Equal(t, "INSERT", r.EventName)
			assert.Nil(t, r.Change.OldImage)
		}
		require.Len(t, r.Change.NewImage, 11)
		for _, v := range r.Change.NewImage {
			types[v.DataType()] = true
		}
		customers[r.Change.NewImage["customer"].String()] = true
		assert.Len(t, r.Change.NewImage["blob"].Binary(), 16)
	}
	assert.Len(t, types, 9, "S, N, SS, NS, BOOL, NULL, L, M, B: %v", types)
	assert.Equal(t, map[string]bool{"ann": true, "bob": true, "čeněk": true, "李": true}, customers)
}

// TestAppendPyString: strings come out as Python's json.dumps writes them
// (the expected values are its output).
func TestAppendPyString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":               `"plain"`,
		"čeněk":               `"\u010den\u011bk"`,
		"李":                   `"\u674e"`,
		"a\"b\\c\n\t\x01\x7f": `"a\"b\\c\n\t\u0001\u007f"`,
		"😀":                   `"\ud83d\ude00"`,
		"\r\b\f":              `"\r\b\f"`,
	} {
		assert.Equal(t, want, string(appendPyString(nil, in)), "%q", in)
	}
}

func TestBatchIsStableAndNamed(t *testing.T) {
	a, err := Batch(AccessLog1MB)
	require.NoError(t, err)
	assert.Equal(t, AccessLog(1_000_000), a, "the same bytes every time")
	_, err = Batch("nope")
	assert.ErrorContains(t, err, `no batch "nope"`)
	for _, name := range Batches {
		assert.Contains(t, generators, name)
	}
	assert.Len(t, generators, len(Batches))
}

// firehoseBatch is a small Firehose request of the given records' data.
func firehoseBatch(data ...[]byte) []byte {
	records := make([]firehoseRecord, len(data))
	for i, d := range data {
		records[i] = firehoseRecord{id: fmt.Sprintf("r%d", i), arrival: 1, data: d}
	}
	return firehoseRequest("s", records)
}

// subscription is a gzipped CloudWatch Logs DATA_MESSAGE of messages.
func subscription(messages ...string) []byte {
	var evs []string
	for _, m := range messages {
		evs = append(evs, fmt.Sprintf(`{"id":"1","timestamp":1,"message":%q}`, m))
	}
	return gzipBest([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[` + strings.Join(evs, ",") + `]}`))
}

func TestWork(t *testing.T) {
	cw := Case{Name: "cw", Unit: MessageBytes}
	cwRequest := firehoseBatch(subscription("abc", "de"), subscription("fghij"))
	lines := Case{Name: "lines", Unit: InputBytes}
	linesRequest := firehoseBatch([]byte("line one\n"), []byte("two\n"))
	ddb := Case{Name: "ddb", Unit: Records}
	ddbRequest := []byte(`{"Records":[{"eventID":"1"},{"eventID":"2"},{"eventID":"3"}]}`)

	for name, tc := range map[string]struct {
		c        Case
		request  []byte
		response string
		want     int64
		err      string
	}{
		"messages of Ok records":            {cw, cwRequest, `{"records":[{"recordId":"r0","result":"Ok","data":"eA=="},{"recordId":"r1","result":"Ok"}]}`, 4 + 3 + 6, ""},
		"a re-ingested record is not done":  {cw, cwRequest, `{"records":[{"recordId":"r0","result":"Ok"},{"recordId":"r1","result":"Dropped"}]}`, 4 + 3, ""},
		"a failed record":                   {cw, cwRequest, `{"records":[{"recordId":"r0","result":"Ok"},{"recordId":"r1","result":"ProcessingFailed"}]}`, 0, `record r1: result "ProcessingFailed"`},
		"a record left out":                 {cw, cwRequest, `{"records":[{"recordId":"r0","result":"Ok"}]}`, 0, "1 records answered of 2"},
		"records out of order":              {cw, cwRequest, `{"records":[{"recordId":"r1","result":"Ok"},{"recordId":"r0","result":"Ok"}]}`, 0, `answer 0 is record "r1", not "r0"`},
		"not a response":                    {cw, cwRequest, `{"errorMessage":"boom"}`, 0, "0 records answered of 2"},
		"input of Ok and filtered records":  {lines, linesRequest, `{"records":[{"recordId":"r0","result":"Ok"},{"recordId":"r1","result":"Dropped"}]}`, 9 + 4, ""},
		"stream records forwarded":          {ddb, ddbRequest, `{"batchItemFailures":[]}`, 3, ""},
		"a stream record failed":            {ddb, ddbRequest, `{"batchItemFailures":[{"itemIdentifier":"7"}]}`, 0, "1 records failed, the first 7"},
		"a stream response that is no JSON": {ddb, ddbRequest, `oops`, 0, "ddb: response"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := tc.c.Work(tc.request, []byte(tc.response))
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}

	total, err := cw.Total(cwRequest)
	require.NoError(t, err)
	assert.Equal(t, int64(13), total)
	total, err = lines.Total(linesRequest)
	require.NoError(t, err)
	assert.Equal(t, int64(13), total)
	total, err = ddb.Total(ddbRequest)
	require.NoError(t, err)
	assert.Equal(t, int64(3), total)
	_, err = cw.Total(firehoseBatch([]byte("not gzip")))
	assert.ErrorContains(t, err, "cw: record r0")
}

// TestDelivered: a transformation's answered and re-ingested work make
// the whole batch's, a stream function delivered every record; anything
// short of that, or a put that is not what the function re-ingests, fails.
func TestDelivered(t *testing.T) {
	cw := Case{Name: "cw", Unit: MessageBytes}
	cwRequest := firehoseBatch(subscription("abc", "de"), subscription("fgh", "ij")) // 4+3 and 4+3
	lines := Case{Name: "lines", Unit: InputBytes}
	linesRequest := firehoseBatch([]byte("line one\n"), []byte("two\n")) // 9 and 4
	ddb := Case{Name: "ddb", Unit: Records}
	ddbRequest := []byte(`{"Records":[{"eventID":"1"},{"eventID":"2"},{"eventID":"3"}]}`)

	for name, tc := range map[string]struct {
		c       Case
		request []byte
		work    int64
		put     [][]byte
		err     string
	}{
		"all answered":                 {cw, cwRequest, 14, nil, ""},
		"the rest re-ingested, split":  {cw, cwRequest, 7, [][]byte{subscription("fgh"), subscription("ij")}, ""},
		"a re-ingested part missing":   {cw, cwRequest, 7, [][]byte{subscription("fgh")}, "7 answered and 4 re-ingested (1 records put), not the whole work, 14"},
		"a put that is not a payload":  {cw, cwRequest, 7, [][]byte{[]byte("fghij")}, "cw: record 0 put"},
		"lines re-ingested":            {lines, linesRequest, 9, [][]byte{[]byte("two\n")}, ""},
		"every stream record put":      {ddb, ddbRequest, 3, [][]byte{{'a'}, {'b'}, {'c'}}, ""},
		"a stream record never put":    {ddb, ddbRequest, 3, [][]byte{{'a'}, {'b'}}, "ddb: 2 records delivered of 3"},
		"a stream record put twice":    {ddb, ddbRequest, 3, [][]byte{{'a'}, {'b'}, {'c'}, {'c'}}, "ddb: 4 records delivered of 3"},
		"nothing put by a transformer": {lines, linesRequest, 9, nil, "9 answered and 0 re-ingested"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.c.Delivered(tc.request, tc.work, tc.put)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			assert.NoError(t, err)
		})
	}
}

// TestCases: every case names a function, a batch, and one of its cases
// is found by For.
func TestCases(t *testing.T) {
	names := map[string]bool{}
	for _, c := range Cases {
		assert.False(t, names[c.Name], "%s twice", c.Name)
		names[c.Name] = true
		assert.Contains(t, generators, c.Batch)
		assert.Contains(t, For(c.Function), c)
		env, err := c.Environment()
		require.NoError(t, err)
		for k, v := range c.Env {
			assert.Equal(t, v, env[k])
		}
	}
	assert.Len(t, For("firehose-accesslog"), 1)
	assert.Len(t, For("cwlogs-decompressor"), 4)
	assert.Empty(t, For("glue-job-trigger"))
}
