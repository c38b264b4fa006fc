package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/store"
	"github.com/dlthub/dlthub/internal/worker"
)

// A worker on another machine holds a worker credential, not the
// database or the master key. It gets the configuration and secrets of
// the runs it claimed, while they run; another worker, another instance
// of the same credential, a person's token or a revoked credential gets
// nothing. Secrets are sealed at rest with the workspace's data key.
func TestSecurityWorkersHoldOnlyTheirRuns(t *testing.T) {
	onBothStores(t, func(t *testing.T, mods ...func(*Config)) {
		tm := newTeam(t, mods...)
		st := tm.server.cfg.Store
		ctx := context.Background()
		ws := tm.ts + "/api/v1/workspaces/" + tm.analytics
		dev := tm.tokens["developer"]
		if code, body := call(t, http.MethodPost, ws+"/configurations", dev, `{"files":[{"name":"secrets.toml","content":"password = \"s3cret-config-value\"\n"}]}`); code != http.StatusCreated {
			t.Fatalf("configuration: %d %v", code, body)
		}
		if code, body := call(t, http.MethodPut, ws+"/variables/API_TOKEN", dev, `{"value":"s3cret-variable-value","secret":true}`); code != http.StatusOK {
			t.Fatalf("variable: %d %v", code, body)
		}
		// At rest: sealed with the workspace's data key, never in clear.
		vs, _ := st.Variables(ctx, tm.analytics)
		if len(vs) != 1 || !strings.HasPrefix(vs[0].Value, "dk1:") {
			t.Errorf("stored variable: %+v", vs)
		}
		_ = filepath.Walk(tm.blobDir, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("s3cret")) {
					t.Errorf("%s holds a secret in clear", p)
				}
			}
			return nil
		})
		if _, err := st.ReconcileJobs(ctx, tm.analytics, []store.Job{{Ref: "jobs.a", Hash: "h", Spec: `{}`}}, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		run, err := st.CreateRun(ctx, store.Run{WorkspaceID: tm.analytics, JobRef: "jobs.a", Trigger: "manual:jobs.a", Profile: "prod",
			DeploymentVersion: 1, ConfigurationVersion: 1, CreatedAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		tokA, err := CreateWorkerCredential(ctx, st, "box-a", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		tokB, _ := CreateWorkerCredential(ctx, st, "box-b", time.Now())
		a := &worker.Remote{URL: tm.ts, Token: tokA, Instance: "host-a:1"}
		b := &worker.Remote{URL: tm.ts, Token: tokB, Instance: "host-b:1"}
		if name, err := a.Hello(ctx); err != nil || name != "box-a/host-a:1" {
			t.Fatalf("hello: %q %v", name, err)
		}
		if _, err := b.Release(ctx, run.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("release of a pending run: %v", err)
		}
		got, err := a.Claim(ctx)
		if err != nil || got.ID != run.ID || got.Worker != "box-a/host-a:1" {
			t.Fatalf("claim: %+v %v", got, err)
		}
		if _, err := b.Claim(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second claim: %v", err)
		}
		// Another worker, and another instance of the same credential,
		// get nothing of the run and cannot touch it.
		for name, other := range map[string]*worker.Remote{"other credential": b, "other instance": {URL: tm.ts, Token: tokA, Instance: "host-a:2"}} {
			if _, err := other.Release(ctx, run.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: release: %v", name, err)
			}
			if rd, err := other.Package(ctx, run.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: package: %v", name, err)
				if rd != nil {
					_ = rd.Close()
				}
			}
			if _, err := other.Watch(ctx, run.ID, true); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: watch: %v", name, err)
			}
			if err := other.AppendRunLogs(ctx, run.ID, []store.LogLine{{Seq: 1, At: time.Now(), Stream: "stdout", Line: "forged"}}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: logs: %v", name, err)
			}
			if err := other.Finish(ctx, run.ID, store.RunCompleted, nil, "forged"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: finish: %v", name, err)
			}
			if _, err := other.LastCompletedEnd(ctx, run.ID, "jobs.a"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: last completed: %v", name, err)
			}
		}
		// Its own worker gets the run's configuration and secrets opened.
		rel, err := a.Release(ctx, run.ID)
		if err != nil || len(rel.Files) != 1 || !strings.Contains(rel.Files[0].Content, "s3cret-config-value") ||
			len(rel.Variables) != 1 || rel.Variables[0].Value != "s3cret-variable-value" || rel.Job.Ref != "jobs.a" {
			t.Fatalf("release: %+v %v", rel, err)
		}
		if err := a.Start(ctx, run.ID, nil, nil); err != nil {
			t.Fatal(err)
		}
		if r, err := a.Watch(ctx, run.ID, true); err != nil || r.Status != store.RunRunning {
			t.Errorf("watch: %+v %v", r, err)
		}
		if err := a.AppendRunLogs(ctx, run.ID, []store.LogLine{{Seq: 1, At: time.Now().UTC(), Stream: "stdout", Line: "hello"}}); err != nil {
			t.Error(err)
		}
		// People's tokens are not worker credentials, and the other way round.
		for _, tok := range []string{dev, tm.tokens["owner"], "dlw_forged", ""} {
			p := &worker.Remote{URL: tm.ts, Token: tok, Instance: "x:1"}
			if _, err := p.Release(ctx, run.ID); err == nil || errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "401") {
				t.Errorf("token %.8q: %v", tok, err)
			}
		}
		if code, _ := call(t, http.MethodGet, tm.ts+"/api/v1/me", tokA, ""); code != http.StatusUnauthorized {
			t.Errorf("a worker credential on the API: %d", code)
		}
		bad := &worker.Remote{URL: tm.ts, Token: tokA, Instance: "../../etc"}
		if _, err := bad.Hello(ctx); err == nil || !strings.Contains(err.Error(), "400") {
			t.Errorf("bad instance name: %v", err)
		}
		// Once the run ended, its secrets are not released again.
		code := 0
		if err := a.Finish(ctx, run.ID, store.RunCompleted, &code, "done"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Release(ctx, run.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("release after the run: %v", err)
		}
		if err := a.Finish(ctx, run.ID, "bogus", nil, ""); err == nil || !strings.Contains(err.Error(), "400") {
			t.Errorf("bogus status: %v", err)
		}
		// A revoked credential is refused from its next call.
		if err := st.RevokeWorkerCredential(ctx, "box-a", time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Claim(ctx); err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("revoked: %v", err)
		}
		if lines, _ := st.RunLogs(ctx, run.ID, 0, 10); len(lines) != 1 || lines[0].Line != "hello" {
			t.Errorf("logs: %+v", lines)
		}
	})
}
