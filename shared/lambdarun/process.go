package lambdarun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultTimeout is an invocation's timeout when neither the caller nor a
// template sets one.
const DefaultTimeout = 30 * time.Second

// Function is a running bootstrap process with its Runtime API.
type Function struct {
	server   *Server
	xray     *daemon
	cmd      *exec.Cmd
	exited   chan struct{}
	timedOut atomic.Bool
	started  time.Time
	Timeout  time.Duration
}

// Options say what to run and how.
type Options struct {
	Binary string            // path of the bootstrap executable
	Env    map[string]string // the function's environment (template + overrides)
	// Stdout and Stderr receive the function's own output (its logs);
	// nil discards it.
	Stdout, Stderr io.Writer
	// InheritAWS passes the caller's AWS_* variables (credentials,
	// profile, region, endpoints) and ~/.aws files to the function, as
	// `sam local invoke` does. Off, the function sees only Env and what
	// Lambda sets, so tests and the embedded emulator never reach an
	// account through a developer's shell.
	InheritAWS bool
	// Timeout is each invocation's; zero is DefaultTimeout (StartRepoFunction
	// takes the template's). A function that does not answer in time is
	// killed, as Lambda ends its sandbox.
	Timeout time.Duration
}

// Start launches the binary under a fresh Runtime API.
func Start(opts Options) (*Function, error) {
	srv, err := NewServer()
	if err != nil {
		return nil, err
	}
	xray, err := newDaemon()
	if err != nil {
		srv.Close()
		return nil, err
	}
	cmd := exec.Command(opts.Binary)
	cmd.Env = environ(opts.Env, srv.Addr(), xray.Addr(), opts.InheritAWS)
	cmd.Stdout, cmd.Stderr = opts.Stdout, opts.Stderr
	started := time.Now()
	if err := cmd.Start(); err != nil {
		srv.Close()
		xray.Close()
		return nil, fmt.Errorf("lambdarun: start %s: %w", opts.Binary, err)
	}
	f := &Function{server: srv, xray: xray, cmd: cmd, exited: make(chan struct{}), started: started, Timeout: opts.Timeout}
	if f.Timeout <= 0 {
		f.Timeout = DefaultTimeout
	}
	go func() {
		err := cmd.Wait()
		if f.timedOut.Load() {
			err = fmt.Errorf("killed after a task timed out")
		}
		srv.Exited(err)
		close(f.exited)
	}()
	return f, nil
}

// Init waits until the process first asks for an event (GET /next) and
// returns how long after its start that was: the function's init, from
// exec to ready, as Lambda's Init Duration counts it (plus the exec). It
// returns the init error if the function reports one or exits first.
func (f *Function) Init(ctx context.Context) (time.Duration, error) {
	at, err := f.server.Ready(ctx)
	if err != nil {
		return 0, err
	}
	return at.Sub(f.started), nil
}

// Invoke sends one event and returns the function's response payload, or a
// *FunctionError. When the function does not answer within its Timeout the
// error wraps ErrTimedOut and the process has been killed (so later
// invocations fail): nothing of it is left running.
func (f *Function) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	r, err := f.InvokeResult(ctx, event)
	return r.Payload, err
}

// Result is one invocation as the runner saw it.
type Result struct {
	RequestID string
	TraceID   string // the X-Ray trace id (the trace header's Root)
	Payload   []byte // the response; nil when the invocation failed
	// Subsegments are what the function sent the X-Ray daemon for this
	// invocation, in start order: one per AWS SDK call, with its
	// operation, duration and error.
	Subsegments []Segment
}

// InvokeResult is Invoke with the invocation's ids and X-Ray subsegments;
// the Result is returned with the error too.
func (f *Function) InvokeResult(ctx context.Context, event []byte) (*Result, error) {
	inv := f.server.newInvocation(event, f.Timeout)
	resp, err := f.invoke(ctx, inv)
	f.xray.sync()
	return &Result{RequestID: inv.RequestID, TraceID: inv.traceRoot, Payload: resp, Subsegments: f.xray.take(inv.traceRoot)}, err
}

// InvokeInto is Invoke with the response read into buf (from its start,
// grown as needed) instead of into memory of its own, and without
// waiting for the invocation's X-Ray subsegments (the daemon keeps what it
// is sent until Stop): for a caller that
// invokes many times and keeps no response (a benchmark), so that the
// runner's own work on the machine is reading the response, not also
// copying it into new memory (page faults and clearing included) each
// time. The response returned shares buf's memory (or what it grew into):
// pass it as buf again.
func (f *Function) InvokeInto(ctx context.Context, event, buf []byte) ([]byte, error) {
	inv := f.server.newInvocation(event, f.Timeout)
	inv.into, inv.reuse = buf, true
	return f.invoke(ctx, inv)
}

// invoke runs one invocation; when it times out, the process is killed.
func (f *Function) invoke(ctx context.Context, inv *Invocation) ([]byte, error) {
	resp, err := f.server.invoke(ctx, inv)
	var fe *FunctionError
	if errors.As(err, &fe) && errors.Is(fe, ErrTimedOut) {
		f.timedOut.Store(true)
		f.kill()
		fe.Message += "; the process was killed, as Lambda does"
	}
	return resp, err
}

// kill ends the process and waits until it has.
func (f *Function) kill() {
	if f.cmd.Process != nil {
		f.cmd.Process.Kill() //nolint:errcheck // it may have exited already.
	}
	<-f.exited
}

// InvokeFile sends the event in a file (a sample under events/) and decodes
// the function's response payload into out.
func (f *Function) InvokeFile(ctx context.Context, path string, out any) error {
	event, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("lambdarun: %w", err)
	}
	resp, err := f.Invoke(ctx, event)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(resp, out); err != nil {
		return fmt.Errorf("lambdarun: response %s: %w", resp, err)
	}
	return nil
}

// Stop ends the process (as Lambda does when an environment is recycled)
// and the Runtime API.
func (f *Function) Stop() {
	f.kill()
	f.server.Close()
	f.xray.Close()
}

// environ is the process environment: the function's variables plus what
// the Lambda service sets, and, when inheritAWS, the caller's AWS
// settings.
func environ(vars map[string]string, api, xrayDaemon string, inheritAWS bool) []string {
	env := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "local",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"_HANDLER":                        "bootstrap",
		"TZ":                              ":UTC",
		// Calls made outside an invocation (at init) have no segment: they
		// must not complain about it.
		"AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
		// No EC2 instance metadata here: without it a missing credential
		// fails at once instead of after the SDK's IMDS timeouts.
		"AWS_EC2_METADATA_DISABLED": "true",
	}
	if !inheritAWS {
		// Not even the default profile of ~/.aws.
		env["AWS_CONFIG_FILE"] = os.DevNull
		env["AWS_SHARED_CREDENTIALS_FILE"] = os.DevNull
	}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if inheritAWS && strings.HasPrefix(k, "AWS_") || k == "PATH" || k == "HOME" {
			env[k] = v
		}
	}
	for k, v := range vars {
		env[k] = v
	}
	env["AWS_LAMBDA_RUNTIME_API"] = api
	env["AWS_XRAY_DAEMON_ADDRESS"] = xrayDaemon
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// StartRepoFunction runs functions/<name> of the repository holding the
// working directory as a test deploys it: built once per process
// (BuildOnce), with its template.yaml environment (parameter defaults)
// overlaid by each of env in turn, and the template's Timeout unless
// opts sets one. opts gives the output; its Binary and Env are set here
// (see RepoFunctionOptions).
func StartRepoFunction(name string, opts Options, env ...map[string]string) (*Function, error) {
	opts, err := RepoFunctionOptions(name, opts, env...)
	if err != nil {
		return nil, err
	}
	return Start(opts)
}

// RepoFunctionOptions returns the Options StartRepoFunction starts
// functions/<name> with: opts with the cached binary (BuildOnce), the
// template.yaml environment overlaid by each of env in turn, and the
// template's Timeout unless opts sets one. A caller that starts the same
// function many times (a benchmark of its init) resolves them once and
// calls Start, rather than building and parsing the template again per
// start; the Options may be reused, Start does not modify them.
func RepoFunctionOptions(name string, opts Options, env ...map[string]string) (Options, error) {
	bin, err := BuildOnce(name)
	if err != nil {
		return Options{}, err
	}
	tmpl, err := LoadRepoTemplate()
	if err != nil {
		return Options{}, err
	}
	opts.Binary = bin
	if opts.Env, err = tmpl.Environment(LogicalID(name)); err != nil {
		return Options{}, err
	}
	if opts.Timeout == 0 {
		if opts.Timeout, err = tmpl.Timeout(LogicalID(name)); err != nil {
			return Options{}, err
		}
	}
	for _, vars := range env {
		maps.Copy(opts.Env, vars)
	}
	return opts, nil
}

// RepoRoot finds the module root (the folder holding go.mod) from dir upwards.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("lambdarun: no go.mod above %s", dir)
		}
		dir = parent
	}
}
