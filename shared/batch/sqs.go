package batch

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
)

// decodeSQS reads an SQS batch: each message's body is unwrapped on its
// own, so one bad body fails only its message, and every item of a message
// carries its messageId.
func decodeSQS(records []json.RawMessage) []*Item {
	var out []*Item
	for i, raw := range records {
		var m events.SQSMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			// The messageId, when it was read, still names the message.
			out = append(out, &Item{ID: m.MessageId, err: fmt.Errorf("%w: SQS record %d: %w", ErrUnreadable, i, err)})
			continue
		}
		for _, it := range unwrap([]byte(m.Body), true) {
			it.ID = m.MessageId
			out = append(out, it)
		}
	}
	return out
}
