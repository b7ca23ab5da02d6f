// Package batch is the invocation adapter of every lakestream function that
// is not a Firehose transformation (those have shared/firehose): DynamoDB
// and Kinesis streams, SQS, SNS, EventBridge and S3 notifications. The
// function supplies what to do with one item; the adapter owns the rest of
// the Lambda contract, the same way for every trigger:
//
//   - decoding the request (raw bytes: a Handler is an aws-lambda-go
//     lambda.Handler) and unwrapping envelopes: an SQS message body or SNS
//     message carrying an S3 notification, an EventBridge event, or an SNS
//     message carrying either. An item is one stream record, one object an
//     S3 event reports, one EventBridge event, or one message whose body is
//     none of these. An s3:TestEvent carries no item.
//   - recovering from a panic: that item fails, the batch goes on.
//   - the deadline: the function works on a context that ends
//     deadline.Margin before the invocation's, so the answer always goes
//     out; items not handled by then fail.
//   - the answer: for DynamoDB and Kinesis streams and SQS, the partial batch
//     response listing every failed item by its SequenceNumber or messageId
//     (never an empty identifier: a failed item without one fails the
//     invocation, ErrUnidentified); for S3, SNS and EventBridge, which have
//     no partial response, the function's own response, and an invocation
//     error when an item failed in a way a retry may cure.
//   - always, even for a malformed request or a panic, one summary line
//     ("invocation done" or "invocation failed") with the item counts and
//     the function's own attributes, and the EMF metrics (metrics.Report).
//
// # The contract
//
// For each invocation the adapter decodes every item, then calls the
// function's start with them and runs the Job it returns in three stages:
//
//  1. Item, once per item in the order of the event. It returns nil (the
//     item is delivered), Skip(reason) (dropped on purpose), Defer (Flush
//     settles it), or an error (the item fails; Permanent(err) when a retry
//     cannot cure it). Items the adapter could not read (Item.Err) are
//     failed without calling it.
//  2. Flush, when set, once, with the deferred items: for work across items
//     (batch writes, concurrent copies). It settles each with Item.Settle.
//     A deferred item it does not settle, or leaves unsettled when it
//     panics, fails: an undecided item is retried, never lost. Flush is not
//     called once the deadline margin is reached; the deferred items fail.
//  3. Finish, when set, once, with every item and its outcome: it logs what
//     the function wants said per item, adds its own metrics to its
//     Recorder, and returns the response for sources without a partial
//     response and the summary line's own attributes.
//
// Example, a forwarder that converts per record and writes in batches:
//
//	func (f *forwarder) start(inv *batch.Invocation) batch.Job {
//		lines := make([][]byte, len(inv.Items))
//		return batch.Job{
//			Item: func(ctx context.Context, it *batch.Item) error {
//				line, err := convert(it.Stream.JSON)
//				if err != nil {
//					return err // this record fails; the others go on
//				}
//				lines[it.Index] = line
//				return batch.Defer
//			},
//			Flush: func(ctx context.Context, deferred []*batch.Item) {
//				errs := f.put(ctx, lines, deferred) // one PutRecordBatch
//				for i, it := range deferred {
//					it.Settle(errs[i]) // nil: delivered
//				}
//			},
//		}
//	}
//
//	fn.Start(batch.New(f.start, batch.WithNoun("records"),
//		batch.WithLogger(fn.Log), batch.WithMetrics(fn.Metrics)))
//
// Decoding happens in one place per wire shape (stream.go, sqs.go, sns.go,
// s3.go, eventbridge.go, dispatched by Decode), so a faster decoder can
// replace one of them without the functions noticing: a stream record
// reaches the function as its raw JSON and the few fields the adapter reads
// itself. The request is read once without reflection (probe.go, with
// shared/jsonscan): its shape told and its records sliced out, a stream
// record's identifiers read in the same pass; records of the other shapes
// are then decoded with encoding/json, which is not their cost. A function
// that decodes stream records itself can have them decoded in that same
// pass too (WithStreamReader: the adapter hands each record to the
// function's StreamReader and moves past it), rather than the adapter
// checking each record whole only for the function to read it again.
package batch
