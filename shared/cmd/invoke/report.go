package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"lakestream/shared/lambdarun"
)

// report prints an outcome as `sam local invoke` does, and more: the
// response (or error) on stdout, then on stderr the function's log lines,
// the X-Ray segment tree of its AWS calls and what it changed. It returns
// the exit code: 1 when the function failed.
func report(o *outcome, decode bool, stdout, stderr io.Writer) int {
	for _, c := range o.created {
		fmt.Fprintf(stderr, "invoke: set up %s\n", c)
	}
	code := 0
	var fe *lambdarun.FunctionError
	if errors.As(o.err, &fe) {
		b, _ := json.MarshalIndent(fe, "", "  ")
		fmt.Fprintln(stdout, string(b))
		code = 1
	} else {
		payload := o.result.Payload
		if decode {
			if d, ok := decodeFirehose(payload); ok {
				payload = d
				fmt.Fprintln(stderr, "invoke: records' data shown decoded, one entry per line (DECODE=0 for the response as Firehose receives it)")
			}
		}
		fmt.Fprintln(stdout, indent(payload))
	}
	fmt.Fprintln(stderr, "\n-- function log --")
	stderr.Write(o.logs) //nolint:errcheck // a report to a terminal.
	if len(o.logs) > 0 && o.logs[len(o.logs)-1] != '\n' {
		fmt.Fprintln(stderr)
	}
	printTrace(stderr, o.result)
	if o.emulated {
		if len(o.changes) == 0 {
			fmt.Fprintln(stderr, "\n-- nothing changed in the emulator --")
		} else {
			fmt.Fprintln(stderr, "\n-- changed in the emulator --")
			for _, c := range o.changes {
				fmt.Fprintln(stderr, "  "+c.Detail)
			}
		}
	}
	return code
}

// indent shows a JSON payload indented, anything else as it is.
func indent(payload []byte) string {
	var b bytes.Buffer
	if json.Indent(&b, payload, "", "  ") != nil {
		return string(payload)
	}
	return b.String()
}

// firehoseRecord is a Firehose transformation response record in the
// wire's field order.
type firehoseRecord struct {
	RecordID string          `json:"recordId"`
	Result   string          `json:"result"`
	Data     json.RawMessage `json:"data"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// decodeFirehose replaces each record's base64 data in a Firehose
// transformation response by what it encodes, as a list of its lines, each
// a JSON value when it is one and a string otherwise (CSV, log lines). ok
// is false for any other response.
func decodeFirehose(payload []byte) ([]byte, bool) {
	var resp struct {
		Records []firehoseRecord `json:"records"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if dec.Decode(&resp) != nil || resp.Records == nil {
		return nil, false
	}
	for i, r := range resp.Records {
		var encoded string
		if len(r.Data) == 0 || json.Unmarshal(r.Data, &encoded) != nil {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil || len(raw) == 0 || !utf8.Valid(raw) {
			continue // shown as it came
		}
		lines := []json.RawMessage{}
		for line := range bytes.Lines(raw) {
			line = bytes.TrimSuffix(line, []byte("\n"))
			if !json.Valid(line) || len(bytes.TrimSpace(line)) == 0 {
				line, _ = json.Marshal(string(line))
			}
			lines = append(lines, line)
		}
		resp.Records[i].Data, _ = json.Marshal(lines)
	}
	out, err := json.Marshal(resp)
	return out, err == nil
}

// printTrace prints the invocation's X-Ray segment tree: the invocation,
// then each traced call with its duration and, when it failed, why.
func printTrace(w io.Writer, r *lambdarun.Result) {
	if r == nil {
		return
	}
	calls := "no AWS calls"
	if n := len(r.Subsegments); n > 0 {
		calls = fmt.Sprintf("%d AWS call%s", n, map[bool]string{true: "s"}[n > 1])
	}
	fmt.Fprintf(w, "\n-- X-Ray trace %s: invocation %s, %s --\n", r.TraceID, r.RequestID, calls)
	for _, s := range r.Subsegments {
		printSegment(w, s, 1)
	}
}

func printSegment(w io.Writer, s lambdarun.Segment, depth int) {
	name := s.Name
	if op := s.Operation(); op != "" {
		name += " " + op
	}
	line := fmt.Sprintf("%s%-40s %8.1f ms", strings.Repeat("  ", depth), name, float64(s.Duration().Microseconds())/1000)
	if s.HTTP.Response.Status != 0 {
		line += fmt.Sprintf("  HTTP %d", s.HTTP.Response.Status)
	}
	if f := s.Failure(); f != "" {
		line += "  error: " + f
	}
	fmt.Fprintln(w, line)
	for _, sub := range s.Subsegments {
		printSegment(w, sub, depth+1)
	}
}
