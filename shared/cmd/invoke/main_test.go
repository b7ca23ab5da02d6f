package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/lambdarun"
)

// builds returns the local runner's echo test function and this command,
// from the repository's build cache (built once per state of their
// sources, for every test process).
func builds(t *testing.T) (echo, cli string) {
	t.Helper()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	echo, err = lambdarun.CachedMain(t.Context(), root, "shared/lambdarun/testdata/echo")
	require.NoError(t, err)
	cli, err = lambdarun.CachedMain(t.Context(), root, "shared/cmd/invoke")
	require.NoError(t, err)
	return echo, cli
}

// TestInvokeCommand runs the command as `make invoke` does, on the local
// runner's echo test function, and checks what it prints and its exit code.
func TestInvokeCommand(t *testing.T) {
	echo, cli := builds(t)
	t.Run("responses and errors", func(t *testing.T) { invokeEcho(t, echo, cli) })
	t.Run("AWS=real without credentials", func(t *testing.T) { realWithoutCredentials(t, echo, cli) })
	t.Run("AWS=real with a profile", func(t *testing.T) { realWithProfile(t, echo, cli) })
}

// realWithProfile: AWS=real hands the function the shell's AWS settings,
// and the region even when only the profile names it (Lambda always sets
// AWS_REGION).
func realWithProfile(t *testing.T, echo, cli string) {
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".aws"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".aws", "config"), []byte("[profile lake]\nregion = eu-west-3\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte("[lake]\naws_access_key_id = AKIALAKE\naws_secret_access_key = secret\n"), 0o644))
	event := filepath.Join(home, "event.json")
	require.NoError(t, os.WriteFile(event, []byte(`{"getenv":["AWS_PROFILE","AWS_REGION","AWS_EC2_METADATA_DISABLED","AWS_ENDPOINT_URL"]}`), 0o644))
	cmd := exec.Command(cli, "-fn", "echo", "-event", event, "-bin", echo, "-template", "../../lambdarun/testdata/template.yaml", "-aws", "real")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_PROFILE=lake"}
	stdout, err := cmd.Output()
	require.NoError(t, err)
	var resp struct{ Env map[string]string }
	require.NoError(t, json.Unmarshal(stdout, &resp))
	assert.Equal(t, map[string]string{"AWS_PROFILE": "lake", "AWS_REGION": "eu-west-3", "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": ""}, resp.Env)
}

func invokeEcho(t *testing.T, bin, cli string) {
	dir := t.TempDir()

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

func TestChooseMode(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for name, tc := range map[string]struct {
		aws  string
		env  func(string) string
		want string
	}{
		"nothing set":                    {"", env(), modeEmbedded},
		"credentials alone do not count": {"", env("AWS_PROFILE", "prod", "AWS_ACCESS_KEY_ID", "AKIA"), modeEmbedded},
		"AWS=real":                       {"real", env(), modeReal},
		"AWS=REAL":                       {"REAL", env(), modeReal},
		"AWS=local":                      {"local", env("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"), modeEmbedded},
		"an endpoint":                    {"", env("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"), modeEndpoint},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := chooseMode(tc.aws, tc.env)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := chooseMode("prod", env())
	assert.ErrorContains(t, err, "AWS=prod: use AWS=real")
}

// realWithoutCredentials: AWS=real (or an endpoint) with nothing to sign
// with stops within seconds, saying what to set, before the function
// starts; no EC2 instance metadata is waited for.
func realWithoutCredentials(t *testing.T, echo, cli string) {
	home := t.TempDir()
	event := filepath.Join(home, "event.json")
	require.NoError(t, os.WriteFile(event, []byte(`{"message":"hi"}`), 0o644))
	for name, tc := range map[string]struct {
		env  []string
		want []string
	}{
		"no region":         {[]string{"AWS=real"}, []string{"no AWS region", "AWS_PROFILE", "AWS_REGION", "leave AWS unset"}},
		"no credentials":    {[]string{"AWS=real", "AWS_REGION=eu-west-1"}, []string{"no AWS credentials", "AWS_ACCESS_KEY_ID", "leave AWS unset"}},
		"no such profile":   {[]string{"AWS=real", "AWS_PROFILE=nowhere"}, []string{"nowhere", "aws sso login"}},
		"endpoint, no keys": {[]string{"AWS_ENDPOINT_URL=http://127.0.0.1:9", "AWS_REGION=us-east-1"}, []string{"no AWS credentials", "make aws-local"}},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(cli, "-fn", "echo", "-event", event, "-bin", echo, "-template", "../../lambdarun/testdata/template.yaml", "-aws", awsFlag(tc.env))
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}, tc.env...)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			began := time.Now()
			err := cmd.Run()
			var exit *exec.ExitError
			require.True(t, errors.As(err, &exit), "want exit 2, got %v", err)
			assert.Equal(t, 2, exit.ExitCode())
			assert.Less(t, time.Since(began), 8*time.Second, "fails fast")
			assert.Empty(t, stdout.String(), "the function never ran")
			for _, w := range tc.want {
				assert.Contains(t, stderr.String(), w)
			}
		})
	}
}

// awsFlag passes AWS=... on as make invoke does.
func awsFlag(env []string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "AWS="); ok {
			return v
		}
	}
	return ""
}
