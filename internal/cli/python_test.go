package cli_test

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/pyenv"
	"github.com/dlthub/dlthub/internal/python/pythontest"
)

// pythonWorkspace starts a control plane whose worker builds Python
// environments with the pinned uv, logs in, copies the example Python
// workspace into a fresh folder and connects it to a new workspace.
func pythonWorkspace(t *testing.T) (dir string, env map[string]string, envs *pyenv.Manager) {
	t.Helper()
	tools := pythontest.Find(t)
	envs = &pyenv.Manager{Dir: t.TempDir(), UV: tools.UV}
	base, _, _ := controlPlaneWithPython(t, envs)
	dir, env = loggedInTo(t, base)
	env["VIRTUAL_ENV"] = tools.Venv
	copyTree(t, filepath.Join("..", "..", "examples", "python-workspace"), dir)
	if code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "connect", "analytics", "--create"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	return dir, env, envs
}

// copyTree copies the files of src into dst (over what is there).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if d.Name() == "__pycache__" || d.Name() == "state" || d.Name() == "data" && filepath.Base(filepath.Dir(p)) == ".dlt" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitRun polls a job's runs until one matches want (a regexp over the
// runs' JSON), and returns that JSON.
func waitRun(t *testing.T, dir string, env map[string]string, job, want string, within time.Duration) string {
	t.Helper()
	re := regexp.MustCompile(want)
	deadline := time.Now().Add(within)
	for {
		_, out, _ := runInProcess(t, dir, env, false, "", "job", "runs", "list", job, "--json")
		if re.MatchString(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run of %s matches %s:\n%s", job, want, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestPythonWorkspaceOnTheControlPlane(t *testing.T) {
	t.Parallel()
	dir, env, envs := pythonWorkspace(t)
	// A job that starts a process tree, for cancel.
	writeFile(t, dir, "slow.py", `"""Sleeps with a child process."""
import subprocess, time

if __name__ == "__main__":
    child = subprocess.Popen(["sleep", "3171"])
    print("slow started", flush=True)
    time.sleep(300)
`)

	code, out, errOut := runInProcess(t, dir, env, false, "", "deploy", "--show-manifest", "--format", "json")
	if code != 0 {
		t.Fatalf("show-manifest: %d %s", code, errOut)
	}
	var manifest struct {
		Jobs []struct {
			JobRef     string `json:"job_ref"`
			EntryPoint struct {
				Module, Launcher string
				Function         *string
			} `json:"entry_point"`
			Triggers []string `json:"triggers"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal([]byte(out), &manifest); err != nil {
		t.Fatalf("manifest: %v\n%s", err, out)
	}
	refs := map[string]string{}
	for _, j := range manifest.Jobs {
		refs[j.JobRef] = j.EntryPoint.Launcher
	}
	for ref, launcher := range map[string]string{
		"jobs.__deployment__.ingest": "dlt._workspace.deployment.launchers.job", "jobs.__deployment__.report": "dlt._workspace.deployment.launchers.job",
		"jobs.__deployment__.notebook": "dlt._workspace.deployment.launchers.job", "jobs.workspace.dashboard": "dlt._workspace.deployment.launchers.dashboard",
	} {
		if refs[ref] != launcher {
			t.Errorf("manifest: %s has launcher %q, want %q\n%s", ref, refs[ref], launcher, out)
		}
	}

	// Deploy, then the pipeline job runs through dlt's launcher.
	code, out, errOut = runInProcess(t, dir, env, false, "", "run", "ingest", "-f")
	if code != 0 || !strings.Contains(out, "is LOADED and contains no failed jobs") || !regexp.MustCompile(`job\s+added\s+jobs\.__deployment__\.ingest`).MatchString(errOut) ||
		!strings.Contains(out+errOut, "Building Python environment") {
		t.Fatalf("run ingest -f: %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	runs := waitRun(t, dir, env, "ingest", `"status": "completed"`, 10*time.Second)
	if !strings.Contains(runs, `"issues": 40`) || !strings.Contains(runs, `"issues__labels": 49`) {
		t.Errorf("rows per table from dlt's trace: %s", runs)
	}
	if code, out, _ := runInProcess(t, dir, env, false, "", "job", "list", "--json"); code != 0 || !strings.Contains(out, `"jobs.__deployment__.report"`) || !strings.Contains(out, `"jobs.workspace.dashboard"`) {
		t.Errorf("job list: %d %s", code, out)
	}
	// Its job.success follow-up runs by itself, in the same environment
	// (its dependency group adds nothing).
	runs = waitRun(t, dir, env, "report", `"status": "completed"`, 60*time.Second)
	if !strings.Contains(runs, `"trigger": "job.success:jobs.__deployment__.ingest"`) {
		t.Errorf("report: %s", runs)
	}
	_, logOut, _ := runInProcess(t, dir, env, false, "", "job", "logs", "report")
	if !strings.Contains(logOut, "report for run ") || !strings.Contains(logOut, "triggered by job.success:jobs.__deployment__.ingest") {
		t.Errorf("report's log: %s", logOut)
	}

	// The interactive job: served by dlt's job launcher on the port in
	// run_args, behind the server's sign-in.
	code, out, errOut = runInProcess(t, dir, env, false, "", "serve", "notebook", "--no-deploy", "--no-browser")
	appURL := strings.TrimSpace(out)
	if code != 0 || !strings.Contains(appURL, "/apps/jobs.__deployment__.notebook/") {
		t.Fatalf("serve notebook: %d %q\n%s", code, out, errOut)
	}
	if au, _ := url.Parse(appURL); au.Scheme+"://"+au.Host == env["RUNTIME__API_BASE_URL"] {
		t.Errorf("the notebook is on the control plane's origin: %s", appURL)
	}
	// dlt's launcher takes a moment to import; the page says "Starting".
	if status, body := openApp(t, env, appURL, time.Minute); status != http.StatusOK || !strings.Contains(body, "issues notebook") {
		t.Errorf("the notebook through the server: %d %s", status, body)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "job", "cancel", "notebook"); code != 0 {
		t.Errorf("stop the notebook: %d %s", code, errOut)
	}

	// Ad hoc: a plain script runs with dlt's module launcher and streams.
	code, out, errOut = runInProcess(t, dir, env, false, "", "run", "github_pipeline.py", "-f")
	if code != 0 || !strings.Contains(out, "is LOADED and contains no failed jobs") || !strings.Contains(errOut, "jobs.github_pipeline") {
		t.Fatalf("run github_pipeline.py -f: %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if code, out, _ := runInProcess(t, dir, env, false, "", "job", "info", "github_pipeline"); code != 0 || !strings.Contains(out, "dlt._workspace.deployment.launchers.module") {
		t.Errorf("ad-hoc job info: %d %s", code, out)
	}
	// Python jobs run in the run sandbox too: an unprivileged uid that
	// sees neither the worker's data nor its environment.
	if haveSandbox() {
		writeFile(t, dir, "whoami.py", "import os\nif __name__ == '__main__':\n    print('uid=%d home=%s' % (os.getuid(), os.environ.get('HOME')))\n    print('sees /root:', os.path.exists('/root/.pyenv'))\n")
		code, out, errOut = runInProcess(t, dir, env, false, "", "run", "whoami.py", "-f")
		if code != 0 || !strings.Contains(out, "uid=65534 ") || !strings.Contains(out, "sees /root: False") {
			t.Errorf("sandboxed Python job: %d\n%s\n%s", code, out, errOut)
		}
	}
	// Every run so far needed the same requirement set: built once.
	if n := envs.Builds(); n != 1 {
		t.Errorf("environments built: %d, want 1 (the second run reuses the first's)", n)
	}

	// Cancel of a running Python job ends its whole process tree.
	stderr, wait := startCLI(t, dir, env, "run", "slow.py", "-f")
	waitRun(t, dir, env, "slow", `"status": "running"`, 60*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for !processWith("3171") {
		if time.Now().After(deadline) {
			t.Fatalf("the slow job's child never started:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "job", "cancel", "slow"); code != 0 {
		t.Fatalf("cancel: %d %s", code, errOut)
	}
	if code := wait(); code == 0 {
		t.Errorf("run -f of a cancelled job exited 0:\n%s", stderr.String())
	}
	waitRun(t, dir, env, "slow", `"status": "cancelled"`, 60*time.Second)
	deadline = time.Now().Add(10 * time.Second)
	for processWith("3171") {
		if time.Now().After(deadline) {
			t.Fatal("the cancelled job's child process is still alive")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// openApp signs ann in on the control plane with the app's path as next,
// which leads a browser to the app on the apps origin through a grant, and
// reloads while the app is starting (at most within). It returns the
// app's last answer.
func openApp(t *testing.T, env map[string]string, appURL string, within time.Duration) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	au, _ := url.Parse(appURL)
	resp, err := browser.PostForm(env["RUNTIME__API_BASE_URL"]+"/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse"}, "next": {au.RequestURI()}})
	for deadline := time.Now().Add(within); ; {
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return resp.StatusCode, string(body)
		}
		time.Sleep(300 * time.Millisecond)
		resp, err = browser.Get(appURL)
	}
}

// processWith reports a process whose command line has arg.
func processWith(arg string) bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, a := range strings.Split(string(b), "\x00") {
			if a == arg {
				return true
			}
		}
	}
	return false
}

func TestPythonWorkspaceBadInput(t *testing.T) {
	t.Parallel()
	dir, env, envs := pythonWorkspace(t)
	if code, _, errOut := runInProcess(t, dir, env, false, "", "deploy"); code != 0 {
		t.Fatalf("deploy: %d %s", code, errOut)
	}
	_, before, _ := runInProcess(t, dir, env, false, "", "workspace", "deployment", "list", "--json")
	good, _ := os.ReadFile(filepath.Join(dir, "__deployment__.py"))
	for _, tc := range []struct{ name, module, want string }{
		{"syntax error", "from dlt.hub.run import job\n@job(\ndef x(:\n    pass\n", "(SyntaxError): invalid syntax (__deployment__.py, line 3)"},
		{"unknown trigger", "from dlt.hub.run import job\n@job(trigger=\"bogus:1\")\ndef x():\n    pass\n__all__ = [\"x\"]\n", "(InvalidTrigger): Invalid trigger 'bogus:1': unknown type 'bogus'"},
		{"missing module", "import not_a_module_here\n", "(ModuleNotFoundError): No module named 'not_a_module_here'"},
	} {
		writeFile(t, dir, "__deployment__.py", tc.module)
		code, _, errOut := runInProcess(t, dir, env, false, "", "deploy")
		if code == 0 || !strings.Contains(errOut, "dlt could not read the jobs of __deployment__.py "+tc.want) {
			t.Errorf("%s: %d %s", tc.name, code, errOut)
		}
	}
	writeFile(t, dir, "__deployment__.py", string(good))
	if _, after, _ := runInProcess(t, dir, env, false, "", "workspace", "deployment", "list", "--json"); after != before {
		t.Errorf("a failed deploy changed the deployments:\n%s\n%s", before, after)
	}

	// A script that exits 1 fails its run, with its output in the log.
	writeFile(t, dir, "fails.py", "if __name__ == '__main__':\n    print('about to fail')\n    raise SystemExit(1)\n")
	code, out, errOut := runInProcess(t, dir, env, false, "", "run", "fails.py", "-f")
	if code == 0 || !strings.Contains(out, "about to fail") || !strings.Contains(errOut, "failed with exit code 1") {
		t.Errorf("failing script: %d\n%s\n%s", code, out, errOut)
	}
	// A requirement that does not resolve fails that run with uv's message;
	// the worker keeps serving.
	pyproject, _ := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
	writeFile(t, dir, "pyproject.toml", strings.Replace(string(pyproject), "reports = []", `reports = ["dlthub-no-such-package-zz==0.0.1"]`, 1))
	code, out, errOut = runInProcess(t, dir, env, false, "", "run", "report", "-f")
	if code == 0 || !strings.Contains(out+errOut, "dlthub-no-such-package-zz") || !strings.Contains(out+errOut, "uv pip failed") {
		t.Errorf("unresolvable requirement: %d\n%s\n%s", code, out, errOut)
	}
	writeFile(t, dir, "pyproject.toml", string(pyproject))
	code, out, errOut = runInProcess(t, dir, env, false, "", "run", "report", "-f")
	if code != 0 || !strings.Contains(out, "report for run ") {
		t.Errorf("the worker after a broken requirement: %d\n%s\n%s", code, out, errOut)
	}
	if n := envs.Builds(); n != 1 {
		t.Errorf("environments built: %d, want 1", n)
	}
}

func TestPythonWorkspaceLocally(t *testing.T) {
	t.Parallel()
	tools := pythontest.Find(t)
	dir := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "examples", "python-workspace"), dir)
	env := map[string]string{"VIRTUAL_ENV": tools.Venv}

	// local run starts the job the same way a worker does: dlt's launcher,
	// here in the workspace's own Python, with the dev profile.
	code, out, errOut := runInProcess(t, dir, env, false, "", "local", "run", "ingest")
	if code != 0 || !strings.Contains(out, "is LOADED and contains no failed jobs") || !strings.Contains(out, ".dlt/data/dev/warehouse.duckdb") {
		t.Fatalf("local run ingest: %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "its own dlthub ("+tools.Venv+"/bin/dlthub, installed by dlt)") {
		t.Errorf("the Python dlthub in the environment is not pointed out:\n%s", errOut)
	}
	if _, _, again := runInProcess(t, dir, env, false, "", "local", "run", "report"); strings.Contains(again, "its own dlthub") {
		t.Errorf("the note about the Python dlthub is repeated:\n%s", again)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "local", "run", "report", "--dry-run")
	if code != 0 || !strings.Contains(out, "-m dlt._workspace.deployment.launchers.job --run-id ") || !strings.Contains(out, `"job_ref":"jobs.__deployment__.report"`) {
		t.Errorf("local run --dry-run: %d\n%s", code, out)
	}

	// Before any deploy, job list shows the jobs as dlt declares them.
	code, out, errOut = runInProcess(t, dir, env, false, "", "job", "list")
	if code != 0 || !regexp.MustCompile(`jobs\.__deployment__\.ingest\s+batch\s+every:1h\s+not deployed`).MatchString(out) || !strings.Contains(errOut, "Not deployed (") {
		t.Errorf("job list before deploy: %d\n%s\n%s", code, out, errOut)
	}

	// pipeline init is dlt's own in a Python workspace.
	code, _, errOut = runInProcess(t, dir, env, false, "", "pipeline", "init", "rest_api", "duckdb")
	if code != 0 || !strings.Contains(errOut, "This is a Python workspace: dlt writes the pipeline") {
		t.Fatalf("pipeline init rest_api: %d %s", code, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "rest_api_pipeline.py")); err != nil || !strings.Contains(string(b), "rest_api_source") {
		t.Errorf("rest_api_pipeline.py: %v %.200s", err, b)
	}
	code, _, errOut = runInProcess(t, dir, env, false, "", "pipeline", "init", "github", "duckdb")
	if code == 0 || !strings.Contains(errOut, `"github" is a verified source, which dlt fetches from GitHub`) {
		t.Errorf("verified source offline: %d %s", code, errOut)
	}
	code, _, _ = runInProcess(t, dir, env, false, "", "pipeline", "init", "github_sample", "duckdb", "--declarative")
	if _, err := os.Stat(filepath.Join(dir, "pipelines", "github_sample.toml")); code != 0 || err != nil {
		t.Errorf("--declarative: %d %v", code, err)
	}
}

// Ad hoc: `dlthub serve notebook.py` of a marimo notebook deploys the job
// dlt's detector makes of it (the marimo launcher) and serves it, built
// into an environment with marimo, behind the apps origin.
func TestPythonAdHocMarimoNotebook(t *testing.T) {
	t.Parallel()
	dir, env, envs := pythonWorkspace(t)
	writeFile(t, dir, "explore.py", `import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    mo.md("# explore issues")
    return


if __name__ == "__main__":
    app.run()
`)
	code, out, errOut := runInProcess(t, dir, env, false, "", "serve", "explore.py", "--no-browser")
	appURL := strings.TrimSpace(out)
	if code != 0 || !strings.Contains(appURL, "/apps/jobs.explore/") {
		t.Fatalf("serve explore.py: %d %q\n%s", code, out, errOut)
	}
	if code, out, _ := runInProcess(t, dir, env, false, "", "job", "info", "explore"); code != 0 || !strings.Contains(out, "dlt._workspace.deployment.launchers.marimo") {
		t.Errorf("the notebook's job: %d %s", code, out)
	}
	// The worker builds an environment with marimo first.
	if status, body := openApp(t, env, appURL, 4*time.Minute); status != http.StatusOK || !strings.Contains(strings.ToLower(body), "marimo") {
		_, logs, _ := runInProcess(t, dir, env, false, "", "job", "logs", "explore")
		_, runs, _ := runInProcess(t, dir, env, false, "", "job", "runs", "list", "explore", "--json")
		t.Errorf("the marimo notebook through the server: %d %.300s\nlog:\n%s\nruns:\n%s", status, body, logs, runs)
	}
	if n := envs.Builds(); n != 1 {
		t.Errorf("environments built: %d, want 1 (marimo's)", n)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "job", "cancel", "explore"); code != 0 {
		t.Errorf("stop the notebook: %d %s", code, errOut)
	}
}
