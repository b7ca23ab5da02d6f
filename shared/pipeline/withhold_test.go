package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/excerpt"
	"lakestream/shared/firehose"
	"lakestream/shared/record"
)

// secret is a masked field's value, which no failure reason may carry.
const secret = "token=hunter2"

var errBadLine = errors.New("malformed line")

// parseQuoting is a Parser that fails as the log parsers do, quoting the
// value it could not read ("request "..." is not in double quotes").
func parseQuoting(line []byte) (*record.Record, error) {
	if strings.HasPrefix(string(line), "bad ") {
		return nil, fmt.Errorf("%w: request %s is not in double quotes", errBadLine, excerpt.Quote(strings.TrimPrefix(string(line), "bad ")))
	}
	return parseKV(line)
}

// TestMaskedValuesWithheld: issue 12's leak. The reason a record failed,
// which the framework logs as "record failed", never quotes the value of a
// field MASK_FIELDS masks: not when the line's or the message's parser
// fails (before the masks run, any quoted value may be one), not when a
// stage fails on the masked field. Other fields' values stay in the
// message, and nothing is withheld without MASK_FIELDS.
func TestMaskedValuesWithheld(t *testing.T) {
	messageParser := func(line []byte, _ time.Time) (*record.Record, error) {
		return nil, fmt.Errorf("%w: srcport %s is not an integer", errBadLine, excerpt.Quote(string(line)))
	}
	tests := map[string]struct {
		parse    Parser
		opts     Options
		line     string
		withheld bool   // the message has Withheld and not the secret
		keeps    string // a value the message still quotes
	}{
		"line parser, masked request": {
			parse: parseQuoting, opts: Options{MaskFields: "request=redact"},
			line: "bad " + secret, withheld: true,
		},
		"line parser, long value cut": {
			parse: parseQuoting, opts: Options{MaskFields: "request=redact"},
			line: "bad " + secret + strings.Repeat("x", 100), withheld: true,
		},
		"line parser, no masks": {
			parse: parseQuoting, line: "bad " + secret, keeps: `"` + secret + `"`,
		},
		"message parser, masked field": {
			parse: ParseJSON, opts: Options{MaskFields: "srcport=redact", ParseMessage: messageParser},
			line: `{"message":"` + secret + `"}`, withheld: true,
		},
		"event time of a masked field": {
			parse: parseKV, opts: Options{MaskFields: "ts=redact", TimeField: "ts", PartitionKeys: "year"},
			line: "ts=" + secret, withheld: true,
		},
		"schema of a field inside a masked object": {
			parse: ParseJSON, opts: Options{MaskFields: "user=truncate-ip", Schema: "user:timestamp"},
			line: `{"user":"` + secret + `"}`, withheld: true,
		},
		"schema of another field": {
			parse: parseKV, opts: Options{MaskFields: "user=redact", Schema: "ts:timestamp"},
			line: "user=" + secret + " ts=yesterday", keeps: `"yesterday"`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			opts := tc.opts
			parse := ParserAt(func(line []byte, _ time.Time) (*record.Record, error) { return tc.parse(line) })
			p, err := NewAt(parse, opts)
			require.NoError(t, err)
			_, err = p.Transform(context.Background(), firehose.Record{Data: []byte(tc.line), ArrivalTime: time.Now()})
			require.Error(t, err)
			msg := err.Error()
			if tc.withheld {
				assert.NotContains(t, msg, "hunter2")
				assert.NotContains(t, msg, "REDACTED", "not even the masked value")
				assert.Contains(t, msg, Withheld)
			}
			if tc.keeps != "" {
				assert.Contains(t, msg, tc.keeps)
				assert.NotContains(t, msg, Withheld)
			}
			var le *LineError
			assert.ErrorAs(t, err, &le, "the error chain is kept")
		})
	}
}

func TestWithheldKeepsChain(t *testing.T) {
	s := mustStages(t, Options{MaskFields: "request=redact"})
	err := s.withhold(fmt.Errorf("%w: %s", errBadLine, excerpt.Quote(secret)), true)
	assert.ErrorIs(t, err, errBadLine)
	assert.Equal(t, "malformed line: "+Withheld, err.Error())
}

func TestWithholdQuoted(t *testing.T) {
	tests := map[string]string{
		`no quotes`:                                               `no quotes`,
		`time "31/Dec/2024" is not dd/Mon/yyyy`:                   `time ` + Withheld + ` is not dd/Mon/yyyy`,
		`a "x\"y" and "z"` + excerpt.Ellipsis + ` end`:            `a ` + Withheld + ` and ` + Withheld + ` end`,
		excerpt.Ellipsis + `"middle"` + excerpt.Ellipsis + ` cut`: Withheld + ` cut`,
		`unpaired " quote`:                                        `unpaired " quote`,
		`field "é" ok`:                                            `field ` + Withheld + ` ok`,
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			assert.Equal(t, want, withholdQuoted(in))
		})
	}
}
