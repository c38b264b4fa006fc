package jobs

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/config"
)

// FuzzParseManifest holds for any dlthub.toml: Parse returns a manifest or
// an error that names the file (a *config.FileError for bad TOML, a
// *ValidationError listing problems); a manifest it returns expands the same
// way twice, every expanded job reads back (through JSON, as the control
// plane stores it) into a job that expands to the same triggers and
// command, and its next fire time is after now.
func FuzzParseManifest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.toml"))
	invalid, _ := filepath.Glob(filepath.Join("testdata", "invalid", "*.toml"))
	for _, p := range append(files, invalid...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("[jobs.a.b]\ncommand = [\"x\"]\nexecute = { retries = 2 }\n\n[jobs.a.c]\ncommand = [\"x\"]\n"))
	f.Add([]byte("[jobs.a.b]\npipeline = \"x\"\ntrigger = [\"once:2030-01-01T00:00:00Z\", \"deployment:\"]\ninterval = { start = 2024-01-01, end = 2025-01-01 }\n"))
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		const display = "dlthub.toml"
		m, err := Parse(b, display)
		if err != nil {
			var fe *config.FileError
			var ve *ValidationError
			switch {
			case errors.As(err, &fe):
				if fe.Path != display {
					t.Fatalf("TOML error names %q: %v", fe.Path, err)
				}
			case errors.As(err, &ve):
				if ve.Path != display || len(ve.Problems) == 0 || !strings.HasPrefix(err.Error(), display) {
					t.Fatalf("validation error without file or problems: %v", err)
				}
			default:
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		e1, e2 := m.Expand(), m.Expand()
		j1, _ := json.Marshal(e1)
		j2, _ := json.Marshal(e2)
		if string(j1) != string(j2) {
			t.Fatalf("expands differently twice:\n%s\n%s", j1, j2)
		}
		for i, x := range e1.Jobs {
			spec, err := json.Marshal(x)
			if err != nil {
				t.Fatal(err)
			}
			j, err := FromSpec(string(spec))
			if err != nil {
				t.Fatalf("%s does not read back: %v\n%s", x.JobRef, err, spec)
			}
			again := (&Manifest{Jobs: []*Job{j}}).Expand().Jobs[0]
			a, _ := json.Marshal(again.Triggers)
			w, _ := json.Marshal(x.Triggers)
			if string(a) != string(w) || strings.Join(again.Command, "\x00") != strings.Join(x.Command, "\x00") {
				t.Fatalf("%s reads back as triggers %s command %q, want %s %q", x.JobRef, a, again.Command, w, x.Command)
			}
			if next, ok := m.Jobs[i].NextFire(now, now); ok && !next.After(now) {
				t.Fatalf("%s fires next at %s, not after %s", x.JobRef, next, now)
			}
		}
	})
}
