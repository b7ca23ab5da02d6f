package main

import (
	"regexp"

	"lakestream/shared/config"
	"lakestream/shared/firehose"
)

// Output formats (OUTPUT_FORMAT).
const (
	// FormatLines writes each log event's message and a newline, as the AWS
	// blueprint does.
	FormatLines = "lines"
	// FormatJSON writes one JSON object per log event with its log group,
	// stream, owner, id and timestamp.
	FormatJSON = "json"
	// FormatSplunk writes one Splunk HTTP Event Collector event per log event.
	FormatSplunk = "splunk"
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

// Config is the function's settings, read once at start-up.
type Config struct {
	// Format is FormatLines, FormatJSON or FormatSplunk.
	Format string
	// EmbedJSON also writes a message that is a JSON object as an object
	// (json: messageJson beside message; splunk: as the event).
	EmbedJSON bool
	// Sourcetype, Host and Index are the Splunk event fields; an empty Host
	// means the log stream, an empty Index leaves the token's default.
	Sourcetype, Host, Index string
	// Include keeps only messages it matches; Exclude then drops messages
	// it matches. Either may be nil.
	Include, Exclude *regexp.Regexp
	// Partition lists the dynamic-partitioning keys, in order.
	Partition []PartitionKey
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

// loadConfig reads the settings from env; problems are recorded in env,
// each naming its variable.
func loadConfig(env *config.Env) Config {
	c := Config{
		Format:            env.OneOf("OUTPUT_FORMAT", FormatLines, FormatLines, FormatJSON, FormatSplunk),
		EmbedJSON:         env.Bool("EMBED_JSON_MESSAGE", false),
		Include:           regexpVar(env, "INCLUDE_PATTERN"),
		Exclude:           regexpVar(env, "EXCLUDE_PATTERN"),
		MaxDecompressed:   env.Bytes("MAX_DECOMPRESSED_BYTES", DefaultMaxDecompressed),
		Budget:            firehose.DefaultBudget,
		DestinationStream: env.String("DESTINATION_STREAM", ""),
	}
	if c.EmbedJSON && c.Format == FormatLines {
		env.Fail("EMBED_JSON_MESSAGE", "true", "false when OUTPUT_FORMAT is lines (a line is the message as it is)")
	}
	for _, name := range []string{"SPLUNK_SOURCETYPE", "SPLUNK_HOST", "SPLUNK_INDEX"} {
		if c.Format != FormatSplunk && env.Has(name) {
			env.Fail(name, env.String(name, ""), "unset unless OUTPUT_FORMAT is splunk")
		}
	}
	if c.Format == FormatSplunk {
		c.Sourcetype = env.String("SPLUNK_SOURCETYPE", DefaultSourcetype)
		c.Host = env.String("SPLUNK_HOST", "")
		c.Index = env.String("SPLUNK_INDEX", "")
	}
	spec := env.String("PARTITION_KEYS", "")
	keys, err := parsePartitionKeys(spec)
	if err != nil {
		env.Fail("PARTITION_KEYS", spec, err.Error())
	}
	c.Partition = keys
	return c
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
