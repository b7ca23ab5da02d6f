package replay

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"lakestream/shared/retry"
)

// The replay's reads and marks retry through package retry, as every AWS
// call of lakestream does: give the clients the SDK's retries off
// (awsclient.NoRetries) and wrap them with these. Each call retried here
// is one a repeat cannot turn into a second side effect: a read, a tag or
// a copy that writes the same again, a delete. SendMessage is not (a lost
// answer would leave two messages naming the same records, and so a
// second replay of them), nor is ChangeMessageVisibility (the messages
// come back after the visibility timeout anyway).

// RetryingObjects is o with each call retried under p.
func RetryingObjects(o Objects, p retry.Policy) Objects { return retryingObjects{o, p} }

// RetryingQueue is q with its reads and deletes retried under p.
func RetryingQueue(q Queue, p retry.Policy) Queue { return retryingQueue{q, p} }

// RetryingDynamoDBStreams is d with each call retried under p.
func RetryingDynamoDBStreams(d DynamoDBStreams, p retry.Policy) DynamoDBStreams {
	return retryingDynamoDB{d, p}
}

// RetryingKinesisStreams is k with each call retried under p.
func RetryingKinesisStreams(k KinesisStreams, p retry.Policy) KinesisStreams {
	return retryingKinesis{k, p}
}

// retried makes call under p and returns its last answer.
func retried[In, Out, Opt any](ctx context.Context, p retry.Policy, call func(context.Context, In, ...Opt) (Out, error), in In, opts []Opt) (Out, error) {
	var out Out
	err := p.Do(ctx, func(int) error {
		var err error
		out, err = call(ctx, in, opts...)
		return err
	})
	return out, err
}

type retryingObjects struct {
	c Objects
	p retry.Policy
}

func (r retryingObjects) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return retried(ctx, r.p, r.c.ListObjectsV2, in, opts)
}

func (r retryingObjects) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return retried(ctx, r.p, r.c.GetObject, in, opts)
}

func (r retryingObjects) GetObjectTagging(ctx context.Context, in *s3.GetObjectTaggingInput, opts ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error) {
	return retried(ctx, r.p, r.c.GetObjectTagging, in, opts)
}

func (r retryingObjects) PutObjectTagging(ctx context.Context, in *s3.PutObjectTaggingInput, opts ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error) {
	return retried(ctx, r.p, r.c.PutObjectTagging, in, opts)
}

// PutObject is retried: it writes the records a run could not put back
// under a key of its own, the same bytes each time.
func (r retryingObjects) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return retried(ctx, r.p, r.c.PutObject, in, opts)
}

func (r retryingObjects) CopyObject(ctx context.Context, in *s3.CopyObjectInput, opts ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	return retried(ctx, r.p, r.c.CopyObject, in, opts)
}

func (r retryingObjects) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	return retried(ctx, r.p, r.c.DeleteObject, in, opts)
}

type retryingQueue struct {
	c Queue
	p retry.Policy
}

func (r retryingQueue) GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return retried(ctx, r.p, r.c.GetQueueAttributes, in, opts)
}

// ReceiveMessage is retried: messages whose answer was lost stay hidden
// until their visibility timeout and are left for the next run.
func (r retryingQueue) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	return retried(ctx, r.p, r.c.ReceiveMessage, in, opts)
}

func (r retryingQueue) ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	return r.c.ChangeMessageVisibility(ctx, in, opts...)
}

func (r retryingQueue) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return r.c.SendMessage(ctx, in, opts...)
}

func (r retryingQueue) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	return retried(ctx, r.p, r.c.DeleteMessage, in, opts)
}

type retryingDynamoDB struct {
	c DynamoDBStreams
	p retry.Policy
}

func (r retryingDynamoDB) GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	return retried(ctx, r.p, r.c.GetShardIterator, in, opts)
}

// GetRecords is retried with the same iterator, which gives the same page.
func (r retryingDynamoDB) GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	return retried(ctx, r.p, r.c.GetRecords, in, opts)
}

type retryingKinesis struct {
	c KinesisStreams
	p retry.Policy
}

func (r retryingKinesis) GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, opts ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	return retried(ctx, r.p, r.c.GetShardIterator, in, opts)
}

// GetRecords is retried with the same iterator, which gives the same page.
func (r retryingKinesis) GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	return retried(ctx, r.p, r.c.GetRecords, in, opts)
}
