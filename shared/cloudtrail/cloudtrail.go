// Package cloudtrail reads AWS CloudTrail log files into records, for the
// S3 log forwarder and the Firehose transformers.
//
// CloudTrail delivers each log file to S3 as one gzipped JSON document,
// {"Records":[event, ...]}. Scanner streams the events out of it, one line
// of JSON per event; Parse turns one such line into a record.
//
// # Fields
//
// A record holds the event's top-level fields in the order of the
// documented CloudTrail record contents (Columns lists them with their
// Hive types), named as CloudTrail names them: CloudTrail writes them in no
// particular order, and a table needs one. A field the event lacks is left
// out (null in a table). Values:
//
//   - strings, booleans (readOnly, managementEvent) and nested objects and
//     arrays as they came; nested values are kept as JSON text
//     (json.RawMessage), never decoded, so no digit or key is lost.
//   - eventTime is checked to be an RFC 3339 time and written in UTC.
//   - userIdentity, resources, addendum and tlsDetails are typed with the
//     struct and array types of AWS's Athena table for CloudTrail, so
//     queries like useridentity.arn work; requestParameters,
//     responseElements, additionalEventData, serviceEventDetails,
//     edgeDeviceDetails and insightDetails, whose shape depends on the
//     service, are typed string (JSON text), as AWS's table has them.
//   - top-level fields that are not documented (fields CloudTrail adds
//     later) are not dropped: they go into otherFields, an object of those
//     fields in their order, the last field.
//
// Glue and Athena fold column names to lower case and the OpenX JSON SerDe
// matches keys without regard to case, so eventName is queried as
// eventname.
package cloudtrail

import (
	"errors"
	"fmt"
	"time"

	"lakestream/shared/excerpt"
	"lakestream/shared/pipeline"
	"lakestream/shared/record"
)

// ErrMalformed is wrapped by every error Parse returns and by the Scanner's
// errors for a log file that is not well-formed.
var ErrMalformed = errors.New("cloudtrail: malformed log")

// OtherFields is the name of the field holding an event's undocumented
// top-level fields.
const OtherFields = "otherFields"

// The complex types AWS's Athena table gives CloudTrail's nested fields.
const (
	userIdentityType = "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string," +
		"accesskeyid:string,username:string,onbehalfof:struct<userid:string,identitystorearn:string>," +
		"sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>," +
		"sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,username:string>," +
		"ec2roledelivery:string,webidfederationdata:struct<federatedprovider:string,attributes:map<string,string>>>>"
	resourcesType  = "array<struct<arn:string,accountid:string,type:string>>"
	addendumType   = "struct<reason:string,updatedfields:string,originalrequestid:string,originaleventid:string>"
	tlsDetailsType = "struct<tlsversion:string,ciphersuite:string,clientprovidedhostheader:string>"
)

// columns is the documented record contents, in the order of AWS's Athena
// table (with managementEvent, which it lacks, after readOnly, and the
// Insights events' insightDetails last), then otherFields.
var columns = record.Columns{
	{Name: "eventVersion", Type: record.String},
	{Name: "userIdentity", Type: userIdentityType},
	{Name: "eventTime", Type: record.String},
	{Name: "eventSource", Type: record.String},
	{Name: "eventName", Type: record.String},
	{Name: "awsRegion", Type: record.String},
	{Name: "sourceIPAddress", Type: record.String},
	{Name: "userAgent", Type: record.String},
	{Name: "errorCode", Type: record.String},
	{Name: "errorMessage", Type: record.String},
	{Name: "requestParameters", Type: record.String},
	{Name: "responseElements", Type: record.String},
	{Name: "additionalEventData", Type: record.String},
	{Name: "requestID", Type: record.String},
	{Name: "eventID", Type: record.String},
	{Name: "resources", Type: resourcesType},
	{Name: "eventType", Type: record.String},
	{Name: "apiVersion", Type: record.String},
	{Name: "readOnly", Type: record.Boolean},
	{Name: "managementEvent", Type: record.Boolean},
	{Name: "recipientAccountId", Type: record.String},
	{Name: "serviceEventDetails", Type: record.String},
	{Name: "sharedEventID", Type: record.String},
	{Name: "vpcEndpointId", Type: record.String},
	{Name: "vpcEndpointAccountId", Type: record.String},
	{Name: "eventCategory", Type: record.String},
	{Name: "addendum", Type: addendumType},
	{Name: "sessionCredentialFromConsole", Type: record.String},
	{Name: "edgeDeviceDetails", Type: record.String},
	{Name: "tlsDetails", Type: tlsDetailsType},
	{Name: "insightDetails", Type: record.String},
	{Name: OtherFields, Type: record.String},
}

// Columns returns the columns of the records Parse returns, in order, with
// their Hive types.
func Columns() record.Columns { return append(record.Columns(nil), columns...) }

// Parse parses one CloudTrail event, a JSON object on one line as Scanner
// yields it. It has the signature of a pipeline Parser and never returns
// (nil, nil). The record shares line's memory (nested values are slices of
// it): line must not change while the record is in use.
func Parse(line []byte) (*record.Record, error) {
	event, err := pipeline.ParseJSON(line)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	r, err := columns.Conform(event, OtherFields)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := normalizeTime(r); err != nil {
		return nil, err
	}
	return r, nil
}

// normalizeTime checks eventTime and writes it in UTC.
func normalizeTime(r *record.Record) error {
	v, ok := r.Get("eventTime")
	if !ok || v == nil {
		return fmt.Errorf("%w: no eventTime", ErrMalformed)
	}
	s, ok := v.(string) // Conform made any scalar one, but not an object
	if !ok {
		return fmt.Errorf("%w: eventTime is an object or array, not a time", ErrMalformed)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("%w: eventTime %s is not an RFC 3339 time", ErrMalformed, excerpt.Quote(s))
	}
	if s[len(s)-1] != 'Z' {
		if y := t.UTC().Year(); y < 0 || y > 9999 {
			return fmt.Errorf("%w: eventTime %s is out of range in UTC", ErrMalformed, excerpt.Quote(s))
		}
		r.Set("eventTime", t.UTC().Format(time.RFC3339Nano))
	}
	return nil
}
