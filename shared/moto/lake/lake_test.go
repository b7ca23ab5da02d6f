package lake

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

func sample(t *testing.T, path string) []byte {
	t.Helper()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "events", path))
	require.NoError(t, err)
	return b
}

func TestNamedObjects(t *testing.T) {
	landing := "lakestream-landing"
	firehoseKey := "incoming/2024/05/01/13/lake-events-stream-1-2024-05-01-13-05-09-3f9a2c1e-8b7d-4e6f-a1b2-c3d4e5f6a7b8"
	accented := "incoming/exports/région=eu west/dt=2024-05-01/hour=15/données été #1.json"
	for name, tc := range map[string]struct {
		event string
		want  []object
	}{
		"S3 notification, key URL-decoded": {"s3-redistributor/url-encoded-key.json", []object{{landing, accented, 512}}},
		"EventBridge, key as it is": {"s3-redistributor/eventbridge.json", []object{{landing,
			"incoming/2024/05/01/13/lake-events-stream-1-2024-05-01-13-47-51-9b2d7c61-0e4f-4a3b-8c5d-6e7f8a9b0c1d", 2310}}},
		"SNS":                         {"s3-redistributor/sns.json", []object{{landing, firehoseKey, 1342}}},
		"SNS in SQS":                  {"s3-redistributor/sqs-sns.json", []object{{landing, accented, 512}}},
		"s3:TestEvent names none":     {"s3-redistributor/test-event.json", nil},
		"a Firehose event names none": {"firehose-json/mixed.json", nil},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, namedObjects(sample(t, tc.event), 0))
		})
	}
	assert.Nil(t, namedObjects([]byte(`not json`), 0))
}

func TestLayoutFolder(t *testing.T) {
	assert.Equal(t, "s3://lake/events/hourly/", layoutFolder("s3://lake/events/hourly/dt={yyyy}-{MM}-{dd}/hour={HH}/{filename}"))
	assert.Equal(t, "s3://lake/events/minute/", layoutFolder("s3://lake/events/minute/{yyyy}/{MM}/{dd}/{HH}/{mm}/{filename}"))
}

// TestSetupIsIdempotentAndDiffSeesEveryKind sets up every function twice
// in one emulator (the second creates nothing), then changes one thing of
// each kind Diff reports and checks what it says.
func TestSetupIsIdempotentAndDiffSeesEveryKind(t *testing.T) {
	ctx := t.Context()
	srv := moto.Shared(t)
	require.NoError(t, srv.Reset())
	cfg, err := srv.Config(ctx)
	require.NoError(t, err)
	tmpl, err := lambdarun.LoadRepoTemplate()
	require.NoError(t, err)
	l := New(cfg, tmpl)

	events := map[string]string{"s3-redistributor": "s3-redistributor/sqs.json", "cwlogs-decompressor": "cwlogs-decompressor/kinesis-source.json"}
	for fn := range setups {
		env, err := tmpl.Environment(lambdarun.LogicalID(fn))
		require.NoError(t, err)
		var event []byte
		if e, ok := events[fn]; ok {
			event = sample(t, e)
		}
		created, err := l.Setup(ctx, fn, env, event)
		require.NoError(t, err, fn)
		assert.NotEmpty(t, created, fn)
		again, err := l.Setup(ctx, fn, env, event)
		require.NoError(t, err, fn)
		assert.Empty(t, again, "%s: nothing new the second time", fn)
	}
	created, err := l.Setup(ctx, "firehose-json", nil, nil)
	require.NoError(t, err)
	assert.Empty(t, created, "a transformation needs nothing")

	before, err := l.Snapshot(ctx)
	require.NoError(t, err)
	put := func(bucket, key, body string) {
		_, err := l.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader([]byte(body))})
		require.NoError(t, err)
	}
	put("lakestream-lake", "events/new.json", "{}\n")
	put("lakestream-landing", "incoming/exports/year=2024/month=05/day=01/hour=14/part-00000-5d1c.json", "rewritten")
	_, err = l.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("lakestream-landing"),
		Key: aws.String("incoming/2024/05/01/13/lake-events-stream-1-2024-05-01-13-05-09-3f9a2c1e-8b7d-4e6f-a1b2-c3d4e5f6a7b8")})
	require.NoError(t, err)
	_, err = l.Firehose.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("ddb-changes"),
		Records: []fhtypes.Record{{Data: []byte("{\"a\":1}\n")}, {Data: []byte("{\"a\":2}\n")}}})
	require.NoError(t, err)
	_, err = l.Glue.BatchCreatePartition(ctx, &glue.BatchCreatePartitionInput{DatabaseName: aws.String("lakestream"), TableName: aws.String("events_hourly"),
		PartitionInputList: []gluetypes.PartitionInput{{Values: []string{"2024-05-01", "13"}}}})
	require.NoError(t, err)
	_, err = l.Glue.UpdateTable(ctx, &glue.UpdateTableInput{DatabaseName: aws.String("lake"), TableInput: &gluetypes.TableInput{
		Name: aws.String("clicks"), StorageDescriptor: &gluetypes.StorageDescriptor{Columns: []gluetypes.Column{
			{Name: aws.String("page"), Type: aws.String("string")}, {Name: aws.String("labels"), Type: aws.String("map<string,array<string>>")}}}}})
	require.NoError(t, err)
	_, err = l.Glue.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("lake"), TableInput: &gluetypes.TableInput{Name: aws.String("fresh")}})
	require.NoError(t, err)
	_, err = l.Glue.StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String("lake-hourly-etl"), Arguments: map[string]string{"--date": "2024-05-01"}})
	require.NoError(t, err)

	after, err := l.Snapshot(ctx)
	require.NoError(t, err)
	changes, err := l.Diff(ctx, before, after)
	require.NoError(t, err)
	var summaries []string
	for _, c := range changes {
		summaries = append(summaries, c.Summary)
	}
	assert.Equal(t, []string{
		"delivered 2 lines through Firehose stream ddb-changes",
		"wrote s3://lakestream-lake/events/new.json (3 bytes)",
		"rewrote s3://lakestream-landing/incoming/exports/year=2024/month=05/day=01/hour=14/part-00000-5d1c.json (9 bytes)",
		"deleted s3://lakestream-landing/incoming/2024/05/01/13/lake-events-stream-1-2024-05-01-13-05-09-3f9a2c1e-8b7d-4e6f-a1b2-c3d4e5f6a7b8",
		"created Glue partition lakestream.events_hourly 2024-05-01/13",
		"updated Glue table lake.clicks: labels map<string,set<string>> -> map<string,array<string>>",
		"created Glue table lake.fresh",
		"started Glue job run of lake-hourly-etl with --date 2024-05-01",
	}, summaries)
	assert.Contains(t, changes[0].Detail, "s3://lakestream-cdc/ddb-changes/", "the delivered object's key is in the detail")
	assert.Contains(t, changes[len(changes)-1].Detail, "(jr_", "and the run id")

	none, err := l.Diff(ctx, after, after)
	require.NoError(t, err)
	assert.Empty(t, none)
}
