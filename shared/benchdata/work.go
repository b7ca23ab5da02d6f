package benchdata

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// firehoseRequestRecords are the records of a Firehose transformation
// request, data decoded.
type firehoseRequestRecords struct {
	Records []struct {
		RecordID string `json:"recordId"`
		Data     []byte `json:"data"`
	} `json:"records"`
}

// firehoseResponseRecords are the records of a transformation response,
// without their data.
type firehoseResponseRecords struct {
	Records []struct {
		RecordID string `json:"recordId"`
		Result   string `json:"result"`
	} `json:"records"`
}

// streamEvent is a DynamoDB or Kinesis stream event, records counted.
type streamEvent struct {
	Records []json.RawMessage `json:"Records"`
}

// streamResponse is the partial batch response of a stream function.
type streamResponse struct {
	BatchItemFailures []struct {
		ItemIdentifier string `json:"itemIdentifier"`
	} `json:"batchItemFailures"`
}

// Total is the work of the whole request, every record transformed or
// forwarded: what a reference implementation, which answers every record
// itself, does on the batch.
func (c Case) Total(request []byte) (int64, error) {
	if c.Unit == Records {
		var ev streamEvent
		if err := json.Unmarshal(request, &ev); err != nil {
			return 0, fmt.Errorf("benchdata: %s: request: %w", c.Name, err)
		}
		return int64(len(ev.Records)), nil
	}
	var req firehoseRequestRecords
	if err := json.Unmarshal(request, &req); err != nil {
		return 0, fmt.Errorf("benchdata: %s: request: %w", c.Name, err)
	}
	var total int64
	for _, r := range req.Records {
		n, err := c.recordWork(r.Data)
		if err != nil {
			return 0, fmt.Errorf("benchdata: %s: record %s: %w", c.Name, r.RecordID, err)
		}
		total += n
	}
	return total, nil
}

// Work is how much of the case's unit the invocation that answered
// response to request did. A response that fails a record (or, from a
// stream function, reports any failure), leaves one out or is not the
// function's response at all is an error: a benchmark of it would measure
// something else.
func (c Case) Work(request, response []byte) (int64, error) {
	if c.Unit == Records {
		var resp streamResponse
		if err := json.Unmarshal(response, &resp); err != nil {
			return 0, fmt.Errorf("benchdata: %s: response %.200q: %w", c.Name, response, err)
		}
		if n := len(resp.BatchItemFailures); n > 0 {
			return 0, fmt.Errorf("benchdata: %s: %d records failed, the first %s", c.Name, n, resp.BatchItemFailures[0].ItemIdentifier)
		}
		return c.Total(request)
	}
	var req firehoseRequestRecords
	if err := json.Unmarshal(request, &req); err != nil {
		return 0, fmt.Errorf("benchdata: %s: request: %w", c.Name, err)
	}
	var resp firehoseResponseRecords
	if err := json.Unmarshal(response, &resp); err != nil {
		return 0, fmt.Errorf("benchdata: %s: response %.200q: %w", c.Name, response, err)
	}
	if len(resp.Records) != len(req.Records) {
		return 0, fmt.Errorf("benchdata: %s: %d records answered of %d", c.Name, len(resp.Records), len(req.Records))
	}
	var work int64
	for i, r := range resp.Records {
		in := req.Records[i]
		if r.RecordID != in.RecordID {
			return 0, fmt.Errorf("benchdata: %s: answer %d is record %q, not %q", c.Name, i, r.RecordID, in.RecordID)
		}
		switch {
		case r.Result == "Ok", r.Result == "Dropped" && c.Unit == InputBytes:
			n, err := c.recordWork(in.Data)
			if err != nil {
				return 0, fmt.Errorf("benchdata: %s: record %s: %w", c.Name, in.RecordID, err)
			}
			work += n
		case r.Result == "Dropped":
			// Re-ingested (or a control message): done by a later invocation.
		default:
			return 0, fmt.Errorf("benchdata: %s: record %s: result %q", c.Name, r.RecordID, r.Result)
		}
	}
	return work, nil
}

// recordWork is the work in one Firehose record's data.
func (c Case) recordWork(data []byte) (int64, error) {
	if c.Unit != MessageBytes {
		return int64(len(data)), nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	payload, err := io.ReadAll(zr)
	if err != nil {
		return 0, err
	}
	var d struct {
		MessageType string `json:"messageType"`
		LogEvents   []struct {
			Message string `json:"message"`
		} `json:"logEvents"`
	}
	if err := json.Unmarshal(payload, &d); err != nil {
		return 0, err
	}
	if d.MessageType != "DATA_MESSAGE" {
		return 0, errors.New("not a DATA_MESSAGE")
	}
	var n int64
	for _, e := range d.LogEvents {
		n += int64(len(e.Message)) + 1
	}
	return n, nil
}

// PutWork is the work in the records a function put into streams on c's
// batch (the data of each, as shared/moto/sink keeps it): for
// MessageBytes, the messages of the subscription payloads it re-ingested;
// for InputBytes, their bytes; for Records, how many it delivered.
func (c Case) PutWork(put [][]byte) (int64, error) {
	if c.Unit == Records {
		return int64(len(put)), nil
	}
	var work int64
	for i, data := range put {
		n, err := c.recordWork(data)
		if err != nil {
			return 0, fmt.Errorf("benchdata: %s: record %d put: %w", c.Name, i, err)
		}
		work += n
	}
	return work, nil
}

// Delivered checks that an invocation of c whose response accounts for
// work (see Work) and which put the records put into streams did the
// batch's whole work: a stream function delivered every record of the
// request (its response only says none failed); a Firehose
// transformation re-ingested what it did not answer Ok, so that work
// plus the put work is the batch's Total.
func (c Case) Delivered(request []byte, work int64, put [][]byte) error {
	total, err := c.Total(request)
	if err != nil {
		return err
	}
	putWork, err := c.PutWork(put)
	if err != nil {
		return err
	}
	if c.Unit == Records {
		if putWork != total {
			return fmt.Errorf("benchdata: %s: %d records delivered of %d", c.Name, putWork, total)
		}
		return nil
	}
	if work+putWork != total {
		return fmt.Errorf("benchdata: %s: %d answered and %d re-ingested (%d records put), not the whole work, %d", c.Name, work, putWork, len(put), total)
	}
	return nil
}
