package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/boot"
	"lakestream/shared/config"
	"lakestream/shared/lambdarun"
)

// TestInvokeMatchesInProcess runs the sample event three ways: the handler
// in-process, the real bootstrap under the local Runtime API, and `make
// invoke`'s command. All three must answer the same response.
func TestInvokeMatchesInProcess(t *testing.T) {
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	tmpl, err := lambdarun.LoadTemplate(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	env, err := tmpl.Environment(lambdarun.LogicalID("firehose-json"))
	require.NoError(t, err)
	eventPath := filepath.Join(root, "events", "firehose-json", "mixed.json")
	raw, err := os.ReadFile(eventPath)
	require.NoError(t, err)

	fn := boot.NewFrom(config.FromMap(env), &bytes.Buffer{})
	h := newHandler(fn)
	require.NoError(t, fn.Err())
	inProcess, err := h.Invoke(context.Background(), raw)
	require.NoError(t, err)

	bin, err := lambdarun.Build(context.Background(), root, "firehose-json", t.TempDir())
	require.NoError(t, err)
	f, err := lambdarun.Start(lambdarun.Options{Binary: bin, Env: env})
	require.NoError(t, err)
	defer f.Stop()
	viaRuntimeAPI, err := f.Invoke(context.Background(), raw)
	require.NoError(t, err)
	assert.JSONEq(t, string(inProcess), string(viaRuntimeAPI))

	cmd := exec.Command("go", "run", "./shared/cmd/invoke", "-fn", "firehose-json", "-event", eventPath, "-bin", bin)
	cmd.Dir = root
	viaCommand, err := cmd.Output()
	require.NoError(t, err)
	assert.JSONEq(t, string(inProcess), string(viaCommand))
}

// TestInvalidSettingFailsInit: the real binary started with an invalid
// value reports an init error naming the variable.
func TestInvalidSettingFailsInit(t *testing.T) {
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	bin, err := lambdarun.Build(context.Background(), root, "firehose-json", t.TempDir())
	require.NoError(t, err)
	f, err := lambdarun.Start(lambdarun.Options{Binary: bin, Env: map[string]string{"OUTPUT_FORMAT": "xml", "MASK_IPV4_PREFIX": "40"}})
	require.NoError(t, err)
	defer f.Stop()
	_, err = f.Invoke(context.Background(), []byte(`{"records":[]}`))
	require.True(t, lambdarun.IsInit(err), "got %v", err)
	assert.Contains(t, err.Error(), `OUTPUT_FORMAT="xml" is invalid: one of json, csv, tsv`)
	assert.Contains(t, err.Error(), `MASK_IPV4_PREFIX="40" is invalid: an integer from 1 to 32`)
}
