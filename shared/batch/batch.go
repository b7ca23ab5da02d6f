// Package batch builds the partial batch response of a Lambda function fed
// by an event source mapping with ReportBatchItemFailures (DynamoDB Streams,
// Kinesis Data Streams, SQS). The function decides each record's outcome;
// Outcomes remembers it with the record's identifier and writes the
// batchItemFailures list Lambda reads.
//
// What Lambda does with the list (Lambda developer guide, "Configuring
// partial batch response"): for a stream it checkpoints at the failed record
// with the lowest sequence number and retries every record from there; for
// SQS it returns only the listed messages to the queue. An empty or null
// list means the whole batch succeeded. An entry with an empty identifier
// makes Lambda treat the whole batch as failed, so Outcomes never writes
// one: a failed record without an identifier is ErrUnidentified, and the
// function must fail the invocation instead.
package batch

import (
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
)

// Outcome is what happened to one record.
type Outcome uint8

// Outcomes of a record. A record left Pending is reported failed: a record
// the function forgot to decide is retried, never lost.
const (
	Pending   Outcome = iota // not decided yet
	Delivered                // written where it belongs
	Skipped                  // dropped on purpose (filtered by configuration)
	Failed                   // not written: Lambda must retry it
)

func (o Outcome) String() string {
	switch o {
	case Pending:
		return "pending"
	case Delivered:
		return "delivered"
	case Skipped:
		return "skipped"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// ErrUnidentified means a failed record has no identifier (no
// SequenceNumber, no messageId), so no partial batch response can name it.
var ErrUnidentified = errors.New("batch: a failed record has no identifier")

// Outcomes holds the identifier and outcome of each record of one
// invocation, by the record's index in the event.
type Outcomes struct {
	ids      []string
	outcomes []Outcome
}

// New returns n Pending records without identifiers.
func New(n int) *Outcomes {
	return &Outcomes{ids: make([]string, n), outcomes: make([]Outcome, n)}
}

// Len is the number of records.
func (o *Outcomes) Len() int { return len(o.outcomes) }

// SetID sets record i's identifier: the SequenceNumber of a DynamoDB or
// Kinesis record, the messageId of an SQS message.
func (o *Outcomes) SetID(i int, id string) { o.ids[i] = id }

// ID is record i's identifier, "" when not known.
func (o *Outcomes) ID(i int) string { return o.ids[i] }

// Set records what happened to record i.
func (o *Outcomes) Set(i int, out Outcome) { o.outcomes[i] = out }

// Get is record i's outcome.
func (o *Outcomes) Get(i int) Outcome { return o.outcomes[i] }

// Counts are the records of one invocation by outcome. In = Delivered +
// Skipped + Failed: Pending records count as Failed.
type Counts struct {
	In, Delivered, Skipped, Failed int
}

// Counts counts the records by outcome.
func (o *Outcomes) Counts() Counts {
	c := Counts{In: len(o.outcomes)}
	for _, out := range o.outcomes {
		switch out {
		case Delivered:
			c.Delivered++
		case Skipped:
			c.Skipped++
		default:
			c.Failed++
		}
	}
	return c
}

// Failures returns the identifiers of the Failed and Pending records, in
// the order of the event. Every failed record is listed, not only the
// first: Lambda picks the lowest sequence number itself, and SQS needs
// them all. The error is ErrUnidentified when a failed record has no
// identifier.
func (o *Outcomes) Failures() ([]string, error) {
	ids := []string{}
	unidentified := 0
	for i, out := range o.outcomes {
		if out == Delivered || out == Skipped {
			continue
		}
		if o.ids[i] == "" {
			unidentified++
			continue
		}
		ids = append(ids, o.ids[i])
	}
	if unidentified > 0 {
		return ids, fmt.Errorf("%w: %d of %d failed records", ErrUnidentified, unidentified, unidentified+len(ids))
	}
	return ids, nil
}

// DynamoDBResponse is the partial batch response for a DynamoDB stream
// event, naming failed records by dynamodb.SequenceNumber.
func (o *Outcomes) DynamoDBResponse() (events.DynamoDBEventResponse, error) {
	ids, err := o.Failures()
	resp := events.DynamoDBEventResponse{BatchItemFailures: make([]events.DynamoDBBatchItemFailure, len(ids))}
	for i, id := range ids {
		resp.BatchItemFailures[i].ItemIdentifier = id
	}
	return resp, err
}

// KinesisResponse is the partial batch response for a Kinesis event,
// naming failed records by kinesis.sequenceNumber.
func (o *Outcomes) KinesisResponse() (events.KinesisEventResponse, error) {
	ids, err := o.Failures()
	resp := events.KinesisEventResponse{BatchItemFailures: make([]events.KinesisBatchItemFailure, len(ids))}
	for i, id := range ids {
		resp.BatchItemFailures[i].ItemIdentifier = id
	}
	return resp, err
}

// SQSResponse is the partial batch response for an SQS event, naming
// failed messages by messageId.
func (o *Outcomes) SQSResponse() (events.SQSEventResponse, error) {
	ids, err := o.Failures()
	resp := events.SQSEventResponse{BatchItemFailures: make([]events.SQSBatchItemFailure, len(ids))}
	for i, id := range ids {
		resp.BatchItemFailures[i].ItemIdentifier = id
	}
	return resp, err
}
