// Package vpcflow parses Amazon VPC flow log records: one line of
// space-separated fields per flow, as VPC Flow Logs writes them to
// CloudWatch Logs (one log event each) and to S3 in plain text. The
// CloudWatch Logs decompressor uses it for PARSE_MESSAGE=vpcflow, and an S3
// log forwarder reads the same lines from objects, which is why it is
// shared.
//
// A record's fields are those of its flow log's format: the default format
// (the version 2 fields) unless the flow log was created with a custom one,
// which NewFormat reads in AWS's own notation:
//
//	${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport}
//	${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}
//
// Field names become column names with "_" for "-" (account_id,
// log_status, pkt_srcaddr). The fields AWS types as integers (version,
// srcport, dstport, protocol, packets, bytes, start, end, tcp-flags,
// traffic-path) are int64; the rest are strings; "-", which VPC Flow Logs
// writes for a value that does not apply or could not be computed, is null
// in every field. start and end stay Unix seconds, as AWS writes them.
package vpcflow

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lakestream/shared/excerpt"
	"lakestream/shared/record"
)

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("vpcflow: malformed record")

// DefaultFormat is the default flow log format: the version 2 fields in
// the order AWS writes them.
const DefaultFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} " +
	"${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"

type kind int

const (
	kindString kind = iota
	kindInt
)

// field is one field a flow log record can hold.
type field struct {
	name    string // as AWS names it: "log-status"
	column  string // as a record names it: "log_status"
	kind    kind
	version int // the flow log version that introduced it
}

// known lists every field of flow log versions 2 to 8 in the order of
// AWS's "Available fields" table, typed as AWS types them in Parquet
// output (INT_32 and INT_64 are int64 here).
var known = func() []field {
	defs := []struct {
		name    string
		kind    kind
		version int
	}{
		{"version", kindInt, 2}, {"account-id", kindString, 2}, {"interface-id", kindString, 2},
		{"srcaddr", kindString, 2}, {"dstaddr", kindString, 2}, {"srcport", kindInt, 2},
		{"dstport", kindInt, 2}, {"protocol", kindInt, 2}, {"packets", kindInt, 2},
		{"bytes", kindInt, 2}, {"start", kindInt, 2}, {"end", kindInt, 2},
		{"action", kindString, 2}, {"log-status", kindString, 2},
		{"vpc-id", kindString, 3}, {"subnet-id", kindString, 3}, {"instance-id", kindString, 3},
		{"tcp-flags", kindInt, 3}, {"type", kindString, 3}, {"pkt-srcaddr", kindString, 3},
		{"pkt-dstaddr", kindString, 3},
		{"region", kindString, 4}, {"az-id", kindString, 4}, {"sublocation-type", kindString, 4},
		{"sublocation-id", kindString, 4},
		{"pkt-src-aws-service", kindString, 5}, {"pkt-dst-aws-service", kindString, 5},
		{"flow-direction", kindString, 5}, {"traffic-path", kindInt, 5},
		{"ecs-cluster-arn", kindString, 7}, {"ecs-cluster-name", kindString, 7},
		{"ecs-container-instance-arn", kindString, 7}, {"ecs-container-instance-id", kindString, 7},
		{"ecs-container-id", kindString, 7}, {"ecs-second-container-id", kindString, 7},
		{"ecs-service-name", kindString, 7}, {"ecs-task-definition-arn", kindString, 7},
		{"ecs-task-arn", kindString, 7}, {"ecs-task-id", kindString, 7},
		{"reject-reason", kindString, 8},
	}
	out := make([]field, len(defs))
	for i, d := range defs {
		out[i] = field{name: d.name, column: strings.ReplaceAll(d.name, "-", "_"), kind: d.kind, version: d.version}
	}
	return out
}()

// Format is a flow log record format: which fields a record holds, in
// order. It is safe for concurrent use.
type Format struct {
	fields []*field
	// header is the field names joined by single spaces: the first line
	// of a plain-text flow log object in S3, which Parse skips.
	header string
}

// Default is the default flow log format.
var Default = mustFormat(DefaultFormat)

func mustFormat(spec string) *Format {
	f, err := NewFormat(spec)
	if err != nil {
		panic(err)
	}
	return f
}

// NewFormat reads a flow log format as the flow log's LogFormat gives it
// ("${version} ${srcaddr} ..."); the "${" and "}" are optional, and commas
// may separate the names as well as spaces. An empty spec is
// DefaultFormat. A field AWS does not document (versions 2 to 8), or one
// given twice, is an error naming it.
func NewFormat(spec string) (*Format, error) {
	if strings.TrimSpace(spec) == "" {
		spec = DefaultFormat
	}
	f := &Format{}
	names := make([]string, 0, 16)
	for item := range strings.FieldsFuncSeq(spec, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' }) {
		name := item
		if strings.HasPrefix(name, "${") && strings.HasSuffix(name, "}") {
			name = name[2 : len(name)-1]
		}
		def := lookup(name)
		if def == nil {
			return nil, fmt.Errorf("vpcflow: unknown field %q (want one of %s)", item, knownNames())
		}
		for _, g := range f.fields {
			if g == def {
				return nil, fmt.Errorf("vpcflow: field %q given twice", name)
			}
		}
		f.fields = append(f.fields, def)
		names = append(names, name)
	}
	f.header = strings.Join(names, " ")
	return f, nil
}

func lookup(name string) *field {
	for i := range known {
		if known[i].name == name {
			return &known[i]
		}
	}
	return nil
}

func knownNames() string {
	names := make([]string, len(known))
	for i, f := range known {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

// Columns returns the names of the fields a record holds, in order: for
// a fixed CSV or TSV column list.
func (f *Format) Columns() []string {
	out := make([]string, len(f.fields))
	for i, d := range f.fields {
		out[i] = d.column
	}
	return out
}

// String returns the format in AWS's notation.
func (f *Format) String() string {
	var b strings.Builder
	for i, d := range f.fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("${" + d.name + "}")
	}
	return b.String()
}

// Parse parses a record of the default format. It has the signature of a
// pipeline Parser.
func Parse(line []byte) (*record.Record, error) { return Default.Parse(line) }

// Parse parses one record (without its line terminator): one value per
// field of the format, separated by spaces. The header line of a
// plain-text flow log object (the field names) is skipped: (nil, nil).
// The record owns its strings; line may change afterwards.
func (f *Format) Parse(line []byte) (*record.Record, error) {
	line = bytes.TrimRight(line, " \t\r\n")
	// One copy of the line: every string value is a slice of it.
	s := string(line)
	if s == f.header {
		return nil, nil
	}
	r := record.New(len(f.fields))
	i, n := 0, 0
	for {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) {
			break
		}
		j := i
		for j < len(s) && s[j] != ' ' {
			j++
		}
		if n == len(f.fields) {
			return nil, f.countError(n + 1 + len(strings.Fields(s[j:])))
		}
		v, err := f.fields[n].value(s[i:j])
		if err != nil {
			return nil, err
		}
		r.Fields = append(r.Fields, record.Field{Name: f.fields[n].column, Value: v})
		n++
		i = j
	}
	if n != len(f.fields) {
		return nil, f.countError(n)
	}
	return r, nil
}

// countError reports a record with the wrong number of values: most often
// a flow log whose custom format is not the one configured.
func (f *Format) countError(got int) error {
	return fmt.Errorf("%w: %d values, want %d (%s): is the flow log's format the one configured?",
		ErrMalformed, got, len(f.fields), f.header)
}

// value converts one value: "-" is null, integers must be integers.
func (d *field) value(s string) (any, error) {
	if s == "-" {
		return nil, nil
	}
	if d.kind == kindString {
		return s, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s is not an integer", ErrMalformed, d.name, excerpt.Quote(s))
	}
	return n, nil
}
