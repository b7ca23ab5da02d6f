package faulttest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
	"lakestream/shared/replay"
)

// The replay's run: 10 error output objects of 20 records each, as
// Firehose writes them under its processing-failed prefix, replayed into
// their delivery stream by `replay firehose -apply`, run twice as a user
// would after a run that reported failures.
const (
	replayObjects = 10
	replayRecords = 20
	replayRuns    = 2
	replayStream  = "lakestream-json"
	replayPrefix  = "json-errors/processing-failed/"
	replayLake    = "json/"
)

// runReplay counts records: each ends in the delivery stream's S3
// destination, or still waiting for the next run (in an error object not
// tagged as replayed, or in the <key>-unsent-<time> object a run left for
// what it could not put back), which the summary reports as failed.
func runReplay(t *testing.T, e *env) account {
	ctx := t.Context()
	s3c := e.s3()
	e.deliveryStream(replayStream, cdcBucket, replayLake)
	for i := range replayObjects {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cdcBucket), Key: aws.String(errorObjectKey(i)), Body: bytes.NewReader(errorObject(t, i))})
		require.NoError(t, err)
	}

	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	bin, err := lambdarun.CachedMain(ctx, root, "shared/cmd/replay")
	require.NoError(t, err)
	env := moto.Shared(t).Env()
	env["AWS_ENDPOINT_URL"] = e.proxy.URL
	env["AWS_CONFIG_FILE"], env["AWS_SHARED_CREDENTIALS_FILE"], env["AWS_PROFILE"] = os.DevNull, os.DevNull, ""
	for run := range replayRuns {
		cmd := exec.CommandContext(ctx, bin, "firehose", "-source", "s3://"+cdcBucket+"/"+replayPrefix, "-stream", replayStream, "-apply")
		cmd.Env = append(os.Environ(), envList(env)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		t.Logf("replay run %d: %s (exit %v)\n%s", run+1, strings.TrimSpace(stdout.String()), err, stderr.String())
		require.True(t, err == nil || cmd.ProcessState.ExitCode() == 1, "a run ends with its summary, failures or not: %v\n%s", err, stderr.String())
	}

	copies := map[string]int{}
	for _, body := range e.objects(cdcBucket, replayLake) {
		for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
			var r struct {
				ID string `json:"id"`
			}
			require.NoError(t, json.Unmarshal(line, &r), "%.200s", line)
			copies[r.ID]++
		}
	}
	waiting := map[string]bool{} // records a next run would send
	for key, body := range e.objects(cdcBucket, replayPrefix) {
		if replayed(t, s3c, key) {
			continue
		}
		for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
			var r struct{ RawData []byte }
			require.NoError(t, json.Unmarshal(line, &r), "%s: %.200s", key, line)
			var doc struct {
				ID string `json:"id"`
			}
			require.NoError(t, json.Unmarshal(r.RawData, &doc), "%s", r.RawData)
			waiting[doc.ID] = true
		}
	}
	a := account{In: replayObjects * replayRecords}
	for i := range replayObjects {
		for n := range replayRecords {
			id := fmt.Sprintf("o%02d-r%02d", i, n)
			a.Duplicates += max(copies[id]-1, 0)
			switch {
			case copies[id] > 0:
				a.Delivered++
			case waiting[id]:
				a.Failed++
			default:
				a.Lost++
				t.Errorf("record %s: not replayed, and no longer in an error object a next run would read", id)
			}
		}
	}
	return a
}

// replayed reports whether a run tagged the object as done.
func replayed(t *testing.T, s3c *s3.Client, key string) bool {
	t.Helper()
	tags, err := s3c.GetObjectTagging(context.WithoutCancel(t.Context()), &s3.GetObjectTaggingInput{Bucket: aws.String(cdcBucket), Key: aws.String(key)})
	require.NoError(t, err)
	for _, tag := range tags.TagSet {
		if aws.ToString(tag.Key) == replay.TagReplayed {
			return true
		}
	}
	return false
}

// errorObjectKey is error object i's key, named as Firehose names them.
func errorObjectKey(i int) string {
	return fmt.Sprintf("%s2024/05/01/13/%s-1-2024-05-01-13-%02d-01-4f1c2a9e-7d43-4b7e-9a55-%012d", replayPrefix, replayStream, i, i)
}

// errorObject is error object i: replayRecords lines as Firehose writes a
// record the transformation failed, its rawData a JSON document with an id.
func errorObject(t *testing.T, i int) []byte {
	var b bytes.Buffer
	for n := range replayRecords {
		doc := fmt.Sprintf(`{"id":"o%02d-r%02d","event":"click"}`+"\n", i, n)
		line, err := json.Marshal(map[string]string{
			"attemptsMade": "4", "arrivalTimestamp": "1714568400000", "errorCode": "Lambda.ProcessingFailedStatus",
			"errorMessage": "ProcessingFailed status set for record", "attemptEndingTimestamp": "1714568401000",
			"rawData": base64.StdEncoding.EncodeToString([]byte(doc)), "lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:json",
		})
		require.NoError(t, err)
		b.Write(append(line, '\n'))
	}
	return b.Bytes()
}

// envList is env as NAME=VALUE pairs, sorted.
func envList(env map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}
