package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kstypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

const (
	lakeBucket = "lake"
	cdcStream  = "orders-cdc"
	cdcPrefix  = "cdc/"
)

// TestIntegrationDynamoDBStream: items written to a moto table with a
// stream are read from the stream, handed as Lambda events to the real
// bootstrap binary, and found as JSON lines in the delivery stream's S3
// destination, 38-digit numbers intact. Between the function and moto, a
// proxy throttles requests and rejects records as Firehose does under
// load, some records every time: each record ends delivered or listed in
// batchItemFailures, and Lambda's retry from the first failure (played
// here once the proxy heals) delivers the rest.
func TestIntegrationDynamoDBStream(t *testing.T) {
	ctx := t.Context()
	cfg := resetMoto(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
	createLake(t, cfg, s3c, cdcStream, cdcPrefix)

	// The table: 120 orders, a third updated, a sixth deleted, and one
	// item of 390 KB whose update (both images, base64) makes a line over
	// Firehose's 1,000 KiB limit, which goes to the overflow prefix.
	db := dynamodb.NewFromConfig(cfg)
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Orders"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeN}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	})
	require.NoError(t, err)
	const n = 120
	amounts := map[string]string{} // pk -> 38-digit amount
	key := func(i int) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("order#%03d", i)}, "sk": &ddbtypes.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"}}
	}
	for i := range n {
		item := key(i)
		amount := fmt.Sprintf("9%037d", i)
		amounts[fmt.Sprintf("order#%03d", i)] = amount
		item["amount"] = &ddbtypes.AttributeValueMemberN{Value: amount}
		item["status"] = &ddbtypes.AttributeValueMemberS{Value: "placed"}
		if i%10 == 3 {
			item["note"] = &ddbtypes.AttributeValueMemberS{Value: "poison"} // the proxy always rejects these
		}
		item["tags"] = &ddbtypes.AttributeValueMemberSS{Value: []string{"web", "eu"}}
		item["raw"] = &ddbtypes.AttributeValueMemberB{Value: []byte{0, 1, 2, byte(i)}}
		item["lines"] = &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{&ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{"qty": &ddbtypes.AttributeValueMemberN{Value: "2"}, "gift": &ddbtypes.AttributeValueMemberBOOL{Value: true}, "memo": &ddbtypes.AttributeValueMemberNULL{Value: true}}}}}
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Orders"), Item: item})
		require.NoError(t, err)
	}
	for i := 0; i < n; i += 3 {
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Orders"), Key: key(i),
			UpdateExpression: aws.String("SET #s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": &ddbtypes.AttributeValueMemberS{Value: "shipped"}}})
		require.NoError(t, err)
	}
	for i := 1; i < n; i += 6 {
		_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Orders"), Key: key(i)})
		require.NoError(t, err)
	}
	bigKey := key(999)
	bigItem := maps.Clone(bigKey)
	bigItem["blob"] = &ddbtypes.AttributeValueMemberB{Value: bytes.Repeat([]byte{0xAB}, 390_000)}
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Orders"), Item: bigItem})
	require.NoError(t, err)
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Orders"), Key: bigKey,
		UpdateExpression: aws.String("SET #s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": &ddbtypes.AttributeValueMemberS{Value: "archived"}}})
	require.NoError(t, err)

	recs := readTableStream(t, cfg, "Orders")
	require.Len(t, recs, n+n/3+n/6+2, "one stream record per write")

	proxy := newFaultyFirehose(t, moto.Shared(t).Endpoint)
	proxy.throttleCalls = 2
	proxy.rejectFirstTry = 4 // a quarter of the records, the first time they are sent
	proxy.poison = `"poison"`
	f := startFunction(t, proxy.URL, map[string]string{
		// Five attempts in all: the SDK no longer retries, so the two
		// throttled calls take two of them.
		"DELIVERY_STREAM": cdcStream, "OVERFLOW_BUCKET": lakeBucket, "OVERFLOW_PREFIX": "oversize/", "PUT_ATTEMPTS": "5",
	})

	// Lambda hands the function batches of up to BatchSize records of one shard.
	const batchSize = 50
	failed := map[string]bool{}
	var retries [][]json.RawMessage
	for start := 0; start < len(recs); start += batchSize {
		batch := recs[start:min(start+batchSize, len(recs))]
		ids := invoke(t, f, batch)
		for _, id := range ids {
			failed[id] = true
		}
		// Lambda checkpoints at the failed record with the lowest
		// sequence number and sends the batch again from there.
		if first := lowestIndex(t, batch, ids); first >= 0 {
			retries = append(retries, batch[first:])
		}
	}
	assert.Positive(t, proxy.stats().throttled, "whole requests were throttled")

	delivered := deliveredLines(t, s3c)
	poisoned := 0
	for _, raw := range recs {
		var r events.DynamoDBEventRecord
		require.NoError(t, json.Unmarshal(raw, &r))
		id := r.Change.SequenceNumber
		isPoison := bytes.Contains(raw, []byte(`"poison"`))
		if isPoison {
			poisoned++
			assert.True(t, failed[id], "record %s, always rejected, is reported", id)
		}
		switch {
		case failed[id]:
			assert.Zero(t, len(delivered[id]), "record %s both delivered and reported failed", id)
		default:
			assert.Len(t, delivered[id], 1, "record %s delivered once", id)
		}
	}
	require.Positive(t, poisoned)
	// PUT_ATTEMPTS=5 sends a poisoned record at least 3 times (5 after
	// the throttled first batch); more rejections were of records that a
	// retry then delivered.
	assert.Greater(t, proxy.stats().rejected, 3*poisoned, "records were rejected once and retried")
	assert.Len(t, failed, poisoned, "what retrying could deliver was delivered")
	oversize := objectsUnder(t, s3c, "oversize/")
	assert.Greater(t, len(oversize), maxLineBytes, "the big item's update went whole to the overflow prefix")
	assert.Contains(t, oversize, `"event_name":"MODIFY"`)
	assert.Equal(t, 1, strings.Count(oversize, "\n"), "one line, one object")

	// The delivered lines hold the items: every 38-digit number exact.
	checked := 0
	for _, lines := range delivered {
		for _, l := range lines {
			var line struct {
				Table    string `json:"table"`
				NewImage struct {
					PK     string      `json:"pk"`
					SK     json.Number `json:"sk"`
					Amount json.Number `json:"amount"`
				} `json:"new_image"`
			}
			dec := json.NewDecoder(bytes.NewReader(l))
			dec.UseNumber()
			require.NoError(t, dec.Decode(&line))
			assert.Equal(t, "Orders", line.Table)
			if want, ok := amounts[line.NewImage.PK]; ok {
				assert.Equal(t, want, line.NewImage.Amount.String())
				assert.Equal(t, "12345678901234567890123456789012345678", line.NewImage.SK.String())
				checked++
			}
		}
	}
	assert.Greater(t, checked, n/2)

	// Lambda's retries, with Firehose healthy again: every record of the
	// table is now in the lake, the retried ones at least once.
	proxy.heal()
	for _, batch := range retries {
		assert.Empty(t, invoke(t, f, batch), "nothing fails once Firehose accepts")
	}
	delivered = deliveredLines(t, s3c)
	for _, raw := range recs {
		var r events.DynamoDBEventRecord
		require.NoError(t, json.Unmarshal(raw, &r))
		assert.NotEmpty(t, delivered[r.Change.SequenceNumber], "record %s is in the lake", r.Change.SequenceNumber)
	}
}

// TestIntegrationKinesis: Kinesis records go through the same binary, as
// they are, one line each, routed by stream name.
func TestIntegrationKinesis(t *testing.T) {
	ctx := t.Context()
	cfg := resetMoto(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
	createLake(t, cfg, s3c, "clicks-lake", "clicks/")

	kc := kinesis.NewFromConfig(cfg)
	_, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("clicks"), ShardCount: aws.Int32(1)})
	require.NoError(t, err)
	var summary *kstypes.StreamDescriptionSummary
	require.Eventually(t, func() bool {
		out, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("clicks")})
		if err != nil {
			return false
		}
		summary = out.StreamDescriptionSummary
		return summary.StreamStatus == kstypes.StreamStatusActive
	}, 10*time.Second, 50*time.Millisecond)
	arn := aws.ToString(summary.StreamARN)
	sent := []string{`{"event":"view","n":1}`, `{"event":"click","amount":12345678901234567890123456789012345678}` + "\n", "not JSON at all"}
	for i, d := range sent {
		_, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: aws.String(arn), Data: []byte(d), PartitionKey: aws.String(fmt.Sprint("user-", i))})
		require.NoError(t, err)
	}
	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: aws.String(arn)})
	require.NoError(t, err)
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: aws.String(arn), ShardId: shards.Shards[0].ShardId, ShardIteratorType: kstypes.ShardIteratorTypeTrimHorizon})
	require.NoError(t, err)
	got, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: aws.String(arn), ShardIterator: it.ShardIterator})
	require.NoError(t, err)
	require.Len(t, got.Records, len(sent))
	var ev events.KinesisEvent
	for _, r := range got.Records {
		ev.Records = append(ev.Records, events.KinesisEventRecord{
			EventSource: sourceKinesis, EventSourceArn: arn, EventName: "aws:kinesis:record", EventVersion: "1.0",
			EventID: aws.ToString(shards.Shards[0].ShardId) + ":" + aws.ToString(r.SequenceNumber), AwsRegion: moto.Region,
			Kinesis: events.KinesisRecord{Data: r.Data, PartitionKey: aws.ToString(r.PartitionKey), SequenceNumber: aws.ToString(r.SequenceNumber),
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: aws.ToTime(r.ApproximateArrivalTimestamp)}, KinesisSchemaVersion: "1.0"},
		})
	}
	raw, err := json.Marshal(ev)
	require.NoError(t, err)

	f := startFunction(t, moto.Shared(t).Endpoint, map[string]string{"DELIVERY_STREAM": cdcStream, "ROUTES": "clicks=clicks-lake"})
	out, err := f.Invoke(ctx, raw)
	require.NoError(t, err)
	assert.JSONEq(t, `{"batchItemFailures":[]}`, string(out))

	body := objectsUnder(t, s3c, "clicks/")
	want := ""
	for _, d := range sent {
		want += strings.TrimSuffix(d, "\n") + "\n"
	}
	assert.Equal(t, want, body, "each record as it was, one per line")
}

// TestInvalidSettingsFailInit: the real binary with invalid settings stops
// at start-up with an init error naming every bad variable.
func TestInvalidSettingsFailInit(t *testing.T) {
	f := startFunction(t, moto.Shared(t).Endpoint, map[string]string{"DELIVERY_STREAM": "", "IMAGES": "all", "REMOVES": "sometimes", "PUT_ATTEMPTS": "0", "OVERFLOW_BUCKET": "Not_A_Bucket"})
	_, err := f.Invoke(t.Context(), []byte(`{"Records":[]}`))
	require.True(t, lambdarun.IsInit(err), "got %v", err)
	for _, want := range []string{
		"DELIVERY_STREAM is required",
		`IMAGES="all" is invalid: one of new, old, both`,
		`REMOVES="sometimes" is invalid: one of include, skip, skip-ttl`,
		`PUT_ATTEMPTS="0" is invalid: an integer from 1 to 100`,
		`OVERFLOW_BUCKET="Not_A_Bucket" is invalid`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}

// resetMoto empties moto and returns a config for checking it.
func resetMoto(t *testing.T) aws.Config {
	t.Helper()
	srv := moto.Shared(t)
	require.NoError(t, srv.Reset())
	cfg, err := srv.Config(t.Context())
	require.NoError(t, err)
	return cfg
}

// createLake makes the lake bucket (once) and a Direct PUT delivery stream
// writing to it under prefix.
func createLake(t *testing.T, cfg aws.Config, s3c *s3.Client, stream, prefix string) {
	t.Helper()
	_, err := s3c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(lakeBucket)})
	require.NoError(t, err)
	_, err = firehose.NewFromConfig(cfg).CreateDeliveryStream(t.Context(), &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(stream),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::123456789012:role/firehose"), BucketARN: aws.String("arn:aws:s3:::" + lakeBucket), Prefix: aws.String(prefix),
		},
	})
	require.NoError(t, err)
}

// startFunction builds and starts the real binary with the template's
// environment, AWS at endpoint, and the overrides.
func startFunction(t *testing.T, endpoint string, overrides map[string]string) *lambdarun.Function {
	t.Helper()
	f, err := lambdarun.StartRepoFunction("ddb-stream-forwarder", lambdarun.Options{Timeout: 60 * time.Second, Stderr: testWriter{t}},
		moto.Shared(t).Env(), map[string]string{"AWS_ENDPOINT_URL": endpoint}, overrides)
	require.NoError(t, err)
	t.Cleanup(f.Stop)
	return f
}

// invoke sends records as one DynamoDB stream event and returns the
// sequence numbers the function reported failed.
func invoke(t *testing.T, f *lambdarun.Function, recs []json.RawMessage) []string {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"Records": recs})
	require.NoError(t, err)
	out, err := f.Invoke(t.Context(), raw)
	require.NoError(t, err)
	var resp events.DynamoDBEventResponse
	require.NoError(t, json.Unmarshal(out, &resp), "%s", out)
	require.NotNil(t, resp.BatchItemFailures, "%s", out)
	ids := make([]string, len(resp.BatchItemFailures))
	for i, f := range resp.BatchItemFailures {
		ids[i] = f.ItemIdentifier
	}
	return ids
}

// lowestIndex is the index in batch of the failed record with the lowest
// sequence number, -1 when none failed.
func lowestIndex(t *testing.T, batch []json.RawMessage, failed []string) int {
	for i, raw := range batch {
		var r events.DynamoDBEventRecord
		require.NoError(t, json.Unmarshal(raw, &r))
		if slices.Contains(failed, r.Change.SequenceNumber) {
			return i // records of a shard come in sequence order
		}
	}
	return -1
}

// readTableStream reads every record of the table's stream from moto, as
// Lambda would pass them: the DynamoDB Streams JSON API answers records in
// the stream event's shape; Lambda adds eventSourceARN.
func readTableStream(t *testing.T, cfg aws.Config, table string) []json.RawMessage {
	t.Helper()
	ctx := t.Context()
	desc, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	require.NoError(t, err)
	streamARN := aws.ToString(desc.Table.LatestStreamArn)
	streams := dynamodbstreams.NewFromConfig(cfg)
	ds, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(streamARN)})
	require.NoError(t, err)
	var out []json.RawMessage
	for _, shard := range ds.StreamDescription.Shards {
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(streamARN), ShardId: shard.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		require.NoError(t, err)
		iterator := aws.ToString(it.ShardIterator)
		for range 1000 {
			var page struct {
				Records           []map[string]json.RawMessage
				NextShardIterator string
			}
			streamsCall(t, cfg, "GetRecords", map[string]any{"ShardIterator": iterator, "Limit": 1000}, &page)
			for _, r := range page.Records {
				r["eventSourceARN"], _ = json.Marshal(streamARN)
				b, err := json.Marshal(r)
				require.NoError(t, err)
				out = append(out, b)
			}
			if len(page.Records) == 0 || page.NextShardIterator == "" {
				break
			}
			iterator = page.NextShardIterator
		}
	}
	return out
}

// streamsCall calls the DynamoDB Streams JSON API directly, signed, and
// decodes the answer: the SDK's types would not keep the raw JSON.
func streamsCall(t *testing.T, cfg aws.Config, action string, in, out any) {
	t.Helper()
	body, err := json.Marshal(in)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, moto.Shared(t).Endpoint+"/", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDBStreams_20120810."+action)
	creds, err := cfg.Credentials.Retrieve(t.Context())
	require.NoError(t, err)
	sum := sha256.Sum256(body)
	require.NoError(t, v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), "dynamodb", cfg.Region, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", action, b)
	require.NoError(t, json.Unmarshal(b, out))
}

// deliveredLines reads every line in the lake, from the delivery stream's
// objects and the overflow objects, by sequence number.
func deliveredLines(t *testing.T, s3c *s3.Client) map[string][][]byte {
	t.Helper()
	out := map[string][][]byte{}
	for _, prefix := range []string{cdcPrefix, "oversize/"} {
		for _, l := range bytes.SplitAfter([]byte(objectsUnder(t, s3c, prefix)), []byte("\n")) {
			if len(l) == 0 {
				continue
			}
			var line struct {
				SequenceNumber string `json:"sequence_number"`
			}
			require.NoError(t, json.Unmarshal(l, &line), "a line in the lake is JSON: %.200s", l)
			out[line.SequenceNumber] = append(out[line.SequenceNumber], l)
		}
	}
	return out
}

// objectsUnder is the content of every object under prefix, concatenated
// in key order.
func objectsUnder(t *testing.T, s3c *s3.Client, prefix string) string {
	t.Helper()
	list, err := s3c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(lakeBucket), Prefix: aws.String(prefix)})
	require.NoError(t, err)
	var all strings.Builder
	for _, o := range list.Contents {
		if prefix == "oversize/" {
			assert.Regexp(t, `^oversize/Orders/\d+\.json$`, aws.ToString(o.Key))
		}
		obj, err := s3c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(lakeBucket), Key: o.Key})
		require.NoError(t, err)
		b, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		require.NoError(t, err)
		all.Write(b)
	}
	return all.String()
}

// faultyFirehose stands between the function and moto and makes Firehose
// misbehave as it does under load (moto never does): it answers the first
// throttleCalls PutRecordBatch requests with HTTP 400 ThrottlingException,
// rejects one record in rejectFirstTry the first time it is sent, and
// every record containing poison every time, with
// ServiceUnavailableException. Rejected records are not passed to moto:
// what moto holds is exactly what was accepted. Other requests pass
// through untouched.
type faultyFirehose struct {
	URL            string
	target         *url.URL
	proxy          *httputil.ReverseProxy
	throttleCalls  int
	rejectFirstTry uint32
	poison         string

	mu        sync.Mutex
	seen      map[string]bool
	healed    bool
	calls     int
	throttled int
	rejected  int
}

func newFaultyFirehose(t *testing.T, endpoint string) *faultyFirehose {
	target, err := url.Parse(endpoint)
	require.NoError(t, err)
	p := &faultyFirehose{target: target, proxy: httputil.NewSingleHostReverseProxy(target), seen: map[string]bool{}}
	s := httptest.NewServer(p)
	t.Cleanup(s.Close)
	p.URL = s.URL
	return p
}

type proxyStats struct{ calls, throttled, rejected int }

func (p *faultyFirehose) stats() proxyStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return proxyStats{p.calls, p.throttled, p.rejected}
}

func (p *faultyFirehose) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.healed = true
}

func (p *faultyFirehose) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "Firehose_20150804.PutRecordBatch" {
		p.proxy.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in struct {
		DeliveryStreamName string
		Records            []struct{ Data []byte }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.calls++
	if !p.healed && p.calls <= p.throttleCalls {
		p.throttled++
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"ThrottlingException","message":"Rate exceeded for stream"}`)
		return
	}
	reject := make([]bool, len(in.Records))
	var pass []map[string][]byte
	for i, rec := range in.Records {
		h := fnv.New32a()
		h.Write(rec.Data)
		first := !p.seen[string(rec.Data)]
		p.seen[string(rec.Data)] = true
		switch {
		case p.healed:
		case p.poison != "" && bytes.Contains(rec.Data, []byte(p.poison)):
			reject[i] = true
		case first && p.rejectFirstTry > 0 && h.Sum32()%p.rejectFirstTry == 0:
			reject[i] = true
		}
		if reject[i] {
			p.rejected++
		} else {
			pass = append(pass, map[string][]byte{"Data": rec.Data})
		}
	}
	p.mu.Unlock()

	var accepted []json.RawMessage
	if len(pass) > 0 {
		fwd, _ := json.Marshal(map[string]any{"DeliveryStreamName": in.DeliveryStreamName, "Records": pass})
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, p.target.String()+"/", bytes.NewReader(fwd))
		req.Header = r.Header.Clone()
		req.Header.Del("Content-Length")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			w.WriteHeader(resp.StatusCode)
			w.Write(b)
			return
		}
		var out struct{ RequestResponses []json.RawMessage }
		if err := json.Unmarshal(b, &out); err != nil || len(out.RequestResponses) != len(pass) {
			http.Error(w, fmt.Sprintf("unexpected answer from moto: %s", b), http.StatusBadGateway)
			return
		}
		accepted = out.RequestResponses
	}
	answers := make([]json.RawMessage, len(in.Records))
	failedCount := 0
	for i := range in.Records {
		if reject[i] {
			failedCount++
			answers[i] = json.RawMessage(`{"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."}`)
			continue
		}
		answers[i], accepted = accepted[0], accepted[1:]
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(map[string]any{"FailedPutCount": failedCount, "Encrypted": false, "RequestResponses": answers})
}

// testWriter sends the function's stderr to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
