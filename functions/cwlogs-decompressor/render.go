package main

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/jsonenc"
)

// renderer writes log events in the output format, one per line. JSON is
// written by hand: the fields are fixed, and one pass that appends into a
// buffer sized in advance is several times faster than encoding/json.
type renderer struct {
	format    string
	embedJSON bool
	// Splunk event fields; an empty host means the log stream.
	sourcetype, host, index string
}

func newRenderer(c Config) renderer {
	return renderer{format: c.Format, embedJSON: c.EmbedJSON, sourcetype: c.Sourcetype, host: c.Host, index: c.Index}
}

// frame is what every event of one payload shares in its rendering, built
// once per payload: for json the object up to the id, for splunk the
// fields between the time and the event.
type frame []byte

func (r renderer) frame(d *events.CloudwatchLogsData) frame {
	var f []byte
	switch r.format {
	case FormatJSON:
		f = append(f, `{"logGroup":`...)
		f = jsonenc.AppendString(f, d.LogGroup)
		f = append(f, `,"logStream":`...)
		f = jsonenc.AppendString(f, d.LogStream)
		f = append(f, `,"owner":`...)
		f = jsonenc.AppendString(f, d.Owner)
		f = append(f, `,"id":`...)
	case FormatSplunk:
		host := r.host
		if host == "" {
			host = d.LogStream
		}
		f = append(f, `,"host":`...)
		f = jsonenc.AppendString(f, host)
		f = append(f, `,"source":`...)
		f = jsonenc.AppendString(f, d.LogGroup)
		f = append(f, `,"sourcetype":`...)
		f = jsonenc.AppendString(f, r.sourcetype)
		if r.index != "" {
			f = append(f, `,"index":`...)
			f = jsonenc.AppendString(f, r.index)
		}
		f = append(f, `,"event":`...)
	}
	return f
}

// size returns a lower bound of the bytes rendering evs takes and a
// capacity that holds them, both exact unless messages are embedded as
// objects. Sizing the output exactly matters: it stays in the response
// until the invocation ends, and a regrown buffer costs its size twice.
func (r renderer) size(f frame, evs []events.CloudwatchLogsLogEvent) (lower, capacity int) {
	for i := range evs {
		ev := &evs[i]
		switch r.format {
		case FormatJSON:
			// <frame>"<id>","timestamp":<ts>,"message":"<message>"}\n
			n := len(f) + jsonenc.StringLen(ev.ID) + len(`,"timestamp":`) + intLen(ev.Timestamp) + len(`,"message":`) + jsonenc.StringLen(ev.Message) + 2
			lower += n
			if r.embedJSON && looksLikeObject(ev.Message) {
				n += len(`,"messageJson":`) + len(ev.Message) // compacting only shrinks it
			}
			capacity += n
		case FormatSplunk:
			// {"time":<seconds>.<ms><frame>"<message>"}\n
			fixed := len(`{"time":`) + intLen(ev.Timestamp/1000) + 4 + len(f) + 2
			if ev.Timestamp < 0 && ev.Timestamp > -1000 {
				fixed++ // "-0.001": the sign of a second that rounds to 0
			}
			msg := jsonenc.StringLen(ev.Message)
			capacity += fixed + msg // an embedded object is never longer than the string
			if r.embedJSON && looksLikeObject(ev.Message) {
				msg = 2 // "{}"
			}
			lower += fixed + msg
		default:
			lower += len(ev.Message) + 1
			capacity = lower
		}
	}
	return lower, capacity
}

func intLen(n int64) int {
	var buf [20]byte
	return len(strconv.AppendInt(buf[:0], n, 10))
}

// looksLikeObject reports whether msg starts, after white space, with "{".
func looksLikeObject(msg string) bool {
	i := 0
	for i < len(msg) && (msg[i] == ' ' || msg[i] == '\t' || msg[i] == '\n' || msg[i] == '\r') {
		i++
	}
	return i < len(msg) && msg[i] == '{'
}

// appendEvent appends one event's line, newline included.
func (r renderer) appendEvent(dst []byte, f frame, ev *events.CloudwatchLogsLogEvent) []byte {
	switch r.format {
	case FormatJSON:
		dst = append(dst, f...)
		dst = jsonenc.AppendString(dst, ev.ID)
		dst = append(dst, `,"timestamp":`...)
		dst = strconv.AppendInt(dst, ev.Timestamp, 10)
		dst = append(dst, `,"message":`...)
		dst = jsonenc.AppendString(dst, ev.Message)
		if r.embedJSON {
			if obj, ok := appendObject(append(dst, `,"messageJson":`...), ev.Message); ok {
				dst = obj
			}
		}
		return append(dst, "}\n"...)
	case FormatSplunk:
		dst = append(dst, `{"time":`...)
		dst = appendSeconds(dst, ev.Timestamp)
		dst = append(dst, f...)
		if r.embedJSON {
			if obj, ok := appendObject(dst, ev.Message); ok {
				return append(obj, "}\n"...)
			}
		}
		dst = jsonenc.AppendString(dst, ev.Message)
		return append(dst, "}\n"...)
	default:
		// The blueprint's line: the message as it is, then a newline.
		return append(append(dst, ev.Message...), '\n')
	}
}

// appendObject appends msg compacted onto one line when it is a JSON
// object; otherwise it returns dst unchanged and false. (Messages come from
// a decoded JSON document, so they are valid UTF-8.)
func appendObject(dst []byte, msg string) ([]byte, bool) {
	if !looksLikeObject(msg) {
		return dst, false
	}
	n := len(dst)
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, []byte(msg)); err != nil {
		return dst[:n], false
	}
	return buf.Bytes(), true
}

// appendSeconds appends a millisecond epoch time as seconds with three
// decimals, as Splunk's HEC "time" field takes it: 1714571100123 is
// 1714571100.123.
func appendSeconds(dst []byte, ms int64) []byte {
	u := uint64(ms)
	if ms < 0 {
		dst, u = append(dst, '-'), -u
	}
	dst = strconv.AppendUint(dst, u/1000, 10)
	frac := u % 1000
	return append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}
