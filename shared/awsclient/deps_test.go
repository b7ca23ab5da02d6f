package awsclient

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/lambdarun"
)

// TestAWSCallersLinkNoXRayCore: the functions that call AWS trace their
// calls through package xraytrace and link none of what made them 24–33 MB
// and slow to start (issue 11): the X-Ray SDK's core (xray, and with it its
// instrumentation and strategy packages), gRPC, SDK v1 (its endpoints
// tables cost 10–13 ms of every cold start), and html/template or
// text/template, whose reflect.Value.MethodByName turns off the linker's
// dead-code elimination of methods in the whole binary. glue-job-trigger's
// own argument templates are the one text/template use allowed. Of the
// X-Ray SDK only the trace header's parser and the daemon's address (and
// the logger the latter imports) may be linked. The packages are listed as
// Lambda builds them (linux, arm64, lambda.norpc); a failure names the
// package that imports the forbidden one.
func TestAWSCallersLinkNoXRayCore(t *testing.T) {
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	tmpl, err := lambdarun.LoadRepoTemplate()
	require.NoError(t, err)
	dirs, err := filepath.Glob(filepath.Join(root, "functions", "*"))
	require.NoError(t, err)
	allowedXRay := map[string]bool{
		"github.com/aws/aws-xray-sdk-go/header":          true,
		"github.com/aws/aws-xray-sdk-go/daemoncfg":       true,
		"github.com/aws/aws-xray-sdk-go/internal/logger": true,
		"github.com/aws/aws-xray-sdk-go/xraylog":         true,
	}
	forbidden := func(importer, pkg string) bool {
		switch {
		case strings.HasPrefix(pkg, "github.com/aws/aws-xray-sdk-go/"):
			return !allowedXRay[pkg]
		case pkg == "github.com/aws/aws-sdk-go" || strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go/"): // v1, not -v2
			return true
		case strings.HasPrefix(pkg, "google.golang.org/grpc"), pkg == "html/template":
			return true
		case pkg == "text/template":
			return importer != "lakestream/functions/glue-job-trigger"
		}
		return false
	}
	var callers []string
	for _, dir := range dirs {
		fn := filepath.Base(dir)
		if !tmpl.CallsAWS(lambdarun.LogicalID(fn)) {
			continue
		}
		callers = append(callers, fn)
		t.Run(fn, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./functions/"+fn)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
			out, err := cmd.Output()
			require.NoError(t, err)
			seen := map[string]bool{}
			for line := range strings.Lines(string(out)) {
				pkg, imports, _ := strings.Cut(strings.TrimSpace(line), " ")
				seen[pkg] = true
				if forbidden("", pkg) {
					continue // reported at the edge into it, below
				}
				for _, imp := range strings.Fields(imports) {
					assert.False(t, forbidden(pkg, imp), "%s imports %s", pkg, imp)
				}
			}
			for _, pkg := range []string{"lakestream/shared/xraytrace", "github.com/aws/aws-xray-sdk-go/header", "github.com/aws/aws-sdk-go-v2/aws"} {
				assert.True(t, seen[pkg], "%s links %s", fn, pkg)
			}
		})
	}
	assert.Contains(t, callers, "glue-job-trigger", "the template's AWS callers were found")
	assert.Len(t, callers, 6, "the functions that call AWS: %v", callers)
}
