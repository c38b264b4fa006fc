package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/dlthub/dlthub/internal/githubfake"
)

// githubServer is a server with "Sign in with GitHub" against a fake
// GitHub, logging to logs.
func githubServer(t *testing.T, signup bool, secret string) (*Server, string, *githubfake.Fake, *lockedBuffer) {
	t.Helper()
	gh := githubfake.Start("client-1", "s3cret-github")
	t.Cleanup(gh.Close)
	logs := &lockedBuffer{}
	s, ts, _ := newServerWithBlobs(t, nil, func(c *Config) {
		c.GitHub = &GitHubConfig{ClientID: "client-1", ClientSecret: secret, URL: gh.URL, APIURL: gh.URL, Signup: signup}
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	return s, ts.URL, gh, logs
}

// lockedBuffer is a log the server writes while the test reads it: the
// request log line is written after the response reached the client.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// githubSignIn clicks "Sign in with GitHub" on the sign-in page in a fresh
// browser and returns it with the final page.
func githubSignIn(t *testing.T, base string) (*http.Client, int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar}
	resp, err := b.Get(base + "/login?next=/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	const link = `href="/login/github?next=%2F"`
	if !strings.Contains(string(body), link) {
		t.Fatalf("sign-in page has no GitHub link:\n%s", body)
	}
	resp, err = b.Get(base + "/login/github?next=%2F")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return b, resp.StatusCode, string(body)
}

// approveDevice runs the device flow with an independent client and
// approves it in browser b; it returns the access token.
func approveDevice(t *testing.T, base string, b *http.Client) string {
	t.Helper()
	ctx := context.Background()
	conf := &oauth2.Config{ClientID: "dlthub-cli", Endpoint: oauth2.Endpoint{DeviceAuthURL: base + "/oauth/device/code", TokenURL: base + "/oauth/token"}}
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.PostForm(base+"/device", url.Values{"user_code": {da.UserCode}, "action": {"approve"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("approve: %v %v", resp, err)
	}
	_ = resp.Body.Close()
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func workspacesOf(t *testing.T, base, token string) []string {
	t.Helper()
	code, out := call(t, http.MethodGet, base+"/api/v1/workspaces", token, "")
	if code != http.StatusOK {
		t.Fatalf("workspaces: %d %v", code, out)
	}
	var names []string
	for _, w := range out["workspaces"].([]any) {
		m := w.(map[string]any)
		names = append(names, m["organization_name"].(string)+"/"+m["name"].(string))
	}
	return names
}

func TestGitHubSignUpThenDeviceLogin(t *testing.T) {
	_, base, gh, logs := githubServer(t, true, "s3cret-github")
	octo := &githubfake.User{ID: 583231, Login: "octocat", Name: "The Octocat", Emails: []githubfake.Email{
		{Email: "octo@old.example", Verified: false},
		{Email: "octo@github.example", Primary: true, Verified: true},
	}}
	gh.SignIn(octo)
	b, code, body := githubSignIn(t, base)
	if code != http.StatusOK || !strings.Contains(body, "Signed in as octo@github.example") {
		t.Fatalf("sign-in: %d %s", code, body)
	}
	// The session approves a CLI login; the new user has an organization
	// named after their login with a playground.
	tok := approveDevice(t, base, b)
	if got := workspacesOf(t, base, tok); len(got) != 1 || got[0] != "octocat/playground" {
		t.Errorf("workspaces %v", got)
	}
	_, me := call(t, http.MethodGet, base+"/api/v1/me", tok, "")
	if me["email"] != "octo@github.example" || me["name"] != "The Octocat" {
		t.Errorf("me %v", me)
	}
	// A later sign-in finds the same user by the GitHub id, even after the
	// primary email changed on GitHub.
	octo.Emails = []githubfake.Email{{Email: "octo@new.example", Primary: true, Verified: true}}
	b2, code, body := githubSignIn(t, base)
	if code != http.StatusOK || !strings.Contains(body, "Signed in as octo@github.example") {
		t.Fatalf("second sign-in: %d %s", code, body)
	}
	if got := workspacesOf(t, base, approveDevice(t, base, b2)); len(got) != 1 {
		t.Errorf("second sign-in made another user: %v", got)
	}
	// The GitHub-only user has no password to sign in with.
	resp, _ := http.PostForm(base+"/login", url.Values{"email": {"octo@github.example"}, "password": {""}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("empty password accepted: %d", resp.StatusCode)
	}
	if strings.Contains(logs.String(), "s3cret-github") || strings.Contains(logs.String(), "gho_") || strings.Contains(logs.String(), "code=") {
		t.Errorf("secrets in the log:\n%s", logs)
	}
}

func TestGitHubMatchesExistingUserByVerifiedEmailOnly(t *testing.T) {
	s, base, gh, _ := githubServer(t, false, "s3cret-github")
	ctx := context.Background()
	if _, err := s.CreateAccount(ctx, "ann@example.com", "Ann", "correct horse", "acme"); err != nil {
		t.Fatal(err)
	}
	// An unverified address on someone else's GitHub account must not
	// open Ann's account; without signup they are turned away.
	gh.SignIn(&githubfake.User{ID: 1, Login: "mallory", Emails: []githubfake.Email{
		{Email: "ann@example.com", Verified: false},
		{Email: "mallory@example.com", Primary: true, Verified: true},
	}})
	_, code, body := githubSignIn(t, base)
	if code != http.StatusForbidden || !strings.Contains(body, "No account here uses mallory@example.com") {
		t.Fatalf("unverified match: %d %s", code, body)
	}
	gh.SignIn(&githubfake.User{ID: 3, Login: "nomail", Emails: []githubfake.Email{{Email: "x@example.com", Primary: true}}})
	if _, code, body := githubSignIn(t, base); code != http.StatusForbidden || !strings.Contains(body, "has no verified email address") {
		t.Errorf("no verified email: %d %s", code, body)
	}
	// Ann's own GitHub account with her verified (secondary) address
	// signs her in to her organization, and is linked from then on.
	gh.SignIn(&githubfake.User{ID: 2, Login: "ann-gh", Emails: []githubfake.Email{
		{Email: "ann@personal.example", Primary: true, Verified: true},
		{Email: "ann@example.com", Verified: true},
	}})
	b, code, body := githubSignIn(t, base)
	if code != http.StatusOK || !strings.Contains(body, "Signed in as ann@example.com") {
		t.Fatalf("match: %d %s", code, body)
	}
	if got := workspacesOf(t, base, approveDevice(t, base, b)); len(got) != 1 || got[0] != "acme/playground" {
		t.Errorf("workspaces %v", got)
	}
	u, err := s.cfg.Store.UserByIdentity(ctx, githubProvider, "2")
	if err != nil || u.Email != "ann@example.com" {
		t.Errorf("not linked: %+v %v", u, err)
	}
	// Ann still signs in with her password.
	browser(t, base, "ann@example.com", "correct horse")
}

func TestGitHubSignInFailures(t *testing.T) {
	_, base, gh, _ := githubServer(t, true, "s3cret-github")
	// The person presses Cancel at GitHub.
	gh.SignIn(nil)
	if _, code, body := githubSignIn(t, base); code != http.StatusUnauthorized || !strings.Contains(body, "cancelled") {
		t.Errorf("denied: %d %s", code, body)
	}
	// A callback that did not start in this browser (login CSRF) is refused.
	resp, err := http.Get(base + "/login/github/callback?code=abc&state=forged")
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged state: %v %v", resp, err)
	}
	// A started sign-in whose state is swapped is refused too.
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ = b.Get(base + "/login/github")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if !strings.HasPrefix(loc.String(), gh.URL+"/login/oauth/authorize?") || loc.Query().Get("code_challenge_method") != "S256" ||
		loc.Query().Get("redirect_uri") != base+"/login/github/callback" {
		t.Errorf("authorize URL %s", loc)
	}
	resp, _ = b.Get(base + "/login/github/callback?code=abc&state=" + loc.Query().Get("state") + "x")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("swapped state: %d", resp.StatusCode)
	}
	// A wrong client secret on the server is a clear error, not a crash.
	_, base2, gh2, logs := githubServer(t, true, "wrong-secret-42")
	gh2.SignIn(&githubfake.User{ID: 9, Login: "x", Emails: []githubfake.Email{{Email: "x@example.com", Primary: true, Verified: true}}})
	if _, code, body := githubSignIn(t, base2); code != http.StatusBadGateway || !strings.Contains(body, "incorrect_client_credentials") {
		t.Errorf("wrong secret: %d %s", code, body)
	}
	if !strings.Contains(logs.String(), "incorrect_client_credentials") || strings.Contains(logs.String(), "wrong-secret-42") {
		t.Errorf("secret in log: %s", logs)
	}
}

func TestLoginPageWithoutGitHub(t *testing.T) {
	_, ts := newServer(t, nil)
	resp, _ := http.Get(ts.URL + "/login")
	body, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(body), "GitHub") {
		t.Error("GitHub link shown without GitHub configured")
	}
	if resp, _ := http.Get(ts.URL + "/login/github"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/login/github without GitHub: %d", resp.StatusCode)
	}
}
