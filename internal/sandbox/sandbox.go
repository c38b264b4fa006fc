// Package sandbox runs a job's command in a sandbox of its own (DESIGN
// §6.7a) with bubblewrap (bwrap, `apt-get install bubblewrap`).
//
// Why bubblewrap: a job is untrusted code, and a worker that runs it as
// its own OS user hands it the server's data dir (secrets.key, the
// database, the blobs), the other runs' checkouts and /proc/<server>/environ.
// bwrap is a small, widely audited program (Flatpak's) that builds a
// process a new root from the Linux namespaces and bind mounts it is told
// about; there is no daemon, no image and no cgroup setup, so a sandboxed
// start costs a few milliseconds (see `make bench`, run_dispatch_sandbox).
//
// What a sandboxed command is given, and nothing else:
//
//   - new mount, PID, IPC, UTS and cgroup namespaces (and, when the
//     worker is not root, a user namespace); the network is shared,
//     because jobs call APIs and interactive jobs listen on a port the
//     worker probes on 127.0.0.1;
//   - /usr (and /bin, /lib, … as the host has them, as symlinks or
//     read-only binds), a few files of /etc for users, DNS, TLS
//     certificates, time zones and the dynamic linker, all read-only;
//   - its own /proc (only its own processes), a minimal /dev and a
//     private, empty /tmp (TMPDIR=/tmp);
//   - the job's working directory, writable, bound at its own path and
//     its working directory; other paths it needs (a Python environment,
//     the dlthub binary) read-only at their own paths.
//
// Credentials. A worker running as root starts bwrap as root (bwrap then
// needs no user namespace) and the command drops to an unprivileged uid
// and gid (65534, nobody/nogroup, by default) with setpriv before it
// starts: the job's real uid is that uid on the host too, it holds no
// capability and cannot gain one (no_new_privs, empty bounding set). It
// is not bwrap that is started with that uid because bwrap 0.8 walks every
// bind source as the calling user: a checkout under a 0700 data dir, a
// Python under /root or a binary under /tmp/go-build… would all be out of
// its reach (measured: "Can't find source path …: Permission denied", also
// with --bind-fd). Own hands the job's directory to that uid. A worker that
// is not root runs jobs as its own uid, in a user namespace.
//
// Stopping. internal/runner stops a job with SIGTERM to its process group
// and SIGKILL after the grace period. bwrap does not forward signals and
// dies of SIGTERM at once, and with it (--die-with-parent, PID namespace)
// the job: measured, the grace period was lost. So bwrap is started with
// SIGTERM ignored (`env --ignore-signal=TERM`) and the job with it restored
// (`env --default-signal=TERM`): SIGTERM reaches the job, which is in the
// same process group, and only the job; SIGKILL still ends bwrap and thus
// everything in the sandbox. A job ended by a signal is reported by bwrap
// as exit status 128+signal (143 for SIGTERM).
//
// Death with the worker. --die-with-parent makes the kernel SIGKILL bwrap
// when the process that started it dies (even by SIGKILL), and bwrap's
// PID 1 with it; when a PID namespace's first process dies the kernel
// kills every other process in it, so nothing survives a killed worker,
// not even a daemon that left the process group. (Like Go's own
// Pdeathsig, the kernel ties this to the starting thread; the Go runtime
// does not end threads that are not locked.)
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultUID is the uid (and gid) jobs run as when the worker is root:
// nobody/nogroup on Debian.
const DefaultUID = 65534

// Config configures a Sandbox.
type Config struct {
	// Bwrap is the bubblewrap binary (default bwrap on PATH).
	Bwrap string
	// UID and GID are the credential of jobs when the worker runs as root
	// (default DefaultUID; GID defaults to UID); a worker that is not root
	// runs jobs as itself.
	UID, GID int
}

// Sandbox builds sandboxed command lines. It is safe for concurrent use.
type Sandbox struct {
	bwrap, env, setpriv string
	uid, gid            int
	root                bool // the caller is root: drop to uid/gid inside
	system              []string
}

// New finds bwrap and the helpers a sandboxed command needs; Probe then
// checks that this kernel lets them work.
func New(cfg Config) (*Sandbox, error) {
	s := &Sandbox{uid: cfg.UID, gid: cfg.GID, root: os.Geteuid() == 0}
	if s.uid == 0 && s.gid == 0 {
		s.uid = DefaultUID
	}
	if s.gid == 0 {
		s.gid = s.uid
	}
	if s.uid <= 0 || s.gid <= 0 {
		return nil, fmt.Errorf("sandbox: jobs must not run as uid or gid 0 (got %d:%d)", s.uid, s.gid)
	}
	name := cfg.Bwrap
	if name == "" {
		name = "bwrap"
	}
	var err error
	if s.bwrap, err = exec.LookPath(name); err != nil {
		return nil, fmt.Errorf("sandbox: bubblewrap (%s) is not installed; install it with `apt-get install bubblewrap`: %w", name, err)
	}
	if s.env, err = exec.LookPath("env"); err != nil {
		return nil, fmt.Errorf("sandbox: env (coreutils) is missing: %w", err)
	}
	if s.root {
		if s.setpriv, err = exec.LookPath("setpriv"); err != nil {
			return nil, fmt.Errorf("sandbox: setpriv (util-linux) is missing; it drops a job's root credential: %w", err)
		}
	}
	s.system = systemDirs()
	return s, nil
}

// Root reports whether jobs are started by root and drop to UID.
func (s *Sandbox) Root() bool { return s.root }

// UID is the uid jobs run as.
func (s *Sandbox) UID() int {
	if s.root {
		return s.uid
	}
	return os.Getuid()
}

// etcFiles are the parts of /etc a job may read: users and groups, name
// resolution, TLS certificates, time zone, the dynamic linker's cache,
// Debian's alternatives. Not /etc/ssl/private, not /etc/shadow.
func etcFiles() []string {
	return []string{
		"passwd", "group", "hosts", "host.conf", "resolv.conf", "nsswitch.conf", "gai.conf", "services", "protocols",
		"ssl/certs", "ssl/openssl.cnf", "ca-certificates", "ca-certificates.conf", "pki/tls/certs",
		"localtime", "timezone", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "mime.types",
	}
}

// systemDirs are the top-level system directories bound read-only (or
// recreated as the symlinks they are on a merged-/usr system).
func systemDirs() []string {
	var out []string
	for _, d := range []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
		if _, err := os.Lstat(d); err == nil {
			out = append(out, d)
		}
	}
	return out
}

// Job is a command to sandbox.
type Job struct {
	// Dir is the job's directory: writable, its working directory, bound
	// at its own path. It must be an absolute, clean path.
	Dir string
	// ReadOnly are further paths it needs, bound read-only at their own
	// path (those under the system directories are there already).
	ReadOnly []string
	// Argv is the command, resolved inside the sandbox (PATH, Dir).
	Argv []string
}

// Command is the command line that runs j in the sandbox. Start it in its
// own process group (internal/runner does), with the job's environment:
// TMPDIR becomes /tmp inside, the rest passes through.
func (s *Sandbox) Command(j Job) ([]string, error) {
	if len(j.Argv) == 0 {
		return nil, errors.New("sandbox: empty command")
	}
	if !filepath.IsAbs(j.Dir) || filepath.Clean(j.Dir) != j.Dir || j.Dir == "/" {
		return nil, fmt.Errorf("sandbox: the job's directory %q must be an absolute, clean path below /", j.Dir)
	}
	a := []string{s.env, "--ignore-signal=TERM", s.bwrap, "--die-with-parent"}
	if s.root {
		// As root bwrap needs no user namespace; the job drops to uid/gid.
		a = append(a, "--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try")
	} else {
		a = append(a, "--unshare-all", "--share-net")
	}
	for _, d := range s.system {
		if target, err := os.Readlink(d); err == nil {
			a = append(a, "--symlink", target, d)
		} else {
			a = append(a, "--ro-bind", d, d)
		}
	}
	a = append(a, "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp", "--setenv", "TMPDIR", "/tmp")
	made := map[string]bool{"/": true, "/tmp": true}
	// parents makes p's missing ancestors traversable for the job (bwrap
	// makes them 0700, root's when the worker is root).
	parents := func(p string) {
		var chain []string
		for d := filepath.Dir(p); !made[d]; d = filepath.Dir(d) {
			chain = append(chain, d)
			made[d] = true
		}
		for i := len(chain) - 1; i >= 0; i-- {
			a = append(a, "--perms", "0755", "--dir", chain[i])
		}
	}
	for _, f := range etcFiles() {
		parents("/etc/" + f)
		a = append(a, "--ro-bind-try", "/etc/"+f, "/etc/"+f)
	}
	ro := append([]string{s.env, s.setpriv}, j.ReadOnly...)
	sort.Strings(ro) // parents before children
	seen := map[string]bool{}
	for _, p := range ro {
		if p == "" || seen[p] || s.covered(p) {
			continue
		}
		if !filepath.IsAbs(p) || filepath.Clean(p) == "/" {
			return nil, fmt.Errorf("sandbox: read-only path %q must be absolute and not /", p)
		}
		p = filepath.Clean(p)
		seen[p] = true
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("sandbox: read-only path: %w", err)
		}
		parents(p)
		a = append(a, "--ro-bind", p, p)
		made[p] = true
	}
	parents(j.Dir)
	a = append(a, "--bind", j.Dir, j.Dir, "--chdir", j.Dir, "--")
	if s.root {
		a = append(a, s.setpriv, "--reuid", strconv.Itoa(s.uid), "--regid", strconv.Itoa(s.gid), "--clear-groups",
			"--inh-caps=-all", "--bounding-set=-all", "--no-new-privs")
	}
	a = append(a, s.env, "--default-signal=TERM")
	return append(a, j.Argv...), nil
}

// covered reports whether p is inside the system directories already
// visible in the sandbox, itself or once its symlinks are resolved.
func (s *Sandbox) covered(p string) bool {
	in := func(p string) bool {
		for _, d := range s.system {
			if p == d || strings.HasPrefix(p, d+"/") {
				return true
			}
		}
		return false
	}
	if !in(p) {
		return false
	}
	real, err := filepath.EvalSymlinks(p)
	return err == nil && in(real)
}

// Own makes dir and everything in it the job's, so it may write there:
// chown to UID/GID when the worker is root (symlinks are not followed);
// nothing otherwise. Call it after the checkout is written, before the
// job starts.
func (s *Sandbox) Own(dir string) error {
	if !s.root {
		return nil
	}
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, s.uid, s.gid)
	})
	if err != nil {
		return fmt.Errorf("sandbox: hand %s to uid %d: %w", dir, s.uid, err)
	}
	return nil
}

// Probe runs a trivial command in the sandbox, in a fresh directory under
// dir (where the worker's checkouts go, so that is checked too), and says
// why it cannot when it cannot.
func (s *Sandbox) Probe(ctx context.Context, dir string) error {
	tmp, err := os.MkdirTemp(dir, "dlthub-sandbox-probe-")
	if err != nil {
		return fmt.Errorf("sandbox probe: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if err := s.Own(tmp); err != nil {
		return err
	}
	argv, err := s.Command(Job{Dir: tmp, Argv: []string{"sh", "-c", "id -u > probe"}})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = tmp
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + tmp}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return s.explain(err, stderr.String())
	}
	got, err := os.ReadFile(filepath.Join(tmp, "probe"))
	if err != nil {
		return fmt.Errorf("sandbox probe: the sandboxed command could not write its directory: %w", err)
	}
	if uid := strings.TrimSpace(string(got)); uid != strconv.Itoa(s.UID()) {
		return fmt.Errorf("sandbox probe: the sandboxed command ran as uid %s, want %d", uid, s.UID())
	}
	return nil
}

// explain turns a failed probe into what to do about it.
func (s *Sandbox) explain(err error, stderr string) error {
	msg := strings.TrimSpace(stderr)
	switch {
	case strings.Contains(msg, "ignore-signal") || strings.Contains(msg, "default-signal"):
		return fmt.Errorf("sandbox: %s does not know --ignore-signal (coreutils 8.31 or later is needed to keep a job's grace period): %s", s.env, msg)
	case strings.Contains(msg, "namespace") || strings.Contains(msg, "uid map") || strings.Contains(msg, "Operation not permitted"):
		return fmt.Errorf("sandbox: bwrap may not create namespaces here: %s%s", msg, userNamespaceHint(s.root))
	case msg == "":
		return fmt.Errorf("sandbox: bwrap failed: %w", err)
	}
	return fmt.Errorf("sandbox: bwrap failed: %w: %s", err, msg)
}

// userNamespaceHint names the setting that stops namespaces, when one does.
func userNamespaceHint(root bool) string {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	if root {
		return " (as root this needs CAP_SYS_ADMIN: in a container, allow it or run the worker on the host)"
	}
	switch {
	case read("/proc/sys/kernel/unprivileged_userns_clone") == "0":
		return " (unprivileged user namespaces are off: sysctl -w kernel.unprivileged_userns_clone=1, or run the worker as root)"
	case read("/proc/sys/user/max_user_namespaces") == "0":
		return " (user namespaces are off: sysctl -w user.max_user_namespaces=15000, or run the worker as root)"
	case read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
		return " (AppArmor restricts unprivileged user namespaces: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or run the worker as root)"
	}
	return " (unprivileged user namespaces are needed: check sysctls kernel.unprivileged_userns_clone and user.max_user_namespaces, or run the worker as root)"
}
