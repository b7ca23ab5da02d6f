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
	"errors"
	"fmt"
	"strings"

	"lakestream/shared/civil"
	"lakestream/shared/excerpt"
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
	if err := ParseInto(b, line); err != nil {
		return nil, err
	}
	return &b.Record, nil
}

// numFields is how many fields Parse writes at most, the vhost formats'.
const numFields = 16

// ParseInto is Parse into r, which it resets first, for a caller parsing
// line after line into one record (a pipeline.ParserInto): the line's
// values then come from r's arena and cost no allocation each. On error r
// is left empty.
func ParseInto(r *record.Builder, line []byte) error {
	r.Reset()
	// Every string of the record is a slice of one copy of the line, or
	// of the text derived from it (unescaped values, the time).
	s := r.Text(line)

	// Up to four space-separated fields come before the time: host, ident
	// and user, after a virtual host in the vhost formats.
	var head [4]string
	n, i := 0, 0
	for {
		i = skipSpaces(s, i)
		if i == len(s) {
			return errorf("no [time] field")
		}
		if isTimeStart(s[i:]) {
			break
		}
		if n == len(head) {
			return errorf("more than 4 fields before the [time]")
		}
		j := tokenEnd(s, i)
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
	sec, nsec, frac, err := parseTime(s[i+1 : i+end])
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
	j := tokenEnd(s, i)
	status, err := count(r, s[i:j], "status")
	if err != nil {
		return err
	}
	i, err = separator(s, j, "the status")
	if err != nil {
		return err
	}
	j = tokenEnd(s, i)
	sent, err := count(r, s[i:j], "bytes")
	if err != nil {
		return err
	}
	i = skipSpaces(s, j)

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
		if i = skipSpaces(s, i); i < len(s) {
			return errorf("unexpected text after the user agent: %s", excerpt.Quote(s[i:]))
		}
	}

	// Everything is valid: build the record.
	var stamp [maxTimeLen]byte
	timestamp := r.Text(appendTime(stamp[:0], sec, frac))

	hosts := head[:n]
	if n == 4 {
		vhost, port := splitHostPort(r, hosts[0])
		r.Fields = append(r.Fields,
			record.Field{Name: "vhost", Value: optional(r, vhost)},
			record.Field{Name: "port", Value: port})
		hosts = hosts[1:]
	}
	ident, user, request := hosts[1], hosts[2], rawRequest
	if strings.IndexByte(s, '\\') >= 0 { // rarely: one search spares one per value
		ident, user, request = unescape(r, ident), unescape(r, user), unescape(r, request)
		rawReferrer, rawAgent = unescape(r, rawReferrer), unescape(r, rawAgent)
	}
	r.Fields = append(r.Fields,
		record.Field{Name: "remote_host", Value: optional(r, hosts[0])},
		record.Field{Name: "ident", Value: optional(r, ident)},
		record.Field{Name: "user", Value: optional(r, user)},
		record.Field{Name: "time", Value: r.Box(timestamp)},
		record.Field{Name: "time_ms", Value: r.BoxInt(sec*1000 + int64(nsec/1e6))},
	)
	addRequest(r, request)
	var referrer, agent any
	if combined {
		referrer = optional(r, rawReferrer)
		agent = optional(r, rawAgent)
	}
	r.Fields = append(r.Fields,
		record.Field{Name: "status", Value: status},
		record.Field{Name: "bytes", Value: sent},
		record.Field{Name: "referrer", Value: referrer},
		record.Field{Name: "user_agent", Value: agent},
	)
	return nil
}

// addRequest adds method, path, query, protocol and request from the
// unescaped request line.
func addRequest(r *record.Builder, req string) {
	method, uri, protocol, ok := splitRequest(req)
	if !ok {
		r.Fields = append(r.Fields,
			record.Field{Name: "method", Value: nil},
			record.Field{Name: "path", Value: nil},
			record.Field{Name: "query", Value: nil},
			record.Field{Name: "protocol", Value: nil},
			record.Field{Name: "request", Value: optional(r, req)})
		return
	}
	path, query := uri, any(nil)
	if q := strings.IndexByte(uri, '?'); q >= 0 {
		path, query = uri[:q], r.Box(uri[q+1:])
	}
	r.Fields = append(r.Fields,
		record.Field{Name: "method", Value: r.Box(method)},
		record.Field{Name: "path", Value: r.Box(path)},
		record.Field{Name: "query", Value: query},
		record.Field{Name: "protocol", Value: r.Box(protocol)},
		record.Field{Name: "request", Value: nil})
}

// splitRequest splits "METHOD URI PROTOCOL". The URI is everything between
// the first and the last space, so a URI sent with raw spaces still splits.
func splitRequest(req string) (method, uri, protocol string, ok bool) {
	first := strings.IndexByte(req, ' ')
	last := strings.LastIndexByte(req, ' ')
	if first <= 0 || last == first || last == len(req)-1 {
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
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// splitHostPort splits a %v:%p virtual host. Only a host without a colon, or
// an IPv6 address in brackets, can carry a port: an unbracketed IPv6 address
// ends in digits too.
func splitHostPort(r *record.Builder, v string) (host string, port any) {
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
	p, ok := digits(v[c+1:])
	if !ok || p > 65535 {
		return v, nil
	}
	return host, r.BoxInt(p)
}

// count parses a status or byte count: a non-negative integer, or "-".
func count(r *record.Builder, v, name string) (any, error) {
	if v == "-" {
		return nil, nil
	}
	n, ok := digits(v)
	if !ok {
		return nil, errorf("%s %s is not a number", name, excerpt.Quote(v))
	}
	return r.BoxInt(n), nil
}

// digits parses a non-empty run of ASCII digits that fits an int64.
func digits(v string) (int64, bool) {
	if v == "" || len(v) > 18 { // 18 digits always fit an int64
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// optional is v as a field value, "-" being null.
func optional(r *record.Builder, v string) any {
	if v == "-" {
		return nil
	}
	return r.Box(v)
}

// quoted reads the double-quoted field at s[i] and returns its content, still
// escaped, and the index after the closing quote. The closing quote is the
// first unescaped one followed by a space or the end of the line, so that a
// stray quote an old server did not escape stays inside the field.
func quoted(s string, i int, name string) (string, int, error) {
	if s[i] != '"' {
		return "", i, errorf("%s %s is not in double quotes", name, excerpt.Quote(s[i:tokenEnd(s, i)]))
	}
	for j := i + 1; ; {
		k := strings.IndexByte(s[j:], '"')
		if k < 0 {
			return "", i, errorf("%s has no closing quote", name)
		}
		q := j + k
		j = q + 1
		// A quote after an odd number of backslashes is escaped.
		escaped := false
		for p := q - 1; p > i && s[p] == '\\'; p-- {
			escaped = !escaped
		}
		if !escaped && (j == len(s) || s[j] == ' ') {
			return s[i+1 : q], j, nil
		}
	}
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
// after the spaces, and returns the index after the spaces.
func separator(s string, i int, after string) (int, error) {
	if i < len(s) && s[i] != ' ' {
		return i, errorf("no space after %s", after)
	}
	i = skipSpaces(s, i)
	if i == len(s) {
		return i, errorf("line ends after %s", after)
	}
	return i, nil
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// tokenEnd returns the index of the first space at or after i, or len(s).
func tokenEnd(s string, i int) int {
	if j := strings.IndexByte(s[i:], ' '); j >= 0 {
		return i + j
	}
	return len(s)
}

// isTimeStart reports whether s starts with "[dd/", which tells the time
// from a bracketed IPv6 host.
func isTimeStart(s string) bool {
	return len(s) >= 4 && s[0] == '[' && isDigit(s[1]) && isDigit(s[2]) && s[3] == '/'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// monthOf returns the number of a month's English abbreviation, or 0.
// (A switch on constants compares the three bytes at once.)
func monthOf(name string) int {
	switch name {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}

// parseTime reads %t, "10/Oct/2000:13:55:36 -0700", also with fractional
// seconds after the seconds ("13:55:36.123", as Apache logs with
// %{msec_frac}t and NGINX with a custom $msec format). It returns the
// instant as seconds since the epoch and nanoseconds, and the fractional
// digits as written.
func parseTime(v string) (sec int64, nsec int, frac string, err error) {
	bad := func() (int64, int, string, error) {
		return 0, 0, "", errorf("time %s is not dd/Mon/yyyy:hh:mm:ss +zzzz", excerpt.Quote(v))
	}
	// dd/Mon/yyyy:hh:mm:ss is 20 bytes, " +zzzz" 6 more.
	if len(v) < 26 || v[2] != '/' || v[6] != '/' || v[11] != ':' || v[14] != ':' || v[17] != ':' {
		return bad()
	}
	day, ok1 := atoi(v[0:2])
	year, ok2 := atoi(v[7:11])
	hour, ok3 := atoi(v[12:14])
	minute, ok4 := atoi(v[15:17])
	second, ok5 := atoi(v[18:20])
	month := monthOf(v[3:6])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || month == 0 {
		return bad()
	}
	rest := v[20:]
	if rest[0] == '.' {
		k := 1
		for k < len(rest) && isDigit(rest[k]) {
			k++
		}
		if k == 1 || k > 10 {
			return bad()
		}
		frac, rest = rest[1:k], rest[k:]
	}
	if len(rest) != 6 || rest[0] != ' ' || (rest[1] != '+' && rest[1] != '-') {
		return bad()
	}
	zh, ok1 := atoi(rest[2:4])
	zm, ok2 := atoi(rest[4:6])
	if !ok1 || !ok2 || zh > 23 || zm > 59 {
		return bad()
	}
	if hour > 23 || minute > 59 || second > 59 {
		return 0, 0, "", errorf("time %s has no such time of day", excerpt.Quote(v))
	}
	if !civil.Valid(year, month, day) {
		return 0, 0, "", errorf("time %s has no such date", excerpt.Quote(v))
	}
	for k := 0; k < 9; k++ {
		nsec *= 10
		if k < len(frac) {
			nsec += int(frac[k] - '0')
		}
	}
	offset := int64(zh*3600 + zm*60)
	if rest[1] == '+' {
		offset = -offset
	}
	sec = civil.Days(year, month, day)*86400 + int64(hour*3600+minute*60+second) + offset
	days, _ := civil.SplitSeconds(sec)
	if y, _, _ := civil.Date(days); y < 0 || y > 9999 {
		return 0, 0, "", errorf("time %s is out of range in UTC", excerpt.Quote(v))
	}
	return sec, nsec, frac, nil
}

// atoi parses a fixed-width run of digits.
func atoi(v string) (int, bool) {
	n := 0
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return 0, false
		}
		n = n*10 + int(v[i]-'0')
	}
	return n, true
}

// appendTime writes the instant sec (seconds since the epoch, in years 0
// to 9999) as RFC 3339 in UTC with the given fractional digits:
// time.Format would drop trailing zeros the log has.
func appendTime(b []byte, sec int64, frac string) []byte {
	days, secOfDay := civil.SplitSeconds(sec)
	year, month, day := civil.Date(days)
	b = appendInt(b, year, 4)
	b = append(b, '-')
	b = appendInt(b, month, 2)
	b = append(b, '-')
	b = appendInt(b, day, 2)
	b = append(b, 'T')
	b = appendInt(b, secOfDay/3600, 2)
	b = append(b, ':')
	b = appendInt(b, secOfDay/60%60, 2)
	b = append(b, ':')
	b = appendInt(b, secOfDay%60, 2)
	if frac != "" {
		b = append(b, '.')
		b = append(b, frac...)
	}
	return append(b, 'Z')
}

// appendInt writes a non-negative n zero-padded to width digits.
func appendInt(b []byte, n, width int) []byte {
	var d [4]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[:width]...)
}

// errorf returns an error wrapping ErrMalformed.
func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
