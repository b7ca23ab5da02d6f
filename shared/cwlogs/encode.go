package cwlogs

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/klauspost/compress/gzip"

	"lakestream/shared/jsonenc"
)

// encoder is the state Encode reuses through encoders: a gzip writer holds
// several hundred KiB of deflate state, too much to build per record.
type encoder struct {
	doc []byte       // the JSON document
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
// The document is what encoding/json writes for d with HTML escaping off
// (<, > and & as they are, which keeps re-ingested records no larger than
// needed), built without reflection.
func Encode(d events.CloudwatchLogsData) ([]byte, error) {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)

	e.doc = appendPayload(e.doc[:0], &d)
	e.out.Reset()
	e.zw.Reset(&e.out)
	if _, err := e.zw.Write(e.doc); err != nil {
		return nil, fmt.Errorf("cwlogs: compress payload: %w", err)
	}
	if err := e.zw.Close(); err != nil {
		return nil, fmt.Errorf("cwlogs: compress payload: %w", err)
	}
	return bytes.Clone(e.out.Bytes()), nil
}

// appendPayload writes d's JSON in the order of aws-lambda-go's struct
// fields, as encoding/json does; nil slices are null.
func appendPayload(dst []byte, d *events.CloudwatchLogsData) []byte {
	dst = append(dst, `{"owner":`...)
	dst = jsonenc.AppendString(dst, d.Owner)
	dst = append(dst, `,"logGroup":`...)
	dst = jsonenc.AppendString(dst, d.LogGroup)
	dst = append(dst, `,"logStream":`...)
	dst = jsonenc.AppendString(dst, d.LogStream)
	dst = append(dst, `,"subscriptionFilters":`...)
	if d.SubscriptionFilters == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, f := range d.SubscriptionFilters {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonenc.AppendString(dst, f)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"messageType":`...)
	dst = jsonenc.AppendString(dst, d.MessageType)
	dst = append(dst, `,"logEvents":`...)
	if d.LogEvents == nil {
		return append(dst, "null}"...)
	}
	dst = append(dst, '[')
	for i := range d.LogEvents {
		ev := &d.LogEvents[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = jsonenc.AppendString(dst, ev.ID)
		dst = append(dst, `,"timestamp":`...)
		dst = strconv.AppendInt(dst, ev.Timestamp, 10)
		dst = append(dst, `,"message":`...)
		dst = jsonenc.AppendString(dst, ev.Message)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
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
