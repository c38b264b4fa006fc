package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/store"
)

// appRestartPause is how long a published app that just failed is not
// started again for visitors (an app that crashes at once must not turn
// every visit into a run).
const appRestartPause = time.Minute

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
	s.api("POST /api/v1/workspaces/{id}/jobs/{ref}/publish", s.publishApp)
	s.api("DELETE /api/v1/workspaces/{id}/jobs/{ref}/publish", s.unpublishApp)
	// The control plane only sends browsers on to the apps origin
	// (apps_origin.go); AppsHandler proxies.
	s.mux.HandleFunc("GET /workspaces/{id}/apps/{ref}/{rest...}", s.appDoor)
	s.mux.HandleFunc("GET /p/{token}", s.publicLinkDoor)
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
	spec, err := s.activeSpec(ctx, ws.ID, ref)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, ref+" is not an active job of this workspace; deploy it first")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "could not read the jobs")
		return
	case spec.Type != "interactive":
		writeError(w, http.StatusBadRequest, ref+" is a batch job: run it with `dlthub run`")
		return
	}
	answer := func(status int, run store.Run) {
		writeJSON(w, status, map[string]any{"run": runJSON(run), "url": s.appsBase() + AppURLPath(ws.ID, ref)})
	}
	if runs, err := s.cfg.Store.Runs(ctx, ws.ID, ref, store.Page{Limit: 10}); err == nil {
		for _, run := range runs {
			if !run.Done() && run.Status != store.RunCancelling {
				answer(http.StatusOK, run)
				return
			}
		}
	}
	run, err := s.startApp(ctx, ws.ID, ref, spec, u.ID)
	if errors.Is(err, errNothingDeployed) {
		writeError(w, http.StatusConflict, "nothing is deployed to this workspace yet: run `dlthub deploy`")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not start the app")
		return
	}
	answer(http.StatusCreated, run)
}

// startApp queues the run that serves an interactive job's app.
func (s *Server) startApp(ctx context.Context, wsID, ref string, spec *jobs.ExpandedJob, by string) (store.Run, error) {
	profile := spec.RequiredProfile()
	if profile == "" {
		profile = "access" // DESIGN §6.7: apps read with the access profile
	}
	trigger := jobs.KindHTTP + ":"
	for _, t := range spec.Triggers {
		if strings.HasPrefix(t, jobs.KindHTTP+":") {
			trigger = t
		}
	}
	return s.queueRun(ctx, store.Run{WorkspaceID: wsID, JobRef: ref, Trigger: trigger, Profile: profile, CreatedBy: by})
}

// activeApp is the deployed spec of an active interactive job, or nil.
func (s *Server) activeApp(ctx context.Context, wsID, ref string) *jobs.ExpandedJob {
	spec, err := s.activeSpec(ctx, wsID, ref)
	if err != nil || spec.Type != "interactive" {
		return nil
	}
	return spec
}

// proxyApp forwards requests on the apps origin to the running app of an
// interactive job: a member's with the app cookie of this app (viewer and
// up; without it, to the control plane's door for a grant), or a
// visitor's with a live public link. The app never sees the control
// plane's cookies or an Authorization header.
func (s *Server) proxyApp(w http.ResponseWriter, r *http.Request) {
	ctx, wsID, ref := r.Context(), r.PathValue("id"), r.PathValue("ref")
	c, member := s.appMember(ctx, r, wsID, ref)
	public := !member && s.publicLinkOK(r, wsID, ref)
	if !member && !public {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, s.cfg.PublicURL+r.URL.RequestURI(), http.StatusSeeOther)
		return
	}
	var app *store.Run
	waiting := false
	runs, _ := s.cfg.Store.Runs(ctx, wsID, ref, store.Page{Limit: 10})
	crashedLately := len(runs) > 0 && runs[0].Status == store.RunFailed && runs[0].FinishedAt != nil && s.cfg.Now().Sub(*runs[0].FinishedAt) < appRestartPause
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
	if app == nil && !waiting && public && !crashedLately {
		// A published app starts for its visitors: they cannot run dlthub serve.
		if spec := s.activeApp(ctx, wsID, ref); spec != nil {
			if _, err := s.startApp(ctx, wsID, ref, spec, "public link"); err == nil {
				waiting = true
			}
		}
	}
	if app == nil {
		if waiting {
			w.Header().Set("Retry-After", "2")
			appsPage(w, http.StatusServiceUnavailable, "Starting", `<meta http-equiv="refresh" content="2"><p>`+html(ref)+` is starting; this page reloads.</p>`)
			return
		}
		if crashedLately && public {
			appsPage(w, http.StatusServiceUnavailable, "Not running", `<p>`+html(ref)+` failed a moment ago. Try again in a minute.</p>`)
			return
		}
		appsPage(w, http.StatusServiceUnavailable, "Not running", `<p>`+html(ref)+` is not running. Start it with <code>dlthub serve `+html(ref)+`</code>.</p>`)
		return
	}
	if now := s.cfg.Now(); s.touches.due(app.ID, now) {
		_ = s.cfg.Store.TouchRun(ctx, app.ID, now.UTC())
	}
	target := &url.URL{Scheme: "http", Host: app.Address}
	base := AppURLPath(wsID, ref)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.URL.Path, pr.Out.URL.RawPath = pr.In.URL.Path, pr.In.URL.RawPath // the app serves under its base path
			pr.SetXForwarded()
			pr.Out.Header.Del("Authorization")
			user := c.Email
			if public {
				user = "public"
			}
			pr.Out.Header.Set("X-Dlthub-User", user)
			// The app never sees the control plane's cookies (browsers
			// send them to another port of the same host), the visitor's
			// app cookie or link.
			pr.Out.Header.Del("Cookie")
			if keep := appRequestCookies(pr.In); keep != "" {
				pr.Out.Header.Set("Cookie", keep)
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			s.filterAppResponse(resp.Header, base)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			s.cfg.Logger.Warn("app proxy", "run", app.ID, "err", err)
			appsPage(w, http.StatusBadGateway, "App unreachable", `<p>`+html(ref)+` did not answer. It may be stopping; reload in a moment.</p>`)
		},
	}
	proxy.ServeHTTP(w, r)
}

// appLinkCookie carries a public link's token, scoped to its app's path.
const appLinkCookie = "dlthub_app_link"

// publicLinkOK reports whether the request carries a live public link to
// this app.
func (s *Server) publicLinkOK(r *http.Request, wsID, ref string) bool {
	ck, err := r.Cookie(appLinkCookie)
	if err != nil || ck.Value == "" {
		return false
	}
	l, err := s.cfg.Store.AppLinkByHash(r.Context(), HashToken(ck.Value))
	return err == nil && l.RevokedAt == nil && l.WorkspaceID == wsID && l.JobRef == ref
}

// publicLinkDoor sends a public link opened on the control plane (links
// made before apps had an origin of their own) to the apps origin.
func (s *Server) publicLinkDoor(w http.ResponseWriter, r *http.Request) {
	if s.cfg.AppsURL == "" {
		page(w, http.StatusServiceUnavailable, "No apps here", `<p>This server has no apps origin: start it with <code>dlthub server --apps-listen ADDR</code>.</p>`)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, s.cfg.AppsURL+"/p/"+url.PathEscape(r.PathValue("token")), http.StatusSeeOther)
}

// openPublicLink turns a public link into a cookie for its app's path on
// the apps origin and sends the visitor there.
func (s *Server) openPublicLink(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	w.Header().Set("Referrer-Policy", "no-referrer")
	l, err := s.cfg.Store.AppLinkByHash(r.Context(), HashToken(tok))
	if err != nil || l.RevokedAt != nil || s.activeApp(r.Context(), l.WorkspaceID, l.JobRef) == nil {
		appsPage(w, http.StatusNotFound, "Link not valid", `<p>This link was withdrawn, or its app is no longer deployed.</p>`)
		return
	}
	path := AppURLPath(l.WorkspaceID, l.JobRef)
	http.SetCookie(w, &http.Cookie{Name: appLinkCookie, Value: tok, Path: path, HttpOnly: true, Secure: s.secureApps(), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// publishApp makes a public link to an interactive job's app (developer
// and up); the link is in this answer only.
func (s *Server) publishApp(w http.ResponseWriter, r *http.Request) {
	u, ws, _, ok := s.workspaceAccess(w, r, store.RoleDeveloper)
	if !ok {
		return
	}
	ref := r.PathValue("ref")
	if s.activeApp(r.Context(), ws.ID, ref) == nil {
		writeError(w, http.StatusNotFound, ref+" is not an active interactive job of this workspace")
		return
	}
	tok := "pub_" + randomToken(24)
	if err := s.cfg.Store.CreateAppLink(r.Context(), store.AppLink{Hash: HashToken(tok), WorkspaceID: ws.ID, JobRef: ref, CreatedBy: u.ID, CreatedAt: s.cfg.Now().UTC()}); err != nil {
		writeError(w, http.StatusInternalServerError, "could not make the link")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"url": s.appsBase() + "/p/" + tok, "job_ref": ref})
}

// unpublishApp withdraws every public link of an app (developer and up).
func (s *Server) unpublishApp(w http.ResponseWriter, r *http.Request) {
	_, ws, _, ok := s.workspaceAccess(w, r, store.RoleDeveloper)
	if !ok {
		return
	}
	n, err := s.cfg.Store.RevokeAppLinks(r.Context(), ws.ID, r.PathValue("ref"), s.cfg.Now().UTC())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not withdraw the links")
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
}
