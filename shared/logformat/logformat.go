// Package logformat names the log formats lakestream reads and the
// settings that choose them:
//
//	FORMAT             the format of whole lines (format.go): accesslog,
//	                   alb, cloudfront, cloudtrail, json, s3access, syslog,
//	                   vpcflow or waf, read by the S3 log forwarder and the
//	                   firehose-logs transformation alike
//	PARSE_MESSAGE      the parser a Firehose function applies to each
//	                   record's message field: json, accesslog, syslog or
//	                   vpcflow (unset: none)
//	VPCFLOW_FIELDS     with vpcflow, the flow log's custom format in AWS's
//	                   notation ("${version} ${srcaddr} ..."); unset is the
//	                   default format
//	DERIVE_USER_AGENT  with FORMAT=cloudfront, add browser_family,
//	                   os_family and is_bot
//
// It sits apart from shared/pipeline, which runs the stage, because the
// parsers' own tests use the pipeline: the pipeline cannot import them.
package logformat

import (
	"strings"
	"time"

	"lakestream/shared/accesslog"
	"lakestream/shared/config"
	"lakestream/shared/pipeline"
	"lakestream/shared/record"
	"lakestream/shared/syslog"
)

// Names of the parsers, as PARSE_MESSAGE takes them.
const (
	JSON      = "json"      // a JSON object: pipeline.ParseJSON
	AccessLog = "accesslog" // Apache / NGINX access log: shared/accesslog
	Syslog    = "syslog"    // RFC 5424 or RFC 3164: shared/syslog, dated against the arrival time
	VPCFlow   = "vpcflow"   // VPC flow log record: shared/vpcflow, in VPCFLOW_FIELDS' format
)

// Names lists every parser name.
var Names = []string{JSON, AccessLog, Syslog, VPCFlow}

// Parser is the parser PARSE_MESSAGE names.
type Parser struct {
	// Name is PARSE_MESSAGE, for pipeline.Options.ParseMessageName.
	Name string
	// Parse is what to set as pipeline.Options.ParseMessage; nil when
	// PARSE_MESSAGE is unset.
	Parse pipeline.ParserAt
	// Columns are the fields Parse writes, in order, for a default
	// OUTPUT_COLUMNS; nil for json, whose fields are the document's.
	Columns []string
}

// Load reads PARSE_MESSAGE and VPCFLOW_FIELDS. Problems are recorded in
// env, each naming its variable.
func Load(env *config.Env) Parser {
	name := env.OneOf("PARSE_MESSAGE", "", Names...)
	fields := env.String("VPCFLOW_FIELDS", "")
	// FORMAT=vpcflow (LoadFormat) reads VPCFLOW_FIELDS too.
	if fields != "" && name != VPCFlow && !strings.EqualFold(env.String("FORMAT", ""), VPCFlow) {
		env.Fail("VPCFLOW_FIELDS", fields, "unset unless PARSE_MESSAGE is vpcflow")
	}
	switch name {
	case JSON:
		return Parser{Name: name, Parse: withoutTime(pipeline.ParseJSON)}
	case AccessLog:
		return Parser{Name: name, Parse: withoutTime(accesslog.Parse), Columns: accesslog.Fields()}
	case Syslog:
		return Parser{Name: name, Parse: syslog.ParseAt, Columns: syslog.Fields()}
	case VPCFlow:
		f, ok := loadVPCFlow(env, fields)
		if !ok {
			return Parser{}
		}
		return Parser{Name: name, Parse: withoutTime(f.Parse), Columns: f.Columns()}
	}
	return Parser{}
}

func withoutTime(p pipeline.Parser) pipeline.ParserAt {
	return func(line []byte, _ time.Time) (*record.Record, error) { return p(line) }
}
