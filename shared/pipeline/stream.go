package pipeline

import (
	"time"

	"lakestream/shared/record"
)

// LineResult is what the stages made of one line a LineStream was given.
type LineResult uint8

// What became of a line.
const (
	// LineWritten: the line's output was appended.
	LineWritten LineResult = iota
	// LineSkipped: the parser skipped it on purpose (a header or comment
	// line), or PARSE_MESSAGE's parser did.
	LineSkipped
	// LineFiltered: DROP_IF dropped it.
	LineFiltered
)

// LineStream runs the stages over lines handed over one at a time, for a
// source that reads its lines itself rather than out of Firehose records:
// the S3 log forwarder streaming an object. A line that fails fails alone
// and writes nothing; the caller decides what becomes of it. The output
// carries no partition keys (PutRecordBatch takes none), so PARTITION_KEYS
// is not evaluated. A LineStream is not safe for concurrent use; a Pipeline
// may hand out any number of them.
type LineStream struct {
	p  *Pipeline
	ps *pass
}

// NewLineStream returns a LineStream whose lines all arrived at arrival:
// the time ARRIVAL_TIME_FIELD writes and a year-less syslog time is dated
// against (for an S3 object, its event time, so that a retried object comes
// out the same).
func (p *Pipeline) NewLineStream(arrival time.Time) *LineStream {
	ps := p.stages.newPass()
	ps.start(arrival, 64<<10, 0, nil)
	// Partition keys go nowhere here: evaluating them would only cost time
	// and fail lines for an event time no output carries.
	s := *p.stages
	s.partition = nil
	ps.s = &s
	ps.masks.stages = &s
	return &LineStream{p: p, ps: ps}
}

// Line parses line with the Pipeline's parser and runs the stages; a
// written line's output, ending in LF, is appended to Output. An error
// (the parser's, a stage's) fails the line, and nothing of it is written.
func (s *LineStream) Line(line []byte) (LineResult, error) {
	ps := s.ps
	ps.rec.Reset()
	kept, err := s.p.parse(&ps.rec, line, ps.arrival)
	if err != nil {
		return 0, ps.s.withhold(err, true) // as Transform's: no masked value quoted
	}
	if !kept {
		return LineSkipped, nil
	}
	return s.run(line)
}

// Record runs the stages over a record the caller parsed itself (to add
// fields of its own, say), text being the line it came from. The stages
// work on a copy of rec's field list; rec is left as it was.
func (s *LineStream) Record(rec *record.Record, text []byte) (LineResult, error) {
	ps := s.ps
	ps.rec.Reset()
	ps.rec.Fields = append(ps.rec.Fields, rec.Fields...)
	return s.run(text)
}

// run takes the line in the pass's record through the stages and writes it.
func (s *LineStream) run(text []byte) (LineResult, error) {
	ps := s.ps
	before := ps.stats
	kept, err := ps.prepare()
	switch {
	case err != nil:
		return 0, err
	case !kept && ps.stats.Filtered > before.Filtered:
		return LineFiltered, nil
	case !kept:
		return LineSkipped, nil
	}
	n := len(ps.out)
	if err := ps.write(&ps.rec.Record, text, nil); err != nil {
		ps.out = ps.out[:n] // a line half written is not written
		return 0, err
	}
	return LineWritten, nil
}

// Output returns the lines written since the last Reset. It is valid until
// the next call to Line, Record or Reset.
func (s *LineStream) Output() []byte { return s.ps.out }

// Reset empties Output, keeping its memory for the lines to come.
func (s *LineStream) Reset() { s.ps.out = s.ps.out[:0] }

// Truncate drops the output after its first n bytes: a caller that cannot
// use the line just written (too large to send, say) takes it back.
func (s *LineStream) Truncate(n int) { s.ps.out = s.ps.out[:n] }

// Take returns the lines written since the last Reset or Take and goes on
// writing into buf's memory (buf[:0]): the output can then be sent while
// the next lines are written, without a copy.
func (s *LineStream) Take(buf []byte) []byte {
	out := s.ps.out
	s.ps.out = buf[:0]
	return out
}
