package batch

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/eventbridge"
)

// eventBridgeJSON is an EventBridge event whose time, like an S3 record's
// eventTime, is read leniently: a time in another form (an emulator's
// epoch seconds) leaves it zero rather than losing the event.
type eventBridgeJSON struct {
	events.EventBridgeEvent
	Time json.RawMessage `json:"time"`
}

// decodeEventBridge reads one EventBridge event. S3's Object Created is
// also read as an S3 object, the same as a notification's.
func decodeEventBridge(raw []byte) *Item {
	var e eventBridgeJSON
	if err := json.Unmarshal(raw, &e); err != nil {
		return &Item{err: fmt.Errorf("%w: EventBridge event: %w", ErrUnreadable, err)}
	}
	ev := e.EventBridgeEvent
	ev.Time = parseTime(jsonString(e.Time))
	it := &Item{Event: &ev}
	if ev.Source != eventbridge.SourceS3 || ev.DetailType != eventbridge.DetailTypeS3ObjectCreated {
		return it
	}
	var d eventbridge.S3ObjectCreatedDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		it.err = fmt.Errorf("%w: EventBridge %s detail: %w", ErrUnreadable, ev.DetailType, err)
		return it
	}
	it.S3 = &S3Object{
		Bucket: d.Bucket.Name, Key: d.Object.Key, Size: d.Object.Size, ETag: d.Object.ETag,
		VersionID: d.Object.VersionID, Sequencer: d.Object.Sequencer, Event: ev.DetailType, Time: ev.Time,
	}
	it.err = checkObject(it.S3)
	return it
}

// jsonString returns a JSON string's value, or "" for any other JSON value.
func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}
