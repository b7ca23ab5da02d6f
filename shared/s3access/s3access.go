// Package s3access parses Amazon S3 server access log records into records,
// for the S3 log forwarder and the Firehose transformers.
//
// A server access log record is space-separated fields in the order AWS
// documents them ("Amazon S3 server access log format" in the S3 User
// Guide), 27 of them today; the time is in brackets and the Request-URI,
// Referer and User-Agent are in double quotes because they hold spaces:
//
//	Bucket-Owner Bucket [Time] Remote-IP Requester Request-ID Operation Key
//	"Request-URI" HTTP-status Error-Code Bytes-Sent Object-Size Total-Time
//	Turn-Around-Time "Referer" "User-Agent" Version-Id Host-Id
//	Signature-Version Cipher-Suite Authentication-Type Host-Header
//	TLS-version Access-Point-ARN aclRequired Source-Region
//
// # Fields
//
// Records have the columns of the table AWS's documentation creates for
// server access logs in Athena, in the log's order (Columns lists them with
// their types):
//
//	bucketowner bucket_name requestdatetime remoteip requester requestid
//	operation key request_uri httpstatus errorcode bytessent objectsize
//	totaltime turnaroundtime referrer useragent versionid hostid sigv
//	ciphersuite authtype endpoint tlsversion accesspointarn aclrequired
//	sourceregion
//
// Their values:
//
//   - requestdatetime is the bracketed time converted to RFC 3339 in UTC
//     ("[06/Feb/2019:00:00:38 +0000]" becomes "2019-02-06T00:00:38Z"),
//     which Athena reads with from_iso8601_timestamp; AWS's own table keeps
//     the bracketed text.
//   - httpstatus, bytessent, objectsize, totaltime and turnaroundtime are
//     int64 (the two times in milliseconds); AWS's table has some of them as
//     strings.
//   - "-", quoted or not, is null: AWS writes it in any field whose value is
//     unknown, unavailable or not applicable. Bytes Sent is also "-" when no
//     bytes were sent, so a null bytessent means zero or unknown.
//   - Quotes are removed (AWS's table keeps them in request_uri, referrer
//     and useragent); \" and \\ inside quotes are undone. Every other value
//     is kept as logged: key stays URL-encoded, as the log has it.
//
// # Older and newer layouts
//
// S3 adds fields at the end of the record and asks readers to ignore any
// they do not expect. A record needs at least the first 17 fields (through
// User-Agent); missing later fields are null, so records written before a
// field existed parse. Fields after the 27th are ignored.
package s3access

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"lakestream/shared/civil"
	"lakestream/shared/excerpt"
	"lakestream/shared/logfield"
	"lakestream/shared/record"
)

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("s3access: malformed record")

// MinFields is the fewest fields a record may have: through User-Agent.
const MinFields = 17

type kind uint8

const (
	text      kind = iota // a string
	enum                  // a string with few distinct values, most of them interned
	count                 // a non-negative int64
	timestamp             // "[dd/Mon/yyyy:hh:mm:ss +zzzz]", converted to RFC 3339 in UTC
)

// logFields is the documented field list, in order: the name AWS documents
// (used in error messages) and the record name, as AWS's Athena table
// names the column.
var logFields = [...]struct {
	field, name string
	kind        kind
}{
	{"Bucket Owner", "bucketowner", text},
	{"Bucket", "bucket_name", text},
	{"Time", "requestdatetime", timestamp},
	{"Remote IP", "remoteip", text},
	{"Requester", "requester", text},
	{"Request ID", "requestid", text},
	{"Operation", "operation", enum},
	{"Key", "key", text},
	{"Request-URI", "request_uri", text},
	{"HTTP status", "httpstatus", count},
	{"Error Code", "errorcode", enum},
	{"Bytes Sent", "bytessent", count},
	{"Object Size", "objectsize", count},
	{"Total Time", "totaltime", count},
	{"Turn-Around Time", "turnaroundtime", count},
	{"Referer", "referrer", text},
	{"User-Agent", "useragent", text},
	{"Version Id", "versionid", text},
	{"Host Id", "hostid", text},
	{"Signature Version", "sigv", enum},
	{"Cipher Suite", "ciphersuite", enum},
	{"Authentication Type", "authtype", enum},
	{"Host Header", "endpoint", text},
	{"TLS version", "tlsversion", enum},
	{"Access Point ARN", "accesspointarn", text},
	{"aclRequired", "aclrequired", enum},
	{"Source Region", "sourceregion", enum},
}

// Columns returns the columns of every record Parse returns, in order, with
// their Hive types.
func Columns() record.Columns {
	cols := make(record.Columns, len(logFields))
	for i, f := range logFields {
		typ := record.String
		if f.kind == count {
			typ = record.Bigint
		}
		cols[i] = record.Column{Name: f.name, Type: typ}
	}
	return cols
}

// timeLen is the length of the time Parse writes: "2006-01-02T15:04:05Z".
const timeLen = 20

// Parse parses one server access log record (without its line terminator).
// It has the signature of a pipeline Parser and never returns (nil, nil).
func Parse(line []byte) (*record.Record, error) {
	// Every string of the record is a slice of one buffer holding the line
	// followed by the text Parse derives, so a record costs one copy.
	// Unescaped values are shorter than their escaped form, so room for a
	// second copy of the line is enough for them all.
	size := len(line) + timeLen
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
		if values[n], i, unclosed = logfield.Next(s, i, logFields[n].kind == timestamp); unclosed != 0 {
			return nil, errorf("%s has no closing %c", fieldName(n), unclosed)
		}
	}
	if n < MinFields {
		return nil, errorf("%d fields, want at least %d (through User-Agent)", n, MinFields)
	}

	r := newRecord()
	for k, f := range logFields {
		var out any
		if v := values[k]; k < n && v.Text != "-" {
			if v.Quoted && strings.IndexByte(v.Text, '\\') >= 0 {
				v.Text = logfield.Unescape(&buf, v.Text)
			}
			var err error
			if out, err = convert(&buf, f.field, f.kind, v); err != nil {
				return nil, err
			}
		}
		r.Fields = append(r.Fields, record.Field{Name: f.name, Value: out})
	}
	return r, nil
}

// recordBuf lets a record and room for its fields come from one allocation.
// Two spare fields leave room for what the pipeline adds (an arrival time).
type recordBuf struct {
	r      record.Record
	fields [len(logFields) + 2]record.Field
}

func newRecord() *record.Record {
	b := new(recordBuf)
	b.r.Fields = b.fields[:0]
	return &b.r
}

// convert turns one field's text into its record value.
func convert(buf *strings.Builder, field string, k kind, v logfield.Value) (any, error) {
	switch k {
	case count:
		n, ok := logfield.Digits(v.Text)
		if !ok {
			return nil, errorf("%s %s is not a whole number", field, excerpt.Quote(v.Text))
		}
		return n, nil
	case timestamp:
		if !v.Bracketed {
			return nil, errorf("%s %s is not in brackets", field, excerpt.Quote(v.Text))
		}
		t, err := parseTime(v.Text)
		if err != nil {
			return nil, err
		}
		start := buf.Len()
		var b [timeLen]byte
		buf.Write(civil.AppendRFC3339(b[:0], t, ""))
		return buf.String()[start:], nil
	case enum:
		return interned.Value(v.Text), nil
	}
	return v.Text, nil
}

// fieldName names the n-th field for an error message.
func fieldName(n int) string {
	if n < len(logFields) {
		return logFields[n].field
	}
	return fmt.Sprintf("field %d", n+1)
}

// parseTime reads strftime's "%d/%b/%Y:%H:%M:%S %z", as in
// "06/Feb/2019:00:00:38 +0000" (without the fractional seconds an Apache
// log may have), and returns the instant in seconds since the epoch.
func parseTime(v string) (int64, error) {
	t, err := logfield.ParseTime(v)
	switch {
	case len(v) != 26 || err == logfield.ErrTimeForm:
		return 0, errorf("Time %s is not dd/Mon/yyyy:hh:mm:ss +zzzz", excerpt.Quote(v))
	case err == logfield.ErrTimeRange:
		return 0, errorf("Time %s is out of range in UTC", excerpt.Quote(v))
	case err != nil:
		return 0, errorf("Time %s has no such date or time", excerpt.Quote(v))
	}
	return t.Unix, nil
}

// interned holds, already boxed, the values that fill most of a record
// (operations, error codes, signature versions, ciphers, authentication
// types, TLS versions, regions), so that storing them in a record costs no
// allocation.
var interned = logfield.Intern(
	"REST.GET.OBJECT", "REST.PUT.OBJECT", "REST.HEAD.OBJECT", "REST.DELETE.OBJECT", "REST.POST.UPLOADS",
	"REST.PUT.PART", "REST.POST.UPLOAD", "REST.GET.BUCKET", "REST.HEAD.BUCKET", "REST.GET.VERSIONING",
	"REST.GET.LOGGING_STATUS", "REST.GET.BUCKETPOLICY", "REST.GET.ACL", "REST.GET.LOCATION",
	"REST.COPY.OBJECT", "REST.COPY.OBJECT_GET", "REST.COPY.PART", "REST.COPY.PART_GET",
	"REST.GET.OBJECT_TAGGING", "REST.PUT.OBJECT_TAGGING", "REST.GET.ENCRYPTION", "REST.GET.CORS",
	"WEBSITE.GET.OBJECT", "WEBSITE.HEAD.OBJECT", "BATCH.DELETE.OBJECT", "S3.EXPIRE.OBJECT",
	"S3.TRANSITION.OBJECT", "S3.CREATE.DELETEMARKER",
	"AccessDenied", "NoSuchKey", "NoSuchBucket", "NoSuchBucketPolicy", "NoSuchLifecycleConfiguration",
	"NoSuchCORSConfiguration", "NoSuchTagSet", "NoSuchWebsiteConfiguration", "NotModified",
	"PreconditionFailed", "SlowDown", "InternalError", "ServerSideEncryptionConfigurationNotFoundError",
	"SigV2", "SigV4", "SigV4a",
	"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA",
	"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
	"AuthHeader", "QueryString",
	"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "TLSV1.1", "TLSV1.2",
	"Yes",
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1",
	"ap-southeast-2", "ap-northeast-1",
)

// errorf returns an error wrapping ErrMalformed.
func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
