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
	// Each number as its fixed two digits: a loop over each took a
	// third of reading a time.
	day, ok1 := two(v, 0)
	century, ok2 := two(v, 7)
	year, ok3 := two(v, 9)
	hour, ok4 := two(v, 12)
	minute, ok5 := two(v, 15)
	second, ok6 := two(v, 18)
	month := civil.Month(v[3:6])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || month == 0 {
		return Time{}, ErrTimeForm
	}
	year += century * 100
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
	zh, ok1 := two(rest, 2)
	zm, ok2 := two(rest, 4)
	if !ok1 || !ok2 || zh > 23 || zm > 59 {
		return Time{}, ErrTimeForm
	}
	if hour > 23 || minute > 59 || second > 59 {
		return Time{}, ErrTimeOfDay
	}
	if !civil.Valid(year, month, day) {
		return Time{}, ErrDate
	}
	if t.Frac != "" {
		for k := 0; k < 9; k++ {
			t.Nano *= 10
			if k < len(t.Frac) {
				t.Nano += int(t.Frac[k] - '0')
			}
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

// two reads the two digits at s[i:i+2], which the caller checked are
// there.
func two(s string, i int) (int, bool) {
	hi, lo := s[i]-'0', s[i+1]-'0'
	return int(hi)*10 + int(lo), hi <= 9 && lo <= 9
}
