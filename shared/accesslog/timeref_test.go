package accesslog

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lakestream/shared/excerpt"
)

// The time reading and writing Parse had before it did its calendar
// arithmetic with shared/civil, the reference of FuzzParseTime.

// referenceParseTime reads %t, "10/Oct/2000:13:55:36 -0700", also with fractional
// seconds after the seconds ("13:55:36.123", as Apache logs with
// %{msec_frac}t and NGINX with a custom $msec format). It returns the instant
// and the fractional digits as written.
func referenceParseTime(v string) (time.Time, string, error) {
	bad := func() (time.Time, string, error) {
		return time.Time{}, "", errorf("time %s is not dd/Mon/yyyy:hh:mm:ss +zzzz", excerpt.Quote(v))
	}
	// dd/Mon/yyyy:hh:mm:ss is 20 bytes, " +zzzz" 6 more.
	if len(v) < 26 || v[2] != '/' || v[6] != '/' || v[11] != ':' || v[14] != ':' || v[17] != ':' {
		return bad()
	}
	day, ok1 := atoi(v[0:2])
	year, ok2 := atoi(v[7:11])
	hour, ok3 := atoi(v[12:14])
	minute, ok4 := atoi(v[15:17])
	sec, ok5 := atoi(v[18:20])
	month := 0
	for m, name := range [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"} {
		if v[3:6] == name {
			month = m + 1
		}
	}
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || month == 0 {
		return bad()
	}
	rest := v[20:]
	frac := ""
	if rest[0] == '.' {
		k := 1
		for k < len(rest) && isDigit(rest[k]) {
			k++
		}
		if k == 1 || k > 10 {
			return bad()
		}
		frac, rest = rest[1:k], rest[k:]
	}
	if len(rest) != 6 || rest[0] != ' ' || (rest[1] != '+' && rest[1] != '-') {
		return bad()
	}
	zh, ok1 := atoi(rest[2:4])
	zm, ok2 := atoi(rest[4:6])
	if !ok1 || !ok2 || zh > 23 || zm > 59 {
		return bad()
	}
	if hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, "", errorf("time %s has no such time of day", excerpt.Quote(v))
	}
	nsec := 0
	for k := 0; k < 9; k++ {
		nsec *= 10
		if k < len(frac) {
			nsec += int(frac[k] - '0')
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, "", errorf("time %s has no such date", excerpt.Quote(v))
	}
	offset := time.Duration(zh)*time.Hour + time.Duration(zm)*time.Minute
	if rest[1] == '+' {
		offset = -offset
	}
	t = t.Add(offset)
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, "", errorf("time %s is out of range in UTC", excerpt.Quote(v))
	}
	return t, frac, nil
}

// referenceAppendTime writes t (in UTC, year 0-9999) as RFC 3339 with the given
// fractional digits: time.Format would drop trailing zeros the log has.
func referenceAppendTime(b []byte, t time.Time, frac string) []byte {
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	b = appendInt(b, year, 4)
	b = append(b, '-')
	b = appendInt(b, int(month), 2)
	b = append(b, '-')
	b = appendInt(b, day, 2)
	b = append(b, 'T')
	b = appendInt(b, hour, 2)
	b = append(b, ':')
	b = appendInt(b, minute, 2)
	b = append(b, ':')
	b = appendInt(b, sec, 2)
	if frac != "" {
		b = append(b, '.')
		b = append(b, frac...)
	}
	return append(b, 'Z')
}

// FuzzParseTime holds the time reading and writing to the reference that
// used package time: the same instant and text, or the same error.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"10/Oct/2000:13:55:36 -0700", "01/Jan/0000:00:00:00 +0001", "31/Dec/9999:23:59:59 -2359",
		"29/Feb/2023:00:00:00 +0000", "29/Feb/2024:12:00:00.000100 +0530", "00/Jan/2024:00:00:00 +0000",
		"31/Apr/2024:00:00:00 +0000", "05/Mar/2024:24:00:00 +0000", "05/Mar/2024:06:07:08.123456789 -1200",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		want, wantFrac, wantErr := referenceParseTime(v)
		sec, nsec, frac, err := parseTime(v)
		if wantErr != nil {
			require.Error(t, err)
			require.Equal(t, wantErr.Error(), err.Error())
			return
		}
		require.NoError(t, err)
		require.Equal(t, want.Unix(), sec)
		require.Equal(t, want.Nanosecond(), nsec)
		require.Equal(t, want.UnixMilli(), sec*1000+int64(nsec/1e6))
		require.Equal(t, wantFrac, frac)
		require.Equal(t, string(referenceAppendTime(nil, want, wantFrac)), string(appendTime(nil, sec, frac)))
	})
}
