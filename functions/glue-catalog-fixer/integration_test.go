package main

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/eventbridge"
	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
)

const logicalID = "GlueCatalogFixerFunction"

func TestMain(m *testing.M) { moto.Main(m) }

// startFixer builds the real bootstrap and starts it with the template's
// environment, pointed at moto.
func startFixer(t *testing.T) *lambdarun.Function {
	t.Helper()
	f, err := lambdarun.StartRepoFunction("glue-catalog-fixer", lambdarun.Options{Stderr: os.Stderr, Timeout: time.Minute}, moto.Shared(t).Env())
	require.NoError(t, err)
	t.Cleanup(f.Stop)
	return f
}

func invoke(t *testing.T, f *lambdarun.Function, eventFile string) Result {
	t.Helper()
	var res Result
	require.NoError(t, f.InvokeFile(context.Background(), eventFile, &res))
	return res
}

func glueClient(t *testing.T) *glue.Client {
	t.Helper()
	cfg, err := moto.Shared(t).Config(context.Background())
	require.NoError(t, err)
	return glue.NewFromConfig(cfg)
}

// createTable creates db.<table> in moto from a testdata table, as a
// crawler would have.
func createTable(t *testing.T, g *glue.Client, db, fixture string) {
	t.Helper()
	_, err := g.CreateTable(context.Background(), &glue.CreateTableInput{
		DatabaseName: aws.String(db), TableInput: tableInput(readTable(t, fixture)),
	})
	require.NoError(t, err)
}

func columnTypes(t *testing.T, table *types.Table) []string {
	t.Helper()
	var out []string
	for _, c := range table.StorageDescriptor.Columns {
		out = append(out, aws.ToString(c.Type))
	}
	return out
}

// TestIntegrationFixOnce runs the real binary against moto: a table with
// set<> columns comes back from GetTable with array<> ones, and the change
// event the fix fires makes no UpdateTable (the VersionId, UpdateTime and
// the number of versions stay as they were).
func TestIntegrationFixOnce(t *testing.T) {
	require.NoError(t, moto.Shared(t).Reset())
	ctx := context.Background()
	g := glueClient(t)
	_, err := g.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &types.DatabaseInput{Name: aws.String("lake")}})
	require.NoError(t, err)
	createTable(t, g, "lake", "testdata/tables/dynamodb-sets.json")
	f := startFixer(t)

	res := invoke(t, f, "../../events/glue-catalog-fixer/table-created.json")
	require.Len(t, res.Tables, 1)
	assert.Equal(t, StatusFixed, res.Tables[0].Status, res.Tables[0].Error)
	assert.Len(t, res.Tables[0].Changes, 5)

	got, err := g.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("lake"), Name: aws.String("orders")})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"string", "array<string>", "array<bigint>",
		"struct<emails:array<string>,address:struct<street:string,zip:string>,age:int>",
		"array<struct<at:string,items:array<string>>>", "map<string,array<string>>", "decimal(38,10)",
	}, columnTypes(t, got.Table))
	assert.Equal(t, "DynamoDB SS", aws.ToString(got.Table.StorageDescriptor.Columns[1].Comment), "the rest of the column is kept")
	assert.Equal(t, "lake-crawler", got.Table.Parameters["UPDATED_BY_CRAWLER"], "the rest of the table is kept")
	assert.Len(t, got.Table.PartitionKeys, 3)
	require.Equal(t, "2", aws.ToString(got.Table.VersionId), "one UpdateTable")
	require.NotNil(t, got.Table.UpdateTime)

	// The fixer's UpdateTable fires this event; it must end in a no-op.
	res = invoke(t, f, "../../events/glue-catalog-fixer/table-updated.json")
	require.Len(t, res.Tables, 1)
	assert.Equal(t, StatusUnchanged, res.Tables[0].Status)

	again, err := g.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("lake"), Name: aws.String("orders")})
	require.NoError(t, err)
	assert.Equal(t, "2", aws.ToString(again.Table.VersionId), "no second UpdateTable")
	assert.Equal(t, got.Table.UpdateTime, again.Table.UpdateTime)
	versions, err := g.GetTableVersions(ctx, &glue.GetTableVersionsInput{DatabaseName: aws.String("lake"), TableName: aws.String("orders")})
	require.NoError(t, err)
	assert.Len(t, versions.TableVersions, 2, "the crawler's version and the fix")
}

// TestIntegrationCrawlerSweep: a crawler's success fixes every table of its
// database; a table whose type does not parse is reported and the others
// are still fixed; a table deleted before the fixer gets to it is reported
// and the process goes on serving.
func TestIntegrationCrawlerSweep(t *testing.T) {
	require.NoError(t, moto.Shared(t).Reset())
	ctx := context.Background()
	g := glueClient(t)
	_, err := g.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &types.DatabaseInput{Name: aws.String("lake")}})
	require.NoError(t, err)
	_, err = g.CreateCrawler(ctx, &glue.CreateCrawlerInput{
		Name: aws.String("lake-crawler"), Role: aws.String("arn:aws:iam::123456789012:role/glue-crawler"),
		DatabaseName: aws.String("lake"),
		Targets:      &types.CrawlerTargets{S3Targets: []types.S3Target{{Path: aws.String("s3://lake-raw/")}}},
	})
	require.NoError(t, err)
	for _, fixture := range []string{"dynamodb-sets", "unparseable", "already-fixed", "partition-keys-only"} {
		table := readTable(t, "testdata/tables/"+fixture+".json")
		table.Name = aws.String(fixture)
		_, err := g.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("lake"), TableInput: tableInput(table)})
		require.NoError(t, err)
	}
	f := startFixer(t)

	res := invoke(t, f, "../../events/glue-catalog-fixer/crawler-succeeded.json")
	assert.Equal(t, "lake", res.Database)
	status := map[string]string{}
	for _, r := range res.Tables {
		status[r.Table] = r.Status
	}
	assert.Equal(t, map[string]string{
		"dynamodb-sets": StatusFixed, "unparseable": StatusFailed, "already-fixed": StatusUnchanged, "partition-keys-only": StatusFixed,
	}, status)

	keys, err := g.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("lake"), Name: aws.String("partition-keys-only")})
	require.NoError(t, err)
	assert.Equal(t, "array<string>", aws.ToString(keys.Table.PartitionKeys[0].Type))
	broken, err := g.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("lake"), Name: aws.String("unparseable")})
	require.NoError(t, err)
	assert.Equal(t, "1", aws.ToString(broken.Table.VersionId), "a table that cannot be read is left alone")

	// The table the event names is gone.
	_, err = g.DeleteTable(ctx, &glue.DeleteTableInput{DatabaseName: aws.String("lake"), Name: aws.String("already-fixed")})
	require.NoError(t, err)
	b, err := json.Marshal(events.CloudWatchEvent{
		ID: "1", DetailType: eventbridge.DetailTypeGlueTableStateChange, Source: eventbridge.SourceGlue, Time: time.Now(),
		Detail: json.RawMessage(`{"databaseName":"lake","typeOfChange":"UpdateTable","tableName":"already-fixed"}`),
	})
	require.NoError(t, err)
	out, err := f.Invoke(ctx, b)
	require.NoError(t, err, "a deleted table is reported, not an invocation error")
	var gone Result
	require.NoError(t, json.Unmarshal(out, &gone))
	require.Len(t, gone.Tables, 1)
	assert.Equal(t, StatusFailed, gone.Tables[0].Status)
	assert.Contains(t, gone.Tables[0].Error, "deleted before it could be fixed")

	res = invoke(t, f, "../../events/glue-catalog-fixer/crawler-succeeded.json")
	assert.Len(t, res.Tables, 3, "the same process serves the next event")
}

// TestIntegrationMalformedEvent: an event the fixer cannot read fails the
// invocation (so Lambda retries, then dead-letters it) without killing the
// process.
func TestIntegrationMalformedEvent(t *testing.T) {
	require.NoError(t, moto.Shared(t).Reset())
	f := startFixer(t)
	_, err := f.Invoke(context.Background(), []byte(`{"detail-type":"Glue Data Catalog Table State Change","detail":{"typeOfChange":"UpdateTable"}}`))
	var fe *lambdarun.FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Message, "malformed event: Glue Data Catalog Table State Change has no detail.databaseName")
	_, err = f.Invoke(context.Background(), []byte(`{"detail-type":"Glue Crawler State Change","detail":{"crawlerName":"x","state":"Failed"}}`))
	assert.NoError(t, err)
}

// TestEventPatterns proves each EventBridge pattern of the function in
// template.yaml matches the events/ samples it is meant for and lets the
// others by: moto's TestEventPattern is a stub, so each pattern becomes a
// rule with an SQS queue as its target, every event is put on the bus, and
// the queues say which rules matched.
func TestEventPatterns(t *testing.T) {
	matches := map[string][]string{
		"../../events/glue-catalog-fixer/table-updated.json":     {"TableChanged"},
		"../../events/glue-catalog-fixer/table-created.json":     {"TableChanged"},
		"../../events/glue-catalog-fixer/crawler-succeeded.json": {"CrawlerSucceeded"},
		"testdata/events/partitions-created.json":                nil,
		"testdata/events/other-database.json":                    nil,
		"testdata/events/table-deleted.json":                     nil,
		"testdata/events/crawler-failed.json":                    nil,
		"testdata/events/other-crawler.json":                     nil,
	}
	tmpl, err := lambdarun.LoadRepoTemplate()
	require.NoError(t, err)
	rules, err := tmpl.EventPatterns(logicalID)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"TableChanged", "CrawlerSucceeded"}, slices.Collect(maps.Keys(rules)))
	srv := moto.Shared(t)
	require.NoError(t, srv.Reset())
	moto.NewPatternBus(t, srv, rules).MatchFiles(t, "../../events/glue-catalog-fixer/*.json", matches)
}
