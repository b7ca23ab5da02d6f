package main

import (
	"time"
	// The Lambda runtime image need not carry the zone database that
	// TIME_ZONE names; the binary brings its own.
	_ "time/tzdata"

	"lakestream/shared/config"
	"lakestream/shared/retry"
)

// Default argument templates: the previous hour for the schedule, the
// object for S3 events, the crawl (by its event time, so a redelivered event
// is recognised and the next crawl is not) for crawler events.
const (
	DefaultScheduleArguments = `{"--date":"{{.Date}}","--hour":"{{.Hour}}"}`
	DefaultObjectArguments   = `{"--path":"{{.Path}}"}`
	DefaultCrawlerArguments  = `{"--crawler":"{{.Crawler}}","--crawl-time":"{{.Time}}"}`
)

// Config is the trigger's settings, read once at start-up.
type Config struct {
	// JobName is the Glue job to start (JOB_NAME).
	JobName string
	// Period and Location define the window before an event's time
	// (WINDOW: hour or day; TIME_ZONE, default UTC).
	Period   Period
	Location *time.Location
	// Arguments per trigger (SCHEDULE_ARGUMENTS, OBJECT_ARGUMENTS,
	// CRAWLER_ARGUMENTS).
	Arguments map[Trigger]*Arguments
	// RecentRuns is how many of the job's latest runs are searched for a
	// run with the same arguments before starting one (RECENT_RUNS).
	RecentRuns int
	// Retry bounds the attempts to start the run, each one looking for it
	// first, while the job is at its maximum concurrent runs or a call
	// fails for a passing reason (START_ATTEMPTS, backing off from
	// START_BACKOFF).
	Retry retry.Policy
}

// loadConfig reads the trigger's variables; problems are recorded in env.
func loadConfig(env *config.Env) Config {
	c := Config{
		JobName:    env.Required("JOB_NAME", "the name of the Glue job to start"),
		Period:     Period(env.OneOf("WINDOW", string(PeriodHour), string(PeriodHour), string(PeriodDay))),
		RecentRuns: env.Int("RECENT_RUNS", 200, 1, 2000),
		Arguments:  map[Trigger]*Arguments{},
	}
	c.Location = config.Parse(env, "TIME_ZONE", time.UTC, `an IANA time zone such as "UTC" or "Europe/Berlin"`, time.LoadLocation)
	backoff := env.Duration("START_BACKOFF", 2*time.Second)
	c.Retry = retry.Policy{MaxAttempts: env.Int("START_ATTEMPTS", 5, 1, 20), Base: backoff, Max: 16 * backoff}

	// Each trigger's templates are checked against its own data, so a
	// schedule template that uses {{.Path}} fails here.
	now := time.Date(2024, 5, 1, 12, 5, 0, 0, time.UTC)
	base := Event{EventID: "sample", Time: now.Format(time.RFC3339), Window: previous(now, c.Period, c.Location)}
	for _, a := range []struct {
		trigger Trigger
		name    string
		def     string
		sample  any
	}{
		{TriggerSchedule, "SCHEDULE_ARGUMENTS", DefaultScheduleArguments, ScheduleData{Event: base}},
		{TriggerObject, "OBJECT_ARGUMENTS", DefaultObjectArguments, ObjectData{Event: base, Partition: map[string]string{}}},
		{TriggerCrawler, "CRAWLER_ARGUMENTS", DefaultCrawlerArguments, CrawlerData{Event: base}},
	} {
		spec := env.String(a.name, a.def)
		args, err := parseArguments(spec, a.sample)
		if err != nil {
			env.Fail(a.name, spec, `a JSON object of "--name": "template" job arguments, such as `+a.def+" ("+err.Error()+")")
			continue
		}
		c.Arguments[a.trigger] = args
	}
	return c
}
