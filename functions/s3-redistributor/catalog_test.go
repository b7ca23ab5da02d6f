package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/retry"
)

// instant is the retry policy of these tests: 3 attempts, no waiting.
var instant = retry.Policy{MaxAttempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }}

// hourly returns the wants of n distinct hours of table events_hourly.
func hourly(n int) []partitionWant {
	wants := make([]partitionWant, n)
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range wants {
		at := start.Add(time.Duration(i) * time.Hour)
		values := []string{at.Format("2006-01-02"), at.Format("15")}
		wants[i] = partitionWant{
			Table: "events_hourly", Values: values, keys: []string{"dt", "hour"}, layout: "hourly layout",
			Location: fmt.Sprintf("s3://lake/events/hourly/dt=%s/hour=%s/", values[0], values[1]),
		}
	}
	return wants
}

func newTestGlue() *fakeGlue {
	g := newFakeGlue()
	g.addTable("lake", "events_hourly", "s3://lake/events/hourly/", "dt", "hour")
	g.addTable("lake", "events_minute", "s3://lake/events/minute/", "year", "month", "day", "hour", "minute")
	return g
}

// TestRegisterChunks: 250 partitions go in calls of 100, 100 and 50, and
// the table is read once.
func TestRegisterChunks(t *testing.T) {
	g := newTestGlue()
	reg := newRegistrar(g, "lake", instant).register(context.Background(), hourly(250))
	assert.Empty(t, reg.Failed)
	assert.Equal(t, 250, reg.Created)
	assert.Equal(t, []int{100, 100, 50}, g.batches)
	assert.Equal(t, 1, g.getTables, "GetTable once per table per invocation")

	parts := g.partitions["lake.events_hourly"]
	require.Len(t, parts, 250)
	p := parts["2024-05-01\x0013"]
	sd := p.StorageDescriptor
	require.NotNil(t, sd)
	assert.Equal(t, "s3://lake/events/hourly/dt=2024-05-01/hour=13/", aws.ToString(sd.Location), "the partition's own location")
	assert.Equal(t, "org.openx.data.jsonserde.JsonSerDe", aws.ToString(sd.SerdeInfo.SerializationLibrary), "the table's storage descriptor")
	assert.Equal(t, "org.apache.hadoop.mapred.TextInputFormat", aws.ToString(sd.InputFormat))
	assert.Equal(t, "s3://lake/events/hourly/", aws.ToString(g.tables["lake.events_hourly"].StorageDescriptor.Location), "the table itself is not changed")
}

// TestRegisterIdempotent: registering the same partitions again counts them
// as existing (AlreadyExistsException), not as failures.
func TestRegisterIdempotent(t *testing.T) {
	g := newTestGlue()
	r := newRegistrar(g, "lake", instant)
	first := r.register(context.Background(), hourly(3))
	require.Empty(t, first.Failed)
	second := newRegistrar(g, "lake", instant).register(context.Background(), hourly(5))
	assert.Empty(t, second.Failed)
	assert.Equal(t, 2, second.Created)
	assert.Equal(t, 3, second.Existing)
	assert.Len(t, g.partitions["lake.events_hourly"], 5)
}

// TestRegisterDeduplicates: objects of the same hour need one partition.
func TestRegisterDeduplicates(t *testing.T) {
	g := newTestGlue()
	wants := append(hourly(2), hourly(2)...)
	reg := newRegistrar(g, "lake", instant).register(context.Background(), wants)
	assert.Empty(t, reg.Failed)
	assert.Equal(t, 2, reg.Created)
	assert.Equal(t, []int{2}, g.batches)
}

func TestRegisterPartitionErrors(t *testing.T) {
	tests := map[string]struct {
		code        func(attempt int) string // error code for hour 01 on each call
		wantFailed  []int
		wantErr     string
		wantBatches []int
	}{
		"transient then created": {
			code:        func(call int) string { return map[int]string{1: "InternalServiceException"}[call] },
			wantBatches: []int{3, 1},
		},
		"transient every time": {
			code:        func(int) string { return "InternalServiceException" },
			wantFailed:  []int{1},
			wantErr:     "create partition [2024-05-01 01] of lake.events_hourly: InternalServiceException: injected",
			wantBatches: []int{3, 1, 1},
		},
		"permanent": {
			code:        func(int) string { return "InvalidInputException" },
			wantFailed:  []int{1},
			wantErr:     "create partition [2024-05-01 01] of lake.events_hourly: InvalidInputException: injected",
			wantBatches: []int{3},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := newTestGlue()
			g.partitionError = func(_ string, values []string) string {
				if values[1] == "01" {
					return tc.code(len(g.batches))
				}
				return ""
			}
			reg := newRegistrar(g, "lake", instant).register(context.Background(), hourly(3))
			failed := []int{}
			for i := range reg.Failed {
				failed = append(failed, i)
			}
			slices.Sort(failed)
			assert.Equal(t, append([]int{}, tc.wantFailed...), failed)
			if tc.wantErr != "" {
				assert.EqualError(t, reg.Failed[1], tc.wantErr)
			}
			assert.Equal(t, tc.wantBatches, g.batches)
		})
	}
}

func TestRegisterCallErrors(t *testing.T) {
	t.Run("throttled then done", func(t *testing.T) {
		g := newTestGlue()
		g.batchError = func(call int) error {
			if call == 1 {
				return apiError("ThrottlingException")
			}
			return nil
		}
		reg := newRegistrar(g, "lake", instant).register(context.Background(), hourly(2))
		assert.Empty(t, reg.Failed)
		assert.Equal(t, 2, reg.Created)
	})
	t.Run("access denied fails every partition of the call", func(t *testing.T) {
		g := newTestGlue()
		g.batchError = func(int) error { return apiError("AccessDeniedException") }
		reg := newRegistrar(g, "lake", instant).register(context.Background(), hourly(2))
		require.Len(t, reg.Failed, 2)
		assert.ErrorContains(t, reg.Failed[0], "create partitions of lake.events_hourly: api error AccessDeniedException")
		assert.Equal(t, []int{2}, g.batches, "not retried")
	})
	t.Run("missing table", func(t *testing.T) {
		g := newTestGlue()
		wants := hourly(2)
		wants[1].Table = "nope"
		reg := newRegistrar(g, "lake", instant).register(context.Background(), wants)
		require.Len(t, reg.Failed, 1)
		assert.ErrorContains(t, reg.Failed[1], "get table lake.nope: EntityNotFoundException: Table not found")
		assert.Equal(t, 1, reg.Created)
	})
}

func TestRegisterLayoutMismatch(t *testing.T) {
	tests := map[string]struct {
		want partitionWant
		err  string
	}{
		"too few values": {
			want: partitionWant{Table: "events_minute", Values: []string{"2024-05-01", "13"}, layout: "s3://lake/m/dt={yyyy}-{MM}-{dd}/hour={HH}/{filename}"},
			err:  "layout does not match the table's partition keys: s3://lake/m/dt={yyyy}-{MM}-{dd}/hour={HH}/{filename} has 2 partition folders, table lake.events_minute has 5 partition keys (year, month, day, hour, minute)",
		},
		"other names": {
			want: partitionWant{Table: "events_hourly", Values: []string{"2024-05-01", "13"}, keys: []string{"day", "hour"}, layout: "s3://lake/h/day={yyyy}-{MM}-{dd}/hour={HH}/{filename}"},
			err:  "layout does not match the table's partition keys: s3://lake/h/day={yyyy}-{MM}-{dd}/hour={HH}/{filename} partitions by (day, hour), table lake.events_hourly by (dt, hour)",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := newTestGlue()
			reg := newRegistrar(g, "lake", instant).register(context.Background(), []partitionWant{tc.want})
			require.Len(t, reg.Failed, 1)
			assert.ErrorIs(t, reg.Failed[0], ErrLayoutMismatch)
			assert.EqualError(t, reg.Failed[0], tc.err)
			assert.Empty(t, g.batches, "nothing is created for a layout that does not fit")
		})
	}
}

// TestRegisterLocationConflict: two objects whose copies put the same
// partition values in different folders cannot share one partition.
func TestRegisterLocationConflict(t *testing.T) {
	g := newTestGlue()
	wants := hourly(1)
	other := wants[0]
	other.Location = "s3://lake/other/dt=2024-05-01/hour=00/"
	reg := newRegistrar(g, "lake", instant).register(context.Background(), append(wants, other))
	require.Len(t, reg.Failed, 1)
	assert.ErrorContains(t, reg.Failed[1], "partition [2024-05-01 00] of lake.events_hourly would be at both s3://lake/events/hourly/dt=2024-05-01/hour=00/ and s3://lake/other/dt=2024-05-01/hour=00/")
	assert.Equal(t, 1, reg.Created)
}
