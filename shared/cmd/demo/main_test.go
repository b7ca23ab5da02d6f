package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDemoRuns keeps `make demo` working: every stage, against a fresh
// moto_server, with the real binaries.
func TestDemoRuns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	require.NoError(t, run(ctx))
}

// TestEveryFunctionHasAStage: a function added under functions/ is shown
// by the demo, which the README promises runs the whole suite.
func TestEveryFunctionHasAStage(t *testing.T) {
	dirs, err := os.ReadDir("../../../functions")
	require.NoError(t, err)
	shown := map[string]bool{}
	for _, s := range stages {
		shown[s.fn] = true
	}
	var missing []string
	for _, d := range dirs {
		if d.IsDir() && !shown[d.Name()] {
			missing = append(missing, d.Name())
		}
	}
	require.NotEmpty(t, dirs)
	assert.Empty(t, missing, "functions without a demo stage (add one to stages in main.go)")
}
