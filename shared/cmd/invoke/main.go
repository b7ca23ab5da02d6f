// Command invoke runs one function's real bootstrap binary under the local
// Lambda Runtime API and prints its response, as `sam local invoke` does:
//
//	go run ./shared/cmd/invoke -fn firehose-json -event events/firehose-json/ok.json [-env-vars env.json]
//
// The function's own logs go to stderr; the response JSON to stdout. A
// function or init error prints {"errorType","errorMessage"} and exits 1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"lakestream/shared/lambdarun"
)

func main() {
	fn := flag.String("fn", "", "function folder under functions/, e.g. firehose-json")
	event := flag.String("event", "", "event JSON file (- for stdin)")
	envVars := flag.String("env-vars", "", "SAM --env-vars JSON file overriding the template's environment")
	bin := flag.String("bin", "", "bootstrap binary (default: build it into .build/local)")
	template := flag.String("template", "template.yaml", "SAM template")
	timeout := flag.String("timeout", "", "invocation timeout, seconds or a Go duration (default: the template's Timeout)")
	flag.Parse()
	if err := run(*fn, *event, *envVars, *bin, *template, *timeout); err != nil {
		var fe *lambdarun.FunctionError
		if errors.As(err, &fe) {
			out, _ := json.Marshal(fe)
			fmt.Println(string(out))
		} else {
			fmt.Fprintln(os.Stderr, "invoke:", err)
		}
		os.Exit(1)
	}
}

func run(fn, eventPath, envVars, bin, templatePath, timeoutFlag string) error {
	if fn == "" || eventPath == "" {
		return errors.New("usage: invoke -fn <function> -event <file> [-env-vars env.json]")
	}
	event, err := readEvent(eventPath)
	if err != nil {
		return err
	}
	tmpl, err := lambdarun.LoadTemplate(templatePath)
	if err != nil {
		return err
	}
	id := lambdarun.LogicalID(fn)
	env, err := tmpl.Environment(id)
	if err != nil {
		return err
	}
	if envVars != "" {
		if err := lambdarun.ApplyEnvFile(env, envVars, id); err != nil {
			return err
		}
	}
	timeout, err := tmpl.Timeout(id)
	if err != nil {
		return err
	}
	if timeoutFlag != "" {
		if timeout, err = parseTimeout(timeoutFlag); err != nil {
			return err
		}
	}
	ctx := context.Background()
	if bin == "" {
		root, err := lambdarun.RepoRoot(filepath.Dir(templatePath))
		if err != nil {
			return err
		}
		if bin, err = lambdarun.Build(ctx, root, fn, filepath.Join(root, ".build", "local")); err != nil {
			return err
		}
	}
	f, err := lambdarun.Start(lambdarun.Options{Binary: bin, Env: env, Stdout: os.Stderr, Stderr: os.Stderr, Timeout: timeout})
	if err != nil {
		return err
	}
	defer f.Stop()
	resp, err := f.Invoke(ctx, event)
	if err != nil {
		return err
	}
	fmt.Println(string(resp))
	return nil
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
