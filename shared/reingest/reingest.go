// Package reingest is the re-ingester of the Firehose transformers that make
// no AWS call on their ordinary path (access logs, CloudFront, syslog,
// JSON): records that do not fit in one Lambda response go back into the
// stream they came from, as cwlogs-decompressor's do
// (streamput.SourceReingester: PutRecordBatch into a Direct PUT delivery
// stream, PutRecords with the original partition key into a Kinesis
// source).
//
// The client is built when the first record needs it, not at start-up,
// and it is streamput.Client, which takes from aws-sdk-go-v2 its core only
// (credentials, the SigV4 signer, the HTTP client), for a call most
// invocations never make: a function that makes no AWS call on its
// ordinary path should start within 1.5 times a minimal aws-lambda-go
// function (issue 11). Package initialisation of firehose-json
// (GODEBUG=inittrace=1, x86-64) is 0.7 ms this way, against 1.9 ms with
// the SDK's Firehose and Kinesis clients (their schemas and endpoint
// tables); measured from process start to the first /next (median of 15,
// one core; arm64 bootstrap sizes), firehose-json with the SDK clients
// took 3.8 ms (8.1 MB) against 2.5 ms (5.8 MB) for a minimal function,
// 4.9 ms (10.0 MB) with clients from aws-sdk-go-v2/config, which links
// the STS, SSO, SSO OIDC and sign-in clients for credential sources Lambda
// never uses (Lambda hands a function its role's credentials and region
// in the environment, which is all Config reads), and 11.7 ms (23.4 MB)
// traced by aws-xray-sdk-go, which links the AWS SDK v1 and gRPC. The
// calls are traced instead by shared/xraytrace, which sends the same
// subsegments without the X-Ray SDK's core.
package reingest

import (
	"context"
	"errors"
	"os"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"lakestream/shared/firehose"
	"lakestream/shared/retry"
	"lakestream/shared/streamput"
)

// Lazy is a firehose.Reingester that builds the one it delegates to on
// first use. A failed build fails that invocation (Firehose retries the
// batch) and is tried again on the next.
type Lazy struct {
	build func(ctx context.Context) (firehose.Reingester, error)
	mu    sync.Mutex
	r     firehose.Reingester
}

var _ firehose.Reingester = (*Lazy)(nil)

// New returns a Lazy writing through clients configured from the process
// environment (Config), retrying partial failures with policy.
func New(policy retry.Policy) *Lazy {
	return NewFunc(func(context.Context) (firehose.Reingester, error) {
		cfg, err := Config(os.Getenv)
		if err != nil {
			return nil, err
		}
		c, err := streamput.NewClient(cfg, os.Getenv)
		if err != nil {
			return nil, err
		}
		return streamput.NewSourceReingester(c, c, policy), nil
	})
}

// Config is the aws.Config of a Lambda function's environment: the region
// (AWS_REGION, else AWS_DEFAULT_REGION), the execution role's credentials
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and
// AWS_ENDPOINT_URL, so that the same binary runs against an emulator. The
// service-specific AWS_ENDPOINT_URL_<SERVICE> variables are
// streamput.Client's.
func Config(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	creds := aws.Credentials{
		AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
		Source:          "environment",
	}
	switch {
	case region == "":
		return aws.Config{}, errors.New("reingest: AWS_REGION is unset (Lambda sets it)")
	case creds.AccessKeyID == "" || creds.SecretAccessKey == "":
		return aws.Config{}, errors.New("reingest: AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is unset (Lambda sets them from the execution role)")
	}
	cfg := aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
	}
	if ep := getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, nil
}

// NewFunc returns a Lazy that calls build when the first payloads are to
// be re-ingested (tests pass fakes through it).
func NewFunc(build func(ctx context.Context) (firehose.Reingester, error)) *Lazy {
	return &Lazy{build: build}
}

// Reingest implements firehose.Reingester.
func (l *Lazy) Reingest(ctx context.Context, ev events.KinesisFirehoseEvent, payloads []firehose.Reingest) error {
	r, err := l.get(ctx)
	if err != nil {
		return err
	}
	return r.Reingest(ctx, ev, payloads)
}

func (l *Lazy) get(ctx context.Context) (firehose.Reingester, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.r != nil {
		return l.r, nil
	}
	r, err := l.build(ctx)
	if err != nil {
		return nil, err
	}
	l.r = r
	return r, nil
}
