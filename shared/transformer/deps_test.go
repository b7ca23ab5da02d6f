package transformer

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lakestream/shared/lambdarun"
)

// TestTransformersLinkNoSDK: the four transformers make no AWS call, so
// they must link neither the AWS SDK (v1 or v2, with smithy), X-Ray nor
// gRPC, whose package initialisation alone costs a cold start 10 ms and
// more (issue 11). The packages are listed as Lambda builds them (linux,
// arm64, lambda.norpc); a failure names the lakestream package that
// imports the forbidden one.
func TestTransformersLinkNoSDK(t *testing.T) {
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	forbidden := []string{"github.com/aws/aws-sdk-go", "github.com/aws/aws-xray-sdk-go", "github.com/aws/smithy-go", "google.golang.org/grpc"}
	for _, fn := range []string{"firehose-json", "firehose-accesslog", "firehose-cloudfront", "firehose-syslog"} {
		t.Run(fn, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./functions/"+fn)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64")
			out, err := cmd.Output()
			require.NoError(t, err)
			isForbidden := func(pkg string) bool {
				for _, f := range forbidden {
					if strings.HasPrefix(pkg, f) {
						return true
					}
				}
				return false
			}
			seen := map[string]bool{}
			for line := range strings.Lines(string(out)) {
				pkg, imports, _ := strings.Cut(strings.TrimSpace(line), " ")
				seen[pkg] = true
				for _, imp := range strings.Fields(imports) {
					// The edge into the forbidden packages, not those inside them.
					assert.False(t, !isForbidden(pkg) && isForbidden(imp), "%s imports %s", pkg, imp)
				}
			}
			for _, pkg := range []string{"lakestream/shared/firehose", "lakestream/shared/jsonscan", "github.com/aws/aws-lambda-go/lambda"} {
				assert.True(t, seen[pkg], "%s links %s", fn, pkg)
			}
		})
	}
}
