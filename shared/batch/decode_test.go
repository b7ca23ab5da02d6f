package batch

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/golden"
)

// invocationView is what a golden decode file shows of an invocation.
type invocationView struct {
	Source Source     `json:"source"`
	Items  []itemView `json:"items"`
}

type itemView struct {
	ID      string      `json:"id,omitempty"`
	Stream  *streamView `json:"stream,omitempty"`
	S3      *S3Object   `json:"s3,omitempty"`
	Event   *eventView  `json:"event,omitempty"`
	Message *string     `json:"message,omitempty"`
	Error   string      `json:"error,omitempty"`
}

type streamView struct {
	EventSource    string `json:"eventSource,omitempty"`
	EventSourceARN string `json:"eventSourceARN,omitempty"`
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	Bytes          int    `json:"bytes"`
}

type eventView struct {
	ID         string          `json:"id,omitempty"`
	Source     string          `json:"source,omitempty"`
	DetailType string          `json:"detailType,omitempty"`
	Time       time.Time       `json:"time,omitzero"`
	Detail     json.RawMessage `json:"detail,omitempty"`
}

func viewInvocation(t testing.TB, inv *Invocation) invocationView {
	v := invocationView{Source: inv.Source, Items: []itemView{}}
	for i, it := range inv.Items {
		require.Equal(t, i, it.Index, "items are numbered in order")
		require.Equal(t, inv.Source, it.Source, "every item carries the invocation's source")
		iv := itemView{ID: it.ID, S3: it.S3}
		if it.Stream != nil {
			iv.Stream = &streamView{it.Stream.EventSource, it.Stream.EventSourceARN, it.Stream.SequenceNumber, len(it.Stream.JSON)}
		}
		if e := it.Event; e != nil {
			iv.Event = &eventView{e.ID, e.Source, e.DetailType, e.Time, e.Detail}
		}
		if it.Message != nil {
			s := string(it.Message.Body)
			iv.Message = &s
		}
		if it.err != nil {
			iv.Error = it.err.Error()
		}
		v.Items = append(v.Items, iv)
	}
	return v
}

// cases are the decode inputs: testdata/decode/<case>.json, and every
// sample of the functions built on this package as events-<function>-<sample>.
func cases(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	add := func(pattern string, name func(path string) string) {
		paths, err := filepath.Glob(pattern)
		require.NoError(t, err)
		require.NotEmpty(t, paths, pattern)
		for _, p := range paths {
			if strings.Contains(filepath.Base(p), ".golden.") {
				continue
			}
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			out[name(p)] = b
		}
	}
	base := func(p string) string { return strings.TrimSuffix(filepath.Base(p), ".json") }
	add(filepath.Join("testdata", "decode", "*.json"), base)
	for _, fn := range []string{"ddb-stream-forwarder", "s3-redistributor", "glue-catalog-fixer", "glue-job-trigger"} {
		add(filepath.Join("..", "..", "events", fn, "*.json"), func(p string) string { return "events-" + fn + "-" + base(p) })
	}
	return out
}

// TestDecode decodes every case and compares the items found with
// testdata/decode/<case>.golden.json.
func TestDecode(t *testing.T) {
	for name, raw := range cases(t) {
		t.Run(name, func(t *testing.T) {
			inv, err := Decode(raw)
			require.NoError(t, err)
			assert.Equal(t, len(raw), inv.Size)
			golden.JSON(t, filepath.Join("testdata", "decode", name+".golden.json"), viewInvocation(t, inv))
		})
	}
}

// TestDecodeKeys pins what keys decode to: URL-decoded from a notification
// ('+' is a space), as they are from EventBridge.
func TestDecodeKeys(t *testing.T) {
	tests := map[string]struct {
		file string
		want []string
	}{
		"notification":               {file: "../../events/s3-redistributor/url-encoded-key.json", want: []string{"incoming/exports/région=eu west/dt=2024-05-01/hour=15/données été #1.json"}},
		"notification in SNS in SQS": {file: "../../events/s3-redistributor/sqs-sns.json", want: []string{"incoming/exports/région=eu west/dt=2024-05-01/hour=15/données été #1.json"}},
		"EventBridge in SNS in SQS":  {file: "testdata/decode/sqs-envelopes.json", want: []string{"incoming/a b+c%20.json"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(tc.file)
			require.NoError(t, err)
			inv, err := Decode(raw)
			require.NoError(t, err)
			var got []string
			for _, it := range inv.Items {
				if it.S3 != nil {
					got = append(got, it.S3.Key)
				}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestDecodeMalformed covers requests that are none of the shapes: the
// invocation fails with ErrUnknownEvent.
func TestDecodeMalformed(t *testing.T) {
	tests := map[string]struct {
		raw string
		err string
	}{
		"not JSON":            {raw: `{"Records":[`, err: "offset 12: expected a value, found end of input"},
		"empty":               {raw: ``, err: "offset 0: expected a value, found end of input"},
		"array":               {raw: `[1,2]`, err: "the request is an array, not an object"},
		"string":              {raw: `"s3://b/k"`, err: "the request is a string, not an object"},
		"null":                {raw: ` null `, err: ErrUnknownEvent.Error()},
		"empty object":        {raw: `{}`, err: ErrUnknownEvent.Error()},
		"null records":        {raw: `{"Records":null}`, err: ErrUnknownEvent.Error()},
		"records not a list":  {raw: `{"Records":{}}`, err: "Records is an object, not an array"},
		"type not a string":   {raw: `{"Records":[{"eventSource":"aws:sqs"}],"type":1}`, err: "Type is a number, not a string"},
		"trailing data":       {raw: `{"Records":[]} {}`, err: "expected end of input"},
		"unknown source":      {raw: `{"Records":[{"eventSource":"aws:kafka"}]}`, err: `records of eventSource "aws:kafka"`},
		"first record null":   {raw: `{"Records":[null,{"eventSource":"aws:dynamodb"}]}`, err: `records of eventSource ""`},
		"records not objects": {raw: `{"Records":[1]}`, err: `records of eventSource ""`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Decode([]byte(tc.raw))
			require.ErrorIs(t, err, ErrUnknownEvent)
			assert.ErrorContains(t, err, tc.err)
		})
	}
}

// FuzzDecode: no request panics the decoder; a rejected one is
// ErrUnknownEvent; in an accepted one every item is numbered, carries the
// invocation's source, and is exactly one of: unreadable (ErrUnreadable),
// a stream record of a stream event, an S3 object naming an object (with
// its EventBridge event when it came through EventBridge), an EventBridge
// event, or a message of SQS or SNS. Stream and SQS items are the only
// ones with identifiers.
func FuzzDecode(f *testing.F) {
	for _, raw := range cases(f) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		inv, err := Decode(raw)
		if err != nil {
			require.ErrorIs(t, err, ErrUnknownEvent)
			return
		}
		require.Contains(t, []Source{"", SourceDynamoDB, SourceKinesis, SourceSQS, SourceSNS, SourceS3, SourceEventBridge}, inv.Source)
		if inv.Source == SourceEventBridge {
			require.Len(t, inv.Items, 1)
		}
		for i, it := range inv.Items {
			require.Equal(t, i, it.Index)
			require.Equal(t, inv.Source, it.Source)
			require.Equal(t, Pending, it.outcome)
			if it.ID != "" {
				require.Contains(t, []Source{SourceDynamoDB, SourceKinesis, SourceSQS}, inv.Source)
			}
			if it.err != nil {
				require.ErrorIs(t, it.err, ErrUnreadable)
				require.Nil(t, it.Stream)
				require.Nil(t, it.Message)
				continue
			}
			switch {
			case it.Stream != nil:
				require.Contains(t, []Source{SourceDynamoDB, SourceKinesis}, inv.Source)
				require.Equal(t, it.ID, it.Stream.SequenceNumber)
				require.True(t, json.Valid(it.Stream.JSON))
				require.Nil(t, it.S3)
				require.Nil(t, it.Event)
				require.Nil(t, it.Message)
			case it.S3 != nil:
				require.NotEmpty(t, it.S3.Bucket)
				require.NotEmpty(t, it.S3.Key)
				require.Nil(t, it.Message)
			case it.Event != nil:
				require.Nil(t, it.Message)
			default:
				require.NotNil(t, it.Message, "item %d is nothing", i)
				require.Contains(t, []Source{SourceSQS, SourceSNS}, inv.Source)
			}
		}
	})
}

// FuzzObjectKey: any key comes out of an S3 notification (URL-encoded as
// S3 writes it, '+' for a space) and of an EventBridge event (not encoded)
// exactly as it went in.
func FuzzObjectKey(f *testing.F) {
	for _, k := range []string{"incoming/a b+c.json", "données été #1.json", "100%", "a/b//c", "~!@$&'()*,;=:", "\x00\xff"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if key == "" {
			return
		}
		encoded := strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
		notification := fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":%q}}}]}`, encoded)
		inv, err := Decode([]byte(notification))
		require.NoError(t, err)
		it := inv.Items[0]
		require.NoError(t, it.err)
		require.Equal(t, key, it.S3.Key)

		if !utf8.ValidString(key) {
			return // JSON cannot carry it unchanged
		}
		k, err := json.Marshal(key)
		require.NoError(t, err)
		ev := `{"detail-type":"Object Created","source":"aws.s3","time":"2024-05-01T13:00:00Z","detail":{"bucket":{"name":"b"},"object":{"key":` + string(k) + `}}}`
		inv, err = Decode([]byte(ev))
		require.NoError(t, err)
		it = inv.Items[0]
		require.NoError(t, it.err)
		require.Equal(t, key, it.S3.Key)
		require.True(t, it.S3.Created())
	})
}

// BenchmarkDecode decodes the SQS sample: three messages, two S3
// notifications and a test event.
func BenchmarkDecode(b *testing.B) {
	raw, err := os.ReadFile("../../events/s3-redistributor/sqs.json")
	require.NoError(b, err)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}
