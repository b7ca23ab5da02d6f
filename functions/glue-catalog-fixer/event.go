package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/eventbridge"
)

// ErrMalformedEvent is wrapped by every error decodeEvent returns: the event
// is not one the fixer can act on, and retrying it will not help.
var ErrMalformedEvent = errors.New("malformed event")

// work is what one event asks the fixer to do: fix the named tables of a
// database, or every table of a crawler's database. An event that asks
// nothing (a partition change, a failed crawl) has ignore set to the reason.
type work struct {
	database string
	tables   []string
	crawler  string
	ignore   string
}

// decodeEvent reads the detail of an EventBridge event from AWS Glue. A
// crawler that creates a table reports it as a database change
// (typeOfChange CreateTable, the names in changedTables); an UpdateTable
// call, the fixer's own included, as a table change.
func decodeEvent(ev events.CloudWatchEvent) (work, error) {
	switch ev.DetailType {
	case eventbridge.DetailTypeGlueTableStateChange:
		var d eventbridge.GlueTableStateChangeDetail
		if err := decodeDetail(ev, &d); err != nil {
			return work{}, err
		}
		return catalogChange(ev.DetailType, d.DatabaseName, d.TypeOfChange, []string{d.TableName})
	case eventbridge.DetailTypeGlueDatabaseStateChange:
		var d eventbridge.GlueDatabaseStateChangeDetail
		if err := decodeDetail(ev, &d); err != nil {
			return work{}, err
		}
		return catalogChange(ev.DetailType, d.DatabaseName, d.TypeOfChange, d.ChangedTables)
	case eventbridge.DetailTypeGlueCrawlerStateChange:
		var d eventbridge.GlueCrawlerStateChangeDetail
		if err := decodeDetail(ev, &d); err != nil {
			return work{}, err
		}
		if d.CrawlerName == "" {
			return work{}, fmt.Errorf("%w: %s has no detail.crawlerName", ErrMalformedEvent, ev.DetailType)
		}
		if !strings.EqualFold(string(d.State), string(eventbridge.GlueCrawlerStateSucceeded)) {
			return work{ignore: fmt.Sprintf("crawler %s state is %q, not %s", d.CrawlerName, d.State, eventbridge.GlueCrawlerStateSucceeded)}, nil
		}
		return work{crawler: d.CrawlerName}, nil
	}
	return work{}, fmt.Errorf("%w: detail-type %q is not one of %q, %q, %q", ErrMalformedEvent, ev.DetailType,
		eventbridge.DetailTypeGlueTableStateChange, eventbridge.DetailTypeGlueDatabaseStateChange, eventbridge.DetailTypeGlueCrawlerStateChange)
}

// catalogChange is the work of a table or database change: the named
// tables, once each, when the change creates or updates a table schema.
func catalogChange(detailType, database string, change eventbridge.GlueTypeOfChange, tables []string) (work, error) {
	if change != eventbridge.GlueTypeOfChangeCreateTable && change != eventbridge.GlueTypeOfChangeUpdateTable {
		return work{ignore: fmt.Sprintf("typeOfChange %q changes no table schema", change)}, nil
	}
	if database == "" {
		return work{}, fmt.Errorf("%w: %s has no detail.databaseName", ErrMalformedEvent, detailType)
	}
	w := work{database: database}
	seen := map[string]bool{}
	for _, t := range tables {
		if t != "" && !seen[t] {
			seen[t] = true
			w.tables = append(w.tables, t)
		}
	}
	if len(w.tables) == 0 {
		return work{}, fmt.Errorf("%w: %s %s names no table (detail.tableName or detail.changedTables)", ErrMalformedEvent, detailType, change)
	}
	return w, nil
}

func decodeDetail(ev events.CloudWatchEvent, v any) error {
	if len(bytes.TrimSpace(ev.Detail)) == 0 {
		return fmt.Errorf("%w: %s has no detail", ErrMalformedEvent, ev.DetailType)
	}
	if err := json.Unmarshal(ev.Detail, v); err != nil {
		return fmt.Errorf("%w: %s detail: %w", ErrMalformedEvent, ev.DetailType, err)
	}
	return nil
}
