// Package laketable describes the Glue tables of the data lake lakestream
// writes: one per output (each log format, CloudWatch Logs events, DynamoDB
// changes), with the columns its writers' records have, taken from the
// parsers' Columns, and time partitions that Athena projects (partition
// projection), so that no partition ever needs registering.
//
// template.yaml declares them. Its tables are rendered from here (Render,
// by `go test ./shared/laketable -update`) and a test proves they agree, so
// a field a parser gains is a column the same day.
package laketable

import (
	"strings"

	"lakestream/shared/logformat"
	"lakestream/shared/record"
)

// Buckets of the template the tables live in, by logical id.
const (
	// LakeBucket is the bucket the template creates for the lake.
	LakeBucket = "LakeBucket"
	// CwlogsBucket is where the CloudWatch Logs decompressor's delivery
	// stream writes.
	CwlogsBucket = "CwlogsDecompressorBucket"
)

// ArrivalTime is the column of the time a record arrived, which the
// template's Firehose functions and S3 log forwarder add
// (ARRIVAL_TIME_FIELD).
const ArrivalTime = "arrival_time"

// Table is one Glue table of the lake.
type Table struct {
	// Name is the Glue table's name.
	Name string
	// Description says what the table holds and what writes it.
	Description string
	// Format is the log format (FORMAT) whose JSON lines the table reads,
	// "" for the other outputs.
	Format string
	// Bucket is the template's bucket (by logical id) and Prefix the
	// folder in it, ending in "/", under which the partitions are.
	Bucket, Prefix string
	// Columns are the record's fields with their Hive types.
	Columns record.Columns
	// Partitions are the partition keys, in order, each with its Athena
	// partition projection.
	Partitions []Partition
	// TimeField is the column the partitions' time comes from, for the
	// JQ query of a delivery stream's dynamic partitioning ("" for none).
	TimeField string
}

// Partition is a partition key and how Athena projects its values.
type Partition struct {
	Name string
	// Projection holds the projection.<name>.* table properties, without
	// that prefix ("type": "integer", "range": "1,12", ...).
	Projection map[string]string
}

// hourly are the partitions every Firehose function writes by default
// (PARTITION_KEYS=year,month,day,hour, or a stream prefix of
// !{timestamp:yyyy}...): Hive folders year=/month=/day=/hour=, zero-padded.
var hourly = []Partition{
	{Name: "year", Projection: map[string]string{"type": "integer", "range": "2020,2050"}},
	{Name: "month", Projection: map[string]string{"type": "integer", "range": "1,12", "digits": "2"}},
	{Name: "day", Projection: map[string]string{"type": "integer", "range": "1,31", "digits": "2"}},
	{Name: "hour", Projection: map[string]string{"type": "integer", "range": "0,23", "digits": "2"}},
}

// formatTables are the log formats' tables: name, folder, what they hold.
var formatTables = []struct {
	format, name, what string
}{
	{logformat.AccessLog, "access_logs", "Apache and NGINX access logs"},
	{logformat.ALB, "alb_logs", "Application Load Balancer access logs"},
	{logformat.CloudFront, "cloudfront_logs", "CloudFront standard logs, with the derived user agent fields and the fields the S3 log forwarder takes from the file's key"},
	{logformat.CloudTrail, "cloudtrail_logs", "CloudTrail events, one row per event"},
	{logformat.S3Access, "s3_access_logs", "S3 server access logs"},
	{logformat.Syslog, "syslog_logs", "syslog messages (RFC 5424 and RFC 3164)"},
	{logformat.VPCFlow, "vpc_flow_logs", "VPC flow logs, every field of every version (a custom format fills the columns it has)"},
	{logformat.WAF, "waf_logs", "AWS WAF logs"},
}

// Tables returns every table of the lake, the log formats' first in name
// order, then CloudWatch Logs events and DynamoDB changes.
func Tables() []Table {
	var out []Table
	for _, ft := range formatTables {
		f, _ := logformat.NewFormat(ft.format, ft.format == logformat.CloudFront)
		cols := append(f.LakeColumns(), record.Column{Name: ArrivalTime, Type: record.String})
		timeField := f.Defaults.TimeField
		if ft.format == logformat.WAF {
			timeField = "time" // the RFC 3339 form of its epoch-ms timestamp
		}
		out = append(out, Table{
			Name:        ft.name,
			Description: ft.what + ": JSON lines of FORMAT=" + ft.format + " (firehose-logs, s3-log-forwarder).",
			Format:      ft.format,
			Bucket:      LakeBucket, Prefix: ft.format + "/",
			Columns:    cols,
			Partitions: hourly,
			TimeField:  timeField,
		})
	}
	out = append(out, Table{
		Name:        "cloudwatch_logs",
		Description: "CloudWatch Logs events the cwlogs-decompressor writes as JSON (OUTPUT_FORMAT=json), by log group, day and hour.",
		Bucket:      CwlogsBucket, Prefix: "cwlogs/",
		Columns: CloudWatchLogsColumns(),
		// The decompressor's PARTITION_KEYS=log_group,dt=date,hour.
		Partitions: []Partition{
			{Name: "log_group", Projection: map[string]string{"type": "injected"}},
			{Name: "dt", Projection: map[string]string{"type": "date", "format": "yyyy-MM-dd", "range": "2020-01-01,NOW", "interval": "1", "interval.unit": "DAYS"}},
			{Name: "hour", Projection: map[string]string{"type": "integer", "range": "0,23", "digits": "2"}},
		},
		TimeField: "timestamp",
	}, Table{
		Name:        "ddb_changes",
		Description: "DynamoDB stream records the ddb-stream-forwarder writes, one row per change (point its delivery stream at this folder).",
		Bucket:      LakeBucket, Prefix: "ddb-changes/",
		Columns:    DynamoDBChangeColumns(),
		Partitions: hourly,
		TimeField:  "approximate_creation_time",
	})
	return out
}

// CloudWatchLogsColumns are the fields of a CloudWatch Logs event the
// decompressor writes as JSON: the payload's log group, stream and owner,
// then the event's id, time (milliseconds) and message.
func CloudWatchLogsColumns() record.Columns {
	return record.Columns{
		{Name: "logGroup", Type: record.String},
		{Name: "logStream", Type: record.String},
		{Name: "owner", Type: record.String},
		{Name: "id", Type: record.String},
		{Name: "timestamp", Type: record.Bigint},
		{Name: "message", Type: record.String},
	}
}

// DynamoDBChangeColumns are the fields of a line the ddb-stream-forwarder
// writes for a DynamoDB stream record. keys, new_image and old_image are
// the items as plain JSON objects, whose attributes differ from item to
// item: string columns, read with json_extract.
func DynamoDBChangeColumns() record.Columns {
	return record.Columns{
		{Name: "table", Type: record.String},
		{Name: "event_name", Type: record.String},
		{Name: "event_id", Type: record.String},
		{Name: "sequence_number", Type: record.String},
		{Name: "approximate_creation_time", Type: record.String},
		{Name: "approximate_creation_epoch", Type: record.Bigint},
		{Name: "ttl_delete", Type: record.Boolean},
		{Name: "keys", Type: record.String},
		{Name: "new_image", Type: record.String},
		{Name: "old_image", Type: record.String},
	}
}

// Lookup returns the table of a log format, and false for a format with
// none (json, whose fields are the documents').
func Lookup(format string) (Table, bool) {
	for _, t := range Tables() {
		if t.Format == format && format != "" {
			return t, true
		}
	}
	return Table{}, false
}

// PartitionQuery is the JQ query a delivery stream's dynamic partitioning
// (MetadataExtraction) runs on each JSON line to find its hourly
// partition: from an RFC 3339 time by slicing, from Unix seconds (VPC flow
// logs' start) with strftime.
func (t Table) PartitionQuery() string {
	f := "." + t.TimeField
	if t.Format == logformat.VPCFlow {
		part := func(p string) string { return "(" + f + ` | strftime("` + p + `"))` }
		return "{year: " + part("%Y") + ", month: " + part("%m") + ", day: " + part("%d") + ", hour: " + part("%H") + "}"
	}
	return "{year: " + f + "[0:4], month: " + f + "[5:7], day: " + f + "[8:10], hour: " + f + "[11:13]}"
}

// LocationTemplate is the table's storage.location.template, with the
// bucket as "${Bucket}" for the template's !Sub and each partition as
// "${!name}" (a literal ${name} after !Sub).
func (t Table) LocationTemplate() string {
	var b strings.Builder
	b.WriteString("s3://${" + t.Bucket + "}/" + t.Prefix)
	for _, p := range t.Partitions {
		b.WriteString(p.Name + "=${!" + p.Name + "}/")
	}
	return b.String()
}

// LogicalID is the template's logical id of the table's resource:
// LakeTable and the name in PascalCase (LakeTableCloudfrontLogs).
func (t Table) LogicalID() string {
	var b strings.Builder
	b.WriteString("LakeTable")
	for part := range strings.SplitSeq(t.Name, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
