package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"lakestream/shared/firehose"
	"lakestream/shared/record"
)

// Parser turns one line (with SplitJSON, one JSON document) into a record.
// It returns (nil, nil) to skip a line on purpose, such as a comment or a
// header line, and an error for a line it cannot read, which fails the
// Firehose record. A Parser may keep references into line: the pipeline is
// done with the record before the data changes.
type Parser func(line []byte) (*record.Record, error)

// ParserAt is a Parser that is also given the approximate arrival time of
// the Firehose record the line came in, in UTC, for formats that need a
// reference time: an RFC 3164 syslog timestamp has no year. Dating lines
// against the arrival time rather than the clock makes a transformation
// repeatable: a retried or re-driven record comes out the same.
type ParserAt func(line []byte, arrival time.Time) (*record.Record, error)

// ErrMixedPartitions is wrapped when the lines of one Firehose record map
// to different partition keys: Firehose takes one set of keys per record,
// so the producer must not mix, say, hours in one record.
var ErrMixedPartitions = errors.New("lines of one record map to different partitions")

// LineError is a failure of one line, which fails its Firehose record.
type LineError struct {
	Line int // 1-based; with SplitJSON, the line the document starts on
	Err  error
}

// Error returns "line N: " and the cause.
func (e *LineError) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *LineError) Unwrap() error { return e.Err }

// FieldError is a problem with one field's value: a schema violation, an
// event time that is not a time, a value with no JSON form.
type FieldError struct {
	Field string
	Err   error
}

// Error returns `field "name": ` and the cause.
func (e *FieldError) Error() string { return "field " + strconv.Quote(e.Field) + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *FieldError) Unwrap() error { return e.Err }

// Stats counts lines of the Firehose records transformed without error;
// a failed record is counted by the firehose framework as a whole.
type Stats struct {
	Skipped  int64 // lines the Parser skipped on purpose
	Filtered int64 // lines dropped by DROP_IF
	Written  int64 // lines written to the output
}

// Pipeline runs the stages configured by Options over Firehose records.
// It is safe for concurrent use.
type Pipeline struct {
	parse  ParserAt
	stages *stages

	mu    sync.Mutex
	stats Stats
}

// New builds a Pipeline, checking every option first: each problem is
// reported as a *config.Error naming the environment variable it comes
// from, so nothing can fail for configuration reasons later.
func New(parse Parser, opts Options) (*Pipeline, error) {
	if parse == nil {
		return nil, errors.New("pipeline: nil Parser")
	}
	return NewAt(func(line []byte, _ time.Time) (*record.Record, error) { return parse(line) }, opts)
}

// NewAt is New for a ParserAt.
func NewAt(parse ParserAt, opts Options) (*Pipeline, error) {
	if parse == nil {
		return nil, errors.New("pipeline: nil Parser")
	}
	s, problems := compile(opts)
	if len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = p
		}
		return nil, fmt.Errorf("pipeline: invalid options: %w", errors.Join(errs...))
	}
	return &Pipeline{parse: parse, stages: s}, nil
}

// TakeStats returns the counts since the previous call and resets them;
// a handler calls it once per invocation to emit the counts as metrics.
func (p *Pipeline) TakeStats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	p.stats = Stats{}
	return s
}

// Transform is a firehose.Transform: it parses every line of r, runs the
// stages and returns the surviving records as output lines, with their
// partition keys. Any failing line fails the record with a *LineError; a
// record with no surviving line is dropped.
func (p *Pipeline) Transform(ctx context.Context, r firehose.Record) (firehose.Output, error) {
	if err := ctx.Err(); err != nil {
		return firehose.Output{}, err
	}
	s := p.stages
	masks := masker{stages: s} // per call: it holds HMAC state
	arrival := s.arrivalValue(r.ArrivalTime)
	arrivalUTC := r.ArrivalTime.UTC()
	// Output is usually about the input's size: JSON adds field names to
	// text logs, masking shortens values.
	out := make([]byte, 0, len(r.Data)+len(r.Data)/2)
	var (
		stats             Stats
		keys, first       []byte
		firstLine         int
		scratch, keysText []byte
	)
	for n, line := range s.split.pieces(r.Data) {
		rec, err := p.parse(line, arrivalUTC)
		if err != nil {
			return firehose.Output{}, &LineError{Line: n, Err: err}
		}
		if rec == nil {
			stats.Skipped++
			continue
		}
		drop, err := s.filter.match(rec, &scratch)
		if err != nil {
			return firehose.Output{}, &LineError{Line: n, Err: err}
		}
		if drop {
			stats.Filtered++
			continue
		}
		if s.arrivalField != "" {
			rec.Set(s.arrivalField, arrival)
		}
		if err := masks.apply(rec); err != nil {
			return firehose.Output{}, &LineError{Line: n, Err: err}
		}
		if err := validate(s.schema, rec); err != nil {
			return firehose.Output{}, &LineError{Line: n, Err: err}
		}
		if len(s.partition) > 0 {
			if keys, err = s.appendPartition(keys[:0], rec, r.ArrivalTime, &keysText); err != nil {
				return firehose.Output{}, &LineError{Line: n, Err: err}
			}
			if first == nil {
				first, firstLine = bytes.Clone(keys), n
			} else if !bytes.Equal(keys, first) {
				return firehose.Output{}, &LineError{Line: n, Err: fmt.Errorf("%w: line %d has %s, this line %s",
					ErrMixedPartitions, firstLine, s.describePartition(first), s.describePartition(keys))}
			}
		}
		if out, err = s.appendLine(out, rec, &scratch); err != nil {
			return firehose.Output{}, &LineError{Line: n, Err: err}
		}
		stats.Written++
	}

	p.mu.Lock()
	p.stats.Skipped += stats.Skipped
	p.stats.Filtered += stats.Filtered
	p.stats.Written += stats.Written
	p.mu.Unlock()

	if stats.Written == 0 {
		return firehose.Output{Drop: true}, nil
	}
	o := firehose.Output{Data: out}
	if first != nil {
		o.PartitionKeys = s.partitionMap(first)
	}
	return o, nil
}

// arrivalValue is the enrichment value, built once per Firehose record and
// shared by its lines, so enriching a line costs no allocation.
func (s *stages) arrivalValue(t time.Time) any {
	if s.arrivalField == "" {
		return nil
	}
	if s.arrivalFormat == TimeEpochMillis {
		return t.UnixMilli()
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
