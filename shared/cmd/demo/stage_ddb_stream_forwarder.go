package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lakestream/shared/lambdarun"
	"lakestream/shared/moto/lake"
)

// The forwarder writes to the template's DdbStreamForwarderDeliveryStream
// (ddb-changes); here that stream delivers to s3://lakestream-cdc/ddb-changes/.
var ddbStreamForwarderStage = stage{
	fn:    "ddb-stream-forwarder",
	title: "DynamoDB stream (and Kinesis) records to plain JSON lines in Firehose",
	run: func(ctx context.Context, d *demo) error {
		const fn, bucket = "ddb-stream-forwarder", lake.CDCBucket
		env, err := d.tmpl.Environment(lambdarun.LogicalID(fn))
		if err != nil {
			return err
		}
		prefix := env["DELIVERY_STREAM"] + "/"
		if err := d.setup(ctx, fn, nil); err != nil {
			return err
		}
		samples, err := filepath.Glob(filepath.Join(d.root, "events", fn, "*.json"))
		if err != nil {
			return err
		}
		sort.Strings(samples)
		for _, path := range samples {
			ev, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var in struct{ Records []json.RawMessage }
			if err := json.Unmarshal(ev, &in); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			out, err := d.invoke(ctx, fn, ev, nil)
			if err != nil {
				return err
			}
			var resp struct {
				BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
			}
			if err := json.Unmarshal(out, &resp); err != nil {
				return fmt.Errorf("response: %w", err)
			}
			d.say("  in: events/%s/%s (%d record(s)); out: %d in batchItemFailures", fn, filepath.Base(path), len(in.Records), len(resp.BatchItemFailures))
		}
		lines, err := d.deliveredLines(ctx, bucket, prefix)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if !bytes.Contains(l, []byte(`"n_38_digits"`)) {
				continue
			}
			d.say("  every attribute type: %s", firstLine(l, 240))
			var line struct {
				NewImage struct {
					N json.Number `json:"n_38_digits"`
				} `json:"new_image"`
			}
			dec := json.NewDecoder(bytes.NewReader(l))
			dec.UseNumber()
			if err := dec.Decode(&line); err != nil {
				return fmt.Errorf("line in s3://%s/%s: %w", bucket, prefix, err)
			}
			d.say("  the 38-digit number arrived as %s", line.NewImage.N)
		}
		d.say("  %d JSON lines in s3://%s/%s: one per record, DynamoDB images as plain JSON, Kinesis data as it came", len(lines), bucket, prefix)

		// The same tweet as the item itself, and as the projection of
		// AWS's "Top-N DynamoDB objects" Athena post, each into a
		// delivery stream of its own.
		tweets, err := d.event(fn, "tweets.json")
		if err != nil {
			return err
		}
		for _, shape := range []struct {
			stream string
			env    map[string]string
		}{
			{"ddb-items", map[string]string{"OUTPUT_SHAPE": "item"}},
			{"ddb-top-n", map[string]string{"OUTPUT_SHAPE": "projection",
				"PROJECTION": "table_name=@table,user_id,tweet_id,approx_post_time=@approximate_creation_time:epoch-s"}},
		} {
			if err := d.createLake(ctx, bucket, shape.stream, shape.stream+"/"); err != nil {
				return err
			}
			shape.env["DELIVERY_STREAM"] = shape.stream
			if _, err := d.invoke(ctx, fn, tweets, shape.env); err != nil {
				return err
			}
			lines, err := d.deliveredLines(ctx, bucket, shape.stream+"/")
			if err != nil {
				return err
			}
			if len(lines) == 0 {
				return fmt.Errorf("OUTPUT_SHAPE=%s delivered nothing to s3://%s/%s/", shape.env["OUTPUT_SHAPE"], bucket, shape.stream)
			}
			d.say("  events/%s/tweets.json with OUTPUT_SHAPE=%s, %d line(s), the first: %s", fn, shape.env["OUTPUT_SHAPE"], len(lines), firstLine(lines[0], 320))
		}
		return nil
	},
}

// deliveredLines lists the objects under prefix in bucket and returns
// their lines.
func (d *demo) deliveredLines(ctx context.Context, bucket, prefix string) ([][]byte, error) {
	keys, err := d.listObjects(ctx, bucket, prefix)
	if err != nil {
		return nil, err
	}
	var lines [][]byte
	for _, k := range keys {
		obj, err := d.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)},
			func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true }) // moto sends no checksums
		if err != nil {
			return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, k, err)
		}
		body, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		if err != nil {
			return nil, err
		}
		for _, l := range bytes.SplitAfter(body, []byte("\n")) {
			if len(l) > 0 {
				lines = append(lines, l)
			}
		}
	}
	return lines, nil
}
