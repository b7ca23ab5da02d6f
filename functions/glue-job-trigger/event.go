package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"lakestream/shared/eventbridge"
)

// Trigger is what kind of event started a run; each has its own arguments.
type Trigger string

// The triggers, named as in the result and the ..._ARGUMENTS variables.
const (
	TriggerSchedule Trigger = "schedule"
	TriggerObject   Trigger = "object"
	TriggerCrawler  Trigger = "crawler"
)

// Event is what every trigger's arguments can use: the event's id and time
// (RFC 3339, UTC) and the window before that time.
type Event struct {
	EventID string
	Time    string
	Window
}

// ScheduleData is what SCHEDULE_ARGUMENTS can use.
type ScheduleData struct {
	Event
	// Rule is the ARN of the schedule rule that fired.
	Rule string
}

// ObjectData is what OBJECT_ARGUMENTS can use.
type ObjectData struct {
	Event
	Bucket, Key string
	// Path is s3://bucket/key; Folder is the s3:// path of the key's
	// folder, with a trailing slash.
	Path, Folder string
	// Partition holds the Hive-style name=value segments of the key
	// (dt=2024-05-01/hour=12/...).
	Partition       map[string]string
	ETag, Sequencer string
	VersionID       string
	Size            int64
}

// CrawlerData is what CRAWLER_ARGUMENTS can use.
type CrawlerData struct {
	Event
	Crawler string
}

// ErrMalformedEvent is wrapped by every error decodeEvent returns.
var ErrMalformedEvent = errors.New("malformed event")

// trigger is a decoded event: which arguments to render with what data, or
// why the event starts nothing.
type trigger struct {
	kind   Trigger
	data   any
	ignore string
}

// decodeEvent reads an EventBridge event into the data its trigger's
// arguments are rendered with; the window is period p before the event's
// time in loc.
func decodeEvent(ev events.CloudWatchEvent, p Period, loc *time.Location) (trigger, error) {
	if ev.Time.IsZero() {
		return trigger{}, fmt.Errorf("%w: %q event has no time", ErrMalformedEvent, ev.DetailType)
	}
	base := Event{EventID: ev.ID, Time: ev.Time.UTC().Format(time.RFC3339), Window: previous(ev.Time, p, loc)}
	switch ev.DetailType {
	case eventbridge.DetailTypeScheduled:
		d := ScheduleData{Event: base}
		if len(ev.Resources) > 0 {
			d.Rule = ev.Resources[0]
		}
		return trigger{kind: TriggerSchedule, data: d}, nil
	case eventbridge.DetailTypeS3ObjectCreated:
		var s eventbridge.S3ObjectCreatedDetail
		if err := decodeDetail(ev, &s); err != nil {
			return trigger{}, err
		}
		if s.Bucket.Name == "" || s.Object.Key == "" {
			return trigger{}, fmt.Errorf("%w: %s has no detail.bucket.name or detail.object.key", ErrMalformedEvent, ev.DetailType)
		}
		d := ObjectData{
			Event: base, Bucket: s.Bucket.Name, Key: s.Object.Key,
			Path:      "s3://" + s.Bucket.Name + "/" + s.Object.Key,
			Folder:    "s3://" + s.Bucket.Name + "/",
			Partition: map[string]string{},
			ETag:      s.Object.ETag, Sequencer: s.Object.Sequencer, VersionID: s.Object.VersionID, Size: s.Object.Size,
		}
		if i := strings.LastIndexByte(s.Object.Key, '/'); i >= 0 {
			d.Folder += s.Object.Key[:i+1]
			for _, seg := range strings.Split(s.Object.Key[:i], "/") {
				if k, v, ok := strings.Cut(seg, "="); ok && k != "" {
					d.Partition[k] = v
				}
			}
		}
		return trigger{kind: TriggerObject, data: d}, nil
	case eventbridge.DetailTypeGlueCrawlerStateChange:
		var c eventbridge.GlueCrawlerStateChangeDetail
		if err := decodeDetail(ev, &c); err != nil {
			return trigger{}, err
		}
		if c.CrawlerName == "" {
			return trigger{}, fmt.Errorf("%w: %s has no detail.crawlerName", ErrMalformedEvent, ev.DetailType)
		}
		if !strings.EqualFold(string(c.State), string(eventbridge.GlueCrawlerStateSucceeded)) {
			// A failed or cancelled crawl starts nothing.
			return trigger{kind: TriggerCrawler, ignore: fmt.Sprintf("crawler %s state is %q, not %s", c.CrawlerName, c.State, eventbridge.GlueCrawlerStateSucceeded)}, nil
		}
		return trigger{kind: TriggerCrawler, data: CrawlerData{Event: base, Crawler: c.CrawlerName}}, nil
	}
	return trigger{}, fmt.Errorf("%w: detail-type %q is not one of %q, %q, %q", ErrMalformedEvent,
		ev.DetailType, eventbridge.DetailTypeScheduled, eventbridge.DetailTypeS3ObjectCreated, eventbridge.DetailTypeGlueCrawlerStateChange)
}

func decodeDetail(ev events.CloudWatchEvent, v any) error {
	if len(bytes.TrimSpace(ev.Detail)) == 0 {
		return fmt.Errorf("%w: %s has no detail", ErrMalformedEvent, ev.DetailType)
	}
	if err := json.Unmarshal(ev.Detail, v); err != nil {
		return fmt.Errorf("%w: %s detail: %w", ErrMalformedEvent, ev.DetailType, err)
	}
	return nil
}
