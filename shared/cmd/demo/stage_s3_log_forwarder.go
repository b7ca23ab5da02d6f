package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lakestream/shared/laketable"
	"lakestream/shared/lambdarun"
	"lakestream/shared/moto/lake"
	"lakestream/shared/pipeline"
	"lakestream/shared/record"
)

// The template wires the forwarder for CloudFront logs (its sample event
// and log file); an ALB log file goes through the same binary deployed
// with FORMAT=alb, into its own stream. Both land in the lake bucket under
// their table's folder, as JSON lines each lake table reads.
var s3LogForwarderStage = stage{
	fn:    "s3-log-forwarder",
	title: "S3 log forwarder: a CloudFront and an ALB log file, line by line from S3 into the lake",
	run: func(ctx context.Context, d *demo) error {
		if err := d.forwardLogFile(ctx, "cloudfront.json", nil); err != nil {
			return err
		}
		alb := map[string]string{"FORMAT": "alb", "DELIVERY_STREAM": "lakestream-alb-logs",
			"DERIVE_USER_AGENT": "", "MASK_FIELDS": "client_ip=truncate-ip", "DROP_IF": "", "SCHEMA": "elb_status_code:int:100..599"}
		return d.forwardLogFile(ctx, "alb/eventbridge.json", alb)
	},
}

// forwardLogFile sets up what the sample event names, runs the forwarder on
// it with the template's environment and overrides, and shows what landed
// in the lake and that every line fits the format's lake table.
func (d *demo) forwardLogFile(ctx context.Context, sample string, overrides map[string]string) error {
	const fn = "s3-log-forwarder"
	env, err := d.tmpl.Environment(lambdarun.LogicalID(fn))
	if err != nil {
		return err
	}
	for k, v := range overrides {
		env[k] = v
	}
	ev, err := d.event(fn, sample)
	if err != nil {
		return err
	}
	created, err := d.lake.Setup(ctx, fn, env, ev)
	for _, c := range created {
		d.say("  set up %s", c)
	}
	if err != nil {
		return err
	}
	table, _ := laketable.Lookup(env["FORMAT"])
	if err := d.lakeTable(ctx, table); err != nil {
		return err
	}

	out, err := d.invoke(ctx, fn, ev, overrides)
	if err != nil {
		return err
	}
	var res struct {
		Objects []struct {
			Source, Status, Error                                                string
			LinesRead, LinesSent, LinesSkipped, LinesFiltered, LinesFailed, Recs int64
			ErrorObjects                                                         []string
		} `json:"objects"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	for _, o := range res.Objects {
		d.say("  in:  %s (FORMAT=%s, events/%s/%s)", o.Source, env["FORMAT"], fn, sample)
		d.say("  out: %s - %d lines read: %d sent, %d skipped (headers), %d filtered, %d failed", o.Status, o.LinesRead, o.LinesSent, o.LinesSkipped, o.LinesFiltered, o.LinesFailed)
		for _, e := range o.ErrorObjects {
			d.say("  the failed lines, with their numbers and reasons: %s", e)
		}
	}

	keys, err := d.listObjects(ctx, lake.TablesBucket, table.Prefix)
	if err != nil {
		return err
	}
	lines := 0
	for _, k := range keys {
		body, err := d.get(ctx, lake.TablesBucket, k)
		if err != nil {
			return err
		}
		for line := range bytes.Lines(body) {
			if lines == 0 {
				d.say("  first line, typed: %s", firstLine(line, 400))
			}
			if err := fitsTable(line, table); err != nil {
				return fmt.Errorf("a line in s3://%s/%s does not fit table %s: %w", lake.TablesBucket, k, table.Name, err)
			}
			lines++
		}
	}
	d.say("  %d JSON lines in s3://%s/%s, every one a row of Glue table %s (%d columns, projected year/month/day/hour partitions)",
		lines, lake.TablesBucket, table.Prefix, table.Name, len(table.Columns))
	d.say("  (moto files them under the hour they arrived; the deployed stream's JQ files each line under its own: %s)", table.PartitionQuery())
	return nil
}

// lakeTable creates the template's table in the emulator (unpartitioned
// here: moto writes no partition folders), as the stack creates it.
func (d *demo) lakeTable(ctx context.Context, t laketable.Table) error {
	const db = "lakestream_lake"
	_, err := d.lake.Glue.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String(db)}})
	if err != nil && !strings.Contains(err.Error(), "AlreadyExists") {
		return fmt.Errorf("create database %s: %w", db, err)
	}
	cols := make([]gluetypes.Column, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = gluetypes.Column{Name: aws.String(strings.ToLower(c.Name)), Type: aws.String(c.Type)}
	}
	_, err = d.lake.Glue.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String(db), TableInput: &gluetypes.TableInput{
		Name: aws.String(t.Name), TableType: aws.String("EXTERNAL_TABLE"),
		StorageDescriptor: &gluetypes.StorageDescriptor{
			Columns: cols, Location: aws.String("s3://" + lake.TablesBucket + "/" + t.Prefix),
			SerdeInfo: &gluetypes.SerDeInfo{SerializationLibrary: aws.String("org.openx.data.jsonserde.JsonSerDe")},
		},
	}})
	if err != nil && !strings.Contains(err.Error(), "AlreadyExists") {
		return fmt.Errorf("create table %s.%s: %w", db, t.Name, err)
	}
	d.say("  Glue table %s.%s: %d columns from the parser's, JSON at s3://%s/%s", db, t.Name, len(t.Columns), lake.TablesBucket, t.Prefix)
	return nil
}

// fitsTable checks a JSON line against a table: every field a column, of
// the column's type.
func fitsTable(line []byte, t laketable.Table) error {
	r, err := pipeline.ParseJSON(bytes.TrimSpace(line))
	if err != nil {
		return err
	}
	// ParseJSON leaves non-integer numbers as JSON text: Conform turns
	// them into the column's type, and fails what does not convert.
	c, err := t.Columns.Conform(r, "")
	if err != nil {
		return err
	}
	if len(c.Fields) != len(r.Fields) {
		return fmt.Errorf("%d fields, %d of them columns", len(r.Fields), len(c.Fields))
	}
	return record.Columns(t.Columns).Check(c)
}

// get reads an object.
func (d *demo) get(ctx context.Context, bucket, key string) ([]byte, error) {
	obj, err := d.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true }) // moto sends no checksums
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer obj.Body.Close()
	return io.ReadAll(obj.Body)
}
