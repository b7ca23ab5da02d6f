package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// The fixer's sample events name database lake (the template's
// GlueCatalogFixerDatabase), table orders and crawler lake-crawler.
var glueCatalogFixerStage = stage{
	fn:    "glue-catalog-fixer",
	title: "Glue-catalog fixer: set<> column types a crawler wrote become array<>",
	run: func(ctx context.Context, d *demo) error {
		g := glue.NewFromConfig(d.aws)
		if err := ensureGlueDatabase(ctx, g, "lake"); err != nil {
			return err
		}
		// What a crawler writes for a DynamoDB export with string and number sets.
		orders := &gluetypes.TableInput{
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
		}
		if _, err := g.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("lake"), TableInput: orders}); err != nil {
			return fmt.Errorf("create table lake.orders: %w", err)
		}
		d.say("  table lake.orders as the crawler wrote it:")
		if err := d.showColumns(ctx, g, "lake", "orders"); err != nil {
			return err
		}

		for _, sample := range []string{"table-created.json", "table-updated.json"} {
			if err := d.fixerInvoke(ctx, sample); err != nil {
				return err
			}
		}
		d.say("  (table-updated.json is the event the fix itself fires: it ended without an UpdateTable)")
		d.say("  table lake.orders now:")
		if err := d.showColumns(ctx, g, "lake", "orders"); err != nil {
			return err
		}

		// A crawler run that added a table: its success sweeps the database.
		_, err := g.CreateCrawler(ctx, &glue.CreateCrawlerInput{
			Name: aws.String("lake-crawler"), Role: aws.String("arn:aws:iam::123456789012:role/glue-crawler"),
			DatabaseName: aws.String("lake"),
			Targets:      &gluetypes.CrawlerTargets{S3Targets: []gluetypes.S3Target{{Path: aws.String("s3://lake-raw/")}}},
		})
		var exists *gluetypes.AlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("create crawler lake-crawler: %w", err)
		}
		clicks := &gluetypes.TableInput{
			Name: aws.String("clicks"),
			StorageDescriptor: &gluetypes.StorageDescriptor{Location: aws.String("s3://lake-raw/clicks/"), Columns: []gluetypes.Column{
				{Name: aws.String("page"), Type: aws.String("string")},
				{Name: aws.String("labels"), Type: aws.String("map<string,set<string>>")},
			}},
		}
		if _, err := g.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("lake"), TableInput: clicks}); err != nil {
			return fmt.Errorf("create table lake.clicks: %w", err)
		}
		return d.fixerInvoke(ctx, "crawler-succeeded.json")
	},
}

// fixerInvoke runs the fixer on a sample and prints what it did per table.
func (d *demo) fixerInvoke(ctx context.Context, sample string) error {
	ev, err := d.event("glue-catalog-fixer", sample)
	if err != nil {
		return err
	}
	out, err := d.invoke(ctx, "glue-catalog-fixer", ev, nil)
	if err != nil {
		return err
	}
	var res struct {
		Tables []struct {
			Database, Table, Status, Error string
			Changes                        []struct{ Column, From, To string }
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return fmt.Errorf("fixer response: %w", err)
	}
	d.say("  in:  events/glue-catalog-fixer/%s", sample)
	for _, t := range res.Tables {
		d.say("  out: %s.%s %s", t.Database, t.Table, strings.TrimSpace(t.Status+" "+t.Error))
		for _, c := range t.Changes {
			d.say("         %s: %s -> %s", c.Column, c.From, c.To)
		}
	}
	return nil
}

// showColumns prints a table's version and column types.
func (d *demo) showColumns(ctx context.Context, g *glue.Client, db, table string) error {
	out, err := g.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String(db), Name: aws.String(table)})
	if err != nil {
		return fmt.Errorf("get table %s.%s: %w", db, table, err)
	}
	d.say("    VersionId %s", aws.ToString(out.Table.VersionId))
	for _, c := range out.Table.StorageDescriptor.Columns {
		d.say("    %-8s %s", aws.ToString(c.Name), aws.ToString(c.Type))
	}
	return nil
}

// ensureGlueDatabase creates a database unless another stage already did.
func ensureGlueDatabase(ctx context.Context, g *glue.Client, name string) error {
	_, err := g.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String(name)}})
	var exists *gluetypes.AlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
