package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/golden"
)

// invocationView is what a golden decode file shows of an invocation.
type invocationView struct {
	Kind     string        `json:"kind"`
	Messages []messageView `json:"messages"`
}

type messageView struct {
	ID      string      `json:"id,omitempty"`
	Entries []entryView `json:"entries"`
}

type entryView struct {
	Source *Source `json:"source,omitempty"`
	Ignore string  `json:"ignore,omitempty"`
	Error  string  `json:"error,omitempty"`
}

func viewInvocation(inv invocation) invocationView {
	v := invocationView{Kind: inv.Kind, Messages: []messageView{}}
	for _, m := range inv.Messages {
		mv := messageView{ID: m.ID, Entries: []entryView{}}
		for _, e := range m.Entries {
			ev := entryView{Ignore: e.Ignore}
			if e.Source != (Source{}) {
				ev.Source = &e.Source
			}
			if e.Err != nil {
				ev.Error = e.Err.Error()
			}
			mv.Entries = append(mv.Entries, ev)
		}
		v.Messages = append(v.Messages, mv)
	}
	return v
}

// TestDecodeInvocation decodes every events/s3-redistributor sample and
// every testdata/decode/<case>.json and compares the objects found with the
// golden file (testdata/decode/<case>.golden.json, events-<sample>.golden.json
// for the samples).
func TestDecodeInvocation(t *testing.T) {
	cases := map[string][]byte{}
	for _, s := range samples(t) {
		cases["events-"+strings.TrimSuffix(s, ".json")] = sample(t, s)
	}
	for _, in := range inputs(t, "testdata/decode/*.json") {
		b, err := os.ReadFile(in)
		require.NoError(t, err)
		cases[caseName(in)] = b
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			inv, err := decodeInvocation(raw)
			require.NoError(t, err)
			for _, m := range inv.Messages {
				require.NotEmpty(t, m.Entries, "every message is accounted for by at least one entry")
			}
			golden.JSON(t, "testdata/decode/"+name+".golden.json", viewInvocation(inv))
		})
	}
}

// TestDecodeURLEncodedKey pins what the url-encoded-key sample must decode to.
func TestDecodeURLEncodedKey(t *testing.T) {
	inv, err := decodeInvocation(sample(t, "url-encoded-key.json"))
	require.NoError(t, err)
	require.Len(t, inv.Messages, 1)
	require.Len(t, inv.Messages[0].Entries, 1)
	assert.Equal(t, "incoming/exports/région=eu west/dt=2024-05-01/hour=15/données été #1.json", inv.Messages[0].Entries[0].Source.Key)
}

// TestDecodeMalformed covers events that are none of the shapes the
// function accepts: the invocation fails with ErrUnknownEvent.
func TestDecodeMalformed(t *testing.T) {
	tests := map[string]struct {
		raw string
		err string
	}{
		"not JSON":            {raw: `{"Records":[`, err: "unexpected end of JSON input"},
		"array":               {raw: `[1,2]`, err: "cannot unmarshal array"},
		"string":              {raw: `"s3://b/k"`, err: "cannot unmarshal string"},
		"empty object":        {raw: `{}`, err: ErrUnknownEvent.Error()},
		"null records":        {raw: `{"Records":null}`, err: ErrUnknownEvent.Error()},
		"unknown source":      {raw: `{"Records":[{"eventSource":"aws:kinesis"}]}`, err: ErrUnknownEvent.Error()},
		"SQS without id":      {raw: `{"Records":[{"eventSource":"aws:sqs","body":"{}"}]}`, err: "SQS record 0 has no readable messageId"},
		"SQS bad record":      {raw: `{"Records":[{"eventSource":"aws:sqs","messageId":"a"},{"eventSource":"aws:sqs","messageId":7}]}`, err: "SQS record 1 has no readable messageId"},
		"SNS bad record":      {raw: `{"Records":[{"EventSource":"aws:sns","Sns":{"Message":42}}]}`, err: "SNS record 0: json: cannot unmarshal number"},
		"records not objects": {raw: `{"Records":[1]}`, err: ErrUnknownEvent.Error()},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decodeInvocation([]byte(tc.raw))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrUnknownEvent)
			assert.ErrorContains(t, err, tc.err)
		})
	}
}

// FuzzDecodeInvocation checks that no event panics the decoder, that a
// rejected event is ErrUnknownEvent, and that every entry of an accepted one
// is exactly one of: a source naming an object, ignored, or failed.
func FuzzDecodeInvocation(f *testing.F) {
	for _, s := range samples(f) {
		f.Add(sample(f, s))
	}
	for _, in := range inputs(f, "testdata/decode/*.json") {
		b, err := os.ReadFile(in)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		inv, err := decodeInvocation(raw)
		if err != nil {
			require.ErrorIs(t, err, ErrUnknownEvent)
			return
		}
		require.Contains(t, []string{kindS3, kindEventBridge, kindSQS, kindSNS}, inv.Kind)
		if inv.Kind != kindSQS {
			require.Len(t, inv.Messages, 1)
		}
		for _, m := range inv.Messages {
			require.Equal(t, inv.Kind == kindSQS, m.ID != "", "only SQS messages have ids, and all of them do")
			require.NotEmpty(t, m.Entries)
			for _, e := range m.Entries {
				kinds := 0
				if e.Err != nil {
					kinds++
					require.ErrorIs(t, e.Err, ErrBadRecord)
				}
				if e.Ignore != "" {
					kinds++
				}
				if e.Err == nil && e.Ignore == "" {
					kinds++
					require.NotEmpty(t, e.Source.Bucket)
					require.NotEmpty(t, e.Source.Key)
				}
				require.Equal(t, 1, kinds, "entry %+v", e)
			}
		}
	})
}

// FuzzObjectKey checks that any key comes out of an S3 notification (URL-
// encoded as S3 writes it, '+' for a space) and of an EventBridge event (not
// encoded) exactly as it went in.
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
		inv, err := decodeInvocation([]byte(notification))
		require.NoError(t, err)
		e := inv.Messages[0].Entries[0]
		require.NoError(t, e.Err)
		require.Equal(t, key, e.Source.Key)

		if !utf8.ValidString(key) {
			return // JSON cannot carry it unchanged
		}
		k, err := json.Marshal(key)
		require.NoError(t, err)
		ev := `{"detail-type":"Object Created","source":"aws.s3","time":"2024-05-01T13:00:00Z","detail":{"bucket":{"name":"b"},"object":{"key":` + string(k) + `}}}`
		inv, err = decodeInvocation([]byte(ev))
		require.NoError(t, err)
		e = inv.Messages[0].Entries[0]
		require.NoError(t, e.Err)
		require.Equal(t, key, e.Source.Key)
	})
}
