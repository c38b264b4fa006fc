package runner

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func run(t *testing.T, ctx context.Context, script string, o Options) (Result, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	o.Stdout, o.Stderr = &out, &errOut
	res, err := Run(ctx, []string{"/bin/sh", "-c", script}, o)
	if err != nil {
		t.Fatal(err)
	}
	return res, out.String(), errOut.String()
}

func TestOutputAndExitCode(t *testing.T) {
	res, out, errOut := run(t, context.Background(), `echo one; echo two >&2; echo "$GREETING"; exit 3`, Options{Env: []string{"GREETING=hi"}, Timestamps: true})
	if res.ExitCode != 3 || res.OK() || !strings.Contains(res.Describe(), "failed with exit code 3") {
		t.Errorf("%+v", res)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "Z one") || !strings.HasSuffix(lines[1], "Z hi") || !strings.HasSuffix(strings.TrimSpace(errOut), "Z two") {
		t.Errorf("out %q err %q", out, errOut)
	}
}

func TestTimeoutTermThenKill(t *testing.T) {
	// Exits on SIGTERM.
	res, _, _ := run(t, context.Background(), `sleep 5`, Options{Timeout: 200 * time.Millisecond, GracePeriod: time.Second})
	if !res.TimedOut || res.Killed || res.Signal != "terminated" {
		t.Errorf("term: %+v %s", res, res.Describe())
	}
	// Ignores SIGTERM: killed after the grace period, with its children.
	start := time.Now()
	res, out, _ := run(t, context.Background(), `trap 'echo got TERM' TERM; sleep 5 & wait; sleep 5 & wait`, Options{Timeout: 200 * time.Millisecond, GracePeriod: 300 * time.Millisecond})
	if !res.TimedOut || !res.Killed || res.Signal != "killed" || !strings.Contains(res.Describe(), "SIGTERM, then SIGKILL after the grace period") {
		t.Errorf("kill: %+v %s", res, res.Describe())
	}
	if !strings.Contains(out, "got TERM") {
		t.Errorf("child did not see SIGTERM first: %q", out)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s: the process group was not killed", d)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	res, _, _ := run(t, ctx, `sleep 5`, Options{GracePeriod: time.Second})
	if !res.Cancelled || res.OK() || res.Describe() != "cancelled: stopped by SIGTERM" {
		t.Errorf("%+v %s", res, res.Describe())
	}
}
