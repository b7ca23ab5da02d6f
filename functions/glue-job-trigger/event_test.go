package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/eventbridge"
)

func readEvent(t testing.TB, path string) events.CloudWatchEvent {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var ev events.CloudWatchEvent
	require.NoError(t, json.Unmarshal(b, &ev), path)
	return ev
}

var eventTime = time.Date(2024, 5, 1, 13, 5, 0, 0, time.UTC)

func event(detailType, detail string) events.CloudWatchEvent {
	return events.CloudWatchEvent{ID: "e1", DetailType: detailType, Time: eventTime, Detail: json.RawMessage(detail)}
}

func TestDecodeEvent(t *testing.T) {
	base := func(id, at string) Event {
		tm, err := time.Parse(time.RFC3339, at)
		require.NoError(t, err)
		return Event{EventID: id, Time: at, Window: previous(tm, PeriodHour, time.UTC)}
	}
	tests := map[string]struct {
		ev   events.CloudWatchEvent
		want trigger
	}{
		"sample schedule": {
			ev: readEvent(t, "../../events/glue-job-trigger/scheduled.json"),
			want: trigger{kind: TriggerSchedule, data: ScheduleData{
				Event: base("89d1a02d-5ec7-412e-82f5-13505f849b41", "2024-05-01T13:05:00Z"),
				Rule:  "arn:aws:events:us-east-1:123456789012:rule/lakestream-GlueJobTriggerFunctionHourly-1A2B3C4D5E6F",
			}},
		},
		"sample object": {
			ev: readEvent(t, "../../events/glue-job-trigger/object-created.json"),
			want: trigger{kind: TriggerObject, data: ObjectData{
				Event:     base("17793124-05d4-b198-2fde-7ededc63b103", "2024-05-01T12:58:31Z"),
				Bucket:    "lake-raw",
				Key:       "incoming/orders/dt=2024-05-01/hour=12/orders-1-2024-05-01-12-58-30-6f1c2a4e-9b7d-4c3a-8e21-0d5f6a7b8c9d.parquet",
				Path:      "s3://lake-raw/incoming/orders/dt=2024-05-01/hour=12/orders-1-2024-05-01-12-58-30-6f1c2a4e-9b7d-4c3a-8e21-0d5f6a7b8c9d.parquet",
				Folder:    "s3://lake-raw/incoming/orders/dt=2024-05-01/hour=12/",
				Partition: map[string]string{"dt": "2024-05-01", "hour": "12"},
				ETag:      "b1946ac92492d2347c6235b4d2611184", Sequencer: "00617F08299329D189", Size: 52311,
			}},
		},
		"sample crawler": {
			ev:   readEvent(t, "../../events/glue-job-trigger/crawler-succeeded.json"),
			want: trigger{kind: TriggerCrawler, data: CrawlerData{Event: base("c1a4e5f2-9b0d-4e63-8f17-6d2a0b4c7e90", "2024-05-01T12:05:00Z"), Crawler: "lake-crawler"}},
		},
		"object at the bucket root, key with spaces not decoded": {
			ev: event(eventbridge.DetailTypeS3ObjectCreated, `{"bucket":{"name":"b"},"object":{"key":"a b+c.json"}}`),
			want: trigger{kind: TriggerObject, data: ObjectData{
				Event: base("e1", "2024-05-01T13:05:00Z"), Bucket: "b", Key: "a b+c.json",
				Path: "s3://b/a b+c.json", Folder: "s3://b/", Partition: map[string]string{},
			}},
		},
		"failed crawl": {
			ev:   event(eventbridge.DetailTypeGlueCrawlerStateChange, `{"crawlerName":"c","state":"Failed"}`),
			want: trigger{kind: TriggerCrawler, ignore: `crawler c state is "Failed", not Succeeded`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := decodeEvent(tc.ev, PeriodHour, time.UTC)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeEventMalformed(t *testing.T) {
	noTime := event(eventbridge.DetailTypeScheduled, `{}`)
	noTime.Time = time.Time{}
	tests := map[string]struct {
		ev  events.CloudWatchEvent
		err string
	}{
		"unknown detail type": {
			ev:  event("Glue Job State Change", `{}`),
			err: `malformed event: detail-type "Glue Job State Change" is not one of "Scheduled Event", "Object Created", "Glue Crawler State Change"`,
		},
		"no time": {ev: noTime, err: `malformed event: "Scheduled Event" event has no time`},
		"object without detail": {
			ev: event(eventbridge.DetailTypeS3ObjectCreated, ``), err: "malformed event: Object Created has no detail",
		},
		"object without key": {
			ev:  event(eventbridge.DetailTypeS3ObjectCreated, `{"bucket":{"name":"b"},"object":{}}`),
			err: "malformed event: Object Created has no detail.bucket.name or detail.object.key",
		},
		"object detail not an object": {
			ev:  event(eventbridge.DetailTypeS3ObjectCreated, `[1]`),
			err: "malformed event: Object Created detail: json: cannot unmarshal array into Go value of type eventbridge.S3ObjectCreatedDetail",
		},
		"crawler without name": {
			ev: event(eventbridge.DetailTypeGlueCrawlerStateChange, `{"state":"Succeeded"}`), err: "malformed event: Glue Crawler State Change has no detail.crawlerName",
		},
		"crawler detail truncated": {
			ev:  event(eventbridge.DetailTypeGlueCrawlerStateChange, `{"crawlerName":`),
			err: "malformed event: Glue Crawler State Change detail: unexpected end of JSON input",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decodeEvent(tc.ev, PeriodHour, time.UTC)
			require.ErrorIs(t, err, ErrMalformedEvent)
			assert.EqualError(t, err, tc.err)
		})
	}
}

// FuzzDecodeEvent: decoding any detail under any detail type never
// panics, fails only with ErrMalformedEvent, and the data it returns renders
// the default arguments of its trigger or fails with a clear error.
func FuzzDecodeEvent(f *testing.F) {
	samples, err := filepath.Glob("../../events/glue-job-trigger/*.json")
	require.NoError(f, err)
	for _, s := range samples {
		ev := readEvent(f, s)
		f.Add(ev.DetailType, string(ev.Detail), ev.Time.Unix())
	}
	f.Add(eventbridge.DetailTypeS3ObjectCreated, `{"bucket":{"name":"b"},"object":{"key":"/=/x=/=y/"}}`, int64(0))
	f.Add(eventbridge.DetailTypeGlueCrawlerStateChange, `{"crawlerName":"c","state":"SUCCEEDED"}`, int64(-1))
	cfg := loadConfig(testEnv(map[string]string{"JOB_NAME": "j"}))

	f.Fuzz(func(t *testing.T, detailType, detail string, unix int64) {
		ev := event(detailType, detail)
		ev.Time = time.Unix(unix, 0)
		trig, err := decodeEvent(ev, PeriodHour, time.UTC)
		if err != nil {
			require.True(t, errors.Is(err, ErrMalformedEvent), "error without ErrMalformedEvent: %v", err)
			return
		}
		if trig.ignore != "" {
			assert.Nil(t, trig.data)
			return
		}
		args, err := cfg.Arguments[trig.kind].render(trig.data)
		if err == nil {
			assert.NotEmpty(t, args)
		}
	})
}
