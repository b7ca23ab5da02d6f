package replay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrorRecord is one line of an object Firehose wrote to its error output
// prefix: a record it could not deliver, and why. For a failed data
// transformation (processing-failed/) the Firehose developer guide gives
// attemptsMade, arrivalTimestamp, errorCode, errorMessage,
// attemptEndingTimestamp, rawData and lambdaArn, the numbers as strings;
// other failures write numbers and spell the error lastErrorCode or
// ErrorCode. Every spelling is read.
type ErrorRecord struct {
	AttemptsMade           Number `json:"attemptsMade"`
	ArrivalTimestamp       Number `json:"arrivalTimestamp"`
	ErrorCode              string `json:"errorCode"`
	ErrorMessage           string `json:"errorMessage"`
	AttemptEndingTimestamp Number `json:"attemptEndingTimestamp"`
	// RawData is the record as it came into the delivery stream
	// (base64 on the wire).
	RawData   []byte `json:"rawData"`
	LambdaARN string `json:"lambdaArn,omitempty"`
}

// UnmarshalJSON reads the record, taking the error code and message from
// whichever field holds them (encoding/json matches ErrorCode to
// errorCode), and fails a line without rawData.
func (r *ErrorRecord) UnmarshalJSON(b []byte) error {
	type plain ErrorRecord
	var v struct {
		plain
		RawData          *string `json:"rawData"`
		LastErrorCode    string  `json:"lastErrorCode"`
		LastErrorMessage string  `json:"lastErrorMessage"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.RawData == nil {
		return errors.New("no rawData")
	}
	data, err := base64.StdEncoding.DecodeString(*v.RawData)
	if err != nil {
		return fmt.Errorf("rawData is not base64: %w", err)
	}
	*r = ErrorRecord(v.plain)
	r.RawData = data
	if r.ErrorCode == "" {
		r.ErrorCode = v.LastErrorCode
	}
	if r.ErrorMessage == "" {
		r.ErrorMessage = v.LastErrorMessage
	}
	return nil
}

// Number is a number Firehose writes as a JSON number or as a string
// holding one, kept as written. Only people read it: a record is replayed
// whatever it holds.
type Number string

// UnmarshalJSON accepts a number, a string or null.
func (n *Number) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*n = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = Number(s)
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*n = Number(b)
	default:
		return fmt.Errorf("%.20s is neither a number nor a string", b)
	}
	return nil
}

// Line is one line of an error object, decoded.
type Line struct {
	// N is the line's number in the object, from 1; Raw the line as
	// written (without its newline), kept for a leftover object.
	N   int
	Raw []byte
	// Record is the decoded line; Err says why it is not a record.
	Record ErrorRecord
	Err    error
}

// maxLine bounds one line: a record's rawData is at most 1,000 KiB, so
// its line is under 1.4 MB of base64 and the fields around it.
const maxLine = 4 << 20

// ReadErrorObject reads an error output object, gzip-compressed (as the
// delivery stream's compression writes it) or not: every non-empty line,
// each decoded or with the reason it is not a record.
func ReadErrorObject(body []byte) ([]Line, error) {
	var r io.Reader = bytes.NewReader(body)
	if len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var lines []Line
	for n := 1; sc.Scan(); n++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		l := Line{N: n, Raw: bytes.Clone(raw)}
		if err := json.Unmarshal(raw, &l.Record); err != nil {
			l.Err = fmt.Errorf("line %d is not a Firehose error record: %w", n, err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return lines, fmt.Errorf("read: %w", err)
	}
	return lines, nil
}
