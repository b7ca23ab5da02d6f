// Command replay sends records that failed through the pipeline again,
// once their cause is fixed (`make replay`; see shared/replay and
// README.md). It runs against the account and region of the shell's AWS
// settings, or an emulator that AWS_ENDPOINT_URL names, and is a dry run
// unless given -apply.
//
// Records a Firehose data transformation failed, from the delivery
// stream's error output prefix, back into the delivery stream (or its
// Kinesis source):
//
//	go run ./shared/cmd/replay firehose -source s3://bucket/cwlogs-errors/processing-failed/ \
//	    -stream lakestream-cwlogs [-from 2024-05-01T00:00:00Z] [-to 2024-05-02] [-move-to replayed/] [-apply]
//
// Batches a stream event source mapping gave up on, from its on-failure
// queue, read again from the DynamoDB or Kinesis stream and handed to the
// deployed ddb-stream-forwarder (or, -local, its binary run here with the
// template's environment):
//
//	go run ./shared/cmd/replay stream -queue https://sqs.../DdbStreamForwarderFailureQueue \
//	    -function lakestream-DdbStreamForwarderFunction-AbC123 [-apply]
//
// It prints a line per object or message on stderr and a summary on
// stdout, and exits 1 when records failed or something went wrong, 2 for
// a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"lakestream/shared/awsclient"
	"lakestream/shared/replay"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  replay firehose -source s3://<bucket>/<error prefix> (-stream <delivery stream> | -kinesis-stream <ARN>)
                  [-from <time>] [-to <time>] [-move-to <prefix>] [-apply]
  replay stream -queue <on-failure queue URL> (-function <forwarder name or ARN> | -local [-env NAME=VALUE]... [-logs])
                  [-visibility <duration>] [-apply]
Without -apply it is a dry run: it reads and prints what it would replay, and changes nothing.`

// run is the command; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var job func(ctx context.Context) (replay.Summary, error)
	var err error
	switch args[0] {
	case "firehose":
		job, err = firehoseJob(ctx, args[1:], stderr)
	case "stream":
		var closeJob func()
		job, closeJob, err = streamJob(ctx, args[1:], stderr)
		if closeJob != nil {
			defer closeJob()
		}
	default:
		err = fmt.Errorf("unknown replay %q: firehose or stream", args[0])
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n%s\n", err, usage)
		return 2
	}
	sum, err := job(ctx)
	fmt.Fprintln(stdout, sum)
	if err != nil {
		fmt.Fprintln(stderr, "replay:", err)
		return 1
	}
	if sum.Failed > 0 {
		return 1
	}
	return 0
}

func firehoseJob(ctx context.Context, args []string, stderr io.Writer) (func(context.Context) (replay.Summary, error), error) {
	fs := flag.NewFlagSet("replay firehose", flag.ContinueOnError)
	fs.SetOutput(stderr)
	source := fs.String("source", "", "s3://bucket/prefix of the error objects, e.g. s3://my-bucket/errors/processing-failed/")
	stream := fs.String("stream", "", "delivery stream to put the records back into (Direct PUT)")
	kinesisARN := fs.String("kinesis-stream", "", "ARN of the Kinesis stream to put them into instead (a delivery stream with a Kinesis source)")
	from := fs.String("from", "", "only objects delivered at or after this time (RFC 3339, or YYYY-MM-DD[THH[:MM]] UTC)")
	to := fs.String("to", "", "only objects delivered before this time")
	moveTo := fs.String("move-to", "", "move replayed objects under this prefix instead of tagging them")
	apply := fs.Bool("apply", false, "replay (without it, a dry run)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	bucket, prefix, ok := strings.Cut(strings.TrimPrefix(*source, "s3://"), "/")
	if !strings.HasPrefix(*source, "s3://") || !ok && bucket == "" || bucket == "" {
		return nil, fmt.Errorf("-source %q: want s3://bucket/prefix", *source)
	}
	if (*stream == "") == (*kinesisARN == "") {
		return nil, errors.New("give one of -stream and -kinesis-stream")
	}
	f := replay.Firehose{Bucket: bucket, Prefix: prefix, Apply: *apply, MoveTo: *moveTo, Progress: stderr}
	var err error
	if f.From, err = parseTime("-from", *from); err != nil {
		return nil, err
	}
	if f.To, err = parseTime("-to", *to); err != nil {
		return nil, err
	}
	// One attempt per SDK call: every call retries through package retry,
	// as the functions' do (replay.Retrying*, streamput).
	cfg, err := awsclient.Load(ctx)
	if err != nil {
		return nil, err
	}
	f.S3 = replay.RetryingObjects(s3.NewFromConfig(cfg, awsclient.S3PathStyle, quietChecksums), retry.Default())
	streams, err := streamput.NewClient(cfg, os.Getenv)
	if err != nil {
		return nil, err
	}
	if *stream != "" {
		f.Writer = streamput.NewFirehose(streams, *stream, retry.Default())
		f.Target = "delivery stream " + *stream
	} else {
		f.Writer = streamput.NewKinesis(streams, *kinesisARN, retry.Default())
		f.Target = "Kinesis stream " + *kinesisARN
	}
	return f.Run, nil
}

func streamJob(ctx context.Context, args []string, stderr io.Writer) (func(context.Context) (replay.Summary, error), func(), error) {
	fs := flag.NewFlagSet("replay stream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	queue := fs.String("queue", "", "URL of the mapping's on-failure SQS queue")
	function := fs.String("function", "", "name or ARN of the deployed ddb-stream-forwarder to invoke")
	local := fs.Bool("local", false, "run functions/ddb-stream-forwarder here instead, with template.yaml's environment and the shell's AWS settings")
	var env envFlags
	fs.Var(&env, "env", "NAME=VALUE overriding the template's environment of the -local forwarder (repeatable)")
	logs := fs.Bool("logs", false, "show the -local forwarder's log")
	visibility := fs.Duration("visibility", replay.DefaultVisibility, "how long the messages being replayed stay hidden from other consumers")
	apply := fs.Bool("apply", false, "replay (without it, a dry run)")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	switch {
	case *queue == "":
		return nil, nil, errors.New("-queue is required")
	case (*function == "") == !*local:
		return nil, nil, errors.New("give one of -function and -local")
	case len(env) > 0 && !*local:
		return nil, nil, errors.New("-env is for -local")
	}
	cfg, err := awsclient.Load(ctx) // one attempt per SDK call, as above
	if err != nil {
		return nil, nil, err
	}
	// The -local forwarder's log is copied in from other goroutines.
	stderr = &lockedWriter{w: stderr}
	s := replay.Stream{
		Queue: replay.RetryingQueue(sqs.NewFromConfig(cfg), retry.Default()), QueueURL: *queue,
		DynamoDB: replay.RetryingDynamoDBStreams(dynamodbstreams.NewFromConfig(cfg), retry.Default()),
		Kinesis:  replay.RetryingKinesisStreams(kinesis.NewFromConfig(cfg), retry.Default()),
		Apply:    *apply, Visibility: *visibility, Progress: stderr,
	}
	closeJob := func() {}
	if *local {
		var out io.Writer = io.Discard
		if *logs {
			out = stderr
		}
		l := &localInvoker{env: env, out: out}
		s.Invoker, s.Function, closeJob = l, "ddb-stream-forwarder (local)", l.Close
	} else {
		s.Invoker, s.Function = lambdaInvoker{client: lambda.NewFromConfig(cfg), function: *function}, *function
	}
	return s.Run, closeJob, nil
}

// parseTime reads a -from or -to value; empty is the zero time.
func parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: want RFC 3339 (2024-05-01T13:00:00Z) or YYYY-MM-DD[THH[:MM]] in UTC", name, v)
}

// quietChecksums keeps the SDK from warning that an emulator sends no
// response checksums.
func quietChecksums(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true }

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// envFlags collects -env NAME=VALUE.
type envFlags map[string]string

func (e *envFlags) String() string { return fmt.Sprint(map[string]string(*e)) }

func (e *envFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q: want NAME=VALUE", v)
	}
	if *e == nil {
		*e = envFlags{}
	}
	(*e)[name] = value
	return nil
}
