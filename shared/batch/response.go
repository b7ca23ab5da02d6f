package batch

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// ErrUnidentified means a failed item has no identifier (no SequenceNumber,
// no messageId), so no partial batch response can name it. An entry with an
// empty identifier would make Lambda fail the whole batch without saying
// why; the invocation fails instead, saying so.
var ErrUnidentified = errors.New("batch: a failed record has no identifier")

// answer is the invocation's response and error. Streams and SQS get the
// partial batch response (Lambda developer guide, "Configuring partial batch
// response": a stream checkpoints at the failed record with the lowest
// sequence number and retries from there; SQS returns only the listed
// messages to the queue; an empty list means all succeeded). S3, SNS and
// EventBridge, which retry whole invocations, get the Job's response and
// an error when an item failed in a way a retry may cure.
func (h *Handler) answer(inv *Invocation, resp any) (any, error) {
	if inv.Source.partial() || inv.Source == "" {
		return partialResponse(inv)
	}
	return resp, invocationError(inv, h.noun)
}

// partialResponse lists the failed items' identifiers, each once, in the
// order of the event: every one, not only the first, since Lambda picks the
// lowest sequence number itself and SQS needs them all. An event without
// records (Source "") gets the same empty list any source reads.
func partialResponse(inv *Invocation) (any, error) {
	var ids []string
	seen := map[string]bool{}
	unidentified := 0
	for _, it := range inv.Items {
		switch {
		case it.outcome == Delivered || it.outcome == Skipped:
		case it.ID == "":
			unidentified++
		case !seen[it.ID]:
			seen[it.ID] = true
			ids = append(ids, it.ID)
		}
	}
	var err error
	if unidentified > 0 {
		err = fmt.Errorf("%w: %d of %d failed records", ErrUnidentified, unidentified, unidentified+len(ids))
	}
	switch inv.Source {
	case SourceSQS:
		resp := events.SQSEventResponse{BatchItemFailures: make([]events.SQSBatchItemFailure, len(ids))}
		for i, id := range ids {
			resp.BatchItemFailures[i].ItemIdentifier = id
		}
		return resp, err
	case SourceKinesis:
		resp := events.KinesisEventResponse{BatchItemFailures: make([]events.KinesisBatchItemFailure, len(ids))}
		for i, id := range ids {
			resp.BatchItemFailures[i].ItemIdentifier = id
		}
		return resp, err
	}
	resp := events.DynamoDBEventResponse{BatchItemFailures: make([]events.DynamoDBBatchItemFailure, len(ids))}
	for i, id := range ids {
		resp.BatchItemFailures[i].ItemIdentifier = id
	}
	return resp, err
}

// invocationError fails an S3, SNS or EventBridge invocation whose items
// failed other than Permanently: Lambda retries it and finally hands it to
// the on-failure destination. An EventBridge invocation is one event, so
// its item's error is the invocation's as it is.
func invocationError(inv *Invocation, noun string) error {
	var failed []*Item
	for _, it := range inv.Items {
		if it.outcome == Failed && !it.permanent {
			failed = append(failed, it)
		}
	}
	switch {
	case len(failed) == 0:
		return nil
	case inv.Source == SourceEventBridge && len(failed) == 1:
		return failed[0].err
	}
	return &ItemsError{Failed: failed, Total: len(inv.Items), Noun: noun}
}

// maxNamedFailures bounds the items an ItemsError names.
const maxNamedFailures = 5

// ItemsError is the error of an invocation whose items failed: "2 of 7
// objects failed: s3://b/k: reason; ...", naming the first five. It wraps
// every item's error, for errors.Is and errors.As.
type ItemsError struct {
	Failed []*Item
	Total  int
	Noun   string
}

func (e *ItemsError) Error() string {
	named := make([]string, 0, min(len(e.Failed), maxNamedFailures)+1)
	for _, it := range e.Failed[:min(len(e.Failed), maxNamedFailures)] {
		named = append(named, it.name()+": "+it.err.Error())
	}
	if more := len(e.Failed) - len(named); more > 0 {
		named = append(named, fmt.Sprintf("and %d more", more))
	}
	return fmt.Sprintf("%d of %d %s failed: %s", len(e.Failed), e.Total, e.Noun, strings.Join(named, "; "))
}

// Unwrap is the failed items' errors.
func (e *ItemsError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, it := range e.Failed {
		errs[i] = it.err
	}
	return errs
}

// name is how errors name the item: its object, record or event, else its
// place in the request.
func (it *Item) name() string {
	switch {
	case it.S3 != nil && (it.S3.Bucket != "" || it.S3.Key != ""):
		return it.S3.URI()
	case it.Stream != nil && it.Stream.SequenceNumber != "":
		return "record " + it.Stream.SequenceNumber
	case it.Event != nil && it.Event.ID != "":
		return "event " + it.Event.ID
	}
	return fmt.Sprintf("item %d", it.Index)
}
