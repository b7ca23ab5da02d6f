package lambdarun

import (
	"cmp"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestProjectLayout keeps the repository's lists of functions in step:
// every functions/<name> is a template function <Name>Function built by
// the root Makefile's build-<Name>Function target (BuildMethod: makefile,
// CodeUri the root) and has at least one sample event under
// events/<name>/, and every function resource and events folder has its
// functions/<name>.
func TestProjectLayout(t *testing.T) {
	root, err := RepoRoot(".")
	require.NoError(t, err)

	folders := dirs(t, filepath.Join(root, "functions"))
	require.NotEmpty(t, folders, "no functions yet")

	var tmpl struct {
		Globals struct {
			Function struct {
				CodeURI string `yaml:"CodeUri"`
			} `yaml:"Function"`
		} `yaml:"Globals"`
		Resources map[string]struct {
			Type     string `yaml:"Type"`
			Metadata struct {
				BuildMethod string `yaml:"BuildMethod"`
			} `yaml:"Metadata"`
			Properties struct {
				CodeURI string `yaml:"CodeUri"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &tmpl))
	targets, err := exec.Command("make", "-C", root, "-pn", "build").Output()
	require.NoError(t, err, "make -pn lists the Makefile's targets")

	byID := map[string]string{}
	for _, fn := range folders {
		byID[LogicalID(fn)] = fn
	}
	var inTemplate []string
	for id, r := range tmpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		fn, ok := byID[id]
		assert.True(t, ok, "template function %s has no functions/ folder", id)
		inTemplate = append(inTemplate, fn)
		assert.Equal(t, "makefile", r.Metadata.BuildMethod, "%s Metadata.BuildMethod", id)
		codeURI := cmp.Or(r.Properties.CodeURI, tmpl.Globals.Function.CodeURI)
		assert.Contains(t, []string{".", "./"}, codeURI, "%s CodeUri: the root, whose Makefile and go.mod sam build needs", id)
		assert.Contains(t, string(targets), "\nbuild-"+id+":", "the Makefile has build-%s", id)
	}
	sort.Strings(inTemplate)
	assert.Equal(t, folders, inTemplate, "functions/ folders and template.yaml functions differ")

	assert.Equal(t, folders, dirs(t, filepath.Join(root, "events")), "functions/ folders and events/ folders differ")
	for _, fn := range folders {
		samples, _ := filepath.Glob(filepath.Join(root, "events", fn, "*.json"))
		assert.NotEmpty(t, samples, "events/%s has no sample event", fn)
		_, err := os.Stat(filepath.Join(root, "functions", fn, "main.go"))
		assert.NoError(t, err, "functions/%s/main.go", fn)
	}
}

func dirs(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir(path)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// TestRepoFunctionOptions checks what StartRepoFunction starts a function
// with: its cached binary, the template's environment overlaid by each
// map in turn, the template's Timeout unless the caller sets one, and the
// caller's output left as it was.
func TestRepoFunctionOptions(t *testing.T) {
	tmpl, err := LoadRepoTemplate()
	require.NoError(t, err)
	const fn = "firehose-json"
	want, err := tmpl.Environment(LogicalID(fn))
	require.NoError(t, err)
	timeout, err := tmpl.Timeout(LogicalID(fn))
	require.NoError(t, err)
	want["EXTRA"] = "second"
	want["AWS_REGION"] = "eu-west-1"

	logs := &strings.Builder{}
	opts, err := RepoFunctionOptions(fn, Options{Stderr: logs},
		map[string]string{"EXTRA": "first", "AWS_REGION": "eu-west-1"}, map[string]string{"EXTRA": "second"})
	require.NoError(t, err)
	assert.Equal(t, want, opts.Env)
	assert.Equal(t, timeout, opts.Timeout)
	assert.Same(t, logs, opts.Stderr)
	bin, err := BuildOnce(fn)
	require.NoError(t, err)
	assert.Equal(t, bin, opts.Binary)

	opts, err = RepoFunctionOptions(fn, Options{Timeout: 3 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, opts.Timeout, "the caller's timeout wins")

	_, err = RepoFunctionOptions("no-such-function", Options{})
	assert.Error(t, err)
}
