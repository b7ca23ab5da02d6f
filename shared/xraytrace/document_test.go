package xraytrace

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/golden"
)

// TestDocumentJSON: the documents as sent, byte for byte, in the X-Ray
// SDK's field order and with its omissions.
func TestDocumentJSON(t *testing.T) {
	base := func() document {
		return document{
			TraceID: "1-5759e988-bd862e3fe1be46a994272793", ID: "70de5b6f19ff9a0b", ParentID: "53995c3f42cd8ad8",
			Name: "S3", Start: 1478293361.271, End: 1478293361.449, Operation: "PutObject", Region: "eu-west-1",
		}
	}
	tests := map[string]func(d *document){
		"success": func(d *document) {
			d.Status, d.ContentLength = 200, 0 // S3's PutObject answers with no body
			d.RequestID, d.ExtendedRequestID = "C3D13FE58DE4C810", "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
			d.Resources = []Field{{"bucket_name", "lake"}, {"key", "events/données été #1.json"}}
		},
		"throttled": func(d *document) {
			d.Status, d.ContentLength, d.RequestID = 503, 262, "4442587FB7D0A2F9"
			d.Retries = 2
			d.flag(&smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate."})
			d.Exception.ID = "9a7f2c1e5b3d4f60"
		},
		"no-response": func(d *document) {
			d.flag(errors.New("request send failed: dial tcp: \"connection refused\"\n"))
			d.Exception.ID = "0f1e2d3c4b5a6978"
		},
		"no-parent": func(d *document) {
			d.ParentID = ""
		},
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			d := base()
			edit(&d)
			got := d.appendJSON(nil)
			require.True(t, json.Valid(got), "%s", got)
			golden.Bytes(t, filepath.Join("testdata", name+".golden.json"), append(got, '\n'))
		})
	}
}

// TestFlags: what sets each of error, throttle and fault.
func TestFlags(t *testing.T) {
	throttling := &smithy.GenericAPIError{Code: "ThrottlingException"}
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException"}
	internal := &smithy.GenericAPIError{Code: "InternalFailure", Fault: smithy.FaultServer}
	tests := map[string]struct {
		status                 int
		err                    error
		error, throttle, fault bool
		exception              string // its type; "" for none
	}{
		"ok":                     {status: 200},
		"4xx answer":             {status: 404, error: true},
		"429":                    {status: 429, err: throttling, error: true, throttle: true, exception: "ThrottlingException"},
		"throttled with 400":     {status: 400, err: throttling, error: true, throttle: true, exception: "ThrottlingException"},
		"S3 SlowDown with 503":   {status: 503, err: &smithy.GenericAPIError{Code: "SlowDown"}, throttle: true, fault: true, exception: "SlowDown"},
		"access denied":          {status: 403, err: denied, error: true, exception: "AccessDeniedException"},
		"server error":           {status: 500, err: internal, fault: true, exception: "InternalFailure"},
		"no response":            {err: errors.New("connection reset"), fault: true, exception: "errors.errorString"},
		"canceled by the caller": {err: &smithy.CanceledError{Err: errors.New("context canceled")}, fault: true, exception: "smithy.CanceledError"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := document{Status: tc.status}
			d.flag(tc.err)
			assert.Equal(t, tc.error, d.Error, "error")
			assert.Equal(t, tc.throttle, d.Throttle, "throttle")
			assert.Equal(t, tc.fault, d.Fault, "fault")
			if tc.exception == "" {
				assert.Nil(t, d.Exception)
				return
			}
			require.NotNil(t, d.Exception)
			assert.Equal(t, tc.exception, d.Exception.Type)
			assert.Equal(t, tc.err.Error(), d.Exception.Message)
			var api smithy.APIError
			assert.Equal(t, errors.As(tc.err, &api), d.Exception.Remote, "remote: the service answered with it")
			assert.Regexp(t, `^[0-9a-f]{16}$`, d.Exception.ID)
		})
	}
}

// TestLongMessageFits: an exception's message is cut so that the document
// stays one datagram.
func TestLongMessageFits(t *testing.T) {
	d := document{}
	d.flag(errors.New(string(make([]byte, 100<<10))))
	assert.Len(t, d.Exception.Message, maxMessage)
	assert.Less(t, len(d.appendJSON(nil)), maxDatagram)
}

// FuzzDocument: whatever the strings, the document is valid JSON that
// decodes to the values written, as encoding/json would have written them.
func FuzzDocument(f *testing.F) {
	f.Add("S3", "PutObject", "lake", "key \"é\"\n", "boom", 200, int64(12), true)
	f.Add("", "", "", "\xff\xfe", "\u2028<>&", 0, int64(-1), false)
	f.Fuzz(func(t *testing.T, name, operation, key, value, message string, status int, length int64, failed bool) {
		d := document{TraceID: "1-5759e988-bd862e3fe1be46a994272793", ID: "70de5b6f19ff9a0b", Name: name, Operation: operation,
			Start: 1478293361.271, End: 1478293361.449, Status: status, ContentLength: length, Resources: []Field{{Key: key, Value: value}}}
		if failed {
			d.flag(errors.New(message))
		}
		b := d.appendJSON(nil)
		require.True(t, json.Valid(b), "%q", b)
		var got struct {
			Name string
			AWS  map[string]any `json:"aws"`
			HTTP struct {
				Response struct {
					Status        int   `json:"status"`
					ContentLength int64 `json:"content_length"`
				} `json:"response"`
			} `json:"http"`
			Cause struct {
				Exceptions []struct{ Message string } `json:"exceptions"`
			} `json:"cause"`
		}
		require.NoError(t, json.Unmarshal(b, &got))
		assert.Equal(t, roundTrip(t, name), got.Name)
		if key != "operation" && key != "region" && key != "retries" {
			assert.Equal(t, roundTrip(t, value), got.AWS[roundTrip(t, key)])
		}
		assert.Equal(t, status, got.HTTP.Response.Status)
		if status != 0 && length > 0 {
			assert.Equal(t, length, got.HTTP.Response.ContentLength)
		}
		if failed {
			require.Len(t, got.Cause.Exceptions, 1)
			assert.Equal(t, roundTrip(t, d.Exception.Message), got.Cause.Exceptions[0].Message)
		}
	})
}

// roundTrip is s as it reads back from encoding/json's encoding of it
// (invalid UTF-8 becomes U+FFFD).
func roundTrip(t *testing.T, s string) string {
	b, err := json.Marshal(s)
	require.NoError(t, err)
	var out string
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}
