package retry_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/retry"
)

// recorder is an injected Sleep that returns at once and remembers the
// waits it was asked for.
type recorder struct{ waits []time.Duration }

func (r *recorder) sleep(_ context.Context, d time.Duration) error {
	r.waits = append(r.waits, d)
	return nil
}

// instant is a policy whose waits are recorded instead of slept.
func instant(attempts int) (retry.Policy, *recorder) {
	r := &recorder{}
	return retry.Policy{MaxAttempts: attempts, Base: 100 * time.Millisecond, Max: 5 * time.Second, Sleep: r.sleep}, r
}

// ceiling is min(Max, Base*2^(attempt-1)), computed without overflow.
func ceiling(p retry.Policy, attempt int) time.Duration {
	if p.Base <= 0 || p.Max <= 0 {
		return 0
	}
	c := new(big.Int).Lsh(big.NewInt(int64(p.Base)), uint(attempt-1))
	if c.Cmp(big.NewInt(int64(p.Max))) > 0 {
		return p.Max
	}
	return time.Duration(c.Int64())
}

func TestDefault(t *testing.T) {
	p := retry.Default()
	assert.Equal(t, 20, p.MaxAttempts)
	assert.Equal(t, 100*time.Millisecond, p.Base)
	assert.Equal(t, 5*time.Second, p.Max)
	assert.Nil(t, p.Sleep, "the default must sleep for real")
}

func TestDoStopsOnSuccess(t *testing.T) {
	tests := map[string]struct {
		failures int // calls that fail before one succeeds
	}{
		"first call":   {failures: 0},
		"second call":  {failures: 1},
		"last allowed": {failures: 4},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, rec := instant(5)
			var attempts []int
			err := p.Do(context.Background(), func(attempt int) error {
				attempts = append(attempts, attempt)
				if attempt <= tc.failures {
					return fmt.Errorf("failure %d", attempt)
				}
				return nil
			})
			require.NoError(t, err)
			want := make([]int, tc.failures+1)
			for i := range want {
				want[i] = i + 1
			}
			assert.Equal(t, want, attempts, "attempt counts from 1 and stops at the first success")
			assert.Len(t, rec.waits, tc.failures, "one wait between consecutive attempts, none after success")
		})
	}
}

func TestDoPermanent(t *testing.T) {
	errDenied := errors.New("access denied")
	tests := map[string]struct {
		fail func(attempt int) error
		want int // calls made
	}{
		"first attempt": {
			fail: func(int) error { return retry.Permanent(errDenied) },
			want: 1,
		},
		"after transient failures": {
			fail: func(attempt int) error {
				if attempt < 3 {
					return errors.New("throttled")
				}
				return retry.Permanent(errDenied)
			},
			want: 3,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, rec := instant(10)
			calls := 0
			err := p.Do(context.Background(), func(attempt int) error {
				calls++
				return tc.fail(attempt)
			})
			assert.Equal(t, tc.want, calls)
			assert.Len(t, rec.waits, tc.want-1)
			assert.Same(t, errDenied, err, "the underlying error comes back unwrapped")
			assert.NotErrorIs(t, err, retry.ErrExhausted)
		})
	}
}

func TestPermanentWrapped(t *testing.T) {
	errDenied := errors.New("access denied")
	p, _ := instant(10)
	calls := 0
	err := p.Do(context.Background(), func(int) error {
		calls++
		return fmt.Errorf("put batch: %w", retry.Permanent(errDenied))
	})
	assert.Equal(t, 1, calls, "a Permanent error wrapped by the caller still stops Do")
	assert.ErrorIs(t, err, errDenied)
}

func TestPermanentNil(t *testing.T) {
	assert.NoError(t, retry.Permanent(nil))
	p, _ := instant(3)
	calls := 0
	assert.NoError(t, p.Do(context.Background(), func(int) error { calls++; return retry.Permanent(nil) }))
	assert.Equal(t, 1, calls, "Permanent(nil) is success")
}

func TestPermanentKeepsErrorChain(t *testing.T) {
	err := retry.Permanent(fmt.Errorf("wrapped: %w", context.DeadlineExceeded))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, "wrapped: context deadline exceeded", err.Error())
}

func TestDoExhausted(t *testing.T) {
	tests := map[string]struct {
		maxAttempts int
		wantCalls   int
	}{
		"zero means one":     {maxAttempts: 0, wantCalls: 1},
		"negative means one": {maxAttempts: -3, wantCalls: 1},
		"one":                {maxAttempts: 1, wantCalls: 1},
		"three":              {maxAttempts: 3, wantCalls: 3},
		"default":            {maxAttempts: 20, wantCalls: 20},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, rec := instant(tc.maxAttempts)
			var errs []error
			err := p.Do(context.Background(), func(attempt int) error {
				e := fmt.Errorf("failure %d", attempt)
				errs = append(errs, e)
				return e
			})
			require.Len(t, errs, tc.wantCalls)
			assert.Len(t, rec.waits, tc.wantCalls-1, "no wait after the last attempt")
			assert.ErrorIs(t, err, retry.ErrExhausted)
			last := errs[len(errs)-1]
			assert.ErrorIs(t, err, last, "the last error is wrapped")
			if len(errs) > 1 {
				assert.NotErrorIs(t, err, errs[0], "only the last error is wrapped")
			}
			assert.Equal(t, fmt.Sprintf("retry: attempts exhausted after %d attempts: failure %d", tc.wantCalls, tc.wantCalls), err.Error())
		})
	}
}

func TestDoContextCancelled(t *testing.T) {
	errThrottled := errors.New("throttled")

	t.Run("during a real wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p := retry.Policy{MaxAttempts: 5, Base: time.Hour, Max: time.Hour}
		calls := 0
		start := time.Now()
		err := p.Do(ctx, func(int) error {
			calls++
			time.AfterFunc(10*time.Millisecond, cancel)
			return errThrottled
		})
		assert.Less(t, time.Since(start), 10*time.Second, "Do must stop waiting when the context ends")
		assert.Equal(t, 1, calls)
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, errThrottled, "the last error is kept")
		assert.NotErrorIs(t, err, retry.ErrExhausted)
		assert.Contains(t, err.Error(), "after 1 attempts")
	})

	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		p := retry.Policy{MaxAttempts: 1000, Base: time.Second, Max: time.Second}
		err := p.Do(ctx, func(int) error { return errThrottled })
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, err, errThrottled)
	})

	t.Run("injected sleep sees the context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var seen []context.Context
		p := retry.Policy{MaxAttempts: 10, Base: time.Millisecond, Max: time.Millisecond,
			Sleep: func(ctx context.Context, _ time.Duration) error {
				seen = append(seen, ctx)
				return ctx.Err()
			}}
		calls := 0
		err := p.Do(ctx, func(attempt int) error {
			calls++
			if attempt == 3 {
				cancel()
			}
			return errThrottled
		})
		assert.Equal(t, 3, calls)
		require.Len(t, seen, 2, "no wait once the context is done")
		for _, c := range seen {
			assert.Equal(t, ctx, c)
		}
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, errThrottled)
	})
}

// TestDoSleepsTheBackoffs checks that each wait Do asks for is a backoff
// for the attempt that just failed.
func TestDoSleepsTheBackoffs(t *testing.T) {
	p, rec := instant(40)
	_ = p.Do(context.Background(), func(int) error { return errors.New("fail") })
	require.Len(t, rec.waits, 39)
	for i, d := range rec.waits {
		attempt := i + 1
		assert.GreaterOrEqual(t, d, time.Duration(0), "attempt %d", attempt)
		assert.LessOrEqual(t, d, ceiling(p, attempt), "attempt %d", attempt)
	}
	// From attempt 7 the ceiling is Max; 33 uniform waits all at most Max/4
	// would happen with probability 4^-33, so this catches a backoff that
	// stopped growing.
	var longest time.Duration
	for _, d := range rec.waits[6:] {
		longest = max(longest, d)
	}
	assert.Greater(t, longest, p.Max/4)
}

func TestBackoffBounds(t *testing.T) {
	tests := map[string]retry.Policy{
		"default":          retry.Default(),
		"max below base":   {Base: time.Second, Max: 100 * time.Millisecond},
		"nanosecond base":  {Base: time.Nanosecond, Max: time.Hour},
		"huge max":         {Base: time.Millisecond, Max: 1 << 62},
		"uneven":           {Base: 3 * time.Millisecond, Max: 1000 * time.Millisecond},
		"base equals max":  {Base: time.Second, Max: time.Second},
		"one nanosecond":   {Base: time.Nanosecond, Max: time.Nanosecond},
		"very long waits":  {Base: time.Hour, Max: 100_000 * time.Hour},
		"zero base":        {Base: 0, Max: time.Second},
		"negative max":     {Base: time.Second, Max: -time.Second},
		"zero everywhere":  {},
		"max 1<<62 exact":  {Base: 1, Max: 1 << 62},
		"base near max ns": {Base: 1 << 61, Max: 1 << 62},
	}
	const samples = 300
	for name, p := range tests {
		t.Run(name, func(t *testing.T) {
			for _, attempt := range []int{1, 2, 3, 5, 8, 13, 20, 30, 59, 60, 61, 62, 63, 64, 65, 100, 1000} {
				limit := ceiling(p, attempt)
				shortest, longest := limit, time.Duration(0)
				for range samples {
					d := p.Backoff(attempt)
					require.GreaterOrEqual(t, d, time.Duration(0), "attempt %d", attempt)
					require.LessOrEqual(t, d, limit, "attempt %d", attempt)
					shortest, longest = min(shortest, d), max(longest, d)
				}
				// Full jitter is uniform over [0, limit]: 300 samples all in
				// one half happen with probability 2^-300.
				if limit >= 2 {
					assert.Greater(t, longest, limit/2, "attempt %d: waits never approach the ceiling %v", attempt, limit)
					assert.Less(t, shortest, limit/2, "attempt %d: waits are not jittered down from %v", attempt, limit)
				}
			}
		})
	}
}

func TestBackoffCeilingDoubles(t *testing.T) {
	p := retry.Policy{Base: 100 * time.Millisecond, Max: 5 * time.Second}
	want := []time.Duration{
		100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
		1600 * time.Millisecond, 3200 * time.Millisecond, 5 * time.Second, 5 * time.Second,
	}
	for i, w := range want {
		assert.Equal(t, w, ceiling(p, i+1), "test helper, attempt %d", i+1)
	}
	// The 2nd attempt's waits must exceed the 1st attempt's ceiling sometimes,
	// or the backoff is not growing at all.
	var longest time.Duration
	for range 300 {
		longest = max(longest, p.Backoff(2))
	}
	assert.Greater(t, longest, 100*time.Millisecond)
}

func TestBackoffAttemptZero(t *testing.T) {
	p := retry.Default()
	for _, attempt := range []int{0, -1, math.MinInt} {
		d := p.Backoff(attempt)
		assert.GreaterOrEqual(t, d, time.Duration(0))
		assert.LessOrEqual(t, d, p.Base, "attempt %d is treated as the first", attempt)
	}
}

// FuzzBackoff checks that Backoff never panics and stays within
// [0, min(Max, Base*2^(attempt-1))] for policies with Base and Max in
// [0, 2^62] (146 years) and attempts up to 10,000.
func FuzzBackoff(f *testing.F) {
	f.Add(int64(100*time.Millisecond), int64(5*time.Second), 1)
	f.Add(int64(100*time.Millisecond), int64(5*time.Second), 60)
	f.Add(int64(1), int64(1)<<62, 63)
	f.Add(int64(0), int64(0), 0)
	f.Add(int64(-1), int64(time.Second), 5)
	f.Add(int64(time.Hour), int64(time.Millisecond), 1000)
	f.Fuzz(func(t *testing.T, base, maxWait int64, attempt int) {
		const limit = 1 << 62
		base, maxWait = min(max(base, 0), limit), min(max(maxWait, 0), limit)
		attempt = min(max(attempt, 1), 10_000)
		p := retry.Policy{Base: time.Duration(base), Max: time.Duration(maxWait)}
		d := p.Backoff(attempt)
		require.GreaterOrEqual(t, d, time.Duration(0))
		require.LessOrEqual(t, d, ceiling(p, attempt))
	})
}

func BenchmarkBackoff(b *testing.B) {
	p := retry.Default()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = p.Backoff(i%20 + 1)
	}
}

func TestDoRealTimer(t *testing.T) {
	p := retry.Policy{MaxAttempts: 3, Base: time.Microsecond, Max: time.Millisecond}
	calls := 0
	err := p.Do(context.Background(), func(attempt int) error {
		calls++
		if attempt < 3 {
			return errors.New("throttled")
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 3, calls)
}
