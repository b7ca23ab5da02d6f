package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two sources whose keys differ only above the folders the template's
// layouts keep: with {filename} they render to the same destination keys.
const (
	app1Key = "incoming/app1/dt=2024-05-01/hour=15/part-00000.json"
	app2Key = "incoming/app2/dt=2024-05-01/hour=15/part-00000.json"
	app1    = `{"event":"app1","n":1}` + "\n"
	app2    = `{"event":"app2","n":2}` + "\n" // the same size as app1's
)

var collidingCopies = []string{
	"events/hourly/dt=2024-05-01/hour=15/part-00000.json",
	"events/minute/2024/05/01/15/00/part-00000.json",
}

// TestIntegrationCollision is issue 12's data loss: two sources that map to
// one destination. The second is never taken for the first's copy ("up to
// date", same size) nor written over it: it fails, with an error saying
// why, and with DELETE_SOURCE=true its source is kept. Whatever the order
// and however the objects are batched, each source's bytes are at their
// destination or still at the source.
func TestIntegrationCollision(t *testing.T) {
	for name, tc := range map[string]struct {
		move     bool
		together bool // both in one invocation, rather than one after the other
	}{
		"copy, two invocations": {},
		"move, two invocations": {move: true},
		"copy, one invocation":  {together: true},
		"move, one invocation":  {move: true, together: true},
	} {
		t.Run(name, func(t *testing.T) {
			l := newLake(t)
			ctx := context.Background()
			for key, body := range map[string]string{app1Key: app1, app2Key: app2} {
				_, err := l.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(landing), Key: aws.String(key), Body: strings.NewReader(body)})
				require.NoError(t, err)
			}
			env := map[string]string{"DELETE_SOURCE": "false"}
			if tc.move {
				env["DELETE_SOURCE"] = "true"
			}
			first := notificationRecord(app1Key, len(app1))
			second := notificationRecord(app2Key, len(app2))

			var logs string
			var err error
			if tc.together {
				_, err, logs = run(t, []byte(`{"Records":[`+first+`,`+second+`]}`), env)
			} else {
				_, ferr, firstLogs := run(t, []byte(`{"Records":[`+first+`]}`), env)
				require.NoError(t, ferr, firstLogs)
				_, err, logs = run(t, []byte(`{"Records":[`+second+`]}`), env)
			}
			require.Error(t, err, "the colliding object fails the invocation, so that it is retried and finally dead-lettered\n%s", logs)
			assert.ErrorContains(t, err, "s3://"+landing+"/"+app2Key)
			assert.Contains(t, logs, "collision", "the failure says what happened")

			for _, k := range collidingCopies {
				b, _ := l.body(t, lake, k)
				assert.Equal(t, app1, string(b), "%s is still app1's copy", k)
			}
			sources := l.objects(t, landing)
			assert.Contains(t, sources, app2Key, "the source whose copy could not be made is kept")
			if tc.move {
				assert.NotContains(t, sources, app1Key, "the source whose copy is its own is moved")
			} else {
				assert.Contains(t, sources, app1Key)
			}

			// Retried, the colliding object fails again, and nothing changes.
			before := l.objects(t, lake)
			_, err, logs = run(t, []byte(`{"Records":[`+second+`]}`), env)
			require.Error(t, err, logs)
			assert.Equal(t, before, l.objects(t, lake))
			assert.Contains(t, l.objects(t, landing), app2Key)
		})
	}
}
