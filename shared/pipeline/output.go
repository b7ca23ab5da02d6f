package pipeline

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"lakestream/shared/jsonenc"
	"lakestream/shared/record"
)

// appendLine writes r as one output line in the configured format: its
// fields (json, csv, tsv), or text, the source text r was made from
// (lines, splunk). t is r's event time, which only splunk reads; valid and
// names are as for appendRecord.
func (s *stages) appendLine(dst []byte, r *record.Record, text, valid []byte, t time.Time, scratch *[]byte, names *memberNames) ([]byte, error) {
	switch s.format {
	case FormatJSON:
		dst, err := appendRecord(dst, r, 0, s.embedJSON, valid, names)
		return append(dst, '\n'), err
	case FormatLines:
		return append(appendValidUTF8(dst, text), '\n'), nil
	case FormatSplunk:
		return s.appendSplunk(dst, r, text, t, scratch)
	}
	sep := byte(',')
	if s.format == FormatTSV {
		sep = '\t'
	}
	for i := range s.columns {
		col := &s.columns[i]
		if i > 0 {
			dst = append(dst, sep)
		}
		var err error
		if *scratch, err = appendText((*scratch)[:0], col.get(r)); err != nil {
			return dst, &FieldError{Field: col.name, Err: err}
		}
		if s.format == FormatTSV {
			dst = appendTSVField(dst, *scratch)
		} else {
			dst = appendCSVField(dst, *scratch)
		}
	}
	return append(dst, '\n'), nil
}

// splunkFields are the Splunk HEC event fields besides time and event.
type splunkFields struct {
	host, source      splunkRef
	sourcetype, index string
}

// splunkRef is SPLUNK_HOST or SPLUNK_SOURCE: a literal value, or the
// value of a field (field:<name>).
type splunkRef struct {
	literal string
	field   *fieldPath
}

func parseSplunkRef(spec string) (splunkRef, error) {
	name, isField := strings.CutPrefix(spec, "field:")
	if !isField {
		return splunkRef{literal: spec}, nil
	}
	p, err := newFieldPath(strings.TrimSpace(name))
	if err != nil {
		return splunkRef{}, err
	}
	return splunkRef{field: &p}, nil
}

// appendValue appends the reference's value as text, false when there is
// none (an empty literal, an absent or null field): the HEC field is then
// left out and Splunk uses the token's default.
func (ref splunkRef) appendValue(dst []byte, r *record.Record) ([]byte, bool, error) {
	if ref.field == nil {
		return append(dst, ref.literal...), ref.literal != "", nil
	}
	v := ref.field.get(r)
	if v == nil {
		return dst, false, nil
	}
	out, err := appendText(dst, v)
	if err != nil {
		return dst, false, &FieldError{Field: ref.field.name, Err: err}
	}
	return out, true, nil
}

// appendSplunk writes one Splunk HTTP Event Collector event:
// {"time":<seconds>.<ms>,"host":..,"source":..,"sourcetype":..,"index":..,"event":<text>}.
// With EMBED_JSON_MESSAGE a text that is a JSON object is the event as an
// object, which Splunk indexes field by field.
func (s *stages) appendSplunk(dst []byte, r *record.Record, text []byte, t time.Time, scratch *[]byte) ([]byte, error) {
	dst = append(dst, `{"time":`...)
	dst = appendSeconds(dst, t.UnixMilli())
	for _, f := range []struct {
		key string
		ref splunkRef
	}{{`,"host":`, s.splunk.host}, {`,"source":`, s.splunk.source}} {
		v, ok, err := f.ref.appendValue((*scratch)[:0], r)
		*scratch = v
		if err != nil {
			return dst, err
		}
		if ok {
			dst = appendJSONText(append(dst, f.key...), v)
		}
	}
	dst = s.appendSplunkTail(dst, text)
	return dst, nil
}

// appendSplunkTail writes the event from the sourcetype on, newline
// included: what every event of a record shares after host and source.
func (s *stages) appendSplunkTail(dst, text []byte) []byte {
	if s.splunk.sourcetype != "" {
		dst = append(dst, `,"sourcetype":`...)
		dst = jsonenc.AppendString(dst, s.splunk.sourcetype)
	}
	if s.splunk.index != "" {
		dst = append(dst, `,"index":`...)
		dst = jsonenc.AppendString(dst, s.splunk.index)
	}
	dst = append(dst, `,"event":`...)
	if s.embedJSON {
		if obj, ok := appendObject(dst, text); ok {
			return append(obj, "}\n"...)
		}
	}
	dst = appendJSONText(dst, text)
	return append(dst, "}\n"...)
}

// appendJSONText appends text as a JSON string without converting it to
// a string first. (The conversion does not escape: jsonenc.AppendString
// reads it and is done with it.)
func appendJSONText(dst, text []byte) []byte {
	return jsonenc.AppendString(dst, unsafe.String(unsafe.SliceData(text), len(text)))
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

// looksLikeObject reports whether text starts, after white space, with "{".
func looksLikeObject(text []byte) bool {
	i := 0
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r') {
		i++
	}
	return i < len(text) && text[i] == '{'
}

// appendObject appends text compacted onto one line when it is a JSON
// object in valid UTF-8; otherwise it returns dst unchanged and false.
func appendObject(dst, text []byte) ([]byte, bool) {
	if !looksLikeObject(text) || !utf8.Valid(text) {
		return dst, false
	}
	n := len(dst)
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, text); err != nil {
		return dst[:n], false
	}
	return buf.Bytes(), true
}

// appendCSVField quotes a field as RFC 4180 requires: when it holds a
// comma, a quote, CR or LF, with quotes doubled.
func appendCSVField(dst, text []byte) []byte {
	if bytes.IndexAny(text, ",\"\r\n") < 0 {
		return appendValidUTF8(dst, text)
	}
	dst = append(dst, '"')
	for {
		i := bytes.IndexByte(text, '"')
		if i < 0 {
			break
		}
		dst = append(appendValidUTF8(dst, text[:i+1]), '"')
		text = text[i+1:]
	}
	dst = appendValidUTF8(dst, text)
	return append(dst, '"')
}

// appendTSVField escapes the characters that would break a TSV row, and
// the backslash that introduces the escapes.
func appendTSVField(dst, text []byte) []byte {
	for {
		i := bytes.IndexAny(text, "\\\t\n\r")
		if i < 0 {
			return appendValidUTF8(dst, text)
		}
		dst = appendValidUTF8(dst, text[:i])
		switch text[i] {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		}
		text = text[i+1:]
	}
}

// appendValidUTF8 appends text with each invalid byte replaced by U+FFFD,
// as the JSON writer does.
func appendValidUTF8(dst, text []byte) []byte {
	if utf8.Valid(text) {
		return append(dst, text...)
	}
	for len(text) > 0 {
		r, size := utf8.DecodeRune(text)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, text[:size]...)
		}
		text = text[size:]
	}
	return dst
}
