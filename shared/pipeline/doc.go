// Package pipeline is what every lakestream Firehose function runs on its
// records: the record transformers (access logs, CloudFront logs, syslog,
// JSON) after their parser, and the CloudWatch Logs decompressor on the log
// events of each subscription payload. It parses each record's message
// when asked, filters, enriches, masks and validates the records, derives
// the dynamic-partitioning keys and writes the survivors as
// newline-delimited JSON, CSV, TSV, lines or Splunk HEC events, so that
// every variable below means the same in every function.
//
// A line transformer splits a Firehose record into lines and parses each
// with its Parser; a *Pipeline is a firehose.Transformer:
//
//	env := config.New(os.Getenv)
//	opts := pipeline.Load(env)
//	if err := env.Err(); err != nil { ... }
//	p, err := pipeline.New(accesslog.Parse, opts)
//
// A ParserInto (NewInto; the shipped parsers have one, ParseJSONInto among
// them) fills a record.Builder that the pipeline reuses line after line
// instead of returning a new record, so that a line costs no allocation:
// its values come from the builder's arena, and Transform keeps its
// working memory (buffers, caches) from one Firehose record to the next.
//
// A log-event source hands over a batch of events that share some fields
// (LogEvents); (*EventPipeline).Run runs the stages over them. Each event
// is the record {shared fields..., id, timestamp, message}. When no stage
// reads more than the shared fields and the time, and the format is lines,
// json or splunk, Run writes the events straight from the batch without
// building a record for any (the record path writes the same bytes).
//
// A source that reads its lines itself, such as the S3 log forwarder
// streaming an object, takes a LineStream ((*Pipeline).NewLineStream) and
// hands it one line at a time: each line is decided alone (written,
// skipped, filtered, or an error for that line), and no partition keys are
// evaluated, since PutRecordBatch carries none.
//
// Every record has a text besides its fields: the line it was parsed from
// (a JSON document of several lines compacted onto one), or a log event's
// message. lines and splunk write the text; json, csv and tsv the fields.
//
// # Stages, in the order they run
//
//  1. Parse: each line (or, with SplitJSON, each JSON document) goes through
//     the Parser. A Parser returning (nil, nil) skips the line on purpose.
//     A ParserAt (NewAt) and a ParserInto are also given the record's
//     arrival time, which an RFC 3164 syslog line needs to date its
//     year-less timestamp. Then,
//     with PARSE_MESSAGE, the record's message field goes through the
//     parser it names, whose fields join the record.
//  2. Filter (DROP_IF): drops matching records. It runs on the parsed values,
//     before masking, so conditions are written against the source data
//     ("remote_host^=10.") and dropped lines cost no masking.
//  3. Enrich (ARRIVAL_TIME_FIELD): adds the Firehose approximate arrival time.
//  4. Mask (MASK_FIELDS): truncates IP addresses, hashes, drops or redacts fields.
//  5. Validate (SCHEMA): checks the record as it will be written.
//  6. Partition (PARTITION_KEYS): derives metadata.partitionKeys from the
//     record as it will be written.
//  7. Select (FIELDS): which fields are written, in which order, under
//     which names (fields.go).
//  8. Write (OUTPUT_FORMAT): one output line per record.
//
// A line that fails to parse, validate or write fails the whole Firehose
// record (ProcessingFailed) with an error naming the line number (a
// *LineError; for log events an *EventError naming the event's position
// and id), so the original goes to the processing-failed prefix intact. A
// record whose lines were all skipped or filtered is dropped (Output.Drop).
//
// # Environment variables
//
// All are optional. A transformer may set its own defaults with
// LoadDefaults (the access-log transformer's TIME_FIELD is "time", say).
// Field names below may be dotted paths ("user.id") into
// nested objects, whether a *record.Record or JSON text; a name that exists
// as a top-level field is always taken as that field, dots and all.
//
// PARSE_MESSAGE (read by shared/logformat, which holds the parsers) is
// json, accesslog, syslog or vpcflow (VPCFLOW_FIELDS: the flow log's
// custom format, "${version} ${srcaddr} ..."; unset is the default
// format). The top-level message field's string is parsed and its fields
// are added to the record, after the record's own; a parsed field whose
// name the record already has is added as <parser>_<name> (json_timestamp,
// syslog_message), so the record's own fields keep their values and a
// column its type. A record without a message is left as it is; one whose
// parser skips it (a flow log's header line) is skipped; a message that
// does not parse fails the record like a line that does not parse. Later
// stages see the parsed fields: DROP_IF="action=REJECT",
// MASK_FIELDS="srcaddr=truncate-ip", PARTITION_KEYS="action=field:action".
//
// ARRIVAL_TIME_FIELD names a top-level field to set to the record's
// approximate arrival time (replacing a field of that name, else added
// last; a Parser that leaves room for one more field saves a copy); empty
// disables it. ARRIVAL_TIME_FORMAT is "rfc3339" (default, UTC with
// milliseconds: "2024-03-05T06:07:08.009Z") or "epoch-ms" (an integer).
//
// MASK_FIELDS is a comma-separated list of field=action:
//
//	truncate-ip  keep the network part of an IP address: IPv4 to
//	             MASK_IPV4_PREFIX bits (default 24: 203.0.113.7 -> 203.0.113.0),
//	             IPv6 to MASK_IPV6_PREFIX bits (default 48). "ip:port" and
//	             "[ip]:port" keep the port; IPv4-mapped IPv6 is written as IPv4;
//	             "" and "-" (the logs' no-value marker) are kept; any other
//	             value is redacted, so a hostname never leaks.
//	hash         replace with the lower-case hex HMAC-SHA256 of the value's
//	             text keyed with HASH_SALT (required when any field is hashed),
//	             so values stay joinable without being readable; Athena computes
//	             the same with lower(to_hex(hmac_sha256(to_utf8(v), to_utf8(salt)))).
//	drop         remove the field.
//	redact       replace the value with the string "REDACTED".
//
// Absent and null fields are left alone.
//
// DROP_IF drops records matching any of its comma-separated alternatives; an
// alternative is one or more conditions joined with "&", all of which must
// hold. A condition is field=value (equals), field^=prefix (starts with) or
// field~=regexp (RE2, unanchored: use ^ and $). Values are compared as text:
// numbers as written in JSON, true/false, nested objects as compact JSON. An
// absent or null field matches no condition. Values cannot contain "," or
// "&"; in a regexp write \x2c and \x26 instead.
//
//	DROP_IF="method=HEAD,user_agent^=ELB-HealthChecker,status=200&uri~=^/health$"
//
// SCHEMA declares fields to check, comma-separated, each field:type[:constraint]...
// Types: string, int (64-bit integer), float (any number), bool, timestamp
// (an RFC 3339 string). Constraints: required (present and not null),
// lo..hi (inclusive range for int and float, either end may be left open:
// "0..", "..10"), max=N (at most N characters, for string). A null value
// passes unless required; fields not declared pass unchecked.
//
//	SCHEMA="status:int:100..599:required,bytes:int:0..,user_agent:string:max=512,time:timestamp"
//
// PARTITION_KEYS lists the keys returned in metadata.partitionKeys, each
// either key=source or a bare time part (meaning part=part). Sources: year
// (2024), month (03), day (05), hour (06), date (2024-03-05), all from the
// event time in UTC, or field:<name> for a field's value. Key names are
// letters, digits and underscores. Use them in the stream's S3 prefix as
// !{partitionKeyFromLambda:year}.
//
//	PARTITION_KEYS="year,month,day,status=field:status"
//
// The event time is the TIME_FIELD field: an RFC 3339 string, or an epoch
// number (or numeric string) in seconds, milliseconds, microseconds or
// nanoseconds told apart by magnitude (below 1e11 is seconds, below 1e14
// milliseconds, below 1e17 microseconds). When TIME_FIELD is unset, or the
// field is absent or null, the arrival time is used, so a record always has
// a partition; a value that is not a time fails the record.
//
// A transformer may add aliases for field sources: the CloudWatch Logs
// decompressor's log_group, log_stream and owner are field:logGroup,
// field:logStream and field:owner.
//
// Partition values are sanitised rather than rejected, because a bad value
// in one log line must not fail delivery: leading slashes are removed
// ("/aws/lambda/app" is "aws_lambda_app"), every other byte than ASCII
// letters, digits, "-", "_" and a non-leading "." becomes "_" (so a value
// can never add a "/" level to the S3 key), values are cut to 128 bytes, and
// an absent, null or empty value becomes __HIVE_DEFAULT_PARTITION__, the
// name Hive and Athena give the null partition. All lines of one Firehose
// record must map to the same partition keys, since Firehose takes one set
// per record; otherwise the record fails.
//
// FIELDS keeps the column names an existing table and its queries use: a
// comma-separated list of the fields to write, in order, each name,
// new=old (old may be a dotted path into a nested object: user_id=user.id)
// or * for every top-level field no item names (neither as its source nor
// as its new name), in the record's order. A field the record lacks is
// left out. It runs as the record is written, so every other variable
// (DROP_IF, MASK_FIELDS, SCHEMA, TIME_FIELD, PARTITION_KEYS, SPLUNK_*) names
// the parser's fields, and OUTPUT_COLUMNS the written ones; csv and tsv
// columns default to the names FIELDS writes, * standing for the
// transformer's default columns it does not name. ARRIVAL_TIME_FIELD is
// written only when FIELDS names it or has a *. Refused with lines and
// splunk, which write the text. A written name holds no dot.
//
//	FIELDS="requestip=c_ip,time_taken,useragent=cs_user_agent,*"
//
// OUTPUT_FORMAT is json (default; the CloudWatch Logs decompressor's is
// lines), csv, tsv, lines or splunk. JSON lines keep the record's field
// order. For csv and tsv, OUTPUT_COLUMNS (required there unless the
// transformer sets a default, refused for the other formats) lists the
// columns in order; there is no header row, since Firehose concatenates
// records into one object. Absent and null values are empty, nested values
// are compact JSON. CSV quotes a value containing a comma, quote, CR or LF
// as RFC 4180 says; TSV writes backslash, tab, LF and CR as \\, \t, \n
// and \r, the escapes PostgreSQL's COPY text format and MySQL's LOAD DATA
// read back.
//
// lines writes each record's text as it came and a newline, as AWS's
// CloudWatch Logs blueprint writes log events: filter, validate and
// partition on the parsed fields, keep the original text. splunk writes
// one Splunk HTTP Event Collector event per record:
// {"time":<event time in seconds, three decimals>,"host":..,"source":..,
// "sourcetype":..,"index":..,"event":<text>}. SPLUNK_HOST and
// SPLUNK_SOURCE are a literal or field:<name> (left out when empty or the
// field is absent), SPLUNK_SOURCETYPE and SPLUNK_INDEX literals (left out
// when empty); all four are refused with another format. Since lines and
// splunk write the text, not the fields, MASK_FIELDS and
// ARRIVAL_TIME_FIELD are refused with them: a mask would silently not
// apply.
//
// EMBED_JSON_MESSAGE=true (json and splunk only) also writes a JSON object
// as an object: in json, a message field holding an object's text is
// followed by messageJson, the object compacted; in splunk, a text that is
// an object is the event itself.
//
// Lines end in LF. Invalid UTF-8 is written as U+FFFD in every format.
//
// # Counting
//
// Stats counts lines skipped by the parser, filtered by DROP_IF and written;
// a handler reads them with TakeStats after each invocation and emits them
// as metrics. The firehose framework counts records; these count lines.
package pipeline
