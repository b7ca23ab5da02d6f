package batch

import "encoding/json"

// streamHead is what the adapter reads of a DynamoDB or Kinesis stream
// record: what names it in a partial batch response and where it came
// from. The rest is the function's to decode.
type streamHead struct {
	EventSource    string `json:"eventSource"`
	EventSourceARN string `json:"eventSourceARN"`
	DynamoDB       struct {
		SequenceNumber string `json:"SequenceNumber"`
	} `json:"dynamodb"`
	Kinesis struct {
		SequenceNumber string `json:"sequenceNumber"`
	} `json:"kinesis"`
}

// decodeStream makes one item per record of a DynamoDB or Kinesis event,
// records being the payload's records as Decode's probe read them. A
// record that does not decode still becomes an item, with what could be
// read of it: the function fails it, by sequence number when it has one.
func decodeStream(payload []byte, records []json.RawMessage) []*Item {
	var ev struct{ Records []streamHead }
	// The probe read the payload, so only a field of the wrong type can
	// fail here, and encoding/json goes on past it: what a record lacks
	// stays empty. One pass over the event costs less than one per record.
	_ = json.Unmarshal(payload, &ev)
	heads := ev.Records
	if len(heads) < len(records) {
		heads = append(heads, make([]streamHead, len(records)-len(heads))...)
	}
	out := items(len(records))
	recs := make([]StreamRecord, len(records))
	for i, raw := range records {
		h, r := &heads[i], &recs[i]
		*r = StreamRecord{JSON: raw, EventSource: h.EventSource, EventSourceARN: h.EventSourceARN, SequenceNumber: h.DynamoDB.SequenceNumber}
		if h.EventSource == string(SourceKinesis) || r.SequenceNumber == "" {
			r.SequenceNumber = h.Kinesis.SequenceNumber
		}
		out[i].Stream, out[i].ID = r, r.SequenceNumber
	}
	return out
}
