package cwlogs

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/aws/aws-lambda-go/events"
)

// encoder is the state Encode reuses through encoders: a gzip writer holds
// several hundred KiB of deflate state, too much to build per record.
type encoder struct {
	doc bytes.Buffer // the JSON document
	out bytes.Buffer // its gzip form
	zw  *gzip.Writer
}

var encoders = sync.Pool{New: func() any {
	e := new(encoder)
	e.zw = gzip.NewWriter(&e.out)
	return e
}}

// Encode writes d as CloudWatch Logs does: one JSON object, gzip-compressed.
// It does not validate d, so tests can build invalid payloads with it.
// Decode(Encode(d)) gives back d for every d that Decode returns.
//
// HTML characters (<, >, &) are written as they are rather than as \u003c
// escapes, which keeps re-ingested records no larger than needed.
func Encode(d events.CloudwatchLogsData) ([]byte, error) {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)

	e.doc.Reset()
	enc := json.NewEncoder(&e.doc)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("cwlogs: encode payload: %w", err)
	}
	doc := bytes.TrimSuffix(e.doc.Bytes(), []byte("\n")) // Encoder ends every value with a newline

	e.out.Reset()
	e.zw.Reset(&e.out)
	if _, err := e.zw.Write(doc); err != nil {
		return nil, fmt.Errorf("cwlogs: compress payload: %w", err)
	}
	if err := e.zw.Close(); err != nil {
		return nil, fmt.Errorf("cwlogs: compress payload: %w", err)
	}
	return bytes.Clone(e.out.Bytes()), nil
}

// Split halves d's log events into two payloads that both keep d's
// metadata, so that a record whose output would not fit in one Lambda
// response can be re-ingested as two smaller ones (see Encode). The halves
// share d's backing arrays but cannot grow into each other. With fewer than
// two events a holds none, so split only payloads with at least two.
func Split(d events.CloudwatchLogsData) (a, b events.CloudwatchLogsData) {
	half := len(d.LogEvents) / 2
	a, b = d, d
	a.LogEvents = d.LogEvents[:half:half]
	b.LogEvents = d.LogEvents[half:]
	return a, b
}
