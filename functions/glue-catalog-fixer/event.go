package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// EventBridge detail types the fixer reacts to, as AWS Glue sends them. A
// crawler that creates a table reports it as a database change (typeOfChange
// CreateTable, the names in changedTables); an UpdateTable call, the
// fixer's own included, as a table change.
const (
	DetailTypeTableChange    = "Glue Data Catalog Table State Change"
	DetailTypeDatabaseChange = "Glue Data Catalog Database State Change"
	DetailTypeCrawlerChange  = "Glue Crawler State Change"
)

// Catalog changes and crawler states the fixer acts on; others are ignored.
const (
	ChangeCreateTable     = "CreateTable"
	ChangeUpdateTable     = "UpdateTable"
	CrawlerStateSucceeded = "Succeeded"
)

// CatalogChangeDetail is the detail of a "Glue Data Catalog Table State
// Change" or "Glue Data Catalog Database State Change" event.
type CatalogChangeDetail struct {
	DatabaseName      string   `json:"databaseName"`
	TableName         string   `json:"tableName,omitempty"`
	TypeOfChange      string   `json:"typeOfChange"`
	ChangedTables     []string `json:"changedTables,omitempty"`
	ChangedPartitions []string `json:"changedPartitions,omitempty"`
}

// CrawlerStateChangeDetail is the detail of a "Glue Crawler State Change"
// event. Glue sends its counts as strings ("tablesCreated": "0").
type CrawlerStateChangeDetail struct {
	CrawlerName    string `json:"crawlerName"`
	State          string `json:"state"`
	Message        string `json:"message,omitempty"`
	AccountID      string `json:"accountId,omitempty"`
	TablesCreated  string `json:"tablesCreated,omitempty"`
	TablesUpdated  string `json:"tablesUpdated,omitempty"`
	TablesDeleted  string `json:"tablesDeleted,omitempty"`
	CompletionDate string `json:"completionDate,omitempty"`
	ErrorMessage   string `json:"errorMessage,omitempty"`
}

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

// decodeEvent reads the detail of an EventBridge event from AWS Glue.
func decodeEvent(ev events.CloudWatchEvent) (work, error) {
	switch ev.DetailType {
	case DetailTypeTableChange, DetailTypeDatabaseChange:
		var d CatalogChangeDetail
		if err := decodeDetail(ev, &d); err != nil {
			return work{}, err
		}
		if d.TypeOfChange != ChangeCreateTable && d.TypeOfChange != ChangeUpdateTable {
			return work{ignore: fmt.Sprintf("typeOfChange %q changes no table schema", d.TypeOfChange)}, nil
		}
		if d.DatabaseName == "" {
			return work{}, fmt.Errorf("%w: %s has no detail.databaseName", ErrMalformedEvent, ev.DetailType)
		}
		w := work{database: d.DatabaseName}
		seen := map[string]bool{}
		for _, t := range append([]string{d.TableName}, d.ChangedTables...) {
			if t != "" && !seen[t] {
				seen[t] = true
				w.tables = append(w.tables, t)
			}
		}
		if len(w.tables) == 0 {
			return work{}, fmt.Errorf("%w: %s %s names no table (detail.tableName or detail.changedTables)", ErrMalformedEvent, ev.DetailType, d.TypeOfChange)
		}
		return w, nil
	case DetailTypeCrawlerChange:
		var d CrawlerStateChangeDetail
		if err := decodeDetail(ev, &d); err != nil {
			return work{}, err
		}
		if d.CrawlerName == "" {
			return work{}, fmt.Errorf("%w: %s has no detail.crawlerName", ErrMalformedEvent, ev.DetailType)
		}
		if !strings.EqualFold(d.State, CrawlerStateSucceeded) {
			return work{ignore: fmt.Sprintf("crawler %s state is %q, not %s", d.CrawlerName, d.State, CrawlerStateSucceeded)}, nil
		}
		return work{crawler: d.CrawlerName}, nil
	}
	return work{}, fmt.Errorf("%w: detail-type %q is not one of %q, %q, %q", ErrMalformedEvent,
		ev.DetailType, DetailTypeTableChange, DetailTypeDatabaseChange, DetailTypeCrawlerChange)
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
