package server

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"github.com/dlthub/dlthub/internal/store"
)

// GitHubConfig turns on "Sign in with GitHub" (the OAuth web flow of a
// GitHub OAuth app whose callback URL is PUBLIC_URL/login/github/callback).
type GitHubConfig struct {
	ClientID     string
	ClientSecret string
	// URL is GitHub's web address (default https://github.com) and APIURL
	// its REST API (default https://api.github.com); GitHub Enterprise and
	// tests set both.
	URL    string
	APIURL string
	// Signup lets a GitHub user without an account here sign up: they get
	// a user, an organization named after their login and a playground
	// workspace. Without it only existing users may sign in with GitHub.
	Signup bool
	// HTTPClient calls GitHub (nil: http.DefaultClient).
	HTTPClient *http.Client
}

const (
	githubProvider    = "github"
	githubStateCookie = "dlthub_github"
	githubStateTTL    = 600 // seconds a sign-in may take at GitHub
)

func (g *GitHubConfig) withDefaults() *GitHubConfig {
	c := *g
	if c.URL == "" {
		c.URL = "https://github.com"
	}
	if c.APIURL == "" {
		c.APIURL = "https://api.github.com"
	}
	c.URL = strings.TrimSuffix(c.URL, "/")
	c.APIURL = strings.TrimSuffix(c.APIURL, "/")
	if c.HTTPClient == nil {
		c.HTTPClient = http.DefaultClient
	}
	return &c
}

func (s *Server) githubOAuth() *oauth2.Config {
	g := s.cfg.GitHub
	return &oauth2.Config{
		ClientID:     g.ClientID,
		ClientSecret: g.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   g.URL + "/login/oauth/authorize",
			TokenURL:  g.URL + "/login/oauth/access_token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: s.cfg.PublicURL + "/login/github/callback",
		Scopes:      []string{"read:user", "user:email"},
	}
}

// githubStart sends the browser to GitHub. The state, the PKCE verifier
// and where to go afterwards ride in a short-lived HttpOnly cookie, so a
// callback is only accepted in the browser that started it (no login
// CSRF) and any server instance can finish it.
func (s *Server) githubStart(w http.ResponseWriter, r *http.Request) {
	state, verifier := randomToken(16), oauth2.GenerateVerifier()
	next := safeNext(r.URL.Query().Get("next"))
	http.SetCookie(w, &http.Cookie{
		Name:     githubStateCookie,
		Value:    state + "." + verifier + "." + base64.RawURLEncoding.EncodeToString([]byte(next)),
		Path:     "/login/github",
		MaxAge:   githubStateTTL,
		HttpOnly: true,
		Secure:   s.secureCookies(),
		SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, s.githubOAuth().AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// githubCallback finishes the web flow: code → token → the GitHub user and
// their verified emails → a user here → a browser session.
func (s *Server) githubCallback(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: githubStateCookie, Value: "", Path: "/login/github", MaxAge: -1, HttpOnly: true})
	q := r.URL.Query()
	var state, verifier, next string
	if c, err := r.Cookie(githubStateCookie); err == nil {
		if parts := strings.SplitN(c.Value, ".", 3); len(parts) == 3 {
			state, verifier = parts[0], parts[1]
			if b, err := base64.RawURLEncoding.DecodeString(parts[2]); err == nil {
				next = safeNext(string(b))
			}
		}
	}
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(q.Get("state"))) != 1 {
		page(w, http.StatusBadRequest, "Sign in with GitHub", `<p>This sign-in did not start in this browser, or took too long. <a href="/login">Start again</a>.</p>`)
		return
	}
	if e := q.Get("error"); e != "" {
		msg := "GitHub sign-in was cancelled."
		if e != "access_denied" {
			msg = "GitHub refused the sign-in: " + e + "."
		}
		page(w, http.StatusUnauthorized, "Sign in with GitHub", `<p>`+html(msg)+` <a href="/login">Back to sign in</a>.</p>`)
		return
	}
	gh, err := s.githubIdentity(r.Context(), q.Get("code"), verifier)
	if err != nil {
		s.cfg.Logger.Warn("github sign-in failed", "err", err)
		page(w, http.StatusBadGateway, "Sign in with GitHub", `<p>Could not complete the sign-in with GitHub: `+html(err.Error())+`. Try again; if it keeps failing, ask the server's administrator to check the GitHub client id and secret.</p>`)
		return
	}
	u, err := s.githubUser(r.Context(), gh)
	var refused *signInRefused
	switch {
	case errors.As(err, &refused):
		page(w, http.StatusForbidden, "Sign in with GitHub", `<p>`+html(refused.msg)+`</p>`)
		return
	case err != nil:
		s.cfg.Logger.Error("github sign-in", "err", err)
		page(w, http.StatusInternalServerError, "Sign in with GitHub", `<p>Could not sign you in; try again.</p>`)
		return
	}
	if s.startSession(w, r, u) {
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}

// githubAccount is what a sign-in learns from GitHub.
type githubAccount struct {
	ID       int64
	Login    string
	Name     string
	Verified []string // verified emails, the primary one first
}

type signInRefused struct{ msg string }

func (e *signInRefused) Error() string { return e.msg }

func (s *Server) githubIdentity(ctx context.Context, code, verifier string) (githubAccount, error) {
	g := s.cfg.GitHub
	ctx = context.WithValue(ctx, oauth2.HTTPClient, g.HTTPClient)
	conf := s.githubOAuth()
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode != "" {
			return githubAccount{}, fmt.Errorf("token exchange: %s", re.ErrorCode)
		}
		return githubAccount{}, fmt.Errorf("token exchange: %w", err)
	}
	client := conf.Client(ctx, tok)
	var user struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
		Name  string `json:"name"`
	}
	if err := githubGet(ctx, client, g.APIURL+"/user", &user); err != nil {
		return githubAccount{}, err
	}
	if user.ID == 0 || user.Login == "" {
		return githubAccount{}, errors.New("GET /user: no id or login in the answer")
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := githubGet(ctx, client, g.APIURL+"/user/emails", &emails); err != nil {
		return githubAccount{}, err
	}
	acc := githubAccount{ID: user.ID, Login: user.Login, Name: user.Name}
	for _, e := range emails {
		switch {
		case !e.Verified:
		case e.Primary:
			acc.Verified = append([]string{e.Email}, acc.Verified...)
		default:
			acc.Verified = append(acc.Verified, e.Email)
		}
	}
	return acc, nil
}

func githubGet(ctx context.Context, client *http.Client, url string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GitHub API: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	path := req.URL.Path
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GitHub API GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		return fmt.Errorf("GitHub API GET %s: %w", path, err)
	}
	return nil
}

// githubUser finds or makes the user a GitHub account signs in as: the
// user it was linked to before; else the user whose email is one of its
// verified emails (then linked, so a later email change on GitHub does
// not lock them out); else, with signup on, a new user. Unverified emails
// never match: anyone can add any address to a GitHub account.
func (s *Server) githubUser(ctx context.Context, gh githubAccount) (store.User, error) {
	subject := strconv.FormatInt(gh.ID, 10)
	st := s.cfg.Store
	u, err := st.UserByIdentity(ctx, githubProvider, subject)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	if len(gh.Verified) == 0 {
		return store.User{}, &signInRefused{"Your GitHub account " + gh.Login + " has no verified email address. Verify one at GitHub (Settings → Emails) and sign in again."}
	}
	for _, email := range gh.Verified {
		u, err := st.UserByEmail(ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return u, err
		}
		if err := st.LinkIdentity(ctx, githubProvider, subject, u.ID); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return store.User{}, &signInRefused{"The account " + u.Email + " is already linked to another GitHub account; sign in with that one or with your password."}
			}
			return u, err
		}
		return u, nil
	}
	if !s.cfg.GitHub.Signup {
		return store.User{}, &signInRefused{"No account here uses " + strings.Join(gh.Verified, " or ") + ". Ask an organization owner to add you by one of these emails, then sign in with GitHub again."}
	}
	name := gh.Name
	if name == "" {
		name = gh.Login
	}
	u, err = s.createUserWithOrg(ctx, store.User{Email: gh.Verified[0], Name: name, EmailVerified: true}, gh.Login)
	if err != nil {
		return u, err
	}
	return u, st.LinkIdentity(ctx, githubProvider, subject, u.ID)
}
