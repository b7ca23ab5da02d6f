package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
)

// The fixer's sample events name database lake (the template's
// GlueCatalogFixerDatabase), table orders and crawler lake-crawler.
var glueCatalogFixerStage = stage{
	fn:    "glue-catalog-fixer",
	title: "Glue-catalog fixer: set<> column types a crawler wrote become array<>",
	run: func(ctx context.Context, d *demo) error {
		g := d.lake.Glue
		// The database, the crawler, and the tables orders and clicks as a
		// crawler wrote them for a DynamoDB export with sets.
		if err := d.setup(ctx, "glue-catalog-fixer", nil); err != nil {
			return err
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
		// A crawler run that added a table (clicks): its success sweeps
		// the database.
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
