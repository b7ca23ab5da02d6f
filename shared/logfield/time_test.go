package logfield

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTime(t *testing.T) {
	tests := map[string]struct {
		v    string
		want string // RFC 3339, or the error
	}{
		"UTC":                 {"06/Feb/2019:00:00:38 +0000", "2019-02-06T00:00:38Z"},
		"west of UTC":         {"10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36Z"},
		"east of UTC":         {"01/Jan/2024:01:30:00 +0200", "2023-12-31T23:30:00Z"},
		"fraction":            {"05/Mar/2024:06:07:08.120 +0000", "2024-03-05T06:07:08.12Z"},
		"leap day":            {"29/Feb/2024:12:00:00 +0000", "2024-02-29T12:00:00Z"},
		"lower-case month":    {"06/feb/2019:00:00:38 +0000", ErrTimeForm.Error()},
		"no zone":             {"06/Feb/2019:00:00:38", ErrTimeForm.Error()},
		"zone minutes 60":     {"06/Feb/2019:00:00:38 +0060", ErrTimeForm.Error()},
		"empty fraction":      {"06/Feb/2019:00:00:38. +0000", ErrTimeForm.Error()},
		"ten fraction digits": {"06/Feb/2019:00:00:38.1234567890 +0000", ErrTimeForm.Error()},
		"hour 24":             {"06/Feb/2019:24:00:00 +0000", ErrTimeOfDay.Error()},
		"second 60":           {"06/Feb/2019:00:00:60 +0000", ErrTimeOfDay.Error()},
		"february 29, 2023":   {"29/Feb/2023:00:00:00 +0000", ErrDate.Error()},
		"day 0":               {"00/Jan/2024:00:00:00 +0000", ErrDate.Error()},
		"before year 0":       {"01/Jan/0000:00:00:00 +0100", ErrTimeRange.Error()},
		"after year 9999":     {"31/Dec/9999:23:59:59 -0001", ErrTimeRange.Error()},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseTime(tc.v)
			if err != nil {
				assert.Equal(t, tc.want, err.Error())
				return
			}
			assert.Equal(t, tc.want, time.Unix(got.Unix, int64(got.Nano)).UTC().Format(time.RFC3339Nano))
		})
	}
}

// referenceParseTime is the time reading the access log parser had before
// it did its calendar arithmetic with shared/civil (with package time),
// the reference of FuzzParseTime.
func referenceParseTime(v string) (time.Time, string, error) {
	// dd/Mon/yyyy:hh:mm:ss is 20 bytes, " +zzzz" 6 more.
	if len(v) < 26 || v[2] != '/' || v[6] != '/' || v[11] != ':' || v[14] != ':' || v[17] != ':' {
		return time.Time{}, "", ErrTimeForm
	}
	day, ok1 := Atoi(v[0:2])
	year, ok2 := Atoi(v[7:11])
	hour, ok3 := Atoi(v[12:14])
	minute, ok4 := Atoi(v[15:17])
	sec, ok5 := Atoi(v[18:20])
	month := 0
	for m, name := range [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"} {
		if v[3:6] == name {
			month = m + 1
		}
	}
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || month == 0 {
		return time.Time{}, "", ErrTimeForm
	}
	rest := v[20:]
	frac := ""
	if rest[0] == '.' {
		k := 1
		for k < len(rest) && '0' <= rest[k] && rest[k] <= '9' {
			k++
		}
		if k == 1 || k > 10 {
			return time.Time{}, "", ErrTimeForm
		}
		frac, rest = rest[1:k], rest[k:]
	}
	if len(rest) != 6 || rest[0] != ' ' || (rest[1] != '+' && rest[1] != '-') {
		return time.Time{}, "", ErrTimeForm
	}
	zh, ok1 := Atoi(rest[2:4])
	zm, ok2 := Atoi(rest[4:6])
	if !ok1 || !ok2 || zh > 23 || zm > 59 {
		return time.Time{}, "", ErrTimeForm
	}
	if hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, "", ErrTimeOfDay
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
		return time.Time{}, "", ErrDate
	}
	offset := time.Duration(zh)*time.Hour + time.Duration(zm)*time.Minute
	if rest[1] == '+' {
		offset = -offset
	}
	t = t.Add(offset)
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, "", ErrTimeRange
	}
	return t, frac, nil
}

// FuzzParseTime holds ParseTime to the reference that used package time:
// the same instant and fractional digits, or the same error.
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
		got, err := ParseTime(v)
		if wantErr != nil {
			require.Equal(t, wantErr, err)
			return
		}
		require.NoError(t, err)
		require.Equal(t, want.Unix(), got.Unix)
		require.Equal(t, want.Nanosecond(), got.Nano)
		require.Equal(t, wantFrac, got.Frac)
	})
}
