package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
)

const logicalID = "GlueCatalogFixerFunction"

var srv *moto.Server

func TestMain(m *testing.M) { moto.Main(m, &srv) }

// startFixer builds the real bootstrap and starts it with the template's
// environment, pointed at moto.
func startFixer(t *testing.T) *lambdarun.Function {
	t.Helper()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	bin, err := lambdarun.Build(context.Background(), root, "glue-catalog-fixer", t.TempDir())
	require.NoError(t, err)
	tmpl, err := lambdarun.LoadTemplate(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	env, err := tmpl.Environment(logicalID)
	require.NoError(t, err)
	for k, v := range srv.Env() {
		env[k] = v
	}
	f, err := lambdarun.Start(lambdarun.Options{Binary: bin, Env: env, Stderr: os.Stderr, Timeout: time.Minute})
	require.NoError(t, err)
	t.Cleanup(f.Stop)
	return f
}

func invoke(t *testing.T, f *lambdarun.Function, eventFile string) Result {
	t.Helper()
	b, err := os.ReadFile(eventFile)
	require.NoError(t, err)
	out, err := f.Invoke(context.Background(), b)
	require.NoError(t, err)
	var res Result
	require.NoError(t, json.Unmarshal(out, &res), string(out))
	return res
}

func glueClient(t *testing.T) *glue.Client {
	t.Helper()
	cfg, err := srv.Config(context.Background())
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
	require.NoError(t, srv.Reset())
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
	require.NoError(t, srv.Reset())
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
		ID: "1", DetailType: DetailTypeTableChange, Source: "aws.glue", Time: time.Now(),
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
	require.NoError(t, srv.Reset())
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
	samples, err := filepath.Glob("../../events/glue-catalog-fixer/*.json")
	require.NoError(t, err)
	for _, s := range samples {
		require.Contains(t, matches, s, "every sample event has an expectation")
	}
	require.NoError(t, srv.Reset())
	rules := patternRules(t, logicalID)
	require.ElementsMatch(t, []string{"TableChanged", "CrawlerSucceeded"}, slices.Collect(maps.Keys(rules)))
	bus := newPatternBus(t, rules)

	for file, want := range matches {
		t.Run(filepath.Base(file), func(t *testing.T) {
			assert.ElementsMatch(t, want, bus.match(t, readEvent(t, file)))
		})
	}
}

// patternBus is moto's default event bus with one rule per template
// pattern, each delivering to its own queue.
type patternBus struct {
	eb     *eventbridge.Client
	sqs    *sqs.Client
	queues map[string]string // rule name to queue URL
}

func newPatternBus(t *testing.T, patterns map[string]string) *patternBus {
	t.Helper()
	ctx := context.Background()
	cfg, err := srv.Config(ctx)
	require.NoError(t, err)
	b := &patternBus{eb: eventbridge.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg), queues: map[string]string{}}
	for name, pattern := range patterns {
		q, err := b.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("pattern-" + name)})
		require.NoError(t, err)
		_, err = b.eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(pattern)})
		require.NoError(t, err, pattern)
		_, err = b.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{{
			Id: aws.String("queue"), Arn: aws.String(fmt.Sprintf("arn:aws:sqs:%s:123456789012:pattern-%s", moto.Region, name)),
		}}})
		require.NoError(t, err)
		b.queues[name] = aws.ToString(q.QueueUrl)
	}
	return b
}

// match puts ev on the bus and returns the rules whose queue received it.
func (b *patternBus) match(t *testing.T, ev events.CloudWatchEvent) []string {
	t.Helper()
	ctx := context.Background()
	out, err := b.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String(ev.Source), DetailType: aws.String(ev.DetailType), Detail: aws.String(string(ev.Detail)),
		Resources: ev.Resources, Time: aws.Time(ev.Time),
	}}})
	require.NoError(t, err)
	require.Zero(t, out.FailedEntryCount)
	var matched []string
	for name, url := range b.queues {
		msgs, err := b.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		require.NoError(t, err)
		for _, m := range msgs.Messages {
			var got events.CloudWatchEvent
			require.NoError(t, json.Unmarshal([]byte(aws.ToString(m.Body)), &got))
			require.JSONEq(t, string(ev.Detail), string(got.Detail), "rule %s delivered another event", name)
			matched = append(matched, name)
			_, err := b.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
	}
	return matched
}

// patternRules reads the EventBridge patterns of a function's events from
// template.yaml, with !Ref parameters replaced by their defaults, as JSON
// by event name.
func patternRules(t *testing.T, function string) map[string]string {
	t.Helper()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	var tmpl struct {
		Parameters map[string]struct {
			Default string `yaml:"Default"`
		} `yaml:"Parameters"`
		Resources map[string]struct {
			Properties struct {
				Events map[string]struct {
					Type       string `yaml:"Type"`
					Properties struct {
						Pattern yaml.Node `yaml:"Pattern"`
					} `yaml:"Properties"`
				} `yaml:"Events"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal(b, &tmpl))
	fn, ok := tmpl.Resources[function]
	require.True(t, ok, "template.yaml has no %s", function)
	out := map[string]string{}
	for name, e := range fn.Properties.Events {
		if e.Type != "EventBridgeRule" {
			continue
		}
		v, err := resolveNode(&e.Properties.Pattern, func(ref string) (string, bool) {
			p, ok := tmpl.Parameters[ref]
			return p.Default, ok
		})
		require.NoError(t, err, "event %s", name)
		j, err := json.Marshal(v)
		require.NoError(t, err)
		out[name] = string(j)
	}
	return out
}

// resolveNode turns a YAML node into plain values, replacing !Ref
// parameter with the parameter's default.
func resolveNode(n *yaml.Node, param func(string) (string, bool)) (any, error) {
	switch {
	case n.Tag == "!Ref":
		v, ok := param(n.Value)
		if !ok {
			return nil, fmt.Errorf("!Ref %s is not a parameter", n.Value)
		}
		return v, nil
	case n.Kind == yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := resolveNode(n.Content[i+1], param)
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case n.Kind == yaml.SequenceNode:
		var s []any
		for _, c := range n.Content {
			v, err := resolveNode(c, param)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case n.Kind == yaml.ScalarNode && (n.Tag == "" || n.Tag == "!!str"):
		return n.Value, nil
	case n.Kind == yaml.ScalarNode && n.Tag != "" && n.Tag[0] == '!' && n.Tag[1] != '!':
		return nil, fmt.Errorf("%s is not supported in a pattern test", n.Tag)
	case n.Kind == yaml.ScalarNode:
		var v any
		err := n.Decode(&v)
		return v, err
	}
	return nil, fmt.Errorf("unexpected YAML node kind %d", n.Kind)
}
