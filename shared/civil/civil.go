// Package civil converts between calendar dates and days since the Unix
// epoch in the proleptic Gregorian calendar, as package time counts them,
// with integer arithmetic and no time.Time. The log parsers read a
// timestamp and write it back in UTC on every line, where time.Date's
// normalisation, the zone lookups and the calendar splits of a time.Time
// took as long as parsing the rest of an access-log line.
//
// The conversions are Howard Hinnant's days_from_civil and civil_from_days
// (http://howardhinnant.github.io/date_algorithms.html), valid for every
// year an int can hold; FuzzDays holds them to package time.
package civil

import "time"

// Days returns the number of days from 1970-01-01 to the given date, which
// must exist (see Valid).
func Days(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := floorDiv(int64(year), 400)
	yoe := int64(year) - era*400 // [0, 399]
	mp := int64(month+9) % 12    // March is 0
	doy := (153*mp+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468
}

// Date returns the date that lies days after 1970-01-01.
func Date(days int64) (year, month, day int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // March is 0
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if mp >= 10 {
		month = int(mp - 9)
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, day
}

// Valid reports whether the date exists: month 1 to 12, day 1 to the
// month's length, February 29 in leap years only.
func Valid(year, month, day int) bool {
	return month >= 1 && month <= 12 && day >= 1 && day <= DaysIn(year, month)
}

// DaysIn returns the length of a month (1 to 12).
func DaysIn(year, month int) int {
	if month == 2 {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + (month+month/8)%2
}

// The first and the last second of the years 0 to 9999 in seconds since
// the epoch: the instants AppendRFC3339 writes, four digits to a year. A
// parser keeps a time within them by comparing its seconds, rather than
// working out its year.
const (
	MinRFC3339 = -62167219200 // 0000-01-01T00:00:00Z
	MaxRFC3339 = 253402300799 // 9999-12-31T23:59:59Z
)

// SplitSeconds splits seconds since the epoch into days since the epoch
// and seconds into the day, rounding towards minus infinity, so that times
// before 1970 fall on the right day.
func SplitSeconds(sec int64) (days int64, secOfDay int) {
	days = floorDiv(sec, 86400)
	return days, int(sec - days*86400)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// Month returns the number of a month's three-letter English abbreviation
// ("Jan" is 1), as the access log and syslog timestamps write it, or 0.
// (A switch on constants compares the three bytes at once.)
func Month(abbr string) int {
	switch abbr {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}

// AppendRFC3339 appends the instant sec (seconds since the epoch, in the
// years 0 to 9999) as RFC 3339 in UTC, "2006-01-02T15:04:05Z", with frac
// as its fractional digits when not empty ("…:05.120Z"): the parsers keep
// the digits the log has, which time.Format would cut at trailing zeros.
func AppendRFC3339(b []byte, sec int64, frac string) []byte {
	days, secOfDay := SplitSeconds(sec)
	year, month, day := Date(days)
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, month, 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, secOfDay/3600, 2)
	b = append(b, ':')
	b = appendDigits(b, secOfDay/60%60, 2)
	b = append(b, ':')
	b = appendDigits(b, secOfDay%60, 2)
	if frac != "" {
		b = append(b, '.')
		b = append(b, frac...)
	}
	return append(b, 'Z')
}

// AppendMillis appends t as RFC 3339 in UTC with its milliseconds
// (truncated, as time.Format truncates): all three digits
// ("…:05.120Z", Format's .000), or with trim the digits without their
// trailing zeros and no point when none is left ("…:05.12Z", Format's
// .999). ok is false, and b unchanged, for an instant outside the years 0
// to 9999, which the caller leaves to time.Format.
func AppendMillis(b []byte, t time.Time, trim bool) (_ []byte, ok bool) {
	sec := t.Unix()
	if sec < MinRFC3339 || sec > MaxRFC3339 {
		return b, false
	}
	ms := t.Nanosecond() / int(time.Millisecond)
	frac := [3]byte{byte('0' + ms/100), byte('0' + ms/10%10), byte('0' + ms%10)}
	n := len(frac)
	for trim && n > 0 && frac[n-1] == '0' {
		n--
	}
	return AppendRFC3339(b, sec, string(frac[:n])), true
}

// appendDigits appends a non-negative n below 10^width as exactly width
// digits (2 or 4), zero-padded. Each digit is appended on its own: a loop
// into a buffer copied out at the end took a third of AppendRFC3339.
func appendDigits(b []byte, n, width int) []byte {
	if width == 4 {
		b = append(b, byte('0'+n/1000), byte('0'+n/100%10))
	}
	return append(b, byte('0'+n/10%10), byte('0'+n%10))
}
