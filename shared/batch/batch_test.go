package batch_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/batch"
)

type record struct {
	id  string
	out batch.Outcome
}

func outcomes(recs ...record) *batch.Outcomes {
	o := batch.New(len(recs))
	for i, r := range recs {
		o.SetID(i, r.id)
		o.Set(i, r.out)
	}
	return o
}

func TestResponses(t *testing.T) {
	tests := map[string]struct {
		records []record
		want    string // every response type's JSON
		counts  batch.Counts
		err     error
	}{
		"no records": {
			want:   `{"batchItemFailures":[]}`,
			counts: batch.Counts{},
		},
		"all delivered or skipped": {
			records: []record{{"1", batch.Delivered}, {"2", batch.Skipped}, {"3", batch.Delivered}},
			want:    `{"batchItemFailures":[]}`,
			counts:  batch.Counts{In: 3, Delivered: 2, Skipped: 1},
		},
		"every failure listed in event order": {
			records: []record{{"30", batch.Delivered}, {"31", batch.Failed}, {"32", batch.Delivered}, {"29", batch.Failed}},
			want:    `{"batchItemFailures":[{"itemIdentifier":"31"},{"itemIdentifier":"29"}]}`,
			counts:  batch.Counts{In: 4, Delivered: 2, Failed: 2},
		},
		"a record left pending is a failure": {
			records: []record{{"1", batch.Delivered}, {"2", batch.Pending}},
			want:    `{"batchItemFailures":[{"itemIdentifier":"2"}]}`,
			counts:  batch.Counts{In: 2, Delivered: 1, Failed: 1},
		},
		"a failure without an identifier is an error, not an empty identifier": {
			records: []record{{"1", batch.Failed}, {"", batch.Failed}, {"", batch.Delivered}},
			want:    `{"batchItemFailures":[{"itemIdentifier":"1"}]}`,
			counts:  batch.Counts{In: 3, Delivered: 1, Failed: 2},
			err:     batch.ErrUnidentified,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := outcomes(tc.records...)
			assert.Equal(t, tc.counts, o.Counts())
			ddb, err := o.DynamoDBResponse()
			assert.ErrorIs(t, err, tc.err)
			kin, err := o.KinesisResponse()
			assert.ErrorIs(t, err, tc.err)
			sqs, err := o.SQSResponse()
			assert.ErrorIs(t, err, tc.err)
			for kind, resp := range map[string]any{"dynamodb": ddb, "kinesis": kin, "sqs": sqs} {
				b, err := json.Marshal(resp)
				require.NoError(t, err)
				assert.JSONEq(t, tc.want, string(b), kind)
			}
		})
	}
}

func TestOutcomeAccessors(t *testing.T) {
	o := batch.New(2)
	require.Equal(t, 2, o.Len())
	assert.Equal(t, batch.Pending, o.Get(0), "records start pending")
	o.SetID(1, "4950")
	o.Set(1, batch.Skipped)
	assert.Equal(t, "4950", o.ID(1))
	assert.Equal(t, "", o.ID(0))
	assert.Equal(t, batch.Skipped, o.Get(1))
	assert.Equal(t, "skipped", o.Get(1).String())
	assert.Equal(t, "Outcome(9)", batch.Outcome(9).String())
}
