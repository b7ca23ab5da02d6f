package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"lakestream/shared/lambdarun"
)

// The redistributor's samples and the template's defaults name the landing
// bucket lakestream-landing (prefix incoming/), the lake bucket
// lakestream-lake and the Glue tables lakestream.events_hourly (dt, hour)
// and lakestream.events_minute (year, month, day, hour, minute).
const (
	redistributorLanding = "lakestream-landing"
	redistributorLake    = "lakestream-lake"
	redistributorStream  = "lake-events-stream"
)

var s3RedistributorStage = stage{
	fn:    "s3-redistributor",
	title: "S3 redistributor: Firehose-delivered objects into hour and minute partitions, registered in Glue",
	run: func(ctx context.Context, d *demo) error {
		g := glue.NewFromConfig(d.aws)
		if err := d.redistributorLake(ctx, g); err != nil {
			return err
		}

		// Firehose delivers a batch; moto names the object as Firehose does.
		lines := [][]byte{[]byte(`{"event":"click","user_id":"u1"}` + "\n"), []byte(`{"event":"buy","user_id":"u2"}` + "\n")}
		records := make([]fhtypes.Record, len(lines))
		for i, l := range lines {
			records[i] = fhtypes.Record{Data: l}
		}
		if _, err := d.firehose.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(redistributorStream), Records: records}); err != nil {
			return fmt.Errorf("put records: %w", err)
		}
		delivered, err := d.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(redistributorLanding), Prefix: aws.String("incoming/")})
		if err != nil || len(delivered.Contents) != 1 {
			return fmt.Errorf("list the Firehose delivery: %v objects, %w", len(delivered.Contents), err)
		}
		key := aws.ToString(delivered.Contents[0].Key)
		d.say("  Firehose delivered s3://%s/%s (%d records)", redistributorLanding, key, len(lines))
		notification := fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":%q},"object":{"key":%q,"size":%d}}}]}`,
			redistributorLanding, strings.ReplaceAll(url.QueryEscape(key), "%2F", "/"), aws.ToInt64(delivered.Contents[0].Size))
		if err := d.redistribute(ctx, "its S3 notification", []byte(notification)); err != nil {
			return err
		}

		// The samples name objects of their own: put them there, then send
		// each sample as S3, SQS or EventBridge would.
		for _, sample := range []string{"sqs.json", "eventbridge.json", "url-encoded-key.json", "bad-key.json"} {
			ev, err := d.event("s3-redistributor", sample)
			if err != nil {
				return err
			}
			if err := d.redistributorSeed(ctx, ev); err != nil {
				return err
			}
			if err := d.redistribute(ctx, "events/s3-redistributor/"+sample, ev); err != nil {
				return err
			}
		}
		if err := d.redistribute(ctx, "the first notification again", []byte(notification)); err != nil {
			return err
		}

		for _, table := range []string{"events_hourly", "events_minute"} {
			out, err := g.GetPartitions(ctx, &glue.GetPartitionsInput{DatabaseName: aws.String("lakestream"), TableName: aws.String(table)})
			if err != nil {
				return fmt.Errorf("partitions of lakestream.%s: %w", table, err)
			}
			d.say("  Glue lakestream.%s has %d partitions, for Athena without MSCK REPAIR:", table, len(out.Partitions))
			for _, p := range out.Partitions {
				d.say("    %s at %s", strings.Join(p.Values, "/"), aws.ToString(p.StorageDescriptor.Location))
			}
		}
		_, err = d.listObjects(ctx, redistributorLake, "events/")
		return err
	},
}

// redistributorLake creates the buckets, the delivery stream and the Glue
// tables the template's defaults name.
func (d *demo) redistributorLake(ctx context.Context, g *glue.Client) error {
	if err := d.createLake(ctx, redistributorLanding, redistributorStream, "incoming/"); err != nil {
		return err
	}
	_, err := d.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(redistributorLake)})
	var owned *s3types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("create bucket %s: %w", redistributorLake, err)
	}
	_, err = g.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String("lakestream")}})
	var exists *gluetypes.AlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("create database lakestream: %w", err)
	}
	tables := map[string][]string{"events_hourly": {"dt", "hour"}, "events_minute": {"year", "month", "day", "hour", "minute"}}
	for name, keys := range tables {
		folder := strings.TrimPrefix(name, "events_")
		in := &gluetypes.TableInput{
			Name:      aws.String(name),
			TableType: aws.String("EXTERNAL_TABLE"),
			StorageDescriptor: &gluetypes.StorageDescriptor{
				Columns:      []gluetypes.Column{{Name: aws.String("event"), Type: aws.String("string")}, {Name: aws.String("user_id"), Type: aws.String("string")}},
				Location:     aws.String("s3://" + redistributorLake + "/events/" + folder + "/"),
				InputFormat:  aws.String("org.apache.hadoop.mapred.TextInputFormat"),
				OutputFormat: aws.String("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
				SerdeInfo:    &gluetypes.SerDeInfo{SerializationLibrary: aws.String("org.openx.data.jsonserde.JsonSerDe")},
			},
		}
		for _, k := range keys {
			in.PartitionKeys = append(in.PartitionKeys, gluetypes.Column{Name: aws.String(k), Type: aws.String("string")})
		}
		if _, err := g.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("lakestream"), TableInput: in}); err != nil {
			return fmt.Errorf("create table lakestream.%s: %w", name, err)
		}
	}
	return nil
}

// redistributorSeed puts the objects an S3 notification, an EventBridge
// event or an SQS batch of them names, with as many bytes as it says.
func (d *demo) redistributorSeed(ctx context.Context, ev []byte) error {
	var bodies []string
	var sqsEvent events.SQSEvent
	if json.Unmarshal(ev, &sqsEvent) == nil && len(sqsEvent.Records) > 0 && sqsEvent.Records[0].EventSource == "aws:sqs" {
		for _, r := range sqsEvent.Records {
			bodies = append(bodies, r.Body)
		}
	} else {
		bodies = []string{string(ev)}
	}
	for _, body := range bodies {
		var n events.S3Event
		var eb events.EventBridgeEvent
		type object struct {
			bucket, key string
			size        int64
		}
		var objects []object
		if json.Unmarshal([]byte(body), &n) == nil {
			for _, r := range n.Records {
				objects = append(objects, object{r.S3.Bucket.Name, r.S3.Object.URLDecodedKey, r.S3.Object.Size})
			}
		}
		if json.Unmarshal([]byte(body), &eb) == nil && eb.DetailType == "Object Created" {
			var detail struct {
				Bucket struct{ Name string } `json:"bucket"`
				Object struct {
					Key  string `json:"key"`
					Size int64  `json:"size"`
				} `json:"object"`
			}
			if err := json.Unmarshal(eb.Detail, &detail); err == nil {
				objects = append(objects, object{detail.Bucket.Name, detail.Object.Key, detail.Object.Size})
			}
		}
		for _, o := range objects {
			_, err := d.s3.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String(o.bucket), Key: aws.String(o.key), Body: bytes.NewReader(bytes.Repeat([]byte{'.'}, int(o.size))),
				ContentType: aws.String("application/x-ndjson"),
			})
			if err != nil {
				return fmt.Errorf("put s3://%s/%s: %w", o.bucket, o.key, err)
			}
		}
	}
	return nil
}

// redistribute runs the function on one event and says what became of
// each object.
func (d *demo) redistribute(ctx context.Context, what string, ev []byte) error {
	d.say("  in:  %s", what)
	out, err := d.invoke(ctx, "s3-redistributor", ev, nil)
	var fe *lambdarun.FunctionError
	switch {
	case errors.As(err, &fe) && !fe.Init:
		d.say("  out: invocation failed, so S3/EventBridge would retry it and then hand it to the failure queue:")
		d.say("       %s", fe.Message)
		return nil
	case err != nil:
		return err
	}
	var res struct {
		Kind              string                       `json:"kind"`
		BatchItemFailures []events.SQSBatchItemFailure `json:"batchItemFailures"`
		Objects           []struct {
			Source string `json:"source"`
			Status string `json:"status"`
			Reason string `json:"reason"`
			Copies []struct {
				Destination string `json:"destination"`
				Status      string `json:"status"`
			} `json:"copies"`
		} `json:"objects"`
		PartitionsCreated  int `json:"partitionsCreated"`
		PartitionsExisting int `json:"partitionsExisting"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	if res.Kind == "" {
		d.say("  out: SQS batch response %s (%d messages to retry; the copies are listed below)", out, len(res.BatchItemFailures))
		return nil
	}
	for _, o := range res.Objects {
		if o.Reason != "" {
			d.say("  out: %s %s (%s)", o.Source, o.Status, o.Reason)
			continue
		}
		d.say("  out: %s %s", o.Source, o.Status)
		for _, c := range o.Copies {
			d.say("       -> %s (%s)", c.Destination, c.Status)
		}
	}
	d.say("       Glue partitions: %d created, %d already there", res.PartitionsCreated, res.PartitionsExisting)
	return nil
}
