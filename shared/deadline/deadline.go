// Package deadline keeps time back from a Lambda invocation's deadline for
// answering. A function that is still retrying AWS calls when Lambda's
// timeout strikes answers nothing: the whole batch is retried, or a
// Firehose transformation fails outright. Both invocation frameworks
// (shared/firehose and shared/batch) stop their work Margin before the
// deadline and report what is left as not done, so the answer always goes
// out.
package deadline

import (
	"context"
	"time"
)

// Margin is the time kept back: enough to encode and post a 6 MB response
// and write the summary line, small beside the shortest timeout the
// template gives a function that retries (30 s).
const Margin = 2 * time.Second

// Reserve returns ctx ending margin before its deadline, or ctx with only
// a cancel when it has none (tests, local runs without a timeout). A
// deadline closer than margin leaves a context that is already done: the
// caller does no new work and reports it as such.
func Reserve(ctx context.Context, margin time.Duration) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, d.Add(-margin))
	}
	return context.WithCancel(ctx)
}
