package main

import "time"

// Period is the length of the window a job run processes.
type Period string

// The periods WINDOW accepts.
const (
	PeriodHour Period = "hour"
	PeriodDay  Period = "day"
)

// Window is the period before an event's time, in the configured time
// zone: the hour (or day) that has just ended when the schedule fires. It is
// computed from the event's own time, never the clock, so a redelivered
// event names the same window.
type Window struct {
	Start, End time.Time
	// Date (2006-01-02), Year, Month, Day and Hour (00-23) are Start's, as
	// job arguments usually want them.
	Date, Year, Month, Day, Hour string
}

// previous returns the whole period that ended at or before t, in loc.
// Days are calendar days, so 23 or 25 hours long across a DST change; an
// hour repeated when clocks go back gives the same Date and Hour twice,
// which is one reason the default zone is UTC.
func previous(t time.Time, p Period, loc *time.Location) Window {
	t = t.In(loc)
	var start, end time.Time
	switch p {
	case PeriodDay:
		end = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		start = time.Date(t.Year(), t.Month(), t.Day()-1, 0, 0, 0, 0, loc)
	default:
		// Truncate works on absolute time, so the hour boundary is right
		// in zones whose offset is not a whole number of hours too.
		end = t.Truncate(time.Minute).Add(-time.Duration(t.Minute()) * time.Minute)
		start = end.Add(-time.Hour).In(loc)
	}
	return Window{
		Start: start, End: end,
		Date: start.Format("2006-01-02"),
		Year: start.Format("2006"), Month: start.Format("01"), Day: start.Format("02"),
		Hour: start.Format("15"),
	}
}
