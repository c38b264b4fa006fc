package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/store"
)

// A published app that failed a moment ago is not started again for every
// visitor.
func TestPublishedAppThatJustFailedWaits(t *testing.T) {
	tm := newTeam(t)
	ctx := context.Background()
	st := tm.server.cfg.Store
	ann := mustUser(t, st, "ann@acme.test")
	m, _ := jobs.Parse([]byte("[jobs.apps.dash]\ntype = \"interactive\"\ncommand = [\"false\"]\n"), "dlthub.toml")
	spec, _ := json.Marshal(m.Expand().Jobs[0])
	if _, err := st.ReconcileJobs(ctx, tm.analytics, []store.Job{{Ref: "jobs.apps.dash", Hash: "h", Spec: string(spec)}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateDeployment(ctx, store.Deployment{WorkspaceID: tm.analytics, ContentHash: "h", BlobKey: "k", CreatedBy: ann}); err != nil {
		t.Fatal(err)
	}
	r, _ := st.CreateRun(ctx, store.Run{WorkspaceID: tm.analytics, JobRef: "jobs.apps.dash", Trigger: "http:", Profile: "access", DeploymentVersion: 1, CreatedBy: ann})
	code := 1
	if err := st.FinishRun(ctx, r.ID, store.RunFailed, &code, "exit 1", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, out := call(t, http.MethodPost, tm.ts+"/api/v1/workspaces/"+tm.analytics+"/jobs/jobs.apps.dash/publish", tm.tokens["owner"], "")
	jar, _ := cookiejar.New(nil)
	visitor := &http.Client{Jar: jar}
	resp, err := visitor.Get(out["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "failed a moment ago") {
		t.Errorf("visit: %d %s", resp.StatusCode, body)
	}
	if runs, _ := st.Runs(ctx, tm.analytics, "jobs.apps.dash", store.Page{}); len(runs) != 1 {
		t.Errorf("%d runs: a crashing app was started again", len(runs))
	}
}
