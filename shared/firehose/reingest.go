package firehose

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// Reingest is one payload to put back into the stream the batch came from.
type Reingest struct {
	Data []byte
	// PartitionKey is the original record's Kinesis partition key (Kinesis
	// sources only), so the payload lands on the same shard ordering.
	PartitionKey string
}

// Reingester puts payloads back into the batch's source stream. ev is the
// request's invocation fields (which stream it came from), without its
// records. An error means some payload was not written after every retry:
// the handler then fails the invocation so Firehose retries the batch and
// nothing is lost. The payloads' data is only valid during the call.
//
// streamput.SourceReingester is the one the functions use; it lives there
// so that this package, and the transformers that need no re-ingestion,
// link no AWS SDK.
type Reingester interface {
	Reingest(ctx context.Context, ev events.KinesisFirehoseEvent, payloads []Reingest) error
}
