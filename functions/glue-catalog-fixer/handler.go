package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"

	"lakestream/shared/metrics"
	"lakestream/shared/retry"
)

// catalog is the part of the Glue API the fixer calls.
type catalog interface {
	GetTable(ctx context.Context, in *glue.GetTableInput, optFns ...func(*glue.Options)) (*glue.GetTableOutput, error)
	GetTables(ctx context.Context, in *glue.GetTablesInput, optFns ...func(*glue.Options)) (*glue.GetTablesOutput, error)
	UpdateTable(ctx context.Context, in *glue.UpdateTableInput, optFns ...func(*glue.Options)) (*glue.UpdateTableOutput, error)
	GetCrawler(ctx context.Context, in *glue.GetCrawlerInput, optFns ...func(*glue.Options)) (*glue.GetCrawlerOutput, error)
}

// Statuses of a table in a Result.
const (
	StatusFixed     = "fixed"
	StatusUnchanged = "unchanged"
	StatusFailed    = "failed"
)

// Result is what one invocation did: the response of the Lambda, and the
// source of its summary log line and metrics.
type Result struct {
	Database string        `json:"database,omitempty"`
	Crawler  string        `json:"crawler,omitempty"`
	Ignored  string        `json:"ignored,omitempty"`
	Tables   []TableResult `json:"tables"`
}

// TableResult is one table's outcome.
type TableResult struct {
	Database string   `json:"database"`
	Table    string   `json:"table"`
	Status   string   `json:"status"`
	Changes  []Change `json:"changes,omitempty"`
	Error    string   `json:"error,omitempty"`
	// Conflicts counts the updates Glue refused because the table changed
	// between GetTable and UpdateTable.
	Conflicts int `json:"conflicts,omitempty"`
	// transient is set when the failure may pass (throttling, a table that
	// kept changing): the invocation then fails so that Lambda retries it.
	transient bool
}

// count returns how many tables ended with status.
func (r *Result) count(status string) int {
	n := 0
	for _, t := range r.Tables {
		if t.Status == status {
			n++
		}
	}
	return n
}

// Handler fixes the Glue tables the events it is given point at.
type Handler struct {
	cfg     Config
	glue    catalog
	log     *slog.Logger
	metrics *metrics.Recorder
}

// newHandler returns a Handler; log and m may be nil.
func newHandler(cfg Config, c catalog, log *slog.Logger, m *metrics.Recorder) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, glue: c, log: log, metrics: m}
}

// Handle is the Lambda entry point. A table that cannot be fixed for good
// (deleted, access denied, a type that does not parse) is reported in the
// result and the log and the other tables go on; the invocation fails only
// when the event itself is malformed or a failure may pass on a retry, so
// that Lambda retries it and finally dead-letters it.
func (h *Handler) Handle(ctx context.Context, ev events.CloudWatchEvent) (res *Result, err error) {
	res = &Result{Tables: []TableResult{}}
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "fixer panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("glue-catalog-fixer panicked: %v", p)
		}
		h.report(ctx, ev, res, err)
	}()

	w, err := decodeEvent(ev)
	if err != nil {
		return nil, err
	}
	switch {
	case w.ignore != "":
		res.Ignored = w.ignore
	case w.crawler != "":
		res.Crawler = w.crawler
		if !h.cfg.sweepsCrawler(w.crawler) {
			res.Ignored = fmt.Sprintf("crawler %s is not in CRAWLERS", w.crawler)
			break
		}
		if err := h.sweep(ctx, w.crawler, res); err != nil {
			return res, err // the tables done so far go into the summary
		}
	default:
		res.Database = w.database
		if !h.cfg.fixesDatabase(w.database) {
			res.Ignored = fmt.Sprintf("database %s is not in DATABASES", w.database)
			break
		}
		for _, name := range w.tables {
			res.Tables = append(res.Tables, h.fixOne(ctx, w.database, name, nil))
		}
	}

	var transient []string
	for _, t := range res.Tables {
		if t.Status == StatusFailed && t.transient {
			transient = append(transient, t.Database+"."+t.Table+": "+t.Error)
		}
	}
	if len(transient) > 0 {
		return res, fmt.Errorf("%d of %d tables failed and may succeed on a retry: %s",
			len(transient), len(res.Tables), strings.Join(transient, "; "))
	}
	return res, nil
}

// sweep fixes every table in the database a crawler writes to.
func (h *Handler) sweep(ctx context.Context, crawler string, res *Result) error {
	out, err := h.glue.GetCrawler(ctx, &glue.GetCrawlerInput{Name: aws.String(crawler)})
	if err != nil {
		return fmt.Errorf("get crawler %s: %w", crawler, err)
	}
	if out.Crawler == nil || aws.ToString(out.Crawler.DatabaseName) == "" {
		return fmt.Errorf("crawler %s has no target database", crawler)
	}
	db := aws.ToString(out.Crawler.DatabaseName)
	res.Database = db
	pages := glue.NewGetTablesPaginator(h.glue, &glue.GetTablesInput{DatabaseName: aws.String(db)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list tables of %s (crawler %s): %w", db, crawler, err)
		}
		for i := range page.TableList {
			t := &page.TableList[i]
			res.Tables = append(res.Tables, h.fixOne(ctx, db, aws.ToString(t.Name), t))
		}
	}
	return nil
}

// fixOne fixes one table, reading it first unless t is given, and turns
// any failure (a panic included) into that table's result.
func (h *Handler) fixOne(ctx context.Context, db, name string, t *types.Table) (r TableResult) {
	r = TableResult{Database: db, Table: name}
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "table fix panicked", "database", db, "table", name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			r.Status, r.Error, r.Changes = StatusFailed, fmt.Sprintf("panic: %v", p), nil
		}
		switch r.Status {
		case StatusFixed:
			h.log.InfoContext(ctx, "table fixed", "database", db, "table", name, "changes", r.Changes, "conflicts", r.Conflicts)
		case StatusFailed:
			h.log.WarnContext(ctx, "table not fixed", "database", db, "table", name, "error", r.Error, "conflicts", r.Conflicts)
		}
	}()

	// Only update conflicts are retried (after a fresh read); every other
	// error is marked Permanent and ends the loop.
	err := h.cfg.Retry.Do(ctx, func(attempt int) error {
		if t == nil || attempt > 1 {
			out, err := h.glue.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String(db), Name: aws.String(name)})
			if err != nil {
				return retry.Permanent(fmt.Errorf("get table: %w", describe(err)))
			}
			t = out.Table
		}
		in, changes, err := Fix(t, h.cfg.Rules)
		if err != nil {
			return retry.Permanent(err)
		}
		if in == nil {
			r.Status, r.Changes = StatusUnchanged, nil
			return nil
		}
		_, err = h.glue.UpdateTable(ctx, &glue.UpdateTableInput{
			DatabaseName: aws.String(db),
			TableInput:   in,
			// Optimistic locking: Glue refuses the update if the table
			// changed since it was read, and the fix is made again on
			// what is there now.
			VersionId:   t.VersionId,
			SkipArchive: aws.Bool(h.cfg.SkipArchive),
		})
		if isCode(err, "ConcurrentModificationException") {
			r.Conflicts++
			return fmt.Errorf("update table: %w", err)
		}
		if err != nil {
			return retry.Permanent(fmt.Errorf("update table: %w", describe(err)))
		}
		r.Status, r.Changes = StatusFixed, changes
		return nil
	})
	if err != nil {
		r.Status, r.Changes, r.Error = StatusFailed, nil, err.Error()
		r.transient = !isFinal(err)
	}
	return r
}

// describe says in words what the Glue errors that end a table's fix mean.
func describe(err error) error {
	switch {
	case isCode(err, "EntityNotFoundException"):
		return fmt.Errorf("table (or its database) no longer exists: it was deleted before it could be fixed: %w", err)
	case isCode(err, "AccessDeniedException"):
		return fmt.Errorf("access denied: the function's role needs glue:GetTable and glue:UpdateTable on it: %w", err)
	}
	return err
}

// isFinal reports whether a retry of the invocation would fail again in the
// same way: the table is gone, access is denied, the input is invalid or a
// type does not parse.
func isFinal(err error) bool {
	var col *ColumnError
	if errors.As(err, &col) {
		return true
	}
	for _, code := range []string{"EntityNotFoundException", "AccessDeniedException", "InvalidInputException", "ValidationException"} {
		if isCode(err, code) {
			return true
		}
	}
	return false
}

func isCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}

// report writes the invocation's summary log line and metrics.
func (h *Handler) report(ctx context.Context, ev events.CloudWatchEvent, res *Result, err error) {
	if res == nil {
		res = &Result{}
	}
	fixed, unchanged, failed := res.count(StatusFixed), res.count(StatusUnchanged), res.count(StatusFailed)
	columns, conflicts := 0, 0
	for _, t := range res.Tables {
		columns += len(t.Changes)
		conflicts += t.Conflicts
	}
	attrs := []any{
		"event_id", ev.ID, "detail_type", ev.DetailType,
		"tables", len(res.Tables), "fixed", fixed, "unchanged", unchanged, "failed", failed,
		"columns_fixed", columns, "conflicts", conflicts,
	}
	for _, a := range [][2]string{{"database", res.Database}, {"crawler", res.Crawler}, {"ignored", res.Ignored}} {
		if a[1] != "" {
			attrs = append(attrs, a[0], a[1])
		}
	}
	h.metrics.Count("TablesChecked", len(res.Tables))
	h.metrics.Count("TablesFixed", fixed)
	h.metrics.Count("TablesUnchanged", unchanged)
	h.metrics.Count("TablesFailed", failed)
	h.metrics.Count("ColumnsFixed", columns)
	h.metrics.Count("UpdateConflicts", conflicts)
	metrics.Report(ctx, h.log, h.metrics, err, attrs...)
}
