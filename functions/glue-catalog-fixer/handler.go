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

	"lakestream/shared/batch"
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

// fixer fixes the Glue tables the events it is given point at.
type fixer struct {
	cfg     Config
	glue    catalog
	log     *slog.Logger
	metrics *metrics.Recorder
}

// newHandler returns the Lambda handler; log and m may be nil. A table
// that cannot be fixed for good (deleted, access denied, a type that does
// not parse) is reported in the result and the log and the other tables go
// on; the invocation fails only when the event itself is malformed or a
// failure may pass on a retry, so that Lambda retries it and finally
// dead-letters it. The response is the event's Result.
func newHandler(cfg Config, c catalog, log *slog.Logger, m *metrics.Recorder) *batch.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &fixer{cfg: cfg, glue: c, log: log, metrics: m}
	return batch.New(f.start, batch.WithNoun("events"), batch.WithLogger(log), batch.WithMetrics(m))
}

// start is one invocation: EventBridge delivers one event; any other source
// gets each of its events handled the same way.
func (f *fixer) start(inv *batch.Invocation) batch.Job {
	results := make([]*Result, len(inv.Items))
	return batch.Job{
		Item: func(ctx context.Context, it *batch.Item) error {
			if it.Event == nil {
				return fmt.Errorf("%w: not an EventBridge event", ErrMalformedEvent)
			}
			res, err := f.fix(ctx, *it.Event)
			results[it.Index] = res
			switch {
			case err != nil:
				return err
			case res.Ignored != "":
				return batch.Skip(res.Ignored)
			}
			if failed := res.count(StatusFailed); failed > 0 {
				// Reported, and not retried: a retry would fail the same way.
				return batch.Permanent(fmt.Errorf("%d of %d tables not fixed", failed, len(res.Tables)))
			}
			return nil
		},
		Finish: func(_ context.Context, items []*batch.Item) (any, []any) {
			return f.finish(items, results)
		},
	}
}

// fix does what one event asks. The result is nil only for a malformed
// event; with an error it holds the tables done so far.
func (f *fixer) fix(ctx context.Context, ev events.CloudWatchEvent) (*Result, error) {
	w, err := decodeEvent(ev)
	if err != nil {
		return nil, err
	}
	res := &Result{Tables: []TableResult{}}
	switch {
	case w.ignore != "":
		res.Ignored = w.ignore
	case w.crawler != "":
		res.Crawler = w.crawler
		if !f.cfg.sweepsCrawler(w.crawler) {
			res.Ignored = fmt.Sprintf("crawler %s is not in CRAWLERS", w.crawler)
			break
		}
		if err := f.sweep(ctx, w.crawler, res); err != nil {
			return res, err // the tables done so far go into the summary
		}
	default:
		res.Database = w.database
		if !f.cfg.fixesDatabase(w.database) {
			res.Ignored = fmt.Sprintf("database %s is not in DATABASES", w.database)
			break
		}
		for _, name := range w.tables {
			res.Tables = append(res.Tables, f.fixOne(ctx, w.database, name, nil))
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
func (f *fixer) sweep(ctx context.Context, crawler string, res *Result) error {
	var out *glue.GetCrawlerOutput
	err := f.cfg.Retry.Do(ctx, func(int) error {
		var err error
		out, err = f.glue.GetCrawler(ctx, &glue.GetCrawlerInput{Name: aws.String(crawler)})
		return err
	})
	if err != nil {
		return fmt.Errorf("get crawler %s: %w", crawler, err)
	}
	if out.Crawler == nil || aws.ToString(out.Crawler.DatabaseName) == "" {
		return fmt.Errorf("crawler %s has no target database", crawler)
	}
	db := aws.ToString(out.Crawler.DatabaseName)
	res.Database = db
	pages := glue.NewGetTablesPaginator(f.glue, &glue.GetTablesInput{DatabaseName: aws.String(db)})
	for pages.HasMorePages() {
		var page *glue.GetTablesOutput
		err := f.cfg.Retry.Do(ctx, func(int) error {
			var err error
			page, err = pages.NextPage(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("list tables of %s (crawler %s): %w", db, crawler, err)
		}
		for i := range page.TableList {
			t := &page.TableList[i]
			res.Tables = append(res.Tables, f.fixOne(ctx, db, aws.ToString(t.Name), t))
		}
	}
	return nil
}

// fixOne fixes one table, reading it first unless t is given, and turns
// any failure (a panic included) into that table's result.
func (f *fixer) fixOne(ctx context.Context, db, name string, t *types.Table) (r TableResult) {
	r = TableResult{Database: db, Table: name}
	defer func() {
		if p := recover(); p != nil {
			f.log.ErrorContext(ctx, "table fix panicked", "database", db, "table", name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			r.Status, r.Error, r.Changes = StatusFailed, fmt.Sprintf("panic: %v", p), nil
		}
		switch r.Status {
		case StatusFixed:
			f.log.InfoContext(ctx, "table fixed", "database", db, "table", name, "changes", r.Changes, "conflicts", r.Conflicts)
		case StatusFailed:
			f.log.WarnContext(ctx, "table not fixed", "database", db, "table", name, "error", r.Error, "conflicts", r.Conflicts)
		}
	}()

	// Every attempt after the first reads the table again: an update
	// conflict must be fixed again on what is there now, and an update whose
	// answer was lost may have been made. What the shared classifier calls
	// passing (throttling, server faults) is retried too; a type that does
	// not parse ends the loop.
	err := f.cfg.Retry.Do(ctx, func(attempt int) error {
		if t == nil || attempt > 1 {
			out, err := f.glue.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String(db), Name: aws.String(name)})
			if err != nil {
				return fmt.Errorf("get table: %w", describe(err))
			}
			t = out.Table
		}
		in, changes, err := Fix(t, f.cfg.Rules)
		if err != nil {
			return retry.Permanent(err)
		}
		if in == nil {
			r.Status, r.Changes = StatusUnchanged, nil
			return nil
		}
		_, err = f.glue.UpdateTable(ctx, &glue.UpdateTableInput{
			DatabaseName: aws.String(db),
			TableInput:   in,
			// Optimistic locking: Glue refuses the update if the table
			// changed since it was read, and the fix is made again on
			// what is there now.
			VersionId:   t.VersionId,
			SkipArchive: aws.Bool(f.cfg.SkipArchive),
		})
		if isCode(err, "ConcurrentModificationException") {
			// The fixer's own case: re-read (the next attempt does) and fix again.
			r.Conflicts++
			return retry.Retryable(fmt.Errorf("update table: %w", err))
		}
		if err != nil {
			return fmt.Errorf("update table: %w", describe(err))
		}
		r.Status, r.Changes = StatusFixed, changes
		return nil
	})
	if err != nil {
		r.Status, r.Changes, r.Error = StatusFailed, nil, err.Error()
		r.transient = !isFinal(ctx, err)
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
// same way: a type does not parse, or the shared classifier calls the error
// permanent (the table is gone, access is denied, the input is invalid).
// The invocation's own deadline is not final: a retry has a new one.
func isFinal(ctx context.Context, err error) bool {
	var col *ColumnError
	if errors.As(err, &col) {
		return true
	}
	return ctx.Err() == nil && retry.Classify(err) == retry.ClassPermanent
}

func isCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}

// finish counts the tables checked, fixed, unchanged and failed and the
// columns fixed, and says what the event did: its Result is the response
// and the summary line's attributes (several events, from a source other
// than EventBridge, are counted only).
func (f *fixer) finish(items []*batch.Item, results []*Result) (any, []any) {
	var tables, fixed, unchanged, failed, columns, conflicts int
	for _, res := range results {
		if res == nil {
			continue // malformed, or failed before it was handled
		}
		tables += len(res.Tables)
		fixed, unchanged, failed = fixed+res.count(StatusFixed), unchanged+res.count(StatusUnchanged), failed+res.count(StatusFailed)
		for _, t := range res.Tables {
			columns += len(t.Changes)
			conflicts += t.Conflicts
		}
	}
	f.metrics.Count("TablesChecked", tables)
	f.metrics.Count("TablesFixed", fixed)
	f.metrics.Count("TablesUnchanged", unchanged)
	f.metrics.Count("TablesFailed", failed)
	f.metrics.Count("ColumnsFixed", columns)
	f.metrics.Count("UpdateConflicts", conflicts)
	// "failed" is the adapter's count of events; tables have their own.
	attrs := []any{"tables", tables, "fixed", fixed, "unchanged", unchanged, "tables_failed", failed, "columns_fixed", columns, "conflicts", conflicts}
	if len(items) != 1 {
		return results, attrs
	}
	if ev := items[0].Event; ev != nil {
		attrs = append([]any{"event_id", ev.ID, "detail_type", ev.DetailType}, attrs...)
	}
	res := results[0]
	if res == nil {
		return nil, attrs
	}
	for _, a := range [][2]string{{"database", res.Database}, {"crawler", res.Crawler}, {"ignored", res.Ignored}} {
		if a[1] != "" {
			attrs = append(attrs, a[0], a[1])
		}
	}
	return res, attrs
}
