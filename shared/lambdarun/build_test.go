package lambdarun

import (
	"context"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyRepo writes a module with one function that imports one package of
// its own, so a build takes a second.
func tinyRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for path, content := range map[string]string{
		"go.mod":                     "module tiny\n\ngo 1.26\n",
		"functions/hello/main.go":    "package main\n\nimport \"tiny/shared/greet\"\n\nfunc main() { println(greet.Hello) }\n",
		"functions/hello/x_test.go":  "package main\n",
		"shared/greet/greet.go":      "package greet\n\nconst Hello = \"hello\"\n",
		"shared/unused/unused.go":    "package unused\n",
		"functions/other/main.go":    "package main\n\nfunc main() {}\n",
		"functions/broken/main.go":   "package main\n\nfunc main() { undefined() }\n",
		"functions/hello/README.txt": "not a source file\n",
		"tools/say/main.go":          "package main\n\nimport \"tiny/shared/greet\"\n\nfunc main() { println(greet.Hello) }\n",
	} {
		p := filepath.Join(root, path)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return root
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err)
	return info.Sys().(*syscall.Stat_t).Ino
}

func TestCachedKeysBySources(t *testing.T) {
	ctx := context.Background()
	root := tinyRepo(t)
	first, err := Cached(ctx, root, "hello")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(first, filepath.Join(root, ".build", "cache", "hello-")), first)
	ino := inode(t, first)

	// Files the binary is not made of leave the entry as it is.
	require.NoError(t, os.WriteFile(filepath.Join(root, "functions/hello/x_test.go"), []byte("package main\n\n// changed\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "shared/unused/unused.go"), []byte("package unused\n\n// changed\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "functions/hello/README.txt"), []byte("changed\n"), 0o644))
	again, err := Cached(ctx, root, "hello")
	require.NoError(t, err)
	assert.Equal(t, first, again)
	assert.Equal(t, ino, inode(t, again), "not rebuilt")

	// A dependency's source is part of the key.
	require.NoError(t, os.WriteFile(filepath.Join(root, "shared/greet/greet.go"), []byte("package greet\n\nconst Hello = \"hi\"\n"), 0o644))
	changed, err := Cached(ctx, root, "hello")
	require.NoError(t, err)
	assert.NotEqual(t, first, changed)
	assert.FileExists(t, first, "an older entry stays until unused for a day")

	// So is go.mod.
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module tiny\n\ngo 1.26\n\n// changed\n"), 0o644))
	modChanged, err := Cached(ctx, root, "hello")
	require.NoError(t, err)
	assert.NotEqual(t, changed, modChanged)
}

func TestCachedAllBuildsWhatIsMissing(t *testing.T) {
	ctx := context.Background()
	root := tinyRepo(t)
	hello, err := Cached(ctx, root, "hello")
	require.NoError(t, err)
	ino := inode(t, hello)
	bins, err := CachedAll(ctx, root, "hello", "other")
	require.NoError(t, err)
	assert.Equal(t, hello, bins["hello"])
	assert.Equal(t, ino, inode(t, hello), "the cached one is kept")
	assert.FileExists(t, bins["other"])

	_, err = Cached(ctx, root, "broken")
	assert.ErrorContains(t, err, "lambdarun: build broken")
	assert.ErrorContains(t, err, "undefined: undefined", "the compiler's message")
	_, err = Cached(ctx, root, "absent")
	assert.ErrorContains(t, err, "lambdarun: build absent")
	entries, err := filepath.Glob(filepath.Join(root, ".build", "cache", "tmp-*"))
	require.NoError(t, err)
	assert.Empty(t, entries, "failed builds leave nothing behind")
}

// TestCachedAcrossProcesses starts two processes that ask for the same
// binary at once: one builds it, the other waits for the lock and finds
// it, so both see the same file, never replaced. Without the lock both
// would build and the second rename would replace the first's file.
func TestCachedAcrossProcesses(t *testing.T) {
	if root := os.Getenv("LAMBDARUN_CACHE_HELPER"); root != "" {
		bin, err := Cached(context.Background(), root, "hello")
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Printf("%s %d\n", bin, inode(t, bin))
		return
	}
	root := tinyRepo(t)
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCachedAcrossProcesses$")
		cmd.Env = append(os.Environ(), "LAMBDARUN_CACHE_HELPER="+root)
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		require.NoError(t, cmd.Start())
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	var seen []string
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait(), outs[i].String())
		line, _, _ := strings.Cut(outs[i].String(), "\n")
		seen = append(seen, line)
	}
	assert.Equal(t, seen[0], seen[1], "one binary, one file")
	bin, _, _ := strings.Cut(seen[0], " ")
	assert.Equal(t, fmt.Sprintf("%s %d", bin, inode(t, bin)), seen[0], "never replaced")
}

func TestCachedMainBuildsAnyMainPackage(t *testing.T) {
	root := tinyRepo(t)
	bin, err := CachedMain(context.Background(), root, "tools/say")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(bin, filepath.Join(root, ".build", "cache", "say-")), bin)
	out, err := exec.Command(bin).CombinedOutput()
	require.NoError(t, err)
	assert.Equal(t, "hello\n", string(out))
	_, err = CachedMain(context.Background(), root, "tools/none")
	assert.ErrorContains(t, err, "lambdarun: build none")
}

func TestBuildLinksFromCache(t *testing.T) {
	ctx := context.Background()
	root := tinyRepo(t)
	out := t.TempDir()
	bin, err := Build(ctx, root, "hello", out)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(out, "hello", "bootstrap"), bin)
	cached, err := Cached(ctx, root, "hello")
	require.NoError(t, err)
	assert.Equal(t, inode(t, cached), inode(t, bin), "a hard link, not a copy")

	// Built as Lambda runs it: static, stripped, with the SAM flags.
	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	assert.Nil(t, f.Section(".symtab"), "symbols stripped (-s)")
	assert.Nil(t, f.Section(".debug_info"), "DWARF stripped (-w)")
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "statically linked")
	}
	info, err := buildinfo.ReadFile(bin)
	require.NoError(t, err)
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	assert.Equal(t, "lambda.norpc", settings["-tags"])
	assert.Equal(t, "true", settings["-trimpath"])
	// (-trimpath keeps -ldflags out of the build info: the sections say it.)
	assert.Equal(t, "0", settings["CGO_ENABLED"])
	assert.Equal(t, "linux", settings["GOOS"])
}
