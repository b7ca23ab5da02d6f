package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// s3Event is a notification for bucket/key of size bytes.
func s3Event(keys ...[2]string) []byte {
	var recs []map[string]any
	for _, k := range keys {
		recs = append(recs, map[string]any{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "eventTime": "2024-05-01T13:59:59Z",
			"s3": map[string]any{"bucket": map[string]any{"name": k[0]}, "object": map[string]any{"key": k[1], "size": 10}}})
	}
	b, _ := json.Marshal(map[string]any{"Records": recs})
	return b
}

// TestRegisterInPlace: objects already where they belong (Firehose's
// default YYYY/MM/DD/HH folders, a layout of unpadded folders) have their
// partitions registered where they are, nothing copied; an object in no
// such layout is left alone; a retry registers nothing twice.
func TestRegisterInPlace(t *testing.T) {
	const firehoseName = "cf-stream-1-2024-05-01-13-59-01-3f9a2c1e-8b7d-4e6f-a1b2-c3d4e5f6a7b8.gz"
	f, g := newFakeS3(), newFakeGlue()
	g.addTable("lake", "cloudfront_logs", "s3://logs/cloudfront/", "year", "month", "day", "hour")
	g.addTable("lake", "app_logs", "s3://logs/app/", "year", "month", "day", "hour")
	objects := [][2]string{
		{"logs", "cloudfront/2024/05/01/13/" + firehoseName},
		{"logs", "app/year=2024/month=5/day=1/hour=0/part-0.json"},
		{"logs", "app/year=2024/month=05/day=01/hour=00/part-1.json"}, // padded: not the layout
		{"other", "cloudfront/2024/05/01/14/x.gz"},                    // {source_bucket}: any bucket
	}
	for _, o := range objects {
		f.put(o[0], o[1], []byte("0123456789"), "application/json")
	}
	h := newHandler(mustConfig(t, map[string]string{
		"REGISTER_IN_PLACE": "cloudfront_logs=s3://{source_bucket}/cloudfront/{yyyy}/{MM}/{dd}/{HH}/{filename}," +
			"app_logs=s3://logs/app/year={yyyy}/month={M}/day={d}/hour={H}/{filename}",
		"GLUE_DATABASE": "lake", "DELETE_SOURCE": "true",
	}), f, g, nil, nil)

	raw, err := invoke(t, h, s3Event(objects...))
	require.NoError(t, err)
	var res Result
	require.NoError(t, json.Unmarshal(raw, &res))
	var statuses []string
	for _, o := range res.Objects {
		statuses = append(statuses, o.Status+" "+o.TimeFrom+" "+o.Reason)
	}
	assert.Equal(t, []string{
		"registered in-place ", "registered in-place ",
		"ignored  in no REGISTER_IN_PLACE layout: s3://logs/app/year=2024/month=05/day=01/hour=00/part-1.json",
		"registered in-place ",
	}, statuses)
	assert.Equal(t, []string{
		"lake.app_logs 2024/5/1/0 -> s3://logs/app/year=2024/month=5/day=1/hour=0/",
		"lake.cloudfront_logs 2024/05/01/13 -> s3://logs/cloudfront/2024/05/01/13/",
		"lake.cloudfront_logs 2024/05/01/14 -> s3://other/cloudfront/2024/05/01/14/",
	}, g.partitionList())
	assert.Zero(t, f.count("CopyObject"), "nothing copied")
	assert.Zero(t, f.count("DeleteObject"), "an object in place is never deleted, even when moving")
	assert.Equal(t, 3, res.PartitionsCreated)

	again, err := invoke(t, h, s3Event(objects...))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(again, &res))
	assert.Zero(t, res.PartitionsCreated)
	assert.Equal(t, 3, res.PartitionsExisting)
}

// TestRegisterInPlaceAndCopy: with destinations too, an object in place is
// registered there and copied into each destination, which are registered
// as well; the time of a key no other layout reads comes from the in-place
// layout, which is more precise than the Hive folder dt= alone.
func TestRegisterInPlaceAndCopy(t *testing.T) {
	f, g := newFakeS3(), lakeGlue()
	g.addTable("lakestream", "raw_logs", "s3://lakestream-landing/incoming/", "dt", "h")
	key := "incoming/dt=2024-05-01/h=7/app.log"
	f.put("lakestream-landing", key, []byte("0123456789"), "text/plain")
	env := templateEnv(t)
	env["REGISTER_IN_PLACE"] = "raw_logs=s3://{source_bucket}/incoming/dt={yyyy}-{MM}-{dd}/h={H}/{filename}"
	h := newHandler(mustConfig(t, env), f, g, nil, nil)

	raw, err := invoke(t, h, s3Event([2]string{"lakestream-landing", key}))
	require.NoError(t, err, "%s", raw)
	var res Result
	require.NoError(t, json.Unmarshal(raw, &res))
	o := res.Objects[0]
	assert.Equal(t, StatusCopied, o.Status)
	assert.Equal(t, "in-place", o.TimeFrom)
	var copies []string
	for _, c := range o.Copies {
		copies = append(copies, fmt.Sprintf("%s %s", c.Status, c.Destination))
	}
	assert.Equal(t, []string{
		"in-place s3://lakestream-landing/" + key,
		"copied s3://lakestream-lake/events/hourly/dt=2024-05-01/hour=07/app.log",
		"copied s3://lakestream-lake/events/minute/2024/05/01/07/00/app.log",
	}, copies)
	assert.Contains(t, g.partitionList(), "lakestream.raw_logs 2024-05-01/7 -> s3://lakestream-landing/incoming/dt=2024-05-01/h=7/")
}
