package streamput

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/golden"
	"lakestream/shared/retry"
)

// signingTime is the clock of the tests' clients, so their requests are
// the same on every run.
var signingTime = time.Date(2026, 12, 2, 8, 30, 0, 0, time.UTC)

// received is one request as the test server saw it.
type received struct {
	header http.Header
	path   string
	body   []byte
}

// server answers every request with status and body, keeping what it got.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
}

func newServer(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, received{header: r.Header.Clone(), path: r.URL.Path, body: body})
		s.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func newTestClient(t *testing.T, endpoint string, creds aws.Credentials) *Client {
	t.Helper()
	t.Setenv("AWS_XRAY_SDK_DISABLED", "")
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(endpoint), Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return creds, nil
	})}
	c, err := NewClient(cfg, func(string) string { return "" })
	require.NoError(t, err)
	c.now = func() time.Time { return signingTime }
	return c
}

var testCreds = aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", SessionToken: "token"}

// TestRequests: the bodies, targets and signatures of both calls. The
// bodies are golden files, checked to decode with encoding/json to the
// records sent; the signature is checked by signing the received request
// again, so the body the server got is the one that was hashed.
func TestRequests(t *testing.T) {
	records := []Entry{
		{Data: []byte("line one\n"), PartitionKey: "pk-\"1\""},
		{Data: []byte{0, 1, 2, 0xff, 0xfe}, PartitionKey: "pk-2"},
		{Data: []byte{}, PartitionKey: "ключ"},
	}
	// The same records as base64 text (Entry.Encoded), which a request
	// carries as it is: the bodies must be byte for byte the same.
	encoded := make([]Entry, len(records))
	for i, r := range records {
		encoded[i] = Entry{Encoded: []byte(base64.StdEncoding.EncodeToString(r.Data)), PartitionKey: r.PartitionKey}
	}
	tests := map[string]struct {
		call    func(c *Client, records []Entry) ([]Answer, error)
		target  string
		service string
	}{
		"putrecordbatch": {
			call: func(c *Client, records []Entry) ([]Answer, error) {
				return c.PutRecordBatch(context.Background(), "orders-to-lake", records)
			},
			target: "Firehose_20150804.PutRecordBatch", service: "firehose",
		},
		"putrecords": {
			call: func(c *Client, records []Entry) ([]Answer, error) {
				return c.PutRecords(context.Background(), "arn:aws:kinesis:eu-west-1:123456789012:stream/orders", records)
			},
			target: "Kinesis_20131202.PutRecords", service: "kinesis",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
				io.WriteString(w, `{"FailedPutCount":0,"FailedRecordCount":0,"RequestResponses":[{},{},{}],"Records":[{},{},{}]}`)
			})
			answers, err := tc.call(newTestClient(t, srv.URL, testCreds), records)
			require.NoError(t, err)
			assert.Len(t, answers, len(records))
			_, err = tc.call(newTestClient(t, srv.URL, testCreds), encoded)
			require.NoError(t, err)

			require.Len(t, srv.requests, 2)
			got := srv.requests[0]
			assert.Equal(t, string(got.body), string(srv.requests[1].body), "the encoded twins' body")
			assert.Equal(t, "/", got.path)
			assert.Equal(t, tc.target, got.header.Get("X-Amz-Target"))
			assert.Equal(t, "application/x-amz-json-1.1", got.header.Get("Content-Type"))
			assert.Equal(t, "token", got.header.Get("X-Amz-Security-Token"))
			golden.Bytes(t, "testdata/"+name+".golden.json", got.body)

			var decoded struct {
				DeliveryStreamName, StreamARN string
				Records                       []struct {
					Data         []byte
					PartitionKey *string
				}
			}
			require.NoError(t, json.Unmarshal(got.body, &decoded))
			require.Len(t, decoded.Records, len(records))
			for i, r := range decoded.Records {
				assert.Equal(t, records[i].Data, r.Data, "record %d", i)
				if tc.service == "kinesis" {
					assert.Equal(t, records[i].PartitionKey, *r.PartitionKey, "record %d", i)
				} else {
					assert.Nil(t, r.PartitionKey, "Firehose records carry no key")
				}
			}

			auth := got.header.Get("Authorization")
			assert.Contains(t, auth, "Credential=AKIDTEST/20261202/eu-west-1/"+tc.service+"/aws4_request")
			again, err := http.NewRequest(http.MethodPost, srv.URL+"/", nil)
			require.NoError(t, err)
			for _, h := range []string{"Content-Type", "X-Amz-Target", "User-Agent"} {
				again.Header.Set(h, got.header.Get(h))
			}
			again.ContentLength = int64(len(got.body))
			sum := sha256.Sum256(got.body)
			require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), testCreds, again, hex.EncodeToString(sum[:]), tc.service, "eu-west-1", signingTime))
			assert.Equal(t, again.Header.Get("Authorization"), auth, "the signature covers the body sent")
		})
	}
}

// TestAnswers: per-record results, and error answers classified as
// package retry classifies the SDK's.
func TestAnswers(t *testing.T) {
	tests := map[string]struct {
		status  int
		header  map[string]string
		body    string
		answers []Answer
		code    string // the APIError's, when the call fails
		class   retry.Class
	}{
		"all written": {
			status: 200, body: `{"FailedPutCount":0,"Encrypted":false,"RequestResponses":[{"RecordId":"a"},{"RecordId":"b"}]}`,
			answers: []Answer{{}, {}},
		},
		"some rejected": {
			status: 200,
			body: `{"FailedPutCount":1,"RequestResponses":[{"RecordId":"a"},` +
				`{"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."},{"RecordId":null,"ErrorCode":null}]}`,
			answers: []Answer{{}, {ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down."}, {}},
		},
		"fewer answers than records": {
			status: 200, body: `{"RequestResponses":[{"RecordId":"a"}]}`, answers: []Answer{{}},
		},
		"throttled": {
			status: 400, body: `{"__type":"ThrottlingException","message":"Rate exceeded"}`,
			code: "ThrottlingException", class: retry.ClassThrottling,
		},
		"throttled, namespaced type": {
			status: 400, body: `{"__type":"com.amazonaws.kinesis.v20131202#ProvisionedThroughputExceededException","message":"Rate exceeded"}`,
			code: "ProvisionedThroughputExceededException", class: retry.ClassThrottling,
		},
		"service unavailable in the header": {
			status: 400, header: map[string]string{"X-Amzn-ErrorType": "ServiceUnavailableException:http://internal.amazon.com/coral/"},
			body: `{"Message":"Slow down."}`, code: "ServiceUnavailableException", class: retry.ClassRetryable,
		},
		"not found": {
			status: 400, body: `{"__type":"ResourceNotFoundException","message":"Firehose s under account 123456789012 not found."}`,
			code: "ResourceNotFoundException", class: retry.ClassPermanent,
		},
		"internal failure": {
			status: 500, body: `{"__type":"InternalFailure"}`, code: "InternalFailure", class: retry.ClassRetryable,
		},
		"bare 503": {
			status: 503, body: `<html>Service Unavailable</html>`, code: "HTTP 503", class: retry.ClassRetryable,
		},
		"bare 429": {
			status: 429, body: ``, code: "HTTP 429", class: retry.ClassThrottling,
		},
		"bare 403": {
			status: 403, body: `{"message":"The security token included in the request is invalid."}`, code: "HTTP 403", class: retry.ClassPermanent,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("X-Amzn-RequestId", "req-1")
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			c := newTestClient(t, srv.URL, testCreds)
			answers, err := c.PutRecordBatch(context.Background(), "s", entries(3))
			if tc.code == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.answers, answers)
				return
			}
			require.Error(t, err)
			var api *APIError
			require.ErrorAs(t, err, &api)
			assert.Equal(t, tc.code, api.ErrorCode())
			assert.Equal(t, tc.status, api.HTTPStatusCode())
			assert.Equal(t, "req-1", api.RequestID)
			assert.Equal(t, tc.class, retry.Classify(err), "class of %v", err)
			assert.Contains(t, err.Error(), "Firehose PutRecordBatch")
		})
	}
}

func entries(n int) []Entry {
	out := make([]Entry, n)
	for i := range out {
		out[i] = Entry{Data: []byte("x")}
	}
	return out
}

// TestLostResponse: a connection closed before the answer is a retryable
// error (the records may or may not have been written), and a context the
// caller cancelled is not.
func TestLostResponse(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	c := newTestClient(t, srv.URL, testCreds)
	_, err := c.PutRecordBatch(context.Background(), "s", entries(1))
	require.Error(t, err)
	assert.Equal(t, retry.ClassRetryable, retry.Classify(err), "%v", err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.PutRecordBatch(ctx, "s", entries(1))
	require.Error(t, err)
	assert.Equal(t, retry.ClassPermanent, retry.Classify(err), "%v", err)
}

// TestMalformedAnswer: a 200 whose body is not the answer fails the call
// (retryable: the records' fate is unknown) rather than counting them
// written.
func TestMalformedAnswer(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"RequestResponses":[{"RecordId":`) })
	c := newTestClient(t, srv.URL, testCreds)
	_, err := c.PutRecordBatch(context.Background(), "s", entries(1))
	require.ErrorContains(t, err, "read the answer")
	assert.Equal(t, retry.ClassRetryable, retry.Classify(err))
}

// TestTraced: a call made in a sampled invocation carries the trace
// downstream and sends its subsegment to the daemon.
func TestTraced(t *testing.T) {
	daemon, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { daemon.Close() })
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", daemon.LocalAddr().String())
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Amzn-RequestId", "req-7")
		w.WriteHeader(400)
		io.WriteString(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
	})
	c := newTestClient(t, srv.URL, testCreds)

	const root = "1-5759e988-bd862e3fe1be46a994272793"
	ctx := context.WithValue(context.Background(), "x-amzn-trace-id", "Root="+root+";Parent=53995c3f42cd8ad8;Sampled=1") //nolint:staticcheck // aws-lambda-go's own key
	_, err = c.PutRecords(ctx, "arn:aws:kinesis:eu-west-1:123456789012:stream/orders", entries(1))
	require.Error(t, err)
	require.Len(t, srv.requests, 1)
	assert.Contains(t, srv.requests[0].header.Get("X-Amzn-Trace-Id"), "Root="+root)

	buf := make([]byte, 64<<10)
	require.NoError(t, daemon.SetReadDeadline(time.Now().Add(5*time.Second)))
	n, err := daemon.Read(buf)
	require.NoError(t, err)
	_, body, _ := strings.Cut(string(buf[:n]), "\n")
	var doc struct {
		Name     string `json:"name"`
		ParentID string `json:"parent_id"`
		Throttle bool   `json:"throttle"`
		AWS      struct {
			Operation string `json:"operation"`
			RequestID string `json:"request_id"`
			Region    string `json:"region"`
		} `json:"aws"`
		HTTP struct {
			Response struct {
				Status int `json:"status"`
			} `json:"response"`
		} `json:"http"`
		Cause struct {
			Exceptions []struct {
				Type string `json:"type"`
			} `json:"exceptions"`
		} `json:"cause"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc), body)
	assert.Equal(t, "Kinesis", doc.Name)
	assert.Equal(t, "53995c3f42cd8ad8", doc.ParentID)
	assert.Equal(t, "PutRecords", doc.AWS.Operation)
	assert.Equal(t, "req-7", doc.AWS.RequestID)
	assert.Equal(t, "eu-west-1", doc.AWS.Region)
	assert.Equal(t, 400, doc.HTTP.Response.Status)
	assert.True(t, doc.Throttle)
	require.Len(t, doc.Cause.Exceptions, 1)
	assert.Equal(t, "ThrottlingException", doc.Cause.Exceptions[0].Type)
}

// TestEndpoints: where each call goes when no endpoint is configured, as
// the SDK's endpoint rules resolve it.
func TestEndpoints(t *testing.T) {
	tests := map[string]struct {
		region, arn string
		firehose    string
		kinesis     string
		err         string
	}{
		"commercial": {
			region: "eu-west-1", arn: "arn:aws:kinesis:eu-west-1:123456789012:stream/orders",
			firehose: "https://firehose.eu-west-1.amazonaws.com", kinesis: "https://123456789012.data-kinesis.eu-west-1.amazonaws.com",
		},
		"china": {
			region: "cn-north-1", arn: "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/orders",
			firehose: "https://firehose.cn-north-1.amazonaws.com.cn", kinesis: "https://123456789012.data-kinesis.cn-north-1.amazonaws.com.cn",
		},
		"govcloud": {
			region: "us-gov-west-1", arn: "arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/orders",
			firehose: "https://firehose.us-gov-west-1.amazonaws.com", kinesis: "https://123456789012.data-kinesis.us-gov-west-1.amazonaws.com",
		},
		"iso":             {region: "us-iso-east-1", arn: "arn:aws-iso:kinesis:us-iso-east-1:123456789012:stream/o", err: "set AWS_ENDPOINT_URL_FIREHOSE"},
		"not a stream":    {region: "eu-west-1", arn: "arn:aws:firehose:eu-west-1:123456789012:deliverystream/o", err: "not a Kinesis stream ARN"},
		"bad account":     {region: "eu-west-1", arn: "arn:aws:kinesis:eu-west-1:evil.example.com/x:stream/o", err: "not a Kinesis stream ARN"},
		"other region":    {region: "eu-west-1", arn: "arn:aws:kinesis:us-east-1:123456789012:stream/o", err: "is in region us-east-1"},
		"not an ARN":      {region: "eu-west-1", arn: "orders", err: "not a Kinesis stream ARN"},
		"short account":   {region: "eu-west-1", arn: "arn:aws:kinesis:eu-west-1:1234:stream/o", err: "not a Kinesis stream ARN"},
		"no stream name":  {region: "eu-west-1", arn: "arn:aws:kinesis:eu-west-1:123456789012:consumer/o", err: "not a Kinesis stream ARN"},
		"region mismatch": {region: "cn-north-1", arn: "arn:aws-cn:kinesis:cn-northwest-1:123456789012:stream/o", err: "is in region cn-northwest-1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fh, ferr := firehoseEndpoint(tc.region)
			ks, kerr := kinesisEndpoint(tc.region, tc.arn)
			if tc.err != "" {
				err := kerr
				if err == nil {
					err = ferr
				}
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, ferr)
			require.NoError(t, kerr)
			assert.Equal(t, tc.firehose, fh)
			assert.Equal(t, tc.kinesis, ks)
		})
	}
}

// TestEndpointVariables: the service-specific variable wins over
// AWS_ENDPOINT_URL, as in the SDK.
func TestEndpointVariables(t *testing.T) {
	general := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"RequestResponses":[{}],"Records":[{}]}`)
	})
	own := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"RequestResponses":[{}],"Records":[{}]}`)
	})
	env := map[string]string{"AWS_ENDPOINT_URL_KINESIS": own.URL + "/"}
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(general.URL), Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return testCreds, nil
	})}
	c, err := NewClient(cfg, func(k string) string { return env[k] })
	require.NoError(t, err)
	_, err = c.PutRecordBatch(context.Background(), "s", entries(1))
	require.NoError(t, err)
	_, err = c.PutRecords(context.Background(), "arn:aws:kinesis:eu-west-1:123456789012:stream/orders", entries(1))
	require.NoError(t, err)
	assert.Len(t, general.requests, 1)
	require.Len(t, own.requests, 1)
	assert.Equal(t, "/", own.requests[0].path)
}

// TestNewClientNeeds: a region and credentials.
func TestNewClientNeeds(t *testing.T) {
	_, err := NewClient(aws.Config{Credentials: aws.AnonymousCredentials{}}, func(string) string { return "" })
	assert.ErrorContains(t, err, "no AWS region")
	_, err = NewClient(aws.Config{Region: "eu-west-1"}, func(string) string { return "" })
	assert.ErrorContains(t, err, "no AWS credentials")
}

// FuzzReadAnswers: for any answer text, readAnswers agrees with
// encoding/json reading the same members, or both reject the text.
func FuzzReadAnswers(f *testing.F) {
	for _, s := range []string{
		`{"FailedPutCount":0,"RequestResponses":[{"RecordId":"a"},{"ErrorCode":"X","ErrorMessage":"m\u00e9"}]}`,
		`{"RequestResponses":[{"ErrorCode":null}],"RequestResponses":[]}`,
		`{"Records":[{"SequenceNumber":"1","ShardId":"s"}]}`,
		`{"RequestResponses":[1]}`, `[]`, `null`, `{"RequestResponses":null}`, `{}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := readAnswers(data, "RequestResponses")
		var top map[string]json.RawMessage
		if json.Unmarshal(data, &top) != nil {
			// encoding/json rejects it: the text is not JSON, or not an
			// object (null decodes to an empty map, which reads no answers).
			if err == nil && !json.Valid(data) {
				t.Fatalf("readAnswers accepted invalid JSON %q", data)
			}
			return
		}
		want, ok := jsonAnswers(top["RequestResponses"])
		if !ok {
			if err == nil && string(top["RequestResponses"]) != "" && string(top["RequestResponses"]) != "null" {
				t.Fatalf("readAnswers accepted %q, encoding/json finds no answer list", data)
			}
			return
		}
		if err != nil {
			t.Fatalf("readAnswers rejected %q: %v", data, err)
		}
		assert.Equal(t, want, got, "%q", data)
	})
}

// jsonAnswers reads an answer list the way readAnswers should, with
// encoding/json: an array of objects whose ErrorCode and ErrorMessage are
// strings or null, keys matched exactly.
func jsonAnswers(raw json.RawMessage) ([]Answer, bool) {
	var list []map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &list) != nil || list == nil {
		return nil, false
	}
	if len(list) == 0 {
		return nil, true
	}
	out := make([]Answer, len(list))
	for i, m := range list {
		if m == nil {
			return nil, false
		}
		for key, dst := range map[string]*string{"ErrorCode": &out[i].ErrorCode, "ErrorMessage": &out[i].ErrorMessage} {
			v, present := m[key]
			if !present || string(v) == "null" {
				continue
			}
			if json.Unmarshal(v, dst) != nil {
				return nil, false
			}
		}
	}
	return out, true
}
