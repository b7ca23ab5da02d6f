package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxEventSize bounds one event's JSON text, and with it the memory
// a Scanner uses: 1 MiB, above Firehose's 1,000 KiB record limit, so that
// every event Firehose could take is read.
const DefaultMaxEventSize = 1 << 20

// ErrEventTooLarge is wrapped (with ErrMalformed) when a value in a log file
// is longer than the Scanner's maximum event size.
var ErrEventTooLarge = errors.New("event too large")

// Scanner reads a CloudTrail log file, the JSON document
// {"Records":[event, ...]} CloudTrail delivers to S3 (after gunzip), and
// yields its events one at a time, each as one line of JSON, for
// a line-by-line pipeline. It holds one event in memory, never the file:
// a Records array of any length is streamed.
//
// It is used like bufio.Scanner:
//
//	s := cloudtrail.NewScanner(r)
//	for s.Scan() {
//		line := s.Bytes() // valid until the next Scan
//	}
//	if err := s.Err(); err != nil { ... }
//
// Members of the file's object other than Records are skipped. A file
// without a Records array, an element that is not an object, JSON that is
// not well-formed, or data after the document fail with an error wrapping
// ErrMalformed that names the event's index; an error of the reader is
// returned wrapped as it is, so a caller can tell a bad file from a failed
// read.
//
// It reads through encoding/json's Decoder token API rather than
// shared/jsonscan: jsonscan walks a complete []byte, and a log file is a
// stream that must not be held whole. The Decoder keeps only the value it
// is reading (plus a read-ahead buffer), validates each event as it goes,
// and the Scanner bounds what it may buffer.
type Scanner struct {
	dec   *json.Decoder
	in    *boundedReader
	raw   json.RawMessage
	line  bytes.Buffer // raw compacted, when raw spans lines
	event []byte       // the current event: raw or line
	state state
	n     int // events read
	err   error
}

type state uint8

const (
	start   state = iota // before the Records array
	inArray              // in it
	done                 // after the document
)

// NewScanner returns a Scanner reading the log file from r, with
// DefaultMaxEventSize.
func NewScanner(r io.Reader) *Scanner {
	in := &boundedReader{r: r, limit: DefaultMaxEventSize}
	s := &Scanner{dec: json.NewDecoder(in), in: in}
	in.offset = s.dec.InputOffset
	return s
}

// SetMaxEventSize sets the largest event, in bytes of JSON text, the Scanner
// reads; it must be called before the first Scan.
func (s *Scanner) SetMaxEventSize(n int) { s.in.limit = int64(n) }

// Scan advances to the next event, which Bytes then returns. It returns
// false at the end of the file or on an error, which Err reports.
func (s *Scanner) Scan() bool {
	if s.err != nil || s.state == done {
		return false
	}
	if s.state == start {
		if err := s.open(); err != nil {
			s.err = err
			return false
		}
	}
	for s.state == inArray {
		if !s.dec.More() {
			if err := s.close(); err != nil {
				s.err = err
			}
			return false
		}
		s.raw = s.raw[:0]
		if err := s.dec.Decode(&s.raw); err != nil {
			s.err = s.fail(fmt.Sprintf("Records[%d]", s.n), err)
			return false
		}
		if s.raw[0] != '{' {
			s.err = fmt.Errorf("%w: Records[%d] is %s, not an object", ErrMalformed, s.n, kindOf(s.raw[0]))
			return false
		}
		s.n++
		// A JSON string holds no raw line break, so an event without one
		// is on one line already: CloudTrail writes its files that way,
		// and the copy Compact makes is skipped.
		if bytes.IndexByte(s.raw, '\n') < 0 && bytes.IndexByte(s.raw, '\r') < 0 {
			s.event = s.raw
			return true
		}
		s.line.Reset()
		_ = json.Compact(&s.line, s.raw) // the Decoder has validated it
		s.event = s.line.Bytes()
		return true
	}
	return false
}

// Bytes returns the current event: one JSON object on one line, without a
// line terminator, as the file has it (compacted when the file spreads it
// over lines). It is overwritten by the next Scan.
func (s *Scanner) Bytes() []byte { return s.event }

// Err returns the first error the Scanner met, or nil at a clean end of
// file.
func (s *Scanner) Err() error { return s.err }

// open reads up to the start of the Records array.
func (s *Scanner) open() error {
	tok, err := s.dec.Token()
	if err != nil {
		return s.fail("the log file", err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("%w: the log file is %s, not an object", ErrMalformed, describe(tok))
	}
	for s.dec.More() {
		key, err := s.key()
		if err != nil {
			return err
		}
		if key != "Records" {
			if err := s.skip(key); err != nil {
				return err
			}
			continue
		}
		tok, err := s.dec.Token()
		if err != nil {
			return s.fail("Records", err)
		}
		if tok != json.Delim('[') {
			return fmt.Errorf("%w: Records is %s, not an array", ErrMalformed, describe(tok))
		}
		s.state = inArray
		return nil
	}
	if _, err := s.dec.Token(); err != nil { // '}', or why More stopped
		return s.fail("the log file", err)
	}
	s.state = done
	return fmt.Errorf("%w: the log file has no Records array", ErrMalformed)
}

// close reads the end of the Records array and the rest of the document.
func (s *Scanner) close() error {
	s.state = done
	if _, err := s.dec.Token(); err != nil { // the ']' More saw
		return s.fail("Records", err)
	}
	for s.dec.More() {
		key, err := s.key()
		if err != nil {
			return err
		}
		if key == "Records" {
			return fmt.Errorf("%w: the log file has two Records arrays", ErrMalformed)
		}
		if err := s.skip(key); err != nil {
			return err
		}
	}
	if _, err := s.dec.Token(); err != nil { // '}'
		return s.fail("the log file", err)
	}
	if tok, err := s.dec.Token(); err != io.EOF {
		if err != nil {
			return s.fail("the end of the log file", err)
		}
		return fmt.Errorf("%w: %s after the log file's object", ErrMalformed, describe(tok))
	}
	return nil
}

// key reads an object key.
func (s *Scanner) key() (string, error) {
	tok, err := s.dec.Token()
	if err != nil {
		return "", s.fail("the log file", err)
	}
	key, _ := tok.(string) // the Decoder only yields a string in key position
	return key, nil
}

// skip reads past the value of a member other than Records.
func (s *Scanner) skip(key string) error {
	var discard json.RawMessage
	if err := s.dec.Decode(&discard); err != nil {
		return s.fail(fmt.Sprintf("member %q", key), err)
	}
	return nil
}

// fail wraps an error met reading what: a read error of the underlying
// reader as it is, anything else as a malformed file.
func (s *Scanner) fail(what string, err error) error {
	switch {
	case s.in.err != nil && errors.Is(err, s.in.err):
		return fmt.Errorf("cloudtrail: reading the log file at %s: %w", what, err)
	case errors.Is(err, ErrEventTooLarge):
		return fmt.Errorf("%w: %w: %s is longer than %d bytes", ErrMalformed, ErrEventTooLarge, what, s.in.limit)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: the log file ends inside %s", ErrMalformed, what)
	}
	return fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
}

func kindOf(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// describe names a JSON token for an error message.
func describe(tok json.Token) string {
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '[':
			return "an array"
		case '{':
			return "an object"
		}
		return fmt.Sprintf("%q", tok.String())
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a number"
}

// boundedReader fails a read once the Decoder holds more than limit bytes it
// has not consumed: the value it is reading is too large. It also keeps the
// underlying reader's error, to tell it from malformed input.
type boundedReader struct {
	r      io.Reader
	read   int64
	offset func() int64 // the Decoder's input offset: the start of the value it reads
	limit  int64
	err    error
}

// maxRead keeps each read small, so that a limit is overshot by little.
const maxRead = 64 << 10

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.read-b.offset() > b.limit {
		return 0, ErrEventTooLarge
	}
	if len(p) > maxRead {
		p = p[:maxRead]
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}
