package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/cli"
)

// loggedIn starts a control plane, makes dir a workspace and logs in through
// the device flow, approving in the browser pages.
func loggedIn(t *testing.T) (dir string, env map[string]string) {
	t.Helper()
	base := controlPlane(t)
	dir = t.TempDir()
	env = map[string]string{"RUNTIME__API_BASE_URL": base}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "init"); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	stderr, wait := startCLI(t, dir, env, "login")
	decide(t, base, waitForCode(t, stderr), "approve")
	if code := wait(); code != 0 {
		t.Fatalf("login: %s", stderr.String())
	}
	return dir, env
}

func TestWorkspaceConnectListInfo(t *testing.T) {
	t.Parallel()
	dir, env := loggedIn(t)
	cfgPath := filepath.Join(dir, ".dlt", "config.toml")
	before, _ := os.ReadFile(cfgPath)

	// Off a terminal, connect without a name lists the choices.
	code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "connect")
	if code == 0 || !strings.Contains(errOut, "acme (") || !strings.Contains(errOut, "playground") {
		t.Errorf("non-TTY connect: %d %s", code, errOut)
	}
	code, _, errOut = runInProcess(t, dir, env, false, "", "workspace", "connect", "analytics")
	if code == 0 || !strings.Contains(errOut, "add --create") {
		t.Errorf("missing workspace: %d %s", code, errOut)
	}
	code, _, errOut = runInProcess(t, dir, env, false, "", "workspace", "connect", "analytics", "--create")
	if code != 0 || !strings.Contains(errOut, "Connected id:") || !strings.Contains(errOut, "acme/analytics") {
		t.Fatalf("connect --create: %d %s", code, errOut)
	}
	after, _ := os.ReadFile(cfgPath)
	if regexp.MustCompile(`(?m)^(repository|workspace|organization)_id = .*\n`).ReplaceAllString(string(after), "") != string(before) {
		t.Errorf("config.toml lost content:\n%s", after)
	}
	for _, k := range []string{"workspace_id", "organization_id", "repository_id"} {
		if !regexp.MustCompile(`(?m)^` + k + ` = "[0-9a-f]{32}"$`).Match(after) {
			t.Errorf("config.toml has no %s:\n%s", k, after)
		}
	}

	code, out, _ := runInProcess(t, dir, env, false, "", "workspace", "list", "--json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 2 {
		t.Fatalf("list --json: %d %v %s", code, err, out)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "workspace", "list")
	if code != 0 || !regexp.MustCompile(`(?s)acme \(.*\n  analytics .* owner  ← id:[0-9a-f]+\n  playground`).MatchString(out) {
		t.Errorf("list:\n%s", out)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "workspace", "info")
	if code != 0 || !strings.Contains(out, "analytics") || !strings.Contains(out, "owner") {
		t.Errorf("info: %d %s", code, out)
	}

	// The picker on a terminal: choose playground; the repository moves.
	code, _, errOut = runInProcess(t, dir, env, true, "9\n2\n", "workspace", "connect")
	if code != 0 || !strings.Contains(errOut, "Type a number from 1 to 3") || !strings.Contains(errOut, "acme/playground") ||
		!strings.Contains(errOut, "was bound to workspace") {
		t.Errorf("picker: %d %s", code, errOut)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "workspace", "info", "--json")
	if code != 0 || !strings.Contains(out, `"name": "playground"`) {
		t.Errorf("info after picking: %s", out)
	}

	// organization_id is write-once.
	code, _, errOut = runInProcess(t, dir, env, false, "", "workspace", "connect", "analytics", "--org-id", "0000")
	if code == 0 || !strings.Contains(errOut, "remove the organization_id line") {
		t.Errorf("org lock: %d %s", code, errOut)
	}
}

func TestWorkspaceCommandsNeedLogin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"RUNTIME__API_BASE_URL": "http://127.0.0.1:1"}
	runInProcess(t, dir, env, false, "", "init")
	code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "list")
	if code != cli.ExitAuth || !strings.Contains(errOut, "run `dlthub login`") {
		t.Errorf("list: %d %s", code, errOut)
	}
	// A rejected token is an authentication error too, naming its origin.
	env["RUNTIME__API_KEY"] = "dlt_bogus"
	env["RUNTIME__API_BASE_URL"] = controlPlane(t)
	code, _, errOut = runInProcess(t, dir, env, false, "", "workspace", "list")
	if code != cli.ExitAuth || !strings.Contains(errOut, "RUNTIME__API_KEY") {
		t.Errorf("bogus key: %d %s", code, errOut)
	}
	code, _, errOut = runInProcess(t, dir, env, false, "", "workspace", "info")
	if code == 0 || !strings.Contains(errOut, "not connected") {
		t.Errorf("info: %d %s", code, errOut)
	}
}
