package sandbox_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dlthub/dlthub/internal/runner"
	"github.com/dlthub/dlthub/internal/sandbox"
)

// TestMain doubles as the "worker" of TestKilledWorkerLeavesNoProcess
// (SANDBOX_TEST_WORKER=SECONDS: start a job that sleeps that long, then
// wait; SANDBOX_TEST_UNSAFE=1 starts it without the sandbox) and as the
// unprivileged caller of TestUnprivilegedWorker (SANDBOX_TEST_PROBE=DIR).
func TestMain(m *testing.M) {
	if secs := os.Getenv("SANDBOX_TEST_WORKER"); secs != "" {
		os.Exit(helperWorker(secs))
	}
	if dir := os.Getenv("SANDBOX_TEST_PROBE"); dir != "" {
		os.Exit(helperProbe(dir))
	}
	os.Exit(m.Run())
}

// helperWorker starts a job that leaves a daemon of its own session
// behind (setsid) and sleeps, with its output on ours, and waits for it.
func helperWorker(secs string) int {
	dir, err := os.MkdirTemp("", "sandbox-worker-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	argv := []string{"sh", "-c", "setsid sleep " + secs + " & echo started; sleep " + secs}
	if os.Getenv("SANDBOX_TEST_UNSAFE") == "" {
		sb, err := sandbox.New(sandbox.Config{})
		if err == nil {
			err = sb.Own(dir)
		}
		if err == nil {
			argv, err = sb.Command(sandbox.Job{Dir: dir, Argv: argv})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// helperProbe probes the sandbox as the (unprivileged) user it runs as
// and runs a job that reports its uid and whether it can write.
func helperProbe(dir string) int {
	sb, err := sandbox.New(sandbox.Config{})
	if err == nil {
		err = sb.Probe(context.Background(), dir)
	}
	if err != nil {
		fmt.Println("probe:", err)
		return 1
	}
	job, err := os.MkdirTemp(dir, "job-")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	argv, err := sb.Command(sandbox.Job{Dir: job, Argv: []string{"sh", "-c", "echo uid=$(id -u) root=$(ls / | tr '\\n' ' '); touch w && echo writable"}})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	if err := cmd.Run(); err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}

func newSandbox(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("SKIPPED: bubblewrap is not installed (apt-get install bubblewrap; scripts/setup.sh does it)")
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

// run runs a sandboxed shell script in dir and returns what it printed.
func run(t *testing.T, sb *sandbox.Sandbox, dir string, ro []string, script string) string {
	t.Helper()
	if err := sb.Own(dir); err != nil {
		t.Fatal(err)
	}
	argv, err := sb.Command(sandbox.Job{Dir: dir, ReadOnly: ro, Argv: []string{"sh", "-c", script}})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	res, err := runner.Run(context.Background(), argv, runner.Options{Dir: dir, Env: []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "TMPDIR=" + os.TempDir()},
		Stdout: &out, Stderr: &out, NewSession: true})
	if err != nil || !res.OK() {
		t.Fatalf("%s: %v\n%s", res.Describe(), err, out.String())
	}
	return out.String()
}

// The job sees its directory (writable), what it is given read-only, the
// system, and nothing of its caller: not a secret next to its directory,
// not the caller's processes, not the host's /tmp.
func TestJobSeesOnlyWhatItIsGiven(t *testing.T) {
	sb := newSandbox(t)
	data := t.TempDir() // 0700, as a server's data dir
	if err := os.WriteFile(filepath.Join(data, "secrets.key"), []byte("the-master-key"), 0o600); err != nil {
		t.Fatal(err)
	}
	job := filepath.Join(data, "runs", "job")
	env := filepath.Join(t.TempDir(), "env")
	for _, d := range []string{job, env} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	_ = os.Chmod(env, 0o755) // its parent stays 0700
	_ = os.WriteFile(filepath.Join(env, "lib.py"), []byte("x = 1\n"), 0o644)
	hostTmp, err := os.CreateTemp("", "host-tmp-")
	if err != nil {
		t.Fatal(err)
	}
	_ = hostTmp.Close()
	defer func() { _ = os.Remove(hostTmp.Name()) }()
	script := fmt.Sprintf(`
echo "uid=$(id -u) tmpdir=$TMPDIR pwd=$(pwd)"
cat %[1]s/secrets.key 2>/dev/null && echo SAW-KEY
ls %[1]s 2>/dev/null | grep -v runs && echo SAW-DATA
cat /proc/%[2]d/environ 2>/dev/null && echo SAW-ENVIRON
ls /proc | grep -E '^[0-9]+$' | wc -l | sed 's/^/pids=/'
test -e %[3]s && echo SAW-HOST-TMP
cat %[4]s/lib.py
echo x > %[4]s/lib.py 2>/dev/null && echo WROTE-RO
touch new /tmp/scratch && echo writable
ls /root 2>/dev/null | head -1 | grep . && echo SAW-ROOT
test -r /etc/ssl/certs && echo certs
test -e /etc/shadow && echo SAW-SHADOW
true`, data, os.Getpid(), hostTmp.Name(), env)
	out := run(t, sb, job, []string{env}, script)
	want := fmt.Sprintf("uid=%d tmpdir=/tmp pwd=%s\n", sb.UID(), job)
	if !strings.HasPrefix(out, want) {
		t.Errorf("want %q first:\n%s", want, out)
	}
	for _, bad := range []string{"the-master-key", "SAW-", "WROTE-RO"} {
		if strings.Contains(out, bad) {
			t.Errorf("the job saw %s:\n%s", bad, out)
		}
	}
	for _, good := range []string{"x = 1\n", "writable\n", "certs\n"} {
		if !strings.Contains(out, good) {
			t.Errorf("want %q:\n%s", good, out)
		}
	}
	// bwrap's PID 1 and the script's own: none of the host's processes.
	if _, rest, ok := strings.Cut(out, "pids="); !ok {
		t.Errorf("no pids line:\n%s", out)
	} else if n, _ := strconv.Atoi(strings.SplitN(rest, "\n", 2)[0]); n < 1 || n > 8 {
		t.Errorf("the job sees %d processes:\n%s", n, out)
	}
	if os.Geteuid() == 0 && sb.UID() == 0 {
		t.Errorf("a root worker's job runs as root")
	}
	if _, err := os.Stat(filepath.Join(job, "new")); err != nil {
		t.Errorf("the job's write is not in its directory: %v", err)
	}
}

// Cancelling a sandboxed job gives it its grace period: SIGTERM reaches
// the job itself, which may clean up, and bwrap waits for it.
func TestCancelSendsTheJobSIGTERMAndKeepsTheGracePeriod(t *testing.T) {
	sb := newSandbox(t)
	dir := t.TempDir()
	if err := sb.Own(dir); err != nil {
		t.Fatal(err)
	}
	script := `trap 'echo got TERM; sleep 0.3; echo cleaned up; exit 0' TERM; echo ready; while :; do sleep 0.05; done`
	argv, err := sb.Command(sandbox.Job{Dir: dir, Argv: []string{"sh", "-c", script}})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		res runner.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := runner.Run(ctx, argv, runner.Options{Dir: dir, Env: []string{"PATH=/usr/bin:/bin"}, Stdout: pw, Stderr: pw, GracePeriod: 20 * time.Second, NewSession: true})
		_ = pw.Close()
		done <- result{res, err}
	}()
	sc := bufio.NewScanner(pr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if sc.Text() == "ready" {
			cancel()
		}
	}
	r := <-done
	if r.err != nil || !r.res.Cancelled || r.res.Killed {
		t.Errorf("result %+v %v", r.res, r.err)
	}
	// sh may report its sleep "Terminated" anywhere in between (before
	// "got TERM" too: the sleep gets the same SIGTERM); the job's own
	// lines must be all three, in order.
	var own []string
	for _, l := range lines {
		if l != "Terminated" {
			own = append(own, l)
		}
	}
	if got := strings.Join(own, "|"); got != "ready|got TERM|cleaned up" {
		t.Errorf("output %q: the job did not get its grace period", got)
	}
	if r.res.Duration > 15*time.Second {
		t.Errorf("took %s: waited for SIGKILL", r.res.Duration)
	}
}

// A job that ignores SIGTERM is killed after the grace period, with
// everything it started.
func TestSIGKILLAfterGraceEndsTheSandbox(t *testing.T) {
	sb := newSandbox(t)
	dir := t.TempDir()
	if err := sb.Own(dir); err != nil {
		t.Fatal(err)
	}
	argv, err := sb.Command(sandbox.Job{Dir: dir, Argv: []string{"sh", "-c", `trap '' TERM; echo ready; sleep 600`}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if sc.Text() == "ready" {
				cancel()
			}
		}
	}()
	res, err := runner.Run(ctx, argv, runner.Options{Dir: dir, Env: []string{"PATH=/usr/bin:/bin"}, Stdout: pw, Stderr: pw, GracePeriod: 300 * time.Millisecond, NewSession: true})
	_ = pw.Close()
	if err != nil || !res.Killed {
		t.Errorf("result %+v %v", res, err)
	}
}

// A worker killed with SIGKILL leaves no process of its job behind, not
// even one that started a session of its own; without the sandbox it did.
func TestKilledWorkerLeavesNoProcess(t *testing.T) {
	newSandbox(t)
	t.Run("sandboxed", func(t *testing.T) {
		if left := killWorker(t, false); len(left) != 0 {
			t.Errorf("processes left behind: %v", left)
		}
	})
	t.Run("unsandboxed", func(t *testing.T) {
		// The finding the sandbox fixes: the job outlives its worker.
		left := killWorker(t, true)
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if len(left) == 0 {
			t.Errorf("without the sandbox the job was expected to outlive its worker")
		}
	})
}

// killWorker starts a helper "worker" whose job sleeps, SIGKILLs the
// worker once the job is running, and returns the job's processes still
// alive once the sandbox had its chance to end them.
func killWorker(t *testing.T, unsafe bool) []int {
	t.Helper()
	secs := fmt.Sprintf("%d.%06d", 900+os.Getpid()%97, time.Now().Nanosecond()/1000) // unique: found in /proc by it
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "SANDBOX_TEST_WORKER="+secs)
	if unsafe {
		cmd.Env = append(cmd.Env, "SANDBOX_TEST_UNSAFE=1")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "started\n" {
		_ = cmd.Process.Kill()
		t.Fatalf("the worker's job did not start: %q %v", line, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		for _, pid := range processesWith(t, secs) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	// The job said it started; its sleeps may still be on their way.
	var pids []int
	for wait := time.Now().Add(10 * time.Second); len(pids) < 2 && time.Now().Before(wait); time.Sleep(5 * time.Millisecond) {
		pids = processesWith(t, secs)
	}
	if len(pids) < 2 {
		t.Fatalf("want the job's two sleeps, found %v", pids)
	}
	var fds []unix.PollFd
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue // gone already
		}
		defer func() { _ = unix.Close(fd) }()
		fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	// A pidfd turns readable when its process ends: wait for that, not a
	// fixed time (bounded, since unsandboxed they never end).
	wait := 10 * time.Second
	if unsafe {
		wait = 500 * time.Millisecond // they would not end: the finding
	}
	deadline := time.Now().Add(wait)
	for _, p := range fds {
		for {
			left := time.Until(deadline)
			if left <= 0 {
				break
			}
			n, err := unix.Poll([]unix.PollFd{p}, int(left.Milliseconds())+1)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || n == 1 {
				break
			}
		}
	}
	return processesWith(t, secs)
}

// processesWith are the live (not zombie) processes whose command line
// contains s.
func processesWith(t *testing.T, s string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(b), s) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:])); len(f) > 0 && f[0] == "Z" {
				continue
			}
		}
		// Only the sleeps: sh -c also names the number.
		if strings.HasPrefix(string(b), "sleep\x00") {
			out = append(out, pid)
		}
	}
	return out
}

// A worker that is not root runs jobs as itself in a user namespace.
func TestUnprivilegedWorker(t *testing.T) {
	newSandbox(t)
	if os.Geteuid() != 0 {
		t.Skip("runs as root to become an unprivileged user; this process already is one (the other tests cover it)")
	}
	// The helper must be reachable by uid 65534: a copy of this binary in
	// a world-readable directory.
	dir, err := os.MkdirTemp("", "sandbox-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	_ = os.Chmod(dir, 0o755)
	exe, _ := os.Executable()
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	copyExe := filepath.Join(dir, "sandbox.test")
	if err := os.WriteFile(copyExe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	_ = os.Chown(work, sandbox.DefaultUID, sandbox.DefaultUID)
	cmd := exec.Command(copyExe)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "SANDBOX_TEST_PROBE=" + work}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: sandbox.DefaultUID, Gid: sandbox.DefaultUID}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.HasPrefix(string(out), fmt.Sprintf("uid=%d root=", sandbox.DefaultUID)) || !strings.Contains(string(out), "writable") {
		t.Errorf("unprivileged job: %s", out)
	}
}

func TestCommandRejectsBadPaths(t *testing.T) {
	sb := newSandbox(t)
	for _, j := range []sandbox.Job{
		{Dir: "relative", Argv: []string{"true"}},
		{Dir: "/", Argv: []string{"true"}},
		{Dir: "/tmp/x/../y", Argv: []string{"true"}},
		{Dir: "/tmp/x"},
		{Dir: "/tmp/x", ReadOnly: []string{"rel"}, Argv: []string{"true"}},
		{Dir: "/tmp/x", ReadOnly: []string{"/does/not/exist"}, Argv: []string{"true"}},
	} {
		if _, err := sb.Command(j); err == nil {
			t.Errorf("%+v: no error", j)
		}
	}
	if _, err := sandbox.New(sandbox.Config{Bwrap: "no-such-bwrap"}); err == nil || !strings.Contains(err.Error(), "apt-get install bubblewrap") {
		t.Errorf("missing bwrap: %v", err)
	}
}
