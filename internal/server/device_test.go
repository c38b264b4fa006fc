package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gocloud.dev/blob/fileblob"
	"gocloud.dev/secrets/localsecrets"
	"golang.org/x/oauth2"

	"github.com/dlthub/dlthub/internal/store"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newServer(t *testing.T, now func() time.Time) (*Server, *httptest.Server) {
	t.Helper()
	s, ts, _ := newServerWithBlobs(t, now)
	return s, ts
}

// newServerWithBlobs is newServer that also returns its blob directory.
// Each mod edits the Config before New.
func newServerWithBlobs(t *testing.T, now func() time.Time, mods ...func(*Config)) (*Server, *httptest.Server, string) {
	t.Helper()
	blobDir := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	bucket, err := fileblob.OpenBucket(blobDir, &fileblob.Options{NoTempDir: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bucket.Close() })
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: st, Blob: bucket, Keeper: localsecrets.NewKeeper(key), HashKey: key[:], Now: now, DeviceInterval: time.Second}
	for _, mod := range mods {
		mod(&cfg)
	}
	s := New(cfg)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	s.cfg.PublicURL = ts.URL
	// The apps origin: another port of the same host, as by default.
	apps := httptest.NewServer(s.AppsHandler())
	t.Cleanup(apps.Close)
	s.SetAppsURL(apps.URL)
	return s, ts, blobDir
}

// browser signs in through the same pages a person would use.
func browser(t *testing.T, base, email, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}, "next": {"/healthz"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %v %v", resp, err)
	}
	_ = resp.Body.Close()
	return c
}

func TestBootstrapAndDeviceFlowWithOAuth2Client(t *testing.T) {
	s, ts := newServer(t, nil)
	ctx := context.Background()
	link, ok, err := s.Bootstrap(ctx)
	if err != nil || !ok || !strings.HasPrefix(link, ts.URL+"/setup?token=") {
		t.Fatalf("bootstrap %q %v %v", link, ok, err)
	}
	// The first owner is created through the one-time link.
	tok := strings.TrimPrefix(link, ts.URL+"/setup?token=")
	resp, err := http.PostForm(ts.URL+"/setup", url.Values{"token": {tok}, "email": {"ann@example.com"}, "name": {"Ann"}, "password": {"correct horse"}, "org": {"acme"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("setup: %v %v", resp, err)
	}
	resp, _ = http.Get(link)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("setup link reused: %d", resp.StatusCode)
	}
	if _, ok, _ := s.Bootstrap(ctx); ok {
		t.Error("bootstrap offered with a user present")
	}
	// Any standard client finds the endpoints in the metadata.
	var meta map[string]any
	resp, _ = http.Get(ts.URL + "/.well-known/oauth-authorization-server")
	_ = json.NewDecoder(resp.Body).Decode(&meta)
	conf := &oauth2.Config{ClientID: "dlthub-cli", Endpoint: oauth2.Endpoint{
		DeviceAuthURL: meta["device_authorization_endpoint"].(string), TokenURL: meta["token_endpoint"].(string)}}
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if da.VerificationURIComplete != ts.URL+"/device?user_code="+da.UserCode || da.Interval != 1 {
		t.Errorf("device auth %+v", da)
	}
	// The user approves in the browser while the client polls.
	go func() {
		time.Sleep(1500 * time.Millisecond)
		b := browser(t, ts.URL, "ann@example.com", "correct horse")
		resp, err := b.Get(da.VerificationURIComplete)
		if err == nil {
			_ = resp.Body.Close()
		}
		resp, err = b.PostForm(ts.URL+"/device", url.Values{"user_code": {strings.ToLower(strings.ReplaceAll(da.UserCode, "-", ""))}, "action": {"approve"}})
		if err == nil {
			_ = resp.Body.Close()
		}
	}()
	token, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("me: %v %v", resp, err)
	}
	var me map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&me)
	if me["email"] != "ann@example.com" {
		t.Errorf("me %v", me)
	}
	// The code is spent.
	if _, err := conf.DeviceAccessToken(ctx, da); err == nil {
		t.Error("device code exchanged twice")
	}
}

func poll(t *testing.T, base, deviceCode string) string {
	t.Helper()
	resp, err := http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {deviceCode}, "client_id": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if e, ok := body["error"].(string); ok {
		return e
	}
	return "token"
}

func TestDeviceFlowErrors(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, ts := newServer(t, clk.Now)
	ctx := context.Background()
	if _, err := s.CreateAccount(ctx, "bob@example.com", "Bob", "password123", "acme"); err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: "cli", Endpoint: oauth2.Endpoint{DeviceAuthURL: ts.URL + "/oauth/device/code", TokenURL: ts.URL + "/oauth/token"}}
	// pending, then slow_down when polled faster than the interval.
	da, _ := conf.DeviceAuth(ctx)
	if e := poll(t, ts.URL, da.DeviceCode); e != "authorization_pending" {
		t.Errorf("first poll: %s", e)
	}
	if e := poll(t, ts.URL, da.DeviceCode); e != "slow_down" {
		t.Errorf("fast poll: %s", e)
	}
	clk.Add(2 * time.Second)
	if e := poll(t, ts.URL, da.DeviceCode); e != "authorization_pending" {
		t.Errorf("polite poll: %s", e)
	}
	// denied
	b := browser(t, ts.URL, "bob@example.com", "password123")
	resp, _ := b.PostForm(ts.URL+"/device", url.Values{"user_code": {da.UserCode}, "action": {"deny"}})
	_ = resp.Body.Close()
	clk.Add(2 * time.Second)
	if e := poll(t, ts.URL, da.DeviceCode); e != "access_denied" {
		t.Errorf("denied: %s", e)
	}
	_, err := conf.DeviceAccessToken(ctx, da)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "access_denied" {
		t.Errorf("oauth2 client on a denied code: %v", err)
	}
	// expired
	da2, _ := conf.DeviceAuth(ctx)
	clk.Add(11 * time.Minute)
	if e := poll(t, ts.URL, da2.DeviceCode); e != "expired_token" {
		t.Errorf("expired: %s", e)
	}
	// The approval page needs a signed-in user.
	noJar := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ = noJar.Get(ts.URL + "/device?user_code=" + da2.UserCode)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Errorf("anonymous approval page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Wrong password.
	resp, _ = http.PostForm(ts.URL+"/login", url.Values{"email": {"bob@example.com"}, "password": {"nope"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}
	// Health, readiness, metrics.
	for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"ready"`, "/metrics": `dlthub_http_requests_total{code="200"}`} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		buf := make([]byte, 4096)
		n, _ := resp.Body.Read(buf)
		sb.Write(buf[:n])
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(sb.String(), want) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, sb.String())
		}
	}
}
