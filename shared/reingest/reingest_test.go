package reingest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/firehose"
	"lakestream/shared/retry"
)

type reingesterFunc func(ctx context.Context, ev events.KinesisFirehoseEvent, payloads []firehose.Reingest) error

func (f reingesterFunc) Reingest(ctx context.Context, ev events.KinesisFirehoseEvent, payloads []firehose.Reingest) error {
	return f(ctx, ev, payloads)
}

// TestLazyBuildsOnFirstUse: nothing is built until payloads come; a
// failed build fails that call and is tried again; a built re-ingester is
// kept, also under concurrent calls.
func TestLazyBuildsOnFirstUse(t *testing.T) {
	builds, calls := 0, 0
	var mu sync.Mutex
	fail := true
	l := NewFunc(func(context.Context) (firehose.Reingester, error) {
		builds++
		if fail {
			return nil, errors.New("no credentials")
		}
		return reingesterFunc(func(context.Context, events.KinesisFirehoseEvent, []firehose.Reingest) error {
			mu.Lock()
			calls++
			mu.Unlock()
			return nil
		}), nil
	})
	assert.Zero(t, builds)
	ctx := context.Background()
	assert.ErrorContains(t, l.Reingest(ctx, events.KinesisFirehoseEvent{}, nil), "no credentials")
	assert.Equal(t, 1, builds)

	fail = false
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { assert.NoError(t, l.Reingest(ctx, events.KinesisFirehoseEvent{}, nil)) })
	}
	wg.Wait()
	assert.Equal(t, 2, builds, "built once more, then kept")
	assert.Equal(t, 8, calls)
}

func TestConfig(t *testing.T) {
	creds := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"}
	with := func(extra map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range creds {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	tests := map[string]struct {
		env        map[string]string
		wantRegion string
		wantEP     string
		wantErr    string
	}{
		"lambda":              {env: with(map[string]string{"AWS_REGION": "eu-west-1"}), wantRegion: "eu-west-1"},
		"default region":      {env: with(map[string]string{"AWS_DEFAULT_REGION": "eu-west-2"}), wantRegion: "eu-west-2"},
		"emulator":            {env: with(map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}), wantRegion: "us-east-1", wantEP: "http://127.0.0.1:5000"},
		"no region":           {env: creds, wantErr: "AWS_REGION is unset"},
		"no credentials":      {env: map[string]string{"AWS_REGION": "us-east-1"}, wantErr: "AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is unset"},
		"half of credentials": {env: map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID"}, wantErr: "AWS_SECRET_ACCESS_KEY is unset"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := Config(config.FromMap(tc.env))
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantRegion, cfg.Region)
			if tc.wantEP == "" {
				assert.Nil(t, cfg.BaseEndpoint)
			} else {
				assert.Equal(t, tc.wantEP, *cfg.BaseEndpoint)
			}
			got, err := cfg.Credentials.Retrieve(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "AKID", got.AccessKeyID)
			assert.Equal(t, "secret", got.SecretAccessKey)
			assert.Equal(t, tc.env["AWS_SESSION_TOKEN"], got.SessionToken)
		})
	}
}

// TestNew: the clients New builds from the environment sign their calls
// with the environment's credentials and send them to AWS_ENDPOINT_URL, or
// to the service's own AWS_ENDPOINT_URL_<SERVICE>; each call of a traced
// invocation is an X-Ray subsegment sent to AWS_XRAY_DAEMON_ADDRESS.
func TestNew(t *testing.T) {
	type call struct{ target, auth, body, trace string }
	serve := func(calls *[]call) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			*calls = append(*calls, call{r.Header.Get("X-Amz-Target"), r.Header.Get("Authorization"), string(body), r.Header.Get("X-Amzn-Trace-Id")})
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			switch {
			case strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutRecordBatch"):
				io.WriteString(w, `{"FailedPutCount":0,"RequestResponses":[{"RecordId":"1"}]}`)
			default:
				io.WriteString(w, `{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-0"}]}`)
			}
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	var general, own []call
	srv, kinesisSrv := serve(&general), serve(&own)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_ENDPOINT_URL_FIREHOSE", "")
	t.Setenv("AWS_ENDPOINT_URL_KINESIS", kinesisSrv.URL)
	daemon, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { daemon.Close() })
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", daemon.LocalAddr().String())
	t.Setenv("AWS_XRAY_SDK_DISABLED", "")

	l := New(retry.Policy{MaxAttempts: 1})
	const root = "1-5759e988-bd862e3fe1be46a994272793"
	ctx := context.WithValue(context.Background(), "x-amzn-trace-id", "Root="+root+";Parent=53995c3f42cd8ad8;Sampled=1") //nolint:staticcheck // aws-lambda-go's own key
	payloads := []firehose.Reingest{{Data: []byte("line\n"), PartitionKey: "pk"}}
	require.NoError(t, l.Reingest(ctx, events.KinesisFirehoseEvent{DeliveryStreamArn: "arn:aws:firehose:eu-west-1:123456789012:deliverystream/s"}, payloads))
	require.NoError(t, l.Reingest(ctx, events.KinesisFirehoseEvent{
		DeliveryStreamArn:      "arn:aws:firehose:eu-west-1:123456789012:deliverystream/s",
		SourceKinesisStreamArn: "arn:aws:kinesis:eu-west-1:123456789012:stream/k",
	}, payloads))

	require.Len(t, general, 1)
	assert.Equal(t, "Firehose_20150804.PutRecordBatch", general[0].target)
	assert.Contains(t, general[0].auth, "Credential=AKIDTEST/", "signed with the environment's credentials")
	assert.Contains(t, general[0].auth, "/eu-west-1/firehose/aws4_request")
	var batch struct {
		DeliveryStreamName string
		Records            []struct{ Data []byte }
	}
	require.NoError(t, json.Unmarshal([]byte(general[0].body), &batch))
	assert.Equal(t, "s", batch.DeliveryStreamName)
	assert.Equal(t, "line\n", string(batch.Records[0].Data))

	require.Len(t, own, 1, "Kinesis at its own endpoint")
	assert.Equal(t, "Kinesis_20131202.PutRecords", own[0].target)
	assert.Contains(t, own[0].body, `"PartitionKey":"pk"`)

	for _, c := range []call{general[0], own[0]} {
		assert.Contains(t, c.trace, "Root="+root, "%s carries the invocation's trace", c.target)
	}
	var services []string
	buf := make([]byte, 64<<10)
	for range 2 {
		require.NoError(t, daemon.SetReadDeadline(time.Now().Add(5*time.Second)))
		n, err := daemon.Read(buf)
		require.NoError(t, err, "a subsegment per call reaches the daemon")
		_, body, _ := strings.Cut(string(buf[:n]), "\n")
		var doc struct {
			Name string `json:"name"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &doc), body)
		services = append(services, doc.Name)
		assert.Contains(t, body, `"trace_id":"`+root+`"`)
	}
	assert.ElementsMatch(t, []string{"Firehose", "Kinesis"}, services)
}
