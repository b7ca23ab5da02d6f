package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"lakestream/shared/lambdarun"
	"lakestream/shared/moto"
	"lakestream/shared/moto/lake"
)

// Where a function's AWS calls go.
const (
	modeEmbedded = "embedded" // a moto_server started here, the template's resources created in it
	modeEndpoint = "endpoint" // AWS_ENDPOINT_URL as set, e.g. by make aws-local
	modeReal     = "real"     // the account of the shell's credentials
)

// chooseMode picks where AWS calls go. Real AWS is only ever an explicit
// choice (AWS=real): credentials that happen to be in a developer's shell
// do not send a sample event to their account.
func chooseMode(aws string, getenv func(string) string) (string, error) {
	switch strings.ToLower(aws) {
	case "real":
		return modeReal, nil
	case "local", "embedded":
		return modeEmbedded, nil
	case "":
		if getenv("AWS_ENDPOINT_URL") != "" {
			return modeEndpoint, nil
		}
		return modeEmbedded, nil
	}
	return "", fmt.Errorf("AWS=%s: use AWS=real for your AWS account, or leave it unset (or AWS=local) for the embedded emulator", aws)
}

// session is the AWS a function talks to.
type session struct {
	describe string            // for people
	awsEnv   map[string]string // what the function needs to reach it
	inherit  bool              // pass the shell's AWS settings through
	lake     *lake.Lake        // embedded: set up first, changes reported after
	close    func()
}

// openSession starts the embedded emulator when the function calls AWS,
// or checks, within seconds, that the shell has the credentials and region
// real AWS (or a given endpoint) needs.
func openSession(ctx context.Context, mode string, inv *invocation) (*session, error) {
	id := lambdarun.LogicalID(inv.fn)
	switch {
	case mode == modeEmbedded && !inv.tmpl.CallsAWS(id):
		return &session{describe: "not needed (the function's Policies grant no AWS actions: its path makes no AWS call)", close: func() {}}, nil
	case mode == modeEmbedded:
		srv, err := moto.Start(ctx)
		if err != nil {
			return nil, err
		}
		cfg, err := srv.Config(ctx)
		if err != nil {
			srv.Stop()
			return nil, err
		}
		return &session{
			describe: "the embedded moto_server at " + srv.Endpoint + " (AWS=real for your account)",
			awsEnv:   srv.Env(),
			lake:     lake.New(cfg, inv.tmpl),
			close:    srv.Stop,
		}, nil
	}
	region, err := checkCredentials(ctx, mode)
	if err != nil {
		return nil, err
	}
	// The region may come from a profile: Lambda always sets AWS_REGION.
	s := &session{inherit: true, awsEnv: map[string]string{"AWS_REGION": region, "AWS_DEFAULT_REGION": region}, close: func() {}}
	if mode == modeReal {
		s.describe = "your AWS account (AWS=real: the shell's credentials and region)"
	} else {
		s.describe = "the endpoint AWS_ENDPOINT_URL names, with the shell's credentials"
	}
	return s, nil
}

// checkCredentials fails fast, saying what to set, when the shell has no
// usable AWS credentials or region, and returns the region. The EC2
// instance metadata lookup is off: outside EC2 it only waits before
// failing.
func checkCredentials(ctx context.Context, mode string) (region string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hint := "set AWS_PROFILE (after `aws sso login` or `aws configure`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), and AWS_REGION"
	if mode == modeReal {
		hint += "; or leave AWS unset to use the embedded emulator"
	} else {
		hint = "AWS_ENDPOINT_URL is set: " + hint + " (make aws-local prints them), or unset AWS_ENDPOINT_URL to use the embedded emulator"
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	if err != nil {
		return "", fmt.Errorf("AWS configuration: %w: %s", err, hint)
	}
	if cfg.Region == "" {
		return "", fmt.Errorf("no AWS region: %s", hint)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return "", fmt.Errorf("no AWS credentials (%v): %s", err, hint)
	}
	return cfg.Region, nil
}

// outcome is what an invocation did.
type outcome struct {
	fn       string
	created  []string          // what was set up in the emulator first
	result   *lambdarun.Result // response, ids and X-Ray subsegments
	err      error             // the function's error (a *lambdarun.FunctionError)
	logs     []byte            // the function's stdout and stderr
	changes  []lake.Change     // what changed in the emulator
	emulated bool              // the embedded emulator was used: changes say what changed in it
}

// invoke sets up the emulator, runs the function on the event and reads
// what changed. Its error is the runner's; the function's is outcome.err.
func (s *session) invoke(ctx context.Context, inv *invocation) (*outcome, error) {
	out := &outcome{fn: inv.fn, emulated: s.lake != nil}
	var before *lake.State
	if s.lake != nil {
		var err error
		if out.created, err = s.lake.Setup(ctx, inv.fn, inv.env, inv.event); err != nil {
			return nil, err
		}
		if before, err = s.lake.Snapshot(ctx); err != nil {
			return nil, err
		}
	}
	env := maps.Clone(inv.env)
	maps.Copy(env, s.awsEnv)
	logs := &syncBuffer{}
	f, err := lambdarun.Start(lambdarun.Options{Binary: inv.bin, Env: env, Stdout: logs, Stderr: logs, Timeout: inv.timeout, InheritAWS: s.inherit})
	if err != nil {
		return nil, err
	}
	out.result, out.err = f.InvokeResult(ctx, inv.event)
	f.Stop() // the process has exited: its logs are complete
	out.logs = logs.Bytes()
	var fe *lambdarun.FunctionError
	if out.err != nil && !errors.As(out.err, &fe) {
		return nil, out.err // the runner failed, not the function
	}
	if s.lake != nil {
		after, err := s.lake.Snapshot(ctx)
		if err != nil {
			return nil, err
		}
		if out.changes, err = s.lake.Diff(ctx, before, after); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// syncBuffer collects the function's stdout and stderr, which the exec
// package copies from two goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
