package moto

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// account is moto's default account id.
const account = "123456789012"

// PatternBus is moto's default event bus with one rule per EventBridge
// pattern, each delivering to its own SQS queue, so that a test learns
// which rules an event matches. moto's TestEventPattern is a stub; its
// rules do filter what PutEvents, and services with EventBridge
// notifications on (S3), put on the bus.
type PatternBus struct {
	eb     *eventbridge.Client
	sqs    *sqs.Client
	queues map[string]string // rule name to queue URL
}

// NewPatternBus puts a rule for each pattern (EventPattern JSON by rule
// name) on srv's default bus, each targeting a new queue pattern-<name>.
func NewPatternBus(t testing.TB, srv *Server, patterns map[string]string) *PatternBus {
	t.Helper()
	ctx := context.Background()
	cfg, err := srv.Config(ctx)
	require.NoError(t, err)
	b := &PatternBus{eb: eventbridge.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg), queues: map[string]string{}}
	for name, pattern := range patterns {
		queue := "pattern-" + name
		q, err := b.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queue)})
		require.NoError(t, err)
		_, err = b.eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(pattern)})
		require.NoError(t, err, pattern)
		_, err = b.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{{
			Id: aws.String("queue"), Arn: aws.String(fmt.Sprintf("arn:aws:sqs:%s:%s:%s", Region, account, queue)),
		}}})
		require.NoError(t, err)
		b.queues[name] = aws.ToString(q.QueueUrl)
	}
	return b
}

// Match puts ev on the bus and returns the names of the rules that
// delivered it, sorted.
func (b *PatternBus) Match(t testing.TB, ev events.CloudWatchEvent) []string {
	t.Helper()
	ctx := context.Background()
	entry := ebtypes.PutEventsRequestEntry{
		Source: aws.String(ev.Source), DetailType: aws.String(ev.DetailType), Detail: aws.String(string(ev.Detail)),
		Resources: ev.Resources,
	}
	if !ev.Time.IsZero() {
		entry.Time = aws.Time(ev.Time)
	}
	out, err := b.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry}})
	require.NoError(t, err)
	require.Zero(t, out.FailedEntryCount)
	var matched []string
	for name := range b.queues {
		for _, body := range b.receive(t, name, 0) {
			var got events.CloudWatchEvent
			require.NoError(t, json.Unmarshal([]byte(body), &got))
			require.JSONEq(t, string(ev.Detail), string(got.Detail), "rule %s delivered another event", name)
			matched = append(matched, name)
		}
	}
	slices.Sort(matched)
	return matched
}

// MatchFiles checks, in a subtest per file, that each event file (an
// EventBridge event as JSON) matches exactly the rules want names for it,
// in any order; every file the samples glob finds must be in want.
func (b *PatternBus) MatchFiles(t *testing.T, samples string, want map[string][]string) {
	t.Helper()
	files, err := filepath.Glob(samples)
	require.NoError(t, err)
	for _, f := range files {
		require.Contains(t, want, f, "every sample event has an expectation")
	}
	for _, file := range slices.Sorted(maps.Keys(want)) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			var ev events.CloudWatchEvent
			require.NoError(t, json.Unmarshal(raw, &ev))
			assert.ElementsMatch(t, want[file], b.Match(t, ev))
		})
	}
}

// Delivered returns the events (JSON) that rule has delivered so far,
// waiting a second for more after each, and empties its queue: for events
// that a service, rather than the test, put on the bus.
func (b *PatternBus) Delivered(t testing.TB, rule string) []string {
	t.Helper()
	_, ok := b.queues[rule]
	require.True(t, ok, "no rule %s on the bus", rule)
	return b.receive(t, rule, 1)
}

// receive reads and deletes the messages on rule's queue until a receive,
// waiting up to wait seconds, finds none.
func (b *PatternBus) receive(t testing.TB, rule string, wait int32) []string {
	t.Helper()
	ctx := context.Background()
	url := aws.String(b.queues[rule])
	var bodies []string
	for {
		msgs, err := b.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: wait})
		require.NoError(t, err)
		if len(msgs.Messages) == 0 {
			return bodies
		}
		for _, m := range msgs.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			_, err := b.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
	}
}
