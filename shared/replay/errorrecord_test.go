package replay

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/golden"
)

// describeLines is what a golden file holds of ReadErrorObject's lines.
func describeLines(lines []Line) []map[string]any {
	out := make([]map[string]any, len(lines))
	for i, l := range lines {
		d := map[string]any{"line": l.N}
		if l.Err != nil {
			d["error"] = l.Err.Error()
		} else {
			r := l.Record
			d["errorCode"], d["errorMessage"], d["rawData"] = r.ErrorCode, r.ErrorMessage, string(r.RawData)
			d["attemptsMade"], d["arrivalTimestamp"], d["attemptEndingTimestamp"], d["lambdaArn"] = r.AttemptsMade, r.ArrivalTimestamp, r.AttemptEndingTimestamp, r.LambdaARN
		}
		out[i] = d
	}
	return out
}

// TestReadErrorObject reads the objects of testdata/errors: the
// developer guide's processing-failed records (numbers as strings), a
// format-conversion failure (numbers, lastErrorCode), a gzip-compressed
// object and lines that are not records among records.
func TestReadErrorObject(t *testing.T) {
	paths, err := filepath.Glob("testdata/errors/*")
	require.NoError(t, err)
	var inputs []string
	for _, p := range paths {
		if !strings.HasSuffix(p, ".golden.json") {
			inputs = append(inputs, p)
		}
	}
	require.Len(t, inputs, 4)
	for _, p := range inputs {
		t.Run(filepath.Base(p), func(t *testing.T) {
			body, err := os.ReadFile(p)
			require.NoError(t, err)
			lines, err := ReadErrorObject(body)
			require.NoError(t, err)
			golden.JSON(t, strings.TrimSuffix(strings.TrimSuffix(p, ".gz"), ".json")+".golden.json", describeLines(lines))
		})
	}
}

func TestReadErrorObjectBroken(t *testing.T) {
	_, err := ReadErrorObject([]byte{0x1f, 0x8b, 0, 1})
	assert.ErrorContains(t, err, "gunzip")
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte(`{"rawData":"YQ=="}` + "\n" + strings.Repeat("x", 1000)))
	zw.Close()
	b := zipped.Bytes()
	lines, err := ReadErrorObject(b[:len(b)-10])
	assert.Error(t, err, "a truncated gzip stream")
	require.NotEmpty(t, lines, "the lines before the damage are read")
	assert.NoError(t, lines[0].Err)
	_, err = ReadErrorObject([]byte(strings.Repeat("x", maxLine+1)))
	assert.ErrorContains(t, err, "token too long")
}

// FuzzReadErrorObject: any object reads without panicking, and every line
// read as a record holds the base64-decoded rawData that encoding/json
// sees in it.
func FuzzReadErrorObject(f *testing.F) {
	paths, _ := filepath.Glob("testdata/errors/*")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"rawData":"","attemptsMade":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		lines, _ := ReadErrorObject(body)
		for _, l := range lines {
			if l.Err != nil {
				continue
			}
			var v struct {
				RawData *string `json:"rawData"`
			}
			require.NoError(t, json.Unmarshal(l.Raw, &v), "line %d read as a record: %s", l.N, l.Raw)
			require.NotNil(t, v.RawData)
			want, err := base64.StdEncoding.DecodeString(*v.RawData)
			require.NoError(t, err)
			require.Equal(t, want, l.Record.RawData)
		}
	})
}
