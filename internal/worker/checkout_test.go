package worker

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Issue 11: a run's secrets files stay when its checkout cannot be removed
// (the job, as the server's user, made directories read-only). The secrets
// go regardless, and so does the rest. Run as an unprivileged user (root
// removes read-only directories anyway).
func TestRemoveCheckoutOfReadOnlyDirs(t *testing.T) {
	if dir := os.Getenv("WORKER_TEST_REMOVE"); dir != "" {
		if err := removeCheckout(dir); err != nil {
			t.Errorf("remove: %v", err)
		}
		return
	}
	const uid = 65534
	parent, err := os.MkdirTemp("", "checkout-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("chmod", "-R", "u+rwx", parent).Run(); _ = os.RemoveAll(parent) })
	_ = os.Chmod(parent, 0o755)
	dir := filepath.Join(parent, checkoutPrefix+"1-x")
	for _, d := range []string{".dlt", "pkg/deep"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secrets := filepath.Join(dir, ".dlt", "prod.secrets.toml")
	for _, f := range []string{secrets, filepath.Join(dir, "pkg", "deep", "x.py")} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// What the job did: the config folder and a package read-only.
	for _, d := range []string{filepath.Join(dir, ".dlt"), filepath.Join(dir, "pkg", "deep"), filepath.Join(dir, "pkg")} {
		_ = os.Chmod(d, 0o500)
	}
	// The test binary, where the job's user may run it.
	self, _ := os.Executable()
	bin := filepath.Join(parent, "worker.test")
	if b, err := os.ReadFile(self); err != nil || os.WriteFile(bin, b, 0o755) != nil {
		t.Skip("copy the test binary:", err)
	}
	cmd := exec.Command(bin, "-test.run=^TestRemoveCheckoutOfReadOnlyDirs$")
	cmd.Env = append(os.Environ(), "WORKER_TEST_REMOVE="+dir)
	if os.Getuid() == 0 {
		if err := exec.Command("chown", "-R", strconv.Itoa(uid)+":"+strconv.Itoa(uid), parent).Run(); err != nil {
			t.Skip("chown:", err)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("as the job's user: %v\n%s", err, out)
	}
	if _, err := os.Lstat(secrets); !os.IsNotExist(err) {
		t.Errorf("the secrets file is still there: %v", err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("the checkout is still there: %v", err)
	}
}
