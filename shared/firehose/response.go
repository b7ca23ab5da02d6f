package firehose

import (
	"encoding/base64"
	"encoding/json"
	"slices"

	"lakestream/shared/jsonenc"
)

// Response is the data-transformation response. It is lakestream's own type,
// not aws-lambda-go's KinesisFirehoseResponse, because that type always
// writes "data" (null when empty) and empty "metadata" / "otfMetadata"
// objects, which Firehose rejects or misroutes for records that carry no
// partition keys.
type Response struct {
	Records []ResponseRecord `json:"records"`
}

// ResponseRecord is the result for one input record, with the same RecordID.
type ResponseRecord struct {
	RecordID      string
	Result        string
	Data          []byte
	PartitionKeys map[string]string
}

// MarshalJSON writes the whole response into one buffer of the exact size:
// a response is up to 6 MB, and encoding/json re-scans whatever a
// Marshaler returns, so one buffer means one pass instead of one per
// record. (The handler itself calls appendJSON: Invoke's response goes out
// as it is.)
func (r *Response) MarshalJSON() ([]byte, error) {
	return r.appendJSON(make([]byte, 0, r.encodedLen())), nil
}

// appendJSON appends the encoded response to b.
func (r *Response) appendJSON(b []byte) []byte {
	b = append(b, `{"records":[`...)
	for i := range r.Records {
		if i > 0 {
			b = append(b, ',')
		}
		b = r.Records[i].appendJSON(b)
	}
	return append(b, "]}"...)
}

// encodedLen is len(r.appendJSON(nil)), computed without encoding.
func (r *Response) encodedLen() int {
	n := len(emptyResponse)
	for i := range r.Records {
		n += r.Records[i].encodedLen() + 1
	}
	if len(r.Records) > 0 {
		n-- // no comma after the last
	}
	return n
}

// MarshalJSON writes the record as Firehose expects it: "data" always
// present (possibly "") on Ok records, absent on Dropped ones and on failed
// ones without data; "metadata" only when there are partition keys.
func (r ResponseRecord) MarshalJSON() ([]byte, error) {
	return r.appendJSON(make([]byte, 0, r.encodedLen())), nil
}

func (r *ResponseRecord) appendJSON(b []byte) []byte {
	b = append(b, `{"recordId":`...)
	b = jsonenc.AppendString(b, r.RecordID)
	b = append(b, `,"result":"`...)
	b = append(b, r.Result...)
	b = append(b, '"')
	if r.Result == ResultOk || len(r.Data) > 0 {
		b = append(b, `,"data":"`...)
		b = appendBase64(b, r.Data)
		b = append(b, '"')
	}
	if len(r.PartitionKeys) > 0 {
		b = append(b, `,"metadata":{"partitionKeys":{`...)
		var buf [8]string // room for the usual few keys without allocating
		for i, k := range sortedKeys(buf[:0], r.PartitionKeys) {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, k)
			b = append(b, ':')
			b = jsonenc.AppendString(b, r.PartitionKeys[k])
		}
		b = append(b, "}}"...)
	}
	return append(b, '}')
}

// sortedKeys appends m's keys to keys, sorted: sorting the keys of every
// record's partition map through maps.Keys and slices.Sorted allocated and
// took a tenth of an access-log invocation.
func sortedKeys(keys []string, m map[string]string) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// UnmarshalJSON reads what MarshalJSON writes (tests and the local runner
// decode responses with it).
func (r *ResponseRecord) UnmarshalJSON(b []byte) error {
	var w struct {
		RecordID string  `json:"recordId"`
		Result   string  `json:"result"`
		Data     *[]byte `json:"data"`
		Metadata *struct {
			PartitionKeys map[string]string `json:"partitionKeys"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = ResponseRecord{RecordID: w.RecordID, Result: w.Result}
	if w.Data != nil {
		r.Data = *w.Data
	}
	if w.Metadata != nil {
		r.PartitionKeys = w.Metadata.PartitionKeys
	}
	return nil
}

// emptyResponse is the response's JSON around its records.
const emptyResponse = `{"records":[]}`

// reservedLen is the most a record's entry takes without data: a failed
// record's, plus the comma before the next.
func reservedLen(recordID string) int {
	return len(`{"recordId":,"result":"ProcessingFailed"}`) + jsonenc.StringLen(recordID) + 1
}

// extraLen is what r's entry adds to its reserved length.
func (r *ResponseRecord) extraLen() int {
	return max(0, r.encodedLen()+1-reservedLen(r.RecordID))
}

// encodedLen is len(r.appendJSON(nil)), computed without encoding.
func (r *ResponseRecord) encodedLen() int {
	n := len(`{"recordId":,"result":""}`) + jsonenc.StringLen(r.RecordID) + len(r.Result)
	if r.Result == ResultOk || len(r.Data) > 0 {
		n += len(`,"data":""`) + base64.StdEncoding.EncodedLen(len(r.Data))
	}
	if len(r.PartitionKeys) > 0 {
		n += len(`,"metadata":{"partitionKeys":{}}`) + 2*len(r.PartitionKeys) - 1 // colons, commas
		for k, v := range r.PartitionKeys {
			n += jsonenc.StringLen(k) + jsonenc.StringLen(v)
		}
	}
	return n
}

// MaxDataLen is the most data an Ok record with this id and partition
// keys can carry in a response of budget bytes on its own. A transform
// whose output is longer must split the record (Output.Reingest): the
// handler fails an Ok record too large on its own rather than re-ingest it
// unchanged forever.
func MaxDataLen(budget int, recordID string, partitionKeys map[string]string) int {
	r := ResponseRecord{RecordID: recordID, Result: ResultOk, PartitionKeys: partitionKeys}
	room := budget - len(emptyResponse) - r.encodedLen() - 1
	return max(0, room/4*3)
}
