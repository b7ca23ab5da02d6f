package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

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
		want           string
		exit           int
	}{
		"response":       {`{"message":"hi"}`, upper, `{"message":"HI","fail":false,"panic":false,"exit":false}`, 0},
		"function error": {`{"fail":true}`, "", `{"errorType":"errorString","errorMessage":"asked to fail"}`, 1},
		"init error":     {`{}`, bad, `{"errorType":"InvalidConfiguration","errorMessage":"invalid configuration: ECHO_MODE=\"shout\" is invalid: one of plain, upper"}`, 1},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"-fn", "echo", "-event", write(name+".event.json", tc.event), "-bin", bin, "-template", "../../lambdarun/testdata/template.yaml"}
			if tc.envVars != "" {
				args = append(args, "-env-vars", tc.envVars)
			}
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
