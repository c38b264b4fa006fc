package worker

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/store"
)

func TestLogSinkMasksSplitsAndBounds(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	u, _ := st.CreateUser(ctx, store.User{Email: "a@x"})
	org, _ := st.CreateOrg(ctx, "o", u.ID)
	ws, _ := st.CreateWorkspace(ctx, org.ID, "w")
	r, _ := st.CreateRun(ctx, store.Run{WorkspaceID: ws.ID, JobRef: "jobs.a.b", Trigger: "manual:jobs.a.b", Profile: "prod", DeploymentVersion: 1, CreatedBy: u.ID})
	s := newLogSink(st, r.ID, []string{"hunter22"}, time.Now, slog.New(slog.DiscardHandler))
	out, errw := s.stream("stdout"), s.stream("stderr")
	_, _ = out.Write([]byte("pass=hunter22\npart"))
	_, _ = errw.Write([]byte("err line\n"))
	_, _ = out.Write([]byte("ial line\n" + strings.Repeat("x", maxLineLen+10) + "\n"))
	// Past the bound, lines are counted, not kept.
	big := strings.Repeat("y", 60<<10) + "\n"
	for range (maxLogBytes / len(big)) + 10 {
		_, _ = out.Write([]byte(big))
	}
	s.close()
	ls, err := st.RunLogs(ctx, r.ID, 0, 5)
	if err != nil || len(ls) != 5 {
		t.Fatalf("%d lines %v", len(ls), err)
	}
	if ls[0].Line != "pass=****" || ls[1].Stream != "stderr" || ls[2].Line != "partial line" || !strings.HasSuffix(ls[3].Line, "(line cut at 64 KiB)") {
		t.Errorf("lines: %q %q %q", ls[0].Line, ls[1].Stream, ls[2].Line)
	}
	all, _ := st.RunLogs(ctx, r.ID, 0, 0)
	last := all[len(all)-1]
	var total int
	for _, l := range all {
		total += len(l.Line)
	}
	if total > maxLogBytes+maxLineLen+200 || !strings.Contains(last.Line, "more line(s) were not kept") || !strings.Contains(all[len(all)-2].Line, "later output is not kept") {
		t.Errorf("bound: %d bytes kept, last %q", total, last.Line)
	}
}

// Secrets files are masked whatever the TOML type: strings, integers and
// floats as a job prints them, and each line of a multi-line value; short
// values (under minMask characters) are not, they would mask ordinary
// words and numbers.
func TestSecretValuesCoverNumbersAndLines(t *testing.T) {
	got := secretValues("port = 5432\nsmall = 42\nratio = 2.5\nbig = 31415.0\nexp = 1e21\nok = true\n" +
		"[db]\nkeys = [\"abcd\", 12345]\npem = \"\"\"\nline-one-xyz\n  ab\nline-two-xyz\n\"\"\"\n")
	want := map[string]bool{"5432": true, "31415": true, "31415.0": true, "1000000000000000000000": true, "1000000000000000000000.0": true, "1e+21": true,
		"abcd": true, "12345": true, "line-one-xyz\n  ab\nline-two-xyz\n": true, "line-one-xyz": true, "line-two-xyz": true}
	seen := map[string]bool{}
	for i, v := range got {
		seen[v] = true
		if !want[v] {
			t.Errorf("unexpected mask %q", v)
		}
		if i > 0 && len(v) > len(got[i-1]) {
			t.Errorf("not longest first: %q after %q", v, got[i-1])
		}
	}
	for v := range want {
		if !seen[v] {
			t.Errorf("%q is not masked (got %q)", v, got)
		}
	}
	if m := maskValues("one-line\r\nsecond\r\n"); len(m) != 3 || m[1] != "one-line" || m[2] != "second" {
		t.Errorf("CRLF lines: %q", m)
	}
}

// After a run the worker reads a Go pipeline's trace from the checkout
// the job wrote: only when it is plain files inside the checkout, never
// through a symlink (to /dev/zero, the data dir) or from a FIFO.
func TestPlainTree(t *testing.T) {
	root := t.TempDir()
	pipe := filepath.Join(root, "_data", "pipelines", "gh")
	if err := os.MkdirAll(pipe, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(pipe, "trace.json"), []byte("{}"), 0o644)
	if !plainTree(root, pipe) {
		t.Error("a plain pipeline dir is refused")
	}
	if plainTree(root, filepath.Join(root, "_data", "pipelines", "none")) || plainTree(root, filepath.Dir(root)) {
		t.Error("a missing dir or one outside the checkout is accepted")
	}
	_ = os.Symlink("/dev/zero", filepath.Join(pipe, "state.json"))
	if plainTree(root, pipe) {
		t.Error("a symlink inside is accepted")
	}
	_ = os.Remove(filepath.Join(pipe, "state.json"))
	if err := syscall.Mkfifo(filepath.Join(pipe, "state.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if plainTree(root, pipe) {
		t.Error("a FIFO inside is accepted")
	}
	_ = os.Remove(filepath.Join(pipe, "state.json"))
	other := t.TempDir()
	_ = os.MkdirAll(filepath.Join(other, "pipelines", "gh"), 0o755)
	_ = os.RemoveAll(filepath.Join(root, "_data"))
	_ = os.Symlink(other, filepath.Join(root, "_data"))
	if plainTree(root, pipe) {
		t.Error("a path through a symlink is accepted")
	}
}
