package batch

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
)

// decodeSNS reads an SNS event: each record's message is unwrapped. SNS
// retries whole invocations, so its items carry no identifier.
func decodeSNS(records []json.RawMessage) []*Item {
	var out []*Item
	for i, raw := range records {
		var r events.SNSEventRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			out = append(out, &Item{err: fmt.Errorf("%w: SNS record %d: %w", ErrUnreadable, i, err)})
			continue
		}
		out = append(out, unwrap([]byte(r.SNS.Message), false)...)
	}
	return out
}
