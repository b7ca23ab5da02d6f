package cwlogs

import (
	"errors"
	"strings"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/jsonscan"
)

// errFallback means the document is not one the scanner decodes the way
// encoding/json would without help: a syntax error, a value of another
// type than its field's, a key given twice or matching a field only
// case-insensitively. encoding/json then decides, and words the error
// when there is one, so the scanner only ever has to be right about what
// it accepts (FuzzScanAgrees proves it is). Everything CloudWatch Logs
// sends is read by the scanner: escapes, any Unicode (invalid UTF-8 and
// lone surrogates become U+FFFD, as encoding/json makes them), nulls, and
// keys the payload does not define, whatever their values.
var errFallback = errors.New("cwlogs: document outside the scanner's shape")

// The payload's fields, as bits of a set, to find a field given twice.
const (
	seenMessageType = 1 << iota
	seenOwner
	seenLogGroup
	seenLogStream
	seenFilters
	seenEvents
)

// The log event's fields.
const (
	seenID = 1 << iota
	seenTimestamp
	seenMessage
)

// payloadKeys and eventKeys are every key the two objects define, for
// telling an unknown key from one encoding/json would match by case.
var (
	payloadKeys = []string{"messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents"}
	eventKeys   = []string{"id", "timestamp", "message"}
)

// payloadScanner reads subscription payloads into aws-lambda-go's type
// without reflection, on shared/jsonscan. It keeps its buffers for the
// next payload: the data it fills in shares the document's memory (for
// strings without escapes) and its text buffer (for the others), so the
// data is valid until the next scan and until the document is reused.
type payloadScanner struct {
	s       jsonscan.Scanner
	text    []byte // every unescaped string of the payload, one after another
	events  []events.CloudwatchLogsLogEvent
	filters []string
}

// scan fills d from doc, the decompressed payload, as json.Unmarshal into
// a zero events.CloudwatchLogsData would. Any error is errFallback.
//
// This is the one function that turns a payload's JSON into its data:
// swapping the scanner for another decoder changes it alone.
func (p *payloadScanner) scan(doc []byte, d *events.CloudwatchLogsData) error {
	s := &p.s
	s.Reset(doc)
	if cap(p.text) == 0 {
		// Only strings with escapes are copied here; the buffer grows to
		// what the payloads need.
		p.text = make([]byte, 0, 64<<10)
	}
	p.text = p.text[:0]
	*d = events.CloudwatchLogsData{}
	if s.Peek() != jsonscan.Object {
		return errFallback // null, which encoding/json reads as nothing, or not a payload
	}
	seen := 0
	for key := range s.Object() {
		switch string(key) {
		case "messageType":
			if p.once(&seen, seenMessageType) {
				d.MessageType = p.str()
			}
		case "owner":
			if p.once(&seen, seenOwner) {
				d.Owner = p.str()
			}
		case "logGroup":
			if p.once(&seen, seenLogGroup) {
				d.LogGroup = p.str()
			}
		case "logStream":
			if p.once(&seen, seenLogStream) {
				d.LogStream = p.str()
			}
		case "subscriptionFilters":
			if p.once(&seen, seenFilters) {
				d.SubscriptionFilters = p.strings()
			}
		case "logEvents":
			if p.once(&seen, seenEvents) {
				d.LogEvents = p.logEvents()
			}
		default:
			// Skipped, as encoding/json skips a key it does not know.
			p.unknown(key, payloadKeys)
		}
	}
	if s.End() != nil {
		return errFallback
	}
	return nil
}

// logEvents reads the logEvents array; an empty one is an empty, non-nil
// slice, and null a nil one, as encoding/json makes them.
func (p *payloadScanner) logEvents() []events.CloudwatchLogsLogEvent {
	s := &p.s
	if s.Null() {
		return nil
	}
	evs := p.events[:0]
	if evs == nil {
		evs = make([]events.CloudwatchLogsLogEvent, 0, 64)
	}
	for range s.Array() {
		evs = append(evs, events.CloudwatchLogsLogEvent{})
		if !s.Null() { // a null element is a zero event
			p.event(&evs[len(evs)-1])
		}
	}
	p.events = evs
	return evs
}

// event reads one log event into ev, which is zero.
func (p *payloadScanner) event(ev *events.CloudwatchLogsLogEvent) {
	s := &p.s
	seen := 0
	for key := range s.Object() {
		switch string(key) {
		case "id":
			if p.once(&seen, seenID) {
				ev.ID = p.str()
			}
		case "timestamp":
			if p.once(&seen, seenTimestamp) && !s.Null() {
				// A fraction, an exponent or a value out of range is an
				// error, as for encoding/json: the scan stops.
				ev.Timestamp, _ = s.Int64()
			}
		case "message":
			if p.once(&seen, seenMessage) {
				ev.Message = p.str()
			}
		default:
			p.unknown(key, eventKeys)
		}
	}
}

// once marks a field seen and reports whether it is the first time; a
// field given twice, whose values encoding/json would merge, stops the
// scan.
func (p *payloadScanner) once(seen *int, bit int) bool {
	if *seen&bit != 0 {
		p.s.Fail(errFallback)
		return false
	}
	*seen |= bit
	return true
}

// unknown stops the scan at a key that matches one of names only
// case-insensitively, which encoding/json would take as that field; the
// value of any other unknown key is skipped.
func (p *payloadScanner) unknown(key []byte, names []string) {
	k := unsafe.String(unsafe.SliceData(key), len(key))
	for _, n := range names {
		if strings.EqualFold(k, n) {
			p.s.Fail(errFallback)
			return
		}
	}
}

// strings reads an array of strings, null as nil.
func (p *payloadScanner) strings() []string {
	s := &p.s
	if s.Null() {
		return nil
	}
	out := p.filters[:0]
	if out == nil {
		out = make([]string, 0, 2)
	}
	for range s.Array() {
		out = append(out, p.str())
	}
	p.filters = out
	return out
}

// str reads a string, null as "". A string without escapes or invalid
// UTF-8 is the document's own bytes; another is unescaped into p.text.
// Another kind of value is an error: the scan stops.
func (p *payloadScanner) str() string {
	if p.s.Null() {
		return ""
	}
	v, err := p.s.AppendString(&p.text)
	if err != nil {
		return ""
	}
	return unsafe.String(unsafe.SliceData(v), len(v))
}
