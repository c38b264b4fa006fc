// Package githubfake is a local stand-in for GitHub's OAuth web flow and
// the two REST endpoints a sign-in reads (/user, /user/emails), so the
// control plane's "Sign in with GitHub" is tested end to end without the
// internet. It checks what GitHub checks: the client id and secret, the
// redirect URI, single-use codes and the PKCE verifier.
package githubfake

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
)

// Email is one of a user's addresses as GET /user/emails reports it.
type Email struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// User is a GitHub account.
type User struct {
	ID     int64
	Login  string
	Name   string
	Emails []Email
}

// Fake is a running fake GitHub; URL serves both the web flow and the API
// (GitHub Enterprise lays them out the same way under one host).
type Fake struct {
	URL          string
	ClientID     string
	ClientSecret string

	srv *httptest.Server

	mu       sync.Mutex
	signedIn *User // who is at the browser; nil denies
	codes    map[string]grant
	tokens   map[string]*User
}

type grant struct {
	user      *User
	redirect  string
	challenge string
}

// Start runs a fake with the given client credentials; Close stops it.
func Start(clientID, clientSecret string) *Fake {
	f := &Fake{ClientID: clientID, ClientSecret: clientSecret, codes: map[string]grant{}, tokens: map[string]*User{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", f.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", f.accessToken)
	mux.HandleFunc("GET /user", f.user)
	mux.HandleFunc("GET /user/emails", f.emails)
	f.srv = httptest.NewServer(mux)
	f.URL = f.srv.URL
	return f
}

// Close stops the fake.
func (f *Fake) Close() { f.srv.Close() }

// SignIn makes u the person who approves the next authorization requests;
// nil makes them press "Cancel" (access_denied).
func (f *Fake) SignIn(u *User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signedIn = u
}

func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// authorize is the consent screen, already answered by whoever SignIn set.
func (f *Fake) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != f.ClientID {
		http.Error(w, "unknown client_id", http.StatusNotFound)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme == "" {
		http.Error(w, "redirect_uri is required", http.StatusBadRequest)
		return
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	f.mu.Lock()
	u := f.signedIn
	if u == nil {
		back.Set("error", "access_denied")
		back.Set("error_description", "The user has denied your application access.")
	} else {
		code := random()
		f.codes[code] = grant{user: u, redirect: redirect.String(), challenge: q.Get("code_challenge")}
		back.Set("code", code)
	}
	f.mu.Unlock()
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// accessToken answers like GitHub: HTTP 200 with an "error" field when
// something is wrong.
func (f *Fake) accessToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
	}
	if id != f.ClientID || secret != f.ClientSecret {
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "incorrect_client_credentials", "error_description": "The client_id and/or client_secret passed are incorrect."})
		return
	}
	f.mu.Lock()
	g, found := f.codes[r.FormValue("code")]
	delete(f.codes, r.FormValue("code"))
	f.mu.Unlock()
	sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
	switch {
	case !found:
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."})
		return
	case r.FormValue("redirect_uri") != "" && r.FormValue("redirect_uri") != g.redirect:
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "redirect_uri_mismatch"})
		return
	case g.challenge != "" && base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "code_verifier does not match"})
		return
	}
	tok := "gho_" + random()
	f.mu.Lock()
	f.tokens[tok] = g.user
	f.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]string{"access_token": tok, "token_type": "bearer", "scope": "read:user,user:email"})
}

func (f *Fake) bearer(w http.ResponseWriter, r *http.Request) *User {
	h := r.Header.Get("Authorization")
	tok := strings.TrimPrefix(strings.TrimPrefix(h, "Bearer "), "token ")
	f.mu.Lock()
	u := f.tokens[tok]
	f.mu.Unlock()
	if u == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"Bad credentials"}`))
	}
	return u
}

func (f *Fake) user(w http.ResponseWriter, r *http.Request) {
	u := f.bearer(w, r)
	if u == nil {
		return
	}
	var public *string
	for _, e := range u.Emails {
		if e.Primary {
			public = &e.Email
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": u.ID, "login": u.Login, "name": u.Name, "email": public})
}

func (f *Fake) emails(w http.ResponseWriter, r *http.Request) {
	u := f.bearer(w, r)
	if u == nil {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(u.Emails)
}
