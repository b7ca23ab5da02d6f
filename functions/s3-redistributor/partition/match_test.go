package partition_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/functions/s3-redistributor/partition"
)

// TestUnpadded: {M} {d} {H} {m} {s} write a time field without its leading
// zero, in keys and partition values; patterns read them.
func TestUnpadded(t *testing.T) {
	at := time.Date(2024, 5, 1, 0, 7, 3, 0, time.UTC)
	tmpl, err := partition.ParseTemplate("s3://lake/logs/year={yyyy}/month={M}/day={d}/hour={H}/{m}-{s}-{filename}")
	require.NoError(t, err)
	_, key, err := tmpl.Render(at, partition.Object{Key: "in/a.gz"})
	require.NoError(t, err)
	assert.Equal(t, "logs/year=2024/month=5/day=1/hour=0/7-3-a.gz", key)
	assert.Equal(t, []string{"2024", "5", "1", "0"}, tmpl.PartitionValues(at))
	loc, err := tmpl.Location(at, partition.Object{Key: "in/a.gz"})
	require.NoError(t, err)
	assert.Equal(t, "s3://lake/logs/year=2024/month=5/day=1/hour=0/", loc)

	padded, err := partition.ParseTemplate("s3://lake/logs/{yyyy}/{MM}/{dd}/{HH}/{filename}")
	require.NoError(t, err)
	assert.Equal(t, []string{"2024", "05", "01", "00"}, padded.PartitionValues(at))

	p, err := partition.NewParser("logs/{yyyy}/{M}/{d}/{H}/*")
	require.NoError(t, err)
	for key, want := range map[string]time.Time{
		"logs/2024/5/1/0/x.gz":    time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		"logs/2024/12/31/23/x.gz": time.Date(2024, 12, 31, 23, 0, 0, 0, time.UTC),
		"logs/2024/05/01/00/x.gz": time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), // padded is read too
	} {
		m, ok := p.KeyTime(key)
		require.True(t, ok, key)
		assert.Equal(t, want, m.Time, key)
		assert.Equal(t, partition.LayoutPattern, m.Layout)
	}
	_, ok := p.KeyTime("logs/2024/5/1/123/x.gz")
	assert.False(t, ok)

	_, err = partition.ParseTemplate("s3://lake/{yyyy}/{h}/{filename}")
	assert.ErrorContains(t, err, "unknown placeholder {h}")
	_, err = partition.NewParser("logs/{yyyy}/{M}/{MM}/{dd}/*")
	assert.ErrorContains(t, err, "{MM} appears twice")
}

// TestMatch: a template read backwards finds the objects it would have put
// where they are, and their time.
func TestMatch(t *testing.T) {
	const fh = "stream-1-2024-05-01-13-59-59-3f9a2c1e-8b7d-4e6f-a1b2-c3d4e5f6a7b8.gz"
	tests := map[string]struct {
		template    string
		bucket, key string
		want        time.Time
		stream      string
		ok          bool
	}{
		"Firehose's own layout": {template: "s3://{source_bucket}/cloudfront/{yyyy}/{MM}/{dd}/{HH}/{filename}", bucket: "logs",
			key: "cloudfront/2024/05/01/13/" + fh, want: time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC), ok: true},
		"an hour folder 0": {template: "s3://logs/app/{yyyy}/{M}/{d}/{H}/{filename}", bucket: "logs",
			key: "app/2024/5/1/0/part-0.json", want: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), ok: true},
		"padded where the template is not": {template: "s3://logs/app/{yyyy}/{M}/{d}/{H}/{filename}", bucket: "logs",
			key: "app/2024/05/01/00/part-0.json"},
		"Hive folders": {template: "s3://{source_bucket}/t/dt={yyyy}-{MM}-{dd}/hour={HH}/{filename}", bucket: "b",
			key: "t/dt=2024-02-29/hour=07/x", want: time.Date(2024, 2, 29, 7, 0, 0, 0, time.UTC), ok: true},
		"not a date":             {template: "s3://{source_bucket}/t/dt={yyyy}-{MM}-{dd}/{filename}", bucket: "b", key: "t/dt=2023-02-29/x"},
		"another bucket":         {template: "s3://logs/{yyyy}/{MM}/{dd}/{filename}", bucket: "other", key: "2024/05/01/x"},
		"deeper than the layout": {template: "s3://logs/{yyyy}/{MM}/{dd}/{filename}", bucket: "logs", key: "2024/05/01/more/x"},
		"a stream folder": {template: "s3://logs/by-stream/{stream}/{yyyy}/{MM}/{filename}", bucket: "logs",
			key: "by-stream/orders-v2/2024/05/x", want: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), stream: "orders-v2", ok: true},
		"the same field twice must agree": {template: "s3://logs/{yyyy}/{MM}/{yyyy}-{MM}-{dd}-{filename}", bucket: "logs",
			key: "2024/05/2024-06-01-x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tmpl, err := partition.ParseTemplate(tc.template)
			require.NoError(t, err)
			at, src, ok := tmpl.Match(tc.bucket, tc.key)
			require.Equal(t, tc.ok, ok)
			if !ok {
				return
			}
			assert.Equal(t, tc.want, at)
			assert.Equal(t, tc.stream, src.Stream)
			b, k, err := tmpl.Render(at, src)
			require.NoError(t, err)
			assert.Equal(t, [2]string{tc.bucket, tc.key}, [2]string{b, k}, "rendered where it is")
		})
	}
}
