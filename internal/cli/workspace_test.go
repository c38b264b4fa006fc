package cli_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/cli"
	"github.com/dlthub/dlthub/internal/iostreams"
	"github.com/dlthub/dlthub/internal/workspace"
)

// loggedIn starts a control plane, makes dir a workspace and logs in through
// the device flow, approving in the browser pages.
func loggedIn(t *testing.T) (dir string, env map[string]string) {
	t.Helper()
	dir, env, _, _ = loggedInWithBlobs(t)
	return dir, env
}

func loggedInWithBlobs(t *testing.T) (dir string, env map[string]string, blobDir string, log *syncBuffer) {
	t.Helper()
	base, blobDir, log := controlPlaneWithBlobs(t)
	dir, env = loggedInTo(t, base)
	return dir, env, blobDir, log
}

// loggedInTo makes a fresh workspace and logs it in to the control plane
// at base through the device flow.
func loggedInTo(t *testing.T, base string) (dir string, env map[string]string) {
	t.Helper()
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

// TestWorkspacePickerLeavesOutWorkspacesBoundElsewhere: a workspace that
// another repository is bound to is not offered (the server would answer
// 409); the picker and the listing say how many were left out and why, and
// naming one is refused before the server is asked.
func TestWorkspacePickerLeavesOutWorkspacesBoundElsewhere(t *testing.T) {
	t.Parallel()
	base := controlPlane(t)
	first, env1 := loggedInTo(t, base)
	if code, _, errOut := runInProcess(t, first, env1, false, "", "workspace", "connect", "playground"); code != 0 {
		t.Fatalf("connect the first repository: %s", errOut)
	}
	dir, env := loggedInTo(t, base)
	code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "connect")
	if code != cli.ExitUsage || strings.Contains(errOut, "  playground") ||
		!regexp.MustCompile(`Left out 1 workspace bound to another repository \(a workspace holds one repository\): acme/playground ← id:[0-9a-f]{32}`).MatchString(errOut) {
		t.Errorf("non-TTY listing: %d %s", code, errOut)
	}
	code, _, errOut = runInProcess(t, dir, env, false, "", "workspace", "connect", "playground")
	if code != 1 || !strings.Contains(errOut, "workspace acme/playground is bound to another repository (id:") ||
		!strings.Contains(errOut, "Connect this one to another workspace") {
		t.Errorf("named: %d %s", code, errOut)
	}
	code, _, errOut = runInProcess(t, dir, env, true, "1\nmine\n", "workspace", "connect")
	if code != 0 || strings.Contains(errOut, "playground (owner)") || !strings.Contains(errOut, "Left out 1 workspace bound to another repository") ||
		!strings.Contains(errOut, "1) create a new workspace") || !strings.Contains(errOut, "Connected id:") || !strings.Contains(errOut, "acme/mine") {
		t.Errorf("picker: %d %s", code, errOut)
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

// TestDeployWarnsAboutDataInTheCode: a deploy whose code holds a large
// file warns on stderr, off a terminal too, naming the largest files and
// .gitignore; it still deploys. Small code gets no warning.
func TestDeployWarnsAboutDataInTheCode(t *testing.T) {
	t.Parallel()
	dir, env := loggedIn(t)
	if code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "connect", "playground"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	writeFile(t, dir, "dlthub.toml", "[jobs.ingest.github]\ncommand = [\"true\"]\n")
	writeFile(t, dir, ".gitignore", "*.log\nhome/\n") // this test's HOME is inside the workspace
	if code, _, errOut := runInProcess(t, dir, env, false, "", "deploy", "--dry-run"); code != 0 || strings.Contains(errOut, "Warning") {
		t.Errorf("small code: %d %s", code, errOut)
	}
	writeFile(t, dir, "data/events.jsonl", strings.Repeat("x", 6<<20))
	writeFile(t, dir, "ignored.log", strings.Repeat("x", 6<<20))
	code, _, errOut := runInProcess(t, dir, env, false, "", "deploy")
	if code != 0 || !strings.Contains(errOut, "Warning: the code to deploy is 6.0 MiB in 3 files") ||
		!regexp.MustCompile(`\n +6\.0 MiB  data/events\.jsonl\n +\d+ B  dlthub\.toml\n +\d+ B  \.gitignore\n`).MatchString(errOut) ||
		!strings.Contains(errOut, "add such files to .gitignore") || strings.Contains(errOut, "ignored.log") || !strings.Contains(errOut, "Deployed to") {
		t.Errorf("large code: %d %s", code, errOut)
	}
}

func TestDeployCode(t *testing.T) {
	t.Parallel()
	dir, env, blobDir, serverLog := loggedInWithBlobs(t)
	writeFile(t, dir, "dlthub.toml", "[jobs.ingest.github]\ncommand = [\"true\"]\n")
	// Not connected yet: the error says what to run.
	code, _, errOut := runInProcess(t, dir, env, false, "", "deploy")
	if code == 0 || !strings.Contains(errOut, "dlthub workspace connect") {
		t.Errorf("unconnected deploy: %d %s", code, errOut)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "connect", "playground"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	secret := "pw-" + strings.Repeat("7", 20)
	writeFile(t, dir, ".dlt/secrets.toml", "[destination.warehouse.credentials]\npassword = \""+secret+"\"\n")
	writeFile(t, dir, "transform.py", "print(1)\n")
	writeFile(t, dir, ".gitignore", "*.duckdb\n")
	writeFile(t, dir, "local.duckdb", "big local data")

	code, _, errOut = runInProcess(t, dir, env, false, "", "deploy", "--dry-run")
	if code != 0 || !strings.Contains(errOut, "would deploy a new version") {
		t.Errorf("dry run: %d %s", code, errOut)
	}
	code, _, errOut = runInProcess(t, dir, env, false, "", "deploy")
	if code != 0 || !regexp.MustCompile(`code\s+new\s+version 1 \(\d+ files`).MatchString(errOut) ||
		!regexp.MustCompile(`configuration\s+new\s+version 1 \(2 files\)`).MatchString(errOut) {
		t.Fatalf("first deploy: %d %s", code, errOut)
	}
	code, _, errOut = runInProcess(t, dir, env, false, "", "deploy")
	if code != 0 || !strings.Contains(errOut, "unchanged  version 1") || !strings.Contains(errOut, "Nothing to deploy") {
		t.Errorf("second deploy: %d %s", code, errOut)
	}
	// Ignored files and configuration do not make a new version; code does.
	writeFile(t, dir, "local.duckdb", "more local data")
	writeFile(t, dir, ".dlt/config.toml.bak", "x")
	if code, _, errOut = runInProcess(t, dir, env, false, "", "deploy"); code != 0 || !strings.Contains(errOut, "unchanged") {
		t.Errorf("ignored change deployed: %s", errOut)
	}
	writeFile(t, dir, "transform.py", "print(2)\n")
	if code, _, errOut = runInProcess(t, dir, env, false, "", "deploy"); code != 0 || !strings.Contains(errOut, "version 2") {
		t.Errorf("changed code: %d %s", code, errOut)
	}
	// --dry-run -v lists the files a deploy would change.
	writeFile(t, dir, "new.py", "x\n")
	writeFile(t, dir, "transform.py", "print(9)\n")
	code, _, errOut = runInProcess(t, dir, env, false, "", "deploy", "--dry-run", "-v")
	if code != 0 || !strings.Contains(errOut, "      + new.py\n") || !strings.Contains(errOut, "      ~ transform.py\n") || strings.Contains(errOut, "dlthub.toml\n") {
		t.Errorf("dry run -v: %d %s", code, errOut)
	}
	_ = os.Remove(filepath.Join(dir, "new.py"))
	writeFile(t, dir, "transform.py", "print(2)\n")
	// A configuration file that is not TOML stops the deploy before anything is sent.
	writeFile(t, dir, ".dlt/prod.secrets.toml", "[broken\n")
	writeFile(t, dir, "transform.py", "print(22)\n")
	if code, _, errOut = runInProcess(t, dir, env, false, "", "deploy"); code == 0 || !strings.Contains(errOut, "prod.secrets.toml:1") || strings.Contains(errOut, "version 3") {
		t.Errorf("broken config: %d %s", code, errOut)
	}
	writeFile(t, dir, ".dlt/prod.secrets.toml", "[sources]\ntoken = \""+secret+"\"\n")
	writeFile(t, dir, ".dlt/dev.secrets.toml", "local = 1\n")
	writeFile(t, dir, "transform.py", "print(2)\n")
	code, _, errOut = runInProcess(t, dir, env, false, "", "deploy")
	if code != 0 || !regexp.MustCompile(`code\s+unchanged\s+version 2`).MatchString(errOut) || !regexp.MustCompile(`configuration\s+new\s+version 2 \(3 files\)`).MatchString(errOut) {
		t.Errorf("config change: %d %s", code, errOut)
	}
	// A manifest that fails validation deploys nothing.
	writeFile(t, dir, "dlthub.toml", "[jobs.ingest.github]\ncomand = [\"true\"]\n")
	writeFile(t, dir, "transform.py", "print(3)\n")
	if code, _, errOut = runInProcess(t, dir, env, false, "", "deploy"); code == 0 || !strings.Contains(errOut, "not valid") {
		t.Errorf("invalid manifest: %d %s", code, errOut)
	}
	// The deployment commands see both versions.
	code, out, _ := runInProcess(t, dir, env, false, "", "workspace", "deployment", "list", "--json")
	var deps []map[string]any
	if err := json.Unmarshal([]byte(out), &deps); code != 0 || err != nil || len(deps) != 2 || deps[0]["version"] != float64(2) {
		t.Errorf("deployment list: %d %v %s", code, err, out)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "workspace", "deployment", "list")
	if code != 0 || !regexp.MustCompile(`(?m)^2 .* active$`).MatchString(out) {
		t.Errorf("deployment list:\n%s", out)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "workspace", "deployment", "info", "1")
	if code != 0 || !strings.Contains(out, "active        false") {
		t.Errorf("deployment info 1:\n%s", out)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "deployment", "info", "7"); code == 0 || !strings.Contains(errOut, "from 1 to 2") {
		t.Errorf("deployment info 7: %d %s", code, errOut)
	}
	// sync uploads code without the manifest check (print(3) is new code).
	code, _, errOut = runInProcess(t, dir, env, false, "", "workspace", "deployment", "sync", "--dry-run")
	if code != 0 || !strings.Contains(errOut, "would deploy") {
		t.Errorf("sync --dry-run: %d %s", code, errOut)
	}
	if code, _, errOut = runInProcess(t, dir, env, false, "", "workspace", "deployment", "sync"); code != 0 || !strings.Contains(errOut, "version 3") {
		t.Errorf("sync: %d %s", code, errOut)
	}
	// --dry-run -v names the configuration keys that would change, never values.
	writeFile(t, dir, ".dlt/prod.secrets.toml", "[sources]\ntoken = \"other-"+secret+"\"\nextra = 1\n")
	code, _, errOut = runInProcess(t, dir, env, false, "", "workspace", "configuration", "sync", "--dry-run", "-v")
	if code != 0 || !strings.Contains(errOut, "prod.secrets.toml: changed") || !strings.Contains(errOut, "~ sources.token") ||
		!strings.Contains(errOut, "+ sources.extra") || !strings.Contains(errOut, "config.toml: unchanged") || strings.Contains(errOut, secret) {
		t.Errorf("configuration dry run -v: %d %s", code, errOut)
	}
	writeFile(t, dir, ".dlt/prod.secrets.toml", "[sources]\ntoken = \""+secret+"\"\n")
	// The configuration commands show names only.
	code, out, _ = runInProcess(t, dir, env, false, "", "workspace", "configuration", "list")
	if code != 0 || !regexp.MustCompile(`(?m)^2 .*config\.toml, prod\.secrets\.toml, secrets\.toml\s+active$`).MatchString(out) || strings.Contains(out, secret) {
		t.Errorf("configuration list:\n%s", out)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "workspace", "configuration", "info", "1", "--json")
	if code != 0 || !strings.Contains(out, `"active": false`) || strings.Contains(out, secret) {
		t.Errorf("configuration info 1: %s", out)
	}
	code, _, errOut = runInProcess(t, dir, env, false, "", "workspace", "configuration", "sync")
	if code != 0 || !regexp.MustCompile(`configuration\s+unchanged\s+version 2`).MatchString(errOut) || !strings.Contains(errOut, "Nothing to deploy") {
		t.Errorf("configuration sync: %d %s", code, errOut)
	}
	// The server's log has the requests but no secret and no token.
	logText := serverLog.String()
	tokenDoc, _ := os.ReadFile(filepath.Join(dir, "home", ".dlt", "secrets.toml"))
	token := regexp.MustCompile(`dlt_[0-9a-f]+`).FindString(string(tokenDoc))
	if !strings.Contains(logText, "/configurations") || strings.Contains(logText, secret) || token == "" || strings.Contains(logText, token) {
		t.Errorf("server log (token %q):\n%s", token, logText)
	}
	// The secret is nowhere in the blob store.
	_ = filepath.WalkDir(blobDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), secret) || strings.Contains(string(gunzip(b)), secret) {
			t.Errorf("%s holds the secret", p)
		}
		return nil
	})
}

func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func gunzip(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(zr)
	return out
}

func TestDeployJobsReconcileAndRebind(t *testing.T) {
	t.Parallel()
	dir, env := loggedIn(t)
	if code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "connect", "analytics", "--create"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	two := "[jobs.ingest.github]\ncommand = [\"true\"]\n\n[jobs.transform.daily]\ncommand = [\"true\"]\ntrigger = [\"job.success:jobs.ingest.github\"]\n"
	deploy := func(want ...string) string {
		t.Helper()
		code, _, errOut := runInProcess(t, dir, env, false, "", "deploy")
		if code != 0 {
			t.Fatalf("deploy: %d %s", code, errOut)
		}
		for _, w := range want {
			if !regexp.MustCompile(w).MatchString(errOut) {
				t.Errorf("deploy output lacks %q:\n%s", w, errOut)
			}
		}
		return errOut
	}
	writeFile(t, dir, "dlthub.toml", two)
	deploy(`job\s+added\s+jobs\.ingest\.github`, `job\s+added\s+jobs\.transform\.daily`)
	deploy(`job\s+unchanged\s+jobs\.ingest\.github`, `job\s+unchanged\s+jobs\.transform\.daily`, `Nothing to deploy`)
	// Change one job, then remove the other.
	writeFile(t, dir, "dlthub.toml", strings.Replace(two, `command = ["true"]`, `command = ["echo", "hi"]`, 1))
	deploy(`job\s+updated\s+jobs\.ingest\.github`, `job\s+unchanged\s+jobs\.transform\.daily`)
	writeFile(t, dir, "dlthub.toml", "[jobs.ingest.github]\ncommand = [\"echo\", \"hi\"]\n")
	code, _, errOut := runInProcess(t, dir, env, false, "", "deploy", "--dry-run")
	if code != 0 || !regexp.MustCompile(`job\s+would be archived\s+jobs\.transform\.daily`).MatchString(errOut) {
		t.Errorf("dry run: %d %s", code, errOut)
	}
	deploy(`job\s+unchanged\s+jobs\.ingest\.github`, `job\s+archived\s+jobs\.transform\.daily`)

	// job list shows what is deployed: active ones by default, archived
	// ones on request; job info one of them.
	code, out, errOut := runInProcess(t, dir, env, false, "", "job", "list")
	if code != 0 || !regexp.MustCompile(`(?m)^jobs\.ingest\.github\s+batch\s+manual:jobs\.ingest\.github\s+active\s+\d{4}-`).MatchString(out) || strings.Contains(out, "daily") {
		t.Errorf("job list: %d %s%s", code, out, errOut)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "job", "list", "--archived", "transform.*", "--json")
	if code != 0 || !strings.Contains(out, `"job_ref": "jobs.transform.daily"`) || !strings.Contains(out, `"active": false`) ||
		!strings.Contains(out, `"job.success:jobs.ingest.github"`) || strings.Contains(out, `"job_ref": "jobs.ingest.github"`) {
		t.Errorf("job list --archived --json: %d %s", code, out)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "job", "info", "github")
	for _, want := range []string{"job              jobs.ingest.github", "runs             echo hi", "status           active", "triggers         manual:jobs.ingest.github", "policy           one run at a time; new runs queue; no retries"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("job info lacks %q: %d\n%s", want, code, out)
		}
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "job", "info", "githb"); code != 1 || !strings.Contains(errOut, "did you mean jobs.ingest.github") {
		t.Errorf("job info typo: %d %s", code, errOut)
	}
	// The built-in dashboard is a job of the workspace like the others.
	if code, _, errOut := runInProcess(t, dir, env, false, "", "job", "info", "jobs.*"); code != 1 || !strings.Contains(errOut, "matches 3 jobs") || !strings.Contains(errOut, "jobs.workspace.dashboard") {
		t.Errorf("job info ambiguous: %d %s", code, errOut)
	}

	// Rebinding the repository deactivates its jobs in the old workspace.
	code, _, errOut = runInProcess(t, dir, env, false, "", "workspace", "connect", "playground")
	if code != 0 || !strings.Contains(errOut, "its 2 active jobs there are deactivated") {
		t.Errorf("rebind: %d %s", code, errOut)
	}
	deploy(`job\s+added\s+jobs\.ingest\.github`)
}

func TestDeployWalksThroughLoginAndConnectOnATerminal(t *testing.T) {
	t.Parallel()
	base := controlPlane(t)
	dir := t.TempDir()
	env := map[string]string{"RUNTIME__API_BASE_URL": base}
	runInProcess(t, dir, env, false, "", "init")
	writeFile(t, dir, "dlthub.toml", "[jobs.ingest.github]\ncommand = [\"true\"]\n")
	// Off a terminal: the exact command, exit 4.
	if code, _, errOut := runInProcess(t, dir, env, false, "", "deploy"); code != cli.ExitAuth || !strings.Contains(errOut, "run `dlthub login`") {
		t.Errorf("non-TTY: %d %s", code, errOut)
	}
	// On a terminal: yes to log in, yes to connect, pick the first workspace.
	stderr, wait := startCLIWith(t, dir, env, true, "y\ny\n1\n", "deploy")
	decide(t, base, waitForCode(t, stderr), "approve")
	if code := wait(); code != 0 {
		t.Fatalf("guided deploy: %d\n%s", code, stderr.String())
	}
	out := stderr.String()
	for _, want := range []string{"Log in now?", "Logged in", "Connect it now?", "Connected", "job            added", "Deployed to"} {
		if !strings.Contains(out, want) {
			t.Errorf("guided deploy lacks %q:\n%s", want, out)
		}
	}
}

func TestDeployWithWorkspaceAPIKeyInCI(t *testing.T) {
	t.Parallel()
	dir, env := loggedIn(t)
	if code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "connect", "playground"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	writeFile(t, dir, "dlthub.toml", "[jobs.ingest.github]\ncommand = [\"true\"]\n")
	// The owner makes a developer and a viewer key for this workspace.
	tokenDoc, _ := os.ReadFile(filepath.Join(dir, "home", ".dlt", "secrets.toml"))
	token := regexp.MustCompile(`dlt_[0-9a-f]+`).FindString(string(tokenDoc))
	cfg, _ := os.ReadFile(filepath.Join(dir, ".dlt", "config.toml"))
	wsID := regexp.MustCompile(`workspace_id = "([0-9a-f]+)"`).FindStringSubmatch(string(cfg))[1]
	key := func(role string) string {
		req, _ := http.NewRequest(http.MethodPost, env["RUNTIME__API_BASE_URL"]+"/api/v1/api-keys",
			strings.NewReader(`{"name":"ci","workspace_id":"`+wsID+`","role":"`+role+`"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		k, _ := out["key"].(string)
		if k == "" {
			t.Fatalf("key: %v", out)
		}
		return k
	}
	// CI has no login, only RUNTIME__API_KEY.
	ci := map[string]string{"RUNTIME__API_BASE_URL": env["RUNTIME__API_BASE_URL"], "RUNTIME__API_KEY": key("viewer")}
	_ = os.Remove(filepath.Join(dir, "home", ".dlt", "secrets.toml"))
	code, _, errOut := runInProcess(t, dir, ci, false, "", "deploy")
	if code == 0 || !strings.Contains(errOut, "needs developer") {
		t.Errorf("viewer key deploys: %d %s", code, errOut)
	}
	ci["RUNTIME__API_KEY"] = key("developer")
	code, _, errOut = runInProcess(t, dir, ci, false, "", "deploy")
	if code != 0 || !strings.Contains(errOut, "job            added") {
		t.Errorf("developer key: %d %s", code, errOut)
	}
}

func TestWorkspaceShow(t *testing.T) {
	t.Parallel()
	dir, env := loggedIn(t)
	if code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "show"); code != 1 || !strings.Contains(errOut, "not connected") {
		t.Errorf("unconnected: %d %s", code, errOut)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "connect", "playground"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	code, out, _ := runInProcess(t, dir, env, false, "", "workspace", "show")
	page := strings.TrimSpace(out)
	if code != 0 || !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/workspaces/[0-9a-f]{32}$`).MatchString(page) {
		t.Fatalf("show: %d %q", code, out)
	}
	// The page is there, behind sign-in (the approving browser's session).
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar}
	base := env["RUNTIME__API_BASE_URL"]
	resp, err := b.PostForm(base+"/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse"}, "next": {strings.TrimPrefix(page, base)}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<h1>playground</h1>") {
		t.Errorf("page: %d %s", resp.StatusCode, body)
	}
	// On a terminal it opens the browser too.
	io2, _, outBuf, _ := iostreams.Test()
	io2.SetTTY(true)
	var opened string
	f := &cli.Factory{IO: io2, Version: "test", OpenBrowser: func(u string) error { opened = u; return nil }, Env: workspace.Env{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, Cwd: dir, Home: filepath.Join(dir, "home")}}
	if code := cli.Run(context.Background(), f, []string{"workspace", "show"}); code != 0 || opened != page || strings.TrimSpace(outBuf.String()) != page {
		t.Errorf("terminal: %d opened %q printed %q", code, opened, outBuf.String())
	}
	// No browser program: the ones tried are named, one by one.
	io3, _, _, errBuf := iostreams.Test()
	io3.SetTTY(true)
	f.IO, f.OpenBrowser = io3, func(string) error {
		return &exec.Error{Name: "xdg-open,x-www-browser,www-browser", Err: exec.ErrNotFound}
	}
	if code := cli.Run(context.Background(), f, []string{"workspace", "show"}); code != 0 ||
		!strings.Contains(errBuf.String(), "Warning: could not open a browser (tried xdg-open, x-www-browser, www-browser): open the URL above yourself") {
		t.Errorf("no browser: %d %s", code, errBuf.String())
	}
	if code, out, _ := runInProcess(t, dir, env, false, "", "workspace", "info"); code != 0 || !strings.Contains(out, "page          "+page) {
		t.Errorf("info: %d %s", code, out)
	}
}

// TestRunOnTheControlPlane is runs end to end: deploy and run with -f
// (the job's output arrives on the terminal as the worker stores it),
// a failing job's exit code, logs of a past run, the run list, and
// cancelling a run that would go on for minutes.
func TestRunOnTheControlPlane(t *testing.T) {
	t.Parallel()
	dir, env := loggedIn(t)
	if code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "connect", "analytics", "--create"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	writeFile(t, dir, "hello.sh", "#!/bin/sh\necho \"hello from $DLTHUB_JOB_REF on $WORKSPACE__PROFILE\"\necho \"greeting=$JOBS__INGEST__HELLO__GREETING\"\necho \"level=$LOG_LEVEL token=$API_TOKEN\"\necho careful >&2\n")
	if err := os.Chmod(filepath.Join(dir, "hello.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, ".dlt", "config.toml"))
	writeFile(t, dir, ".dlt/config.toml", string(cfg)+"\n[jobs.ingest.hello]\ngreeting = \"hi\"\n")
	writeFile(t, dir, "dlthub.toml", `[jobs.ingest.hello]
command = ["./hello.sh"]

[jobs.ingest.broken]
command = ["sh", "-c", "echo trying; exit 7"]

[jobs.ingest.long]
command = ["sh", "-c", "echo long; sleep 60"]

[jobs.transform.after_hello]
command = ["sh", "-c", "echo after hello for $DLTHUB_TRIGGER"]
trigger = ["job.success:jobs.ingest.hello"]

[jobs.ingest.nightly]
command = ["true"]
trigger = ["0 3 * * *"]
`)
	// Variables: plain for the workspace, overridden for prod; a secret
	// read from standard input.
	for _, args := range [][]string{{"variable", "set", "LOG_LEVEL", "INFO"}, {"variable", "set", "LOG_LEVEL", "WARN", "--profile", "prod"}} {
		if code, _, errOut := runInProcess(t, dir, env, false, "", args...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "tok-9876543210\n", "variable", "set", "API_TOKEN", "--secret"); code != 0 || !strings.Contains(errOut, "API_TOKEN is set for the workspace (secret)") {
		t.Fatalf("secret variable: %d %s", code, errOut)
	}
	if code, out, _ := runInProcess(t, dir, env, false, "", "variable", "list"); code != 0 || !regexp.MustCompile(`API_TOKEN\s+workspace\s+\(secret\)`).MatchString(out) ||
		!regexp.MustCompile(`LOG_LEVEL\s+profile prod\s+WARN`).MatchString(out) || strings.Contains(out, "tok-98") {
		t.Errorf("variable list: %d\n%s", code, out)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "variable", "set", "DLTHUB_RUN_ID", "x"); code == 0 || !strings.Contains(errOut, "launch contract") {
		t.Errorf("reserved name: %d %s", code, errOut)
	}
	code, out, errOut := runInProcess(t, dir, env, false, "", "run", "hello", "-f")
	if code != 0 || !strings.Contains(out, "hello from jobs.ingest.hello on prod\ngreeting=hi\nlevel=WARN token=****\n") || !strings.Contains(errOut, "careful") ||
		!regexp.MustCompile(`job\s+added\s+jobs\.ingest\.hello`).MatchString(errOut) || !strings.Contains(errOut, "▶ jobs.ingest.hello: run #1 queued") ||
		!strings.Contains(errOut, "✔ jobs.ingest.hello #1 completed in ") {
		t.Fatalf("run -f: %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// The scheduler queues the downstream job once hello completed.
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, out, _ := runInProcess(t, dir, env, false, "", "job", "runs", "list", "after_hello", "--json")
		if strings.Contains(out, `"status": "completed"`) && strings.Contains(out, `"trigger": "job.success:jobs.ingest.hello"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the downstream job did not run:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, out, _ := runInProcess(t, dir, env, false, "", "job", "logs", "after_hello"); code != 0 || !strings.Contains(out, "after hello for job.success:jobs.ingest.hello") {
		t.Errorf("downstream logs: %d %s", code, out)
	}
	if code, out, _ := runInProcess(t, dir, env, false, "", "job", "list"); code != 0 || !regexp.MustCompile(`(?m)^jobs\.ingest\.hello\s+batch\s+manual:jobs\.ingest\.hello\s+active\s+\S+ \S+\s+#1 completed `).MatchString(out) ||
		!regexp.MustCompile(`(?m)^jobs\.ingest\.nightly\s+batch\s+schedule:0 3 \* \* \*\s+active\s+\S+ \S+\s+\d\d-\d\d \d\d:00$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^jobs\.transform\.after_hello\s.*after jobs\.ingest\.hello$`).MatchString(out) {
		t.Errorf("job list with the last run: %d\n%s", code, out)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "job", "trigger", "hello", "--dry-run"); code != 0 || !strings.Contains(errOut, "would queue jobs.ingest.hello (./hello.sh)") {
		t.Errorf("trigger dry run: %d %s", code, errOut)
	}
	code, out, errOut = runInProcess(t, dir, env, false, "", "run", "broken", "-f", "--no-deploy")
	if code != 1 || !strings.Contains(out, "trying") || !strings.Contains(errOut, "✘ jobs.ingest.broken #1 failed with exit code 7") {
		t.Errorf("failing run: %d\n%s\n%s", code, out, errOut)
	}
	// The log of a past run, and the list.
	code, out, _ = runInProcess(t, dir, env, false, "", "job", "logs", "hello", "1")
	if code != 0 || !strings.Contains(out, "greeting=hi") {
		t.Errorf("job logs: %d %s", code, out)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "job", "runs", "list")
	if code != 0 || !regexp.MustCompile(`(?m)^jobs\.ingest\.broken\s+#1\s+failed\s+manual:jobs\.ingest\.broken`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^jobs\.ingest\.hello\s+#1\s+completed`).MatchString(out) {
		t.Errorf("runs list: %d\n%s", code, out)
	}
	// A long run, cancelled while it runs.
	if code, _, errOut := runInProcess(t, dir, env, false, "", "run", "long", "--no-deploy"); code != 0 || !strings.Contains(errOut, "dlthub job logs jobs.ingest.long 1 -f") {
		t.Fatalf("run long: %d %s", code, errOut)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		_, out, _ := runInProcess(t, dir, env, false, "", "job", "runs", "list", "long", "--json")
		if strings.Contains(out, `"status": "running"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("long run never ran:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "job", "cancel", "long"); code != 0 || !strings.Contains(errOut, "jobs.ingest.long #1: cancelling") {
		t.Errorf("cancel: %d %s", code, errOut)
	}
	code, out, errOut = runInProcess(t, dir, env, false, "", "job", "logs", "long", "-f")
	if code != 1 || !strings.Contains(out, "long") || !strings.Contains(errOut, "jobs.ingest.long #1 cancelled") {
		t.Errorf("logs of the cancelled run: %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "job", "cancel", "long"); code != 0 || !strings.Contains(errOut, "Nothing to cancel") {
		t.Errorf("cancel again: %d %s", code, errOut)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "run", "-f", "--no-deploy"); code != cli.ExitUsage || !strings.Contains(errOut, "-f follows one run, but 5 jobs match") {
		t.Errorf("-f with many: %d %s", code, errOut)
	}
}

// TestServeAnInteractiveJob starts an app on the control plane and uses it
// through the server, signed in, the way a browser would.
func TestServeAnInteractiveJob(t *testing.T) {
	t.Parallel()
	dir, env := loggedIn(t)
	base := env["RUNTIME__API_BASE_URL"]
	if code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "connect", "analytics", "--create"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	exe, _ := os.Executable()
	writeFile(t, dir, "dlthub.toml", "[jobs.apps.dash]\ntype = \"interactive\"\ncommand = [\""+exe+"\"]\n\n[jobs.ingest.batchy]\ncommand = [\"true\"]\n")
	if code, _, errOut := runInProcess(t, dir, env, false, "", "variable", "set", "CLI_TEST_APP", "1"); code != 0 {
		t.Fatalf("variable: %s", errOut)
	}
	code, out, errOut := runInProcess(t, dir, env, false, "", "serve")
	appURL := strings.TrimSpace(out)
	if code != 0 || !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/workspaces/[0-9a-f]+/apps/jobs\.apps\.dash/$`).MatchString(appURL) ||
		!strings.Contains(errOut, "▶ jobs.apps.dash: run #1") {
		t.Fatalf("serve: %d %q\n%s", code, out, errOut)
	}
	// Serving it again gives the same run.
	if code, out, errOut := runInProcess(t, dir, env, false, "", "serve", "dash", "--no-deploy"); code != 0 || strings.TrimSpace(out) != appURL || !strings.Contains(errOut, "run #1 (running)") {
		t.Errorf("serve again: %d %s %s", code, out, errOut)
	}
	// The app is on an origin of its own (DESIGN §6.7), at the same path.
	au, _ := url.Parse(appURL)
	apps, appPath := au.Scheme+"://"+au.Host, au.Path
	if apps == base {
		t.Fatalf("the app is on the control plane's origin: %s", appURL)
	}
	// Signed out: the apps origin sends to the control plane, which sends
	// to its sign-in page. Signed in: the app, without the member's dlthub
	// session.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noFollow.Get(appURL + "x"); err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != base+appPath+"x" {
		t.Errorf("signed out: %v %v", resp, err)
	} else if resp, err := noFollow.Get(resp.Header.Get("Location")); err != nil || resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Errorf("signed out, on the control plane: %v %v", resp, err)
	}
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar}
	resp, err := b.PostForm(base+"/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse"}, "next": {appPath + "page?q=1"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "app at "+appPath+"page for ann@example.com") || strings.Contains(string(body), "dlthub_") ||
		!strings.HasPrefix(resp.Request.URL.String(), apps+appPath) {
		t.Errorf("app through the apps origin: %d %s at %s", resp.StatusCode, body, resp.Request.URL)
	}
	// A public link opens the app without signing in, until withdrawn.
	code, out, errOut = runInProcess(t, dir, env, false, "", "job", "publish", "dash")
	link := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(link, apps+"/p/pub_") || !strings.Contains(errOut, "dlthub job unpublish jobs.apps.dash") {
		t.Fatalf("publish: %d %q %s", code, out, errOut)
	}
	visitorJar, _ := cookiejar.New(nil)
	visitor := &http.Client{Jar: visitorJar}
	resp, err = visitor.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "for public") || strings.Contains(string(body), "pub_") {
		t.Errorf("public visit: %d %s", resp.StatusCode, body)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "job", "unpublish", "dash"); code != 0 || !strings.Contains(errOut, "Withdrew 1 link(s)") {
		t.Errorf("unpublish: %d %s", code, errOut)
	}
	if resp, _ := noFollow.Get(link); resp.StatusCode != http.StatusNotFound {
		t.Errorf("withdrawn link: %d", resp.StatusCode)
	}
	visitor.CheckRedirect = noFollow.CheckRedirect
	if resp, _ := visitor.Get(appURL); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a visitor with the old cookie: %d", resp.StatusCode)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "serve", "batchy", "--no-deploy"); code != cli.ExitUsage || !strings.Contains(errOut, "is a batch job") {
		t.Errorf("serve a batch job: %d %s", code, errOut)
	}
	// Stopped, the address says so.
	if code, _, errOut := runInProcess(t, dir, env, false, "", "job", "cancel", "dash"); code != 0 || !strings.Contains(errOut, "cancelling") {
		t.Errorf("stop: %d %s", code, errOut)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := b.Get(appURL)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(b), "is not running") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app still answers after cancel: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A published app that is not running starts for its visitor.
	_, out, _ = runInProcess(t, dir, env, false, "", "job", "publish", "dash")
	jar2, _ := cookiejar.New(nil)
	v2 := &http.Client{Jar: jar2}
	resp, err = v2.Get(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "is starting") {
		t.Errorf("first visit to a stopped app: %d %s", resp.StatusCode, body)
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		resp, err := v2.Get(appURL)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode == http.StatusOK && strings.Contains(string(b), "for public") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the published app did not start for its visitor")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPipelineJobOnTheControlPlane runs a declarative pipeline on the
// worker and records the rows it loaded per table.
func TestPipelineJobOnTheControlPlane(t *testing.T) {
	t.Parallel()
	dir, env := loggedIn(t)
	if code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "connect", "analytics", "--create"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "pipeline", "init", "github_sample", "duckdb"); code != 0 {
		t.Fatalf("pipeline init: %s", errOut)
	}
	writeFile(t, dir, "dlthub.toml", "[jobs.ingest.sample]\npipeline = \"github_sample\"\n")
	if code, _, errOut := runInProcess(t, dir, env, false, "", "variable", "set", "CLI_TEST_AS_DLTHUB", "1"); code != 0 {
		t.Fatalf("variable: %s", errOut)
	}
	code, out, errOut := runInProcess(t, dir, env, false, "", "run", "sample", "-f")
	if code != 0 || !regexp.MustCompile(`(?m)^issues\s+100$`).MatchString(out) {
		t.Fatalf("run: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "job", "runs", "list", "sample", "--json")
	if code != 0 || !strings.Contains(out, `"issues": 100`) || !strings.Contains(out, `"issues__labels": 34`) {
		t.Errorf("table rows: %d %s", code, out)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "job", "runs", "info", "sample")
	for _, want := range []string{"run            #1 (", "status         completed", "trigger        manual:jobs.ingest.sample", "rows loaded    issues 100", "               issues__labels 34"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("runs info lacks %q: %d\n%s", want, code, out)
		}
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "job", "runs", "cancel", "sample", "1"); code != 1 || !strings.Contains(errOut, "has ended already: completed") {
		t.Errorf("cancel an ended run: %d %s", code, errOut)
	}
}
