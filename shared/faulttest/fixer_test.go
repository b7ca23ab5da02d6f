package faulttest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/stretchr/testify/require"
)

// The fixer's run: 30 tables a crawler wrote with set<...> types, each
// announced by its own Table State Change event. EventBridge invokes
// asynchronously: a failed invocation is retried twice, then dead-lettered.
const (
	fixerTables   = 30
	fixerDatabase = "lake"
)

// runFixer: each table ends with no set<...> left, or its event
// dead-lettered. A duplicate is a table version beyond the one the fix
// makes: an update made again because the answer to the first was lost.
func runFixer(t *testing.T, e *env) account {
	ctx := t.Context()
	g := glue.NewFromConfig(e.cfg)
	_, err := g.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gtypes.DatabaseInput{Name: aws.String(fixerDatabase)}})
	require.NoError(t, err)
	for i := range fixerTables {
		_, err := g.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String(fixerDatabase), TableInput: &gtypes.TableInput{
			Name: aws.String(tableName(i)),
			StorageDescriptor: &gtypes.StorageDescriptor{
				Location: aws.String("s3://lake/" + tableName(i) + "/"),
				Columns: []gtypes.Column{
					{Name: aws.String("id"), Type: aws.String("string")},
					{Name: aws.String("tags"), Type: aws.String("set<string>")},
					{Name: aws.String("items"), Type: aws.String("array<struct<sku:string,labels:set<string>>>")},
				},
			},
		}})
		require.NoError(t, err)
	}
	f := e.start("glue-catalog-fixer", map[string]string{"DATABASES": fixerDatabase, "CRAWLERS": "", "UPDATE_ATTEMPTS": "3"})

	deadLettered := map[string]bool{}
	for i := range fixerTables {
		raw, err := json.Marshal(map[string]any{
			"version": "0", "id": fmt.Sprintf("table-change-%02d", i), "detail-type": "Glue Data Catalog Table State Change", "source": "aws.glue",
			"account": "123456789012", "time": "2024-05-01T12:04:31Z", "region": "us-east-1",
			"resources": []string{"arn:aws:glue:us-east-1:123456789012:table/" + fixerDatabase + "/" + tableName(i)},
			"detail":    map[string]any{"databaseName": fixerDatabase, "typeOfChange": "CreateTable", "tableName": tableName(i)},
		})
		require.NoError(t, err)
		if !invokeAsync(ctx, f, raw) {
			deadLettered[tableName(i)] = true
		}
	}

	a := account{In: fixerTables}
	for i := range fixerTables {
		got, err := g.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String(fixerDatabase), Name: aws.String(tableName(i))})
		require.NoError(t, err)
		fixed := true
		for _, c := range got.Table.StorageDescriptor.Columns {
			fixed = fixed && !strings.Contains(aws.ToString(c.Type), "set<")
		}
		versions, err := g.GetTableVersions(ctx, &glue.GetTableVersionsInput{DatabaseName: aws.String(fixerDatabase), TableName: aws.String(tableName(i))})
		require.NoError(t, err)
		if fixed {
			a.Duplicates += max(len(versions.TableVersions)-2, 0) // created, fixed
		}
		switch {
		case fixed:
			a.Delivered++
		case deadLettered[tableName(i)]:
			a.Failed++
		default:
			a.Lost++
			t.Errorf("table %s: not fixed, and its event was not dead-lettered", tableName(i))
		}
	}
	return a
}

func tableName(i int) string { return fmt.Sprintf("events_%02d", i) }
