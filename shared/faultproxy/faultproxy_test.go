package faultproxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// upstream is a fake emulator that counts the calls that reach it.
func upstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, `{"FailedPutCount":0,"RequestResponses":[{"RecordId":"r1"}]}`) //nolint:errcheck
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func start(t *testing.T, target string, seed uint64) *Proxy {
	p, err := Start(target, seed)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

func post(t *testing.T, url, target string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(`{}`))
	require.NoError(t, err)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	return http.DefaultClient.Do(req)
}

func TestFaults(t *testing.T) {
	tests := map[string]struct {
		rates      Rates
		target     string
		wantStatus int // 0: no response at all
		wantBody   string
		wantFwd    int64
	}{
		"untouched":                {target: "Firehose_20150804.PutRecordBatch", wantStatus: 200, wantBody: "RequestResponses", wantFwd: 1},
		"JSON throttled":           {rates: Rates{Throttle: 1}, target: "AWSGlue.StartJobRun", wantStatus: 400, wantBody: `"__type":"ThrottlingException"`},
		"Kinesis throttled":        {rates: Rates{Throttle: 1}, target: "Kinesis_20131202.PutRecords", wantStatus: 400, wantBody: "ProvisionedThroughputExceededException"},
		"S3 throttled":             {rates: Rates{Throttle: 1}, wantStatus: 503, wantBody: "<Code>SlowDown</Code>"},
		"server error":             {rates: Rates{ServerError: 1}, target: "AWSGlue.StartJobRun", wantStatus: 500, wantBody: "InternalFailure"},
		"dropped after forwarding": {rates: Rates{DropResponse: 1}, target: "AWSGlue.StartJobRun", wantFwd: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			up, forwarded := upstream(t)
			p := start(t, up.URL, 1)
			p.SetRates(tc.rates)
			resp, err := post(t, p.URL, tc.target)
			if tc.wantStatus == 0 {
				require.Error(t, err, "a dropped response closes the connection")
			} else {
				require.NoError(t, err)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, tc.wantStatus, resp.StatusCode)
				assert.Contains(t, string(b), tc.wantBody)
			}
			assert.Equal(t, tc.wantFwd, forwarded.Load(), "calls that reached the emulator")
			require.Len(t, p.Calls(), 1)
		})
	}
}

// TestRatesAndSeed: the rates hold over many calls, and the same seed
// gives the same faults in the same order.
func TestRatesAndSeed(t *testing.T) {
	run := func(seed uint64) []Call {
		up, _ := upstream(t)
		p := start(t, up.URL, seed)
		p.SetRates(Rates{Throttle: 0.3, ServerError: 0.05, DropResponse: 0.05})
		for range 2000 {
			if resp, err := post(t, p.URL, "AWSGlue.GetJobRuns"); err == nil {
				io.Copy(io.Discard, resp.Body) //nolint:errcheck
				resp.Body.Close()
			}
		}
		return p.Calls()
	}
	a, b := run(7), run(7)
	assert.Equal(t, a, b, "same seed, same faults")
	count := map[Fault]int{}
	for _, c := range a {
		count[c.Fault]++
	}
	assert.InDelta(t, 600, count[Throttled], 90)
	assert.InDelta(t, 100, count[ServerError], 40)
	assert.InDelta(t, 100, count[Dropped], 40)
	assert.NotEqual(t, a, run(8), "another seed, other faults")
}

func TestOnly(t *testing.T) {
	up, forwarded := upstream(t)
	p := start(t, up.URL, 1)
	p.SetRates(Rates{Throttle: 1})
	p.Only(func(op string) bool { return op == "AWSGlue.StartJobRun" })
	resp, err := post(t, p.URL, "AWSGlue.GetJobRuns")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, int64(1), forwarded.Load())
	assert.Equal(t, []Call{{Operation: "AWSGlue.GetJobRuns", Fault: None}}, p.Calls())
}

// TestSDKRetriesEveryFault: the SDK reads each injected fault as one it
// retries, so what the proxy does is what AWS does, not a new kind of error.
func TestSDKRetriesEveryFault(t *testing.T) {
	for _, rates := range []Rates{{Throttle: 1}, {ServerError: 1}, {DropResponse: 1}} {
		up, forwarded := upstream(t)
		p := start(t, up.URL, 1)
		p.SetRates(rates)
		client := firehose.New(firehose.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(p.URL),
			Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
			Retryer:      retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 3; o.Backoff = noBackoff{} }),
		})
		_, err := client.PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{
			DeliveryStreamName: aws.String("s"), Records: []types.Record{{Data: []byte("x")}},
		})
		require.Error(t, err)
		assert.Len(t, p.Calls(), 3, "%+v: the SDK retried it", rates)
		if rates.DropResponse > 0 {
			assert.Equal(t, int64(3), forwarded.Load(), "each dropped call took effect")
		}
	}
}

func TestS3Operation(t *testing.T) {
	up, _ := upstream(t)
	p := start(t, up.URL, 1)
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(p.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
	client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k/1")}) //nolint:errcheck // only the call's name matters
	require.Len(t, p.Calls(), 1)
	assert.Equal(t, "S3 HEAD /b/k/1", p.Calls()[0].Operation)
}

type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }
