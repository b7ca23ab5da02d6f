package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/eventbridge"
)

func readEvent(t testing.TB, path string) events.CloudWatchEvent {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var ev events.CloudWatchEvent
	require.NoError(t, json.Unmarshal(b, &ev), path)
	return ev
}

func event(detailType, detail string) events.CloudWatchEvent {
	return events.CloudWatchEvent{DetailType: detailType, Source: "aws.glue", Detail: json.RawMessage(detail)}
}

func TestDecodeEvent(t *testing.T) {
	tests := map[string]struct {
		ev   events.CloudWatchEvent
		want work
	}{
		"sample table updated": {
			ev:   readEvent(t, "../../events/glue-catalog-fixer/table-updated.json"),
			want: work{database: "lake", tables: []string{"orders"}},
		},
		"sample table created": {
			ev:   readEvent(t, "../../events/glue-catalog-fixer/table-created.json"),
			want: work{database: "lake", tables: []string{"orders"}},
		},
		"sample crawler succeeded": {
			ev:   readEvent(t, "../../events/glue-catalog-fixer/crawler-succeeded.json"),
			want: work{crawler: "lake-crawler"},
		},
		"create table as a table change": {
			ev:   event(eventbridge.DetailTypeGlueTableStateChange, `{"databaseName":"lake","typeOfChange":"CreateTable","tableName":"a"}`),
			want: work{database: "lake", tables: []string{"a"}},
		},
		"several tables, repeats once": {
			ev:   event(eventbridge.DetailTypeGlueDatabaseStateChange, `{"databaseName":"lake","typeOfChange":"CreateTable","changedTables":["a","b","a"]}`),
			want: work{database: "lake", tables: []string{"a", "b"}},
		},
		"partition change ignored": {
			ev:   event(eventbridge.DetailTypeGlueTableStateChange, `{"databaseName":"lake","typeOfChange":"BatchCreatePartition","tableName":"a","changedPartitions":["[2024, 05]"]}`),
			want: work{ignore: `typeOfChange "BatchCreatePartition" changes no table schema`},
		},
		"table deletion ignored": {
			ev:   event(eventbridge.DetailTypeGlueDatabaseStateChange, `{"databaseName":"lake","typeOfChange":"DeleteTable","changedTables":["a"]}`),
			want: work{ignore: `typeOfChange "DeleteTable" changes no table schema`},
		},
		"failed crawl ignored": {
			ev:   event(eventbridge.DetailTypeGlueCrawlerStateChange, `{"crawlerName":"c","state":"Failed","errorMessage":"Internal Service Exception"}`),
			want: work{ignore: `crawler c state is "Failed", not Succeeded`},
		},
		"unknown fields ignored": {
			ev:   event(eventbridge.DetailTypeGlueCrawlerStateChange, `{"crawlerName":"c","state":"Succeeded","newField":{"x":1}}`),
			want: work{crawler: "c"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := decodeEvent(tc.ev)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeEventMalformed(t *testing.T) {
	tests := map[string]struct {
		ev  events.CloudWatchEvent
		err string
	}{
		"unknown detail type": {
			ev:  event("Object Created", `{}`),
			err: `malformed event: detail-type "Object Created" is not one of "Glue Data Catalog Table State Change", "Glue Data Catalog Database State Change", "Glue Crawler State Change"`,
		},
		"no detail": {
			ev:  event(eventbridge.DetailTypeGlueTableStateChange, ``),
			err: "malformed event: Glue Data Catalog Table State Change has no detail",
		},
		"detail not an object": {
			ev:  event(eventbridge.DetailTypeGlueTableStateChange, `"UpdateTable"`),
			err: "malformed event: Glue Data Catalog Table State Change detail: json: cannot unmarshal string into Go value of type eventbridge.GlueTableStateChangeDetail",
		},
		"table name not a string": {
			ev:  event(eventbridge.DetailTypeGlueTableStateChange, `{"databaseName":"lake","typeOfChange":"UpdateTable","tableName":7}`),
			err: "malformed event: Glue Data Catalog Table State Change detail: json: cannot unmarshal number into Go struct field GlueTableStateChangeDetail.tableName of type string",
		},
		"no database": {
			ev:  event(eventbridge.DetailTypeGlueTableStateChange, `{"typeOfChange":"UpdateTable","tableName":"a"}`),
			err: "malformed event: Glue Data Catalog Table State Change has no detail.databaseName",
		},
		"no table": {
			ev:  event(eventbridge.DetailTypeGlueDatabaseStateChange, `{"databaseName":"lake","typeOfChange":"CreateTable","changedTables":[]}`),
			err: "malformed event: Glue Data Catalog Database State Change CreateTable names no table (detail.tableName or detail.changedTables)",
		},
		"no crawler": {
			ev:  event(eventbridge.DetailTypeGlueCrawlerStateChange, `{"state":"Succeeded"}`),
			err: "malformed event: Glue Crawler State Change has no detail.crawlerName",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decodeEvent(tc.ev)
			require.ErrorIs(t, err, ErrMalformedEvent)
			assert.EqualError(t, err, tc.err)
		})
	}
}

// FuzzDecodeEvent feeds arbitrary details under each detail type: decoding
// never panics, fails only with ErrMalformedEvent, and what it accepts names
// exactly one thing to do.
func FuzzDecodeEvent(f *testing.F) {
	samples, err := filepath.Glob("../../events/glue-catalog-fixer/*.json")
	require.NoError(f, err)
	for _, s := range samples {
		ev := readEvent(f, s)
		f.Add(ev.DetailType, string(ev.Detail))
	}
	f.Add(eventbridge.DetailTypeGlueTableStateChange, `{"databaseName":"","typeOfChange":"UpdateTable","changedTables":["",""]}`)
	f.Add(eventbridge.DetailTypeGlueCrawlerStateChange, `{"crawlerName":"c","state":"succeeded"}`)
	f.Add("", `null`)

	f.Fuzz(func(t *testing.T, detailType, detail string) {
		w, err := decodeEvent(event(detailType, detail))
		if err != nil {
			require.True(t, errors.Is(err, ErrMalformedEvent), "error without ErrMalformedEvent: %v", err)
			return
		}
		switch {
		case w.ignore != "":
			assert.Empty(t, w.database+w.crawler)
		case w.crawler != "":
			assert.Empty(t, w.database)
			assert.Empty(t, w.tables)
		default:
			assert.NotEmpty(t, w.database)
			require.NotEmpty(t, w.tables)
			for _, table := range w.tables {
				assert.NotEmpty(t, table)
			}
		}
	})
}
