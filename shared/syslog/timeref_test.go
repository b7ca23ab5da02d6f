package syslog

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lakestream/shared/civil"
	"lakestream/shared/excerpt"
	"lakestream/shared/record"
)

// The time reading and writing the parser had before it did its calendar
// arithmetic with shared/civil, the reference of FuzzTimes.

// referenceParseBSDTime reads "Mmm dd hh:mm:ss" (the day padded with a space or a
// zero, or not at all) and returns the instant and what follows.
func (p *parser) referenceParseBSDTime(s string) (time.Time, string, error) {
	month := civil.Month(s[:3])
	i := 4
	if i < len(s) && s[i] == ' ' {
		i++
	}
	j := i
	for j < len(s) && j-i < 2 && isDigit(s[j]) {
		j++
	}
	day, _ := atoi(s[i:j])
	clock := s[min(j+1, len(s)):]
	if j == i || j == len(s) || s[j] != ' ' || len(clock) < 8 || clock[2] != ':' || clock[5] != ':' {
		return time.Time{}, "", errorf("timestamp %q is not Mmm dd hh:mm:ss", s[:min(len(s), len("Mmm dd hh:mm:ss"))])
	}
	hour, ok1 := atoi(clock[0:2])
	minute, ok2 := atoi(clock[3:5])
	sec, ok3 := atoi(clock[6:8])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, "", errorf("timestamp %s is not Mmm dd hh:mm:ss", excerpt.Quote(s[:j+9]))
	}
	if hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, "", errorf("timestamp %q has no such time of day", s[:j+9])
	}
	t, ok := p.referenceDateYear(month, day, hour, minute, sec)
	if !ok {
		return time.Time{}, "", errorf("timestamp %q has no such date", s[:j+9])
	}
	return t, clock[8:], nil
}

// referenceDateYear dates a year-less time: the latest year in which it exists and
// is at most futureSlack after now. Feb 29 may need to go back eight years.
func (p *parser) referenceDateYear(month, day, hour, minute, sec int) (time.Time, bool) {
	if day < 1 || day > 31 {
		return time.Time{}, false
	}
	limit := p.now.Add(futureSlack)
	for year := p.now.Year() + 1; year >= p.now.Year()-8; year-- {
		t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, p.now.Location())
		if utc := t.UTC().Year(); t.Day() == day && !t.After(limit) && utc >= 0 && utc <= 9999 {
			return t, true
		}
	}
	return time.Time{}, false
}

// referenceParseRFC3339 reads RFC 5424's TIMESTAMP: "2003-10-11T22:14:15.003Z" or
// with an offset, "2003-08-24T05:14:15.000003-07:00". It returns the
// instant and the fractional digits as written.
func referenceParseRFC3339(v string) (time.Time, string, error) {
	bad := func() (time.Time, string, error) {
		return time.Time{}, "", errorf("timestamp %s is not RFC 3339", excerpt.Quote(v))
	}
	// 2006-01-02T15:04:05 is 19 bytes, and a zone at least 1 more.
	if len(v) < 20 || v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' {
		return bad()
	}
	year, ok1 := atoi(v[0:4])
	month, ok2 := atoi(v[5:7])
	day, ok3 := atoi(v[8:10])
	hour, ok4 := atoi(v[11:13])
	minute, ok5 := atoi(v[14:16])
	sec, ok6 := atoi(v[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return bad()
	}
	rest := v[19:]
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
	var offset time.Duration
	switch {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		zh, ok1 := atoi(rest[1:3])
		zm, ok2 := atoi(rest[4:6])
		if !ok1 || !ok2 || zh > 23 || zm > 59 {
			return bad()
		}
		offset = time.Duration(zh)*time.Hour + time.Duration(zm)*time.Minute
		if rest[0] == '+' {
			offset = -offset
		}
	default:
		return bad()
	}
	if month < 1 || month > 12 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, "", errorf("timestamp %s has no such date or time", excerpt.Quote(v))
	}
	nsec := 0
	for k := 0; k < 9; k++ {
		nsec *= 10
		if k < len(frac) {
			nsec += int(frac[k] - '0')
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if day < 1 || t.Day() != day {
		return time.Time{}, "", errorf("timestamp %s has no such date or time", excerpt.Quote(v))
	}
	t = t.Add(offset)
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, "", errorf("timestamp %s is out of range in UTC", excerpt.Quote(v))
	}
	return t, frac, nil
}

// referenceText is t in UTC as package time writes RFC 3339, with frac as
// the fractional digits.
func referenceText(t time.Time, frac string) string {
	if frac != "" {
		frac = "." + frac
	}
	return t.UTC().Format("2006-01-02T15:04:05") + frac + "Z"
}

// FuzzTimes holds the timestamp reading and writing to the reference that
// used package time: the same instant, rest and text, or the same error,
// for RFC 3339 timestamps and for BSD ones dated against any reference
// time, in UTC (the integer path) or another zone.
func FuzzTimes(f *testing.F) {
	for _, s := range []string{
		"2003-10-11T22:14:15.003Z", "2003-08-24T05:14:15.000003-07:00", "0000-01-01T00:00:00+00:01",
		"9999-12-31T23:59:59-00:01", "2024-02-30T00:00:00Z", "2024-02-29T24:00:00Z",
		"Feb 29 12:00:00 host", "Dec 31 23:59:59", "Jan  1 00:00:00 x", "Mar 5 06:07:08", "Apr 31 00:00:00",
	} {
		f.Add(s, int64(1709618828), 0)
		f.Add(s, int64(1704067199), 3600)
	}
	f.Add("Jan  1 00:00:00", int64(253402300799), 0)
	f.Add("Dec 31 23:59:59", int64(-62135596800), -3600)
	f.Fuzz(func(t *testing.T, s string, now int64, offset int) {
		now %= 300_000_000_000 // years -7500 to 11500
		loc := time.UTC
		if offset%3 != 0 {
			loc = time.FixedZone("", offset%(24*3600))
		}
		b := record.NewBuilder(0)
		p := &parser{r: b, now: time.Unix(now, 0).In(loc)}

		want, wantFrac, wantErr := referenceParseRFC3339(s)
		got, frac, err := parseRFC3339(s)
		requireSameTime(t, want, wantFrac, "", wantErr, got, frac, "", err)
		if err == nil {
			require.Equal(t, referenceText(want, wantFrac), p.writeTime(got, frac))
		}

		month := bsdMonth(s)
		if month == 0 {
			return
		}
		want, wantRest, wantErr := p.referenceParseBSDTime(s)
		got, text, rest, err := p.parseBSDTime(s, month)
		requireSameTime(t, want, "", wantRest, wantErr, got, "", rest, err)
		if err == nil {
			require.Equal(t, referenceText(want, ""), text)
			require.Equal(t, referenceText(want, ""), p.writeTime(got, ""))
		}
	})
}

func requireSameTime(t *testing.T, want time.Time, wantFrac, wantRest string, wantErr error, got int64, frac, rest string, err error) {
	t.Helper()
	if wantErr != nil {
		require.Error(t, err)
		require.Equal(t, wantErr.Error(), err.Error())
		return
	}
	require.NoError(t, err)
	require.Equal(t, want.Unix(), got)
	require.Equal(t, wantFrac, frac)
	require.Equal(t, wantRest, rest)
}
