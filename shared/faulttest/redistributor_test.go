package faulttest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"lakestream/shared/faultproxy"
)

// The redistributor's run: 20 Firehose-named objects, announced in SQS
// batches of 10 messages, copied (or moved) into the template's hour and
// minute layouts.
const (
	redistributorObjects = 20
	redistributorBatch   = 10
	landingBucket        = "lakestream-landing"
	lakeBucket           = "lakestream-lake"
)

// runRedistributor: each object ends with both copies in the lake (and,
// moving, its source deleted), or its message in the batch item failures;
// lost is an object whose source is gone without its copies, or one
// neither copied nor reported.
func runRedistributor(t *testing.T, e *env, move bool) account {
	ctx := t.Context()
	s3c := e.s3()
	for _, b := range []string{landingBucket, lakeBucket} {
		_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		require.NoError(t, err)
	}
	for i := range redistributorObjects {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(landingBucket), Key: aws.String(sourceKey(i)), Body: strings.NewReader(objectBody(i))})
		require.NoError(t, err)
	}
	f := e.start("s3-redistributor", map[string]string{
		"SOURCE_PREFIX": "incoming/", "GLUE_DATABASE": "", "RETRY_ATTEMPTS": "3", "DELETE_SOURCE": fmt.Sprint(move),
	})

	failed := announce(t, f, landingBucket, redistributorObjects, redistributorBatch, sourceKey, func(i int) int { return len(objectBody(i)) })

	sources := e.objects(landingBucket, "incoming/")
	lake := e.objects(lakeBucket, "events/")
	heads := map[string]map[string]string{} // copy key -> its user metadata
	for key := range lake {
		out, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(lakeBucket), Key: aws.String(key)})
		require.NoError(t, err)
		heads[key] = out.Metadata
	}
	a := account{In: redistributorObjects}
	for i := range redistributorObjects {
		copied := true
		for _, key := range copyKeys(i) {
			copied = copied && string(lake[key]) == objectBody(i) && heads[key]["lakestream-source"] == landingBucket+"/"+sourceKey(i)
		}
		_, kept := sources[sourceKey(i)]
		switch {
		case !kept && !copied:
			a.Lost++
			t.Errorf("object %d: source gone and its copies not in the lake", i)
		case failed[messageID(i)]:
			a.Failed++
		case copied && kept != move:
			a.Delivered++
		default:
			a.Lost++
			t.Errorf("object %d: not reported failed, yet copied=%v source kept=%v", i, copied, kept)
		}
	}
	a.Duplicates = repeatedWrites(e.proxy.Calls(), "S3 PUT /"+lakeBucket+"/")
	return a
}

// repeatedWrites counts the writes beyond the first to each key under
// prefix that reached the emulator: copies made again because the answer
// to the first was lost.
func repeatedWrites(calls []faultproxy.Call, prefix string) int {
	writes := map[string]int{}
	for _, c := range calls {
		if strings.HasPrefix(c.Operation, prefix) && (c.Fault == faultproxy.None || c.Fault == faultproxy.Dropped) {
			writes[c.Operation]++
		}
	}
	n := 0
	for _, w := range writes {
		n += w - 1
	}
	return n
}

func objectBody(i int) string { return fmt.Sprintf(`{"event":"click","object":%d}`+"\n", i) }

// sourceKey is object i's key as Firehose names it, one minute apart.
func sourceKey(i int) string {
	return fmt.Sprintf("incoming/2024/05/01/13/fault-stream-1-2024-05-01-13-%02d-07-0c1d2e3f-4a5b-4c6d-8e9f-%012d", i, i)
}

// copyKeys are object i's copies under the template's layouts.
func copyKeys(i int) []string {
	name := sourceKey(i)[strings.LastIndexByte(sourceKey(i), '/')+1:]
	return []string{
		"events/hourly/dt=2024-05-01/hour=13/" + name,
		fmt.Sprintf("events/minute/2024/05/01/13/%02d/%s", i, name),
	}
}
