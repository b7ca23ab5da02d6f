package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kstypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serve starts a Sink on loopback and returns it, its URL and an SDK
// configuration pointing at it.
func serve(t *testing.T) (*Sink, string, aws.Config) {
	t.Helper()
	s := New()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(srv.URL),
	}
	return s, srv.URL, cfg
}

// payloads are n records of random bytes, 1 byte to 8 KB each.
func payloads(n int) [][]byte {
	rnd := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		out[i] = make([]byte, 1+rnd.IntN(8<<10))
		for j := range out[i] {
			out[i][j] = byte(rnd.Uint32())
		}
	}
	return out
}

func TestFirehosePutRecordBatch(t *testing.T) {
	s, _, cfg := serve(t)
	fh := firehose.NewFromConfig(cfg)
	ctx := context.Background()

	data := payloads(500) // a full request
	var ids []string
	for _, batch := range [][][]byte{data[:3], data[3:]} {
		in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("cdc")}
		for _, d := range batch {
			in.Records = append(in.Records, fhtypes.Record{Data: d})
		}
		out, err := fh.PutRecordBatch(ctx, in)
		require.NoError(t, err)
		assert.Equal(t, int32(0), aws.ToInt32(out.FailedPutCount))
		require.Len(t, out.RequestResponses, len(batch), "one answer per record")
		for _, r := range out.RequestResponses {
			assert.Nil(t, r.ErrorCode)
			require.NotEmpty(t, aws.ToString(r.RecordId))
			ids = append(ids, aws.ToString(r.RecordId))
		}
	}
	assert.Len(t, uniq(ids), len(data), "every record id differs")

	got, err := s.Take()
	require.NoError(t, err)
	require.Len(t, got, len(data))
	for i, r := range got {
		assert.Equal(t, "cdc", r.Stream)
		assert.Equal(t, data[i], r.Data, "record %d", i)
	}
	got, err = s.Take()
	require.NoError(t, err)
	assert.Empty(t, got, "Take forgets what it returned")
}

func TestKinesisPutRecords(t *testing.T) {
	s, _, cfg := serve(t)
	ks := kinesis.NewFromConfig(cfg)
	data := payloads(4)
	in := &kinesis.PutRecordsInput{StreamName: aws.String("source")}
	for i, d := range data {
		in.Records = append(in.Records, kstypes.PutRecordsRequestEntry{Data: d, PartitionKey: aws.String(fmt.Sprint(i))})
	}
	out, err := ks.PutRecords(context.Background(), in)
	require.NoError(t, err)
	assert.Equal(t, int32(0), aws.ToInt32(out.FailedRecordCount))
	require.Len(t, out.Records, len(data))
	var seqs []string
	for _, r := range out.Records {
		assert.Nil(t, r.ErrorCode)
		assert.NotEmpty(t, aws.ToString(r.ShardId))
		seqs = append(seqs, aws.ToString(r.SequenceNumber))
	}
	assert.Len(t, uniq(seqs), len(data))

	in = &kinesis.PutRecordsInput{StreamARN: aws.String("arn:aws:kinesis:us-east-1:123456789012:stream/source"),
		Records: []kstypes.PutRecordsRequestEntry{{Data: []byte("by arn"), PartitionKey: aws.String("k")}}}
	_, err = ks.PutRecords(context.Background(), in)
	require.NoError(t, err)

	got, err := s.Take()
	require.NoError(t, err)
	require.Len(t, got, len(data)+1)
	for i, d := range data {
		assert.Equal(t, Record{Stream: "source", Data: d}, got[i])
	}
	assert.Equal(t, Record{Stream: "arn:aws:kinesis:us-east-1:123456789012:stream/source", Data: []byte("by arn")}, got[len(data)])
}

// TestOtherCallsFail: a call the sink does not serve is an error the
// SDK reports with its code, never a silent success.
func TestOtherCallsFail(t *testing.T) {
	s, _, cfg := serve(t)
	_, err := firehose.NewFromConfig(cfg).PutRecord(context.Background(), &firehose.PutRecordInput{
		DeliveryStreamName: aws.String("cdc"), Record: &fhtypes.Record{Data: []byte("x")}})
	var apiErr smithy.APIError
	require.True(t, errors.As(err, &apiErr), "%v", err)
	assert.Equal(t, "UnknownOperationException", apiErr.ErrorCode())
	got, err := s.Take()
	require.NoError(t, err)
	assert.Empty(t, got)
}

// TestTakeFrom takes over HTTP, as the benchmark does from the sink's
// process.
func TestTakeFrom(t *testing.T) {
	_, url, cfg := serve(t)
	ctx := context.Background()
	_, err := firehose.NewFromConfig(cfg).PutRecordBatch(ctx, &firehose.PutRecordBatchInput{
		DeliveryStreamName: aws.String("a"), Records: []fhtypes.Record{{Data: []byte("one")}, {Data: []byte{0, 255}}}})
	require.NoError(t, err)
	got, err := TakeFrom(ctx, url)
	require.NoError(t, err)
	assert.Equal(t, []Record{{Stream: "a", Data: []byte("one")}, {Stream: "a", Data: []byte{0, 255}}}, got)
	got, err = TakeFrom(ctx, url)
	require.NoError(t, err)
	assert.Empty(t, got)
}

// decodePut is what a put of body leaves the sink holding: the stream
// and each record's data, or why the put is refused or cannot be taken.
func decodePut(body []byte, kinesis bool) (string, [][]byte, error) {
	s := New()
	stream, puts, err := scanPut(body, kinesis)
	if err != nil {
		return "", nil, err
	}
	for _, p := range puts {
		p.stream = stream
		s.kept = append(s.kept, p)
	}
	records, err := s.Take()
	if err != nil {
		return "", nil, err
	}
	data := make([][]byte, len(records))
	for i, r := range records {
		data[i] = r.Data
	}
	return stream, data, nil
}

func TestDecodePut(t *testing.T) {
	stream, data, err := decodePut([]byte(`{"Records":[{"Data":"aGk\u003d","Data":"AA=="},{"PartitionKey":"k","Data":""}],"StreamARN":"arn","StreamName":"s"}`), true)
	require.NoError(t, err)
	assert.Equal(t, "s", stream, "the name before the ARN")
	assert.Equal(t, [][]byte{{0}, {}}, data, "the last Data, as encoding/json keeps it")
	_, data, err = decodePut([]byte(`{"DeliveryStreamName":"a","Records":[{"Data":"aGk\u003d"}]}`), false)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("hi")}, data, "escaped text is unescaped")

	for name, body := range map[string]string{
		"not JSON":     `{"DeliveryStreamName":"a","Records":[`,
		"no stream":    `{"Records":[{"Data":"AA=="}]}`,
		"no data":      `{"DeliveryStreamName":"a","Records":[{"Other":"AA=="}]}`,
		"not base64":   `{"DeliveryStreamName":"a","Records":[{"Data":"!!"}]}`,
		"trailing":     `{"DeliveryStreamName":"a","Records":[]} x`,
		"data not str": `{"DeliveryStreamName":"a","Records":[{"Data":1}]}`,
	} {
		_, _, err := decodePut([]byte(body), false)
		assert.Error(t, err, name)
	}
}

// TestTakeFailsOnData: a put whose data is not base64 is answered (the
// sink answers before it decodes) but taking it fails, over HTTP too.
func TestTakeFailsOnData(t *testing.T) {
	_, url, _ := serve(t)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"DeliveryStreamName":"a","Records":[{"Data":"!!"}]}`))
	require.NoError(t, err)
	req.Header.Set("X-Amz-Target", firehosePut)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = TakeFrom(context.Background(), url)
	assert.ErrorContains(t, err, "record 0 put into a: Data: illegal base64 data")
}

// FuzzDecodePut: whatever the body, a put decodePut accepts is valid
// JSON whose Records array has one element per record it returns, each
// holding the Data encoding/json decodes.
func FuzzDecodePut(f *testing.F) {
	f.Add([]byte(`{"DeliveryStreamName":"a","Records":[{"Data":"AA=="},{"Data":"aGVsbG8="}]}`), false)
	f.Add([]byte(`{"StreamName":"s","Records":[{"Data":"","PartitionKey":"k"}]}`), true)
	f.Add([]byte(`{"StreamARN":"arn","Records":[{"PartitionKey":"k","Data":"aGk\u003d"}]}`), true)
	f.Fuzz(func(t *testing.T, body []byte, kinesis bool) {
		stream, data, err := decodePut(body, kinesis)
		if err != nil {
			return
		}
		require.True(t, json.Valid(body))
		require.NotEmpty(t, stream)
		// Compared with encoding/json where the keys are plain: it also
		// matches "data" and "records", and keeps the last of duplicates.
		if bytes.Count(body, []byte(`"Data"`)) != len(data) || bytes.Count(bytes.ToLower(body), []byte(`"records"`)) != 1 {
			return
		}
		var req struct {
			Records []struct{ Data []byte }
		}
		require.NoError(t, json.Unmarshal(body, &req))
		require.Len(t, req.Records, len(data))
		for i, r := range req.Records {
			assert.Equal(t, r.Data, data[i], "record %d", i)
		}
	})
}

func uniq(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

// TestEnv: a process whose environment is Env loads an SDK
// configuration that puts into the sink.
func TestEnv(t *testing.T) {
	s, url, _ := serve(t)
	for k, v := range Env(url) {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	require.NoError(t, err)
	_, err = firehose.NewFromConfig(cfg).PutRecordBatch(ctx, &firehose.PutRecordBatchInput{
		DeliveryStreamName: aws.String("env"), Records: []fhtypes.Record{{Data: []byte("x")}}})
	require.NoError(t, err)
	got, err := s.Take()
	require.NoError(t, err)
	assert.Equal(t, []Record{{Stream: "env", Data: []byte("x")}}, got)
}
