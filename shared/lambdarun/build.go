package lambdarun

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// BuildFlags are the go build flags of every bootstrap, here and in the
// Makefile's SAM build targets: no RPC server in aws-lambda-go (the
// provided.al2023 runtime speaks only the Runtime API), no local paths in
// the binary, and no symbol or DWARF tables (a smaller zip, a faster cold
// start; panics still print file and line).
var BuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

// Build compiles functions/<name> into outDir/<name>/bootstrap as `sam
// build` does for provided.al2023 (GOOS=linux, CGO_ENABLED=0, BuildFlags),
// for this machine's architecture so it can run here. The binary comes from
// the repository's build cache (see Cached) and is linked (or copied) into
// outDir.
func Build(ctx context.Context, repoRoot, name, outDir string) (string, error) {
	cached, err := Cached(ctx, repoRoot, name)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(outDir, name, "bootstrap")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("lambdarun: build %s: %w", name, err)
	}
	if err := place(cached, bin); err != nil {
		return "", fmt.Errorf("lambdarun: build %s: %w", name, err)
	}
	return bin, nil
}

// Cached returns the path of functions/<name>'s bootstrap for this machine
// in <repo>/.build/cache, building it first when the cache has no binary
// for the function's current sources. See CachedAll.
func Cached(ctx context.Context, repoRoot, name string) (string, error) {
	bins, err := CachedAll(ctx, repoRoot, name)
	if err != nil {
		return "", err
	}
	return bins[name], nil
}

// CachedAll is Cached for several functions at once: the missing ones are
// built by one go command, which links them in parallel.
//
// The cache is shared by every process of the repository (each `go test`
// package is one): an entry is keyed by a hash of the Go toolchain, the
// target, BuildFlags, go.mod, go.sum and the contents of every file of the
// module's packages the function depends on, so a change to any of them
// builds a new binary and nothing else does. One file lock serialises the
// builders (the others wait for it rather than build the same binaries
// again on the same cores), and each binary is renamed into place once
// written, so no process ever runs a half-written one.
func CachedAll(ctx context.Context, repoRoot string, names ...string) (map[string]string, error) {
	dirs := make([]string, len(names))
	for i, name := range names {
		dirs[i] = "functions/" + name
	}
	byDir, err := cachedMains(ctx, repoRoot, dirs)
	if err != nil {
		return nil, err
	}
	bins := map[string]string{}
	for i, name := range names {
		bins[name] = byDir[dirs[i]]
	}
	return bins, nil
}

// CachedMain is Cached for any main package of the module, by its folder
// relative to the root (such as a test's stand-in function under testdata/).
func CachedMain(ctx context.Context, repoRoot, dir string) (string, error) {
	bins, err := cachedMains(ctx, repoRoot, []string{filepath.ToSlash(dir)})
	if err != nil {
		return "", err
	}
	return bins[filepath.ToSlash(dir)], nil
}

// cachedMains returns the cached binaries of main packages by folder
// (slash-separated, relative to the root), building the missing ones.
func cachedMains(ctx context.Context, repoRoot string, dirs []string) (map[string]string, error) {
	cacheDir := filepath.Join(repoRoot, ".build", "cache")
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("lambdarun: build cache: %w", err)
	}
	target := localTarget()
	keys, err := sourceKeys(ctx, repoRoot, target, dirs)
	if err != nil {
		return nil, err
	}
	bins := map[string]string{}
	for _, dir := range dirs {
		bins[dir] = filepath.Join(cacheDir, path.Base(dir)+"-"+target.GOARCH+"-"+keys[dir], "bootstrap")
	}
	if missing(bins) == nil {
		touch(bins)
		return bins, nil
	}

	unlock, err := lockFile(ctx, filepath.Join(cacheDir, "lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	todo := missing(bins) // another process may have built them meanwhile
	if todo == nil {
		return bins, nil
	}
	tmp, err := os.MkdirTemp(cacheDir, "tmp-")
	if err != nil {
		return nil, fmt.Errorf("lambdarun: build cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := goBuild(ctx, repoRoot, target, tmp, todo); err != nil {
		return nil, err
	}
	for _, dir := range todo {
		if err := os.MkdirAll(filepath.Dir(bins[dir]), 0o755); err != nil {
			return nil, fmt.Errorf("lambdarun: build cache: %w", err)
		}
		// go build -o dir/ names each binary after its package folder.
		if err := os.Rename(filepath.Join(tmp, path.Base(dir)), bins[dir]); err != nil {
			return nil, fmt.Errorf("lambdarun: build %s: %w", path.Base(dir), err)
		}
		prune(cacheDir, path.Base(dir)+"-"+target.GOARCH+"-", bins[dir])
	}
	return bins, nil
}

// builds holds BuildOnce's builds: a func() (string, error) by function name.
var builds sync.Map

// BuildOnce returns the bootstrap of functions/<name> from the build cache
// (Cached) of the repository holding the working directory, looking it up
// the first time a process asks for it and returning that path or error to
// every later caller. It is safe for concurrent use.
func BuildOnce(name string) (string, error) {
	build, _ := builds.LoadOrStore(name, sync.OnceValues(func() (string, error) {
		root, err := RepoRoot(".")
		if err != nil {
			return "", err
		}
		return Cached(context.Background(), root, name)
	}))
	return build.(func() (string, error))()
}

// target is what a bootstrap is built for.
type target struct{ GOOS, GOARCH string }

// localTarget is Lambda's OS on this machine's architecture: the binary
// runs here, and differs from the deployed one only in GOARCH.
func localTarget() target { return target{GOOS: "linux", GOARCH: runtime.GOARCH} }

func (t target) env() []string {
	return append(os.Environ(), "GOOS="+t.GOOS, "GOARCH="+t.GOARCH, "CGO_ENABLED=0")
}

func goBuild(ctx context.Context, repoRoot string, t target, outDir string, dirs []string) error {
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", outDir+string(filepath.Separator))
	names := make([]string, len(dirs))
	for i, dir := range dirs {
		args = append(args, "./"+dir)
		names[i] = path.Base(dir)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repoRoot
	cmd.Env = t.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lambdarun: build %s: %w\n%s", strings.Join(names, ", "), err, out)
	}
	return nil
}

// listedPackage is what sourceKeys reads from `go list -json`.
type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	Module     *struct {
		Path    string
		Version string
		Main    bool
		Replace *struct {
			Path    string
			Version string
		}
	}
	GoFiles, SFiles, HFiles, SysoFiles, EmbedFiles []string
	Deps                                           []string
	Error                                          *struct{ Err string }
}

// sourceKeys hashes, for each main package folder, what its binary is made of: the
// toolchain and target, BuildFlags, go.mod and go.sum, and the contents of
// every file of its non-standard dependencies that are not a fixed module
// version (the module's own packages, and modules replaced by a folder).
func sourceKeys(ctx context.Context, repoRoot string, t target, dirs []string) (map[string]string, error) {
	goenv := exec.CommandContext(ctx, "go", "env", "GOVERSION", "GOFLAGS", "GOEXPERIMENT", "GOARM64", "GOAMD64", "GOTOOLCHAIN")
	goenv.Dir = repoRoot
	goenv.Env = t.env()
	toolchain, err := goenv.Output()
	if err != nil {
		return nil, fmt.Errorf("lambdarun: go env: %w", err)
	}
	common := sha256.New()
	fmt.Fprintf(common, "%s\n%s/%s\n%q\n", toolchain, t.GOOS, t.GOARCH, BuildFlags)
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := hashFile(common, filepath.Join(repoRoot, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("lambdarun: build cache: %w", err)
		}
	}

	args := []string{"list", "-e", "-deps", "-tags", "lambda.norpc",
		"-json=ImportPath,Dir,Standard,Module,GoFiles,SFiles,HFiles,SysoFiles,EmbedFiles,Deps,Error"}
	for _, dir := range dirs {
		args = append(args, "./"+dir)
	}
	list := exec.CommandContext(ctx, "go", args...)
	list.Dir = repoRoot
	list.Env = t.env()
	var stderr bytes.Buffer
	list.Stderr = &stderr
	out, err := list.Output()
	if err != nil {
		return nil, fmt.Errorf("lambdarun: build %s: go list: %w\n%s", strings.Join(dirs, ", "), err, stderr.Bytes())
	}
	pkgs := map[string]*listedPackage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("lambdarun: build cache: go list output: %w", err)
		}
		pkgs[p.ImportPath] = &p
	}

	fileHashes := map[string][]byte{} // by package, computed once for all functions
	pkgHash := func(p *listedPackage) ([]byte, error) {
		if h, ok := fileHashes[p.ImportPath]; ok {
			return h, nil
		}
		h := sha256.New()
		fmt.Fprintf(h, "package %s\n", p.ImportPath)
		if p.Error != nil {
			// go build will report it; the key must still change with it.
			fmt.Fprintf(h, "error %s\n", p.Error.Err)
		}
		switch {
		case p.Module != nil && !p.Module.Main && (p.Module.Replace == nil || p.Module.Replace.Version != ""):
			// A fixed module version: go.sum pins its contents.
			fmt.Fprintf(h, "module %s@%s\n", p.Module.Path, p.Module.Version)
			if r := p.Module.Replace; r != nil {
				fmt.Fprintf(h, "replaced by %s@%s\n", r.Path, r.Version)
			}
		default:
			files := slices.Concat(p.GoFiles, p.SFiles, p.HFiles, p.SysoFiles, p.EmbedFiles)
			slices.Sort(files)
			for _, f := range files {
				fmt.Fprintf(h, "file %s\n", f)
				if err := hashFile(h, filepath.Join(p.Dir, f)); err != nil {
					return nil, fmt.Errorf("lambdarun: build cache: %w", err)
				}
			}
		}
		sum := h.Sum(nil)
		fileHashes[p.ImportPath] = sum
		return sum, nil
	}

	keys := map[string]string{}
	for _, dir := range dirs {
		name := path.Base(dir)
		var main *listedPackage
		for _, p := range pkgs {
			if p.Module != nil && p.Module.Main && strings.HasSuffix(p.ImportPath, "/"+dir) {
				main = p
			}
		}
		if p := pkgs["./"+dir]; main == nil && p != nil && p.Error != nil {
			return nil, fmt.Errorf("lambdarun: build %s: %s", name, p.Error.Err)
		}
		if main == nil {
			return nil, fmt.Errorf("lambdarun: build %s: go list gave no package %s", name, dir)
		}
		h := sha256.New()
		h.Write(common.Sum(nil))
		for _, imp := range append([]string{main.ImportPath}, main.Deps...) {
			p, ok := pkgs[imp]
			if !ok {
				return nil, fmt.Errorf("lambdarun: build %s: go list gave no package %s", name, imp)
			}
			if p.Standard {
				continue // the toolchain version covers it
			}
			sum, err := pkgHash(p)
			if err != nil {
				return nil, err
			}
			h.Write(sum)
		}
		keys[dir] = hex.EncodeToString(h.Sum(nil))[:20]
	}
	return keys, nil
}

func hashFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// missing lists, sorted, the folders whose binary is not in the cache.
func missing(bins map[string]string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(bins)) {
		if _, err := os.Stat(bins[name]); err != nil {
			out = append(out, name)
		}
	}
	return out
}

// touch marks cache entries used, so that prune keeps them.
func touch(bins map[string]string) {
	now := time.Now()
	for _, bin := range bins {
		os.Chtimes(bin, now, now) //nolint:errcheck // only prune's clock.
	}
}

// lockFile takes an exclusive lock on path, waiting for another process
// that holds it (the kernel releases the lock if that process dies) until
// ctx ends.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: build cache lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it too.
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lambdarun: build cache lock: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lambdarun: waiting for another build: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// prune removes a function's cache entries for older sources once they
// have gone unused for a day, so that editing does not fill the disk while
// a test run still using one keeps it.
func prune(cacheDir, prefix, keep string) {
	entries, _ := os.ReadDir(cacheDir)
	for _, e := range entries {
		dir := filepath.Join(cacheDir, e.Name())
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) || dir == filepath.Dir(keep) {
			continue
		}
		if info, err := os.Stat(filepath.Join(dir, "bootstrap")); err == nil && time.Since(info.ModTime()) > 24*time.Hour {
			os.RemoveAll(dir)
		}
	}
}

// place makes dst the file src: a hard link when both are on one file
// system, else a copy, written beside dst and renamed into place.
func place(src, dst string) error {
	tmp := dst + ".tmp"
	os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		if err := copyFile(src, tmp); err != nil {
			return err
		}
	}
	return os.Rename(tmp, dst)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
