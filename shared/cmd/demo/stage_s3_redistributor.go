package main

import (
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
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lakestream/shared/lambdarun"
	"lakestream/shared/moto/lake"
)

// The template's defaults name the landing bucket (prefix incoming/), the
// lake bucket lakestream-lake and the Glue tables lakestream.events_hourly
// (dt, hour) and lakestream.events_minute (year, month, day, hour, minute);
// the samples name objects of their own in lakestream-landing.
var s3RedistributorStage = stage{
	fn:    "s3-redistributor",
	title: "S3 redistributor: Firehose-delivered objects into hour and minute partitions, registered in Glue",
	run: func(ctx context.Context, d *demo) error {
		const fn = "s3-redistributor"
		if err := d.setup(ctx, fn, nil); err != nil {
			return err
		}
		env, err := d.tmpl.Environment(lambdarun.LogicalID(fn))
		if err != nil {
			return err
		}
		landing, err := d.tmpl.Ref("S3RedistributorLandingBucket")
		if err != nil {
			return err
		}

		// Firehose delivers a batch; moto names the object as Firehose does.
		lines := [][]byte{[]byte(`{"event":"click","user_id":"u1"}` + "\n"), []byte(`{"event":"buy","user_id":"u2"}` + "\n")}
		records := make([]fhtypes.Record, len(lines))
		for i, l := range lines {
			records[i] = fhtypes.Record{Data: l}
		}
		if _, err := d.firehose.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(lake.LandingStream), Records: records}); err != nil {
			return fmt.Errorf("put records: %w", err)
		}
		delivered, err := d.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(landing), Prefix: aws.String(env["SOURCE_PREFIX"])})
		if err != nil || len(delivered.Contents) != 1 {
			return fmt.Errorf("list the Firehose delivery: %v objects, %w", len(delivered.Contents), err)
		}
		key := aws.ToString(delivered.Contents[0].Key)
		d.say("  Firehose delivered s3://%s/%s (%d records)", landing, key, len(lines))
		notification := fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":%q},"object":{"key":%q,"size":%d}}}]}`,
			landing, strings.ReplaceAll(url.QueryEscape(key), "%2F", "/"), aws.ToInt64(delivered.Contents[0].Size))
		if err := d.redistribute(ctx, "its S3 notification", []byte(notification)); err != nil {
			return err
		}

		// The samples name objects of their own: put them there, then send
		// each sample as S3, SQS or EventBridge would.
		for _, sample := range []string{"sqs.json", "eventbridge.json", "url-encoded-key.json", "bad-key.json"} {
			ev, err := d.event(fn, sample)
			if err != nil {
				return err
			}
			if _, err := d.lake.Seed(ctx, ev); err != nil {
				return err
			}
			if err := d.redistribute(ctx, "events/s3-redistributor/"+sample, ev); err != nil {
				return err
			}
		}
		if err := d.redistribute(ctx, "the first notification again", []byte(notification)); err != nil {
			return err
		}

		db := env["GLUE_DATABASE"]
		for _, table := range strings.Split(env["GLUE_TABLES"], ",") {
			out, err := d.lake.Glue.GetPartitions(ctx, &glue.GetPartitionsInput{DatabaseName: aws.String(db), TableName: aws.String(table)})
			if err != nil {
				return fmt.Errorf("partitions of %s.%s: %w", db, table, err)
			}
			d.say("  Glue %s.%s has %d partitions, for Athena without MSCK REPAIR:", db, table, len(out.Partitions))
			for _, p := range out.Partitions {
				d.say("    %s at %s", strings.Join(p.Values, "/"), aws.ToString(p.StorageDescriptor.Location))
			}
		}
		lakeBucket, err := d.tmpl.Ref("S3RedistributorLakeBucket")
		if err != nil {
			return err
		}
		_, err = d.listObjects(ctx, lakeBucket, "")
		return err
	},
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
