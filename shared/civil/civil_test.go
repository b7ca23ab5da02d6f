package civil

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDays(t *testing.T) {
	tests := map[string]struct {
		y, m, d int
		days    int64
	}{
		"epoch":             {1970, 1, 1, 0},
		"day before":        {1969, 12, 31, -1},
		"leap day":          {2024, 2, 29, 19782},
		"year 0":            {0, 1, 1, -719528},
		"year 9999 ends":    {9999, 12, 31, 2932896},
		"not leap 1900":     {1900, 3, 1, -25508},
		"leap 2000 Feb end": {2000, 2, 29, 11016},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.days, Days(tc.y, tc.m, tc.d))
			y, m, d := Date(tc.days)
			assert.Equal(t, []int{tc.y, tc.m, tc.d}, []int{y, m, d})
		})
	}
}

func TestValid(t *testing.T) {
	assert.True(t, Valid(2024, 2, 29))
	assert.False(t, Valid(2023, 2, 29))
	assert.False(t, Valid(1900, 2, 29))
	assert.True(t, Valid(2000, 2, 29))
	assert.False(t, Valid(2024, 4, 31))
	assert.True(t, Valid(2024, 12, 31))
	assert.False(t, Valid(2024, 0, 1))
	assert.False(t, Valid(2024, 13, 1))
	assert.False(t, Valid(2024, 1, 0))
	for m := 1; m <= 12; m++ {
		assert.Equal(t, time.Date(2023, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(), DaysIn(2023, m), "month %d", m)
	}
}

// FuzzDays holds the conversions to package time: for any date (the
// fuzzer's numbers folded into a valid one) and any count of days.
func FuzzDays(f *testing.F) {
	f.Add(1970, 1, 1, int64(0))
	f.Add(-1, 12, 31, int64(-1))
	f.Add(9999, 2, 29, int64(2932896))
	f.Add(400, 3, 1, int64(math.MaxInt32))
	f.Fuzz(func(t *testing.T, y, m, d int, days int64) {
		y = y % 1_000_000
		m = 1 + abs(m)%12
		d = 1 + abs(d)%DaysIn(y, m)
		want := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
		require.Equal(t, want.Day(), d, "a valid date")
		require.Equal(t, floorDiv(want.Unix(), 86400), Days(y, m, d), "%d-%d-%d", y, m, d)

		days %= 1 << 28
		wy, wm, wd := time.Unix(days*86400, 0).UTC().Date()
		gy, gm, gd := Date(days)
		require.Equal(t, []int{wy, int(wm), wd}, []int{gy, gm, gd}, "day %d", days)

		sec := days*86400 + int64(abs(d)%86400) - 43200
		gotDays, secOfDay := SplitSeconds(sec)
		tm := time.Unix(sec, 0).UTC()
		require.Equal(t, tm.Hour()*3600+tm.Minute()*60+tm.Second(), secOfDay)
		require.Equal(t, floorDiv(sec, 86400), gotDays)
	})
}

func abs(n int) int {
	if n < 0 {
		if n == math.MinInt {
			return 0
		}
		return -n
	}
	return n
}

func TestMonth(t *testing.T) {
	for m := time.January; m <= time.December; m++ {
		assert.Equal(t, int(m), Month(m.String()[:3]), m.String())
	}
	for _, s := range []string{"", "jan", "JAN", "Janu", "Ja", "Sept"} {
		assert.Zero(t, Month(s), s)
	}
}

// FuzzAppendRFC3339 holds AppendRFC3339 to package time, the reference
// the access log and syslog parsers used before: for every instant of the
// years 0 to 9999, the seconds as time.Format writes them in UTC and the
// fractional digits as given.
func FuzzAppendRFC3339(f *testing.F) {
	f.Add(int64(0), "")
	f.Add(int64(-62167219200), "000")       // 0000-01-01T00:00:00
	f.Add(int64(253402300799), "999999999") // 9999-12-31T23:59:59
	f.Add(int64(951782400), "1")            // 2000-02-29
	f.Add(int64(-1), "120")                 // 1969-12-31T23:59:59
	f.Fuzz(func(t *testing.T, sec int64, frac string) {
		const first, last = -62167219200, 253402300799
		sec = first + (sec%(last-first+1)+(last-first+1))%(last-first+1)
		want := time.Unix(sec, 0).UTC().Format("2006-01-02T15:04:05")
		if frac != "" {
			want += "." + frac
		}
		want += "Z"
		require.Equal(t, want, string(AppendRFC3339([]byte("x"), sec, frac))[1:])
	})
}

// TestRFC3339Range: the bounds are the first and the last second of the
// years 0 and 9999, as package time counts them.
func TestRFC3339Range(t *testing.T) {
	assert.Equal(t, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), int64(MinRFC3339))
	assert.Equal(t, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()-1, int64(MaxRFC3339))
	assert.Equal(t, Days(0, 1, 1)*86400, int64(MinRFC3339))
}

// TestAppendMillis: the same text as time.Format with .000 and .999 in
// UTC, over random instants of the years 0 to 9999 and the edges; outside
// them, nothing written and false.
func TestAppendMillis(t *testing.T) {
	times := []time.Time{
		time.Unix(MinRFC3339, 0), time.Unix(MaxRFC3339, 999_999_999), time.Unix(0, 0),
		time.Unix(1700000000, 120_000_000), time.Unix(1700000000, 100_999_999), time.Unix(-1, 1_000_000),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, time.Unix(MinRFC3339+rng.Int64N(MaxRFC3339-MinRFC3339), rng.Int64N(1e9)))
	}
	for _, tm := range times {
		got, ok := AppendMillis([]byte("x"), tm, false)
		require.True(t, ok, "%v", tm)
		assert.Equal(t, "x"+tm.UTC().Format("2006-01-02T15:04:05.000Z07:00"), string(got))
		got, ok = AppendMillis(nil, tm, true)
		require.True(t, ok)
		assert.Equal(t, tm.UTC().Format("2006-01-02T15:04:05.999Z07:00"), string(got))
	}
	for _, sec := range []int64{MinRFC3339 - 1, MaxRFC3339 + 1} {
		got, ok := AppendMillis([]byte("x"), time.Unix(sec, 0), false)
		assert.False(t, ok)
		assert.Equal(t, "x", string(got))
	}
}
