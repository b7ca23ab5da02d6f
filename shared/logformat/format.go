package logformat

import (
	"bytes"
	"strings"

	"lakestream/shared/accesslog"
	"lakestream/shared/alb"
	"lakestream/shared/cloudfront"
	"lakestream/shared/cloudtrail"
	"lakestream/shared/config"
	"lakestream/shared/pipeline"
	"lakestream/shared/record"
	"lakestream/shared/s3access"
	"lakestream/shared/syslog"
	"lakestream/shared/vpcflow"
	"lakestream/shared/waf"
)

// Names of the log formats, as FORMAT takes them. The first four are also
// PARSE_MESSAGE's parsers.
const (
	ALB        = "alb"        // Application Load Balancer access logs: shared/alb
	CloudFront = "cloudfront" // CloudFront standard logs: shared/cloudfront
	CloudTrail = "cloudtrail" // CloudTrail events: shared/cloudtrail
	S3Access   = "s3access"   // S3 server access logs: shared/s3access
	WAF        = "waf"        // AWS WAF logs: shared/waf
)

// Formats lists every format name FORMAT takes.
var Formats = []string{AccessLog, ALB, CloudFront, CloudTrail, JSON, S3Access, Syslog, VPCFlow, WAF}

// Format is a log format a function reads whole, line by line: the S3 log
// forwarder (FORMAT, on objects) and the firehose-logs transformation
// (FORMAT, on Firehose records). The same parser and the same defaults
// serve both, so a format's records are the same whichever way they came.
type Format struct {
	// Name is FORMAT.
	Name string
	// Parse parses one line (for cloudtrail, one event; for json, one
	// document), given the time the line arrived as a reference (a
	// year-less syslog time is dated against it).
	Parse pipeline.ParserAt
	// Defaults are the pipeline settings the format implies, for the
	// variables left unset (pipeline.LoadDefaults): the event-time field
	// (TIME_FIELD), every column in order (OUTPUT_COLUMNS, for csv and
	// tsv) and how a Firehose record is cut into lines (Split).
	Defaults pipeline.Options
	// Columns are the fields Parse writes, in order, with their Hive
	// types; nil for json, whose fields are the documents'. A lake table
	// over the format's JSON output has these columns.
	Columns record.Columns

	// CloudTrailFile says an S3 object of the format is a CloudTrail log
	// file, one JSON document whose Records are the events
	// (cloudtrail.Scanner), not lines.
	CloudTrailFile bool
	// KeyFields, when set, returns fields an S3 object's key gives every
	// line of it, added after the parser's (cloudfront: distribution_id
	// and file_name); KeyColumns are their columns.
	KeyFields  func(key string) []record.Field
	KeyColumns record.Columns
	// Header, when set, reads the first line of an S3 object: when it
	// names the object's fields (a VPC flow log's header), it returns the
	// parser for the object's other lines, and the line is not a record.
	Header func(line []byte) (pipeline.ParserAt, bool)
}

// LoadFormat reads FORMAT and the settings of the format it names:
// DERIVE_USER_AGENT (cloudfront: add browser_family, os_family and is_bot;
// default false) and VPCFLOW_FIELDS (vpcflow: the flow log's format; unset
// is the default format, or, in an S3 object, the format its header line
// names). FORMAT is required. Problems are recorded in env, each naming its
// variable.
func LoadFormat(env *config.Env) Format {
	name := env.OneOf("FORMAT", "", Formats...)
	if name == "" && !env.Has("FORMAT") {
		env.Fail("FORMAT", "", "the format of the log lines, one of "+strings.Join(Formats, ", "))
	}
	derive := false
	if env.Has("DERIVE_USER_AGENT") && name != CloudFront {
		env.Fail("DERIVE_USER_AGENT", env.String("DERIVE_USER_AGENT", ""), "unset unless FORMAT is cloudfront")
	} else {
		derive = env.Bool("DERIVE_USER_AGENT", false)
	}
	fields := env.String("VPCFLOW_FIELDS", "")
	if fields != "" && name != VPCFlow && !strings.EqualFold(env.String("PARSE_MESSAGE", ""), VPCFlow) {
		env.Fail("VPCFLOW_FIELDS", fields, "unset unless FORMAT or PARSE_MESSAGE is vpcflow")
	}
	if name == VPCFlow {
		f, ok := loadVPCFlow(env, fields)
		if !ok {
			return Format{}
		}
		return vpcflowFormat(f, fields == "")
	}
	f, _ := NewFormat(name, derive)
	return f
}

// NewFormat returns the named format with its default settings, and
// whether there is one; deriveUserAgent is cloudfront's DERIVE_USER_AGENT.
func NewFormat(name string, deriveUserAgent bool) (Format, bool) {
	switch name {
	case AccessLog:
		return lineFormat(name, withoutTime(accesslog.Parse), accesslog.Columns(), "time"), true
	case ALB:
		return lineFormat(name, withoutTime(alb.Parse), alb.Columns(), "time"), true
	case CloudFront:
		p := cloudfront.New(cloudfront.Options{DeriveUserAgent: deriveUserAgent})
		f := lineFormat(name, withoutTime(p.Parse), p.Columns(), "timestamp")
		f.KeyFields, f.KeyColumns = cloudfront.KeyFields, cloudfront.KeyColumns()
		return f, true
	case CloudTrail:
		f := lineFormat(name, withoutTime(cloudtrail.Parse), cloudtrail.Columns(), "eventTime")
		// A Firehose record may hold several events, pretty-printed or not.
		f.Defaults.Split, f.CloudTrailFile = pipeline.SplitJSON, true
		return f, true
	case JSON:
		return Format{Name: name, Parse: withoutTime(pipeline.ParseJSON), Defaults: pipeline.Options{Split: pipeline.SplitJSON}}, true
	case S3Access:
		return lineFormat(name, withoutTime(s3access.Parse), s3access.Columns(), "requestdatetime"), true
	case Syslog:
		return lineFormat(name, syslog.ParseAt, syslog.Columns(), "timestamp"), true
	case VPCFlow:
		return vpcflowFormat(vpcflow.Default, true), true
	case WAF:
		return lineFormat(name, withoutTime(waf.Parse), waf.Columns(), "timestamp"), true
	}
	return Format{}, false
}

// lineFormat is a format of one record per line with the given columns and
// event-time field.
func lineFormat(name string, parse pipeline.ParserAt, cols record.Columns, timeField string) Format {
	return Format{
		Name:    name,
		Parse:   parse,
		Columns: cols,
		Defaults: pipeline.Options{
			TimeField:     timeField,
			OutputColumns: strings.Join(cols.Names(), ","),
		},
	}
}

// vpcflowFormat is the vpcflow format of flow log format f; with
// fromHeader, an S3 object's header line names its own format instead.
// The event time is start, when the flow's window began (Unix seconds).
func vpcflowFormat(f *vpcflow.Format, fromHeader bool) Format {
	out := lineFormat(VPCFlow, withoutTime(f.Parse), f.ColumnTypes(), "start")
	if fromHeader {
		out.Header = vpcflowHeader
	}
	return out
}

// vpcflowHeader reads the first line of a flow log object in S3: the
// names of its fields ("version account-id ..."), which give the format
// of the lines after it.
func vpcflowHeader(line []byte) (pipeline.ParserAt, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] < 'a' || line[0] > 'z' {
		return nil, false // data lines start with a version number or "-"
	}
	f, err := vpcflow.NewFormat(string(line))
	if err != nil {
		return nil, false
	}
	return withoutTime(f.Parse), true
}

// loadVPCFlow reads VPCFLOW_FIELDS into a flow log format.
func loadVPCFlow(env *config.Env, fields string) (*vpcflow.Format, bool) {
	f, err := vpcflow.NewFormat(fields)
	if err != nil {
		env.Fail("VPCFLOW_FIELDS", fields, "the flow log's format, its fields in AWS's ${field-name} notation ("+
			strings.TrimPrefix(err.Error(), "vpcflow: ")+")")
		return nil, false
	}
	return f, true
}

// LakeColumns are the columns of a lake table over the format's JSON
// output read from anywhere: the parser's columns, then those an S3
// object's key adds. For vpcflow they are every documented field, so that
// one table reads flow logs of any custom format.
func (f Format) LakeColumns() record.Columns {
	if f.Name == VPCFlow {
		return vpcflow.AllColumns()
	}
	return append(append(record.Columns(nil), f.Columns...), f.KeyColumns...)
}
