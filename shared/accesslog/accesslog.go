// Package accesslog parses Apache httpd and NGINX access log lines into
// records, for the Firehose access-log transformer.
//
// Parse reads the formats these servers ship with, telling them apart per
// line:
//
//	common          %h %l %u %t "%r" %>s %b
//	combined        %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"
//	vhost_common    %v %h %l %u %t "%r" %>s %b
//	vhost_combined  %v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"
//
// (a virtual host with or without ":port", followed by the common or the
// combined fields). NGINX's "combined" is the same as Apache's.
//
// # Fields
//
// In this order; "-" in the log is null:
//
//	vhost, port   only for the vhost formats: the virtual host and its port
//	              (int64, null when the host has no ":port")
//	remote_host   as logged: an IPv4 or IPv6 address, or a host name
//	ident, user
//	time          RFC 3339 in UTC ("2000-10-10T20:55:36Z"), with the
//	              fractional seconds only when the log has them, digit for digit
//	time_ms       the same instant in milliseconds since the Unix epoch (int64)
//	method, path  from the request line "METHOD URI PROTOCOL"
//	query         the URI after its first "?", without the "?"; null when
//	              there is no "?" (an empty string when it ends in "?")
//	protocol      "HTTP/1.1" and the like
//	request       null when the request line split as above; otherwise (a
//	              timeout logged as "-" aside) the raw request as logged, with
//	              method, path, query and protocol null: garbage sent to a web
//	              server (a TLS handshake on the HTTP port, say) is a fact worth
//	              keeping, not a reason to fail the line
//	status        int64
//	bytes         int64 (%b logs "-" for zero bytes: null)
//	referrer, user_agent  null in the common formats
//
// Both servers escape what they log inside quotes: Apache writes \" and \\
// and \xhh for other special bytes, NGINX \xHH. Parse undoes these escapes
// (and \n, \r, \t, \b, \v) in the request, referrer, user agent, ident and
// user. The bytes of a field are otherwise kept as they are: invalid UTF-8
// stays in the string, and the JSON writer (pipeline.AppendJSON) writes each
// invalid byte as U+FFFD rather than failing the line.
//
// A line that is none of these formats fails with an error wrapping
// ErrMalformed that says what is wrong. Anything after the user agent fails
// the line too: a format with extra fields (NGINX's "main" adds
// X-Forwarded-For) needs its own parser, not silently dropped data.
package accesslog

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"lakestream/shared/civil"
	"lakestream/shared/excerpt"
	"lakestream/shared/logfield"
	"lakestream/shared/record"
)

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("accesslog: malformed line")

// Fields returns the names of every field Parse writes, in order, for a
// fixed CSV or TSV column list: the vhost formats' layout, which is the
// other formats' one after vhost and port.
func Fields() []string { return Columns().Names() }

// maxTimeLen is the longest time Parse writes:
// "2006-01-02T15:04:05.999999999Z".
const maxTimeLen = 30

// Parse parses one access log line (without its line terminator). It has
// the signature of a pipeline Parser and never returns (nil, nil).
func Parse(line []byte) (*record.Record, error) {
	b := record.NewBuilder(numFields + 2) // room for what a pipeline adds (an arrival time)
	// The record's strings are slices of a copy of the line, which the
	// record alone refers to (ParseInto's are slices of the line).
	if err := ParseInto(b, bytes.Clone(line)); err != nil {
		return nil, err
	}
	return &b.Record, nil
}

// numFields is how many fields Parse writes at most, the vhost formats'.
const numFields = 16

// names are the names of the fields ParseInto writes, in order, the vhost
// formats' (the others leave out vhost and port), and the shapes declare
// them on the record (record.Builder's SetShape): the pipeline then plans
// a line by its shape rather than by comparing sixteen names.
var (
	names      = [numFields]string{"vhost", "port", "remote_host", "ident", "user", "time", "time_ms", "method", "path", "query", "protocol", "request", "status", "bytes", "referrer", "user_agent"}
	vhostShape = record.NewShape(names[:]...)
	plainShape = record.NewShape(names[2:]...)
)

// maxStrings and maxInts are how many of them are strings and integers
// at most: vhost, remote_host, ident, user, time, method, path, query,
// protocol (or request instead of those four), referrer, user_agent;
// port, time_ms, status, bytes.
const maxStrings, maxInts = 11, 4

// ParseInto is Parse into r, which it resets first, for a caller parsing
// line after line into one record (a pipeline.ParserInto): the line's
// values then come from r's arena and cost no allocation each. The
// record's strings are slices of line itself, as a pipeline.ParserInto's
// may be: line must not change while the record is in use. On error r is
// left empty.
func ParseInto(r *record.Builder, line []byte) error {
	r.Reset()
	// Every string of the record is a slice of the line, or of the text
	// derived from it (unescaped values, the time) in r's arena, boxed in
	// room taken once (record.Boxes): copying the line into the arena
	// first only cost its bytes' move (see record.Line).
	s := record.Line(line)
	boxes := r.Boxes(maxStrings, maxInts)

	// Up to four space-separated fields come before the time: host, ident
	// and user, after a virtual host in the vhost formats.
	var head [4]string
	n, i := 0, 0
	for {
		i = logfield.SkipSpaces(s, i)
		if i == len(s) {
			return errorf("no [time] field")
		}
		if isTimeStart(s[i:]) {
			break
		}
		if n == len(head) {
			return errorf("more than 4 fields before the [time]")
		}
		j := shortTokenEnd(s, i)
		head[n] = s[i:j]
		n++
		i = j
	}
	if n < 3 {
		return errorf("%d fields before the [time], want 3 (host ident user) or 4 (vhost host ident user)", n)
	}

	end := strings.IndexByte(s[i:], ']')
	if end < 0 {
		return errorf("[time] has no closing bracket")
	}
	timeAt, timeEnd := i+1, i+end
	when, err := parseTime(s[timeAt:timeEnd])
	if err != nil {
		return err
	}
	i += end + 1

	i, err = separator(s, i, "the [time]")
	if err != nil {
		return err
	}
	rawRequest, i, err := quoted(s, i, "request")
	if err != nil {
		return err
	}
	i, err = separator(s, i, "the request")
	if err != nil {
		return err
	}
	j := shortTokenEnd(s, i)
	status, err := count(&boxes, s[i:j], "status")
	if err != nil {
		return err
	}
	i, err = separator(s, j, "the status")
	if err != nil {
		return err
	}
	j = shortTokenEnd(s, i)
	sent, err := count(&boxes, s[i:j], "bytes")
	if err != nil {
		return err
	}
	i = logfield.SkipSpaces(s, j)

	// The combined formats go on with the referrer and the user agent.
	var rawReferrer, rawAgent string
	combined := i < len(s)
	if combined {
		if rawReferrer, i, err = quoted(s, i, "referrer"); err != nil {
			return err
		}
		if i, err = separator(s, i, "the referrer"); err != nil {
			return err
		}
		if rawAgent, i, err = quoted(s, i, "user agent"); err != nil {
			return err
		}
		if i = logfield.SkipSpaces(s, i); i < len(s) {
			return errorf("unexpected text after the user agent: %s", excerpt.Quote(s[i:]))
		}
	}

	// Everything is valid: build the record.
	timestamp := timeText(r, s[timeAt:timeEnd], when)
	// The pipeline reads the time back for partition keys and SCHEMA.
	r.HintTime(timestamp, time.Unix(when.Unix, int64(when.Nano)).UTC())

	hosts, shape := head[:n], plainShape
	if n == 4 {
		vhost, port := splitHostPort(&boxes, hosts[0])
		r.Fields = append(r.Fields,
			record.Field{Name: names[0], Value: optional(&boxes, vhost)},
			record.Field{Name: names[1], Value: port})
		hosts, shape = hosts[1:], vhostShape
	}
	ident, user, request := hosts[1], hosts[2], rawRequest
	if strings.IndexByte(s, '\\') >= 0 { // rarely: one search spares one per value
		ident, user, request = unescape(r, ident), unescape(r, user), unescape(r, request)
		rawReferrer, rawAgent = unescape(r, rawReferrer), unescape(r, rawAgent)
	}
	r.Fields = append(r.Fields,
		record.Field{Name: names[2], Value: optional(&boxes, hosts[0])},
		record.Field{Name: names[3], Value: optional(&boxes, ident)},
		record.Field{Name: names[4], Value: optional(&boxes, user)},
		record.Field{Name: names[5], Value: boxes.String(timestamp)},
		record.Field{Name: names[6], Value: boxes.Int(when.Unix*1000 + int64(when.Nano/1e6))},
	)
	addRequest(r, &boxes, request)
	var referrer, agent any
	if combined {
		referrer = optional(&boxes, rawReferrer)
		agent = optional(&boxes, rawAgent)
	}
	r.Fields = append(r.Fields,
		record.Field{Name: names[12], Value: status},
		record.Field{Name: names[13], Value: sent},
		record.Field{Name: names[14], Value: referrer},
		record.Field{Name: names[15], Value: agent},
	)
	r.SetShape(shape)
	return nil
}

// addRequest adds method, path, query, protocol and request from the
// unescaped request line, boxing them in boxes.
func addRequest(r *record.Builder, boxes *record.Boxes, req string) {
	method, uri, protocol, ok := splitRequest(req)
	if !ok {
		r.Fields = append(r.Fields,
			record.Field{Name: names[7], Value: nil},
			record.Field{Name: names[8], Value: nil},
			record.Field{Name: names[9], Value: nil},
			record.Field{Name: names[10], Value: nil},
			record.Field{Name: names[11], Value: optional(boxes, req)})
		return
	}
	path, query := uri, any(nil)
	if q := strings.IndexByte(uri, '?'); q >= 0 {
		path, query = uri[:q], boxes.String(uri[q+1:])
	}
	r.Fields = append(r.Fields,
		record.Field{Name: names[7], Value: boxes.String(method)},
		record.Field{Name: names[8], Value: boxes.String(path)},
		record.Field{Name: names[9], Value: query},
		record.Field{Name: names[10], Value: boxes.String(protocol)},
		record.Field{Name: names[11], Value: nil})
}

// splitRequest splits "METHOD URI PROTOCOL". The URI is everything between
// the first and the last space, so a URI sent with raw spaces still splits.
func splitRequest(req string) (method, uri, protocol string, ok bool) {
	first := shortTokenEnd(req, 0) // a method is a short word
	last := strings.LastIndexByte(req, ' ')
	if first == 0 || first == len(req) || last == first || last == len(req)-1 {
		return "", "", "", false
	}
	method, uri, protocol = req[:first], req[first+1:last], req[last+1:]
	if !isToken(method) || !strings.HasPrefix(protocol, "HTTP/") {
		return "", "", "", false
	}
	return method, uri, protocol, true
}

// isToken reports whether s is an HTTP token (RFC 9110 tchar), as a method is.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !tchar[s[i]] {
			return false
		}
	}
	return true
}

// tchar tells the bytes of an HTTP token: printable ASCII but the
// delimiters. (A lookup a byte: searching the delimiters for each byte of
// a method took as long as the rest of reading the request line.)
var tchar = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c)
	}
	return t
}()

// splitHostPort splits a %v:%p virtual host. Only a host without a colon, or
// an IPv6 address in brackets, can carry a port: an unbracketed IPv6 address
// ends in digits too.
func splitHostPort(boxes *record.Boxes, v string) (host string, port any) {
	c := strings.LastIndexByte(v, ':')
	if c < 0 || c == len(v)-1 || len(v)-c-1 > 5 {
		return v, nil
	}
	host = v[:c]
	if strings.IndexByte(host, ':') >= 0 {
		if len(host) < 2 || host[0] != '[' || host[len(host)-1] != ']' {
			return v, nil
		}
		host = host[1 : len(host)-1]
	}
	p, ok := logfield.Digits(v[c+1:])
	if !ok || p > 65535 {
		return v, nil
	}
	return host, boxes.Int(p)
}

// count parses a status or byte count: a non-negative integer, or "-".
func count(boxes *record.Boxes, v, name string) (any, error) {
	if v == "-" {
		return nil, nil
	}
	n, ok := logfield.Digits(v)
	if !ok {
		return nil, errorf("%s %s is not a number", name, excerpt.Quote(v))
	}
	return boxes.Int(n), nil
}

// optional is v as a field value boxed in boxes, "-" being null.
func optional(boxes *record.Boxes, v string) any {
	if v == "-" {
		return nil
	}
	return boxes.String(v)
}

// quoted reads the double-quoted field at s[i] and returns its content, still
// escaped, and the index after the closing quote. The closing quote is the
// first unescaped one followed by a space or the end of the line, so that a
// stray quote an old server did not escape stays inside the field.
func quoted(s string, i int, name string) (string, int, error) {
	if s[i] != '"' {
		return "", i, errorf("%s %s is not in double quotes", name, excerpt.Quote(s[i:logfield.TokenEnd(s, i)]))
	}
	v, next, ok := logfield.Quoted(s, i)
	if !ok {
		return "", i, errorf("%s has no closing quote", name)
	}
	return v, next, nil
}

// unescape undoes the escapes Apache and NGINX write in logged values: \"
// and \\, C escapes for control characters and \xhh for any byte. Unknown
// escapes are kept as they are. A value without backslashes is returned as
// is; otherwise the result is held by r's arena.
func unescape(r *record.Builder, v string) string {
	if strings.IndexByte(v, '\\') < 0 {
		return v
	}
	var stack [256]byte // unescaped is shorter than v
	buf := stack[:0]
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' || i+1 == len(v) {
			buf = append(buf, c)
			continue
		}
		switch e := v[i+1]; e {
		case '"', '\\':
			buf = append(buf, e)
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'b':
			buf = append(buf, '\b')
		case 'v':
			buf = append(buf, '\v')
		case 'x':
			hi, ok1 := unhex(v, i+2)
			lo, ok2 := unhex(v, i+3)
			if !ok1 || !ok2 {
				buf = append(buf, c)
				continue
			}
			buf = append(buf, hi<<4|lo)
			i += 2
		default:
			buf = append(buf, c)
			continue
		}
		i++
	}
	return r.Text(buf)
}

func unhex(s string, i int) (byte, bool) {
	if i >= len(s) {
		return 0, false
	}
	switch c := s[i]; {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// separator requires at least one space at s[i] and more of the line
// after the spaces, and returns the index after the spaces. The usual
// single space, four times a line, is told at once, with two comparisons;
// spaceRun reads a run of spaces and reports what is wrong.
func separator(s string, i int, after string) (int, error) {
	if i+1 < len(s) && s[i] == ' ' && s[i+1] != ' ' {
		return i + 1, nil
	}
	return spaceRun(s, i, after)
}

// spaceRun is separator for any line.
func spaceRun(s string, i int, after string) (int, error) {
	if i < len(s) && s[i] != ' ' {
		return i, errorf("no space after %s", after)
	}
	i = logfield.SkipSpaces(s, i)
	if i == len(s) {
		return i, errorf("line ends after %s", after)
	}
	return i, nil
}

// isTimeStart reports whether s starts with "[dd/", which tells the time
// from a bracketed IPv6 host.
func isTimeStart(s string) bool {
	return len(s) >= 4 && s[0] == '[' && isDigit(s[1]) && isDigit(s[2]) && s[3] == '/'
}

// shortTokenEnd is logfield.TokenEnd for the short words of a line (a
// host, "-", a status, a byte count): a byte loop, where a search costs
// more to start than such a word takes to read (a fifth of a line).
func shortTokenEnd(s string, i int) int {
	for i < len(s) && s[i] != ' ' {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseTime reads %t, "10/Oct/2000:13:55:36 -0700", also with fractional
// seconds after the seconds ("13:55:36.123", as Apache logs with
// %{msec_frac}t and NGINX with a custom $msec format).
// timeText returns the RFC 3339 text in UTC of when, read from v by
// parseTime, held by r's arena. A time logged in UTC (+0000, as servers
// on UTC hosts and load balancers log) is v's own date and clock in the
// other order: what civil.AppendRFC3339 writes, without working the date
// out of the instant again.
func timeText(r *record.Builder, v string, when logfield.Time) string {
	// Written in place in the arena (record.Builder.Room).
	stamp := r.Room(maxTimeLen)
	if zone := v[len(v)-5:]; zone != "+0000" && zone != "-0000" {
		return r.Keep(civil.AppendRFC3339(stamp, when.Unix, when.Frac))
	}
	// v is "dd/Mon/yyyy:hh:mm:ss[.fraction] +zzzz", every digit checked.
	month := civil.Month(v[3:6])
	b := append(stamp, v[7:11]...)
	b = append(b, '-', byte('0'+month/10), byte('0'+month%10), '-', v[0], v[1], 'T')
	b = append(b, v[12:20]...)
	if when.Frac != "" {
		b = append(append(b, '.'), when.Frac...)
	}
	return r.Keep(append(b, 'Z'))
}

func parseTime(v string) (logfield.Time, error) {
	t, err := logfield.ParseTime(v)
	switch err {
	case nil:
		return t, nil
	case logfield.ErrTimeOfDay:
		return t, errorf("time %s has no such time of day", excerpt.Quote(v))
	case logfield.ErrDate:
		return t, errorf("time %s has no such date", excerpt.Quote(v))
	case logfield.ErrTimeRange:
		return t, errorf("time %s is out of range in UTC", excerpt.Quote(v))
	}
	return t, errorf("time %s is not dd/Mon/yyyy:hh:mm:ss +zzzz", excerpt.Quote(v))
}

// errorf returns an error wrapping ErrMalformed.
func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
