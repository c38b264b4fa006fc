package cli_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/sandbox"
)

// haveSandbox reports whether bubblewrap is installed, so in-process
// servers and workers run jobs sandboxed, as in production; elsewhere
// they run them unsandboxed (serverSandboxArgs).
func haveSandbox() bool {
	_, err := exec.LookPath("bwrap")
	return err == nil
}

// serverSandboxArgs are the arguments an in-process `dlthub server` needs
// to start a worker here: none where the sandbox works.
func serverSandboxArgs() []string {
	if haveSandbox() {
		return nil
	}
	return []string{"--unsafe-no-sandbox"}
}

// testSandbox is the sandbox of in-process workers: nil without bwrap.
func testSandbox(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	if !haveSandbox() {
		return nil
	}
	sb, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Probe(context.Background(), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	return sb
}

// A worker refuses to start where the sandbox does not work, says why and
// what to do; --unsafe-no-sandbox starts it anyway, with a warning.
func TestServerWorkerNeedsTheSandbox(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// No bubblewrap: the sandbox is unavailable.
	code, _, errOut := runInProcess(t, dir, nil, false, "", "server", "--data-dir", dir, "--roles", "worker", "--bwrap", "/nonexistent/bwrap")
	if code == 0 || !strings.Contains(errOut, "apt-get install bubblewrap") || !strings.Contains(errOut, "--unsafe-no-sandbox") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if code, _, errOut := runInProcess(t, dir, nil, false, "", "server", "--data-dir", dir, "--roles", "worker", "--sandbox-uid", "0"); code == 0 || !strings.Contains(errOut, "--sandbox-uid 0") {
		t.Errorf("uid 0: exit %d: %s", code, errOut)
	}
}
