package replay

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"

	"lakestream/shared/retry"
)

// failing answers each call with the next of its errors, then with
// success, counting the calls.
type failing struct {
	Objects // calls the test does not make panic
	Queue
	errs  []error
	calls int
}

func (f *failing) next() error {
	f.calls++
	if len(f.errs) == 0 {
		return nil
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	return err
}

func (f *failing) GetObjectTagging(context.Context, *s3.GetObjectTaggingInput, ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error) {
	if err := f.next(); err != nil {
		return nil, err
	}
	return &s3.GetObjectTaggingOutput{}, nil
}

func (f *failing) SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if err := f.next(); err != nil {
		return nil, err
	}
	return &sqs.SendMessageOutput{}, nil
}

func (f *failing) DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	if err := f.next(); err != nil {
		return nil, err
	}
	return &sqs.DeleteMessageOutput{}, nil
}

// TestRetrying: a throttled or failed read is made again under the
// policy, a permanent error is not, and SendMessage, whose repeat could
// leave two messages naming the same records, is made once.
func TestRetrying(t *testing.T) {
	policy := retry.Policy{MaxAttempts: 4, Base: time.Microsecond, Max: time.Microsecond}
	throttled := &smithy.GenericAPIError{Code: "SlowDown", Message: "Rate exceeded"}
	internal := &smithy.GenericAPIError{Code: "InternalError", Message: "try again", Fault: smithy.FaultServer}
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "no", Fault: smithy.FaultClient}
	ctx := context.Background()

	f := &failing{errs: []error{throttled, internal}}
	_, err := RetryingObjects(f, policy).GetObjectTagging(ctx, &s3.GetObjectTaggingInput{})
	assert.NoError(t, err)
	assert.Equal(t, 3, f.calls, "two failures, then the answer")

	f = &failing{errs: []error{throttled, throttled, throttled, throttled, throttled}}
	_, err = RetryingObjects(f, policy).GetObjectTagging(ctx, &s3.GetObjectTaggingInput{})
	assert.ErrorIs(t, err, throttled)
	assert.Equal(t, 4, f.calls, "the policy's attempts, no more")

	f = &failing{errs: []error{denied}}
	_, err = RetryingObjects(f, policy).GetObjectTagging(ctx, &s3.GetObjectTaggingInput{})
	assert.ErrorIs(t, err, denied)
	assert.Equal(t, 1, f.calls, "a permanent error is not retried")

	f = &failing{errs: []error{throttled}}
	_, err = RetryingQueue(f, policy).DeleteMessage(ctx, &sqs.DeleteMessageInput{})
	assert.NoError(t, err)
	assert.Equal(t, 2, f.calls)

	f = &failing{errs: []error{internal}}
	_, err = RetryingQueue(f, policy).SendMessage(ctx, &sqs.SendMessageInput{})
	assert.ErrorIs(t, err, internal)
	assert.Equal(t, 1, f.calls, "SendMessage is made once")
}
