package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/firehose"
	"lakestream/shared/golden"
	"lakestream/shared/record"
)

// arrival is the approximate arrival time of every test record.
var arrival = time.Date(2024, 3, 5, 6, 7, 8, 9_000_000, time.UTC)

// parseKV is the test parser for .log inputs: space-separated name=value
// words, integers as int64, "-" as null; lines starting with # are skipped.
func parseKV(line []byte) (*record.Record, error) {
	if bytes.HasPrefix(line, []byte("#")) {
		return nil, nil
	}
	r := record.New(12)
	for word := range strings.FieldsSeq(string(line)) {
		name, value, ok := strings.Cut(word, "=")
		if !ok {
			return nil, fmt.Errorf("word %q has no =", word)
		}
		var v any = value
		if n, err := strconv.ParseInt(value, 10, 64); err == nil {
			v = n
		} else if value == "-" {
			v = nil
		}
		r.Set(name, v)
	}
	return r, nil
}

// goldenMeta is what a case's <case>.golden.json holds besides the output data,
// which sits in <case>.golden.<ndjson|csv|tsv> to be compared byte for byte.
type goldenMeta struct {
	Drop          bool              `json:"drop"`
	PartitionKeys map[string]string `json:"partitionKeys"`
	Error         string            `json:"error,omitempty"`
}

// readEnv reads a case's <case>.env: KEY=VALUE lines, # comments.
func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "env line %q", line)
		env[k] = v
	}
	require.NoError(t, sc.Err())
	return env
}

// newCasePipeline builds the pipeline a case's input extension calls for:
// .log with parseKV, .ndjson with ParseJSON per line, .json with ParseJSON
// per document.
func newCasePipeline(t *testing.T, input string, env map[string]string) *Pipeline {
	t.Helper()
	e := config.New(config.FromMap(env))
	opts := Load(e)
	require.NoError(t, e.Err())
	if env["PARSE_MESSAGE"] == "json" { // as shared/logformat sets it
		opts.ParseMessage = func(line []byte, _ time.Time) (*record.Record, error) { return ParseJSON(line) }
		opts.ParseMessageName = "json"
	}
	parse := parseKV
	switch filepath.Ext(input) {
	case ".ndjson":
		parse = ParseJSON
	case ".json":
		parse, opts.Split = ParseJSON, SplitJSON
	}
	p, err := New(parse, opts)
	require.NoError(t, err)
	return p
}

func TestTransformGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/transform/*.*")
	require.NoError(t, err)
	cases := map[string]string{} // case name to input file
	for _, in := range inputs {
		switch ext := filepath.Ext(in); {
		case strings.Contains(in, ".golden."), ext == ".env":
		default:
			cases[strings.TrimSuffix(filepath.Base(in), ext)] = in
		}
	}
	require.NotEmpty(t, cases)

	for name, input := range cases {
		t.Run(name, func(t *testing.T) {
			base := strings.TrimSuffix(input, filepath.Ext(input))
			env := readEnv(t, base+".env")
			p := newCasePipeline(t, input, env)
			data, err := os.ReadFile(input)
			require.NoError(t, err)

			out, err := p.Transform(context.Background(), firehose.Record{ID: "r1", Data: data, ArrivalTime: arrival})
			got := goldenMeta{Drop: out.Drop, PartitionKeys: out.PartitionKeys}
			if err != nil {
				got.Error = err.Error()
			}
			ext := map[string]string{"csv": ".csv", "tsv": ".tsv", "lines": ".txt"}[env["OUTPUT_FORMAT"]]
			if ext == "" {
				ext = ".ndjson"
			}
			metaPath, dataPath := base+".golden.json", base+".golden"+ext
			golden.JSON(t, metaPath, got)

			if golden.Update() && out.Data == nil {
				if err := os.Remove(dataPath); err != nil && !errors.Is(err, os.ErrNotExist) {
					require.NoError(t, err)
				}
			}
			if _, err := os.Stat(dataPath); errors.Is(err, os.ErrNotExist) {
				assert.Nil(t, out.Data)
				return
			}
			// Compared byte for byte, not as JSON: field order and number
			// notation are what this package promises.
			golden.Bytes(t, dataPath, out.Data)
			if f := env["OUTPUT_FORMAT"]; f == "" || f == "json" || f == "splunk" {
				for line := range bytes.Lines(out.Data) {
					assert.True(t, json.Valid(line), "output line %s", line)
				}
			}
		})
	}
}
