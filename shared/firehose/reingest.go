package firehose

import (
	"context"
	"encoding/base64"

	"github.com/aws/aws-lambda-go/events"
)

// Reingest is one payload to put back into the stream the batch came from.
type Reingest struct {
	Data []byte
	// Encoded, when not nil, is the payload instead of Data (which is
	// then nil), as the standard base64 text, padded, that encodes it:
	// a record going back as it came, in the text it came in, never
	// decoded. It is exactly what AppendBase64 gives for the payload, so
	// a writer puts it into its request as is. AppendData decodes it.
	Encoded []byte
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

// Len is the payload's length, decoded: known from Encoded's length and
// padding without decoding it.
func (p Reingest) Len() int {
	if p.Encoded != nil {
		return base64Len(p.Encoded)
	}
	return len(p.Data)
}

// AppendData appends the payload, decoded, to dst.
func (p Reingest) AppendData(dst []byte) []byte {
	if p.Encoded != nil {
		// Encoded is valid base64 (see Encoded): no error to report.
		dst, _ = base64.StdEncoding.AppendDecode(dst, p.Encoded)
		return dst
	}
	return append(dst, p.Data...)
}
