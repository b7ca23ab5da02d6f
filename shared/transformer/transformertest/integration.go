package transformertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/awsclient"
	"lakestream/shared/firehose"
	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

// Prefix is the S3 prefix of the delivery stream Integration plays, after
// the function's name: Hive-style folders from the partition keys the
// function returns, as README.md tells a deployment to configure it.
const Prefix = "year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/" +
	"day=!{partitionKeyFromLambda:day}/hour=!{partitionKeyFromLambda:hour}/"

// lambdaKey is how a prefix refers to a partition key the Lambda returned.
const lambdaKey = "!{partitionKeyFromLambda:"

// Delivered is what Integration found in S3: for each partition folder
// (the resolved Prefix), the lines of the objects that landed under it.
type Delivered map[string][]string

// Integration is the end-to-end test of a transformer. It builds the real
// bootstrap of functions/<function>, invokes it under the local Runtime API
// with the template's environment on events/<function>/<event>, and checks
// that it answers exactly as the handler newHandler builds in-process. Then
// it plays Firehose against moto, which neither calls a transformation
// Lambda nor partitions: the Ok records are grouped by the S3 prefix their
// partition keys resolve Prefix to, each group is put into a Direct PUT
// delivery stream writing under that prefix, and every line must land in
// S3 under its partition, none elsewhere. It returns the decoded response
// and what landed. moto is the test process's shared server (moto.Shared),
// reset: the calling package's TestMain must be moto.Main.
func Integration(t *testing.T, function, event string, newHandler NewHandler) (*firehose.Response, Delivered) {
	t.Helper()
	ctx := t.Context()
	srv := moto.Shared(t)
	require.NoError(t, srv.Reset())
	env := Env(t, function, srv.Env())
	raw := Event(t, function, event)

	bin := Binary(t, function)
	var logs bytes.Buffer
	f, err := lambdarun.Start(lambdarun.Options{Binary: bin, Env: env, Stdout: &logs, Stderr: &logs})
	require.NoError(t, err)
	got, err := f.Invoke(ctx, raw)
	f.Stop() // waits for the process, so logs is complete
	require.NoError(t, err, "function output:\n%s", logs.String())

	h, _ := Build(t, newHandler, env)
	want, err := h.Invoke(ctx, raw)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "the real binary answers as the handler in-process, byte for byte")
	assert.Equal(t, 1, strings.Count(logs.String(), `"msg":"invocation done"`), "one summary line:\n%s", logs.String())
	assert.Contains(t, logs.String(), `"LinesWritten":`, "line counts are emitted as EMF")

	var resp firehose.Response
	require.NoError(t, json.Unmarshal(got, &resp))
	ev := Decode(t, raw)
	require.Len(t, resp.Records, len(ev.Records), "one response record per input record")
	for i := range ev.Records {
		require.Equal(t, ev.Records[i].RecordID, resp.Records[i].RecordID)
	}
	return &resp, deliver(t, srv, function, &resp)
}

// Binary returns the real bootstrap of functions/<function> from the
// repository's build cache (lambdarun.BuildOnce), built once per source state.
func Binary(t testing.TB, function string) string {
	t.Helper()
	bin, err := lambdarun.BuildOnce(function)
	require.NoError(t, err)
	return bin
}

// InitFails starts the real bootstrap with env and checks that it reports
// an init error containing each of want (the variables it names) instead
// of serving the invocation.
func InitFails(t *testing.T, function string, env map[string]string, want ...string) {
	t.Helper()
	f, err := lambdarun.Start(lambdarun.Options{Binary: Binary(t, function), Env: env})
	require.NoError(t, err)
	defer f.Stop()
	_, err = f.Invoke(t.Context(), []byte(`{"records":[]}`))
	require.True(t, lambdarun.IsInit(err), "want an init error, got %v", err)
	for _, w := range want {
		assert.Contains(t, err.Error(), w)
	}
}

// deliver puts the Ok records into delivery streams, one per resolved
// prefix, and reads back what landed.
func deliver(t *testing.T, srv *moto.Server, function string, resp *firehose.Response) Delivered {
	t.Helper()
	ctx := t.Context()
	cfg, err := srv.Config(ctx)
	require.NoError(t, err)
	s3c := s3.NewFromConfig(cfg, awsclient.S3PathStyle, func(o *s3.Options) {
		o.DisableLogOutputChecksumValidationSkipped = true // moto sends no checksums
	})
	fh := sdkfirehose.NewFromConfig(cfg)
	streams, err := streamput.NewClient(cfg, func(string) string { return "" })
	require.NoError(t, err)
	const bucket = "lake"
	_, err = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)

	sent := map[string][]streamput.Entry{}
	for _, r := range resp.Records {
		if r.Result != firehose.ResultOk || len(r.Data) == 0 {
			continue
		}
		prefix, err := ResolvePrefix(Prefix, r.PartitionKeys)
		require.NoError(t, err, "record %s", r.RecordID)
		prefix = function + "/" + prefix
		sent[prefix] = append(sent[prefix], streamput.Entry{Data: r.Data})
	}
	require.NotEmpty(t, sent, "no Ok records to deliver")

	prefixes := make([]string, 0, len(sent))
	for p := range sent {
		prefixes = append(prefixes, p)
	}
	slices.Sort(prefixes)
	for i, prefix := range prefixes {
		stream := fmt.Sprintf("%s-%d", function, i)
		_, err := fh.CreateDeliveryStream(ctx, &sdkfirehose.CreateDeliveryStreamInput{
			DeliveryStreamName: aws.String(stream),
			DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
			ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
				BucketARN: aws.String("arn:aws:s3:::" + bucket),
				RoleARN:   aws.String("arn:aws:iam::123456789012:role/firehose-delivery"),
				Prefix:    aws.String(prefix),
			},
		})
		require.NoError(t, err)
		failures, err := streamput.NewFirehose(streams, stream, retry.Default()).Put(ctx, sent[prefix])
		require.NoError(t, err)
		require.Empty(t, failures)
	}

	landed := Delivered{}
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	require.NotEmpty(t, list.Contents)
	for _, o := range list.Contents {
		key := aws.ToString(o.Key)
		// moto adds YYYY/MM/DD/HH/ after a custom prefix, which Firehose
		// does not; the partition folders come first either way.
		i := slices.IndexFunc(prefixes, func(p string) bool { return strings.HasPrefix(key, p) })
		require.GreaterOrEqual(t, i, 0, "object %s is under no partition prefix", key)
		obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		require.NoError(t, err)
		body, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		require.NoError(t, err)
		landed[prefixes[i]] = append(landed[prefixes[i]], splitLines(body)...)
	}
	for _, p := range prefixes {
		var want []string
		for _, e := range sent[p] {
			want = append(want, splitLines(e.Data)...)
		}
		slices.Sort(want)
		got := slices.Sorted(slices.Values(landed[p]))
		assert.Equal(t, want, got, "lines under s3://%s/%s", bucket, p)
	}
	return landed
}

// ResolvePrefix evaluates the !{partitionKeyFromLambda:name} expressions of
// an S3 prefix with a record's partition keys, as Firehose does with
// dynamic partitioning on. A key the prefix names but the record lacks is
// an error (Firehose sends such a record to the error output prefix).
func ResolvePrefix(prefix string, keys map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(prefix, lambdaKey)
		if i < 0 {
			b.WriteString(prefix)
			return b.String(), nil
		}
		j := strings.IndexByte(prefix[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("prefix %q: unclosed %s", prefix, lambdaKey)
		}
		name := prefix[i+len(lambdaKey) : i+j]
		v, ok := keys[name]
		if !ok {
			return "", fmt.Errorf("no partition key %q for the prefix", name)
		}
		b.WriteString(prefix[:i])
		b.WriteString(v)
		prefix = prefix[i+j+1:]
	}
}

func splitLines(b []byte) []string {
	var out []string
	for line := range bytes.Lines(b) {
		out = append(out, string(line))
	}
	return out
}
