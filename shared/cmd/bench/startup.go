package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"lakestream/shared/lambdarun"
)

// minimalDir is the minimal aws-lambda-go function the functions' init
// and size are compared with.
const minimalDir = "shared/cmd/bench/testdata/minimal"

// minimalName names it in the tables.
const minimalName = "minimal aws-lambda-go function"

// startup is the init and the size of one bootstrap.
type startup struct {
	Function string // folder under functions/, or minimalName
	CallsAWS bool   // the template grants it AWS actions
	Inits    []time.Duration
	Err      error
	Size     int64 // bytes of its linux/arm64 bootstrap; 0 when unknown
	SizeErr  error
}

// measureInits starts each function's bootstrap (and the minimal
// function's, bin) rounds times, interleaved, each time with its template
// environment under a fresh local Runtime API, and records the time from
// the process's start to its first GET /next: its init. No event is sent.
//
// Only the child's start is timed, so nothing of the bench process may run
// on the core beside it: each function's Options (its binary, template
// environment and timeout) are resolved once, not per start (parsing
// template.yaml allocates), and a collection runs before each start.
// Without the collection, the collector of this process, whose heap holds
// every batch and result, ran on the pinned core during whichever child's
// start its allocations happened to trigger, and the repo functions paid
// it while the minimal one, started with less allocation, did not (their
// init read about 3 times the minimal function's; about 1.5 times started
// alone).
func measureInits(ctx context.Context, starts []*startup, minimalBin string, rounds int, place placement, progress io.Writer) {
	opts := make([]lambdarun.Options, len(starts))
	for i, s := range starts {
		if s.Function == minimalName {
			opts[i] = lambdarun.Options{Binary: minimalBin}
			continue
		}
		opts[i], s.Err = lambdarun.RepoFunctionOptions(s.Function, lambdarun.Options{})
	}
	for round := range rounds {
		for i, s := range starts {
			if s.Err != nil {
				continue
			}
			runtime.GC()
			var f *lambdarun.Function
			err := place.start(func() (err error) { f, err = lambdarun.Start(opts[i]); return err })
			if err != nil {
				s.Err = err
				continue
			}
			d, err := f.Init(ctx)
			f.Stop()
			if err != nil {
				s.Err = err
				continue
			}
			s.Inits = append(s.Inits, d)
		}
		fmt.Fprintf(progress, "init round %d/%d\n", round+1, rounds)
	}
}

// measureSizes reads each function's linux/arm64 bootstrap in arm64Dir
// (`make build` writes <dir>/<function>/bootstrap) and builds the minimal
// function for linux/arm64 with the same flags into outDir to size it.
func measureSizes(ctx context.Context, root string, starts []*startup, arm64Dir, outDir string) {
	for _, s := range starts {
		bin := filepath.Join(arm64Dir, s.Function, "bootstrap")
		if s.Function == minimalName {
			bin = filepath.Join(outDir, "arm64", "minimal", "bootstrap")
			if err := buildArm64(ctx, root, minimalDir, bin); err != nil {
				s.SizeErr = err
				continue
			}
		}
		info, err := os.Stat(bin)
		if errors.Is(err, fs.ErrNotExist) {
			s.SizeErr = errors.New("not built: run make build")
			continue
		}
		if err != nil {
			s.SizeErr = err
			continue
		}
		s.Size = info.Size()
	}
}

// buildArm64 builds the main package in dir as make build builds a
// bootstrap: linux/arm64, no cgo, lambdarun.BuildFlags.
func buildArm64(ctx context.Context, root, dir, out string) error {
	args := append([]string{"build"}, lambdarun.BuildFlags...)
	args = append(args, "-o", out, "./"+dir)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s for linux/arm64: %w\n%s", dir, err, out)
	}
	return nil
}
