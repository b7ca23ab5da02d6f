package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Partition-key sources (PARTITION_KEYS). The time parts are the log
// event's timestamp in UTC.
const (
	SourceLogGroup  = "log_group"
	SourceLogStream = "log_stream"
	SourceOwner     = "owner"
	SourceYear      = "year"
	SourceMonth     = "month"
	SourceDay       = "day"
	SourceHour      = "hour"
	SourceDate      = "date"
)

var partitionSources = []string{SourceLogGroup, SourceLogStream, SourceOwner, SourceYear, SourceMonth, SourceDay, SourceHour, SourceDate}

// hiveDefaultPartition is the value of an empty key: the name Hive and
// Athena give the null partition.
const hiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__"

// maxPartitionValue caps a value in bytes; S3 keys are at most 1,024.
const maxPartitionValue = 128

// PartitionKey is one PARTITION_KEYS item: metadata.partitionKeys[Name]
// is taken from Source.
type PartitionKey struct {
	Name   string
	Source string
}

// parsePartitionKeys parses "name=source,..." where a bare source is its
// own name ("log_group,year,month,day,hour").
func parsePartitionKeys(spec string) ([]PartitionKey, error) {
	var keys []PartitionKey
	for item := range strings.SplitSeq(spec, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, source, ok := strings.Cut(item, "=")
		name, source = strings.TrimSpace(name), strings.TrimSpace(source)
		if !ok {
			source = name
		}
		switch {
		case !validKeyName(name):
			return nil, fmt.Errorf("key %q: want letters, digits and _", name)
		case !slices.Contains(partitionSources, source):
			return nil, fmt.Errorf("key %q: source %q is not one of %s", name, source, strings.Join(partitionSources, ", "))
		case slices.ContainsFunc(keys, func(k PartitionKey) bool { return k.Name == name }):
			return nil, fmt.Errorf("key %q given twice", name)
		}
		keys = append(keys, PartitionKey{Name: name, Source: source})
	}
	return keys, nil
}

func validKeyName(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

// partitioner derives metadata.partitionKeys for a payload's log events.
// It holds no per-call state, so one serves concurrent invocations.
type partitioner struct {
	keys   []PartitionKey
	byTime bool // some key comes from the event time
}

func newPartitioner(keys []PartitionKey) *partitioner {
	p := &partitioner{keys: keys}
	for _, k := range keys {
		switch k.Source {
		case SourceLogGroup, SourceLogStream, SourceOwner:
		default:
			p.byTime = true
		}
	}
	return p
}

// hourMillis is an hour in milliseconds: every time source is a function
// of the UTC hour an event falls in.
const hourMillis = int64(time.Hour / time.Millisecond)

// groups splits evs into runs that share their partition values, in the
// order each value first appears; nil when all share one (the usual case,
// found without building any value). Firehose takes one set of keys per
// record, so a payload that straddles, say, an hour boundary must become
// one record per hour rather than land some events in the wrong hour.
func (p *partitioner) groups(evs []events.CloudwatchLogsLogEvent) [][]events.CloudwatchLogsLogEvent {
	if !p.byTime || len(evs) < 2 {
		return nil
	}
	first := floorDiv(evs[0].Timestamp, hourMillis)
	if !slices.ContainsFunc(evs[1:], func(ev events.CloudwatchLogsLogEvent) bool {
		return floorDiv(ev.Timestamp, hourMillis) != first
	}) {
		return nil
	}
	var (
		values  []string
		groups  [][]events.CloudwatchLogsLogEvent
		scratch []byte
	)
	for _, ev := range evs {
		scratch = p.appendTimeValues(scratch[:0], ev.Timestamp)
		v := string(scratch)
		i := slices.Index(values, v)
		if i < 0 {
			values = append(values, v)
			groups = append(groups, nil)
			i = len(groups) - 1
		}
		groups[i] = append(groups[i], ev)
	}
	if len(groups) < 2 {
		return nil // different hours, same values (keys by day, say)
	}
	return groups
}

// appendTimeValues appends the values of the time keys, each ended by 0.
func (p *partitioner) appendTimeValues(dst []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	for _, k := range p.keys {
		dst = appendTimePart(dst, k.Source, t)
		dst = append(dst, 0)
	}
	return dst
}

// keysFor returns the partition keys of a payload whose events all share them
// (see groups); nil when PARTITION_KEYS is unset.
func (p *partitioner) keysFor(d *events.CloudwatchLogsData) map[string]string {
	if len(p.keys) == 0 {
		return nil
	}
	m := make(map[string]string, len(p.keys))
	var (
		t       time.Time
		scratch []byte
	)
	if len(d.LogEvents) > 0 {
		t = time.UnixMilli(d.LogEvents[0].Timestamp).UTC()
	}
	for _, k := range p.keys {
		switch k.Source {
		case SourceLogGroup:
			scratch = appendPartitionValue(scratch[:0], d.LogGroup)
		case SourceLogStream:
			scratch = appendPartitionValue(scratch[:0], d.LogStream)
		case SourceOwner:
			scratch = appendPartitionValue(scratch[:0], d.Owner)
		default:
			scratch = appendTimePart(scratch[:0], k.Source, t)
		}
		m[k.Name] = string(scratch)
	}
	return m
}

func appendTimePart(dst []byte, source string, t time.Time) []byte {
	switch source {
	case SourceYear:
		return appendPadded(dst, t.Year(), 4)
	case SourceMonth:
		return appendPadded(dst, int(t.Month()), 2)
	case SourceDay:
		return appendPadded(dst, t.Day(), 2)
	case SourceHour:
		return appendPadded(dst, t.Hour(), 2)
	case SourceDate:
		dst = append(appendPadded(dst, t.Year(), 4), '-')
		dst = append(appendPadded(dst, int(t.Month()), 2), '-')
		return appendPadded(dst, t.Day(), 2)
	}
	return dst
}

// appendPartitionValue appends s made safe for an S3 key and a Hive
// partition directory: leading slashes removed ("/aws/lambda/app" is
// "aws_lambda_app"), every byte other than ASCII letters, digits, "-", "_"
// and a non-leading "." replaced by "_" (so a value never adds a "/" level),
// cut to 128 bytes; empty is __HIVE_DEFAULT_PARTITION__.
func appendPartitionValue(dst []byte, s string) []byte {
	s = strings.TrimLeft(s, "/")
	if s == "" {
		return append(dst, hiveDefaultPartition...)
	}
	for i, c := range []byte(s[:min(len(s), maxPartitionValue)]) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0) {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

func appendPadded(dst []byte, n, width int) []byte {
	if n < 0 {
		dst, n = append(dst, '-'), -n
	}
	var buf [20]byte
	digits := strconv.AppendInt(buf[:0], int64(n), 10)
	for range width - len(digits) {
		dst = append(dst, '0')
	}
	return append(dst, digits...)
}

// floorDiv is a/b rounded towards minus infinity (b > 0), so that events
// just before 1970 fall in the hour before, not the hour after.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
