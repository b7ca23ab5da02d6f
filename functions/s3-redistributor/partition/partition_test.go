package partition_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/functions/s3-redistributor/partition"
	"lakestream/shared/golden"
)

// patterns are the custom prefixes the golden key cases are parsed with.
var patterns = []string{
	"logs/{yyyy}/{MM}/{dd}/{HH}/*",
	"metrics/{yyyy}{MM}{dd}/{HH}{mm}/*",
	"exports/dt={yyyy}-{MM}-{dd}/{HH}/*",
}

const uuid = "3f9a2c1e-8b7d-4e6f-a1b2-c3d4e5f6a7b8"

// TestKeyTime reads each testdata/keys/<case>.key (one URL-decoded key) and
// compares what KeyTime finds with <case>.golden.json.
func TestKeyTime(t *testing.T) {
	parser, err := partition.NewParser(patterns...)
	require.NoError(t, err)
	inputs, err := filepath.Glob("testdata/keys/*.key")
	require.NoError(t, err)
	require.NotEmpty(t, inputs)

	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".key")
		t.Run(name, func(t *testing.T) {
			key := readFile(t, in)
			m, ok := parser.KeyTime(key)
			got := map[string]any{"match": ok}
			if ok {
				got["layout"] = m.Layout
				got["time"] = m.Time.Format(time.RFC3339)
				got["precision"] = m.Precision.String()
				got["stream"] = m.Stream
				got["pattern"] = m.Pattern
				assert.Equal(t, time.UTC, m.Time.Location())
				assert.Equal(t, m.Time, m.Time.Truncate(m.Precision), "time finer than its precision")
			}
			golden.JSON(t, strings.TrimSuffix(in, ".key")+".golden.json", got)

			// A nil Parser finds the same, but for the configured patterns.
			var none *partition.Parser
			nm, nok := none.KeyTime(key)
			if m.Layout == partition.LayoutPattern {
				assert.True(t, !nok || nm.Layout == partition.LayoutHive)
			} else {
				assert.Equal(t, ok, nok)
				assert.Equal(t, m, nm)
			}
		})
	}
}

// templateCase is the input of one testdata/templates/<case>.json.
type templateCase struct {
	Template string           `json:"template"`
	Keys     []string         `json:"keys"`
	Time     time.Time        `json:"time"`
	Source   partition.Object `json:"source"`
}

// TestTemplate renders each testdata/templates/<case>.json and compares the
// destination, the Glue partition and its location with <case>.golden.json.
func TestTemplate(t *testing.T) {
	for _, in := range templateInputs(t) {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			var tc templateCase
			require.NoError(t, json.Unmarshal([]byte(readFile(t, in)), &tc))
			tmpl, err := partition.ParseTemplate(tc.Template, tc.Keys...)
			require.NoError(t, err)
			assert.Equal(t, tc.Template, tmpl.String())

			got := map[string]any{
				"partitionKeys":   tmpl.PartitionKeys(),
				"partitionValues": tmpl.PartitionValues(tc.Time),
			}
			bucket, key, err := tmpl.Render(tc.Time, tc.Source)
			if err != nil {
				got["error"] = err.Error()
			} else {
				got["bucket"], got["key"] = bucket, key
				location, err := tmpl.Location(tc.Time, tc.Source)
				require.NoError(t, err)
				got["location"] = location
				assert.True(t, strings.HasPrefix("s3://"+bucket+"/"+key, location))
			}
			golden.JSON(t, strings.TrimSuffix(in, ".json")+".golden.json", got)
		})
	}
}

func TestParseTemplateMalformed(t *testing.T) {
	tests := map[string]struct {
		template string
		keys     []string
		err      string
	}{
		"unknown placeholder":    {template: "s3://lake/{yyy}/{filename}", err: `unknown placeholder {yyy}`},
		"empty placeholder":      {template: "s3://lake/{}/{filename}", err: `unknown placeholder {}`},
		"unclosed placeholder":   {template: "s3://lake/{yyyy/{filename}", err: `unclosed placeholder "{yyyy"`},
		"stray closing brace":    {template: "s3://lake/yyyy}/{filename}", err: `'}' without '{'`},
		"no scheme":              {template: "lake/{yyyy}/{filename}", err: `must start with s3://`},
		"no bucket":              {template: "s3:///events/{filename}", err: `no bucket after s3://`},
		"no key":                 {template: "s3://lake", err: `no object key after the bucket`},
		"bare bucket slash":      {template: "s3://lake/", err: `no object key after the bucket`},
		"invalid bucket":         {template: "s3://Lake_1/{filename}", err: `"Lake_1" is not a valid S3 bucket name`},
		"time in bucket":         {template: "s3://lake-{yyyy}/{filename}", err: `the bucket "lake-{yyyy}" must be a bucket name or {source_bucket}`},
		"trailing slash":         {template: "s3://lake/{yyyy}/{filename}/", err: `empty path segment (leading, trailing or double '/')`},
		"double slash":           {template: "s3://lake/a//{filename}", err: `empty path segment (leading, trailing or double '/')`},
		"no file name":           {template: "s3://lake/dt={yyyy}-{MM}-{dd}/{HH}{mm}.json", err: `the last segment needs {filename} or {key}, or every object of a period would overwrite the one before`},
		"file name in folder":    {template: "s3://lake/{filename}/{key}", err: `folder "{filename}": {filename} and {key} belong in the last segment`},
		"stream in partition":    {template: "s3://lake/dt={yyyy}-{stream}/{filename}", err: `partition folder "dt={yyyy}-{stream}" may hold only time placeholders`},
		"upper-case hive key":    {template: "s3://lake/Hour={HH}/{filename}", err: `partition key "Hour" must be lower-case letters, digits and '_', as Glue stores it`},
		"mixed styles":           {template: "s3://lake/dt={yyyy}-{MM}-{dd}/{HH}/{filename}", err: `partition folders mix Hive style (dt=...) and plain ({HH})`},
		"keys for hive template": {template: "s3://lake/dt={yyyy}-{MM}-{dd}/{filename}", keys: []string{"day"}, err: `the template names its partition keys (dt); give no keys`},
		"too few keys":           {template: "s3://lake/{yyyy}/{MM}/{filename}", keys: []string{"year"}, err: `1 partition keys given for 2 partition folders`},
		"invalid key":            {template: "s3://lake/{yyyy}/{filename}", keys: []string{"1year"}, err: `partition key "1year" must be lower-case letters, digits and '_', as Glue stores it`},
		"repeated key":           {template: "s3://lake/{yyyy}/{MM}/{filename}", keys: []string{"p", "p"}, err: `partition key "p" appears twice`},
		"repeated hive key":      {template: "s3://lake/p={yyyy}/p={MM}/{filename}", err: `partition key "p" appears twice`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tmpl, err := partition.ParseTemplate(tc.template, tc.keys...)
			require.Error(t, err)
			assert.Nil(t, tmpl)
			assert.ErrorIs(t, err, partition.ErrInvalidTemplate)
			assert.EqualError(t, err, `partition: invalid template "`+tc.template+`": `+tc.err)
		})
	}
}

func TestNewParserMalformed(t *testing.T) {
	tests := map[string]struct {
		pattern string
		err     string
	}{
		"empty":               {"", `empty pattern`},
		"with bucket":         {"s3://b/logs/{yyyy}/{MM}/{dd}/*", `a pattern matches object keys: leave out s3:// and the bucket`},
		"unknown placeholder": {"logs/{YYYY}/{MM}/{dd}/*", `unknown placeholder {YYYY}`},
		"not a time":          {"logs/{yyyy}/{MM}/{dd}/{filename}", `{filename} cannot be matched; patterns take {yyyy} {MM} {dd} {HH} {mm} {ss}, {M} {d} {H} {m} {s} and *`},
		"no day":              {"logs/{yyyy}/{MM}/*", `needs {yyyy}, {MM} and {dd}`},
		"repeated":            {"logs/{yyyy}/{MM}/{dd}/{yyyy}*", `{yyyy} appears twice`},
		"minute without hour": {"logs/{yyyy}/{MM}/{dd}/{mm}/*", `{mm} needs {HH}`},
		"second w/o minute":   {"logs/{yyyy}/{MM}/{dd}/{HH}{ss}/*", `{ss} needs {mm}`},
		"unclosed":            {"logs/{yyyy/{MM}/{dd}/*", `unclosed placeholder "{yyyy/"`},
		"unclosed at end":     {"logs/{yyyy}/{MM}/{dd}/{HH", `unclosed placeholder "{HH"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := partition.NewParser("ok/{yyyy}/{MM}/{dd}/*", tc.pattern)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.ErrorIs(t, err, partition.ErrInvalidPattern)
			assert.EqualError(t, err, `partition: invalid key pattern "`+tc.pattern+`": `+tc.err)
		})
	}

	_, err := partition.NewParser("a/{yyyy}/*", "b/{MM}/*")
	assert.EqualError(t, err, `partition: invalid key pattern "a/{yyyy}/*": needs {yyyy}, {MM} and {dd}`+"\n"+
		`partition: invalid key pattern "b/{MM}/*": needs {yyyy}, {MM} and {dd}`, "every invalid pattern is reported")
}

func TestRenderErrors(t *testing.T) {
	tmpl, err := partition.ParseTemplate("s3://{source_bucket}/archive/{yyyy}/{key}")
	require.NoError(t, err)
	at := time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC)

	_, _, err = tmpl.Render(at, partition.Object{Key: "x.json"})
	assert.ErrorIs(t, err, partition.ErrMissingValue)
	assert.EqualError(t, err, "partition: no value for placeholder {source_bucket}: the source object has no bucket")

	_, _, err = tmpl.Render(at, partition.Object{Bucket: "in", Key: strings.Repeat("k", 1024-len("archive/2024/")+1)})
	assert.ErrorIs(t, err, partition.ErrKeyTooLong)
	_, key, err := tmpl.Render(at, partition.Object{Bucket: "in", Key: strings.Repeat("k", 1024-len("archive/2024/"))})
	require.NoError(t, err)
	assert.Len(t, key, 1024, "a key of exactly 1,024 bytes is allowed")

	_, err = tmpl.Location(at.AddDate(-2025, 0, 0), partition.Object{Bucket: "in", Key: "x"})
	assert.ErrorIs(t, err, partition.ErrTimeRange)
}

// templateInputs lists the template cases, leaving out their golden files.
func templateInputs(t testing.TB) []string {
	return golden.Inputs(t, "testdata/templates/*.json")
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.TrimSuffix(string(b), "\n")
}

// FuzzKeyTime checks that no key panics, that every time found is a real
// UTC time from 1970 to 9999, and that rendering it into a Firehose default
// key reads back as the same time.
func FuzzKeyTime(f *testing.F) {
	inputs, err := filepath.Glob("testdata/keys/*.key")
	require.NoError(f, err)
	for _, in := range inputs {
		f.Add(readFile(f, in))
	}
	parser, err := partition.NewParser(patterns...)
	require.NoError(f, err)
	// firehoseStyle renders a time back into a Firehose default key.
	firehoseStyle, err := partition.ParseTemplate("s3://lake/{yyyy}/{MM}/{dd}/{HH}/{stream}-1-{yyyy}-{MM}-{dd}-{HH}-{mm}-{ss}-{filename}")
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, key string) {
		m, ok := parser.KeyTime(key)
		if !ok {
			require.Equal(t, partition.Match{}, m)
			return
		}
		require.Equal(t, time.UTC, m.Time.Location())
		require.True(t, m.Time.Year() >= 1970 && m.Time.Year() <= 9999, "time %v out of range for %q", m.Time, key)
		require.Equal(t, m.Time, m.Time.Truncate(m.Precision))

		src := partition.Object{Bucket: "in", Key: "x/" + uuid + ".gz", Stream: "fuzz.stream-1"}
		_, rendered, err := firehoseStyle.Render(m.Time, src)
		require.NoError(t, err)
		back, ok := parser.KeyTime(rendered)
		require.True(t, ok, "rendered key %q does not parse", rendered)
		require.Equal(t, partition.LayoutFirehose, back.Layout)
		require.Equal(t, m.Time, back.Time, "round trip of %q through %q", key, rendered)
		require.Equal(t, src.Stream, back.Stream)
	})
}

// FuzzParseTemplate checks that no template panics, that errors are
// ErrInvalidTemplate, and that a valid template renders an object with
// every value present into a key within its location and partition values
// that match its keys.
func FuzzParseTemplate(f *testing.F) {
	for _, in := range templateInputs(f) {
		var tc templateCase
		require.NoError(f, json.Unmarshal([]byte(readFile(f, in)), &tc))
		f.Add(tc.Template)
	}
	f.Add("s3://lake/{yyyy/{filename}")
	src := partition.Object{Bucket: "in", Key: "a/b/" + uuid + ".gz", Stream: "s"}
	at := time.Date(2024, 5, 1, 13, 45, 10, 0, time.UTC)

	f.Fuzz(func(t *testing.T, s string) {
		tmpl, err := partition.ParseTemplate(s)
		if err != nil {
			require.ErrorIs(t, err, partition.ErrInvalidTemplate)
			return
		}
		bucket, key, err := tmpl.Render(at, src)
		if errors.Is(err, partition.ErrKeyTooLong) {
			return
		}
		require.NoError(t, err)
		require.NotEmpty(t, bucket)
		require.NotEmpty(t, key)
		location, err := tmpl.Location(at, src)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix("s3://"+bucket+"/"+key, location))
		if keys := tmpl.PartitionKeys(); keys != nil {
			require.Len(t, tmpl.PartitionValues(at), len(keys))
		}
	})
}

func BenchmarkKeyTime(b *testing.B) {
	parser, err := partition.NewParser(patterns...)
	require.NoError(b, err)
	keys := map[string]string{
		"firehose": "lake/raw/events/2024/05/01/13/orders-stream-v2-3-2024-05-01-13-59-59-" + uuid + ".parquet",
		"pattern":  "metrics/20240501/1345/batch-7.json",
		"hive":     "tables/events/year=2024/month=05/day=01/hour=13/part-00000.snappy.parquet",
		"none":     "uploads/some/folder/readme.txt",
	}
	for name, key := range keys {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(key)))
			b.ReportAllocs()
			for b.Loop() {
				parser.KeyTime(key)
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	tmpl, err := partition.ParseTemplate("s3://lake/events/dt={yyyy}-{MM}-{dd}/hour={HH}/{filename}")
	require.NoError(b, err)
	src := partition.Object{Bucket: "in", Key: "2024/05/01/13/clicks-1-2024-05-01-13-45-10-" + uuid + ".gz"}
	at := time.Date(2024, 5, 1, 13, 45, 10, 0, time.UTC)
	b.SetBytes(int64(len(src.Key)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tmpl.Render(at, src); err != nil {
			b.Fatal(err)
		}
	}
}
