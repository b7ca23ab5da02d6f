// Package retry is lakestream's one retry layer: one classifier of AWS
// errors (Classify: throttling, retryable, permanent) and one policy
// (bounded exponential backoff with full jitter). Every AWS call a function
// makes retries through it, and through it alone: the SDK's own retryer is
// off (see package awsclient), so a throttled call is made at most
// MaxAttempts times, not MaxAttempts times the SDK's three. Every function
// backs off the same way under throttling and gives up after the same
// bound.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Policy bounds the attempts and the waits between them.
type Policy struct {
	// MaxAttempts counts the first call too; at least 1.
	MaxAttempts int
	// Base is the first backoff ceiling; it doubles each attempt up to Max.
	Base time.Duration
	Max  time.Duration
	// Sleep waits for d or until ctx is done; nil means a real timer.
	// Tests replace it to run instantly.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Default is the policy for AWS batch writes: 20 attempts (as the AWS
// Firehose blueprints re-ingest), 100ms doubling to at most 5s.
func Default() Policy {
	return Policy{MaxAttempts: 20, Base: 100 * time.Millisecond, Max: 5 * time.Second}
}

// ErrExhausted is wrapped by the error Do returns when every attempt failed.
var ErrExhausted = errors.New("retry: attempts exhausted")

// Do calls fn until it returns nil, an error Classify calls ClassPermanent
// (an AWS client fault such as access denied, a context error, an error
// marked Permanent), the context ends, or MaxAttempts calls have failed.
// attempt counts from 1. A function that makes partial progress (a batch
// write with some records rejected) keeps its own state of what is left and
// returns an error while anything remains.
//
// fn returns the SDK's error as it is (wrapped with %w as it likes): Do
// tells throttling and passing faults, which it retries, from the rest.
// An error marked Permanent comes back unwrapped, any other as fn gave it.
func (p Policy) Do(ctx context.Context, fn func(attempt int) error) error {
	attempts := max(p.MaxAttempts, 1)
	var err error
	for attempt := 1; ; attempt++ {
		if err = fn(attempt); err == nil {
			return nil
		}
		var mark marked
		if errors.As(err, &mark) && mark.class == ClassPermanent {
			return mark.err
		}
		if !Classify(err).Retries() {
			return err
		}
		if attempt >= attempts {
			return fmt.Errorf("%w after %d attempts: %w", ErrExhausted, attempt, err)
		}
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("retry: stopped after %d attempts: %w (last error: %w)", attempt, cerr, err)
		}
		if serr := p.sleep(ctx, p.Backoff(attempt)); serr != nil {
			return fmt.Errorf("retry: stopped after %d attempts: %w (last error: %w)", attempt, serr, err)
		}
	}
}

// Backoff is the wait after the given failed attempt: a uniformly random
// duration up to min(Max, Base*2^(attempt-1)) ("full jitter"), which spreads
// out retries from many concurrent Lambda instances.
func (p Policy) Backoff(attempt int) time.Duration {
	if p.Base <= 0 || p.Max <= 0 {
		return 0
	}
	ceiling := min(p.Base, p.Max)
	// Stop doubling at Max, before it could overflow.
	for i := 1; i < attempt && ceiling < p.Max; i++ {
		if ceiling > p.Max/2 {
			ceiling = p.Max
			break
		}
		ceiling *= 2
	}
	return time.Duration(rand.Uint64N(uint64(ceiling) + 1))
}

func (p Policy) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
