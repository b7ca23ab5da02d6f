// Package transformer builds the Lambda handler of a lakestream Firehose
// record transformer (access logs, CloudFront logs, syslog, JSON) from its
// parser. The four functions differ only in the Format they pass, so each
// main.go is a few lines of wiring and they all behave alike:
//
//	fn := boot.New()
//	h := transformer.NewHandler(fn, transformer.Format{
//		ParseInto: pipeline.ParseJSONInto, // fills a reused record
//		Defaults:  pipeline.Options{Split: pipeline.SplitJSON},
//	})
//	fn.Start(h) // a lambda.Handler: request bytes in, response bytes out
//
// The handler reads the shared pipeline's environment variables (see
// shared/pipeline) with the format's defaults for those left unset, runs
// the pipeline on every record through shared/firehose (one response per
// record, ProcessingFailed with the reason logged for a bad line), and
// reports the pipeline's line counts (LinesSkipped, LinesFiltered,
// LinesWritten) in each invocation's summary line and EMF document beside
// the framework's record counts. Records whose output does not fit in the
// response go back into the source stream (shared/reingest), through AWS
// clients built only when the first such record comes.
package transformer

import (
	"lakestream/shared/boot"
	"lakestream/shared/firehose"
	"lakestream/shared/logformat"
	"lakestream/shared/pipeline"
	"lakestream/shared/reingest"
	"lakestream/shared/retry"
)

// Format is what sets one transformer apart from the others. FromLogFormat
// makes one from a shared/logformat format, the formats the S3 log
// forwarder reads too.
type Format struct {
	// Parse turns one line (with Defaults.Split = SplitJSON, one JSON
	// document) into a record. A format that needs a reference time sets
	// ParseAt instead, which is given the record's arrival time, and one
	// that can fill a reused record (the fastest) sets ParseInto. Exactly
	// one is set.
	Parse     pipeline.Parser
	ParseAt   pipeline.ParserAt
	ParseInto pipeline.ParserInto
	// Defaults holds the pipeline settings the format implies, taken for
	// variables the environment leaves unset (pipeline.LoadDefaults): the
	// event-time field (TIME_FIELD), the full column list for csv and tsv
	// output (OUTPUT_COLUMNS), and the Split.
	Defaults pipeline.Options
}

// FromLogFormat is the transformer of a log format (logformat.NewFormat,
// logformat.LoadFormat): its parser and its defaults.
func FromLogFormat(f logformat.Format) Format {
	if f.ParseInto != nil {
		return Format{ParseInto: f.ParseInto, Defaults: f.Defaults}
	}
	return Format{ParseAt: f.Parse, Defaults: f.Defaults}
}

// NewHandler builds the Firehose handler of a transformer from fn's
// settings. An invalid setting is recorded in fn, which Start reports as the
// init error naming the variable; NewHandler then returns nil. extra come
// after the defaults, so a test can replace the re-ingester or the budget.
func NewHandler(fn *boot.Function, f Format, extra ...firehose.Option) *firehose.Handler {
	def, parse := f.Defaults, logformat.Load(fn.Env) // PARSE_MESSAGE
	def.ParseMessage, def.ParseMessageName = parse.Parse, parse.Name
	opts := pipeline.LoadDefaults(fn.Env, def)
	if fn.Env.Err() != nil {
		return nil // New would only report the same problems again
	}
	var p *pipeline.Pipeline
	var err error
	switch {
	case f.ParseInto != nil:
		p, err = pipeline.NewInto(f.ParseInto, opts)
	case f.ParseAt != nil:
		p, err = pipeline.NewAt(f.ParseAt, opts)
	default:
		p, err = pipeline.New(f.Parse, opts)
	}
	if err != nil {
		fn.Check(err)
		return nil
	}
	return firehose.NewHandler(p, append([]firehose.Option{
		// Re-ingestion retries as cwlogs-decompressor's does (20 attempts).
		firehose.WithReingester(reingest.New(retry.Default())),
		firehose.WithLogger(fn.Log),
		firehose.WithMetrics(fn.Metrics),
		firehose.WithCounts(lineCounts(p)),
		// The pipeline writes each record's output into memory the
		// handler keeps from one invocation to the next, and each
		// response goes into the memory of the last: Lambda sends it
		// before the next invocation.
		firehose.WithOutArena(),
		firehose.WithResponseReuse(),
		// The pipeline's partition-key maps never change once made.
		firehose.WithStablePartitionKeys(),
	}, extra...)...)
}

// lineCounts reports what the pipeline did with the lines of one
// invocation: the framework counts Firehose records, which hold many lines.
func lineCounts(p *pipeline.Pipeline) func() []firehose.Count {
	return func() []firehose.Count {
		s := p.TakeStats()
		return []firehose.Count{
			{Name: "LinesSkipped", N: int(s.Skipped)},
			{Name: "LinesFiltered", N: int(s.Filtered)},
			{Name: "LinesWritten", N: int(s.Written)},
		}
	}
}
