package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/faultproxy"
	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

// rates are issue 12's: 30% of calls throttled, 5% failed with HTTP 500,
// 5% forwarded and then their answer lost.
var rates = faultproxy.Rates{Throttle: 0.3, ServerError: 0.05, DropResponse: 0.05}

// seed makes the faults repeatable (the order of a function's concurrent
// calls may still differ from run to run).
const seed = 12

// account is what became of one function's input under faults.
type account struct {
	Function string
	// In counts the records, objects or events given to the function;
	// each ends Delivered (and not reported failed), Failed (reported
	// failed, for the trigger to retry: a batch item failure,
	// ProcessingFailed, an invocation that failed every retry) or Lost.
	In, Delivered, Failed, Lost int
	// Duplicates counts copies beyond the first that reached the
	// destination (a retry of a call whose answer was lost, a batch the
	// trigger retried); for glue-job-trigger, runs started twice.
	Duplicates int
	// The function's AWS calls the proxy saw, and the faults among them.
	Calls, Throttled, ServerErrors, DroppedAnswers int
}

// TestFaults runs each AWS-calling function's binary through the fault
// proxy and checks its accounting: everything that came in is delivered or
// reported failed, nothing is lost. The table it logs is the README's.
func TestFaults(t *testing.T) {
	var table []account
	for i, c := range []struct {
		name string
		run  func(t *testing.T, e *env) account
	}{
		{"ddb-stream-forwarder", runForwarder},
		{"cwlogs-decompressor (Direct PUT)", func(t *testing.T, e *env) account { return runDecompressor(t, e, false) }},
		{"cwlogs-decompressor (Kinesis source)", func(t *testing.T, e *env) account { return runDecompressor(t, e, true) }},
		{"s3-redistributor (copy)", func(t *testing.T, e *env) account { return runRedistributor(t, e, false) }},
		{"s3-redistributor (move)", func(t *testing.T, e *env) account { return runRedistributor(t, e, true) }},
		{"glue-job-trigger", runTrigger},
		{"glue-catalog-fixer", runFixer},
		{"s3-log-forwarder", runLogForwarder},
		{"replay firehose (the command, run twice)", runReplay},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			e := newEnv(t, seed+uint64(i))
			a := c.run(t, e)
			a.Function = c.name
			for _, call := range e.proxy.Calls() {
				a.Calls++
				switch call.Fault {
				case faultproxy.Throttled:
					a.Throttled++
				case faultproxy.ServerError:
					a.ServerErrors++
				case faultproxy.Dropped:
					a.DroppedAnswers++
				}
			}
			assert.Zero(t, a.Lost, "nothing is lost")
			assert.Equal(t, a.In, a.Delivered+a.Failed+a.Lost, "every input is accounted for once")
			assert.Positive(t, a.Throttled+a.ServerErrors+a.DroppedAnswers, "the proxy injected faults")
			t.Logf("%s: %+v in %s", c.name, a, time.Since(start).Round(time.Millisecond))
			table = append(table, a)
		})
	}
	t.Log("\n" + render(table))
}

// render is the accounting table, as the README shows it.
func render(table []account) string {
	var b strings.Builder
	b.WriteString("| function | in | delivered | reported failed | lost | duplicates | AWS calls | throttled | HTTP 500 | answers dropped |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, a := range table {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d |\n",
			a.Function, a.In, a.Delivered, a.Failed, a.Lost, a.Duplicates, a.Calls, a.Throttled, a.ServerErrors, a.DroppedAnswers)
	}
	return b.String()
}

// env is one function's run: moto emptied, a fault proxy in front of it,
// and an aws.Config that reaches moto directly, for set-up and checks.
type env struct {
	t     *testing.T
	proxy *faultproxy.Proxy
	cfg   aws.Config
}

func newEnv(t *testing.T, seed uint64) *env {
	t.Helper()
	srv := moto.Shared(t)
	require.NoError(t, srv.Reset())
	cfg, err := srv.Config(t.Context())
	require.NoError(t, err)
	proxy, err := faultproxy.Start(srv.Endpoint, seed)
	require.NoError(t, err)
	t.Cleanup(func() { proxy.Close() })
	proxy.SetRates(rates)
	return &env{t: t, proxy: proxy, cfg: cfg}
}

// start runs a function's real binary with the template's environment,
// its AWS calls sent through the proxy, plus overrides. Its log is shown
// when the test fails.
func (e *env) start(name string, overrides map[string]string) *lambdarun.Function {
	e.t.Helper()
	logs := &tail{}
	f, err := lambdarun.StartRepoFunction(name, lambdarun.Options{Stdout: logs, Stderr: logs},
		moto.Shared(e.t).Env(), map[string]string{"AWS_ENDPOINT_URL": e.proxy.URL}, overrides)
	require.NoError(e.t, err)
	e.t.Cleanup(func() {
		f.Stop()
		if e.t.Failed() {
			e.t.Logf("%s log (last %d bytes):\n%s", name, tailBytes, logs.String())
		}
	})
	return f
}

// deliveryStream creates a Direct PUT delivery stream delivering into
// bucket under prefix, and the bucket.
func (e *env) deliveryStream(name, bucket, prefix string) {
	e.t.Helper()
	ctx := e.t.Context()
	_, err := e.s3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(e.t, err)
	_, err = firehose.NewFromConfig(e.cfg).CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::123456789012:role/firehose"), BucketARN: aws.String("arn:aws:s3:::" + bucket), Prefix: aws.String(prefix),
		},
	})
	require.NoError(e.t, err)
}

// announce invokes f with the S3 notifications of n objects of bucket
// (object i is key(i), of size(i) bytes), in SQS batches of batch
// messages (message i is messageID(i)), and returns the ids of the
// messages answered as batch item failures.
func announce(t *testing.T, f *lambdarun.Function, bucket string, n, batch int, key func(int) string, size func(int) int) map[string]bool {
	t.Helper()
	failed := map[string]bool{}
	for start := 0; start < n; start += batch {
		var ev events.SQSEvent
		for i := start; i < min(start+batch, n); i++ {
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId: messageID(i), EventSource: "aws:sqs", AWSRegion: "us-east-1",
				EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:" + bucket + "-events",
				Body:           fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2024-05-01T13:59:59Z","s3":{"bucket":{"name":%q},"object":{"key":%q,"size":%d}}}]}`, bucket, key(i), size(i)),
			})
		}
		raw, err := json.Marshal(ev)
		require.NoError(t, err)
		out, err := f.Invoke(t.Context(), raw)
		require.NoError(t, err, "an SQS batch is answered with its failures, not failed")
		var resp events.SQSEventResponse
		require.NoError(t, json.Unmarshal(out, &resp), "%s", out)
		for _, item := range resp.BatchItemFailures {
			failed[item.ItemIdentifier] = true
		}
	}
	return failed
}

// asyncAttempts is how often Lambda runs an asynchronous invocation
// (EventBridge, S3) that fails: once and two retries.
const asyncAttempts = 3

// invokeAsync invokes f with event as Lambda does an asynchronous
// invocation: until one attempt succeeds, asyncAttempts at most. False
// means every attempt failed, and the event is dead-lettered.
func invokeAsync(ctx context.Context, f *lambdarun.Function, event []byte) bool {
	for range asyncAttempts {
		if _, err := f.Invoke(ctx, event); err == nil {
			return true
		}
	}
	return false
}

func messageID(i int) string { return fmt.Sprintf("message-%02d", i) }

// s3 is an S3 client for moto, direct.
func (e *env) s3() *s3.Client {
	return s3.NewFromConfig(e.cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}

// objects returns the bodies of the objects under prefix, by key.
func (e *env) objects(bucket, prefix string) map[string][]byte {
	e.t.Helper()
	s3c := e.s3()
	out := map[string][]byte{}
	pages := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(e.t.Context())
		require.NoError(e.t, err)
		for _, o := range page.Contents {
			got, err := s3c.GetObject(e.t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			require.NoError(e.t, err)
			b, err := io.ReadAll(got.Body)
			got.Body.Close()
			require.NoError(e.t, err)
			out[aws.ToString(o.Key)] = b
		}
	}
	return out
}

// tailBytes is how much of a function's log a failing test shows.
const tailBytes = 8 << 10

// tail keeps the last tailBytes written to it.
type tail struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if over := w.buf.Len() - tailBytes; over > 0 {
		w.buf.Next(over)
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
