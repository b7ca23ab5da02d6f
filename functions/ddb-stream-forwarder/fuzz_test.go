package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzConvert feeds Convert single records, starting from every test and
// sample record, and checks that it never panics; that a failed record
// leaves the arena as it was and has no line; and that a converted
// DynamoDB record is one compact JSON line naming the record, holding the
// keys and chosen images with the attributes the input has, while Kinesis
// data is forwarded byte for byte.
func FuzzConvert(f *testing.F) {
	var seeds []string
	for _, glob := range []string{filepath.Join("testdata", "*.json"), filepath.Join(eventsDir(f), "*.json")} {
		files, err := filepath.Glob(glob)
		require.NoError(f, err)
		seeds = append(seeds, files...)
	}
	for _, path := range seeds {
		if filepath.Ext(filepath.Base(path[:len(path)-5])) == ".golden" {
			continue
		}
		for _, raw := range records(f, path) {
			f.Add([]byte(raw))
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		arena := []byte("previous lines\n")
		rec, out, err := both.Convert(slices.Clip(arena), raw)
		require.True(t, bytes.HasPrefix(out, arena), "earlier lines are kept")
		if err != nil {
			assert.Nil(t, rec.Line)
			assert.Equal(t, len(arena), len(out), "a failed record adds nothing")
			return
		}
		if rec.Skip {
			return
		}
		require.Equal(t, string(out[len(arena):]), string(rec.Line), "the line is what was appended")
		switch rec.Kind {
		case sourceKinesis:
			var kin events.KinesisEventRecord
			require.NoError(t, json.Unmarshal(raw, &kin))
			assert.True(t, bytes.HasPrefix(rec.Line, kin.Kinesis.Data), "data forwarded as it is")
			assert.True(t, bytes.HasSuffix(rec.Line, []byte("\n")))
		case sourceDynamoDB:
			require.True(t, bytes.HasSuffix(rec.Line, []byte("\n")))
			body := rec.Line[:len(rec.Line)-1]
			require.NotContains(t, string(body), "\n", "one line")
			require.True(t, json.Valid(body), "valid JSON: %s", body)
			var compact bytes.Buffer
			require.NoError(t, json.Compact(&compact, body))
			assert.Equal(t, compact.String(), string(body), "compact")
			var line struct {
				Table          string                     `json:"table"`
				SequenceNumber string                     `json:"sequence_number"`
				Keys           map[string]json.RawMessage `json:"keys"`
				NewImage       map[string]json.RawMessage `json:"new_image"`
				OldImage       map[string]json.RawMessage `json:"old_image"`
			}
			require.NoError(t, json.Unmarshal(body, &line))
			assert.Equal(t, rec.Source, line.Table)
			assert.NotEmpty(t, line.Table)
			assert.Equal(t, rec.ID, line.SequenceNumber)
			var ddb events.DynamoDBEventRecord
			require.NoError(t, json.Unmarshal(raw, &ddb), "Convert read it, so it decodes")
			assert.ElementsMatch(t, keysOf(ddb.Change.Keys), keysOfRaw(line.Keys))
			assert.ElementsMatch(t, keysOf(ddb.Change.NewImage), keysOfRaw(line.NewImage))
			assert.ElementsMatch(t, keysOf(ddb.Change.OldImage), keysOfRaw(line.OldImage))
		default:
			t.Fatalf("converted a record of kind %q", rec.Kind)
		}
	})
}

func keysOf(m map[string]events.DynamoDBAttributeValue) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

func keysOfRaw(m map[string]json.RawMessage) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}
