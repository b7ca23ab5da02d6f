package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
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

// ParserInto is a ParserAt that fills the record it is given instead of
// returning a new one: the pipeline parses every line into one
// record.Builder, reset in between, whose arena then holds the line's
// values (Text, Box) at no allocation each, where a new record per line
// costs a dozen. It reports false to skip a line on purpose, and may keep
// references into line as a Parser may.
type ParserInto func(r *record.Builder, line []byte, arrival time.Time) (bool, error)

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
	parse  ParserInto
	stages *stages
	// jsonDocs is set for ParseJSONInto with SplitJSON: Transform then
	// parses each document straight from the record's data.
	jsonDocs bool
	// passes holds the working memory of Transform calls done, for the
	// next: the record lines are parsed into, buffers, caches. spare is
	// the pass of the last call done, taken first: one atomic swap,
	// where the pool's Get and Put (pinning the goroutine to its P) took
	// a tenth of the Firehose framework's own time per record on
	// batches of short records, which call Transform thousands of times
	// an invocation, one after another.
	passes sync.Pool
	spare  atomic.Pointer[pass]

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
	return NewInto(func(r *record.Builder, line []byte, arrival time.Time) (bool, error) {
		parsed, err := parse(line, arrival)
		if parsed == nil || err != nil {
			return false, err
		}
		// The fields' values are the parser's own; only the field list
		// is copied into the record every stage works on.
		r.Fields = append(r.Fields, parsed.Fields...)
		return true, nil
	}, opts)
}

// NewInto is New for a ParserInto, the parser that costs the least.
func NewInto(parse ParserInto, opts Options) (*Pipeline, error) {
	if parse == nil {
		return nil, errors.New("pipeline: nil Parser")
	}
	s, err := buildStages(opts)
	if err != nil {
		return nil, err
	}
	return &Pipeline{parse: parse, stages: s, jsonDocs: s.split == SplitJSON && isParseJSONInto(parse)}, nil
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

// Transform makes *Pipeline a firehose.Transformer: it parses every line
// of r, runs the stages and returns the surviving records as output lines,
// with their partition keys. Any failing line fails the record with a
// *LineError; a record with no surviving line is dropped.
func (p *Pipeline) Transform(ctx context.Context, r firehose.Record) (firehose.Output, error) {
	if err := ctx.Err(); err != nil {
		return firehose.Output{}, err
	}
	ps := p.spare.Swap(nil)
	if ps == nil {
		if ps, _ = p.passes.Get().(*pass); ps == nil {
			ps = p.stages.newPass()
		}
	}
	var o firehose.Output
	err := p.transform(&r, ps, &o)
	if err == nil {
		if old := p.spare.Swap(ps); old != nil {
			p.passes.Put(old) // another call's, done at the same time
		}
	}
	// else the pass is left to the garbage collector: the error may
	// refer to the line's values (a field's name), which the next
	// Transform taking the pass would write over (see pass.rec).
	return o, err
}

// transform is Transform with the pass ps, into o (which it leaves as it
// was on error): the output written in place, rather than copied out of
// one more call.
func (p *Pipeline) transform(r *firehose.Record, ps *pass, o *firehose.Output) error {
	s := p.stages
	ps.start(r.ArrivalTime, 0, 0, nil)
	ps.outputFor(len(r.Data), r.Out)
	var (
		haveFirst bool
		firstAt   int // where the first line starts: see splitter.line
	)
	lines := s.split.splitter(r.Data)
	// Until the data is used up (next finds nothing in what is left
	// but blank lines or white space): a record of one line, as many
	// producers send, takes no call to find there is no second.
	for len(lines.data) > 0 {
		rec := &ps.rec
		at, line, kept, more, err := p.next(&lines, rec, ps)
		if !more {
			break
		}
		if err != nil {
			return &LineError{Line: lines.line(at), Err: s.withhold(err, true)}
		}
		if !kept {
			ps.stats.Skipped++
			continue
		}
		if kept, err = ps.prepare(); err != nil {
			return &LineError{Line: lines.line(at), Err: err}
		}
		if !kept {
			continue
		}
		if len(s.partition) > 0 {
			if !haveFirst {
				// The first line's values kept by swapping buffers, not copied:
				// prepare writes the next line's into the other.
				ps.first, ps.keys, firstAt, haveFirst = ps.keys, ps.first[:0], at, true
			} else if !bytes.Equal(ps.keys, ps.first) {
				return &LineError{Line: lines.line(at), Err: fmt.Errorf("%w: line %d has %s, this line %s",
					ErrMixedPartitions, lines.line(firstAt), s.describePartition(ps.first), s.describePartition(ps.keys))}
			}
		}
		text := line
		if s.split == SplitJSON && !s.format.writesFields() && bytes.IndexByte(line, '\n') >= 0 {
			// A pretty-printed document is written on one line: the same
			// document, and still one line per record.
			ps.compact.Reset()
			if json.Compact(&ps.compact, line) == nil {
				text = ps.compact.Bytes()
			}
		}
		var valid []byte
		if p.jsonDocs {
			valid = line // read whole by ParseJSONInto: see appendRecord
		}
		if err := ps.write(&rec.Record, text, valid); err != nil {
			return &LineError{Line: lines.line(at), Err: err}
		}
	}
	p.addStats(ps.stats)

	if ps.stats.Written == 0 {
		o.Drop = true
		return nil
	}
	o.Data = ps.output(len(r.Data))
	if haveFirst {
		o.PartitionKeys = ps.partitionMap(ps.first)
	}
	return nil
}

// next cuts the next line or document from the record's data and parses
// it into rec, reporting false when there is none left. at is where the
// line starts in the data (splitter.line numbers it).
func (p *Pipeline) next(lines *splitter, rec *record.Builder, ps *pass) (at int, line []byte, kept, more bool, err error) {
	if p.jsonDocs && lines.skipSpace() && lines.data[0] == '{' {
		rec.Rewind()
		// One pass: parsing a well-formed object finds its end. Anything
		// else is cut out and parsed again below, for its error.
		if end, ok := ps.docs.readJSONDocument(rec, lines.data); ok {
			line = lines.data[:end]
			return lines.take(end), line, true, true, nil
		}
	}
	at, line, more = lines.next()
	if !more {
		return 0, nil, false, false, nil
	}
	rec.Rewind() // the last line is written: its values are done with
	kept, err = p.parse(rec, line, ps.arrival)
	return at, line, kept, true, err
}

func (p *Pipeline) addStats(s Stats) {
	p.mu.Lock()
	p.stats.Skipped += s.Skipped
	p.stats.Filtered += s.Filtered
	p.stats.Written += s.Written
	p.mu.Unlock()
}

// pass is one Firehose record's way through the stages after parsing:
// the output so far, the last record's partition values, the counts. A
// pass is reused for record after record (Transform keeps them in a pool),
// so that what a record needs besides its output is allocated once.
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

	// rec is the record every line is parsed into, which prepare works on;
	// its arena also holds the values the stages make (a masked address).
	// Transform rewinds it between lines (see record.Builder's Rewind):
	// nothing of a line's record is kept once the line is written, but
	// copies (timeMemo, memberNames, keyShape, the partition values).
	rec record.Builder

	// plan is where the stages found their fields in the last records
	// (plan.go); look finds them in the line's, by the plan when it fits.
	plan linePlan
	look lookup
	// byName turns plans off, every field being looked up by name: for
	// tests holding plans to the lookups they stand for.
	byName bool

	// stamp holds arrivalV, which outlives the lines of a record (and
	// records of the same millisecond): rewound when it changes.
	stamp record.Builder
	// arrivalMs is the arrival time arrivalV was made for.
	arrivalMs int64
	first     []byte    // the partition values of the record's first line
	docs      docReader // reads the documents of SplitJSON
	names     memberNames
	times     timeMemo
	stamps    millisStamps
	compact   bytes.Buffer
	outputs   outputs
	maps      partitionMaps
	// spare is Transform's buffer for small outputs; outRatio the last
	// output's size per input byte, in sixteenths; owned tells whether
	// p.out is memory the output keeps, handed over as it is (see
	// outputFor).
	spare    []byte
	outRatio int
	owned    bool
}

func (s *stages) newPass() *pass {
	p := &pass{s: s, masks: masker{stages: s}, arrivalMs: math.MinInt64}
	p.names.arena, p.times.hints = &p.rec, &p.rec
	p.docs.reads = s.reads
	p.docs.inRuns = s.fields == nil && s.parseMessage == nil
	return p
}

// start readies p for a record that arrived at arrival, with room for
// capacity bytes of output: in out (an arena the caller keeps, such as the
// Firehose framework's Record.Out) when it has the room, else in the
// pass's own buffer.
func (p *pass) start(arrival time.Time, capacity, limit int, out []byte) {
	if limit > 0 {
		capacity = min(capacity, limit+1)
	}
	p.arrival = arrival.UTC()
	if ms := arrival.UnixMilli(); ms != p.arrivalMs || p.arrivalV == nil {
		// Records of a batch arrive milliseconds apart; lines of a record
		// share the value. The last one is done with: the lines it was
		// written into are (arrivalValue rewinds p.stamp, when it
		// writes the value there).
		p.arrivalV, p.arrivalMs = p.s.arrivalValue(&p.stamp, &p.stamps, arrival), ms
	}
	if cap(out) >= capacity && out != nil {
		p.out = out
	} else if cap(p.out) < capacity {
		p.out = make([]byte, 0, capacity)
	}
	p.out = p.out[:0]
	p.limit, p.over, p.stats = limit, false, Stats{}
}

// outputFor readies p.out for the output of a Firehose record of n bytes,
// which the framework keeps until it writes the response. The output is
// written into arena, the framework's memory for the invocation's outputs
// (firehose.Record.Out), when it has room for it: nothing is allocated or
// copied then, and the memory serves the next invocation too. Without
// one, a large output is written into a buffer of its own, sized by the
// last output's ratio to its input, and handed over; a small one is
// written into the pass's spare buffer and copied out (see outputs).
func (p *pass) outputFor(n int, arena []byte) {
	if p.outRatio == 0 {
		p.outRatio = 24 // 1.5: JSON adds field names to text logs
	}
	size := n*p.outRatio/16 + 256
	if p.owned = cap(arena) >= size; p.owned {
		p.out = arena[:0]
		return
	}
	if p.owned = size > outputBlock/4; p.owned {
		p.out = make([]byte, 0, size+size/8)
		return
	}
	p.out = p.spare[:0]
}

// output returns the output of a Firehose record of n bytes.
func (p *pass) output(n int) []byte {
	out := p.out
	if n > 0 {
		p.outRatio = min(max(len(out)*16/n, 1), 1<<10)
	}
	if p.owned {
		p.out = nil
		return out
	}
	p.spare = out // kept, at the size it grew to
	if len(out) > outputBlock/4 {
		return bytes.Clone(out) // outgrew the guess: not worth a block
	}
	return p.outputs.copy(out)
}

// outputBlock is the size of the blocks outputs carves: the largest the
// runtime allocates from its per-thread caches; a larger one goes to the
// heap's lock and costs ten times as much.
const outputBlock = 32 << 10

// outputs holds the outputs of Firehose records of a few hundred bytes
// (a line per record, as many producers send), which would otherwise cost
// an allocation each: copied one after the other into a block, never
// written again once handed out (the framework reads them up to the
// response), the block left to the garbage collector when full.
type outputs struct {
	block []byte
}

func (o *outputs) copy(b []byte) []byte {
	if len(b) > cap(o.block)-len(o.block) {
		o.block = make([]byte, 0, outputBlock)
	}
	start := len(o.block)
	o.block = append(o.block, b...)
	return o.block[start:len(o.block):len(o.block)]
}

// partitionMaps remembers the metadata.partitionKeys maps made for
// records, by their partition values: records of one hour share one map
// instead of each building its own (the framework only reads them).
type partitionMaps struct {
	byValues map[string]map[string]string
	// The map returned last and its values: consecutive records of a
	// stream usually share their partition.
	last       map[string]string
	lastValues []byte
}

// maxPartitionMaps bounds the maps a pass remembers; a stream with more
// distinct partitions starts over.
const maxPartitionMaps = 1024

// partitionMap returns metadata.partitionKeys for appendPartition's values.
func (p *pass) partitionMap(values []byte) map[string]string {
	// The values of the hour the record's line was dated in (a record's
	// lines share theirs), when every key is a time part, have their map
	// kept with them: an access log's batch brings hours in any order,
	// and looking the map up by the values' text took a quarter of
	// writing its partition keys.
	if k := p.times.lastKeys; k != nil && bytes.Equal(values, k.values) {
		if k.m == nil {
			k.m = p.s.partitionMap(values)
		}
		return k.m
	}
	c := &p.maps
	if c.last != nil && bytes.Equal(values, c.lastValues) {
		return c.last
	}
	m, ok := c.byValues[string(values)]
	if !ok {
		if c.byValues == nil || len(c.byValues) >= maxPartitionMaps {
			c.byValues = make(map[string]map[string]string)
		}
		m = p.s.partitionMap(values)
		c.byValues[string(values)] = m
	}
	c.last, c.lastValues = m, append(c.lastValues[:0], values...)
	return m
}

// prepare runs the stages between parsing and writing on p.rec: parse its
// message, filter, enrich, mask, validate, and derive the partition values
// into p.keys. It reports false for a record PARSE_MESSAGE's parser skips
// or DROP_IF drops.
func (p *pass) prepare() (bool, error) {
	s, rec := p.s, &p.rec.Record
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
	p.times.newLine()
	l := &p.look
	*l = lookup{rec: rec, dropped: l.dropped[:0]}
	if !p.byName && s.plans() {
		if l.plan = p.plan.fit(s, &p.rec); l.plan != nil {
			l.at = l.plan.places
		}
	}
	drop, err := s.filter.matchIn(l, &p.scratch)
	if err != nil {
		return false, s.withhold(err, true)
	}
	if drop {
		p.stats.Filtered++
		return false, nil
	}
	if s.arrivalField != "" {
		l.set(s.arrivalField, p.arrivalV)
	}
	if err := p.masks.applyIn(&p.rec, l); err != nil {
		return false, s.withhold(err, false)
	}
	if err := validateIn(s.schema, l, &p.times); err != nil {
		return false, s.withhold(err, false)
	}
	if len(s.partition) > 0 {
		if p.keys, err = s.appendPartitionIn(p.keys[:0], l, p.arrival, &p.keysText, &p.times); err != nil {
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
// the output has passed its limit. valid is as for appendRecord.
func (p *pass) write(rec *record.Record, text, valid []byte) error {
	if p.over {
		return nil
	}
	var t time.Time
	if p.s.format == FormatSplunk {
		var err error
		if t, err = p.s.eventTime(rec, p.arrival, &p.times); err != nil {
			return p.s.withhold(err, false)
		}
	}
	if p.s.fields != nil {
		p.s.fields.apply(&p.selected, rec)
		rec = &p.selected
	}
	var err error
	if p.out, err = p.s.appendLine(p.out, rec, text, valid, t, &p.scratch, &p.names); err != nil {
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

// arrivalValue is the enrichment value, made once per Firehose record (in
// stamps, else in r's arena, which it rewinds first: the last record's
// value is done with) and shared by its lines, so enriching a line costs
// no allocation.
func (s *stages) arrivalValue(r *record.Builder, stamps *millisStamps, t time.Time) any {
	if s.arrivalField == "" {
		return nil
	}
	if s.arrivalFormat == TimeEpochMillis {
		r.Rewind()
		return r.BoxInt(t.UnixMilli())
	}
	if v := stamps.value(t); v != nil {
		return v
	}
	r.Rewind()
	var buf [len("2006-01-02T15:04:05.000Z")]byte
	return r.Box(r.Text(appendMillisUTC(buf[:0], t)))
}
