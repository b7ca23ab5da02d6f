package eventbridge

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// detailOf is the detail type of a detail-type, for a source.
func detailOf(source, detailType string) any {
	switch {
	case source == SourceS3 && detailType == DetailTypeS3ObjectCreated:
		return &S3ObjectCreatedDetail{}
	case source == SourceGlue && detailType == DetailTypeGlueCrawlerStateChange:
		return &GlueCrawlerStateChangeDetail{}
	case source == SourceGlue && detailType == DetailTypeGlueTableStateChange:
		return &GlueTableStateChangeDetail{}
	case source == SourceGlue && detailType == DetailTypeGlueDatabaseStateChange:
		return &GlueDatabaseStateChangeDetail{}
	}
	return nil
}

// TestRoundTrip decodes the detail of every sample (testdata/ and the
// functions' events/) into its type and encodes it again: nothing on the
// wire is lost or renamed.
func TestRoundTrip(t *testing.T) {
	var paths []string
	for _, pattern := range []string{"testdata/*.json", "../../events/glue-*/*.json", "../../events/s3-redistributor/eventbridge.json"} {
		p, err := filepath.Glob(pattern)
		require.NoError(t, err)
		paths = append(paths, p...)
	}
	covered := map[string]bool{}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			var ev events.EventBridgeEvent
			require.NoError(t, json.Unmarshal(raw, &ev))
			d := detailOf(ev.Source, ev.DetailType)
			if d == nil {
				require.Equal(t, DetailTypeScheduled, ev.DetailType, "a sample of a detail type without a type here")
				require.Equal(t, SourceSchedule, ev.Source)
				return
			}
			covered[ev.DetailType] = true
			require.NoError(t, json.Unmarshal(ev.Detail, d))
			out, err := json.Marshal(d)
			require.NoError(t, err)
			assert.JSONEq(t, string(ev.Detail), string(out))
		})
	}
	assert.Len(t, covered, 4, "every detail type has a sample")
}

// TestDecodeValues pins typed values and a key that is not URL-encoded.
func TestDecodeValues(t *testing.T) {
	raw, err := os.ReadFile("testdata/s3-object-created-versioned.json")
	require.NoError(t, err)
	var ev events.EventBridgeEvent
	require.NoError(t, json.Unmarshal(raw, &ev))
	var s3 S3ObjectCreatedDetail
	require.NoError(t, json.Unmarshal(ev.Detail, &s3))
	assert.Equal(t, "incoming/exports/région=eu west/données été #1.json", s3.Object.Key)
	assert.Equal(t, int64(512), s3.Object.Size)
	assert.Equal(t, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", s3.Object.VersionID)

	var crawler GlueCrawlerStateChangeDetail
	require.NoError(t, json.Unmarshal([]byte(`{"crawlerName":"c","state":"Succeeded","runningTime (sec)":"41"}`), &crawler))
	assert.Equal(t, GlueCrawlerStateSucceeded, crawler.State)
	assert.Equal(t, "41", crawler.RunningTime)
	var table GlueTableStateChangeDetail
	require.NoError(t, json.Unmarshal([]byte(`{"databaseName":"lake","tableName":"t","typeOfChange":"UpdateTable"}`), &table))
	assert.Equal(t, GlueTypeOfChangeUpdateTable, table.TypeOfChange)
}

// TestDecodeMalformed: a detail of the wrong shape does not decode.
func TestDecodeMalformed(t *testing.T) {
	tests := map[string]struct {
		detail string
		into   any
	}{
		"S3 detail not an object": {`["bucket"]`, &S3ObjectCreatedDetail{}},
		"size not a number":       {`{"bucket":{"name":"b"},"object":{"key":"k","size":"5"}}`, &S3ObjectCreatedDetail{}},
		"crawler name a number":   {`{"crawlerName":7,"state":"Succeeded"}`, &GlueCrawlerStateChangeDetail{}},
		"changed tables a string": {`{"databaseName":"lake","typeOfChange":"CreateTable","changedTables":"t"}`, &GlueDatabaseStateChangeDetail{}},
		"table name truncated":    {`{"databaseName":"lake","tableName":`, &GlueTableStateChangeDetail{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, json.Unmarshal([]byte(tc.detail), tc.into))
		})
	}
}
