// Package runner runs a job's process: in its own process group, with its
// output streamed line by line (optionally timestamped), a timeout that
// sends SIGTERM to the whole group and SIGKILL after a grace period, and the
// same clean stop when the caller is cancelled (Ctrl-C).
package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Options configure a run.
type Options struct {
	Dir         string
	Env         []string
	Timeout     time.Duration // 0: none
	GracePeriod time.Duration
	Stdout      io.Writer
	Stderr      io.Writer
	// Timestamps prefix every line with the time it was printed.
	Timestamps bool
	// NewSession starts the process in a session of its own rather than
	// only a process group: it has no controlling terminal, so a job
	// cannot reach (read, or push input into) the terminal of the server
	// that started it. Signals still go to its process group.
	NewSession bool
	Now        func() time.Time
}

// Result says how a run ended.
type Result struct {
	ExitCode  int
	Signal    string // the signal that ended the process, if any
	TimedOut  bool
	Cancelled bool
	Killed    bool // SIGKILL after the grace period
	Duration  time.Duration
}

// Describe is a one-line account of the end of a run.
func (r Result) Describe() string {
	switch {
	case r.TimedOut && r.Killed:
		return fmt.Sprintf("timed out after %s: sent SIGTERM, then SIGKILL after the grace period", r.Duration.Round(time.Millisecond))
	case r.TimedOut:
		return fmt.Sprintf("timed out: stopped by SIGTERM after %s", r.Duration.Round(time.Millisecond))
	case r.Cancelled && r.Killed:
		return "cancelled: sent SIGTERM, then SIGKILL after the grace period"
	case r.Cancelled:
		return "cancelled: stopped by SIGTERM"
	case r.Signal != "":
		return "ended by " + r.Signal
	case r.ExitCode != 0:
		return fmt.Sprintf("failed with exit code %d in %s", r.ExitCode, r.Duration.Round(time.Millisecond))
	}
	return fmt.Sprintf("completed in %s", r.Duration.Round(time.Millisecond))
}

// OK reports a clean exit.
func (r Result) OK() bool { return r.ExitCode == 0 && r.Signal == "" && !r.TimedOut && !r.Cancelled }

// Run starts argv and waits for it.
func Run(ctx context.Context, argv []string, o Options) (Result, error) {
	if len(argv) == 0 {
		return Result{}, errors.New("empty command")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.GracePeriod <= 0 {
		o.GracePeriod = 30 * time.Second
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = o.Dir, o.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: !o.NewSession, Setsid: o.NewSession}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return Result{}, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return Result{}, err
	}
	start := o.Now()
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("start %s: %w", argv[0], err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	pump := func(r io.Reader, w io.Writer) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line := sc.Text()
			if o.Timestamps {
				line = o.Now().UTC().Format("2006-01-02T15:04:05.000Z") + " " + line
			}
			mu.Lock()
			fmt.Fprintln(w, line)
			mu.Unlock()
		}
	}
	wg.Add(2)
	go pump(stdout, o.Stdout)
	go pump(stderr, o.Stderr)
	done := make(chan error, 1)
	go func() {
		wg.Wait() // read all output before Wait closes the pipes
		done <- cmd.Wait()
	}()
	var res Result
	var timeout <-chan time.Time
	if o.Timeout > 0 {
		t := time.NewTimer(o.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	pgid := cmd.Process.Pid
	var waitErr error
	stop := func() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		grace := time.NewTimer(o.GracePeriod)
		defer grace.Stop()
		select {
		case waitErr = <-done:
		case <-grace.C:
			res.Killed = true
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			waitErr = <-done
		}
	}
	select {
	case waitErr = <-done:
	case <-timeout:
		res.TimedOut = true
		stop()
	case <-ctx.Done():
		res.Cancelled = true
		stop()
	}
	res.Duration = o.Now().Sub(start)
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Signal = ws.Signal().String()
			res.ExitCode = -1
		} else {
			res.ExitCode = ee.ExitCode()
		}
		return res, nil
	}
	return res, waitErr
}
