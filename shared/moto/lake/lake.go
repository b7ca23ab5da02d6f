// Package lake builds, in the local emulator, the data lake a deployed
// lakestream stack would give a function: the buckets, delivery streams,
// Glue databases, tables, crawlers and jobs that its environment (the
// template's parameter defaults, or overrides) names, and the source
// objects its event names. It then reports what an invocation changed
// there. `make invoke` and `make demo` share it, so a function runs on its
// sample events the same way in both.
package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"lakestream/shared/lambdarun"
)

// Local stand-ins for the names CloudFormation would generate: buckets the
// template leaves unnamed, or that a deployment brings (the delivery
// streams' destinations).
const (
	// CDCBucket receives what ddb-stream-forwarder's delivery streams deliver, under <stream>/.
	CDCBucket = "lakestream-cdc"
	// CwlogsBucket receives what cwlogs-decompressor's delivery streams deliver.
	CwlogsBucket = "lakestream-cwlogs"
	// LandingStream is the delivery stream Firehose delivers into the
	// s3-redistributor's landing bucket with (the samples' object keys name it).
	LandingStream = "lake-events-stream"
)

// Lake is the emulator seen through AWS SDK clients, with the template
// whose defaults name the resources.
type Lake struct {
	tmpl     *lambdarun.Template
	S3       *s3.Client
	Firehose *firehose.Client
	Glue     *glue.Client
	Kinesis  *kinesis.Client
}

// New returns a Lake over the emulator cfg points at.
func New(cfg aws.Config, tmpl *lambdarun.Template) *Lake {
	return &Lake{
		tmpl: tmpl,
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = true                              // bucket names are not DNS labels of 127.0.0.1
			o.DisableLogOutputChecksumValidationSkipped = true // moto sends no checksums
		}),
		Firehose: firehose.NewFromConfig(cfg),
		Glue:     glue.NewFromConfig(cfg),
		Kinesis:  kinesis.NewFromConfig(cfg),
	}
}

// setups create each function's resources; functions that make no AWS
// call (the Firehose transformers) have none.
var setups = map[string]func(l *Lake, ctx context.Context, env map[string]string, event []byte) ([]string, error){
	"cwlogs-decompressor":  (*Lake).cwlogsDecompressor,
	"ddb-stream-forwarder": (*Lake).ddbStreamForwarder,
	"glue-catalog-fixer":   (*Lake).glueCatalogFixer,
	"glue-job-trigger":     (*Lake).glueJobTrigger,
	"s3-redistributor":     (*Lake).s3Redistributor,
	"s3-log-forwarder":     (*Lake).s3LogForwarder,
}

// Setup creates what function fn needs to run on event with environment
// env (the template's, resolved, with any overrides): the resources env
// names and, for a function that reads them, the objects event names. It
// returns a line for each thing it created, and is idempotent, so
// several functions can share one emulator.
func (l *Lake) Setup(ctx context.Context, fn string, env map[string]string, event []byte) ([]string, error) {
	setup, ok := setups[fn]
	if !ok {
		return nil, nil
	}
	created, err := setup(l, ctx, env, event)
	if err != nil {
		return created, fmt.Errorf("lake: set up %s: %w", fn, err)
	}
	return created, nil
}

// cwlogsDecompressor creates the template's processing stream and the
// direct path's DESTINATION_STREAM, both delivering to CwlogsBucket, and
// the streams (or Kinesis source) the event came from, which re-ingestion
// writes back to.
func (l *Lake) cwlogsDecompressor(ctx context.Context, env map[string]string, event []byte) ([]string, error) {
	processing, err := l.tmpl.Ref("CwlogsDecompressorDeliveryStream")
	if err != nil {
		return nil, err
	}
	created, err := l.Bucket(ctx, CwlogsBucket)
	if err != nil {
		return created, err
	}
	streams := map[string]string{ // name to S3 prefix, as the template's streams write
		processing:                "cwlogs/",
		env["DESTINATION_STREAM"]: "cwlogs-direct/",
	}
	var ev struct {
		DeliveryStreamArn      string `json:"deliveryStreamArn"`
		SourceKinesisStreamArn string `json:"sourceKinesisStreamArn"`
	}
	if json.Unmarshal(event, &ev) == nil {
		if name := arnName(ev.DeliveryStreamArn, "deliverystream/"); name != "" {
			if _, ok := streams[name]; !ok {
				streams[name] = name + "/"
			}
		}
		if name := arnName(ev.SourceKinesisStreamArn, "stream/"); name != "" {
			c, err := l.kinesisStream(ctx, name)
			created = append(created, c...)
			if err != nil {
				return created, err
			}
		}
	}
	for _, name := range sortedKeys(streams) {
		if name == "" {
			continue
		}
		c, err := l.DeliveryStream(ctx, name, CwlogsBucket, streams[name])
		created = append(created, c...)
		if err != nil {
			return created, err
		}
	}
	return created, nil
}

// ddbStreamForwarder creates DELIVERY_STREAM and the streams ROUTES
// names, delivering to CDCBucket, and the OVERFLOW_BUCKET when set.
func (l *Lake) ddbStreamForwarder(ctx context.Context, env map[string]string, _ []byte) ([]string, error) {
	created, err := l.Bucket(ctx, CDCBucket)
	if err != nil {
		return created, err
	}
	streams := []string{env["DELIVERY_STREAM"]}
	for _, route := range strings.Split(env["ROUTES"], ",") {
		if _, stream, ok := strings.Cut(route, "="); ok {
			streams = append(streams, strings.TrimSpace(stream))
		}
	}
	for _, name := range streams {
		if name == "" {
			continue
		}
		c, err := l.DeliveryStream(ctx, name, CDCBucket, name+"/")
		created = append(created, c...)
		if err != nil {
			return created, err
		}
	}
	if b := env["OVERFLOW_BUCKET"]; b != "" {
		c, err := l.Bucket(ctx, b)
		created = append(created, c...)
		if err != nil {
			return created, err
		}
	}
	return created, nil
}

// crawledTables are what a Glue crawler writes for a DynamoDB export with
// string and number sets: column types Athena rejects until fixed.
var crawledTables = []*gluetypes.TableInput{
	{
		Name:      aws.String("orders"),
		TableType: aws.String("EXTERNAL_TABLE"),
		StorageDescriptor: &gluetypes.StorageDescriptor{
			Location: aws.String("s3://lake-raw/orders/"),
			Columns: []gluetypes.Column{
				{Name: aws.String("id"), Type: aws.String("string")},
				{Name: aws.String("tags"), Type: aws.String("set<string>")},
				{Name: aws.String("profile"), Type: aws.String("struct<emails:set<string>,address:struct<zip:string>>")},
				{Name: aws.String("history"), Type: aws.String("array<struct<at:string,items:set<bigint>>>")},
			},
		},
		PartitionKeys: []gluetypes.Column{{Name: aws.String("dt"), Type: aws.String("string")}},
	},
	{
		Name:      aws.String("clicks"),
		TableType: aws.String("EXTERNAL_TABLE"),
		StorageDescriptor: &gluetypes.StorageDescriptor{
			Location: aws.String("s3://lake-raw/clicks/"),
			Columns: []gluetypes.Column{
				{Name: aws.String("page"), Type: aws.String("string")},
				{Name: aws.String("labels"), Type: aws.String("map<string,set<string>>")},
			},
		},
	},
}

// glueCatalogFixer creates the databases and crawlers the fixer watches,
// and in the first database the tables its samples name (orders) as a
// crawler wrote them, with set<> columns to fix.
func (l *Lake) glueCatalogFixer(ctx context.Context, env map[string]string, _ []byte) ([]string, error) {
	var created []string
	dbs := list(env["DATABASES"])
	for _, db := range dbs {
		c, err := l.glueDatabase(ctx, db)
		created = append(created, c...)
		if err != nil {
			return created, err
		}
	}
	if len(dbs) == 0 {
		return created, nil
	}
	for _, crawler := range list(env["CRAWLERS"]) {
		_, err := l.Glue.CreateCrawler(ctx, &glue.CreateCrawlerInput{
			Name: aws.String(crawler), Role: aws.String("arn:aws:iam::123456789012:role/glue-crawler"),
			DatabaseName: aws.String(dbs[0]),
			Targets:      &gluetypes.CrawlerTargets{S3Targets: []gluetypes.S3Target{{Path: aws.String("s3://lake-raw/")}}},
		})
		c, err := existed(err, "Glue crawler "+crawler+" of database "+dbs[0])
		created = append(created, c...)
		if err != nil {
			return created, fmt.Errorf("create crawler %s: %w", crawler, err)
		}
	}
	for _, t := range crawledTables {
		_, err := l.Glue.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String(dbs[0]), TableInput: t})
		c, err := existed(err, fmt.Sprintf("Glue table %s.%s with set<> columns, as a crawler writes them", dbs[0], aws.ToString(t.Name)))
		created = append(created, c...)
		if err != nil {
			return created, fmt.Errorf("create table %s.%s: %w", dbs[0], aws.ToString(t.Name), err)
		}
	}
	return created, nil
}

// glueJobTrigger creates JOB_NAME's job.
func (l *Lake) glueJobTrigger(ctx context.Context, env map[string]string, _ []byte) ([]string, error) {
	job := env["JOB_NAME"]
	// moto, unlike Glue, answers a repeated CreateJob with success.
	if _, err := l.Glue.GetJob(ctx, &glue.GetJobInput{JobName: aws.String(job)}); err == nil {
		return nil, nil
	}
	_, err := l.Glue.CreateJob(ctx, &glue.CreateJobInput{
		Name:              aws.String(job),
		Role:              aws.String("arn:aws:iam::123456789012:role/glue-etl"),
		Command:           &gluetypes.JobCommand{Name: aws.String("glueetl"), ScriptLocation: aws.String("s3://lake-scripts/" + job + ".py")},
		ExecutionProperty: &gluetypes.ExecutionProperty{MaxConcurrentRuns: 3},
	})
	created, err := existed(err, "Glue job "+job)
	if err != nil {
		return created, fmt.Errorf("create job %s: %w", job, err)
	}
	return created, nil
}

// s3Redistributor creates the landing bucket with the delivery stream that
// fills it, the lake bucket DESTINATIONS names, the Glue database and
// tables GLUE_TABLES names (hourly, then minute, as the template's
// parameters describe them), and the source objects event names.
func (l *Lake) s3Redistributor(ctx context.Context, env map[string]string, event []byte) ([]string, error) {
	landing, err := l.tmpl.Ref("S3RedistributorLandingBucket")
	if err != nil {
		return nil, err
	}
	created, err := l.Bucket(ctx, landing)
	if err != nil {
		return created, err
	}
	c, err := l.DeliveryStream(ctx, LandingStream, landing, env["SOURCE_PREFIX"])
	created = append(created, c...)
	if err != nil {
		return created, err
	}
	lakes := map[string]bool{}
	for _, dest := range list(env["DESTINATIONS"]) {
		if u, err := url.Parse(dest); err == nil && u.Scheme == "s3" && u.Host != "" {
			lakes[u.Host] = true
		}
	}
	for _, b := range sortedKeys(lakes) {
		c, err := l.Bucket(ctx, b)
		created = append(created, c...)
		if err != nil {
			return created, err
		}
	}
	if db := env["GLUE_DATABASE"]; db != "" {
		c, err := l.glueDatabase(ctx, db)
		created = append(created, c...)
		if err != nil {
			return created, err
		}
		// GLUE_TABLES lists one table per DESTINATIONS layout, in order.
		keys := [][]string{{"dt", "hour"}, {"year", "month", "day", "hour", "minute"}}
		destinations := list(env["DESTINATIONS"])
		for i, table := range list(env["GLUE_TABLES"]) {
			if i >= len(keys) || i >= len(destinations) {
				break
			}
			c, err := l.partitionedTable(ctx, db, table, keys[i], layoutFolder(destinations[i]))
			created = append(created, c...)
			if err != nil {
				return created, err
			}
		}
	}
	c, err = l.Seed(ctx, event)
	return append(created, c...), err
}

// layoutFolder is the folder above a layout's first placeholder:
// s3://lake/events/hourly/dt={yyyy}-... is s3://lake/events/hourly/.
func layoutFolder(layout string) string {
	before, _, _ := strings.Cut(layout, "{")
	return before[:strings.LastIndex(before, "/")+1]
}

func (l *Lake) partitionedTable(ctx context.Context, db, table string, keys []string, location string) ([]string, error) {
	in := &gluetypes.TableInput{
		Name:      aws.String(table),
		TableType: aws.String("EXTERNAL_TABLE"),
		StorageDescriptor: &gluetypes.StorageDescriptor{
			Columns:      []gluetypes.Column{{Name: aws.String("event"), Type: aws.String("string")}, {Name: aws.String("user_id"), Type: aws.String("string")}},
			Location:     aws.String(location),
			InputFormat:  aws.String("org.apache.hadoop.mapred.TextInputFormat"),
			OutputFormat: aws.String("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
			SerdeInfo:    &gluetypes.SerDeInfo{SerializationLibrary: aws.String("org.openx.data.jsonserde.JsonSerDe")},
		},
	}
	for _, k := range keys {
		in.PartitionKeys = append(in.PartitionKeys, gluetypes.Column{Name: aws.String(k), Type: aws.String("string")})
	}
	_, err := l.Glue.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String(db), TableInput: in})
	created, err := existed(err, fmt.Sprintf("Glue table %s.%s partitioned by (%s)", db, table, strings.Join(keys, ", ")))
	if err != nil {
		return created, fmt.Errorf("create table %s.%s: %w", db, table, err)
	}
	return created, nil
}

// Seed puts the objects an event names that are not there yet, with as
// many bytes as it says, creating their buckets: S3 notifications,
// EventBridge Object Created events, and either carried in SQS messages or
// SNS notifications. An s3:TestEvent names none.
func (l *Lake) Seed(ctx context.Context, event []byte) ([]string, error) {
	var created []string
	for _, o := range namedObjects(event, 0) {
		c, err := l.Bucket(ctx, o.bucket)
		created = append(created, c...)
		if err != nil {
			return created, err
		}
		if _, err := l.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key)}); err == nil {
			continue
		}
		_, err = l.S3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(o.bucket), Key: aws.String(o.key),
			Body:        bytes.NewReader(bytes.Repeat([]byte{'.'}, int(o.size))),
			ContentType: aws.String("application/x-ndjson"),
		})
		if err != nil {
			return created, fmt.Errorf("put s3://%s/%s: %w", o.bucket, o.key, err)
		}
		created = append(created, fmt.Sprintf("object s3://%s/%s (%d bytes), as the event says", o.bucket, o.key, o.size))
	}
	return created, nil
}

type object struct {
	bucket, key string
	size        int64
}

// namedObjects finds the objects in an S3 notification or EventBridge
// event, looking inside SQS message bodies and SNS messages (depth bounds
// the nesting).
func namedObjects(event []byte, depth int) []object {
	if depth > 3 {
		return nil
	}
	var envelope struct {
		Records []struct {
			EventSource string `json:"eventSource"`
			Body        string `json:"body"`
			SNS         *struct {
				Message string `json:"Message"`
			} `json:"Sns"`
			S3 *events.S3Entity `json:"s3"`
		} `json:"Records"`
		DetailType string          `json:"detail-type"`
		Detail     json.RawMessage `json:"detail"`
		Message    string          `json:"Message"` // an SNS notification in an SQS body
	}
	if json.Unmarshal(event, &envelope) != nil {
		return nil
	}
	var out []object
	for _, r := range envelope.Records {
		switch {
		case r.S3 != nil:
			key, err := url.QueryUnescape(r.S3.Object.Key)
			if err != nil {
				key = r.S3.Object.Key
			}
			out = append(out, object{r.S3.Bucket.Name, key, r.S3.Object.Size})
		case r.SNS != nil:
			out = append(out, namedObjects([]byte(r.SNS.Message), depth+1)...)
		case r.EventSource == "aws:sqs":
			out = append(out, namedObjects([]byte(r.Body), depth+1)...)
		}
	}
	if envelope.Message != "" {
		out = append(out, namedObjects([]byte(envelope.Message), depth+1)...)
	}
	if envelope.DetailType == "Object Created" {
		var d struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key  string `json:"key"`
				Size int64  `json:"size"`
			} `json:"object"`
		}
		if json.Unmarshal(envelope.Detail, &d) == nil && d.Bucket.Name != "" {
			out = append(out, object{d.Bucket.Name, d.Object.Key, d.Object.Size})
		}
	}
	return out
}

// Bucket creates a bucket unless it exists; it returns what it created.
func (l *Lake) Bucket(ctx context.Context, name string) ([]string, error) {
	// moto, as S3 in us-east-1, answers a repeated CreateBucket with 200.
	if _, err := l.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err == nil {
		return nil, nil
	}
	_, err := l.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *s3types.BucketAlreadyOwnedByYou
	if errors.As(err, &owned) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", name, err)
	}
	return []string{"bucket " + name}, nil
}

// DeliveryStream creates, unless it exists, a Direct PUT stream writing to
// bucket (created too) under prefix; it returns what it created. moto
// writes each PutRecordBatch at once, as one object named as Firehose
// names its deliveries.
func (l *Lake) DeliveryStream(ctx context.Context, name, bucket, prefix string) ([]string, error) {
	created, err := l.Bucket(ctx, bucket)
	if err != nil {
		return created, err
	}
	_, err = l.Firehose.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::" + bucket),
			RoleARN:   aws.String("arn:aws:iam::123456789012:role/firehose-delivery"),
			Prefix:    aws.String(prefix),
		},
	})
	var inUse *fhtypes.ResourceInUseException
	if errors.As(err, &inUse) {
		return created, nil
	}
	if err != nil {
		return created, fmt.Errorf("create delivery stream %s: %w", name, err)
	}
	return append(created, fmt.Sprintf("delivery stream %s to s3://%s/%s", name, bucket, prefix)), nil
}

func (l *Lake) kinesisStream(ctx context.Context, name string) ([]string, error) {
	_, err := l.Kinesis.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)})
	var inUse *kinesistypes.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("create Kinesis stream %s: %w", name, err)
	}
	return []string{"Kinesis stream " + name}, nil
}

func (l *Lake) glueDatabase(ctx context.Context, name string) ([]string, error) {
	_, err := l.Glue.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String(name)}})
	created, err := existed(err, "Glue database "+name)
	if err != nil {
		return created, fmt.Errorf("create database %s: %w", name, err)
	}
	return created, nil
}

// existed turns Glue's AlreadyExistsException into nothing created.
func existed(err error, what string) ([]string, error) {
	var exists *gluetypes.AlreadyExistsException
	switch {
	case errors.As(err, &exists):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return []string{what}, nil
}

// arnName is the part of an ARN after marker ("deliverystream/").
func arnName(arn, marker string) string {
	_, name, ok := strings.Cut(arn, ":"+marker)
	if !ok {
		return ""
	}
	return name
}

// list splits a comma-separated setting, dropping empty items.
func list(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
