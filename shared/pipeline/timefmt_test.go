package pipeline

import (
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
	f.Fuzz(func(t *testing.T, ms int64, offset int) {
		tm := time.UnixMilli(ms).In(time.FixedZone("", offset%(24*3600)))
		require.Equal(t, tm.UTC().Format(millisLayout), string(appendMillisUTC(nil, tm)))
	})
}
