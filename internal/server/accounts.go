package server

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"github.com/dlthub/dlthub/internal/store"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func html(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")
	return r.Replace(s)
}

// safeNext keeps redirects on this server: only a path of this origin
// passes. Browsers read a backslash as a slash and drop tabs and newlines
// from URLs, so "/\evil.example" and "/\t/evil.example" mean
// "//evil.example", another host; those, any control character and
// anything with a scheme or host are refused.
func safeNext(n string) string {
	if !strings.HasPrefix(n, "/") || strings.ContainsRune(n, '\\') || strings.IndexFunc(n, unicode.IsControl) >= 0 {
		return "/"
	}
	u, err := url.Parse(n)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "//") || strings.HasPrefix(n, "//") {
		return "/"
	}
	return n
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	page(w, http.StatusOK, "Sign in", s.loginForm(next, ""))
}

// loginForm is the sign-in form, with the email typed before when a
// sign-in failed (the page shows the form again rather than a dead end).
func (s *Server) loginForm(next, email string) string {
	return `<form method="post" action="/login">
<input type="hidden" name="next" value="` + html(next) + `">
<label>Email <input name="email" type="email" autocomplete="username" required value="` + html(email) + `"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button>Sign in</button></form>` + s.githubLink(next)
}

// githubLink is the "Sign in with GitHub" link of the sign-in page, when
// GitHub is configured.
func (s *Server) githubLink(next string) string {
	if s.cfg.GitHub == nil {
		return ""
	}
	return `<p><a href="/login/github?next=` + html(urlQueryEscape(next)) + `">Sign in with GitHub</a></p>`
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u store.User) bool {
	tok, err := s.IssueToken(r.Context(), u.ID, "browser session", SessionTTL)
	if err != nil {
		page(w, http.StatusInternalServerError, "Error", `<p>Could not start a session.</p>`)
		return false
	}
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookieName(), Value: tok, Path: "/", HttpOnly: true, Secure: s.secureCookies(),
		SameSite: http.SameSiteLaxMode, MaxAge: int(SessionTTL.Seconds())})
	return true
}

// secureCookies marks cookies Secure when clients reach the server over
// HTTPS, so a session never travels in clear text.
func (s *Server) secureCookies() bool { return strings.HasPrefix(s.cfg.PublicURL, "https://") }

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(w, r) { // no signing a victim in to the attacker's account
		return
	}
	email := strings.ToLower(strings.TrimSpace(r.FormValue("email")))
	key := email + "|" + clientIP(r)
	if wait := s.logins.blocked(key, s.cfg.Now()); wait > 0 {
		retryAfter(w, wait)
		page(w, http.StatusTooManyRequests, "Sign in", `<p>Too many failed sign-ins for this email. Try again in `+html(wait.Round(time.Minute).String())+`.</p>`)
		return
	}
	u, err := s.cfg.Store.UserByEmail(r.Context(), email)
	if err != nil || u.PasswordHash == "" || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(r.FormValue("password"))) != nil {
		s.logins.fail(key, s.cfg.Now())
		page(w, http.StatusUnauthorized, "Sign in", `<p role="alert"><b>Wrong email or password.</b></p>`+s.loginForm(safeNext(r.FormValue("next")), email))
		return
	}
	s.logins.reset(key)
	if s.startSession(w, r, u) {
		http.Redirect(w, r, safeNext(r.FormValue("next")), http.StatusSeeOther)
	}
}

// validBootstrap says whether a setup link is open. The link's hash is in
// the database, not only in this process: every API process on the
// database adds its own link and the first one used claims the setup for
// all (store.ClaimSetup).
func (s *Server) validBootstrap(r *http.Request, tok string) bool {
	if tok == "" {
		return false
	}
	ok, err := s.cfg.Store.SetupTokenOpen(r.Context(), HashToken(tok))
	return err == nil && ok
}

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if !s.validBootstrap(r, tok) {
		page(w, http.StatusForbidden, "Setup", `<p>This setup link is not valid (it works once, on a server without users).</p>`)
		return
	}
	page(w, http.StatusOK, "Create the first owner", `<form method="post" action="/setup">
<input type="hidden" name="token" value="`+html(tok)+`">
<label>Name <input name="name" autocomplete="name"></label>
<label>Email <input name="email" type="email" autocomplete="email" required></label>
<label>Password (at least 8 characters) <input name="password" type="password" autocomplete="new-password" minlength="8" required></label>
<label>Organization <input name="org" value="default" autocomplete="organization"></label>
<button>Create</button></form>`)
}

// setup creates the first owner with an organization and a playground
// workspace, once per database.
func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(w, r) {
		return
	}
	tok := r.FormValue("token")
	if !s.validBootstrap(r, tok) {
		page(w, http.StatusForbidden, "Setup", `<p>This setup link is not valid.</p>`)
		return
	}
	email, pw := strings.TrimSpace(r.FormValue("email")), r.FormValue("password")
	if email == "" || len(pw) < 8 {
		page(w, http.StatusBadRequest, "Setup", `<p>An email and a password of at least 8 characters are needed.</p>`)
		return
	}
	ctx, hash := r.Context(), HashToken(tok)
	if err := s.cfg.Store.ClaimSetup(ctx, hash, s.cfg.Now().UTC()); err != nil {
		page(w, http.StatusForbidden, "Setup", `<p>This setup link is not valid: the first owner was created already.</p>`)
		return
	}
	u, err := s.CreateAccount(ctx, email, r.FormValue("name"), pw, r.FormValue("org"))
	if err != nil {
		if rerr := s.cfg.Store.ReleaseSetup(context.WithoutCancel(ctx), hash, s.cfg.Now().UTC()); rerr != nil {
			s.cfg.Logger.Error("setup: release the claim", "err", rerr)
		}
		page(w, http.StatusBadRequest, "Setup", `<p>`+html(err.Error())+`</p>`)
		return
	}
	s.mu.Lock()
	s.bootstrap = ""
	s.mu.Unlock()
	if s.startSession(w, r, u) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}

// CreateAccount creates a user with a hashed password, an organization they
// own (when org is set) and a playground workspace in it.
func (s *Server) CreateAccount(ctx context.Context, email, name, password, org string) (store.User, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return store.User{}, err
	}
	// The operator made it: its email counts as proven.
	return s.createUserWithOrg(ctx, store.User{Email: email, Name: name, PasswordHash: string(hash), EmailVerified: true}, org)
}

// createUserWithOrg creates a user, an organization they own (named org,
// "default" when empty) and its playground workspace: what every new user
// starts with. A user without a password hash signs in through GitHub only.
func (s *Server) createUserWithOrg(ctx context.Context, nu store.User, org string) (store.User, error) {
	u, err := s.cfg.Store.CreateUser(ctx, nu)
	if err != nil {
		return u, err
	}
	if org == "" {
		org = "default"
	}
	o, err := s.cfg.Store.CreateOrg(ctx, org, u.ID)
	if err != nil {
		return u, err
	}
	_, err = s.cfg.Store.CreateWorkspace(ctx, o.ID, "playground")
	return u, err
}

// home shows who is signed in, their workspaces and how to reach them
// from the CLI.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	c, ok := s.sessionCaller(r)
	u := c.User
	if !ok {
		pageIn(w, http.StatusOK, "dlthub", nil, `<p><a href="/login">Sign in</a></p>`)
		return
	}
	var b strings.Builder
	b.WriteString(`<p>Signed in as ` + html(u.Email) + `.</p>`)
	list, err := s.cfg.Store.WorkspacesOfUser(r.Context(), u.ID)
	if err == nil && len(list) > 0 {
		orgs, _ := s.cfg.Store.OrgsOfUser(r.Context(), u.ID)
		names := map[string]string{}
		for _, o := range orgs {
			names[o.Org.ID] = o.Org.Name
		}
		b.WriteString(`<div class="scroll"><table><tr><th>Organization</th><th>Workspace</th><th>Your role</th></tr>`)
		for _, a := range list {
			b.WriteString(`<tr><td>` + html(names[a.Workspace.OrgID]) + `</td><td><a href="` + WorkspacePagePath(a.Workspace.ID) + `">` +
				html(a.Workspace.Name) + `</a></td><td>` + html(a.Role) + `</td></tr>`)
		}
		b.WriteString(`</table></div>`)
	}
	b.WriteString(`<p><a href="/api-keys">API keys</a> for CI and scripts.</p>`)
	b.WriteString(`<p>From a workspace folder: <code>RUNTIME__API_BASE_URL=` + html(s.cfg.PublicURL) + ` dlthub login</code>, then <code>dlthub workspace connect</code> and <code>dlthub deploy</code>.</p>`)
	pageIn(w, http.StatusOK, "dlthub", nil, b.String())
}

// Password guessing is slowed per email and client address: after
// loginMaxFails failures within loginWindow, sign-in for that pair waits
// out the rest of the window.
const (
	loginMaxFails = 5
	loginWindow   = 15 * time.Minute
)

// loginLimiter counts failures (or, for requests that are throttled as
// such, requests) per key in memory, per server process: after Max within
// Window, the key waits out the rest of the window. Zero Max and Window
// are the sign-in limits (loginMaxFails per loginWindow).
type loginLimiter struct {
	Max    int
	Window time.Duration

	mu    sync.Mutex
	fails map[string]loginFails
}

type loginFails struct {
	n     int
	first time.Time
}

func (l *loginLimiter) limits() (int, time.Duration) {
	if l.Max == 0 {
		return loginMaxFails, loginWindow
	}
	return l.Max, l.Window
}

func (l *loginLimiter) blocked(key string, now time.Time) time.Duration {
	maxN, window := l.limits()
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.fails[key]
	if !ok || f.n < maxN || now.Sub(f.first) >= window {
		return 0
	}
	return f.first.Add(window).Sub(now)
}

func (l *loginLimiter) fail(key string, now time.Time) {
	_, window := l.limits()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fails == nil {
		l.fails = map[string]loginFails{}
	}
	if len(l.fails) > 10000 { // keep memory bounded: drop old windows
		for k, f := range l.fails {
			if now.Sub(f.first) >= window {
				delete(l.fails, k)
			}
		}
	}
	f := l.fails[key]
	if f.n == 0 || now.Sub(f.first) >= window {
		f = loginFails{first: now}
	}
	f.n++
	l.fails[key] = f
}

func (l *loginLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// retryAfter sets Retry-After to the whole seconds of wait, rounded up.
func retryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
}

// clientIP is the request's remote address without the port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
