package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
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
	// withhold is set for a field MASK_FIELDS masks: the cause's quoted
	// values are left out of the message.
	withhold bool
}

// Error returns `field "name": ` and the cause (its quoted values
// withheld when the field is masked).
func (e *FieldError) Error() string {
	cause := e.Err.Error()
	if e.withhold {
		cause = withholdQuoted(cause)
	}
	return "field " + strconv.Quote(e.Field) + ": " + cause
}

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
	// Output is usually about the input's size: JSON adds field names to
	// text logs, masking shortens values.
	ps := s.newPass(r.ArrivalTime, len(r.Data)+len(r.Data)/2, 0, nil)
	var (
		first     []byte
		firstLine int
		compact   bytes.Buffer
	)
	for n, line := range s.split.pieces(r.Data) {
		rec, err := p.parse(line, ps.arrival)
		if err != nil {
			return firehose.Output{}, &LineError{Line: n, Err: s.withhold(err, true)}
		}
		if rec == nil {
			ps.stats.Skipped++
			continue
		}
		kept, err := ps.prepare(rec)
		if err != nil {
			return firehose.Output{}, &LineError{Line: n, Err: err}
		}
		if !kept {
			continue
		}
		if len(s.partition) > 0 {
			if first == nil {
				first, firstLine = bytes.Clone(ps.keys), n
			} else if !bytes.Equal(ps.keys, first) {
				return firehose.Output{}, &LineError{Line: n, Err: fmt.Errorf("%w: line %d has %s, this line %s",
					ErrMixedPartitions, firstLine, s.describePartition(first), s.describePartition(ps.keys))}
			}
		}
		text := line
		if s.split == SplitJSON && !s.format.writesFields() && bytes.IndexByte(line, '\n') >= 0 {
			// A pretty-printed document is written on one line: the same
			// document, and still one line per record.
			compact.Reset()
			if json.Compact(&compact, line) == nil {
				text = compact.Bytes()
			}
		}
		if err := ps.write(rec, text); err != nil {
			return firehose.Output{}, &LineError{Line: n, Err: err}
		}
	}
	p.addStats(ps.stats)

	if ps.stats.Written == 0 {
		return firehose.Output{Drop: true}, nil
	}
	o := firehose.Output{Data: ps.out}
	if first != nil {
		o.PartitionKeys = s.partitionMap(first)
	}
	return o, nil
}

func (p *Pipeline) addStats(s Stats) {
	p.mu.Lock()
	p.stats.Skipped += s.Skipped
	p.stats.Filtered += s.Filtered
	p.stats.Written += s.Written
	p.mu.Unlock()
}

// pass is one Firehose record's way through the stages after parsing:
// the output so far, the last record's partition values, the counts.
type pass struct {
	s        *stages
	masks    masker // per pass: it holds HMAC state
	arrival  time.Time
	arrivalV any
	out      []byte
	// limit, when positive, stops writing once the output is longer:
	// the record is then split, and writing the rest would only cost
	// memory.
	limit int
	over  bool
	keys  []byte // the partition values of the record prepare saw last
	stats Stats

	scratch, keysText []byte
	// selected is the record FIELDS writes (fields.go), reused.
	selected record.Record
}

// newPass starts a pass writing its output to out when out has room for
// capacity bytes, and to a new buffer otherwise.
func (s *stages) newPass(arrival time.Time, capacity, limit int, out []byte) *pass {
	if limit > 0 {
		capacity = min(capacity, limit+1)
	}
	if cap(out) < capacity {
		out = make([]byte, 0, capacity)
	}
	return &pass{
		s:        s,
		masks:    masker{stages: s},
		arrival:  arrival.UTC(),
		arrivalV: s.arrivalValue(arrival),
		out:      out[:0],
		limit:    limit,
	}
}

// prepare runs the stages between parsing and writing on rec: parse its
// message, filter, enrich, mask, validate, and derive the partition values
// into p.keys. It reports false for a record PARSE_MESSAGE's parser skips
// or DROP_IF drops.
func (p *pass) prepare(rec *record.Record) (bool, error) {
	s := p.s
	if s.parseMessage != nil {
		if msg, ok := messageOf(rec); ok {
			parsed, err := s.parseMessage(stringBytes(msg), p.arrival)
			if err != nil {
				return false, fmt.Errorf("message does not parse: %w", s.withhold(err, true))
			}
			if parsed == nil {
				p.stats.Skipped++
				return false, nil
			}
			// The record's own fields keep their values: a column keeps
			// one type, whatever the messages hold.
			n := len(rec.Fields)
			for _, f := range parsed.Fields {
				name := f.Name
				if fieldIndex(&record.Record{Fields: rec.Fields[:n]}, name) >= 0 {
					name = s.parsedPrefix + name
				}
				rec.Set(name, f.Value)
			}
		}
	}
	drop, err := s.filter.match(rec, &p.scratch)
	if err != nil {
		return false, s.withhold(err, true)
	}
	if drop {
		p.stats.Filtered++
		return false, nil
	}
	if s.arrivalField != "" {
		rec.Set(s.arrivalField, p.arrivalV)
	}
	if err := p.masks.apply(rec); err != nil {
		return false, s.withhold(err, false)
	}
	if err := validate(s.schema, rec); err != nil {
		return false, s.withhold(err, false)
	}
	if len(s.partition) > 0 {
		if p.keys, err = s.appendPartition(p.keys[:0], rec, p.arrival, &p.keysText); err != nil {
			return false, s.withhold(err, false)
		}
	}
	return true, nil
}

// messageOf returns the top-level message field's string, which
// PARSE_MESSAGE parses; a record without one is left as it is.
func messageOf(rec *record.Record) (string, bool) {
	v, _ := rec.Get(FieldMessage)
	s, ok := v.(string)
	return s, ok
}

// write appends rec (text is its source text) as one output line, unless
// the output has passed its limit.
func (p *pass) write(rec *record.Record, text []byte) error {
	if p.over {
		return nil
	}
	var t time.Time
	if p.s.format == FormatSplunk {
		var err error
		if t, err = p.s.eventTime(rec, p.arrival); err != nil {
			return p.s.withhold(err, false)
		}
	}
	if p.s.fields != nil {
		p.s.fields.apply(&p.selected, rec)
		rec = &p.selected
	}
	var err error
	if p.out, err = p.s.appendLine(p.out, rec, text, t, &p.scratch); err != nil {
		return p.s.withhold(err, false)
	}
	p.wrote()
	return nil
}

// wrote counts a line just written and checks the limit.
func (p *pass) wrote() {
	p.stats.Written++
	if p.limit > 0 && len(p.out) > p.limit {
		p.over = true
	}
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
