package logfield

import (
	"errors"

	"lakestream/shared/civil"
)

// Time is an instant ParseTime read.
type Time struct {
	// Unix is the instant in seconds since the Unix epoch.
	Unix int64
	// Nano is the nanoseconds within the second.
	Nano int
	// Frac is the fractional digits as written, "" when there are none.
	Frac string
}

// The ways ParseTime finds a time wrong, checked in this order. They are
// reasons, not messages: each parser words its own error.
var (
	// ErrTimeForm: not "dd/Mon/yyyy:hh:mm:ss[.fraction] +zzzz", or a zone
	// offset beyond 23:59.
	ErrTimeForm = errors.New("not dd/Mon/yyyy:hh:mm:ss +zzzz")
	// ErrTimeOfDay: an hour, minute or second out of range (24:00:00,
	// a leap second).
	ErrTimeOfDay = errors.New("no such time of day")
	// ErrDate: a day the month does not have.
	ErrDate = errors.New("no such date")
	// ErrTimeRange: outside the years 0 to 9999 once in UTC.
	ErrTimeRange = errors.New("out of range in UTC")
)

// ParseTime reads the time of the common log format, strftime's
// "%d/%b/%Y:%H:%M:%S %z" ("10/Oct/2000:13:55:36 -0700"), which Apache's %t,
// NGINX's $time_local and S3 server access logs write in brackets; also
// with one to nine fractional digits after the seconds ("13:55:36.123", as
// Apache logs with %{msec_frac}t and NGINX with a custom $msec format).
// The error is one of the Err values above.
func ParseTime(v string) (Time, error) {
	// dd/Mon/yyyy:hh:mm:ss is 20 bytes, " +zzzz" 6 more.
	if len(v) < 26 || v[2] != '/' || v[6] != '/' || v[11] != ':' || v[14] != ':' || v[17] != ':' {
		return Time{}, ErrTimeForm
	}
	day, ok1 := Atoi(v[0:2])
	year, ok2 := Atoi(v[7:11])
	hour, ok3 := Atoi(v[12:14])
	minute, ok4 := Atoi(v[15:17])
	second, ok5 := Atoi(v[18:20])
	month := civil.Month(v[3:6])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || month == 0 {
		return Time{}, ErrTimeForm
	}
	var t Time
	rest := v[20:]
	if rest[0] == '.' {
		k := 1
		for k < len(rest) && '0' <= rest[k] && rest[k] <= '9' {
			k++
		}
		if k == 1 || k > 10 {
			return Time{}, ErrTimeForm
		}
		t.Frac, rest = rest[1:k], rest[k:]
	}
	if len(rest) != 6 || rest[0] != ' ' || (rest[1] != '+' && rest[1] != '-') {
		return Time{}, ErrTimeForm
	}
	zh, ok1 := Atoi(rest[2:4])
	zm, ok2 := Atoi(rest[4:6])
	if !ok1 || !ok2 || zh > 23 || zm > 59 {
		return Time{}, ErrTimeForm
	}
	if hour > 23 || minute > 59 || second > 59 {
		return Time{}, ErrTimeOfDay
	}
	if !civil.Valid(year, month, day) {
		return Time{}, ErrDate
	}
	for k := 0; k < 9; k++ {
		t.Nano *= 10
		if k < len(t.Frac) {
			t.Nano += int(t.Frac[k] - '0')
		}
	}
	offset := int64(zh*3600 + zm*60)
	if rest[1] == '+' {
		offset = -offset
	}
	t.Unix = civil.Days(year, month, day)*86400 + int64(hour*3600+minute*60+second) + offset
	if t.Unix < civil.MinRFC3339 || t.Unix > civil.MaxRFC3339 {
		return Time{}, ErrTimeRange
	}
	return t, nil
}
