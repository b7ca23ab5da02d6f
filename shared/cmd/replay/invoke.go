package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"lakestream/shared/lambdarun"
	"lakestream/shared/retry"
)

// lambdaInvoker invokes the deployed forwarder synchronously, as its event
// source mapping does: same code, configuration and permissions.
type lambdaInvoker struct {
	client   *lambda.Client
	function string
}

// Invoke retries a throttled invocation only, which did not run: after a
// failure or a lost answer the forwarder may have delivered the records,
// and the run reports them failed (its message is kept for the next run)
// rather than send them twice now.
func (l lambdaInvoker) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	var out *lambda.InvokeOutput
	err := retry.Default().Do(ctx, func(int) error {
		var err error
		out, err = l.client.Invoke(ctx, &lambda.InvokeInput{
			FunctionName: aws.String(l.function), Payload: event, InvocationType: lambdatypes.InvocationTypeRequestResponse,
		})
		if err != nil && retry.Classify(err) != retry.ClassThrottling {
			return retry.Permanent(err)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", l.function, err)
	}
	if out.FunctionError != nil {
		return nil, fmt.Errorf("%s failed (%s): %s", l.function, aws.ToString(out.FunctionError), out.Payload)
	}
	return out.Payload, nil
}

// localInvoker runs functions/ddb-stream-forwarder's real bootstrap under
// the local Runtime API (shared/lambdarun), started on the first event and
// kept for the others: template.yaml's environment with env over it, and
// the shell's AWS settings, so it writes where the deployed one would
// (or into the emulator AWS_ENDPOINT_URL names).
type localInvoker struct {
	env map[string]string
	out io.Writer
	mu  sync.Mutex
	fn  *lambdarun.Function
}

func (l *localInvoker) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fn == nil {
		fn, err := lambdarun.StartRepoFunction("ddb-stream-forwarder", lambdarun.Options{Stdout: l.out, Stderr: l.out, InheritAWS: true}, l.env)
		if err != nil {
			return nil, err
		}
		l.fn = fn
	}
	return l.fn.Invoke(ctx, event)
}

// Close stops the function, if it was started.
func (l *localInvoker) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fn != nil {
		l.fn.Stop()
		l.fn = nil
	}
}
