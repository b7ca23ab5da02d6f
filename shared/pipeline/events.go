package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/excerpt"
	"lakestream/shared/jsonenc"
	"lakestream/shared/record"
)

// The fields of a log event's record, after the fields its batch shares.
const (
	FieldID        = "id"
	FieldTimestamp = "timestamp" // milliseconds since the epoch, an int64
	FieldMessage   = "message"   // also the record's text
)

// LogEvent is one log event, in the shape CloudWatch Logs delivers it:
// an id, a time in milliseconds and a message.
type LogEvent = events.CloudwatchLogsLogEvent

// LogEvents are the log events of one Firehose record and the values
// they share: a CloudWatch Logs subscription payload's log group, log
// stream and owner. Each event is the record {shared fields..., id,
// timestamp, message} whose text is its message.
type LogEvents struct {
	// Shared holds the shared fields' values, in the order of the names
	// given to NewEvents.
	Shared []string
	Events []LogEvent
	// ValidUTF8 promises that the messages are valid UTF-8, as strings
	// decoded from JSON are, which spares lines a check of every byte.
	ValidUTF8 bool
}

// EventError is a failure of one log event, which fails its Firehose
// record.
type EventError struct {
	Index int // 1-based, in the record's payload
	ID    string
	Err   error
}

// Error returns "log event N (id ID): " and the cause.
func (e *EventError) Error() string {
	// Not excerpt.Quote: a CloudWatch Logs id is 56 digits, all of which
	// it takes to find the event, and no personal data.
	id := strconv.Quote(e.ID)
	if len(e.ID) > 64 {
		id = excerpt.Quote(e.ID)
	}
	return "log event " + strconv.Itoa(e.Index) + " (id " + id + "): " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *EventError) Unwrap() error { return e.Err }

// EventPipeline runs the stages configured by Options over batches of log
// events (a source such as the CloudWatch Logs decompressor splits each
// Firehose record into one). When no stage reads a field beyond the shared
// ones and the event time, and the format is lines, json or splunk, it
// writes the events straight from the batch without building a record for
// any, which is what keeps the decompressor near the speed of gunzip. It is
// safe for concurrent use.
type EventPipeline struct {
	stages *stages
	shared []string
	// direct is set when the plan needs no record per event (see above).
	direct bool
	// sharedKey[i] is the index in shared of partition key i's field, or
	// -1 for a time part (direct plans only).
	sharedKey []int
	// byTime is set when some partition key is a time part.
	byTime bool
	// host and source are the Splunk references' indexes in shared, -1
	// for a literal (direct plans only).
	host, source int
}

// NewEvents builds an EventPipeline for events whose batches share the
// named fields (CloudWatch Logs: logGroup, logStream, owner), checking
// every option as New does.
func NewEvents(shared []string, opts Options) (*EventPipeline, error) {
	s, err := buildStages(opts)
	if err != nil {
		return nil, err
	}
	p := &EventPipeline{stages: s, shared: slices.Clone(shared)}
	p.direct = p.plan()
	return p, nil
}

// plan decides whether events can be written without records, and
// resolves what the direct path reads to the shared fields.
func (p *EventPipeline) plan() bool {
	s := p.stages
	if len(s.filter) > 0 || len(s.masks) > 0 || len(s.schema) > 0 || s.arrivalField != "" || s.parseMessage != nil || s.fields != nil {
		return false
	}
	if s.format != FormatLines && s.format != FormatJSON && s.format != FormatSplunk {
		return false
	}
	timeOK := s.timeField == nil || s.timeField.name == FieldTimestamp
	p.sharedKey = make([]int, len(s.partition))
	for i, k := range s.partition {
		if k.part != partField {
			p.byTime = true
			p.sharedKey[i] = -1
			if !timeOK {
				return false
			}
			continue
		}
		if p.sharedKey[i] = slices.Index(p.shared, k.field.name); p.sharedKey[i] < 0 {
			return false
		}
	}
	if s.format == FormatSplunk {
		if !timeOK {
			return false
		}
		var ok bool
		if p.host, ok = p.sharedRef(s.splunk.host); !ok {
			return false
		}
		if p.source, ok = p.sharedRef(s.splunk.source); !ok {
			return false
		}
	}
	return true
}

// sharedRef resolves a Splunk reference for the direct path: -1 for a
// literal, the shared field's index, or false for another field.
func (p *EventPipeline) sharedRef(ref splunkRef) (int, bool) {
	if ref.field == nil {
		return -1, true
	}
	i := slices.Index(p.shared, ref.field.name)
	return i, i >= 0
}

// Direct reports whether events are written without building records.
func (p *EventPipeline) Direct() bool { return p.direct }

// RunOptions says how Run treats one batch.
type RunOptions struct {
	// Limit, when positive, is the most output the caller can use: once
	// the output is longer, Run stops writing and reports Over.
	Limit int
	// NoPartition skips PARTITION_KEYS, for output that carries no keys
	// (PutRecordBatch into a delivery stream).
	NoPartition bool
	// LineEnds asks for the end offset of each line in Data.
	LineEnds bool
	// Record forces the record path, for tests proving both paths agree.
	Record bool
	// Out, when it has room for the output, is the buffer Run writes it
	// to (from Out[:0]), such as firehose.Record.Out; otherwise Run
	// allocates one.
	Out []byte
}

// EventResult is what Run made of a batch.
type EventResult struct {
	// Data holds the surviving events' lines; nil when none survived,
	// when Over, or when Groups is set.
	Data []byte
	// PartitionKeys are the survivors' partition keys (nil without
	// PARTITION_KEYS).
	PartitionKeys map[string]string
	// Over reports output longer than RunOptions.Limit.
	Over bool
	// Groups, when the survivors map to different partition keys, holds
	// their indexes in the batch grouped by keys, in the order each keys
	// first appear: Firehose takes one set of keys per record, so the
	// caller makes one record of each group.
	Groups [][]int
	// LineEnds are the end offsets of Data's lines, when asked for.
	LineEnds []int
	// Stats counts the events skipped by PARSE_MESSAGE's parser, filtered
	// by DROP_IF and written.
	Stats Stats
}

// Run runs the stages over one batch of events that arrived at arrival.
// An event that fails a stage fails the batch with an *EventError.
func (p *EventPipeline) Run(ctx context.Context, evs *LogEvents, arrival time.Time, o RunOptions) (EventResult, error) {
	if err := ctx.Err(); err != nil {
		return EventResult{}, err
	}
	if len(evs.Shared) != len(p.shared) {
		return EventResult{}, fmt.Errorf("pipeline: %d shared values for the %d shared fields %v", len(evs.Shared), len(p.shared), p.shared)
	}
	// A pass of its own: the result keeps its output (in o.Out, when the
	// caller gave an arena with room).
	ps := p.stages.newPass()
	ps.start(arrival, p.capacity(evs), o.Limit, o.Out)
	r := eventRun{p: p, ps: ps, evs: evs, opts: o, partition: len(p.stages.partition) > 0 && !o.NoPartition}
	var err error
	if p.direct && !o.Record {
		err = r.direct()
	} else {
		err = r.records()
	}
	if err != nil {
		return EventResult{}, err
	}
	res := EventResult{Over: ps.over && r.groups.values == nil, Stats: ps.stats, LineEnds: r.ends}
	switch {
	case r.groups.values != nil:
		res.Groups = r.groups.groups
	case res.Over || ps.stats.Written == 0:
	default:
		res.Data = ps.out
		if r.partition {
			res.PartitionKeys = p.stages.partitionMap(r.groups.first)
		}
	}
	return res, nil
}

// capacity sizes the output buffer: exactly for lines, and for json and
// splunk without embedding on the direct path, since the output stays in
// the response until the invocation ends and a regrown buffer costs its
// size twice.
func (p *EventPipeline) capacity(evs *LogEvents) int {
	n := 0
	switch {
	case p.stages.format == FormatLines:
		for i := range evs.Events {
			n += len(evs.Events[i].Message) + 1
		}
	case p.direct && p.stages.format == FormatJSON:
		prefix := len(p.jsonPrefix(nil, evs))
		for i := range evs.Events {
			ev := &evs.Events[i]
			n += prefix + jsonenc.StringLen(ev.ID) + len(`,"timestamp":,"message":}`) + 21 + jsonenc.StringLen(ev.Message)
		}
	default:
		for i := range evs.Events {
			n += 2*len(evs.Events[i].Message) + 64
		}
	}
	return n
}

// eventRun is one Run's state.
type eventRun struct {
	p         *EventPipeline
	ps        *pass
	evs       *LogEvents
	opts      RunOptions
	partition bool
	groups    grouper
	ends      []int
}

// records is the record path: each event becomes a record that goes
// through every stage.
func (r *eventRun) records() error {
	p, ps := r.p, r.ps
	shared := make([]any, len(p.shared))
	for i, v := range r.evs.Shared {
		shared[i] = v
	}
	rec := &ps.rec.Record
	for i := range r.evs.Events {
		ev := &r.evs.Events[i]
		ps.rec.Reset()
		for j, name := range p.shared {
			rec.Fields = append(rec.Fields, record.Field{Name: name, Value: shared[j]})
		}
		rec.Fields = append(rec.Fields,
			record.Field{Name: FieldID, Value: ps.rec.Box(ev.ID)},
			record.Field{Name: FieldTimestamp, Value: ps.rec.BoxInt(ev.Timestamp)},
			record.Field{Name: FieldMessage, Value: ps.rec.Box(ev.Message)})
		fail := func(err error) error { return &EventError{Index: i + 1, ID: ev.ID, Err: err} }

		kept, err := ps.prepare()
		if err != nil {
			return fail(err)
		}
		if !kept {
			continue
		}
		if r.partition && r.groups.add(i, ps.keys) {
			ps.over = true // mixed: the caller regroups, nothing is written
		}
		if err := ps.write(rec, stringBytes(ev.Message), nil); err != nil {
			return fail(err)
		}
		r.lineEnd()
	}
	return nil
}

// direct is the direct path: events written from the batch as they are,
// byte for byte what the record path writes for them.
func (r *eventRun) direct() error {
	p, ps, s := r.p, r.ps, r.p.stages
	var prefix, splunkHead []byte
	switch s.format {
	case FormatJSON:
		prefix = p.jsonPrefix(nil, r.evs)
	case FormatSplunk:
		splunkHead = p.splunkHead(nil, r.evs)
	}
	// Partition values are a function of the shared values and, for
	// time parts, of the UTC hour an event falls in: they are rebuilt
	// only when the hour changes.
	var (
		keys    []byte
		hour    int64
		hasHour bool
	)
	if r.partition && !p.byTime {
		keys = p.directKeys(nil, r.evs, time.Time{})
	}
	for i := range r.evs.Events {
		ev := &r.evs.Events[i]
		var t time.Time
		if p.byTime || s.format == FormatSplunk {
			var err error
			if t, err = p.eventTime(ev, ps.arrival); err != nil {
				return &EventError{Index: i + 1, ID: ev.ID, Err: err}
			}
		}
		if r.partition {
			if p.byTime {
				if h := floorDiv(t.Unix(), 3600); !hasHour || h != hour {
					keys, hour, hasHour = p.directKeys(keys[:0], r.evs, t), h, true
				}
			}
			if r.groups.add(i, keys) {
				ps.over = true
			}
		}
		if ps.over {
			continue
		}
		switch s.format {
		case FormatLines:
			if r.evs.ValidUTF8 {
				ps.out = append(append(ps.out, ev.Message...), '\n')
			} else {
				ps.out = append(appendValidUTF8(ps.out, stringBytes(ev.Message)), '\n')
			}
		case FormatJSON:
			ps.out = append(ps.out, prefix...)
			ps.out = jsonenc.AppendString(ps.out, ev.ID)
			ps.out = append(ps.out, `,"timestamp":`...)
			ps.out = strconv.AppendInt(ps.out, ev.Timestamp, 10)
			ps.out = append(ps.out, `,"message":`...)
			ps.out = jsonenc.AppendString(ps.out, ev.Message)
			if s.embedJSON {
				if obj, ok := appendObject(append(ps.out, `,"messageJson":`...), stringBytes(ev.Message)); ok {
					ps.out = obj
				}
			}
			ps.out = append(ps.out, "}\n"...)
		case FormatSplunk:
			ps.out = append(ps.out, `{"time":`...)
			ps.out = appendSeconds(ps.out, t.UnixMilli())
			ps.out = append(ps.out, splunkHead...)
			ps.out = s.appendSplunkTail(ps.out, stringBytes(ev.Message))
		}
		ps.wrote()
		r.lineEnd()
	}
	return nil
}

func (r *eventRun) lineEnd() {
	if r.opts.LineEnds && !r.ps.over {
		r.ends = append(r.ends, len(r.ps.out))
	}
}

// eventTime is an event's time as the record path derives it from the
// timestamp field (TIME_FIELD=timestamp), or the arrival time.
func (p *EventPipeline) eventTime(ev *LogEvent, arrival time.Time) (time.Time, error) {
	if p.stages.timeField == nil {
		return arrival, nil
	}
	return p.stages.checkYear(epochInt(ev.Timestamp))
}

// jsonPrefix appends what every json line of the batch starts with: the
// shared fields, up to the id's value.
func (p *EventPipeline) jsonPrefix(dst []byte, evs *LogEvents) []byte {
	dst = append(dst, '{')
	for i, name := range p.shared {
		dst = jsonenc.AppendString(dst, name)
		dst = append(dst, ':')
		dst = jsonenc.AppendString(dst, evs.Shared[i])
		dst = append(dst, ',')
	}
	return append(dst, `"id":`...)
}

// splunkHead appends the host and source every event of the batch has.
func (p *EventPipeline) splunkHead(dst []byte, evs *LogEvents) []byte {
	s := p.stages
	for _, f := range []struct {
		key    string
		ref    splunkRef
		shared int
	}{{`,"host":`, s.splunk.host, p.host}, {`,"source":`, s.splunk.source, p.source}} {
		v := f.ref.literal
		if f.shared >= 0 {
			v = evs.Shared[f.shared]
		}
		if v != "" {
			dst = jsonenc.AppendString(append(dst, f.key...), v)
		}
	}
	return dst
}

// directKeys appends the partition values for events at time t, as
// appendPartition does for their records.
func (p *EventPipeline) directKeys(dst []byte, evs *LogEvents, t time.Time) []byte {
	c := dateHourOf(t)
	for i, k := range p.stages.partition {
		if j := p.sharedKey[i]; j >= 0 {
			dst = appendPartitionValue(dst, stringBytes(evs.Shared[j]))
		} else {
			dst = appendTimePart(dst, k.part, c)
		}
		dst = append(dst, 0)
	}
	return dst
}

// grouper collects the partition values of a batch's surviving events and,
// once they differ, the events of each.
type grouper struct {
	first  []byte
	kept   []int    // the events with the first values, until they differ
	values [][]byte // every distinct value, once they differ
	groups [][]int
}

// add records event i's values and reports whether the batch has been
// found mixed.
func (g *grouper) add(i int, values []byte) bool {
	switch {
	case g.first == nil:
		g.first = bytes.Clone(values)
		g.kept = append(g.kept, i)
		return false
	case g.values == nil && bytes.Equal(values, g.first):
		g.kept = append(g.kept, i)
		return false
	case g.values == nil:
		g.values = [][]byte{g.first}
		g.groups = [][]int{g.kept}
	}
	for j, v := range g.values {
		if bytes.Equal(v, values) {
			g.groups[j] = append(g.groups[j], i)
			return true
		}
	}
	g.values = append(g.values, bytes.Clone(values))
	g.groups = append(g.groups, []int{i})
	return true
}

// stringBytes is s's bytes without a copy, for code that only reads them.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// floorDiv is a/b rounded towards minus infinity (b > 0), so that times
// before 1970 fall in the hour before, not the hour after.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
