// Package sink is a stand-in for the two AWS calls that put records into
// streams, Firehose PutRecordBatch and Kinesis Data Streams PutRecords:
// an HTTP endpoint speaking their JSON protocol that accepts every record
// at once, keeps it until taken, and answers each request as the service
// does when nothing failed. Any other call is answered with an error.
//
// It is what the whole-invocation benchmark (shared/cmd/bench) points a
// function that re-ingests or delivers at, in a process of its own, off
// the function's core: the service's own processing is not on the
// function's CPU, and moto_server answering each call in Python was most
// of what those cases measured. It keeps what it is given and nothing
// more: use shared/moto where a test needs streams that exist, deliver
// or fail.
package sink

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"lakestream/shared/jsonscan"
)

// Record is one record put.
type Record struct {
	Stream string // the delivery stream's or data stream's name (or ARN, as the caller gave it)
	Data   []byte // the record's data, decoded
}

// Sink accepts every record put to it, through ServeHTTP.
type Sink struct {
	mu   sync.Mutex
	kept []put
	seq  uint64 // numbers record ids and sequence numbers
}

// put is a record as it was put: its data still the base64 text of the
// request, decoded only when taken, so that the answer waits on nothing
// but a scan of the request (the function waits for it).
type put struct {
	stream  string
	text    []byte // a slice of the request's body
	escaped bool   // the text has JSON escapes (the SDK writes none)
}

// New returns an empty Sink.
func New() *Sink { return &Sink{} }

// The calls served, by X-Amz-Target.
const (
	firehosePut = "Firehose_20150804.PutRecordBatch"
	kinesisPut  = "Kinesis_20131202.PutRecords"
)

// TakePath is where a GET takes what the Sink kept (see Take): for a
// process that serves a Sink for another.
const TakePath = "/_sink/records"

// ServeHTTP answers PutRecordBatch and PutRecords (POST / with the
// service's X-Amz-Target) and, at TakePath, the records kept so far.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == TakePath {
		records, err := s.Take()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(records) //nolint:errcheck // the taker sees a broken answer.
		return
	}
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || (target != firehosePut && target != kinesisPut) {
		fail(w, http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("the sink serves only %s and %s, not %s %s %q", firehosePut, kinesisPut, r.Method, r.URL.Path, target))
		return
	}
	body, err := readBody(r)
	if err != nil {
		fail(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	stream, texts, err := scanPut(body, target == kinesisPut)
	if err != nil {
		fail(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	first := s.seq
	s.seq += uint64(len(texts))
	for _, t := range texts {
		t.stream = stream
		s.kept = append(s.kept, t)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Write(answer(target == kinesisPut, first, len(texts))) //nolint:errcheck // the caller sees a broken answer.
}

// readBody reads the request's body, into one slice of its length when
// it says it (the SDK does).
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength < 0 || r.ContentLength > maxBody {
		return io.ReadAll(io.LimitReader(r.Body, maxBody))
	}
	body := make([]byte, r.ContentLength)
	_, err := io.ReadFull(r.Body, body)
	return body, err
}

// maxBody is more than either call takes (Firehose 4 MiB of records,
// Kinesis 5 MiB), base64 and all.
const maxBody = 16 << 20

// Take returns the records put since the last Take, in the order they
// were accepted, and forgets them. A record whose data is not base64 (a
// put the service would have rejected; the sink answers before it
// decodes) is an error.
func (s *Sink) Take() ([]Record, error) {
	s.mu.Lock()
	kept := s.kept
	s.kept = nil
	s.mu.Unlock()
	out := make([]Record, len(kept))
	for i, p := range kept {
		text := p.text
		if p.escaped {
			text = jsonscan.Unescape(nil, text)
		}
		data, err := base64.StdEncoding.AppendDecode(make([]byte, 0, base64.StdEncoding.DecodedLen(len(text))), text)
		if err != nil {
			return nil, fmt.Errorf("sink: record %d put into %s: Data: %w", i, p.stream, err)
		}
		out[i] = Record{Stream: p.stream, Data: data}
	}
	return out, nil
}

// TakeFrom takes the records kept by the Sink that endpoint (its base
// URL, http://host:port) serves, from another process.
func TakeFrom(ctx context.Context, endpoint string) ([]Record, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+TakePath, nil)
	if err != nil {
		return nil, fmt.Errorf("sink: take: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sink: take: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1000))
		return nil, fmt.Errorf("sink: take: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	var records []Record
	if err := json.NewDecoder(resp.Body).Decode(&records); err != nil {
		return nil, fmt.Errorf("sink: take: %w", err)
	}
	return records, nil
}

// Env is the environment a function process needs to put its records
// into the Sink endpoint serves: the endpoint for every service, and
// fake credentials and a region for the SDK (the sink checks no
// signature).
func Env(endpoint string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":      endpoint,
		"AWS_ACCESS_KEY_ID":     "testing",
		"AWS_SECRET_ACCESS_KEY": "testing",
		"AWS_REGION":            "us-east-1",
		"AWS_DEFAULT_REGION":    "us-east-1",
	}
}

// scanPut reads a PutRecordBatch request ({"DeliveryStreamName": ...,
// "Records": [{"Data": base64}, ...]}) or, for kinesis, a PutRecords one
// ({"StreamName" or "StreamARN": ..., "Records": [{"Data": ...,
// "PartitionKey": ...}, ...]}), checking its syntax: the stream, and each
// record's data as the text of its JSON string.
func scanPut(body []byte, kinesis bool) (string, []put, error) {
	nameKey := "DeliveryStreamName"
	if kinesis {
		nameKey = "StreamName"
	}
	var stream string
	var puts []put
	var buf []byte
	s := jsonscan.New(body)
	for key := range s.Object() {
		switch k := string(key); {
		case k == nameKey || kinesis && k == "StreamARN" && stream == "":
			v, _ := s.String(&buf)
			stream = string(v)
		case k == "Records":
			for i := range s.Array() {
				found := false
				for key := range s.Object() {
					if string(key) != "Data" {
						continue
					}
					text, escaped, err := s.RawString()
					if err != nil {
						return "", nil, fmt.Errorf("sink: record %d: Data: %w", i, err)
					}
					if found { // encoding/json keeps the last
						puts = puts[:len(puts)-1]
					}
					puts = append(puts, put{text: text, escaped: escaped})
					found = true
				}
				if !found && s.Err() == nil {
					return "", nil, fmt.Errorf("sink: record %d has no Data", i)
				}
			}
		}
	}
	if err := s.End(); err != nil {
		return "", nil, fmt.Errorf("sink: request: %w", err)
	}
	if stream == "" {
		return "", nil, errors.New("sink: the request names no stream")
	}
	return stream, puts, nil
}

// answer is the response to a put of n records, all accepted: Firehose's
// one RecordId per record, or Kinesis's sequence number and shard. Ids
// are numbered from first.
func answer(kinesis bool, first uint64, n int) []byte {
	b := make([]byte, 0, 64+n*64)
	if kinesis {
		b = append(b, `{"FailedRecordCount":0,"EncryptionType":"NONE","Records":[`...)
	} else {
		b = append(b, `{"FailedPutCount":0,"Encrypted":false,"RequestResponses":[`...)
	}
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		if kinesis {
			b = append(b, `{"ShardId":"shardId-000000000000","SequenceNumber":"`...)
			b = fmt.Appendf(b, "4950%052d", first+uint64(i)) // Kinesis's are 56 digits
		} else {
			b = append(b, `{"RecordId":"sink-`...)
			b = strconv.AppendUint(b, first+uint64(i), 10)
		}
		b = append(b, `"}`...)
	}
	return append(b, "]}"...)
}

// fail answers an error as the JSON protocol does: the code in __type.
func fail(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": code, "message": message})
	w.Write(b) //nolint:errcheck // the caller sees a broken answer.
}
