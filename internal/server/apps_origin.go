package server

// Apps on an origin of their own (DESIGN §6.7, issue 11).
//
// An interactive job's app is other people's code: its pages and scripts
// must never run on the control plane's origin, where they could read the
// API with a visitor's session, set the members' session cookie or frame
// the control plane's pages. So the control plane's listener does not
// proxy apps; a second handler (AppsHandler, `dlthub server
// --apps-listen`, public at Config.AppsURL) does, and only that:
//
//   - A member opens APPS_URL/workspaces/{id}/apps/{ref}/…. Without an app
//     cookie for that app the apps origin sends them to the same path on
//     the control plane (the "door"), which signs them in if needed, checks
//     they are a viewer or more, and sends them back to
//     APPS_URL/_dlthub/auth?grant=… with a grant: signed with a key
//     derived from Config.HashKey (every API process of one database has
//     it), naming the user, the app and the path to land on, valid for
//     appGrantTTL and redeemed once (per API process: a grant replayed on
//     another process behind a load balancer within those seconds gets one
//     more app cookie for the same member and app, nothing else).
//   - The apps origin exchanges the grant for its own cookie (appCookie,
//     HttpOnly, scoped to that app's path, never the control plane's name)
//     and proxies. The cookie is signed too, names the member and the app,
//     and ends with the member's session; the member's role is checked on
//     every request, so a member who lost access loses the app at once.
//   - Public links (/p/pub_…) land on the apps origin and set a link cookie
//     for the app's path, checked against the store on every request (a
//     withdrawn link stops at once).
//
// The apps origin never takes the control plane's session cookie or an
// Authorization header as authentication, removes every cookie whose name
// the control plane uses (dlthub_*, also with the __Host-/__Secure-
// prefixes) from requests it forwards, and rewrites the cookies an app
// sets: those named like the control plane's are dropped, the rest are
// made host-only and scoped to the app's path (rewritten rather than
// dropped, so apps whose framework sets Path=/ keep working, yet cannot
// reach other apps' paths or, with a Domain, other hosts). Proxied
// responses carry a Content-Security-Policy whose connect-src and
// form-action are the apps origin only (never the control plane), with
// frame-ancestors 'self', and X-Content-Type-Options: nosniff.
//
// Browsers do not isolate cookies by port, so with the default apps
// origin (the next port on the same host) the control plane's cookies
// reach the apps listener (it strips them) and an app's script could set
// a non-HttpOnly cookie the control plane would see. The control plane
// therefore treats two session cookies in one request as none (an app
// cannot add a second one to sign a member in as someone else), names the
// session cookie __Host-dlthub_session over HTTPS (a script of an HTTP
// origin, or of another host, cannot set it), and refuses
// cookie-authenticated API requests from any other origin, GET included.
// For production give the apps origin a host of its own (apps.example.com,
// better a domain of its own) with --apps-url.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dlthub/dlthub/internal/store"
)

const (
	// appCookie holds a member's app session on the apps origin, scoped to
	// one app's path.
	appCookie = "dlthub_app"
	// appGrantTTL bounds how long a grant in a URL can be redeemed.
	appGrantTTL = time.Minute
	// appAuthPath is where the apps origin redeems grants.
	appAuthPath = "/_dlthub/auth"
)

// appToken is what a grant or an app cookie says, signed.
type appToken struct {
	Purpose   string `json:"p"`           // "grant" or "app"
	User      string `json:"u"`           // user id
	Workspace string `json:"w"`           // workspace id
	Ref       string `json:"r"`           // job ref
	Next      string `json:"n,omitempty"` // grants: the path to land on
	Expires   int64  `json:"x"`           // unix seconds
	Ends      int64  `json:"e,omitempty"` // grants: when the app cookie ends
	Nonce     string `json:"j,omitempty"` // grants: once only
	// Session is the hash of the member's session (as stored): the app
	// cookie ends when that session is revoked (sign out) or expires.
	Session string `json:"k"`
}

// appKey is the key grants and app cookies are signed with, derived from
// the server's hash key (the same in every API process of a database).
func (s *Server) appKey() []byte {
	s.appKeyOnce.Do(func() {
		key := s.cfg.HashKey
		if len(key) == 0 {
			key = []byte(randomToken(32)) // this process only
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte("dlthub apps origin v1"))
		s.appSignKey = m.Sum(nil)
	})
	return s.appSignKey
}

func (s *Server) signApp(t appToken) string {
	b, _ := json.Marshal(t)
	body := base64.RawURLEncoding.EncodeToString(b)
	m := hmac.New(sha256.New, s.appKey())
	m.Write([]byte(t.Purpose + "." + body))
	return body + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// openApp checks a signed token of the given purpose and that it has not
// expired.
func (s *Server) openApp(v, purpose string) (appToken, bool) {
	body, sig, ok := strings.Cut(v, ".")
	if !ok || len(v) > 4096 {
		return appToken{}, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return appToken{}, false
	}
	m := hmac.New(sha256.New, s.appKey())
	m.Write([]byte(purpose + "." + body))
	if !hmac.Equal(got, m.Sum(nil)) {
		return appToken{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(body)
	var t appToken
	if err != nil || json.Unmarshal(b, &t) != nil || t.Purpose != purpose || s.cfg.Now().Unix() >= t.Expires {
		return appToken{}, false
	}
	return t, true
}

// spentGrants remembers redeemed grants until they expire.
type spentGrants struct {
	mu   sync.Mutex
	seen map[string]int64
}

// spend reports whether nonce was not spent yet, and spends it.
func (g *spentGrants) spend(nonce string, expires, now int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen == nil {
		g.seen = map[string]int64{}
	}
	for n, x := range g.seen {
		if now >= x {
			delete(g.seen, n)
		}
	}
	if _, ok := g.seen[nonce]; ok {
		return false
	}
	g.seen[nonce] = expires
	return true
}

// appsBase is the public URL apps are reached at.
func (s *Server) appsBase() string {
	if s.cfg.AppsURL != "" {
		return s.cfg.AppsURL
	}
	return s.cfg.PublicURL
}

// SetAppsURL sets the apps origin's public URL, for servers whose address
// is known only after they listen (tests on a random port).
func (s *Server) SetAppsURL(u string) { s.cfg.AppsURL = strings.TrimSuffix(u, "/") }

// secureApps marks the apps origin's cookies Secure when it is HTTPS.
func (s *Server) secureApps() bool { return strings.HasPrefix(s.cfg.AppsURL, "https://") }

// appDoor is the control plane's side of an app's address: it signs the
// member in, checks their role and sends them to the apps origin with a
// grant. It never proxies: the app runs on the apps origin only.
func (s *Server) appDoor(w http.ResponseWriter, r *http.Request) {
	wsID, ref := r.PathValue("id"), r.PathValue("ref")
	if s.cfg.AppsURL == "" {
		page(w, http.StatusServiceUnavailable, "No apps here", `<p>This server has no apps origin: start it with <code>dlthub server --apps-listen ADDR</code>.</p>`)
		return
	}
	c, ok := s.sessionCaller(r)
	if !ok {
		toSignIn(w, r, r.URL.RequestURI())
		return
	}
	if role, err := s.roleIn(r.Context(), c, wsID); err != nil || store.RoleRank(role) < store.RoleRank(store.RoleViewer) {
		page(w, http.StatusNotFound, "Not found", `<p>No such app that you can see.</p>`)
		return
	}
	now := s.cfg.Now()
	ends := now.Add(SessionTTL)
	if c.Key.ExpiresAt.Before(ends) {
		ends = c.Key.ExpiresAt
	}
	grant := s.signApp(appToken{Purpose: "grant", User: c.ID, Workspace: wsID, Ref: ref, Next: r.URL.RequestURI(),
		Expires: now.Add(appGrantTTL).Unix(), Ends: ends.Unix(), Nonce: randomToken(16), Session: c.Key.Hash})
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.cfg.AppsURL+appAuthPath+"?grant="+url.QueryEscape(grant), http.StatusSeeOther)
}

// redeemGrant turns a grant into the app cookie on the apps origin and
// sends the browser to the page it asked for.
func (s *Server) redeemGrant(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	g, ok := s.openApp(r.URL.Query().Get("grant"), "grant")
	base := AppURLPath(g.Workspace, g.Ref)
	now := s.cfg.Now().Unix()
	if !ok || g.Nonce == "" || !strings.HasPrefix(g.Next, base) || safeNext(g.Next) != g.Next || !s.spentGrants.spend(g.Nonce, g.Expires, now) {
		appsPage(w, http.StatusBadRequest, "Link expired", `<p>This sign-in link was used already or is too old. Open the app's address again.</p>`)
		return
	}
	v := s.signApp(appToken{Purpose: "app", User: g.User, Workspace: g.Workspace, Ref: g.Ref, Expires: g.Ends, Session: g.Session})
	http.SetCookie(w, &http.Cookie{Name: appCookie, Value: v, Path: base, HttpOnly: true, Secure: s.secureApps(),
		SameSite: http.SameSiteLaxMode, Expires: time.Unix(g.Ends, 0)})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, g.Next, http.StatusSeeOther)
}

// appMember is the member an app cookie of this app names, when it is
// valid and they may still see the workspace.
func (s *Server) appMember(ctx context.Context, r *http.Request, wsID, ref string) (store.User, bool) {
	for _, ck := range r.Cookies() {
		if ck.Name != appCookie {
			continue
		}
		t, ok := s.openApp(ck.Value, "app")
		if !ok || t.Workspace != wsID || t.Ref != ref || t.Session == "" {
			continue
		}
		// The member's session must still be live: signing out (or a
		// revoked login) ends their app cookies too.
		k, err := s.cfg.Store.APIKeyByHash(ctx, t.Session)
		if err != nil || k.UserID != t.User || k.RevokedAt != nil || !s.cfg.Now().Before(k.ExpiresAt) || k.WorkspaceID != "" {
			continue
		}
		u, err := s.cfg.Store.UserByID(ctx, t.User)
		if err != nil {
			continue
		}
		if role, err := s.roleIn(ctx, caller{User: u}, wsID); err != nil || store.RoleRank(role) < store.RoleRank(store.RoleViewer) {
			continue
		}
		return u, true
	}
	return store.User{}, false
}

// AppsHandler serves the apps origin: apps, public links and grant
// redemption, nothing of the control plane (its API and pages are 404
// here).
func (s *Server) AppsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/workspaces/{id}/apps/{ref}/{rest...}", s.proxyApp)
	mux.HandleFunc("GET /p/{token}", s.openPublicLink)
	mux.HandleFunc("GET "+appAuthPath, s.redeemGrant)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		appsPage(w, http.StatusNotFound, "Not found", `<p>This is the apps origin of a dlthub server: it serves apps only.</p>`)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := s.cfg.Now()
		w.Header().Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(rec, r)
		s.mu.Lock()
		s.requests[strconv.Itoa(rec.status)]++
		s.mu.Unlock()
		s.cfg.Logger.Info("app request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration_ms", s.cfg.Now().Sub(start).Milliseconds())
	})
}

// appsPage is a page of the apps origin itself (starting, not running):
// no script, no form, framed only by the app's own pages.
func appsPage(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'; form-action 'none'; base-uri 'none'")
	page(w, status, title, body)
}

// appCSP is the Content-Security-Policy of proxied app responses: the
// app's own scripts and styles (inline too: notebooks and dashboards need
// them), connections and form posts to the apps origin only, framed by
// its own pages only. An app's own CSP, if it sends one, applies as well.
func (s *Server) appCSP() string {
	self := "'self'"
	if u, err := url.Parse(s.cfg.AppsURL); err == nil && u.Host != "" {
		ws := "ws://"
		if u.Scheme == "https" {
			ws = "wss://"
		}
		self += " " + ws + u.Host
	}
	return "default-src 'self' data: blob:; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data: blob:; connect-src " + self + "; form-action 'self'; frame-ancestors 'self'; base-uri 'self'; object-src 'none'"
}

// controlPlaneCookie says whether a cookie name is one the control plane
// uses (or could, under a prefix): never forwarded to apps, never set by
// them.
func controlPlaneCookie(name string) bool {
	n := strings.ToLower(name)
	n = strings.TrimPrefix(n, "__host-")
	n = strings.TrimPrefix(n, "__secure-")
	return strings.HasPrefix(n, "dlthub_") || strings.HasPrefix(n, "dlthub-")
}

// appRequestCookies is the Cookie header an app receives: the visitor's
// cookies without any of the control plane's (nor the apps origin's own).
func appRequestCookies(r *http.Request) string {
	var keep []string
	for _, ck := range r.Cookies() {
		if !controlPlaneCookie(ck.Name) {
			keep = append(keep, ck.Name+"="+ck.Value)
		}
	}
	return strings.Join(keep, "; ")
}

// filterAppResponse secures a proxied app's response: its cookies are
// kept to the app (see the package comment of this file), and the CSP and
// nosniff headers are added.
func (s *Server) filterAppResponse(h http.Header, base string) {
	var keep []string
	for _, line := range h.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil || controlPlaneCookie(ck.Name) {
			continue
		}
		ck.Domain = ""
		if !strings.HasPrefix(ck.Path+"/", base) {
			ck.Path = base
		}
		if v := ck.String(); v != "" {
			keep = append(keep, v)
		}
	}
	h.Del("Set-Cookie")
	for _, v := range keep {
		h.Add("Set-Cookie", v)
	}
	h.Add("Content-Security-Policy", s.appCSP())
	h.Del("X-Content-Type-Options") // AppsHandler sets nosniff on every answer
}
