package worker_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/artifact"
	"github.com/dlthub/dlthub/internal/sandbox"
	"github.com/dlthub/dlthub/internal/store"
	"github.com/dlthub/dlthub/internal/worker"
)

// testSandbox is the sandbox workers run jobs in during tests: the real
// one wherever bubblewrap is installed (scripts/setup.sh installs it),
// none elsewhere.
func testSandbox(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Log("bubblewrap is not installed: jobs run unsandboxed")
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

// spy is a deployed job that tries what issue 11's attacker did: read the
// server's key and database, the worker's environment, another run's
// checkout and /root. It prints what it got, so the run's log shows it.
const spy = `#!/bin/sh
echo "uid=$(id -u)"
echo "key=$(cat %[1]s/secrets.key 2>&1)"
echo "db=$(head -c 15 %[2]s 2>&1)"
echo "environ=$(tr '\0' ' ' < /proc/%[3]d/environ 2>&1)"
echo "other=$(cat %[4]s/.dlt/secrets.toml 2>&1)"
echo "runs=$(ls %[1]s/runs 2>&1 | tr '\n' ' ')"
echo "root=$(ls -A /root 2>/dev/null | tr '\n' ' ')"
echo "home=$HOME tmp=$TMPDIR"
echo hi > written && echo "wrote $(cat written)"
`

// A job sees nothing of the server: not the data dir's key, the database,
// the worker's environment, another run's checkout or /root; its own
// checkout is writable and it does not run as root. Without the sandbox
// (the finding) it read them all.
func TestJobSeesNothingOfTheServer(t *testing.T) {
	sb := testSandbox(t)
	if sb == nil {
		t.Skip("SKIPPED: needs bubblewrap (apt-get install bubblewrap)")
	}
	data := t.TempDir() // the server's data dir: 0700, key, runs
	const masterKey = "MASTER-KEY-opens-every-workspace"
	if err := os.WriteFile(filepath.Join(data, "secrets.key"), []byte(masterKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(data, "runs")
	// Another run's checkout, of a live worker (this one), with its secrets.
	other := filepath.Join(runs, fmt.Sprintf("dlthub-run-%d-other", os.Getpid()))
	if err := os.MkdirAll(filepath.Join(other, ".dlt"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, ".dlt", "secrets.toml"), []byte("token = \"OTHER-TENANT-TOKEN\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := "[jobs.evil.spy]\ncommand = [\"./spy.sh\"]\n"
	p := newPlane(t, map[string]string{"spy.sh": fmt.Sprintf(spy, data, "PLACEHOLDER", os.Getpid(), other)}, m, nil)
	// The script needs the plane's database path: deploy it again with it.
	p.deploy(t, map[string]string{"spy.sh": fmt.Sprintf(spy, data, p.db, os.Getpid(), other)}, m, nil)

	for _, tc := range []struct {
		name string
		sb   *sandbox.Sandbox
	}{{"sandboxed", sb}, {"unsandboxed", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.run(t, "jobs.evil.spy")
			p.startWorker(t, func(c *worker.Config) { c.Dir, c.Sandbox = runs, tc.sb })
			got := p.wait(t, r.ID, done)
			logs := p.logs(t, r.ID)
			if got.Status != store.RunCompleted {
				t.Fatalf("%s %s\n%s", got.Status, got.Reason, logs)
			}
			// The worker's environment as it started (PATH=…), the other
			// checkout's name in the listing of the runs dir.
			leaks := []string{masterKey, "SQLite format 3", "PATH=", "OTHER-TENANT-TOKEN", filepath.Base(other) + " "}
			if tc.sb == nil {
				// Before the fix: the job read the key, the database,
				// the worker's environment and the other run's secrets.
				for _, l := range leaks {
					if !strings.Contains(logs, l) {
						t.Errorf("unsandboxed, the job was expected to read %q:\n%s", l, logs)
					}
				}
				return
			}
			for _, l := range leaks {
				if strings.Contains(logs, l) {
					t.Errorf("the sandboxed job read %q:\n%s", l, logs)
				}
			}
			for _, want := range []string{"stdout: root=\n", "stdout: wrote hi\n", " tmp=/tmp\n"} {
				if !strings.Contains(logs, want) {
					t.Errorf("logs lack %q:\n%s", want, logs)
				}
			}
			if strings.Contains(logs, "stdout: uid=0\n") || !strings.Contains(logs, fmt.Sprintf("stdout: uid=%d\n", sb.UID())) {
				t.Errorf("the job's uid:\n%s", logs)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(other, ".dlt", "secrets.toml")); err != nil || !strings.Contains(string(b), "OTHER") {
		t.Errorf("the other checkout was touched: %v", err)
	}
}

// Integer, float and multi-line secret values are masked in run logs
// (issue 11), as strings always were.
func TestNumbersAndMultiLineSecretsAreMasked(t *testing.T) {
	m := "[jobs.ingest.leak]\ncommand = [\"./leak.sh\"]\n"
	leak := "#!/bin/sh\ncat .dlt/prod.secrets.toml\necho \"pem line: $PEM\"\n"
	cfg := []artifact.ConfigFile{{Name: "prod.secrets.toml", Content: "pin = 739215\nratio = 3141.5926\nsmall = 42\n" +
		"key = \"\"\"\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n\"\"\"\n"}}
	p := newPlane(t, map[string]string{"leak.sh": leak}, m, cfg)
	ctx := context.Background()
	sealed, _ := p.ring().SealValue(ctx, p.ws, "first-line-of-it\nsecond-line-of-it")
	if err := p.st.SetVariable(ctx, store.Variable{WorkspaceID: p.ws, Name: "PEM", Secret: true, Value: sealed, UpdatedBy: p.user}); err != nil {
		t.Fatal(err)
	}
	r := p.run(t, "jobs.ingest.leak")
	p.startWorker(t)
	if got := p.wait(t, r.ID, done); got.Status != store.RunCompleted {
		t.Fatalf("%s %s", got.Status, got.Reason)
	}
	logs := p.logs(t, r.ID)
	for _, secret := range []string{"739215", "3141.5926", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "first-line-of-it", "second-line-of-it"} {
		if strings.Contains(logs, secret) {
			t.Errorf("%s is in the log:\n%s", secret, logs)
		}
	}
	for _, want := range []string{"stdout: pin = ****\n", "stdout: small = 42\n", "stdout: ****\n", "stdout: pem line: ****\n"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}
