package main

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lakestream/shared/config"
	"lakestream/shared/golden"
	"lakestream/shared/lambdarun"
)

// caseName is a test input's file name without its extension.
func caseName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// readEnv reads a .env file: NAME=value lines, # comments.
func readEnv(t testing.TB, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%s: %q is not NAME=value", path, line)
		vars[k] = v
	}
	require.NoError(t, sc.Err())
	return vars
}

// templateEnv is the function's environment in template.yaml, parameter
// defaults resolved, as `make invoke` and the demo run it.
func templateEnv(t testing.TB) map[string]string {
	t.Helper()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	tmpl, err := lambdarun.LoadTemplate(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	env, err := tmpl.Environment(lambdarun.LogicalID("s3-redistributor"))
	require.NoError(t, err)
	return env
}

// mustConfig loads vars, failing the test on any configuration error. The
// retry policy's waits are skipped.
func mustConfig(t testing.TB, vars map[string]string) *Config {
	t.Helper()
	env := config.New(config.FromMap(vars))
	cfg := loadConfig(env)
	require.NoError(t, env.Err())
	cfg.Retry.Sleep = func(context.Context, time.Duration) error { return nil }
	return cfg
}

// sample reads events/s3-redistributor/<name>.
func sample(t testing.TB, name string) []byte {
	t.Helper()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "events", "s3-redistributor", name))
	require.NoError(t, err)
	return b
}

// samples lists the events/s3-redistributor files.
func samples(t testing.TB) []string {
	t.Helper()
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	paths := golden.Inputs(t, filepath.Join(root, "events", "s3-redistributor", "*.json"))
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}
