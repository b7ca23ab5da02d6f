package xraytrace

import (
	"strconv"

	"lakestream/shared/jsonenc"
)

// document is the subsegment of one AWS call, sent on its own to the
// daemon: X-Ray's segment document with the fields the X-Ray SDK's AWS
// instrumentation sets (type "subsegment", namespace "aws", the call's
// "aws" and "http" objects, the error flags and cause).
type document struct {
	TraceID  string // the invocation's trace (the header's Root)
	ID       string // this subsegment's, 16 hex digits
	ParentID string // the invocation's segment (the header's Parent)
	Name     string // the service ("S3", "Glue", "Firehose")
	Start    float64
	End      float64 // epoch seconds

	Error, Throttle, Fault bool
	Exception              *exception // nil when the call succeeded

	Status        int   // HTTP status; 0 when no response came
	ContentLength int64 // of the response; recorded when positive

	Operation         string // "PutRecordBatch"
	Region            string
	RequestID         string
	ExtendedRequestID string // S3's x-amz-id-2, recorded as "id_2"
	Retries           int    // attempts after the first, within the SDK
	Resources         []Field
}

// exception is the cause of a failed call.
type exception struct {
	ID      string // 16 hex digits
	Type    string // the service's error code, else the Go error type
	Message string
	Remote  bool // the service answered with the error
}

// appendJSON writes d as one JSON object, in the order and with the
// omissions of the X-Ray SDK's documents (false flags and empty strings
// left out).
func (d *document) appendJSON(b []byte) []byte {
	b = append(b, `{"trace_id":`...)
	b = jsonenc.AppendString(b, d.TraceID)
	b = append(b, `,"id":`...)
	b = jsonenc.AppendString(b, d.ID)
	b = append(b, `,"name":`...)
	b = jsonenc.AppendString(b, d.Name)
	b = append(b, `,"start_time":`...)
	b = appendSeconds(b, d.Start)
	b = append(b, `,"end_time":`...)
	b = appendSeconds(b, d.End)
	if d.ParentID != "" {
		b = append(b, `,"parent_id":`...)
		b = jsonenc.AppendString(b, d.ParentID)
	}
	if d.Fault {
		b = append(b, `,"fault":true`...)
	}
	if d.Error {
		b = append(b, `,"error":true`...)
	}
	if d.Throttle {
		b = append(b, `,"throttle":true`...)
	}
	if e := d.Exception; e != nil {
		b = append(b, `,"cause":{"exceptions":[{"id":`...)
		b = jsonenc.AppendString(b, e.ID)
		b = append(b, `,"type":`...)
		b = jsonenc.AppendString(b, e.Type)
		b = append(b, `,"message":`...)
		b = jsonenc.AppendString(b, e.Message)
		if e.Remote {
			b = append(b, `,"remote":true`...)
		}
		b = append(b, `}]}`...)
	}
	b = append(b, `,"type":"subsegment","namespace":"aws"`...)
	if d.Status != 0 {
		b = append(b, `,"http":{"response":{"status":`...)
		b = strconv.AppendInt(b, int64(d.Status), 10)
		if d.ContentLength > 0 {
			b = append(b, `,"content_length":`...)
			b = strconv.AppendInt(b, d.ContentLength, 10)
		}
		b = append(b, `}}`...)
	}
	b = append(b, `,"aws":{"operation":`...)
	b = jsonenc.AppendString(b, d.Operation)
	b = append(b, `,"region":`...)
	b = jsonenc.AppendString(b, d.Region)
	if d.RequestID != "" {
		b = append(b, `,"request_id":`...)
		b = jsonenc.AppendString(b, d.RequestID)
	}
	if d.ExtendedRequestID != "" {
		b = append(b, `,"id_2":`...)
		b = jsonenc.AppendString(b, d.ExtendedRequestID)
	}
	b = append(b, `,"retries":`...)
	b = strconv.AppendInt(b, int64(d.Retries), 10)
	for _, f := range d.Resources {
		b = append(b, ',')
		b = jsonenc.AppendString(b, f.Key)
		b = append(b, ':')
		b = jsonenc.AppendString(b, f.Value)
	}
	return append(b, `}}`...)
}

// appendSeconds writes epoch seconds as encoding/json writes a float64
// (the X-Ray SDK's encoder); a time is always finite.
func appendSeconds(b []byte, s float64) []byte {
	out, err := jsonenc.AppendFloat(b, s)
	if err != nil {
		return append(b, '0')
	}
	return out
}
