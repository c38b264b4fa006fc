package pyenv

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/python/pythontest"
)

const reqJSON = `{"engine_version":2,"python_version":"3.11","dlt_version":{"name":"dlt","extras":[],"version":"1.31.0","mode":"pypi"},
"default_groups":["main"],"groups":{"main":["dlt[duckdb]==1.31.0","requests>=2"],"reports":["tabulate"],"jobs.workspace.dashboard":["marimo","s3fs"]},
"launcher_requirements":{"dlt._workspace.deployment.launchers.job":["botocore","dlthub","s3fs"],
"dlt._workspace.deployment.launchers.marimo":["dlthub","marimo","uvicorn","dlt==1.31.0"]}}`

func TestSetFor(t *testing.T) {
	r, err := Parse([]byte(reqJSON), "requirements.json")
	if err != nil {
		t.Fatal(err)
	}
	job, err := r.SetFor("dlt._workspace.deployment.launchers.job", nil)
	if err != nil || strings.Join(job.Specs, " ") != "dlt[duckdb]==1.31.0 requests>=2" || job.Python != "3.11" {
		t.Errorf("job launcher set (dltHub's runtime packages left out): %+v %v", job, err)
	}
	withGroup, _ := r.SetFor("dlt._workspace.deployment.launchers.job", []string{"reports"})
	if strings.Join(withGroup.Specs, " ") != "dlt[duckdb]==1.31.0 requests>=2 tabulate" || withGroup.Hash() == job.Hash() {
		t.Errorf("with a group: %+v", withGroup)
	}
	same, _ := r.SetFor("dlt._workspace.deployment.launchers.module", nil)
	if same.Hash() != job.Hash() {
		t.Errorf("the same requirements must share an environment: %+v vs %+v", same, job)
	}
	nb, _ := r.SetFor("dlt._workspace.deployment.launchers.marimo", []string{"jobs.workspace.dashboard"})
	if strings.Join(nb.Specs, " ") != "dlt==1.31.0 dlt[duckdb]==1.31.0 marimo requests>=2 s3fs uvicorn" {
		t.Errorf("marimo: %v", nb.Specs)
	}
	if _, err := r.SetFor("dlt._workspace.deployment.launchers.job", []string{"nope"}); err == nil ||
		!strings.Contains(err.Error(), `dependency group "nope" is not declared in the workspace (groups: jobs.workspace.dashboard, main, reports)`) {
		t.Errorf("unknown group: %v", err)
	}
	if _, err := Parse([]byte(`{"engine_version":2}`), "requirements.json"); err == nil {
		t.Error("a manifest without groups was accepted")
	}
}

// The same set asked for at once, by goroutines and by a second manager
// on the same folder (another worker process), is built once.
func TestGetBuildsOnceAtOnce(t *testing.T) {
	tools := pythontest.Find(t)
	dir := t.TempDir()
	a := &Manager{Dir: dir, UV: tools.UV}
	b := &Manager{Dir: dir, UV: tools.UV}
	set := Set{Python: "3.11"}
	var wg sync.WaitGroup
	envs := make([]*Env, 4)
	errs := make([]error, 4)
	for i := range envs {
		m := a
		if i%2 == 1 {
			m = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var log bytes.Buffer
			envs[i], errs[i] = m.Get(context.Background(), set, &log)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("get %d: %v", i, err)
		}
		defer envs[i].Release()
		if envs[i].Dir != envs[0].Dir {
			t.Errorf("different environments for one set: %s %s", envs[i].Dir, envs[0].Dir)
		}
	}
	if n := a.Builds() + b.Builds(); n != 1 {
		t.Errorf("built %d times, want once", n)
	}
	if _, err := os.Stat(envs[0].Python); err != nil {
		t.Errorf("no interpreter: %v", err)
	}
	if home := baseHome(envs[0].Dir); !strings.HasPrefix(home, "/usr/") {
		t.Errorf("the base interpreter %q is not a system one a sandboxed job can read", home)
	}
}

// A requirement that does not resolve fails with uv's message and leaves
// nothing half-built in the cache.
func TestGetUnresolvable(t *testing.T) {
	tools := pythontest.Find(t)
	m := &Manager{Dir: t.TempDir(), UV: tools.UV}
	var log bytes.Buffer
	_, err := m.Get(context.Background(), Set{Python: "3.11", Specs: []string{"dlthub-no-such-package-zz==0.0.1"}}, &log)
	if err == nil || !strings.Contains(err.Error(), "uv pip failed") || !strings.Contains(err.Error(), "dlthub-no-such-package-zz") {
		t.Fatalf("unresolvable: %v\n%s", err, log.String())
	}
	ents, _ := os.ReadDir(m.Dir)
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left in the cache: %s", e.Name())
		}
	}
	if m.Builds() != 0 {
		t.Errorf("builds: %d", m.Builds())
	}
	if _, err := (&Manager{Dir: t.TempDir()}).Get(context.Background(), Set{Python: "3.11"}, &log); err == nil || !strings.Contains(err.Error(), "uv is not available") {
		t.Errorf("without uv: %v", err)
	}
}

// Eviction removes the least recently used environments no run holds,
// until the cache fits.
func TestEvict(t *testing.T) {
	dir := t.TempDir()
	m := &Manager{Dir: dir, MaxBytes: 2500}
	mk := func(name string, age time.Duration) {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "blob"), make([]byte, 1000), 0o644); err != nil {
			t.Fatal(err)
		}
		done := filepath.Join(dir, name, completeFile)
		if err := os.WriteFile(done, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-age)
		_ = os.Chtimes(done, old, old)
	}
	mk("oldest", 3*time.Hour)
	mk("held", 2*time.Hour)
	mk("newest", time.Hour)
	mk("recent", time.Minute)
	held, err := lockFile(context.Background(), filepath.Join(dir, "held.lock"), syscall.LOCK_SH, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = held.Close() }()
	removed, err := m.Evict()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(removed, ",") != "oldest,newest" {
		t.Errorf("evicted %v, want the oldest ones not held", removed)
	}
	for _, name := range []string{"held", "recent"} {
		if _, err := os.Stat(filepath.Join(dir, name, completeFile)); err != nil {
			t.Errorf("%s was evicted", name)
		}
	}
}

// An offline site: no index, a folder of wheels.
func TestGetFromWheelFolderOffline(t *testing.T) {
	tools := pythontest.Find(t)
	wheels := t.TempDir()
	f, err := os.Create(filepath.Join(wheels, "offlinepkg-1.0-py3-none-any.whl"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, body := range map[string]string{
		"offlinepkg/__init__.py":            "VALUE = 42\n",
		"offlinepkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: offlinepkg\nVersion: 1.0\n",
		"offlinepkg-1.0.dist-info/WHEEL":    "Wheel-Version: 1.0\nGenerator: dlthub-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
		"offlinepkg-1.0.dist-info/RECORD":   "offlinepkg/__init__.py,,\nofflinepkg-1.0.dist-info/METADATA,,\nofflinepkg-1.0.dist-info/WHEEL,,\nofflinepkg-1.0.dist-info/RECORD,,\n",
	} {
		w, _ := zw.Create(name)
		_, _ = w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	m := &Manager{Dir: t.TempDir(), UV: tools.UV, IndexURL: "none", FindLinks: wheels}
	var log bytes.Buffer
	env, err := m.Get(context.Background(), Set{Python: "3.11", Specs: []string{"offlinepkg==1.0"}}, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	defer env.Release()
	out, err := exec.Command(env.Python, "-c", "import offlinepkg; print(offlinepkg.VALUE)").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "42" {
		t.Errorf("the package from the wheel folder: %v %s", err, out)
	}
}
