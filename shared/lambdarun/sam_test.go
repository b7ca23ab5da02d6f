package lambdarun

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTemplateTransformsAndLints runs template.yaml through
// aws-sam-translator, as CloudFormation's AWS::Serverless transform does on
// deploy (with each function's code at an S3 location of its own, as `sam
// build` and `sam package` leave it), and cfn-lint over the resulting
// CloudFormation: the makefile build settings deploy, and every function
// is an arm64 provided.al2023 function with its bootstrap handler.
func TestTemplateTransformsAndLints(t *testing.T) {
	root, err := RepoRoot(".")
	require.NoError(t, err)
	transform := exec.Command("python3", "testdata/samtransform.py", filepath.Join(root, "template.yaml"))
	var stderr bytes.Buffer
	transform.Stderr = &stderr
	out, err := transform.Output()
	require.NoError(t, err, "aws-sam-translator (pip install aws-sam-translator, which cfn-lint brings):\n%s", stderr.String())

	transformed := filepath.Join(t.TempDir(), "transformed.json")
	require.NoError(t, os.WriteFile(transformed, out, 0o644))
	lint, err := exec.Command("cfn-lint", transformed).CombinedOutput()
	require.NoError(t, err, "cfn-lint on the transformed template:\n%s", lint)

	var cfn struct {
		Transform any
		Resources map[string]struct {
			Type       string
			Properties struct {
				Runtime, Handler string
				Architectures    []string
				Code             struct{ S3Bucket, S3Key string }
				TracingConfig    struct{ Mode string }
			}
		}
	}
	require.NoError(t, json.Unmarshal(out, &cfn))
	assert.Nil(t, cfn.Transform, "nothing left to transform")
	functions := 0
	for id, r := range cfn.Resources {
		assert.NotContains(t, r.Type, "AWS::Serverless::", id)
		if r.Type != "AWS::Lambda::Function" {
			continue
		}
		functions++
		p := r.Properties
		assert.Equal(t, "provided.al2023", p.Runtime, id)
		assert.Equal(t, "bootstrap", p.Handler, id)
		assert.Equal(t, []string{"arm64"}, p.Architectures, id)
		assert.Equal(t, id+".zip", p.Code.S3Key, id)
		assert.Equal(t, "Active", p.TracingConfig.Mode, id)
	}
	assert.Len(t, dirs(t, filepath.Join(root, "functions")), functions, "one Lambda function per functions/ folder")
}

// TestSAMBuildTargets runs each function's build-<LogicalId> target the
// way `sam build` does for BuildMethod: makefile (make -f <root>/Makefile
// build-<LogicalId> with ARTIFACTS_DIR in the environment, from another
// folder) and checks the bootstrap it leaves: the function's own main
// package, linux/arm64 as the template's Architectures say, static,
// stripped, and built with lambda.norpc and -trimpath. This is also what
// proves in `make test` that every function builds for arm64.
func TestSAMBuildTargets(t *testing.T) {
	root, err := RepoRoot(".")
	require.NoError(t, err)
	elsewhere := t.TempDir()
	// One go command first compiles, on every core, each package the
	// functions import, for linux/arm64 and with the targets' flags, into
	// the build cache: the targets, run side by side, then only link.
	// Without it, the first two each compiled the standard library and
	// the AWS SDK for arm64 at once, the same work twice on a cold cache.
	compile := exec.Command("go", append(append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}"}, BuildFlags...), "./functions/...")...)
	compile.Dir = root
	compile.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	compile.Stderr = &stderr
	require.NoError(t, compile.Run(), "compiling the functions for linux/arm64:\n%s", stderr.String())
	for _, fn := range dirs(t, filepath.Join(root, "functions")) {
		t.Run(fn, func(t *testing.T) {
			t.Parallel()
			artifacts := filepath.Join(t.TempDir(), LogicalID(fn))
			require.NoError(t, os.MkdirAll(artifacts, 0o755))
			make := exec.Command("make", "-f", filepath.Join(root, "Makefile"), "build-"+LogicalID(fn))
			make.Dir = elsewhere
			make.Env = append(os.Environ(), "ARTIFACTS_DIR="+artifacts)
			out, err := make.CombinedOutput()
			require.NoError(t, err, "%s", out)

			bin := filepath.Join(artifacts, "bootstrap")
			info, err := os.Stat(bin)
			require.NoError(t, err)
			assert.NotZero(t, info.Mode()&0o111, "executable")
			f, err := elf.Open(bin)
			require.NoError(t, err)
			defer f.Close()
			assert.Equal(t, elf.EM_AARCH64, f.Machine, "arm64")
			assert.Nil(t, f.Section(".symtab"), "symbols stripped")
			assert.Nil(t, f.Section(".debug_info"), "DWARF stripped")
			for _, p := range f.Progs {
				assert.NotEqual(t, elf.PT_INTERP, p.Type, "statically linked")
			}
			bi, err := buildinfo.ReadFile(bin)
			require.NoError(t, err)
			assert.Equal(t, "lakestream/functions/"+fn, bi.Path)
			settings := map[string]string{}
			for _, s := range bi.Settings {
				settings[s.Key] = s.Value
			}
			assert.Equal(t, "lambda.norpc", settings["-tags"])
			assert.Equal(t, "true", settings["-trimpath"])
			assert.Equal(t, "0", settings["CGO_ENABLED"])
			assert.Equal(t, "linux", settings["GOOS"])
			assert.Equal(t, "arm64", settings["GOARCH"])
		})
	}
}
