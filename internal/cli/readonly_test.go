package cli_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadOnlyWorkspace runs the real binary against a workspace it may not
// write to. Every writing command must fail with a clear message and leave
// every file as it was. Root ignores file permissions, so when the tests run
// as root the binary is started as the unprivileged user nobody.
func TestReadOnlyWorkspace(t *testing.T) {
	root, err := os.MkdirTemp("", "dlthub-readonly-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
		_ = os.RemoveAll(root)
	})
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "dlthub")
	copyExecutable(t, bin)

	ws := filepath.Join(root, "ws")
	empty := filepath.Join(root, "empty")
	for _, d := range []string{ws, empty, filepath.Join(ws, ".dlt", "data", "dev")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, stderr := runInProcess(t, ws, nil, false, "", "init"); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	before := snapshot(t, root)
	// Make everything read-only (directories 0555, files 0444).
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == bin {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o555)
		}
		return os.Chmod(p, 0o444)
	})

	cases := []struct {
		dir  string
		args []string
	}{
		{ws, []string{"config", "set", "runtime.log_level", "INFO"}},
		{ws, []string{"config", "set", "--secret", "sources.github.token", "t"}},
		{ws, []string{"profile", "use", "prod"}},
		{ws, []string{"local", "clean", "-y"}},
		{empty, []string{"init"}},
	}
	for _, tc := range cases {
		cmd := exec.Command(bin, tc.args...)
		cmd.Dir = tc.dir
		cmd.Env = []string{"HOME=" + filepath.Join(root, "home"), "PATH=/usr/bin:/bin"}
		if os.Geteuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("%v: err = %v, want exit code 1; output:\n%s", tc.args, err, out)
			continue
		}
		msg := string(out)
		if !strings.Contains(msg, "permission denied") || !strings.Contains(msg, "read-only") {
			t.Errorf("%v: unclear error:\n%s", tc.args, msg)
		}
		if strings.Contains(msg, "goroutine") {
			t.Errorf("%v: stack trace:\n%s", tc.args, msg)
		}
	}
	after := snapshot(t, root)
	for p, c := range before {
		if after[p] != c {
			t.Errorf("%s changed", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s was created", p)
		}
	}
}

func copyExecutable(t *testing.T, dst string) {
	t.Helper()
	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if filepath.Base(p) == "dlthub" && !d.IsDir() {
			return nil
		}
		if d.IsDir() {
			m[p] = "dir"
			return nil
		}
		b, err := os.ReadFile(p)
		m[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
