// Package firehose is the data-transformation framework every Firehose
// transformer in lakestream uses. A function supplies one plain per-record
// Transformer; this package owns the Firehose contract around it: the
// request decoded strictly and without reflection (DecodeRequest), exactly
// one response record per input record with the same recordId, result
// statuses, recovery from a failing or panicking record, the 6 MB response
// budget, re-ingestion of what does not fit and the time kept back from the
// deadline to answer in. It links no AWS SDK: the re-ingester that writes
// to Firehose or Kinesis is streamput.SourceReingester.
package firehose

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Record is one input record as a Transformer sees it: the bytes already
// base64-decoded. Data and Kinesis point into memory the handler reuses
// for the next invocation: a Transformer may return Data (or part of it) as
// its output, but must not keep either after the invocation.
type Record struct {
	ID          string
	Data        []byte
	ArrivalTime time.Time
	// Kinesis is set when the delivery stream reads from a Kinesis stream;
	// its PartitionKey is what re-ingestion puts records back with.
	Kinesis *events.KinesisFirehoseRecordMetadata
	// Out, with WithOutArena, is empty memory with room that the handler
	// keeps for the invocation's outputs: a Transformer that appends its
	// output to Out and returns it as Output.Data allocates nothing for
	// it while it fits (appending past its capacity moves to new memory,
	// as append does). Only Data may point into Out; like Data, it is
	// reused for the next invocation.
	Out []byte
}

// Output is what a Transformer makes of one record.
type Output struct {
	// Data is the transformed record (for example newline-delimited JSON).
	Data []byte
	// PartitionKeys become metadata.partitionKeys for Firehose dynamic
	// partitioning; nil when the stream does not partition. The handler
	// reads the map until the response is written, so a transform must
	// not change a map it returned during the invocation (it returns a
	// new one instead). Returning the same map for every record of a
	// partition, as the shared pipeline does, costs the least: each map
	// is encoded once per invocation.
	PartitionKeys map[string]string
	// Drop filters the record out on purpose (result Dropped).
	Drop bool
	// Reingest, when not empty, replaces this record with new payloads put
	// back into the source stream (the record itself is returned Dropped).
	// A transform uses it to split a record whose output alone would not
	// fit in a Lambda response.
	Reingest [][]byte
}

// Transformer turns one record into its output. Returning an error fails
// that record alone (ProcessingFailed, sent to the processing-failed
// prefix); it never fails the batch.
type Transformer interface {
	Transform(ctx context.Context, r Record) (Output, error)
}

// Transform is a Transformer that is a func. A type with a Transform
// method (the shared pipeline) is handed to NewHandler itself, not as the
// method value: the handler then calls the method directly, where a
// method value adds a call through its closure for every record.
type Transform func(ctx context.Context, r Record) (Output, error)

// Transform calls t.
func (t Transform) Transform(ctx context.Context, r Record) (Output, error) { return t(ctx, r) }
