package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/moto/sink"
)

// TestMain lets startSink re-run the test binary as the sink, as it
// re-runs the bench command.
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == sinkCommand {
		if err := serveSink(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSinkProcess: the sink's process answers a function's puts at the
// URL it gives, keeps them for take, and ends with stop.
func TestSinkProcess(t *testing.T) {
	ctx := context.Background()
	p, err := startSink(ctx)
	require.NoError(t, err)
	defer p.stop()
	env := sink.Env(p.URL)
	assert.Equal(t, p.URL, env["AWS_ENDPOINT_URL"])

	fh := firehose.New(firehose.Options{
		Region:       env["AWS_REGION"],
		Credentials:  credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
		BaseEndpoint: aws.String(p.URL),
	})
	out, err := fh.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{
		DeliveryStreamName: aws.String("cdc"),
		Records:            []fhtypes.Record{{Data: []byte("one")}, {Data: []byte("two")}},
	})
	require.NoError(t, err)
	assert.Len(t, out.RequestResponses, 2)
	got, err := p.take(ctx)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("one"), []byte("two")}, got)

	assert.Contains(t, p.pinAway(-1), "any core")
	p.stop()
	select {
	case <-p.done:
	default:
		t.Fatal("the sink's process is still running after stop")
	}
	_, err = p.take(ctx)
	assert.Error(t, err, "nothing serves the URL once stopped")
}
