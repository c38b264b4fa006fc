package server

import (
	"encoding/json"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/store"
)

// touchEvery bounds how often app traffic is written down as use (for the
// idle timeout): one write per run per interval, however busy the app.
const touchEvery = 5 * time.Second

// appTouches remembers when each app run was last written down as used.
type appTouches struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (a *appTouches) due(id string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last == nil {
		a.last = map[string]time.Time{}
	}
	if now.Sub(a.last[id]) < touchEvery {
		return false
	}
	a.last[id] = now
	return true
}

func (s *Server) appRoutes() {
	s.api("POST /api/v1/workspaces/{id}/jobs/{ref}/serve", s.serveApp)
	s.mux.HandleFunc("/workspaces/{id}/apps/{ref}/{rest...}", s.proxyApp)
}

// AppURLPath is the stable path of an interactive job's app.
func AppURLPath(workspaceID, ref string) string { return jobs.AppBasePath(workspaceID, ref) }

// serveApp starts an interactive job, or answers the run that serves it
// already (developer and up). The app is at url once its run is running.
func (s *Server) serveApp(w http.ResponseWriter, r *http.Request) {
	u, ws, _, ok := s.workspaceAccess(w, r, store.RoleDeveloper)
	if !ok {
		return
	}
	ctx, ref := r.Context(), r.PathValue("ref")
	list, err := s.cfg.Store.Jobs(ctx, ws.ID, store.Page{})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not read the jobs")
		return
	}
	var spec *jobs.ExpandedJob
	for _, j := range list {
		if j.Ref == ref && j.Active {
			spec = &jobs.ExpandedJob{}
			_ = json.Unmarshal([]byte(j.Spec), spec)
		}
	}
	switch {
	case spec == nil:
		writeError(w, http.StatusNotFound, ref+" is not an active job of this workspace; deploy it first")
		return
	case spec.Type != "interactive":
		writeError(w, http.StatusBadRequest, ref+" is a batch job: run it with `dlthub run`")
		return
	}
	answer := func(status int, run store.Run) {
		writeJSON(w, status, map[string]any{"run": runJSON(run), "url": s.cfg.PublicURL + AppURLPath(ws.ID, ref)})
	}
	if runs, err := s.cfg.Store.Runs(ctx, ws.ID, ref, store.Page{Limit: 10}); err == nil {
		for _, run := range runs {
			if !run.Done() && run.Status != store.RunCancelling {
				answer(http.StatusOK, run)
				return
			}
		}
	}
	ds, err := s.cfg.Store.Deployments(ctx, ws.ID, store.Page{Limit: 1})
	if err != nil || len(ds) == 0 {
		writeError(w, http.StatusConflict, "nothing is deployed to this workspace yet: run `dlthub deploy`")
		return
	}
	cv := 0
	if cs, err := s.cfg.Store.Configurations(ctx, ws.ID, store.Page{Limit: 1}); err == nil && len(cs) > 0 {
		cv = cs[0].Version
	}
	profile := spec.Require["profile"]
	if profile == "" {
		profile = "access" // DESIGN §6.7: apps read with the access profile
	}
	trigger := jobs.KindHTTP + ":"
	for _, t := range spec.Triggers {
		if strings.HasPrefix(t, jobs.KindHTTP+":") {
			trigger = t
		}
	}
	run, err := s.cfg.Store.CreateRun(ctx, store.Run{WorkspaceID: ws.ID, JobRef: ref, Trigger: trigger, Profile: profile,
		DeploymentVersion: ds[0].Version, ConfigurationVersion: cv, CreatedBy: u.ID, CreatedAt: s.cfg.Now().UTC()})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not start the app")
		return
	}
	if s.cfg.RunQueued != nil {
		s.cfg.RunQueued()
	}
	answer(http.StatusCreated, run)
}

// proxyApp forwards a signed-in member's requests to the running app of an
// interactive job (viewer and up), without their dlthub credentials.
func (s *Server) proxyApp(w http.ResponseWriter, r *http.Request) {
	c, ok := s.caller(r)
	if !ok {
		http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	ctx, wsID, ref := r.Context(), r.PathValue("id"), r.PathValue("ref")
	if role, err := s.roleIn(ctx, c, wsID); err != nil || store.RoleRank(role) < store.RoleRank(store.RoleViewer) {
		page(w, http.StatusNotFound, "Not found", `<p>No such app that you can see.</p>`)
		return
	}
	var app *store.Run
	waiting := false
	if runs, err := s.cfg.Store.Runs(ctx, wsID, ref, store.Page{Limit: 10}); err == nil {
		for i := range runs {
			switch {
			case runs[i].Status == store.RunRunning && runs[i].Address != "":
				app = &runs[i]
			case !runs[i].Done():
				waiting = true
			}
			if app != nil {
				break
			}
		}
	}
	if app == nil {
		if waiting {
			w.Header().Set("Retry-After", "2")
			page(w, http.StatusServiceUnavailable, "Starting", `<meta http-equiv="refresh" content="2"><p>`+html(ref)+` is starting; this page reloads.</p>`)
			return
		}
		page(w, http.StatusServiceUnavailable, "Not running", `<p>`+html(ref)+` is not running. Start it with <code>dlthub serve `+html(ref)+`</code>.</p>`)
		return
	}
	if now := s.cfg.Now(); s.touches.due(app.ID, now) {
		_ = s.cfg.Store.TouchRun(ctx, app.ID, now.UTC())
	}
	target := &url.URL{Scheme: "http", Host: app.Address}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.URL.Path, pr.Out.URL.RawPath = pr.In.URL.Path, pr.In.URL.RawPath // the app serves under its base path
			pr.SetXForwarded()
			pr.Out.Header.Del("Authorization")
			pr.Out.Header.Set("X-Dlthub-User", c.Email)
			// The app never sees the member's dlthub session.
			var keep []string
			for _, ck := range pr.In.Cookies() {
				if ck.Name != sessionCookie {
					keep = append(keep, ck.Name+"="+ck.Value)
				}
			}
			pr.Out.Header.Del("Cookie")
			if len(keep) > 0 {
				pr.Out.Header.Set("Cookie", strings.Join(keep, "; "))
			}
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			s.cfg.Logger.Warn("app proxy", "run", app.ID, "err", err)
			page(w, http.StatusBadGateway, "App unreachable", `<p>`+html(ref)+` did not answer. It may be stopping; reload in a moment.</p>`)
		},
	}
	proxy.ServeHTTP(w, r)
}
