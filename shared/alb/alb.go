// Package alb parses Application Load Balancer access log lines into
// records, for the S3 log forwarder and the Firehose transformers.
//
// An access log entry is space-separated fields in the order AWS documents
// them ("Access log entries" in the User Guide for Application Load
// Balancers), 33 of them today; some are enclosed in double quotes because
// they can hold spaces:
//
//	type time elb client:port target:port request_processing_time
//	target_processing_time response_processing_time elb_status_code
//	target_status_code received_bytes sent_bytes "request" "user_agent"
//	ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
//	"chosen_cert_arn" matched_rule_priority request_creation_time
//	"actions_executed" "redirect_url" "error_reason" "target:port_list"
//	"target_status_code_list" "classification" "classification_reason"
//	conn_trace_id "transformed_host" "transformed_uri"
//	"request_transform_status"
//
// # Fields
//
// Records have the columns of the table AWS's Athena documentation creates
// for ALB access logs, in this order (Columns lists them with their types):
// the log's fields, except that client:port and target:port are split into
// client_ip, client_port, target_ip and target_port, the request line into
// request_verb, request_url and request_proto (at its first and last space,
// so a URL holding spaces stays whole), and error_reason is named
// lambda_error_reason. The trailing fields after conn_trace_id are named as
// the log documents them.
//
//   - Quotes are removed; \" and \\ inside quotes are undone.
//   - "-", quoted or not, is null: AWS writes it for "no value" in every
//     field. An empty quoted value stays an empty string.
//   - Ports, status codes, byte counts and matched_rule_priority are int64;
//     the three processing times are float64 seconds.
//   - A processing time of -1 stays -1, as AWS writes it when the load
//     balancer could not dispatch the request or the target did not answer:
//     it is the documented value, queries over AWS's own table filter on it,
//     and a null would hide which of the three steps failed. Filter on >= 0
//     before averaging. matched_rule_priority keeps its -1 (an error while
//     evaluating rules) for the same reason.
//   - time and request_creation_time are kept as written, ISO 8601 in UTC
//     with microseconds ("2018-07-02T22:23:00.186641Z"), after checking that
//     they are such a time.
//
// # Older and newer layouts
//
// AWS adds fields at the end of the entry and asks parsers to ignore fields
// they do not expect. A line needs at least the first 13 fields (through the
// request); missing later fields are null, so logs written before a field
// existed parse. Fields after the 33rd are ignored.
package alb

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lakestream/shared/civil"
	"lakestream/shared/excerpt"
	"lakestream/shared/logfield"
	"lakestream/shared/record"
)

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("alb: malformed line")

// MinFields is the fewest fields a line may have: through the request.
const MinFields = 13

type kind uint8

const (
	text      kind = iota // a string
	enum                  // a string with few distinct values, most of them interned
	timestamp             // an ISO 8601 time in UTC, kept as written
	seconds               // a float64, -1 allowed
	count                 // a non-negative int64
	signed                // an int64, -1 allowed
	hostPort              // "ip:port", split into <name>_ip and <name>_port
	request               // "METHOD URL PROTOCOL", split into request_verb, request_url, request_proto
)

// logFields is the documented field list, in order: the name AWS documents
// (used in error messages) and the record name.
var logFields = [...]struct {
	field, name string
	kind        kind
}{
	{"type", "type", enum},
	{"time", "time", timestamp},
	{"elb", "elb", text},
	{"client:port", "client", hostPort},
	{"target:port", "target", hostPort},
	{"request_processing_time", "request_processing_time", seconds},
	{"target_processing_time", "target_processing_time", seconds},
	{"response_processing_time", "response_processing_time", seconds},
	{"elb_status_code", "elb_status_code", count},
	{"target_status_code", "target_status_code", count},
	{"received_bytes", "received_bytes", count},
	{"sent_bytes", "sent_bytes", count},
	{"request", "request", request},
	{"user_agent", "user_agent", text},
	{"ssl_cipher", "ssl_cipher", enum},
	{"ssl_protocol", "ssl_protocol", enum},
	{"target_group_arn", "target_group_arn", text},
	{"trace_id", "trace_id", text},
	{"domain_name", "domain_name", text},
	{"chosen_cert_arn", "chosen_cert_arn", text},
	{"matched_rule_priority", "matched_rule_priority", signed},
	{"request_creation_time", "request_creation_time", timestamp},
	{"actions_executed", "actions_executed", enum},
	{"redirect_url", "redirect_url", text},
	{"error_reason", "lambda_error_reason", enum},
	{"target:port_list", "target_port_list", text},
	{"target_status_code_list", "target_status_code_list", text},
	{"classification", "classification", enum},
	{"classification_reason", "classification_reason", enum},
	{"conn_trace_id", "conn_trace_id", text},
	{"transformed_host", "transformed_host", text},
	{"transformed_uri", "transformed_uri", text},
	{"request_transform_status", "request_transform_status", enum},
}

// numColumns is how many fields a record has: the log's fields, with the
// two host:port fields and the request split.
const numColumns = len(logFields) + 2 + 2

// Columns returns the columns of every record Parse returns, in order, with
// their Hive types.
func Columns() record.Columns {
	cols := make(record.Columns, 0, numColumns)
	for _, f := range logFields {
		switch f.kind {
		case hostPort:
			cols = append(cols, record.Column{Name: f.name + "_ip", Type: record.String},
				record.Column{Name: f.name + "_port", Type: record.Bigint})
		case request:
			cols = append(cols, record.Column{Name: "request_verb", Type: record.String},
				record.Column{Name: "request_url", Type: record.String},
				record.Column{Name: "request_proto", Type: record.String})
		case seconds:
			cols = append(cols, record.Column{Name: f.name, Type: record.Double})
		case count, signed:
			cols = append(cols, record.Column{Name: f.name, Type: record.Bigint})
		default:
			cols = append(cols, record.Column{Name: f.name, Type: record.String})
		}
	}
	return cols
}

// Parse parses one access log entry (without its line terminator). It has
// the signature of a pipeline Parser and never returns (nil, nil).
func Parse(line []byte) (*record.Record, error) {
	// Every string of the record is a slice of one buffer holding the line
	// followed by the text Parse derives, so a line costs one copy.
	// Unescaped values are shorter than their escaped form, so room for a
	// second copy of the line is enough for them all.
	size := len(line)
	if bytes.IndexByte(line, '\\') >= 0 {
		size += len(line)
	}
	var buf strings.Builder
	buf.Grow(size)
	buf.Write(line)
	s := buf.String()

	var values [len(logFields)]logfield.Value
	n := 0
	for i := logfield.SkipSpaces(s, 0); i < len(s) && n < len(values); n++ {
		var unclosed byte
		if values[n], i, unclosed = logfield.Next(s, i, false); unclosed != 0 {
			return nil, errorf("%s has no closing quote", fieldName(n))
		}
	}
	if n < MinFields {
		return nil, errorf("%d fields, want at least %d (through the request)", n, MinFields)
	}

	r := newRecord()
	for k, f := range logFields {
		var v logfield.Value
		present := k < n
		if present {
			v = values[k]
		}
		if err := add(r, &buf, f.field, f.name, f.kind, v, present); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// recordBuf lets a record and room for its fields come from one allocation.
// Two spare fields leave room for what the pipeline adds (an arrival time).
type recordBuf struct {
	r      record.Record
	fields [numColumns + 2]record.Field
}

func newRecord() *record.Record {
	b := new(recordBuf)
	b.r.Fields = b.fields[:0]
	return &b.r
}

// add appends the record fields one log field makes: null ones for a field
// the line does not have.
func add(r *record.Record, buf *strings.Builder, field, name string, k kind, v logfield.Value, present bool) error {
	null := !present || v.Text == "-"
	if v.Quoted && strings.IndexByte(v.Text, '\\') >= 0 {
		v.Text = logfield.Unescape(buf, v.Text)
	}
	switch k {
	case hostPort:
		var ip, port any
		if !null {
			host, p, err := splitHostPort(field, v.Text)
			if err != nil {
				return err
			}
			ip, port = host, p
		}
		r.Fields = append(r.Fields,
			record.Field{Name: name + "_ip", Value: ip},
			record.Field{Name: name + "_port", Value: port})
		return nil
	case request:
		var verb, url, proto any
		if !null {
			verb, url, proto = splitRequest(v.Text)
		}
		r.Fields = append(r.Fields,
			record.Field{Name: "request_verb", Value: verb},
			record.Field{Name: "request_url", Value: url},
			record.Field{Name: "request_proto", Value: proto})
		return nil
	}
	var out any
	if !null {
		var err error
		if out, err = convert(field, k, v.Text); err != nil {
			return err
		}
	}
	r.Fields = append(r.Fields, record.Field{Name: name, Value: out})
	return nil
}

// convert turns one scalar field's text into its record value.
func convert(field string, k kind, v string) (any, error) {
	switch k {
	case count, signed:
		var n int64
		var ok bool
		if k == signed {
			n, ok = logfield.Signed(v)
		} else {
			n, ok = logfield.Digits(v)
		}
		if !ok {
			return nil, errorf("%s %s is not a whole number", field, excerpt.Quote(v))
		}
		return n, nil
	case seconds:
		if !logfield.IsDecimal(strings.TrimPrefix(v, "-")) {
			return nil, errorf("%s %s is not a number of seconds", field, excerpt.Quote(v))
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil { // hundreds of digits: beyond float64
			return nil, errorf("%s %s is out of range", field, excerpt.Quote(v))
		}
		return f, nil
	case timestamp:
		if !isTime(v) {
			return nil, errorf("%s %s is not an ISO 8601 time in UTC", field, excerpt.Quote(v))
		}
		return v, nil
	case enum:
		return interned.Value(v), nil
	}
	return v, nil
}

// fieldName names the n-th field for an error message.
func fieldName(n int) string {
	if n < len(logFields) {
		return logFields[n].field
	}
	return "field " + strconv.Itoa(n+1)
}

// splitHostPort splits "ip:port" at its last colon; an IPv6 address may be
// in brackets ("[2001:db8::1]:443"), which are removed.
func splitHostPort(field, v string) (string, int64, error) {
	c := strings.LastIndexByte(v, ':')
	if c <= 0 {
		return "", 0, errorf("%s %s is not ip:port", field, excerpt.Quote(v))
	}
	port, ok := logfield.Digits(v[c+1:])
	if !ok || port > 65535 {
		return "", 0, errorf("%s %s has no port number", field, excerpt.Quote(v))
	}
	host := v[:c]
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	return host, port, nil
}

// splitRequest splits "METHOD URL PROTOCOL" at its first and last space.
// A part that is "-" is null; a request line with fewer parts fills the
// verb, then the URL.
func splitRequest(req string) (verb, url, proto any) {
	req = strings.TrimRight(req, " ")
	first := strings.IndexByte(req, ' ')
	if first < 0 {
		return optional(interned.Value(req)), nil, nil
	}
	verb = optional(interned.Value(req[:first]))
	rest := strings.TrimLeft(req[first+1:], " ")
	last := strings.LastIndexByte(rest, ' ')
	if last < 0 {
		return verb, optional(rest), nil
	}
	return verb, optional(strings.TrimRight(rest[:last], " ")), optional(interned.Value(rest[last+1:]))
}

// optional is v, or null for "-" and "".
func optional(v any) any {
	if s, ok := v.(string); ok && (s == "-" || s == "") {
		return nil
	}
	return v
}

// isTime reports whether v is "YYYY-MM-DDThh:mm:ss[.fraction]Z" naming a
// real date and time of day.
func isTime(v string) bool {
	if len(v) < 20 || v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' || v[len(v)-1] != 'Z' {
		return false
	}
	year, ok1 := logfield.Atoi(v[0:4])
	month, ok2 := logfield.Atoi(v[5:7])
	day, ok3 := logfield.Atoi(v[8:10])
	hour, ok4 := logfield.Atoi(v[11:13])
	minute, ok5 := logfield.Atoi(v[14:16])
	sec, ok6 := logfield.Atoi(v[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return false
	}
	if frac := v[19 : len(v)-1]; frac != "" {
		if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' {
			return false
		}
		if _, ok := logfield.Atoi(frac[1:]); !ok {
			return false
		}
	}
	return civil.Valid(year, month, day) &&
		hour <= 23 && minute <= 59 && sec <= 59
}

// interned holds, already boxed, the values that fill most of an entry
// (types, methods, protocols, TLS versions and ciphers, actions,
// classifications), so that storing them in a record costs no allocation.
var interned = logfield.Intern(
	"http", "https", "h2", "grpcs", "ws", "wss",
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
	"HTTP/1.0", "HTTP/1.1", "HTTP/2.0",
	"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3",
	"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
	"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA",
	"forward", "redirect", "fixed-response", "authenticate", "waf", "waf-failed", "waf,forward",
	"authenticate,forward",
	"Acceptable", "Ambiguous", "Severe",
)

// errorf returns an error wrapping ErrMalformed.
func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
