// Package waf parses AWS WAF web ACL traffic logs into records, for the S3
// log forwarder and the Firehose transformers.
//
// AWS WAF writes one JSON object per line ("Log fields for protection pack
// (web ACL) traffic" in the AWS WAF Developer Guide), to S3, CloudWatch Logs
// or Firehose alike.
//
// # Fields
//
// A record holds the log's top-level fields in the order of AWS's Athena
// table for WAF logs (Columns lists them with their Hive types), named as
// the log names them, with one field added:
//
//   - timestamp, the time AWS WAF received the request in milliseconds since
//     the Unix epoch, is kept (int64), and time, the same instant as RFC 3339
//     in UTC with milliseconds ("2019-12-13T23:40:12.771Z"), follows it:
//     people and Firehose's dynamic partitioning read the one, range queries
//     the other, and both are cheap.
//   - formatVersion, responseCodeSent, requestBodySize and
//     requestBodySizeInspectedByWAF are int64; the rest of the scalars are
//     strings, kept as logged ("-" is a value here: AWS WAF writes it where
//     it has none, as for httpSourceName).
//   - Nested objects and arrays are kept as JSON text (json.RawMessage),
//     typed with the struct and array types of AWS's Athena table, so that
//     queries like httprequest.clientip work.
//   - top-level fields AWS's table does not list (fields AWS WAF adds later)
//     are not dropped: they go into otherFields, an object of those fields in
//     their order, the last field.
//
// A field the log line lacks is left out (null in a table). Glue and Athena
// fold column names to lower case and the OpenX JSON SerDe matches keys
// without regard to case, so httpRequest is queried as httprequest.
package waf

import (
	"errors"
	"fmt"
	"time"

	"lakestream/shared/pipeline"
	"lakestream/shared/record"
)

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("waf: malformed log line")

// OtherFields is the name of the field holding a line's undocumented
// top-level fields.
const OtherFields = "otherFields"

// The complex types of AWS's Athena table for WAF logs.
const (
	matchDetailsType = "array<struct<conditiontype:string,sensitivitylevel:string,location:string,matcheddata:array<string>>>"
	actionStatusType = "struct<responsecode:string,solvetimestamp:string>"
	ruleGroupType    = "array<struct<rulegroupid:string,terminatingrule:struct<ruleid:string,action:string," +
		"rulematchdetails:" + matchDetailsType + ">,nonterminatingmatchingrules:array<struct<ruleid:string," +
		"action:string,overriddenaction:string,rulematchdetails:" + matchDetailsType + "," +
		"challengeresponse:" + actionStatusType + ",captcharesponse:" + actionStatusType + ">>,excludedrules:string>>"
	rateBasedRuleType  = "array<struct<ratebasedruleid:string,limitkey:string,maxrateallowed:int>>"
	nonTerminatingType = "array<struct<ruleid:string,action:string,rulematchdetails:" + matchDetailsType + "," +
		"challengeresponse:" + actionStatusType + ",captcharesponse:" + actionStatusType + ">>"
	headersInsertedType = "array<struct<name:string,value:string>>"
	httpRequestType     = "struct<clientip:string,country:string,headers:array<struct<name:string,value:string>>," +
		"uri:string,args:string,httpversion:string,httpmethod:string,requestid:string,fragment:string," +
		"scheme:string,host:string>"
	labelsType         = "array<struct<name:string>>"
	actionResponseType = "struct<responsecode:string,solvetimestamp:string,failurereason:string>"
)

// logColumns are the log's own fields: every column but the derived time.
var logColumns = record.Columns{
	{Name: "timestamp", Type: record.Bigint},
	{Name: "formatVersion", Type: record.Bigint},
	{Name: "webaclId", Type: record.String},
	{Name: "terminatingRuleId", Type: record.String},
	{Name: "terminatingRuleType", Type: record.String},
	{Name: "action", Type: record.String},
	{Name: "terminatingRuleMatchDetails", Type: matchDetailsType},
	{Name: "httpSourceName", Type: record.String},
	{Name: "httpSourceId", Type: record.String},
	{Name: "ruleGroupList", Type: ruleGroupType},
	{Name: "rateBasedRuleList", Type: rateBasedRuleType},
	{Name: "nonTerminatingMatchingRules", Type: nonTerminatingType},
	{Name: "requestHeadersInserted", Type: headersInsertedType},
	{Name: "responseCodeSent", Type: record.Bigint},
	{Name: "httpRequest", Type: httpRequestType},
	{Name: "labels", Type: labelsType},
	{Name: "captchaResponse", Type: actionResponseType},
	{Name: "challengeResponse", Type: actionResponseType},
	{Name: "ja3Fingerprint", Type: record.String},
	{Name: "ja4Fingerprint", Type: record.String},
	{Name: "oversizeFields", Type: record.String},
	{Name: "requestBodySize", Type: record.Bigint},
	{Name: "requestBodySizeInspectedByWAF", Type: record.Bigint},
	{Name: OtherFields, Type: record.String},
}

// Columns returns the columns of the records Parse returns, in order, with
// their Hive types.
func Columns() record.Columns {
	cols := make(record.Columns, 0, len(logColumns)+1)
	cols = append(cols, logColumns[0], record.Column{Name: "time", Type: record.String})
	return append(cols, logColumns[1:]...)
}

// Parse parses one WAF log line, a JSON object. It has the signature of a
// pipeline Parser and never returns (nil, nil). The record shares line's
// memory (nested values are slices of it): line must not change while the
// record is in use.
func Parse(line []byte) (*record.Record, error) {
	entry, err := pipeline.ParseJSON(line)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	r, err := logColumns.Conform(entry, OtherFields)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	// Conform puts timestamp first when the line has one.
	if r.Len() == 0 || r.Fields[0].Name != "timestamp" || r.Fields[0].Value == nil {
		return nil, fmt.Errorf("%w: no timestamp", ErrMalformed)
	}
	ms := r.Fields[0].Value.(int64) // Conform made it one
	t := time.UnixMilli(ms).UTC()
	if y := t.Year(); y < 1970 || y > 9999 {
		return nil, fmt.Errorf("%w: timestamp %d is not a time in milliseconds since 1970", ErrMalformed, ms)
	}
	r.Fields = append(r.Fields, record.Field{})
	copy(r.Fields[2:], r.Fields[1:])
	r.Fields[1] = record.Field{Name: "time", Value: t.Format("2006-01-02T15:04:05.000Z")}
	return r, nil
}
