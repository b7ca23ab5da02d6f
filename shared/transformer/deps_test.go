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

// TestTransformersLinkOnlyTheReingestClients: the four transformers make
// no AWS call on their ordinary path, and their start-up must stay within
// 1.5 times a minimal aws-lambda-go function's (issue 11). For
// re-ingestion they link streamput.Client (built on first use by
// shared/reingest, traced by shared/xraytrace), which takes from
// aws-sdk-go-v2 only its core (credentials, SigV4 signing, the HTTP
// client) and nothing heavier: no service client (the Firehose and
// Kinesis ones cost 1.2 ms of start-up in their schemas and endpoint
// tables), not the X-Ray SDK's core, which brings the AWS SDK v1 and gRPC
// (their package initialisation alone quadrupled the transformers'
// start-up), nor aws-sdk-go-v2/config with the STS, SSO and sign-in
// clients it links (a further 1.1 ms). The SDK comes in through
// shared/reingest only, and the packages it uses: the shared/streamput
// writers and client, and shared/retry, which classifies AWS errors.
// The packages are listed as Lambda builds them (linux, arm64,
// lambda.norpc); a failure names the package that imports the forbidden one.
func TestTransformersLinkOnlyTheReingestClients(t *testing.T) {
	root, err := lambdarun.RepoRoot(".")
	require.NoError(t, err)
	forbidden := []string{
		"github.com/aws/aws-sdk-go/", // v1
		"google.golang.org/grpc",
		"github.com/aws/aws-sdk-go-v2/config",
		"github.com/aws/aws-sdk-go-v2/credentials",
		"github.com/aws/aws-sdk-go-v2/feature/",
		"github.com/aws/aws-sdk-go-v2/service/",
	}
	// Of the X-Ray SDK, only what shared/xraytrace takes: the trace header's
	// parsing and the daemon's address.
	xray := []string{
		"github.com/aws/aws-xray-sdk-go/header",
		"github.com/aws/aws-xray-sdk-go/daemoncfg",
		"github.com/aws/aws-xray-sdk-go/internal/logger",
		"github.com/aws/aws-xray-sdk-go/xraylog",
	}
	sdk := []string{"github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"}
	// The only lakestream packages that may import the SDK.
	sdkUsers := []string{"lakestream/shared/reingest", "lakestream/shared/streamput", "lakestream/shared/retry", "lakestream/shared/xraytrace"}
	for _, fn := range []string{"firehose-json", "firehose-accesslog", "firehose-cloudfront", "firehose-syslog"} {
		t.Run(fn, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./functions/"+fn)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64")
			out, err := cmd.Output()
			require.NoError(t, err)
			seen := map[string]bool{}
			for line := range strings.Lines(string(out)) {
				pkg, imports, _ := strings.Cut(strings.TrimSpace(line), " ")
				seen[pkg] = true
				assert.False(t, hasPrefix(pkg, forbidden...), "%s links %s", fn, pkg)
				assert.False(t, hasPrefix(pkg, "github.com/aws/aws-xray-sdk-go") && !hasPrefix(pkg, xray...), "%s links %s", fn, pkg)
				if !strings.HasPrefix(pkg, "lakestream/") {
					continue
				}
				for _, imp := range strings.Fields(imports) {
					assert.False(t, hasPrefix(imp, sdk...) && !hasPrefix(pkg, sdkUsers...),
						"%s imports %s: the SDK may come in through shared/reingest only", pkg, imp)
				}
			}
			for _, pkg := range []string{"lakestream/shared/firehose", "lakestream/shared/jsonscan", "lakestream/shared/reingest", "lakestream/shared/xraytrace", "github.com/aws/aws-lambda-go/lambda"} {
				assert.True(t, seen[pkg], "%s links %s", fn, pkg)
			}
		})
	}
}

// hasPrefix reports whether pkg is one of the packages or under one.
func hasPrefix(pkg string, prefixes ...string) bool {
	for _, p := range prefixes {
		if pkg == strings.TrimSuffix(p, "/") || strings.HasPrefix(pkg, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}
