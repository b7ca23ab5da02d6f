package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"lakestream/shared/civil"
	"lakestream/shared/excerpt"
	"lakestream/shared/record"
)

// HiveDefaultPartition is the partition value for an absent, null or empty
// field: the name Hive, Spark and Athena use for the null partition.
const HiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__"

// maxPartitionValue caps a partition value in bytes: S3 keys are limited to
// 1,024 bytes, and a partition per distinct long value (a user agent, say)
// is never what an operator wants.
const maxPartitionValue = 128

type timePart int

const (
	partField timePart = iota // from a field, not the time
	partYear
	partMonth
	partDay
	partHour
	partDate
)

var timeParts = map[string]timePart{
	"year": partYear, "month": partMonth, "day": partDay, "hour": partHour, "date": partDate,
}

// partitionKey is one PARTITION_KEYS item.
type partitionKey struct {
	name  string
	part  timePart
	field fieldPath // when part is partField
}

// parsePartitionKeys parses PARTITION_KEYS: key=source or a bare time
// part or alias. An alias (Options.PartitionAliases) stands for the source
// it names.
func parsePartitionKeys(spec string, aliases map[string]string) ([]partitionKey, error) {
	var keys []partitionKey
	seen := map[string]bool{}
	for item := range specItems(spec, ",") {
		name, source, ok := strings.Cut(item, "=")
		name, source = strings.TrimSpace(name), strings.TrimSpace(source)
		if !ok {
			source = name
		}
		if !validKeyName(name) {
			return nil, itemError(item, fmt.Errorf("key %q: want letters, digits and _", name))
		}
		if seen[name] {
			return nil, itemError(item, fmt.Errorf("key %q given twice", name))
		}
		seen[name] = true
		k := partitionKey{name: name}
		if target, isAlias := aliases[source]; isAlias {
			source = target
		}
		if field, isField := strings.CutPrefix(source, "field:"); isField {
			p, err := newFieldPath(strings.TrimSpace(field))
			if err != nil {
				return nil, itemError(item, err)
			}
			k.field = p
		} else if k.part, ok = timeParts[source]; !ok {
			return nil, itemError(item, fmt.Errorf("unknown source %q", source))
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// aliasesText lists the aliases for PARTITION_KEYS' error message.
func aliasesText(aliases map[string]string) string {
	if len(aliases) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("; aliases:")
	for i, a := range slices.Sorted(maps.Keys(aliases)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(" " + a + " (" + aliases[a] + ")")
	}
	return b.String()
}

func validKeyName(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

// appendPartition appends the record's partition values, each followed by
// a 0 byte (which sanitising keeps out of values), so the values of two
// lines compare as one byte string without building a map per line.
func (s *stages) appendPartition(dst []byte, r *record.Record, arrival time.Time, scratch *[]byte, times *timeMemo) ([]byte, error) {
	return s.appendPartitionIn(dst, &lookup{rec: r}, arrival, scratch, times)
}

// appendPartitionIn is appendPartition on the record l looks up.
func (s *stages) appendPartitionIn(dst []byte, l *lookup, arrival time.Time, scratch *[]byte, times *timeMemo) ([]byte, error) {
	if s.hourKeysOnly && times != nil {
		// The usual year,month,day,hour: the values of the hour before,
		// nearly always the line's own, are written once per hour.
		t, err := s.eventTimeIn(l, arrival, times)
		if err != nil {
			return dst, err
		}
		return append(dst, times.hourPartition(s, t)...), nil
	}
	var c dateHour
	haveTime := false
	for j := range s.partition {
		k := &s.partition[j]
		if k.part == partField {
			var err error
			if *scratch, err = appendText((*scratch)[:0], l.get(&k.field)); err != nil {
				return dst, &FieldError{Field: k.field.name, Err: err}
			}
			dst = append(appendPartitionValue(dst, *scratch), 0)
			continue
		}
		if !haveTime {
			t, err := s.eventTimeIn(l, arrival, times)
			if err != nil {
				return dst, err
			}
			c, haveTime = times.dateHour(t), true
		}
		dst = append(appendTimePart(dst, k.part, c), 0)
	}
	return dst, nil
}

// appendHourKeys appends the partition values of a line of hour c when
// every key is a time part (hourKeysOnly), as appendPartition does.
func (s *stages) appendHourKeys(dst []byte, c dateHour) []byte {
	for j := range s.partition {
		dst = append(appendTimePart(dst, s.partition[j].part, c), 0)
	}
	return dst
}

// dateHour is the calendar date and hour of a time in UTC, worked out once
// for all of a line's time parts.
type dateHour struct {
	year, month, day, hour int
}

func dateHourOf(t time.Time) dateHour {
	days, secOfDay := civil.SplitSeconds(t.Unix())
	year, month, day := civil.Date(days)
	return dateHour{year: year, month: month, day: day, hour: secOfDay / 3600}
}

// appendTimePart appends one time part of c.
func appendTimePart(dst []byte, part timePart, c dateHour) []byte {
	switch part {
	case partYear:
		return appendPadded(dst, c.year, 4)
	case partMonth:
		return appendPadded(dst, c.month, 2)
	case partDay:
		return appendPadded(dst, c.day, 2)
	case partHour:
		return appendPadded(dst, c.hour, 2)
	case partDate:
		dst = append(appendPadded(dst, c.year, 4), '-')
		dst = append(appendPadded(dst, c.month, 2), '-')
		return appendPadded(dst, c.day, 2)
	}
	return dst
}

// partitionMap turns appendPartition's values into metadata.partitionKeys.
func (s *stages) partitionMap(values []byte) map[string]string {
	m := make(map[string]string, len(s.partition))
	for _, k := range s.partition {
		var v []byte
		v, values, _ = bytes.Cut(values, []byte{0})
		m[k.name] = string(v)
	}
	return m
}

// describePartition renders values as key=value/key=value for errors.
func (s *stages) describePartition(values []byte) string {
	var b strings.Builder
	for i, k := range s.partition {
		var v []byte
		v, values, _ = bytes.Cut(values, []byte{0})
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(k.name + "=" + string(v))
	}
	return b.String()
}

// appendPartitionValue appends text made safe for an S3 key and a Hive
// partition directory (see the package doc). Leading slashes go first, so
// that a path-like value such as a log group ("/aws/lambda/app") reads
// "aws_lambda_app", not "_aws_lambda_app".
func appendPartitionValue(dst, text []byte) []byte {
	text = bytes.TrimLeft(text, "/")
	if len(text) == 0 {
		return append(dst, HiveDefaultPartition...)
	}
	for i, c := range text[:min(len(text), maxPartitionValue)] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0) {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

func appendPadded(dst []byte, n, width int) []byte {
	if 0 <= n && (width == 2 && n < 100 || width == 4 && n < 10000) {
		return appendDigits(dst, n, width) // every partition of years 0 to 9999
	}
	var buf [20]byte
	digits := strconv.AppendInt(buf[:0], int64(n), 10)
	for range width - len(digits) {
		dst = append(dst, '0')
	}
	return append(dst, digits...)
}

// eventTime is the TIME_FIELD value in UTC, or the arrival time when there
// is none. times, if not nil, remembers the timestamp parsed last.
func (s *stages) eventTime(r *record.Record, arrival time.Time, times *timeMemo) (time.Time, error) {
	return s.eventTimeIn(&lookup{rec: r}, arrival, times)
}

// eventTimeIn is eventTime on the record l looks up.
func (s *stages) eventTimeIn(l *lookup, arrival time.Time, times *timeMemo) (time.Time, error) {
	if s.timeField == nil {
		return arrival.UTC(), nil
	}
	v, ok := l.placed(s.timeField)
	if !ok {
		v = l.find(s.timeField)
	}
	if v == nil {
		return arrival.UTC(), nil
	}
	t, err := parseTime(v, times)
	if err != nil {
		return time.Time{}, &FieldError{Field: s.timeField.name, Err: err}
	}
	return s.checkYear(t)
}

// The first and the last second of the years 0001 to 9999.
const (
	minEventSec = -62135596800 // 0001-01-01T00:00:00Z
	maxEventSec = 253402300799 // 9999-12-31T23:59:59Z
)

// checkYear keeps event times within the years a partition value and an
// RFC 3339 timestamp can write. (It compares seconds: t.Year() works the
// date out, which appendPartition does once more.)
func (s *stages) checkYear(t time.Time) (time.Time, error) {
	if sec := t.Unix(); sec < minEventSec || sec > maxEventSec {
		return time.Time{}, &FieldError{Field: s.timeField.name, Err: fmt.Errorf("year %d is outside 0001 to 9999", t.Year())}
	}
	return t, nil
}

// parseTime reads an event time: an RFC 3339 string, or an epoch number
// (or numeric string) whose unit is told by its magnitude.
func parseTime(v any, times *timeMemo) (time.Time, error) {
	switch v := v.(type) {
	case string:
		if t, err := times.parse(v); err == nil {
			return t.UTC(), nil
		}
		if t, ok := parseEpoch(v); ok {
			return t, nil
		}
		return time.Time{}, fmt.Errorf("%s is not an RFC 3339 timestamp or an epoch number", excerpt.Quote(v))
	case int64:
		return epochInt(v), nil
	case float64:
		return epochFloat(v)
	case json.RawMessage:
		if t, ok := parseEpoch(string(v)); ok {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("got %s, want a timestamp", describe(v))
}

// parseEpoch parses a decimal epoch number; the integer path keeps
// nanosecond values exact, which float64 would not.
func parseEpoch(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return epochInt(n), true
	}
	if s == "" || s[0] != '-' && (s[0] < '0' || s[0] > '9') {
		return time.Time{}, false // keeps out "NaN", "Inf" and "+1"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, false
	}
	t, err := epochFloat(f)
	return t, err == nil
}

// Epoch magnitudes: below 1e11 is seconds (up to the year 5138), below
// 1e14 milliseconds, below 1e17 microseconds, else nanoseconds.
const (
	epochMillisFrom = 1e11
	epochMicrosFrom = 1e14
	epochNanosFrom  = 1e17
)

func epochInt(n int64) time.Time {
	a := n
	if a < 0 {
		a = -(a + 1) // no overflow at math.MinInt64; off by one is immaterial here
	}
	switch {
	case a < epochMillisFrom:
		return time.Unix(n, 0).UTC()
	case a < epochMicrosFrom:
		return time.UnixMilli(n).UTC()
	case a < epochNanosFrom:
		return time.UnixMicro(n).UTC()
	default:
		return time.Unix(0, n).UTC()
	}
}

func epochFloat(f float64) (time.Time, error) {
	a := math.Abs(f)
	var seconds float64
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return time.Time{}, fmt.Errorf("%v is not a time", f)
	case a < epochMillisFrom:
		seconds = f
	case a < epochMicrosFrom:
		seconds = f / 1e3
	case a < epochNanosFrom:
		seconds = f / 1e6
	case a < 1e21: // beyond that, more than int64 nanoseconds can hold
		seconds = f / 1e9
	default:
		return time.Time{}, errors.New("epoch number out of range")
	}
	whole := math.Floor(seconds)
	return time.Unix(int64(whole), int64((seconds-whole)*1e9)).UTC(), nil
}
