package pipeline

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzAppendMillisUTC checks the hand-written arrival time format against
// time.Format over every instant, zones and out-of-range years included.
func FuzzAppendMillisUTC(f *testing.F) {
	for _, ms := range []int64{0, 1709618828009, -1, -62135596800000, 253402300799999, 253402300800000, math.MaxInt64 / 1_000_000, math.MinInt64 / 1_000_000} {
		f.Add(ms, 0)
	}
	f.Add(int64(1709618828009), 5*3600+1800)
	var stamps millisStamps // kept across inputs, as a pass keeps it across records
	f.Fuzz(func(t *testing.T, ms int64, offset int) {
		tm := time.UnixMilli(ms).In(time.FixedZone("", offset%(24*3600)))
		want := tm.UTC().Format(millisLayout)
		require.Equal(t, want, string(appendMillisUTC(nil, tm)))
		require.Equal(t, want, string(stamps.append(nil, tm)))
		next := tm.Add(time.Duration(offset%2000) * time.Millisecond)
		require.Equal(t, next.UTC().Format(millisLayout), string(stamps.append(nil, next)), "a nearby time after it")
		// The field value is the same text, or nil where stamp has none.
		for _, at := range []time.Time{tm, next} {
			if v := stamps.value(at); v != nil {
				require.Equal(t, at.UTC().Format(millisLayout), v)
			} else {
				require.Nil(t, stamps.stamp(at))
			}
		}
	})
}

// FuzzParseRFC3339 holds the hand-read form to time.Parse: whatever it
// reads, time.Parse reads the same; the rest goes to time.Parse anyway.
func FuzzParseRFC3339(f *testing.F) {
	for _, s := range []string{
		"2024-03-05T06:07:08Z", "2024-02-29T23:59:59.123456789Z", "2023-02-29T00:00:00Z", "0000-01-01T00:00:00Z",
		"9999-12-31T23:59:59.9Z", "2024-03-05T24:00:00Z", "2024-03-05T06:07:60Z", "2024-03-05T06:07:08.Z",
		"2024-03-05T06:07:08.1234567891Z", "2024-03-05T06:07:08+01:00", "2024-03-05T06:07:08,5Z", "2024-13-05T06:07:08Z",
		"+024-03-05T06:07:08Z", "2024-03-05T06:07:08.-1Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, wantErr := time.Parse(time.RFC3339, s)
		got, gotErr := parseRFC3339(s)
		if wantErr != nil {
			require.Error(t, gotErr)
			require.Equal(t, wantErr.Error(), gotErr.Error())
			return
		}
		require.NoError(t, gotErr)
		require.True(t, want.Equal(got), "%s: %v, want %v", s, got, want)
		require.Equal(t, want.UTC(), got.UTC())
		if fast, ok := parseRFC3339Z(s); ok {
			require.Equal(t, want.UTC(), fast)
		}
	})
}

// FuzzDateHour holds timeMemo.dateHour, kept across inputs as a pass keeps
// it across lines, to dateHourOf, for a time and for times near it.
func FuzzDateHour(f *testing.F) {
	for _, sec := range []int64{0, -1, 1709618828, 1709621999, 1709622000, -62135596800, 253402300799} {
		f.Add(sec, int64(1))
	}
	var memo timeMemo
	f.Fuzz(func(t *testing.T, sec, step int64) {
		sec = min(max(sec, minEventSec), maxEventSec)
		for _, s := range []int64{sec, sec + step%7200, sec - step%3600, sec + 1} {
			tm := time.Unix(s, 0).UTC()
			require.Equal(t, dateHourOf(tm), memo.dateHour(tm), "%v", tm)
		}
	})
}

func TestAppendDigits(t *testing.T) {
	for _, width := range []int{2, 3, 4} {
		for n := range int(math.Pow10(width)) {
			require.Equal(t, fmt.Sprintf("%0*d", width, n), string(appendDigits([]byte("x"), n, width))[1:], "%d, width %d", n, width)
		}
	}
}

// FuzzTimeMemo holds timeMemo.parse, kept across inputs as a pass keeps it
// across lines, to parseRFC3339 (which FuzzParseRFC3339 holds to
// time.Parse): for a text, for the text once more, and for texts of the
// same date and hour with other minutes and seconds, which it reads
// without the date.
func FuzzTimeMemo(f *testing.F) {
	for _, s := range []string{
		"2024-03-05T06:07:08Z", "2024-03-05T06:59:59.999Z", "2024-02-29T23:00:00Z", "2023-02-29T00:00:00Z",
		"2024-03-05T06:07:08+01:00", "2024-03-05T24:00:00Z", "2024-03-05T06:60:00Z", "2024-03-05T06:07:08.Z",
		"2024-03-05T06:07", "",
	} {
		f.Add(s, "00:00Z")
	}
	var memo timeMemo
	f.Fuzz(func(t *testing.T, s, rest string) {
		texts := []string{s, s}
		if len(s) >= len(hourZ) {
			texts = append(texts, s[:len(hourZ)]+rest, s[:len(hourZ)]+"59:59.5Z", s)
		}
		for _, text := range texts {
			want, wantErr := parseRFC3339(text)
			got, err := memo.parse(text)
			if wantErr != nil {
				require.EqualError(t, err, wantErr.Error(), "%q", text)
				continue
			}
			require.NoError(t, err, "%q", text)
			require.Equal(t, want, got, "%q", text)
		}
	})
}
