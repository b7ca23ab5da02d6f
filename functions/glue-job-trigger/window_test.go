package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrevious(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	require.NoError(t, err)
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return v
	}
	tests := map[string]struct {
		at         string
		period     Period
		loc        *time.Location
		start, end string // RFC 3339, UTC
		date, hour string
	}{
		"hourly schedule": {
			at: "2024-05-01T13:05:00Z", period: PeriodHour, loc: time.UTC,
			start: "2024-05-01T12:00:00Z", end: "2024-05-01T13:00:00Z", date: "2024-05-01", hour: "12",
		},
		"on the hour": {
			at: "2024-05-01T13:00:00Z", period: PeriodHour, loc: time.UTC,
			start: "2024-05-01T12:00:00Z", end: "2024-05-01T13:00:00Z", date: "2024-05-01", hour: "12",
		},
		"just after midnight is yesterday's last hour": {
			at: "2024-01-01T00:00:59Z", period: PeriodHour, loc: time.UTC,
			start: "2023-12-31T23:00:00Z", end: "2024-01-01T00:00:00Z", date: "2023-12-31", hour: "23",
		},
		"daily": {
			at: "2024-03-01T00:10:00Z", period: PeriodDay, loc: time.UTC,
			start: "2024-02-29T00:00:00Z", end: "2024-03-01T00:00:00Z", date: "2024-02-29", hour: "00",
		},
		"local hour": {
			at: "2024-05-01T13:05:00Z", period: PeriodHour, loc: berlin, // 15:05 CEST
			start: "2024-05-01T12:00:00Z", end: "2024-05-01T13:00:00Z", date: "2024-05-01", hour: "14",
		},
		"half-hour offset": {
			at: "2024-05-01T13:05:00Z", period: PeriodHour, loc: kolkata, // 18:35 IST
			start: "2024-05-01T11:30:00Z", end: "2024-05-01T12:30:00Z", date: "2024-05-01", hour: "17",
		},
		"clocks go forward: 02:00 never happens": {
			at: "2024-03-31T01:10:00Z", period: PeriodHour, loc: berlin, // 03:10 CEST
			start: "2024-03-31T00:00:00Z", end: "2024-03-31T01:00:00Z", date: "2024-03-31", hour: "01",
		},
		"clocks go back: first 02:00": {
			at: "2024-10-27T01:10:00Z", period: PeriodHour, loc: berlin, // 02:10 CET, after 02:00-03:00 CEST
			start: "2024-10-27T00:00:00Z", end: "2024-10-27T01:00:00Z", date: "2024-10-27", hour: "02",
		},
		"clocks go back: second 02:00 has the same date and hour": {
			at: "2024-10-27T02:10:00Z", period: PeriodHour, loc: berlin, // 03:10 CET
			start: "2024-10-27T01:00:00Z", end: "2024-10-27T02:00:00Z", date: "2024-10-27", hour: "02",
		},
		"a 23-hour day": {
			at: "2024-04-01T00:30:00+02:00", period: PeriodDay, loc: berlin,
			start: "2024-03-30T23:00:00Z", end: "2024-03-31T22:00:00Z", date: "2024-03-31", hour: "00",
		},
		"a 25-hour day": {
			at: "2024-10-28T06:00:00+01:00", period: PeriodDay, loc: berlin,
			start: "2024-10-26T22:00:00Z", end: "2024-10-27T23:00:00Z", date: "2024-10-27", hour: "00",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := previous(utc(tc.at), tc.period, tc.loc)
			assert.Equal(t, tc.start, w.Start.UTC().Format(time.RFC3339))
			assert.Equal(t, tc.end, w.End.UTC().Format(time.RFC3339))
			assert.Equal(t, tc.date, w.Date)
			assert.Equal(t, tc.hour, w.Hour)
			assert.Equal(t, tc.date, w.Year+"-"+w.Month+"-"+w.Day)
			assert.Equal(t, tc.loc, w.Start.Location(), "Start is in the configured zone, for templates that format it")
		})
	}
}
