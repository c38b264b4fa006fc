package pipeline

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// The crash tests re-run this test binary as a child that runs a pipeline
// and SIGKILLs itself at one point; the parent then runs the pipeline again
// and checks the row counts.
const crashEnv = "DLTHUB_CRASH_AT"

func TestMain(m *testing.M) {
	if at := os.Getenv(crashEnv); at != "" {
		crashChild(at, os.Getenv("DLTHUB_CRASH_DIR"))
		fmt.Fprintln(os.Stderr, "crash point not reached:", at)
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func numbered(name string, from, n int) *Resource {
	return &Resource{Name: name, Records: func(context.Context, *ResourceContext) iter.Seq2[any, error] {
		return func(yield func(any, error) bool) {
			for i := from; i < from+n; i++ {
				if !yield(map[string]any{"id": int64(i), "tags": []any{"a", fmt.Sprint(i)}}, nil) {
					return
				}
			}
		}
	}}
}

func crashOptions(dir string) Options {
	// Files of 100 rows: the first ones are loaded into the open load
	// transaction while the rest is normalized, and must vanish with it.
	return Options{Name: "crash", PipelinesDir: filepath.Join(dir, "pipelines"), LocalDir: filepath.Join(dir, "data"), FileMaxRows: 100}
}

func kill() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }

func crashChild(at, dir string) {
	o := crashOptions(dir)
	h := &Hooks{}
	switch at {
	case "mid_extract":
		h.ExtractRecord = func(n int64) {
			if n == 500 {
				kill()
			}
		}
	case "after_extract":
		h.AfterExtract = func(string) { kill() }
	case "mid_normalize":
		h.NormalizeRecord = func(n int64) {
			if n == 500 {
				kill()
			}
		}
	case "after_early_load":
		// Some files are in the open load transaction: SIGKILL while
		// they are, and the next run must load the package once.
		h.EarlyLoad = func(string, string) { kill() }
	case "mid_load":
		h.BeforeLoadCommit = func(string) { kill() }
	case "after_load_commit":
		h.AfterLoadCommit = func(string) { kill() }
	}
	o.Hooks = h
	p, err := New(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, err := p.Run(context.Background(), numbered("items", 0, 1000)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}

func TestCrashSafety(t *testing.T) {
	cases := []struct {
		at string
		// want rows in items after the next run, which loads 300 new ones.
		want int64
	}{
		{"mid_extract", 300},        // the unfinished extract is discarded
		{"after_extract", 1300},     // the extracted package is normalized and loaded
		{"mid_normalize", 1300},     // normalization starts over
		{"after_early_load", 1300},  // the early load rolled back; normalized and loaded again
		{"mid_load", 1300},          // the transaction rolled back; the load is redone
		{"after_load_commit", 1300}, // loaded once, not twice
	}
	for _, tc := range cases {
		t.Run(tc.at, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashEnv+"="+tc.at, "DLTHUB_CRASH_DIR="+dir)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child was not killed at %s: %v\n%s", tc.at, err, out)
			}
			p, err := New(crashOptions(dir))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Run(context.Background(), numbered("items", 1000, 300)); err != nil {
				t.Fatal(err)
			}
			db := openDB(t, p)
			if n := count(t, db, `SELECT count(*) FROM crash_dataset.items`); n != tc.want {
				t.Errorf("items = %d, want %d", n, tc.want)
			}
			if n := count(t, db, `SELECT count(DISTINCT id) FROM crash_dataset.items`); n != tc.want {
				t.Errorf("distinct ids = %d, want %d", n, tc.want)
			}
			if n := count(t, db, `SELECT count(*) FROM crash_dataset.items__tags`); n != 2*tc.want {
				t.Errorf("tags = %d, want %d", n, 2*tc.want)
			}
			for _, stage := range []string{"normalize/new", "normalize/extracted", "load/new", "load/normalized"} {
				entries, _ := os.ReadDir(filepath.Join(p.WorkDir(), stage))
				if len(entries) != 0 {
					t.Errorf("%s not empty after the run: %v", stage, entries)
				}
			}
		})
	}
}
