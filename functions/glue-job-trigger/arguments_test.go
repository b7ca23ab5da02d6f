package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
)

func testEnv(vars map[string]string) *config.Env { return config.New(config.FromMap(vars)) }

func TestRenderArguments(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	at := time.Date(2024, 5, 1, 13, 5, 0, 0, time.UTC)
	base := Event{EventID: "e1", Time: "2024-05-01T13:05:00Z", Window: previous(at, PeriodHour, time.UTC)}
	object := ObjectData{
		Event: base, Bucket: "lake-raw", Key: "in/dt=2024-05-01/f.json", Path: "s3://lake-raw/in/dt=2024-05-01/f.json",
		Folder: "s3://lake-raw/in/dt=2024-05-01/", Partition: map[string]string{"dt": "2024-05-01"}, Sequencer: "0A1B",
	}
	tests := map[string]struct {
		spec string
		data any
		want map[string]string
	}{
		"default schedule": {
			spec: DefaultScheduleArguments, data: ScheduleData{Event: base},
			want: map[string]string{"--date": "2024-05-01", "--hour": "12"},
		},
		"window bounds formatted": {
			spec: `{"--from":"{{.Start.Format \"2006-01-02T15:04:05Z07:00\"}}","--to":"{{.End.UTC.Format \"2006-01-02T15\"}}"}`,
			data: ScheduleData{Event: Event{Window: previous(at, PeriodDay, berlin)}},
			want: map[string]string{"--from": "2024-04-30T00:00:00+02:00", "--to": "2024-04-30T22"},
		},
		"default object": {
			spec: DefaultObjectArguments, data: object,
			want: map[string]string{"--path": "s3://lake-raw/in/dt=2024-05-01/f.json"},
		},
		"object partition and sequencer": {
			spec: `{"--input":"{{.Folder}}","--dt":"{{.Partition.dt}}","--seq":"{{.Sequencer}}"}`, data: object,
			want: map[string]string{"--input": "s3://lake-raw/in/dt=2024-05-01/", "--dt": "2024-05-01", "--seq": "0A1B"},
		},
		"default crawler": {
			spec: DefaultCrawlerArguments, data: CrawlerData{Event: base, Crawler: "lake-crawler"},
			want: map[string]string{"--crawler": "lake-crawler", "--crawl-time": "2024-05-01T13:05:00Z"},
		},
		"constant argument": {
			spec: `{"--job-bookmark-option":"job-bookmark-disable","--hour":"{{.Hour}}"}`, data: ScheduleData{Event: base},
			want: map[string]string{"--job-bookmark-option": "job-bookmark-disable", "--hour": "12"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a, err := parseArguments(tc.spec, tc.data)
			require.NoError(t, err)
			got, err := a.render(tc.data)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRenderArgumentsEmpty(t *testing.T) {
	a, err := parseArguments(`{"--dt":"{{.Partition.dt}}"}`, ObjectData{})
	require.NoError(t, err, "a partition the sample lacks is no start-up error")
	_, err = a.render(ObjectData{Partition: map[string]string{"date": "2024-05-01"}})
	assert.EqualError(t, err, "argument --dt renders empty for this event")
}

func TestParseArgumentsInvalid(t *testing.T) {
	tests := map[string]struct {
		spec   string
		sample any
		err    string
	}{
		"not JSON":        {`--date={{.Date}}`, ScheduleData{}, "not a JSON object of argument templates: invalid character '-' in numeric literal"},
		"not strings":     {`{"--n":1}`, ScheduleData{}, "not a JSON object of argument templates: json: cannot unmarshal number into Go value of type string"},
		"empty":           {`{}`, ScheduleData{}, "no arguments"},
		"name without --": {`{"date":"{{.Date}}"}`, ScheduleData{}, `argument name "date" does not start with "--"`},
		"bare --":         {`{"--":"x"}`, ScheduleData{}, `argument name "--" does not start with "--"`},
		"template syntax": {`{"--date":"{{.Date"}`, ScheduleData{}, `argument --date: template: --date:1: unclosed action`},
		"field of another trigger": {
			`{"--path":"{{.Path}}"}`, ScheduleData{},
			`argument --path: template: --path:1:2: executing "--path" at <.Path>: can't evaluate field Path in type main.ScheduleData`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseArguments(tc.spec, tc.sample)
			assert.EqualError(t, err, tc.err)
		})
	}
}

func TestLoadConfig(t *testing.T) {
	env := testEnv(map[string]string{
		"JOB_NAME": "etl", "WINDOW": "DAY", "TIME_ZONE": "Europe/Berlin", "RECENT_RUNS": "50",
		"START_ATTEMPTS": "3", "START_BACKOFF": "100ms", "SCHEDULE_ARGUMENTS": `{"--day":"{{.Date}}"}`,
	})
	cfg := loadConfig(env)
	require.NoError(t, env.Err())
	assert.Equal(t, "etl", cfg.JobName)
	assert.Equal(t, PeriodDay, cfg.Period)
	assert.Equal(t, "Europe/Berlin", cfg.Location.String())
	assert.Equal(t, 50, cfg.RecentRuns)
	assert.Equal(t, 3, cfg.Retry.MaxAttempts)
	assert.Equal(t, 100*time.Millisecond, cfg.Retry.Base)
	assert.Equal(t, 1600*time.Millisecond, cfg.Retry.Max)
	require.Len(t, cfg.Arguments, 3)

	env = testEnv(map[string]string{"JOB_NAME": "etl"})
	cfg = loadConfig(env)
	require.NoError(t, env.Err())
	assert.Equal(t, time.UTC, cfg.Location, "UTC unless TIME_ZONE says otherwise")
	assert.Equal(t, PeriodHour, cfg.Period)
	assert.Equal(t, 5, cfg.Retry.MaxAttempts)
}

func TestLoadConfigInvalid(t *testing.T) {
	env := testEnv(map[string]string{
		"WINDOW": "week", "TIME_ZONE": "Mars/Olympus", "RECENT_RUNS": "0", "START_ATTEMPTS": "99", "START_BACKOFF": "-1s",
		"SCHEDULE_ARGUMENTS": `{"--path":"{{.Path}}"}`, "OBJECT_ARGUMENTS": `["--path"]`, "CRAWLER_ARGUMENTS": `{"crawler":"{{.Crawler}}"}`,
	})
	loadConfig(env)
	err := env.Err()
	require.Error(t, err)
	for _, want := range []string{
		"JOB_NAME is required: the name of the Glue job to start",
		`WINDOW="week" is invalid: one of hour, day`,
		`TIME_ZONE="Mars/Olympus" is invalid: an IANA time zone`,
		`RECENT_RUNS="0" is invalid: an integer from 1 to 2000`,
		`START_ATTEMPTS="99" is invalid: an integer from 1 to 20`,
		`START_BACKOFF="-1s" is invalid`,
		`SCHEDULE_ARGUMENTS="{\"--path\":\"{{.Path}}\"}" is invalid: a JSON object of "--name": "template" job arguments`,
		"can't evaluate field Path in type main.ScheduleData",
		`OBJECT_ARGUMENTS="[\"--path\"]" is invalid`,
		`CRAWLER_ARGUMENTS="{\"crawler\":\"{{.Crawler}}\"}" is invalid`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}
