package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
	"lakestream/shared/config"
	"lakestream/shared/eventbridge"
	"lakestream/shared/logging/logtest"
	"lakestream/shared/metrics"
)

// fakeCatalog is an in-memory Glue Data Catalog with GetTable's VersionId
// and UpdateTable's optimistic locking.
type fakeCatalog struct {
	mu       sync.Mutex
	tables   map[string]*types.Table // by "db.table"
	crawlers map[string]string       // crawler name to database
	updates  []*glue.UpdateTableInput
	calls    map[string]int
	// getErr and updateErr fail calls for a table; beforeUpdate runs
	// before an update is applied (a concurrent writer, a panic).
	getErr       map[string]error
	updateErr    map[string]error
	beforeUpdate func(f *fakeCatalog, key string)
}

func newFakeCatalog() *fakeCatalog {
	return &fakeCatalog{tables: map[string]*types.Table{}, crawlers: map[string]string{}, calls: map[string]int{},
		getErr: map[string]error{}, updateErr: map[string]error{}}
}

func (f *fakeCatalog) put(db string, t *types.Table) {
	t.DatabaseName = aws.String(db)
	if t.VersionId == nil {
		t.VersionId = aws.String("1")
	}
	f.tables[db+"."+aws.ToString(t.Name)] = t
}

func (f *fakeCatalog) GetTable(_ context.Context, in *glue.GetTableInput, _ ...func(*glue.Options)) (*glue.GetTableOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["GetTable"]++
	key := aws.ToString(in.DatabaseName) + "." + aws.ToString(in.Name)
	if err := f.getErr[key]; err != nil {
		return nil, err
	}
	t, ok := f.tables[key]
	if !ok {
		return nil, &types.EntityNotFoundException{Message: aws.String("Table " + aws.ToString(in.Name) + " not found.")}
	}
	c := *t
	return &glue.GetTableOutput{Table: &c}, nil
}

// GetTables pages two tables at a time, in name order, so sweeps page.
func (f *fakeCatalog) GetTables(_ context.Context, in *glue.GetTablesInput, _ ...func(*glue.Options)) (*glue.GetTablesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["GetTables"]++
	var names []string
	for key := range f.tables {
		if db, _, _ := strings.Cut(key, "."); db == aws.ToString(in.DatabaseName) {
			names = append(names, key)
		}
	}
	slices.Sort(names)
	start, _ := strconv.Atoi(aws.ToString(in.NextToken))
	out := &glue.GetTablesOutput{}
	for _, key := range names[start:min(start+2, len(names))] {
		out.TableList = append(out.TableList, *f.tables[key])
	}
	if start+2 < len(names) {
		out.NextToken = aws.String(strconv.Itoa(start + 2))
	}
	return out, nil
}

func (f *fakeCatalog) UpdateTable(_ context.Context, in *glue.UpdateTableInput, _ ...func(*glue.Options)) (*glue.UpdateTableOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["UpdateTable"]++
	f.updates = append(f.updates, in)
	key := aws.ToString(in.DatabaseName) + "." + aws.ToString(in.TableInput.Name)
	if f.beforeUpdate != nil {
		f.beforeUpdate(f, key)
	}
	if err := f.updateErr[key]; err != nil {
		return nil, err
	}
	t, ok := f.tables[key]
	if !ok {
		return nil, &types.EntityNotFoundException{Message: aws.String("Table not found.")}
	}
	if aws.ToString(in.VersionId) != aws.ToString(t.VersionId) {
		return nil, &types.ConcurrentModificationException{Message: aws.String("Update table failed due to concurrent modifications.")}
	}
	f.tables[key] = tableFromInput(t, in.TableInput)
	return &glue.UpdateTableOutput{}, nil
}

// tableFromInput is the table after UpdateTable: the input's fields, the
// version moved on, the read-only fields kept.
func tableFromInput(old *types.Table, in *types.TableInput) *types.Table {
	n, _ := strconv.Atoi(aws.ToString(old.VersionId))
	return &types.Table{
		Name: in.Name, DatabaseName: old.DatabaseName, CatalogId: old.CatalogId, CreateTime: old.CreateTime,
		UpdateTime: aws.Time(time.Date(2024, 5, 1, 13, 0, n, 0, time.UTC)), VersionId: aws.String(strconv.Itoa(n + 1)),
		Description: in.Description, Owner: in.Owner, Parameters: in.Parameters, PartitionKeys: in.PartitionKeys,
		Retention: in.Retention, StorageDescriptor: in.StorageDescriptor, TableType: in.TableType,
		ViewOriginalText: in.ViewOriginalText, ViewExpandedText: in.ViewExpandedText,
	}
}

func (f *fakeCatalog) GetCrawler(_ context.Context, in *glue.GetCrawlerInput, _ ...func(*glue.Options)) (*glue.GetCrawlerOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["GetCrawler"]++
	db, ok := f.crawlers[aws.ToString(in.Name)]
	if !ok {
		return nil, &types.EntityNotFoundException{Message: aws.String("Crawler entry with name " + aws.ToString(in.Name) + " does not exist")}
	}
	return &glue.GetCrawlerOutput{Crawler: &types.Crawler{Name: in.Name, DatabaseName: aws.String(db)}}, nil
}

// handle invokes h with ev as EventBridge sends it and returns its Result
// (nil for a malformed event), which the Handler returns even when the
// invocation fails.
func handle(t testing.TB, h *batch.Handler, ev events.CloudWatchEvent) (*Result, error) {
	t.Helper()
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	resp, err := h.Handle(context.Background(), raw)
	res, _ := resp.(*Result)
	return res, err
}

func columns(kv ...string) *types.StorageDescriptor {
	sd := &types.StorageDescriptor{Location: aws.String("s3://lake-raw/t/")}
	for i := 0; i+1 < len(kv); i += 2 {
		sd.Columns = append(sd.Columns, types.Column{Name: aws.String(kv[i]), Type: aws.String(kv[i+1])})
	}
	return sd
}

func testConfig(t *testing.T, vars map[string]string) Config {
	t.Helper()
	env := config.New(config.FromMap(vars))
	cfg := loadConfig(env)
	require.NoError(t, env.Err())
	cfg.Retry.Sleep = func(context.Context, time.Duration) error { return nil }
	return cfg
}

var defaultVars = map[string]string{"DATABASES": "lake", "CRAWLERS": "lake-crawler"}

// TestHandleSamples runs every events/glue-catalog-fixer sample against a
// catalog holding the crawler-made table of testdata/tables, compares the
// result with testdata/handle/<sample>.golden.json, and then delivers the
// change event the fixer's own update fires: it must end without a call.
func TestHandleSamples(t *testing.T) {
	samples, err := filepath.Glob("../../events/glue-catalog-fixer/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, samples)
	for _, sample := range samples {
		name := strings.TrimSuffix(filepath.Base(sample), ".json")
		t.Run(name, func(t *testing.T) {
			cat := newFakeCatalog()
			cat.put("lake", readTable(t, "testdata/tables/dynamodb-sets.json"))
			cat.put("lake", &types.Table{Name: aws.String("clean"), StorageDescriptor: columns("id", "string")})
			cat.put("other", &types.Table{Name: aws.String("orders"), StorageDescriptor: columns("tags", "set<string>")})
			cat.crawlers["lake-crawler"] = "lake"
			var logs, emf bytes.Buffer
			h := newHandler(testConfig(t, defaultVars), cat, slog.New(slog.NewJSONHandler(&logs, nil)), metrics.New(&emf, "lakestream"))

			res, err := handle(t, h, readEvent(t, sample))
			require.NoError(t, err)
			compareGolden(t, filepath.Join("testdata/handle", name+".golden.json"), res)

			require.Len(t, cat.updates, 1, "one table to fix, one update")
			up := cat.updates[0]
			assert.Equal(t, "lake", aws.ToString(up.DatabaseName))
			assert.Equal(t, "3", aws.ToString(up.VersionId), "the version GetTable returned, for optimistic locking")
			assert.False(t, aws.ToBool(up.SkipArchive))
			assert.Equal(t, "array<string>", aws.ToString(cat.tables["lake.orders"].StorageDescriptor.Columns[1].Type))
			assert.Equal(t, "set<string>", aws.ToString(cat.tables["other.orders"].StorageDescriptor.Columns[0].Type), "another database is left alone")

			summary := logtest.Line(t, logs.String(), "invocation done")
			assert.Equal(t, float64(1), summary["fixed"])
			assert.Equal(t, float64(5), summary["columns_fixed"])
			assert.Contains(t, emf.String(), `"TablesFixed":1`)

			// The fixer's own UpdateTable fires this event.
			again, err := handle(t, h, readEvent(t, "../../events/glue-catalog-fixer/table-updated.json"))
			require.NoError(t, err)
			require.Len(t, again.Tables, 1)
			assert.Equal(t, StatusUnchanged, again.Tables[0].Status)
			assert.Len(t, cat.updates, 1, "no UpdateTable when nothing needs fixing")
			assert.Equal(t, "4", aws.ToString(cat.tables["lake.orders"].VersionId))
		})
	}
}

// TestHandleConflict: another writer changes the table between the
// fixer's read and its update; Glue refuses the stale update, and the fixer
// reads the table again and fixes what is there now.
func TestHandleConflict(t *testing.T) {
	cat := newFakeCatalog()
	cat.put("lake", &types.Table{Name: aws.String("orders"), StorageDescriptor: columns("tags", "set<string>")})
	cat.beforeUpdate = func(f *fakeCatalog, key string) {
		if f.calls["UpdateTable"] == 1 { // a crawler adds a column
			cur := f.tables[key]
			f.tables[key] = tableFromInput(cur, &types.TableInput{
				Name: cur.Name, StorageDescriptor: columns("tags", "set<string>", "labels", "set<int>"),
			})
		}
	}
	h := newHandler(testConfig(t, defaultVars), cat, nil, nil)

	res, err := handle(t, h, event(eventbridge.DetailTypeGlueTableStateChange, `{"databaseName":"lake","typeOfChange":"UpdateTable","tableName":"orders"}`))
	require.NoError(t, err)
	require.Len(t, res.Tables, 1)
	assert.Equal(t, StatusFixed, res.Tables[0].Status)
	assert.Equal(t, 1, res.Tables[0].Conflicts)
	assert.Len(t, res.Tables[0].Changes, 2)
	require.Len(t, cat.updates, 2)
	assert.Equal(t, "1", aws.ToString(cat.updates[0].VersionId))
	assert.Equal(t, "2", aws.ToString(cat.updates[1].VersionId))
	assert.Equal(t, 2, cat.calls["GetTable"], "read again after the conflict")
	got := cat.tables["lake.orders"].StorageDescriptor.Columns
	assert.Equal(t, "array<string>", aws.ToString(got[0].Type))
	assert.Equal(t, "array<int>", aws.ToString(got[1].Type), "the column added meanwhile is fixed too")
}

// TestHandleConflictBounded: a table that keeps changing is given up after
// UPDATE_ATTEMPTS tries, and the invocation fails so Lambda retries it.
func TestHandleConflictBounded(t *testing.T) {
	cat := newFakeCatalog()
	cat.put("lake", &types.Table{Name: aws.String("orders"), StorageDescriptor: columns("tags", "set<string>")})
	cat.beforeUpdate = func(f *fakeCatalog, key string) {
		cur := f.tables[key]
		f.tables[key] = tableFromInput(cur, &types.TableInput{Name: cur.Name, StorageDescriptor: cur.StorageDescriptor})
	}
	h := newHandler(testConfig(t, map[string]string{"DATABASES": "lake", "UPDATE_ATTEMPTS": "3"}), cat, nil, nil)

	res, err := handle(t, h, event(eventbridge.DetailTypeGlueTableStateChange, `{"databaseName":"lake","typeOfChange":"UpdateTable","tableName":"orders"}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 of 1 tables failed and may succeed on a retry: lake.orders: retry: attempts exhausted after 3 attempts: update table:")
	assert.Contains(t, err.Error(), "ConcurrentModificationException")
	assert.Equal(t, 3, cat.calls["UpdateTable"])
	require.Len(t, res.Tables, 1)
	assert.Equal(t, StatusFailed, res.Tables[0].Status)
	assert.Equal(t, 3, res.Tables[0].Conflicts)
}

// TestHandleTableFailuresAreIsolated sweeps a crawler's database in which
// one table is deleted before its update, one is denied, one has a type
// that does not parse and one panics: each gets a clear error, the others
// are fixed, and the invocation succeeds because a retry cannot help.
func TestHandleTableFailuresAreIsolated(t *testing.T) {
	cat := newFakeCatalog()
	for _, name := range []string{"a_deleted", "b_denied", "d_fixable", "f_panics"} {
		cat.put("lake", &types.Table{Name: aws.String(name), StorageDescriptor: columns("tags", "set<string>")})
	}
	cat.put("lake", &types.Table{Name: aws.String("c_broken"), StorageDescriptor: columns("tags", "set<string>", "bad", "struct<a:int")})
	cat.put("lake", &types.Table{Name: aws.String("e_fine"), StorageDescriptor: columns("tags", "array<string>")})
	cat.crawlers["lake-crawler"] = "lake"
	cat.updateErr["lake.a_deleted"] = &types.EntityNotFoundException{Message: aws.String("Table a_deleted not found.")}
	cat.updateErr["lake.b_denied"] = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User is not authorized to perform: glue:UpdateTable"}
	cat.beforeUpdate = func(_ *fakeCatalog, key string) {
		if key == "lake.f_panics" {
			panic("boom")
		}
	}
	var logs bytes.Buffer
	h := newHandler(testConfig(t, defaultVars), cat, slog.New(slog.NewJSONHandler(&logs, nil)), nil)

	res, err := handle(t, h, readEvent(t, "../../events/glue-catalog-fixer/crawler-succeeded.json"))
	require.NoError(t, err)
	assert.Equal(t, "lake", res.Database)
	got := map[string]string{}
	for _, r := range res.Tables {
		got[r.Table] = r.Status + ": " + r.Error
	}
	assert.Equal(t, map[string]string{
		"a_deleted": "failed: update table: table (or its database) no longer exists: it was deleted before it could be fixed: EntityNotFoundException: Table a_deleted not found.",
		"b_denied":  "failed: update table: access denied: the function's role needs glue:GetTable and glue:UpdateTable on it: api error AccessDeniedException: User is not authorized to perform: glue:UpdateTable",
		"c_broken":  `failed: column "bad": hivetype: at offset 12 in "struct<a:int": expected ',' or '>', found end of input`,
		"d_fixable": "fixed: ",
		"e_fine":    "unchanged: ",
		"f_panics":  "failed: panic: boom",
	}, got)
	assert.Equal(t, 3, cat.calls["GetTables"], "six tables, two a page")
	assert.Zero(t, cat.calls["GetTable"], "tables come from GetTables")
	summary := logtest.Line(t, logs.String(), "invocation done")
	assert.Equal(t, float64(4), summary["tables_failed"])
	assert.Equal(t, float64(1), summary["failed"], "the event, failed for good: reported, not retried")
	assert.Equal(t, "lake-crawler", summary["crawler"])
}

// TestHandleMissingTable: the table an event names is gone by the time the
// fixer reads it.
func TestHandleMissingTable(t *testing.T) {
	cat := newFakeCatalog()
	h := newHandler(testConfig(t, defaultVars), cat, nil, nil)
	res, err := handle(t, h, readEvent(t, "../../events/glue-catalog-fixer/table-created.json"))
	require.NoError(t, err)
	require.Len(t, res.Tables, 1)
	assert.Equal(t, StatusFailed, res.Tables[0].Status)
	assert.Equal(t, "get table: table (or its database) no longer exists: it was deleted before it could be fixed: EntityNotFoundException: Table orders not found.", res.Tables[0].Error)
	assert.Zero(t, cat.calls["UpdateTable"])
}

// TestHandleTransientFailure: an error that may pass (throttling) is
// retried UPDATE_ATTEMPTS times, re-reading the table each time, and then
// fails the invocation, naming the table, after the other tables are fixed.
func TestHandleTransientFailure(t *testing.T) {
	cat := newFakeCatalog()
	cat.put("lake", &types.Table{Name: aws.String("a"), StorageDescriptor: columns("tags", "set<string>")})
	cat.put("lake", &types.Table{Name: aws.String("b"), StorageDescriptor: columns("tags", "set<string>")})
	cat.updateErr["lake.a"] = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	h := newHandler(testConfig(t, defaultVars), cat, nil, nil)

	res, err := handle(t, h, event(eventbridge.DetailTypeGlueDatabaseStateChange, `{"databaseName":"lake","typeOfChange":"CreateTable","changedTables":["a","b"]}`))
	assert.EqualError(t, err, "1 of 2 tables failed and may succeed on a retry: lake.a: retry: attempts exhausted after 5 attempts: update table: api error ThrottlingException: Rate exceeded")
	require.Len(t, res.Tables, 2)
	assert.Equal(t, StatusFailed, res.Tables[0].Status)
	assert.Equal(t, StatusFixed, res.Tables[1].Status)
	assert.Equal(t, 6, cat.calls["UpdateTable"], "a is tried UPDATE_ATTEMPTS times (the SDK's own retries are off), b once")
}

func TestHandleSkipArchive(t *testing.T) {
	cat := newFakeCatalog()
	cat.put("lake", &types.Table{Name: aws.String("orders"), StorageDescriptor: columns("tags", "set<string>")})
	h := newHandler(testConfig(t, map[string]string{"DATABASES": "LAKE", "SKIP_ARCHIVE": "true"}), cat, nil, nil)
	_, err := handle(t, h, readEvent(t, "../../events/glue-catalog-fixer/table-updated.json"))
	require.NoError(t, err)
	require.Len(t, cat.updates, 1)
	assert.True(t, aws.ToBool(cat.updates[0].SkipArchive))
}

// TestHandleIgnores: events for what the configuration does not name, and
// events that change no schema, make no Glue call.
func TestHandleIgnores(t *testing.T) {
	tests := map[string]struct {
		vars   map[string]string
		ev     string
		detail string
		want   string
	}{
		"database not configured": {
			vars: map[string]string{"DATABASES": "other"}, ev: eventbridge.DetailTypeGlueTableStateChange,
			detail: `{"databaseName":"lake","typeOfChange":"UpdateTable","tableName":"orders"}`,
			want:   "database lake is not in DATABASES",
		},
		"only crawlers configured": {
			vars: map[string]string{"CRAWLERS": "lake-crawler"}, ev: eventbridge.DetailTypeGlueTableStateChange,
			detail: `{"databaseName":"lake","typeOfChange":"UpdateTable","tableName":"orders"}`,
			want:   "database lake is not in DATABASES",
		},
		"crawler not configured": {
			vars: map[string]string{"DATABASES": "lake"}, ev: eventbridge.DetailTypeGlueCrawlerStateChange,
			detail: `{"crawlerName":"lake-crawler","state":"Succeeded"}`,
			want:   "crawler lake-crawler is not in CRAWLERS",
		},
		"failed crawl": {
			vars: defaultVars, ev: eventbridge.DetailTypeGlueCrawlerStateChange,
			detail: `{"crawlerName":"lake-crawler","state":"Failed"}`,
			want:   `crawler lake-crawler state is "Failed", not Succeeded`,
		},
		"partition change": {
			vars: defaultVars, ev: eventbridge.DetailTypeGlueTableStateChange,
			detail: `{"databaseName":"lake","typeOfChange":"CreatePartition","tableName":"orders","changedPartitions":["[2024]"]}`,
			want:   `typeOfChange "CreatePartition" changes no table schema`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cat := newFakeCatalog()
			h := newHandler(testConfig(t, tc.vars), cat, nil, nil)
			res, err := handle(t, h, event(tc.ev, tc.detail))
			require.NoError(t, err)
			assert.Equal(t, tc.want, res.Ignored)
			assert.Empty(t, res.Tables)
			assert.Empty(t, cat.calls)
		})
	}
}

func TestHandleMalformedEvent(t *testing.T) {
	cat := newFakeCatalog()
	var logs bytes.Buffer
	h := newHandler(testConfig(t, defaultVars), cat, slog.New(slog.NewJSONHandler(&logs, nil)), nil)
	res, err := handle(t, h, event(eventbridge.DetailTypeGlueTableStateChange, `{"databaseName":7}`))
	require.ErrorIs(t, err, ErrMalformedEvent)
	assert.Nil(t, res)
	assert.Empty(t, cat.calls)
	line := logtest.Line(t, logs.String(), "invocation failed")
	assert.Contains(t, line["error"], "malformed event")
}

func TestHandleCrawlerErrors(t *testing.T) {
	cat := newFakeCatalog()
	h := newHandler(testConfig(t, defaultVars), cat, nil, nil)
	_, err := handle(t, h, readEvent(t, "../../events/glue-catalog-fixer/crawler-succeeded.json"))
	assert.EqualError(t, err, "get crawler lake-crawler: EntityNotFoundException: Crawler entry with name lake-crawler does not exist")
}

func TestLoadConfig(t *testing.T) {
	env := config.New(config.FromMap(map[string]string{
		"DATABASES": "lake, raw", "CRAWLERS": "c1", "TYPE_MAPPING": "float=double", "SKIP_ARCHIVE": "yes", "UPDATE_ATTEMPTS": "7",
	}))
	cfg := loadConfig(env)
	require.NoError(t, env.Err())
	assert.Equal(t, []string{"lake", "raw"}, cfg.Databases)
	assert.Equal(t, []string{"c1"}, cfg.Crawlers)
	assert.True(t, cfg.SkipArchive)
	assert.Equal(t, 7, cfg.Retry.MaxAttempts)
	assert.True(t, cfg.fixesDatabase("RAW"))
	assert.False(t, cfg.fixesDatabase("lake2"))
	assert.True(t, cfg.sweepsCrawler("c1"))
	in, changes, err := Fix(&types.Table{Name: aws.String("t"), StorageDescriptor: columns("a", "set<float>")}, cfg.Rules)
	require.NoError(t, err)
	require.NotNil(t, in)
	assert.Equal(t, "array<double>", changes[0].To, "set=array is always on, TYPE_MAPPING adds to it")
}

func TestLoadConfigInvalid(t *testing.T) {
	tests := map[string]struct {
		vars map[string]string
		errs []string
	}{
		"nothing to act on": {
			vars: map[string]string{},
			errs: []string{"DATABASES is required: a comma-separated list of the Glue databases whose tables to fix (or set CRAWLERS)"},
		},
		"bad mapping": {
			vars: map[string]string{"DATABASES": "lake", "TYPE_MAPPING": "set=map"},
			errs: []string{`TYPE_MAPPING="set=map" is invalid: comma-separated from=to primitive type rewrites`, `set can only become array`},
		},
		"mapping that would not settle": {
			vars: map[string]string{"DATABASES": "lake", "TYPE_MAPPING": "tinyint=smallint,smallint=int"},
			errs: []string{`TYPE_MAPPING="tinyint=smallint,smallint=int" is invalid`, "map tinyint to int directly"},
		},
		"attempts and archive": {
			vars: map[string]string{"CRAWLERS": "c", "UPDATE_ATTEMPTS": "0", "SKIP_ARCHIVE": "maybe"},
			errs: []string{`UPDATE_ATTEMPTS="0" is invalid: an integer from 1 to 20`, `SKIP_ARCHIVE="maybe" is invalid: true or false`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := config.New(config.FromMap(tc.vars))
			loadConfig(env)
			err := env.Err()
			require.Error(t, err)
			for _, want := range tc.errs {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

// BenchmarkHandleUnchanged is the steady state: a change event for a table
// already fixed, one GetTable and no update.
func BenchmarkHandleUnchanged(b *testing.B) {
	cat := newFakeCatalog()
	table := readTable(b, "testdata/tables/already-fixed.json")
	cat.put("lake", table)
	env := config.New(config.FromMap(defaultVars))
	h := newHandler(loadConfig(env), cat, nil, nil)
	raw, err := json.Marshal(event(eventbridge.DetailTypeGlueTableStateChange, `{"databaseName":"lake","typeOfChange":"UpdateTable","tableName":"orders"}`))
	require.NoError(b, err)
	ctx := context.Background()
	size := 0
	for _, c := range table.StorageDescriptor.Columns {
		size += len(aws.ToString(c.Type))
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := h.Handle(ctx, raw)
		if res, _ := resp.(*Result); err != nil || res.Tables[0].Status != StatusUnchanged {
			b.Fatal(fmt.Sprint(resp, err))
		}
	}
}
