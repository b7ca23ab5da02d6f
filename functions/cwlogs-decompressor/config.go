package main

import (
	"regexp"
	"slices"
	"strings"

	"lakestream/shared/config"
	"lakestream/shared/firehose"
	"lakestream/shared/logformat"
	"lakestream/shared/pipeline"
)

// DefaultMaxDecompressed caps one record's decompressed payload. A record
// is at most 1,000 KiB of gzip and CloudWatch Logs batches at most about
// 1 MiB of log events, so real payloads stay far below it; a record near
// the cap is decoded and rendered one at a time, which keeps a full 6 MB
// batch within a 128 MB function (see the memory test).
const DefaultMaxDecompressed = 8 << 20

// DefaultSourcetype is the Splunk sourcetype the Splunk Add-on for AWS
// gives CloudWatch Logs events.
const DefaultSourcetype = "aws:cloudwatchlogs"

// The fields every log event of a payload shares, first in its record:
// with the event's id, timestamp and message, the fields of the json
// output.
var sharedFields = []string{"logGroup", "logStream", "owner"}

// partitionAliases keep the PARTITION_KEYS sources of the function's
// first releases working: each names a field of the record.
var partitionAliases = map[string]string{
	"log_group":  "field:logGroup",
	"log_stream": "field:logStream",
	"owner":      "field:owner",
}

// Config is the function's settings, read once at start-up.
type Config struct {
	// Pipeline is the shared pipeline's settings, with this function's
	// defaults: lines out, the event's timestamp as the event time, Splunk
	// events from the log stream and group.
	Pipeline pipeline.Options
	// Include keeps only messages it matches; Exclude then drops messages
	// it matches. Either may be nil. They run before the pipeline.
	Include, Exclude *regexp.Regexp
	// MaxDecompressed caps one payload's decompressed size in bytes.
	MaxDecompressed int64
	// Budget is the response budget the firehose handler enforces; a
	// record whose output alone exceeds it is split.
	Budget int
	// DestinationStream is the Firehose delivery stream that direct
	// CloudWatch Logs subscription invocations write to; empty turns the
	// direct path off.
	DestinationStream string
}

// defaults are the pipeline settings the function implies for variables
// left unset, with PARSE_MESSAGE's parser.
func defaults(parse logformat.Parser) pipeline.Options {
	own := slices.Concat(sharedFields, []string{pipeline.FieldID, pipeline.FieldTimestamp, pipeline.FieldMessage})
	columns := own
	for _, c := range parse.Columns {
		if slices.Contains(own, c) {
			c = pipeline.ParsedPrefix(parse.Name) + c // as the pipeline names it
		}
		columns = append(columns, c)
	}
	return pipeline.Options{
		OutputFormat:     pipeline.FormatLines,
		OutputColumns:    strings.Join(columns, ","),
		TimeField:        pipeline.FieldTimestamp,
		SplunkSourcetype: DefaultSourcetype,
		SplunkHost:       "field:logStream",
		SplunkSource:     "field:logGroup",
		ParseMessage:     parse.Parse,
		ParseMessageName: parse.Name,
		PartitionAliases: partitionAliases,
	}
}

// loadConfig reads the settings from env; problems are recorded in env,
// each naming its variable.
func loadConfig(env *config.Env) Config {
	return Config{
		Pipeline:          pipeline.LoadDefaults(env, defaults(logformat.Load(env))),
		Include:           regexpVar(env, "INCLUDE_PATTERN"),
		Exclude:           regexpVar(env, "EXCLUDE_PATTERN"),
		MaxDecompressed:   env.Bytes("MAX_DECOMPRESSED_BYTES", DefaultMaxDecompressed),
		Budget:            firehose.DefaultBudget,
		DestinationStream: env.String("DESTINATION_STREAM", ""),
	}
}

// regexpVar reads an RE2 regular expression; unset is nil.
func regexpVar(env *config.Env, name string) *regexp.Regexp {
	spec := env.String(name, "")
	if spec == "" {
		return nil
	}
	re, err := regexp.Compile(spec)
	if err != nil {
		env.Fail(name, spec, "an RE2 regular expression ("+err.Error()+")")
		return nil
	}
	return re
}
