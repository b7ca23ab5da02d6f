package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/lambdarun"
)

// TestInvokeCommand runs the command as `make invoke` does, on the local
// runner's echo test function, and checks what it prints and its exit code.
func TestInvokeCommand(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")
	build := exec.Command("go", append(append([]string{"build"}, lambdarun.BuildFlags...), "-o", bin, "../../lambdarun/testdata/echo")...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	cli := filepath.Join(dir, "invoke")
	out, err = exec.Command("go", "build", "-o", cli, ".").CombinedOutput()
	require.NoError(t, err, string(out))

	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	upper := write("upper.json", `{"EchoFunction":{"ECHO_MODE":"upper"}}`)
	bad := write("bad.json", `{"Parameters":{"ECHO_MODE":"shout"}}`)

	for name, tc := range map[string]struct {
		event, envVars string
		args           []string
		want           string
		exit           int
	}{
		"response":                   {`{"message":"hi"}`, upper, nil, `{"message":"HI","fail":false,"panic":false,"exit":false}`, 0},
		"function error":             {`{"fail":true}`, "", nil, `{"errorType":"errorString","errorMessage":"asked to fail"}`, 1},
		"init error":                 {`{}`, bad, nil, `{"errorType":"InvalidConfiguration","errorMessage":"invalid configuration: ECHO_MODE=\"shout\" is invalid: one of plain, upper"}`, 1},
		"deadline from the template": {`{"deadline":true}`, "", nil, `{"message":"","fail":false,"panic":false,"exit":false,"deadline":true,"left_s":7}`, 0},
		"timeout":                    {`{"sleep":"1h"}`, "", []string{"-timeout", "1"}, `{"errorType":"Sandbox.Timedout","errorMessage":"task timed out after 1.00 seconds; the process was killed, as Lambda does"}`, 1},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"-fn", "echo", "-event", write(name+".event.json", tc.event), "-bin", bin, "-template", "../../lambdarun/testdata/template.yaml"}
			if tc.envVars != "" {
				args = append(args, "-env-vars", tc.envVars)
			}
			args = append(args, tc.args...)
			stdout, err := exec.Command(cli, args...).Output()
			var exit *exec.ExitError
			if tc.exit == 0 {
				require.NoError(t, err)
			} else {
				require.True(t, errors.As(err, &exit), "want exit %d, got %v", tc.exit, err)
				assert.Equal(t, tc.exit, exit.ExitCode())
			}
			assert.JSONEq(t, tc.want, string(stdout))
		})
	}
}

func TestParseTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"10": 10 * time.Second, "90s": 90 * time.Second, "2m": 2 * time.Minute, "1.5s": 1500 * time.Millisecond} {
		got, err := parseTimeout(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "0", "-3", "soon", "-1s"} {
		_, err := parseTimeout(in)
		assert.ErrorContains(t, err, "neither whole seconds nor a duration", in)
	}
}
