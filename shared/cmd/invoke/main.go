// Command invoke runs one function's real bootstrap binary under the local
// Lambda Runtime API on one event, as `sam local invoke` does (`make
// invoke`):
//
//	go run ./shared/cmd/invoke -fn s3-redistributor -event events/s3-redistributor/sqs.json
//
// By default the function talks to an embedded moto_server in which the
// resources the template's defaults name are created first; -aws real (AWS=real)
// gives it the shell's AWS credentials and region instead, and a set
// AWS_ENDPOINT_URL (`make aws-local`) points it at that endpoint.
//
// The response goes to stdout as indented JSON (Firehose records' data
// decoded with -decode); then, on stderr, the function's log lines, the
// X-Ray trace of its AWS calls and what it changed in the emulator. A
// function error or timeout prints {"errorType","errorMessage"} and exits
// 1; a problem of the runner itself exits 2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"time"

	"lakestream/shared/lambdarun"
)

func main() {
	var c request
	flag.StringVar(&c.fn, "fn", "", "function folder under functions/, e.g. firehose-json")
	flag.StringVar(&c.eventPath, "event", "", "event JSON file (- for stdin)")
	flag.StringVar(&c.envVars, "env-vars", "", "SAM --env-vars JSON file overriding the template's environment")
	flag.StringVar(&c.bin, "bin", "", "bootstrap binary (default: functions/<fn> from the build cache, built when its sources changed)")
	flag.StringVar(&c.templatePath, "template", "template.yaml", "SAM template")
	flag.StringVar(&c.timeout, "timeout", "", "invocation timeout, seconds or a Go duration (default: the template's Timeout)")
	flag.StringVar(&c.aws, "aws", "", "local (default unless AWS_ENDPOINT_URL is set): the embedded emulator; real: your AWS account, with the shell's credentials")
	flag.BoolVar(&c.decode, "decode", false, "show Firehose records' data decoded")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, c, os.Stdout, os.Stderr))
}

// request is what the command was asked to do.
type request struct {
	fn, eventPath, envVars, bin, templatePath, timeout, aws string
	decode                                                  bool
}

// run invokes and reports; it returns the exit code.
func run(ctx context.Context, r request, stdout, stderr io.Writer) int {
	inv, err := prepare(ctx, r)
	if err != nil {
		fmt.Fprintln(stderr, "invoke:", err)
		return 2
	}
	mode, err := chooseMode(r.aws, os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "invoke:", err)
		return 2
	}
	s, err := openSession(ctx, mode, inv)
	if err != nil {
		fmt.Fprintln(stderr, "invoke:", err)
		return 2
	}
	defer s.close()
	fmt.Fprintf(stderr, "invoke: %s (%s), timeout %s; AWS is %s\n", inv.fn, lambdarun.LogicalID(inv.fn), inv.timeout, s.describe)
	out, err := s.invoke(ctx, inv)
	if err != nil {
		fmt.Fprintln(stderr, "invoke:", err)
		return 2
	}
	return report(out, r.decode, stdout, stderr)
}

// invocation is one function run on one event.
type invocation struct {
	fn      string
	event   []byte
	env     map[string]string // the template's, resolved, with env-vars overrides
	timeout time.Duration
	bin     string
	tmpl    *lambdarun.Template
}

// prepare reads the event, the template's environment and timeout, and
// finds the binary.
func prepare(ctx context.Context, r request) (*invocation, error) {
	if r.fn == "" || r.eventPath == "" {
		return nil, errors.New("usage: invoke -fn <function> -event <file> [-env-vars env.json] [-timeout seconds] [-aws real] [-decode]")
	}
	event, err := readEvent(r.eventPath)
	if err != nil {
		return nil, err
	}
	tmpl, err := lambdarun.LoadTemplate(r.templatePath)
	if err != nil {
		return nil, err
	}
	id := lambdarun.LogicalID(r.fn)
	env, err := tmpl.Environment(id)
	if err != nil {
		return nil, err
	}
	if r.envVars != "" {
		if err := lambdarun.ApplyEnvFile(env, r.envVars, id); err != nil {
			return nil, err
		}
	}
	timeout, err := tmpl.Timeout(id)
	if err != nil {
		return nil, err
	}
	if r.timeout != "" {
		if timeout, err = parseTimeout(r.timeout); err != nil {
			return nil, err
		}
	}
	bin := r.bin
	if bin == "" {
		root, err := lambdarun.RepoRoot(filepath.Dir(r.templatePath))
		if err != nil {
			return nil, err
		}
		if bin, err = lambdarun.Cached(ctx, root, r.fn); err != nil {
			return nil, err
		}
	}
	return &invocation{fn: r.fn, event: event, env: env, timeout: timeout, bin: bin, tmpl: tmpl}, nil
}

func readEvent(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

// parseTimeout reads TIMEOUT: whole seconds, as the template writes it, or
// a Go duration such as 90s or 2m.
func parseTimeout(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("timeout %q is neither whole seconds nor a duration such as 90s", s)
	}
	return d, nil
}
