package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dlthub/dlthub/internal/store"
)

// sameOrigin refuses form posts sent from other sites (CSRF, login CSRF
// included): see crossOrigin.
func (s *Server) sameOrigin(w http.ResponseWriter, r *http.Request) bool {
	if s.crossOrigin(r) {
		page(w, http.StatusForbidden, "Refused", `<p>This form was sent from another site.</p>`)
		return false
	}
	return true
}

// crossOrigin says whether a request comes from another origin's page.
// Browsers mark every request with Sec-Fetch-Site and cross-origin POSTs
// with Origin; only same-origin (or "none": typed by the user) passes, so
// a sibling subdomain (same-site, e.g. an app's origin) is refused too.
// Requests with neither header are not from a browser page (the CLI,
// scripts) and pass; the cookie's SameSite=Lax covers old browsers.
func (s *Server) crossOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return true
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	pub, err := url.Parse(s.cfg.PublicURL)
	if err == nil && pub.Host != "" && o == pub.Scheme+"://"+pub.Host {
		return false
	}
	return r.Host == "" || (o != "http://"+r.Host && o != "https://"+r.Host)
}

// toSignIn sends the browser to the sign-in page, to come back to back.
func toSignIn(w http.ResponseWriter, r *http.Request, back string) {
	http.Redirect(w, r, "/login?next="+urlQueryEscape(back), http.StatusSeeOther)
}

// sessionCaller is the person signed in to a browser page. Pages are for
// sessions: only the session cookie counts, never an Authorization header,
// and a workspace-scoped key put in the cookie counts as nobody, since the
// pages show everything the person can see, not what one key may.
func (s *Server) sessionCaller(r *http.Request) (caller, bool) {
	tok := s.sessionToken(r)
	if tok == "" {
		return caller{}, false
	}
	c, ok := s.callerFor(r, tok)
	if !ok || c.Key.WorkspaceID != "" {
		return caller{}, false
	}
	return c, true
}

// pageUser is the signed-in person of a browser page; without one the
// browser is sent to sign in and come back to this page.
func (s *Server) pageUser(w http.ResponseWriter, r *http.Request) (store.User, bool) {
	u, ok := s.sessionCaller(r)
	if !ok {
		toSignIn(w, r, r.URL.RequestURI())
	}
	return u.User, ok
}

// sessionUser is the signed-in person of a browser page, or a redirect to
// sign in and come back.
func (s *Server) sessionUser(w http.ResponseWriter, r *http.Request, back string) (caller, bool) {
	u, ok := s.sessionCaller(r)
	if !ok {
		toSignIn(w, r, back)
	}
	return u, ok
}

// keysPage lists the user's API keys and login sessions with a form to
// create a key (personal, or developer/viewer for one workspace) and a
// button to revoke each.
func (s *Server) keysPage(w http.ResponseWriter, r *http.Request) {
	u, ok := s.sessionUser(w, r, "/api-keys")
	if !ok {
		return
	}
	s.renderKeys(w, r, u, http.StatusOK, "")
}

func (s *Server) renderKeys(w http.ResponseWriter, r *http.Request, u caller, status int, notice string) {
	ctx := r.Context()
	list, _ := s.cfg.Store.WorkspacesOfUser(ctx, u.ID)
	orgs := s.orgNames(r, u)
	wsName := map[string]string{}
	var b strings.Builder
	b.WriteString(notice)
	b.WriteString(`<h2>New key</h2><form method="post" action="/api-keys">
<label>Name <input name="name" placeholder="ci"></label>
<label>For <select name="workspace_id"><option value="">you (a personal key, acts as you everywhere)</option>`)
	for _, a := range list {
		name := orgs[a.Workspace.OrgID].Org.Name + "/" + a.Workspace.Name
		wsName[a.Workspace.ID] = name
		fmt.Fprintf(&b, `<option value="%s">workspace %s</option>`, html(a.Workspace.ID), html(name))
	}
	fmt.Fprintf(&b, `</select></label>
<label>Role in the workspace <select name="role"><option>developer</option><option>viewer</option></select></label>
<label>Expires in days <input name="expires_in_days" type="number" min="1" max="365" value="%d"></label>
<button>Create key</button></form>`, int(DefaultKeyTTL.Hours()/24))
	keys, err := s.cfg.Store.APIKeysOfUser(ctx, u.ID, store.Page{})
	if err == nil && len(keys) > 0 {
		b.WriteString(`<h2>Your keys and sessions</h2><div class="scroll"><table><tr><th>Name</th><th>For</th><th>Expires</th><th>Status</th><th><span class="visually-hidden">Action</span></th></tr>`)
		now := s.cfg.Now()
		for i := len(keys) - 1; i >= 0; i-- { // newest first
			k := keys[i]
			scope := "you"
			if k.WorkspaceID != "" {
				scope = wsName[k.WorkspaceID] + " (" + k.Role + ")"
			}
			// Each button names its key: a list of "Revoke" buttons says
			// nothing to a screen reader going from button to button.
			status, action := "active", fmt.Sprintf(`<form method="post" action="/api-keys/%s/revoke"><button aria-label="Revoke the key %s">Revoke</button></form>`, html(k.ID), html(k.Name))
			switch {
			case k.RevokedAt != nil:
				status, action = "revoked", ""
			case !now.Before(k.ExpiresAt):
				status, action = "expired", ""
			}
			fmt.Fprintf(&b, `<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>`,
				html(k.Name), html(scope), k.ExpiresAt.UTC().Format("2006-01-02"), status, action)
		}
		b.WriteString(`</table></div>`)
	}
	b.WriteString(`<p><a href="/">Your workspaces</a></p>`)
	page(w, status, "API keys", b.String())
}

func (s *Server) createKeyForm(w http.ResponseWriter, r *http.Request) {
	u, ok := s.sessionUser(w, r, "/api-keys")
	if !ok || !s.sameOrigin(w, r) {
		return
	}
	req := keyRequest{Name: r.FormValue("name"), WorkspaceID: r.FormValue("workspace_id")}
	if req.WorkspaceID != "" {
		req.Role = r.FormValue("role")
	}
	if d := r.FormValue("expires_in_days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			s.renderKeys(w, r, u, http.StatusBadRequest, `<p role="alert"><b>Expires in days must be a number from 1 to 365.</b></p>`)
			return
		}
		req.ExpiresInDays = n
	}
	k, tok, e := s.issueAPIKey(r.Context(), u, req)
	if e != nil {
		s.renderKeys(w, r, u, e.StatusCode, `<p role="alert"><b>`+html(e.Detail)+`</b></p>`)
		return
	}
	s.renderKeys(w, r, u, http.StatusCreated, `<p>Key <b>`+html(k.Name)+`</b> created. Copy it now; it is not shown again:</p>
<p><code>`+html(tok)+`</code></p><p>In CI: <code>RUNTIME__API_KEY=…</code> with <code>RUNTIME__API_BASE_URL=`+html(s.cfg.PublicURL)+`</code>.</p>`)
}

func (s *Server) revokeKeyForm(w http.ResponseWriter, r *http.Request) {
	u, ok := s.sessionUser(w, r, "/api-keys")
	if !ok || !s.sameOrigin(w, r) {
		return
	}
	found, err := s.revokeOwnKey(r.Context(), u.ID, r.PathValue("id"))
	switch {
	case err != nil:
		s.renderKeys(w, r, u, http.StatusInternalServerError, `<p><b>Could not revoke the key.</b></p>`)
	case !found:
		s.renderKeys(w, r, u, http.StatusNotFound, `<p><b>No such key of yours.</b></p>`)
	default:
		http.Redirect(w, r, "/api-keys", http.StatusSeeOther)
	}
}
