package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	sdkfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kstypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/boot"
	"lakestream/shared/config"
	"lakestream/shared/cwlogs"
	"lakestream/shared/firehose"
	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
	"lakestream/shared/streamput"
)

func TestMain(m *testing.M) { moto.Main(m) }

// start runs the real binary with the template's environment, pointed at
// moto, plus overrides.
func start(t *testing.T, overrides map[string]string) *lambdarun.Function {
	t.Helper()
	f, err := lambdarun.StartRepoFunction("cwlogs-decompressor", lambdarun.Options{Timeout: 2 * time.Minute}, moto.Shared(t).Env(), overrides)
	require.NoError(t, err)
	t.Cleanup(f.Stop)
	return f
}

// awsClients resets moto and returns clients for it.
func awsClients(t *testing.T) (*s3.Client, *sdkfirehose.Client, *kinesis.Client) {
	t.Helper()
	srv := moto.Shared(t)
	require.NoError(t, srv.Reset())
	cfg, err := srv.Config(t.Context())
	require.NoError(t, err)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return s3c, sdkfirehose.NewFromConfig(cfg), kinesis.NewFromConfig(cfg)
}

// createLake makes a bucket and a Direct PUT delivery stream into it.
func createLake(t *testing.T, s3c *s3.Client, fh *sdkfirehose.Client, bucket, stream string) {
	t.Helper()
	_, err := s3c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	_, err = fh.CreateDeliveryStream(t.Context(), &sdkfirehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(stream),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::" + bucket),
			RoleARN:   aws.String("arn:aws:iam::123456789012:role/firehose-delivery"),
			Prefix:    aws.String("cwlogs/"),
		},
	})
	require.NoError(t, err)
}

// bucketObjects returns the bodies of every object in bucket.
func bucketObjects(t *testing.T, s3c *s3.Client, bucket string) [][]byte {
	t.Helper()
	list, err := s3c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	var bodies [][]byte
	for _, o := range list.Contents {
		got, err := s3c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		require.NoError(t, err)
		b, err := io.ReadAll(got.Body)
		got.Body.Close()
		require.NoError(t, err)
		bodies = append(bodies, b)
	}
	return bodies
}

// payloadsIn splits what Firehose delivered (re-ingested records written
// back to back) into subscription documents: gzip members, each one JSON
// document.
func payloadsIn(t *testing.T, objects [][]byte) []events.CloudwatchLogsData {
	t.Helper()
	var docs []events.CloudwatchLogsData
	for _, obj := range objects {
		zr, err := gzip.NewReader(bytes.NewReader(obj)) // reads concatenated members as one stream
		require.NoError(t, err)
		dec := json.NewDecoder(zr)
		for {
			var d events.CloudwatchLogsData
			if err := dec.Decode(&d); errors.Is(err, io.EOF) {
				break
			} else {
				require.NoError(t, err)
			}
			docs = append(docs, d)
		}
	}
	return docs
}

// bigPayload is a subscription payload of n events whose messages render
// to about n*msgLen bytes of lines but compress well, as repetitive logs do.
func bigPayload(t testing.TB, group string, n, msgLen int) (events.CloudwatchLogsData, []byte) {
	d := events.CloudwatchLogsData{MessageType: cwlogs.MessageTypeData, Owner: "123456789012", LogGroup: group, LogStream: "s-1"}
	filler := strings.Repeat("GET /api/v1/orders?page=1 status=200 ", msgLen/37+1)
	for i := range n {
		msg := fmt.Sprintf("%s seq=%d %s", group, i, filler)[:msgLen]
		d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{ID: strconv.Itoa(i), Timestamp: 1714571100000 + int64(i), Message: msg})
	}
	p, err := cwlogs.Encode(d)
	require.NoError(t, err)
	return d, p
}

// overBudgetEvent is a Firehose event of five records, in this order: r3
// renders to 7 MB on its own and is re-ingested as two halves; r0, r1 and
// r2 render to 2 MB of lines each, so only two fit in one 6,000,000-byte
// response and the third is re-ingested as it came; r4, a control message
// after the response is full, goes back as it came too, untransformed.
func overBudgetEvent(t *testing.T, deliveryStream, kinesisSource string) (events.KinesisFirehoseEvent, map[string]events.CloudwatchLogsData) {
	ev := events.KinesisFirehoseEvent{
		InvocationID:           "it-1",
		DeliveryStreamArn:      "arn:aws:firehose:us-east-1:123456789012:deliverystream/" + deliveryStream,
		SourceKinesisStreamArn: kinesisSource,
		Region:                 "us-east-1",
	}
	docs := map[string]events.CloudwatchLogsData{}
	add := func(id string, p []byte) {
		rec := events.KinesisFirehoseEventRecord{RecordID: id, Data: p}
		if kinesisSource != "" {
			rec.KinesisFirehoseRecordMetadata = events.KinesisFirehoseRecordMetadata{ShardID: "shardId-000000000000", PartitionKey: "pk-" + id}
		}
		ev.Records = append(ev.Records, rec)
	}
	d, p := bigPayload(t, "/app/r3", 7000, 1000)
	docs["r3"] = d
	add("r3", p)
	for i := range 3 {
		id := fmt.Sprintf("r%d", i)
		d, p := bigPayload(t, "/app/"+id, 2000, 1000)
		docs[id] = d
		add(id, p)
	}
	control, err := cwlogs.Encode(events.CloudwatchLogsData{MessageType: cwlogs.MessageTypeControl, Owner: "CloudwatchLogs",
		LogEvents: []events.CloudwatchLogsLogEvent{{Timestamp: 1714571100000, Message: "CWL CONTROL MESSAGE"}}})
	require.NoError(t, err)
	add("r4", control)
	return ev, docs
}

// invokeFirehose sends ev to the function and returns its response, as
// sent and decoded.
func invokeFirehose(t *testing.T, f *lambdarun.Function, ev events.KinesisFirehoseEvent) ([]byte, firehose.Response) {
	t.Helper()
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	out, err := f.Invoke(t.Context(), raw)
	require.NoError(t, err)
	var resp firehose.Response
	require.NoError(t, json.Unmarshal(out, &resp))
	require.Len(t, resp.Records, len(ev.Records))
	return out, resp
}

// checkOverBudgetResponse: r0 and r1 Ok as lines, the rest Dropped, the
// whole response within the budget.
func checkOverBudgetResponse(t *testing.T, raw []byte, resp firehose.Response, docs map[string]events.CloudwatchLogsData) {
	t.Helper()
	assert.LessOrEqual(t, len(raw), firehose.DefaultBudget)
	results := map[string]string{}
	for _, r := range resp.Records {
		results[r.RecordID] = r.Result
		if r.Result == firehose.ResultOk {
			lines := strings.Split(strings.TrimSuffix(string(r.Data), "\n"), "\n")
			require.Len(t, lines, len(docs[r.RecordID].LogEvents))
			assert.Equal(t, docs[r.RecordID].LogEvents[0].Message, lines[0])
		}
	}
	assert.Equal(t, map[string]string{"r0": "Ok", "r1": "Ok", "r2": "Dropped", "r3": "Dropped", "r4": "Dropped"}, results)
}

// TestReingestDirectPut: records that do not fit the response go back
// into the Direct PUT delivery stream (moto), which writes them to S3: r3
// as two halves, r2 and r4 as they came; nothing else, nothing twice.
func TestReingestDirectPut(t *testing.T) {
	s3c, fh, _ := awsClients(t)
	createLake(t, s3c, fh, "cwlogs-lake", "lakestream-cwlogs")
	ev, docs := overBudgetEvent(t, "lakestream-cwlogs", "")
	f := start(t, map[string]string{"OUTPUT_FORMAT": "lines"})

	raw, resp := invokeFirehose(t, f, ev)
	checkOverBudgetResponse(t, raw, resp, docs)

	got := payloadsIn(t, bucketObjects(t, s3c, "cwlogs-lake"))
	checkReingested(t, got, docs)
}

// TestReingestKinesisSource: with a Kinesis stream source the same records
// go back into that stream (moto's PutRecords takes the stream ARN) with
// their original partition keys.
func TestReingestKinesisSource(t *testing.T) {
	_, _, kc := awsClients(t)
	ctx := t.Context()
	_, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("cwlogs-source"), ShardCount: aws.Int32(1)})
	require.NoError(t, err)
	var arn string
	require.Eventually(t, func() bool {
		out, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("cwlogs-source")})
		if err != nil || out.StreamDescriptionSummary.StreamStatus != kstypes.StreamStatusActive {
			return false
		}
		arn = aws.ToString(out.StreamDescriptionSummary.StreamARN)
		return true
	}, 10*time.Second, 50*time.Millisecond)

	ev, docs := overBudgetEvent(t, "lakestream-cwlogs", arn)
	f := start(t, map[string]string{"OUTPUT_FORMAT": "lines"})
	raw, resp := invokeFirehose(t, f, ev)
	checkOverBudgetResponse(t, raw, resp, docs)

	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: aws.String(arn)})
	require.NoError(t, err)
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamARN: aws.String(arn), ShardId: shards.Shards[0].ShardId, ShardIteratorType: kstypes.ShardIteratorTypeTrimHorizon,
	})
	require.NoError(t, err)
	out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: aws.String(arn), ShardIterator: it.ShardIterator})
	require.NoError(t, err)
	require.Len(t, out.Records, 4)
	var keys []string
	var got []events.CloudwatchLogsData
	for _, r := range out.Records {
		keys = append(keys, aws.ToString(r.PartitionKey))
		d, err := cwlogs.Decode(r.Data, 1<<30)
		require.NoError(t, err)
		got = append(got, d)
	}
	assert.Equal(t, []string{"pk-r3", "pk-r3", "pk-r2", "pk-r4"}, keys, "the original partition keys")
	checkReingested(t, got, docs)
}

// checkReingested: r3 came back as its two halves, r2 and the control
// message r4 as they came.
func checkReingested(t *testing.T, got []events.CloudwatchLogsData, docs map[string]events.CloudwatchLogsData) {
	t.Helper()
	require.Len(t, got, 4, "r3 in two halves, r2 and r4 as they came")
	half := len(docs["r3"].LogEvents) / 2
	assert.Equal(t, docs["r3"].LogEvents[:half], got[0].LogEvents)
	assert.Equal(t, docs["r3"].LogEvents[half:], got[1].LogEvents)
	assert.Equal(t, "/app/r3", got[1].LogGroup)
	assert.Equal(t, docs["r2"], got[2])
	assert.Equal(t, cwlogs.MessageTypeControl, got[3].MessageType)
}

// TestReingestFailureFailsTheInvocation: when the stream to re-ingest into
// does not exist, the invocation fails (Firehose then retries the batch).
func TestReingestFailureFailsTheInvocation(t *testing.T) {
	awsClients(t) // an empty moto: no delivery stream
	ev, _ := overBudgetEvent(t, "no-such-stream", "")
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	_, err = start(t, map[string]string{"OUTPUT_FORMAT": "lines"}).Invoke(t.Context(), raw)
	var fe *lambdarun.FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Error(), "re-ingest")
}

// TestDirectSubscriptionIntoMoto: a direct CloudWatch Logs invocation puts
// the rendered events into DESTINATION_STREAM, which lands them in S3.
func TestDirectSubscriptionIntoMoto(t *testing.T) {
	s3c, fh, _ := awsClients(t)
	env := templateEnv(t)
	createLake(t, s3c, fh, "cwlogs-direct", env["DESTINATION_STREAM"])
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "cwlogs-decompressor", "awslogs.json"))
	require.NoError(t, err)

	out, err := start(t, nil).Invoke(t.Context(), raw)
	require.NoError(t, err)
	var res DirectResult
	require.NoError(t, json.Unmarshal(out, &res))
	assert.Equal(t, DirectResult{MessageType: "DATA_MESSAGE", LogGroup: "/aws/lambda/orders-api", LogEventsIn: 5, LogEventsOut: 5, RecordsPut: 1,
		DeliveryStream: env["DESTINATION_STREAM"]}, res)

	// What landed is what the handler renders in-process.
	var ev Event
	require.NoError(t, json.Unmarshal(raw, &ev))
	h, _, w, _ := testHandler(t, env)
	_, err = h.Handle(context.Background(), ev)
	require.NoError(t, err)
	objects := bucketObjects(t, s3c, "cwlogs-direct")
	require.Len(t, objects, 1)
	require.Len(t, w.entries, 1)
	assert.Equal(t, string(w.entries[0].Data), string(objects[0]))
	assert.Equal(t, 5, strings.Count(string(objects[0]), "\n"))
}

// TestInvokeMatchesInProcess: the sample events answer the same from the
// handler in-process, the real bootstrap under the Runtime API and `make
// invoke`'s command.
func TestInvokeMatchesInProcess(t *testing.T) {
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	bin, err := lambdarun.BuildOnce("cwlogs-decompressor")
	require.NoError(t, err)
	f := start(t, nil)
	for _, name := range []string{"mixed.json", "kinesis-source.json", "control-message.json"} {
		path := filepath.Join(root, "events", "cwlogs-decompressor", name)
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		var ev Event
		require.NoError(t, json.Unmarshal(raw, &ev))
		h, _, _, _ := testHandler(t, templateEnv(t))
		r, err := h.Handle(context.Background(), ev)
		require.NoError(t, err)
		inProcess, err := io.ReadAll(r)
		require.NoError(t, err)

		viaRuntimeAPI, err := f.Invoke(t.Context(), raw)
		require.NoError(t, err)
		assert.JSONEq(t, string(inProcess), string(viaRuntimeAPI), name)

		if name == "mixed.json" {
			cmd := exec.Command("go", "run", "./shared/cmd/invoke", "-fn", "cwlogs-decompressor", "-event", path, "-bin", bin)
			cmd.Dir = root
			viaCommand, err := cmd.Output()
			require.NoError(t, err)
			assert.JSONEq(t, string(inProcess), string(viaCommand))
		}
	}
}

// TestInvalidSettingFailsInit: the real binary reports an init error
// naming every invalid variable.
func TestInvalidSettingFailsInit(t *testing.T) {
	f := start(t, map[string]string{"OUTPUT_FORMAT": "xml", "INCLUDE_PATTERN": "(", "MAX_DECOMPRESSED_BYTES": "0"})
	_, err := f.Invoke(t.Context(), []byte(`{"records":[]}`))
	require.True(t, lambdarun.IsInit(err), "got %v", err)
	assert.Contains(t, err.Error(), `OUTPUT_FORMAT="xml" is invalid`)
	assert.Contains(t, err.Error(), `INCLUDE_PATTERN="(" is invalid`)
	assert.Contains(t, err.Error(), `MAX_DECOMPRESSED_BYTES="0" is invalid`)
}

// TestFull6MBBatchFitsIn128MB runs the real binary, as deployed, on the
// worst 6 MB batch: records decompressing to just under
// MAX_DECOMPRESSED_BYTES (each too large for the response, so split and
// re-ingested), a decompression bomb, then ordinary records filling the
// request to 6 MB, in JSON (the largest output). Its peak resident memory
// (VmHWM) must stay under the 128 MB of the smallest Lambda.
func TestFull6MBBatchFitsIn128MB(t *testing.T) {
	s3c, fh, _ := awsClients(t)
	createLake(t, s3c, fh, "cwlogs-lake", "lakestream-cwlogs")
	ev := events.KinesisFirehoseEvent{
		InvocationID:      "it-6mb",
		DeliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/lakestream-cwlogs",
		Region:            "us-east-1",
	}
	used := 0
	add := func(p []byte) {
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{RecordID: fmt.Sprintf("rec-%04d", len(ev.Records)), Data: p})
		used += (len(p)+2)/3*4 + 64
	}
	for i := range 4 {
		// 7,600 events of 1,000 bytes: about 8,000,000 bytes of JSON, just
		// under the 8 MiB cap.
		_, p := bigPayload(t, fmt.Sprintf("/app/huge-%d", i), 7600, 1000)
		add(p)
	}
	bomb, err := cwlogs.Encode(events.CloudwatchLogsData{MessageType: cwlogs.MessageTypeData, Owner: "1", LogGroup: "g", LogStream: "s",
		LogEvents: []events.CloudwatchLogsLogEvent{{ID: "1", Timestamp: 1, Message: strings.Repeat("A", 20<<20)}}})
	require.NoError(t, err)
	add(bomb)
	for seq := 0; ; seq++ {
		p := benchPayload(t, seq)
		if used+(len(p)+2)/3*4+64 > 6_000_000 {
			break
		}
		add(p)
	}
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	require.Greater(t, len(raw), 5_900_000)
	require.LessOrEqual(t, len(raw), 6*1024*1024, "a Lambda request holds at most 6 MB")

	bin, err := lambdarun.BuildOnce("cwlogs-decompressor")
	require.NoError(t, err)
	f := start(t, map[string]string{"OUTPUT_FORMAT": "json", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"})
	// Twice: a warm function keeps memory for its outputs (the handler's
	// output arena) on top of what the second batch takes.
	first, err := f.Invoke(t.Context(), raw)
	require.NoError(t, err)
	out, err := f.Invoke(t.Context(), raw)
	require.NoError(t, err)
	assert.Equal(t, string(first), string(out), "the same batch, the same response")
	var resp firehose.Response
	require.NoError(t, json.Unmarshal(out, &resp))
	results := map[string]int{}
	for _, r := range resp.Records {
		results[r.Result]++
	}
	assert.Equal(t, 1, results[firehose.ResultProcessingFailed], "the bomb")
	assert.Greater(t, results[firehose.ResultOk], 0)
	assert.Greater(t, results[firehose.ResultDropped], 4, "the huge records and what did not fit were re-ingested")
	assert.LessOrEqual(t, len(out), firehose.DefaultBudget, "within the budget, below Lambda's 6 MB")

	hwm := peakRSS(t, bin)
	t.Logf("request %.2f MB, response %.2f MB, %d records %v, bootstrap peak RSS %.1f MiB",
		float64(len(raw))/1e6, float64(len(out))/1e6, len(ev.Records), results, float64(hwm)/(1<<20))
	assert.Less(t, hwm, int64(128<<20), "peak resident memory")
}

// peakRSS is VmHWM of the running process whose executable is bin.
func peakRSS(t *testing.T, bin string) int64 {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	require.NoError(t, err)
	for _, dir := range dirs {
		if exe, err := os.Readlink(filepath.Join(dir, "exe")); err != nil || exe != bin {
			continue
		}
		status, err := os.Open(filepath.Join(dir, "status"))
		require.NoError(t, err)
		defer status.Close()
		sc := bufio.NewScanner(status)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				require.NoError(t, err)
				return kb << 10
			}
		}
	}
	t.Fatalf("no running process of %s", bin)
	return 0
}

// TestHandlerBuiltAsMainBuildsIt: newHandler wires re-ingestion and the
// direct path from the environment, as main does.
func TestHandlerBuiltAsMainBuildsIt(t *testing.T) {
	awsClients(t)
	cfg, err := moto.Shared(t).Config(t.Context())
	require.NoError(t, err)
	streams, err := streamput.NewClient(cfg, func(string) string { return "" })
	require.NoError(t, err)
	fn := boot.NewFrom(config.FromMap(templateEnv(t)), io.Discard)
	h := newHandler(fn, streams, streams)
	require.NoError(t, fn.Err())
	assert.NotNil(t, h.direct)
	assert.Equal(t, "lakestream-cwlogs-direct", h.stream)

	env := templateEnv(t)
	delete(env, "DESTINATION_STREAM")
	fn = boot.NewFrom(config.FromMap(env), io.Discard)
	assert.Nil(t, newHandler(fn, streams, streams).direct)
}
