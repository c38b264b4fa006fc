// Package pyenv builds the Python environments Python jobs run in on a
// worker (DESIGN §10): one environment per distinct requirement set, made
// by uv, cached by the set's content hash, shared by every run and
// deployment that needs the same set, never built twice at once (a file
// lock, so separate worker processes on one machine share it too), and
// evicted least recently used first when the cache is over its size.
//
// uv does the resolving and installing; this package only decides what a
// job needs (from dlt's TWorkspaceRequirementsManifest, which the
// deployment carries) and where it lives.
package pyenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Requirements is dlt's TWorkspaceRequirementsManifest
// (dlt/_workspace/deployment/typing.py), exported by dlt at deploy time.
type Requirements struct {
	EngineVersion        int                 `json:"engine_version"`
	PythonVersion        string              `json:"python_version"`
	DltVersion           InstallSpec         `json:"dlt_version"`
	DefaultGroups        []string            `json:"default_groups"`
	Groups               map[string][]string `json:"groups"`
	LauncherRequirements map[string][]string `json:"launcher_requirements"`
}

// InstallSpec is dlt's TInstallSpec: how dlt was installed where the
// manifest was exported.
type InstallSpec struct {
	Name    string   `json:"name"`
	Extras  []string `json:"extras"`
	Version string   `json:"version"`
	Mode    string   `json:"mode"`
}

// Parse reads a requirements manifest; display names it in errors.
func Parse(b []byte, display string) (*Requirements, error) {
	var r Requirements
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a requirements manifest: %w", display, err)
	}
	if r.PythonVersion == "" || r.Groups == nil {
		return nil, fmt.Errorf("%s: not a requirements manifest (no python_version or groups)", display)
	}
	return &r, nil
}

// runtimeOnly are launcher requirements that serve dltHub's hosted runtime
// (its CLI package and the artifact bucket it syncs traces to). This
// platform keeps traces in the run's checkout, and a Python `dlthub` in the
// job's PATH would shadow this binary, so they are not installed.
func runtimeOnly() []string { return []string{"dlthub", "dlthub-client", "botocore", "s3fs"} }

// passEnv are the worker's variables uv keeps: how this machine reaches
// a package index (proxies, the CA bundle of a TLS-inspecting proxy, an
// index or wheel folder set for the whole machine). Nothing else of the
// worker's environment reaches uv.
func passEnv() []string {
	return []string{"SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
		"http_proxy", "https_proxy", "no_proxy", "all_proxy", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL",
		"UV_FIND_LINKS", "UV_NATIVE_TLS", "UV_SYSTEM_CERTS", "UV_INSECURE_HOST"}
}

// Set is one environment's requirement set: a Python version and sorted
// PEP 508 specs.
type Set struct {
	Python string   `json:"python"`
	Specs  []string `json:"specs"`
}

// Hash is the set's content hash, the environment's name in the cache.
func (s Set) Hash() string {
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// SetFor is what a job started by launcher needs: the default groups, the
// job's dependency groups and the launcher's requirements. A group the
// workspace does not declare is an error naming it.
func (r *Requirements) SetFor(launcher string, groups []string) (Set, error) {
	var specs []string
	for _, g := range append(slices.Clone(r.DefaultGroups), groups...) {
		list, ok := r.Groups[g]
		if !ok {
			known := make([]string, 0, len(r.Groups))
			for k := range r.Groups {
				known = append(known, k)
			}
			sort.Strings(known)
			return Set{}, fmt.Errorf("dependency group %q is not declared in the workspace (groups: %s); add it under [dependency-groups] in pyproject.toml", g, strings.Join(known, ", "))
		}
		specs = append(specs, list...)
	}
	for _, s := range r.LauncherRequirements[launcher] {
		if !slices.Contains(runtimeOnly(), specName(s)) {
			specs = append(specs, s)
		}
	}
	sort.Strings(specs)
	return Set{Python: r.PythonVersion, Specs: slices.Compact(specs)}, nil
}

// specName is the normalized distribution name of a PEP 508 spec.
func specName(spec string) string {
	end := strings.IndexAny(spec, " [<>=!~;@(")
	if end < 0 {
		end = len(spec)
	}
	return strings.ReplaceAll(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(spec[:end])), "_", "-"), ".", "-")
}

// Manager keeps the cache of environments.
type Manager struct {
	// Dir holds one folder per environment (named by its set's hash).
	Dir string
	// UV is the uv executable.
	UV string
	// IndexURL and FindLinks point uv at a package index mirror or a
	// folder of wheels; empty means uv's defaults, and IndexURL "none"
	// installs from FindLinks alone (offline sites).
	IndexURL  string
	FindLinks string
	// PythonPath is the PATH uv looks for a base interpreter on (default
	// /usr/local/bin:/usr/bin:/bin): an interpreter under a private home
	// would not be readable inside a job's sandbox.
	PythonPath string
	// CacheDir is uv's download cache (UV_CACHE_DIR); empty is uv's default.
	CacheDir string
	// MaxBytes bounds the cache; Evict removes the least recently used
	// environments no run holds until it fits. 0 means no bound.
	MaxBytes int64
	Logger   *slog.Logger

	builds atomic.Int64
}

// Builds counts environments this manager built (not found in the cache).
func (m *Manager) Builds() int64 { return m.builds.Load() }

// Env is a ready environment held for a run: Release lets it be evicted.
type Env struct {
	Dir    string
	Python string
	// ReadOnly are the paths a sandboxed job must be able to read: the
	// environment and its base interpreter's prefix.
	ReadOnly []string
	lock     *os.File
}

// Release lets the cache evict the environment again.
func (e *Env) Release() {
	if e.lock != nil {
		_ = e.lock.Close()
		e.lock = nil
	}
}

// BinDir is the environment's bin folder, first on the job's PATH (the
// launchers exec marimo, streamlit, … from there).
func (e *Env) BinDir() string { return filepath.Join(e.Dir, "bin") }

const completeFile = ".dlthub-env.json"

// Get returns the environment for set, building it when it is not cached.
// uv's output goes to log as it happens. A set that does not resolve fails
// with uv's message; the cache is left as it was.
func (m *Manager) Get(ctx context.Context, set Set, log io.Writer) (*Env, error) {
	if m.UV == "" {
		return nil, errors.New("uv is not available on this worker: install it (pip install uv) or pass dlthub server --uv PATH")
	}
	if err := os.MkdirAll(m.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("python environments: %w", err)
	}
	hash := set.Hash()
	dir := filepath.Join(m.Dir, hash)
	lockPath := filepath.Join(m.Dir, hash+".lock")
	// A run holds a shared lock on its environment: runs share it, and
	// eviction (which takes it exclusively) leaves it alone. A build holds
	// it exclusively: one build per set at a time, across goroutines and
	// processes; whoever waits for it finds the environment built.
	var lk *os.File
	for lk == nil {
		var err error
		if lk, err = lockFile(ctx, lockPath, syscall.LOCK_SH, nil); err != nil {
			return nil, err
		}
		if exists(filepath.Join(dir, completeFile)) {
			fmt.Fprintf(log, "Using Python environment %s (cached)\n", hash)
			break
		}
		_ = lk.Close()
		built := func() bool { return exists(filepath.Join(dir, completeFile)) }
		if lk, err = lockFile(ctx, lockPath, syscall.LOCK_EX, built); err != nil {
			return nil, err
		}
		if lk == nil {
			continue // built meanwhile: take it shared
		}
		if !built() {
			if err := m.build(ctx, set, dir, log); err != nil {
				_ = lk.Close()
				return nil, err
			}
			defer func() {
				// Room for what was just built; the held one stays.
				if _, err := m.Evict(); err != nil && m.Logger != nil {
					m.Logger.Warn("evict python environments", "err", err)
				}
			}()
		}
		if err := syscall.Flock(int(lk.Fd()), syscall.LOCK_SH); err != nil {
			_ = lk.Close()
			return nil, fmt.Errorf("python environment %s: %w", hash, err)
		}
	}
	now := time.Now()
	_ = os.Chtimes(filepath.Join(dir, completeFile), now, now) // last used, for eviction
	env := &Env{Dir: dir, Python: filepath.Join(dir, "bin", "python"), ReadOnly: []string{dir}, lock: lk}
	if home := baseHome(dir); home != "" && !strings.HasPrefix(home, "/usr/") {
		env.ReadOnly = append(env.ReadOnly, filepath.Dir(home))
	}
	return env, nil
}

func (m *Manager) build(ctx context.Context, set Set, dir string, log io.Writer) error {
	start := time.Now()
	fmt.Fprintf(log, "Building Python environment %s: Python %s, %d requirements\n", set.Hash(), set.Python, len(set.Specs))
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	_ = os.RemoveAll(dir) // a build that died half-way
	pyPath := m.PythonPath
	if pyPath == "" {
		pyPath = "/usr/local/bin:/usr/bin:/bin"
	}
	env := []string{"PATH=" + pyPath, "HOME=" + filepath.Join(m.Dir, ".home"), "UV_PYTHON_DOWNLOADS=never", "UV_PYTHON_PREFERENCE=only-system", "UV_NO_PROGRESS=1", "LANG=C.UTF-8"}
	for _, k := range passEnv() {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	if m.CacheDir != "" {
		env = append(env, "UV_CACHE_DIR="+m.CacheDir)
	} else if home, err := os.UserCacheDir(); err == nil {
		env = append(env, "UV_CACHE_DIR="+filepath.Join(home, "uv"))
	}
	uv := func(args ...string) error {
		cmd := exec.CommandContext(ctx, m.UV, args...)
		cmd.Env, cmd.Dir = env, m.Dir
		var tail tailBuffer
		w := io.MultiWriter(log, &tail)
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Run(); err != nil {
			msg := strings.TrimSpace(tail.String())
			if msg == "" {
				msg = err.Error()
			}
			return fmt.Errorf("uv %s failed: %s", args[0], msg)
		}
		return nil
	}
	if err := uv("venv", "--relocatable", "--no-project", "--python", set.Python, tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("python environment for Python %s: %w", set.Python, err)
	}
	if len(set.Specs) > 0 {
		reqs := filepath.Join(tmp, "requirements.txt")
		if err := os.WriteFile(reqs, []byte(strings.Join(set.Specs, "\n")+"\n"), 0o644); err != nil {
			_ = os.RemoveAll(tmp)
			return err
		}
		args := []string{"pip", "install", "--python", filepath.Join(tmp, "bin", "python"), "-r", reqs}
		switch m.IndexURL {
		case "":
		case "none":
			args = append(args, "--no-index") // offline: FindLinks only
		default:
			args = append(args, "--index-url", m.IndexURL)
		}
		if m.FindLinks != "" {
			args = append(args, "--find-links", m.FindLinks)
		}
		if err := uv(args...); err != nil {
			_ = os.RemoveAll(tmp)
			return fmt.Errorf("install the job's requirements: %w", err)
		}
	}
	b, _ := json.Marshal(set)
	if err := os.WriteFile(filepath.Join(tmp, completeFile), b, 0o644); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("python environment: %w", err)
	}
	m.builds.Add(1)
	fmt.Fprintf(log, "Built Python environment %s in %s\n", set.Hash(), time.Since(start).Round(time.Millisecond))
	if m.Logger != nil {
		m.Logger.Info("python environment built", "env", set.Hash(), "specs", len(set.Specs), "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// Evict removes the least recently used environments that no run holds
// until the cache fits MaxBytes. It returns what it removed.
func (m *Manager) Evict() ([]string, error) {
	if m.MaxBytes <= 0 {
		return nil, nil
	}
	entries, err := os.ReadDir(m.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	type envInfo struct {
		hash string
		used time.Time
		size int64
	}
	var envs []envInfo
	var total int64
	for _, e := range entries {
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		st, err := os.Stat(filepath.Join(m.Dir, e.Name(), completeFile))
		if err != nil {
			continue
		}
		size := dirSize(filepath.Join(m.Dir, e.Name()))
		total += size
		envs = append(envs, envInfo{e.Name(), st.ModTime(), size})
	}
	sort.Slice(envs, func(i, j int) bool { return envs[i].used.Before(envs[j].used) })
	var removed []string
	for _, e := range envs {
		if total <= m.MaxBytes {
			break
		}
		lk, err := os.OpenFile(filepath.Join(m.Dir, e.hash+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			continue
		}
		if syscall.Flock(int(lk.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			_ = lk.Close() // in use or being built
			continue
		}
		// Out of the cache first (one rename), then deleted.
		gone := filepath.Join(m.Dir, e.hash+".evicted")
		_ = os.RemoveAll(gone)
		if err := os.Rename(filepath.Join(m.Dir, e.hash), gone); err == nil {
			_ = os.RemoveAll(gone)
			total -= e.size
			removed = append(removed, e.hash)
			if m.Logger != nil {
				m.Logger.Info("python environment evicted", "env", e.hash, "bytes", e.size)
			}
		}
		_ = lk.Close()
	}
	return removed, nil
}

// lockFile opens path and takes a flock on it, giving up when ctx ends.
// While it waits, ready (when given) is asked whether waiting is still
// needed: when it says no, lockFile returns nil and no error.
func lockFile(ctx context.Context, path string, how int, ready func() bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("python environment lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("python environment lock: %w", err)
		}
		if ready != nil && ready() {
			_ = f.Close()
			return nil, nil
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// baseHome is the base interpreter's bin folder from pyvenv.cfg.
func baseHome(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "pyvenv.cfg"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == "home" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// tailBuffer keeps the last 4 KiB written: the end of uv's output is its
// error.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
