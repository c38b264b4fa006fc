package server

// The security review of issue 11, replayed as an attacker would: each
// test performs one finding's attack against a real server on loopback
// (SQLite, and PostgreSQL where the finding involves the store) and checks
// that it no longer works, and that the legitimate use next to it still
// does.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/githubfake"
	"github.com/dlthub/dlthub/internal/pgtest"
	"github.com/dlthub/dlthub/internal/platform"
	"github.com/dlthub/dlthub/internal/store"
)

// onBothStores runs f against a server on SQLite and on PostgreSQL; mods
// make newServerWithBlobs/newTeam use the PostgreSQL store.
func onBothStores(t *testing.T, f func(t *testing.T, mods ...func(*Config))) {
	t.Run("sqlite", func(t *testing.T) { f(t) })
	t.Run("postgres", func(t *testing.T) {
		st, err := store.OpenPostgres(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		f(t, func(c *Config) { c.Store = st })
	})
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// postForm posts a form with extra headers and returns the status, the
// Location and the body.
func postForm(t *testing.T, c *http.Client, u string, form url.Values, header http.Header) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// sessionOrgs are the organization ids a signed-in browser's /api/v1/me
// lists.
func sessionOrgs(t *testing.T, b *http.Client, base string) []string {
	t.Helper()
	resp, err := b.Get(base + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var me struct {
		Organizations []struct{ ID string } `json:"organizations"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&me)
	var out []string
	for _, o := range me.Organizations {
		out = append(out, o.ID)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// High: an owner invites the victim's email into their own organization,
// sets the account's password through their own link, and waits for the
// victim to be added elsewhere.
func TestSecurityInviteClaimDoesNotTakeOverOtherOrgs(t *testing.T) {
	onBothStores(t, func(t *testing.T, mods ...func(*Config)) {
		tm := newTeam(t, mods...)
		st := tm.server.cfg.Store
		ctx := context.Background()
		bobTok := tm.tokens["other org"] // Bob owns globex: the attacker
		globex := ""
		if orgs, _ := st.OrgsOfUser(ctx, mustUser(t, st, "bob@globex.test")); len(orgs) == 1 {
			globex = orgs[0].Org.ID
		}
		acme := tm.ts + "/api/v1/organizations/" + tm.acme + "/members"
		claim := func(link, password string) int {
			tok := strings.TrimPrefix(link, tm.ts+"/invite?token=")
			code, _, _ := postForm(t, noRedirect, tm.ts+"/invite", url.Values{"token": {tok}, "password": {password}}, nil)
			return code
		}

		// 1. Bob invites victim@corp.test into globex and claims the link.
		code, inv := call(t, http.MethodPost, tm.ts+"/api/v1/organizations/"+globex+"/members", bobTok, `{"email":"victim@corp.test"}`)
		if code != http.StatusCreated {
			t.Fatalf("attacker invites: %d %v", code, inv)
		}
		if code := claim(inv["invite_url"].(string), "attacker-password"); code != http.StatusSeeOther {
			t.Fatalf("attacker claims: %d", code)
		}
		// Later Ann adds the real victim to acme: the account exists, but
		// its email is not proven, so acme's membership stays pending.
		code, added := call(t, http.MethodPost, acme, tm.tokens["owner"], `{"email":"victim@corp.test","role":"owner"}`)
		if code != http.StatusCreated || added["pending"] != true || added["invite_url"] == nil {
			t.Errorf("acme adds the victim: %d %v", code, added)
		}
		attacker := browser(t, tm.ts, "victim@corp.test", "attacker-password")
		if orgs := sessionOrgs(t, attacker, tm.ts); contains(orgs, tm.acme) {
			t.Fatalf("the attacker signed in as the victim is in acme: %v", orgs)
		}
		if resp, err := attacker.Get(tm.ts + "/api/v1/workspaces/" + tm.analytics); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("attacker reads acme's workspace: %v %v", resp.StatusCode, err)
		}
		// Acme's link alone does not let anyone in either: the account is
		// held, so its holder must be signed in as well.
		link := added["invite_url"].(string)
		if code := claim(link, "victims-own-password"); code != http.StatusForbidden {
			t.Errorf("acme's link sets a password on a held account: %d", code)
		}
		if resp, err := http.Get(link); err != nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("acme's link for a held account: %v %v", resp.StatusCode, err)
		}

		// 2. The other order: acme invites dora first (her link is on its
		// way to her); Bob invites the same email into globex and claims
		// his own link. Acme's pending membership must not come with it.
		if code, out := call(t, http.MethodPost, acme, tm.tokens["owner"], `{"email":"dora@corp.test"}`); code != http.StatusCreated {
			t.Fatalf("acme invites dora: %d %v", code, out)
		}
		code, inv = call(t, http.MethodPost, tm.ts+"/api/v1/organizations/"+globex+"/members", bobTok, `{"email":"dora@corp.test"}`)
		if code != http.StatusCreated {
			t.Fatalf("attacker invites dora: %d %v", code, inv)
		}
		if code := claim(inv["invite_url"].(string), "attacker-password"); code != http.StatusSeeOther {
			t.Fatalf("attacker claims dora: %d", code)
		}
		attacker = browser(t, tm.ts, "dora@corp.test", "attacker-password")
		if orgs := sessionOrgs(t, attacker, tm.ts); contains(orgs, tm.acme) || !contains(orgs, globex) {
			t.Errorf("attacker as dora: organizations %v (acme %s)", orgs, tm.acme)
		}

		// The legitimate case still works: carol set up her account
		// through globex's link; acme's link joins her once she signs in.
		_, inv = call(t, http.MethodPost, tm.ts+"/api/v1/organizations/"+globex+"/members", bobTok, `{"email":"carol@corp.test"}`)
		if code := claim(inv["invite_url"].(string), "carols-password"); code != http.StatusSeeOther {
			t.Fatalf("carol claims: %d", code)
		}
		_, added = call(t, http.MethodPost, acme, tm.tokens["owner"], `{"email":"carol@corp.test"}`)
		carol := browser(t, tm.ts, "carol@corp.test", "carols-password")
		tok := strings.TrimPrefix(added["invite_url"].(string), tm.ts+"/invite?token=")
		carolNoFollow := &http.Client{Jar: carol.Jar, CheckRedirect: noRedirect.CheckRedirect}
		if code, _, body := postForm(t, carolNoFollow, tm.ts+"/invite", url.Values{"token": {tok}}, nil); code != http.StatusSeeOther {
			t.Fatalf("carol joins acme: %d %s", code, body)
		}
		if orgs := sessionOrgs(t, carol, tm.ts); !contains(orgs, tm.acme) {
			t.Errorf("carol after joining: %v", orgs)
		}
	})
}

// High, with GitHub: the email's real owner signs in with GitHub (verified
// email); the password the attacker set through a link stops working.
func TestSecurityVerifiedOwnerTakesClaimedAccountBack(t *testing.T) {
	s, base, gh, _ := githubServer(t, false, "s3cret-github")
	ctx := context.Background()
	if _, err := s.CreateAccount(ctx, "mal@example.com", "Mal", "mal-password", "malcorp"); err != nil {
		t.Fatal(err)
	}
	malID := mustUser(t, s.cfg.Store, "mal@example.com")
	malTok, _ := s.IssueToken(ctx, malID, "t", time.Hour)
	orgs, _ := s.cfg.Store.OrgsOfUser(ctx, malID)
	code, inv := call(t, http.MethodPost, base+"/api/v1/organizations/"+orgs[0].Org.ID+"/members", malTok, `{"email":"vic@example.com"}`)
	if code != http.StatusCreated {
		t.Fatalf("invite: %d %v", code, inv)
	}
	tok := strings.TrimPrefix(inv["invite_url"].(string), base+"/invite?token=")
	if code, _, _ := postForm(t, noRedirect, base+"/invite", url.Values{"token": {tok}, "password": {"attacker-password"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("claim: %d", code)
	}
	gh.SignIn(&githubfake.User{ID: 5, Login: "vic", Emails: []githubfake.Email{{Email: "vic@example.com", Primary: true, Verified: true}}})
	if _, code, body := githubSignIn(t, base); code != http.StatusOK || !strings.Contains(body, "Signed in as vic@example.com") {
		t.Fatalf("github: %d %s", code, body)
	}
	if code, _, _ := postForm(t, noRedirect, base+"/login", url.Values{"email": {"vic@example.com"}, "password": {"attacker-password"}}, nil); code != http.StatusUnauthorized {
		t.Errorf("the attacker's password still works after the owner's verified sign-in: %d", code)
	}
}

// Medium: a workspace-scoped key opens no page: not another workspace's,
// not the keys page, whether sent as a header or put in the cookie.
func TestSecurityWorkspaceKeyOpensNoPages(t *testing.T) {
	tm := newTeam(t)
	code, k := call(t, http.MethodPost, tm.ts+"/api/v1/api-keys", tm.tokens["owner"],
		`{"name":"ci","workspace_id":"`+tm.analytics+`","role":"viewer"}`)
	if code != http.StatusCreated {
		t.Fatalf("key: %d %v", code, k)
	}
	key := k["key"].(string)
	st := tm.server.cfg.Store
	ws, _ := st.WorkspacesOfUser(context.Background(), mustUser(t, st, "ann@acme.test"))
	other := ""
	for _, a := range ws {
		if a.Workspace.ID != tm.analytics {
			other = a.Workspace.ID // acme's playground: not the key's
		}
	}
	cookie := browserAs(t, tm.ts, key)
	cookie.CheckRedirect = noRedirect.CheckRedirect
	for _, path := range []string{WorkspacePagePath(other), WorkspacePagePath(tm.analytics), "/api-keys", "/"} {
		resp, err := cookie.Get(tm.ts + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if path == "/" {
			if strings.Contains(string(body), "Signed in as") {
				t.Errorf("home page with a workspace key in the cookie: %s", body)
			}
			continue
		}
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s with a workspace key in the cookie: %d", path, resp.StatusCode)
		}
		req, _ := http.NewRequest(http.MethodGet, tm.ts+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		if resp, err := noRedirect.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s with a workspace key as bearer: %v %v", path, resp.StatusCode, err)
		}
	}
	// A session still opens them.
	b := browser(t, tm.ts, "ann@acme.test", "pw-ann-123")
	if resp, err := b.Get(tm.ts + WorkspacePagePath(other)); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("session: %v %v", resp.StatusCode, err)
	}
}

// Medium: CSRF against the cookie-authenticated API and the sign-in form.
func TestSecurityCrossOriginRequestsRefused(t *testing.T) {
	tm := newTeam(t)
	b := browser(t, tm.ts, "ann@acme.test", "pw-ann-123")
	post := func(name string, header http.Header) int {
		req, _ := http.NewRequest(http.MethodPost, tm.ts+"/api/v1/workspaces", strings.NewReader(`{"organization_id":"`+tm.acme+`","name":"`+name+`"}`))
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	evil := "https://evil.example"
	for name, h := range map[string]http.Header{
		"plain-foreign": {"Content-Type": {"text/plain"}, "Origin": {evil}},
		"plain-noorig":  {"Content-Type": {"text/plain;charset=UTF-8"}},
		"form":          {"Content-Type": {"application/x-www-form-urlencoded"}},
		"json-foreign":  {"Content-Type": {"application/json"}, "Origin": {evil}},
		"json-xsite":    {"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"cross-site"}},
		"json-sibling":  {"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"same-site"}},
	} {
		if code := post(name, h); code != http.StatusForbidden {
			t.Errorf("%s: %d", name, code)
		}
	}
	if code := post("ours", http.Header{"Content-Type": {"application/json"}, "Origin": {tm.ts}, "Sec-Fetch-Site": {"same-origin"}}); code != http.StatusCreated {
		t.Errorf("same-origin JSON: %d", code)
	}
	// A bearer token is not sent by browsers on their own: not affected.
	if code, out := callWith(t, http.MethodPost, tm.ts+"/api/v1/workspaces", tm.tokens["owner"], `{"organization_id":"`+tm.acme+`","name":"cli"}`,
		http.Header{"Origin": {evil}, "Content-Type": {"text/plain"}}); code != http.StatusCreated {
		t.Errorf("bearer: %d %v", code, out)
	}
	// Login CSRF: another site signs the victim in to the attacker's account.
	form := url.Values{"email": {"ann@acme.test"}, "password": {"pw-ann-123"}, "next": {"/"}}
	for _, h := range []http.Header{{"Origin": {evil}}, {"Sec-Fetch-Site": {"cross-site"}}} {
		if code, _, _ := postForm(t, noRedirect, tm.ts+"/login", form, h); code != http.StatusForbidden {
			t.Errorf("cross-site sign-in %v: %d", h, code)
		}
	}
	if code, _, _ := postForm(t, noRedirect, tm.ts+"/login", form, http.Header{"Origin": {tm.ts}}); code != http.StatusSeeOther {
		t.Errorf("same-origin sign-in: %d", code)
	}
}

// Medium: open redirect after sign-in, by the form and by GitHub.
func TestSecurityNoOpenRedirectAfterSignIn(t *testing.T) {
	s, base, _, _ := githubServer(t, false, "s3cret-github")
	if _, err := s.CreateAccount(context.Background(), "ann@example.com", "Ann", "correct horse", "acme"); err != nil {
		t.Fatal(err)
	}
	bad := []string{`/\evil.example`, "/\t/evil.example", "/\\/evil.example", "//evil.example", "/\n/evil.example", "https://evil.example", `/\/evil.example/x`, "///evil.example"}
	for _, next := range bad {
		_, loc, _ := postForm(t, noRedirect, base+"/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse"}, "next": {next}}, nil)
		if loc != "/" {
			t.Errorf("sign-in next=%q goes to %q", next, loc)
		}
		resp, err := noRedirect.Get(base + "/login/github?next=" + url.QueryEscape(next))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name != githubStateCookie {
				continue
			}
			parts := strings.SplitN(c.Value, ".", 3)
			if got, _ := base64.RawURLEncoding.DecodeString(parts[len(parts)-1]); string(got) != "/" {
				t.Errorf("github next=%q keeps %q", next, got)
			}
		}
	}
	if _, loc, _ := postForm(t, noRedirect, base+"/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse"}, "next": {"/workspaces/x?tab=runs"}}, nil); loc != "/workspaces/x?tab=runs" {
		t.Errorf("a path of ours: %q", loc)
	}
}

// collidingStore answers the first CreateDeviceCode with a conflict, as a
// user code already taken would.
type collidingStore struct {
	store.Store
	mu        sync.Mutex
	conflicts int
}

func (c *collidingStore) CreateDeviceCode(ctx context.Context, d store.DeviceCode) error {
	c.mu.Lock()
	if c.conflicts > 0 {
		c.conflicts--
		c.mu.Unlock()
		return store.ErrConflict
	}
	c.mu.Unlock()
	return c.Store.CreateDeviceCode(ctx, d)
}

func requestDeviceCode(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(base+"/oauth/device/code", url.Values{"client_id": {"dlthub-cli"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// Medium and low: the device flow's unauthenticated and guessable edges.
func TestSecurityDeviceCodes(t *testing.T) {
	onBothStores(t, func(t *testing.T, mods ...func(*Config)) {
		clk := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
		var cs *collidingStore
		mods = append(mods, func(c *Config) {
			cs = &collidingStore{Store: c.Store, conflicts: 1}
			c.Store = cs
		})
		s, ts, _ := newServerWithBlobs(t, clk.Now, mods...)
		ctx := context.Background()
		if _, err := s.CreateAccount(ctx, "ann@example.com", "Ann", "correct horse", "acme"); err != nil {
			t.Fatal(err)
		}
		// A user code that collides is drawn again, not a 500.
		code, first := requestDeviceCode(t, ts.URL)
		if code != http.StatusOK {
			t.Fatalf("device code after a collision: %d %v", code, first)
		}
		// Expired codes go: on access, and when new codes are made.
		clk.Add(s.cfg.DeviceTTL + time.Second)
		resp, _ := http.PostForm(ts.URL+"/oauth/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {first["device_code"].(string)}})
		_ = resp.Body.Close()
		if _, err := cs.DeviceCodeByDevice(ctx, first["device_code"].(string)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired code kept after access: %v", err)
		}
		_, second := requestDeviceCode(t, ts.URL)
		clk.Add(s.cfg.DeviceTTL + time.Second)
		requestDeviceCode(t, ts.URL)
		if _, err := cs.DeviceCodeByDevice(ctx, second["device_code"].(string)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired code kept: %v", err)
		}
		// Unauthenticated requests are throttled per client address.
		throttled := false
		for range 50 {
			if code, _ := requestDeviceCode(t, ts.URL); code == http.StatusTooManyRequests {
				throttled = true
				break
			}
		}
		if !throttled {
			t.Error("50 device codes from one address in a row, none throttled")
		}
		clk.Add(time.Hour)
		code, live := requestDeviceCode(t, ts.URL)
		if code != http.StatusOK {
			t.Fatalf("after the window: %d", code)
		}

		// Guessing approvals: a valid code already settled and an unknown
		// one answer alike, and guesses are throttled.
		b := browser(t, ts.URL, "ann@example.com", "correct horse")
		decide := func(userCode, action string) (int, string) {
			code, _, body := postForm(t, b, ts.URL+"/device", url.Values{"user_code": {userCode}, "action": {action}}, nil)
			return code, body
		}
		if code, _ := decide(live["user_code"].(string), "deny"); code != http.StatusOK {
			t.Fatalf("deny: %d", code)
		}
		settledCode, settledBody := decide(live["user_code"].(string), "approve")
		unknownCode, unknownBody := decide("BCDFG-HJKLM", "approve")
		if settledCode != unknownCode || settledBody != unknownBody {
			t.Errorf("settled %d and unknown %d codes answer differently:\n%s\n%s", settledCode, unknownCode, settledBody, unknownBody)
		}
		for range 5 {
			decide("BCDFG-HJKLN", "approve")
		}
		_, fresh := requestDeviceCode(t, ts.URL)
		if code, _ := decide(fresh["user_code"].(string), "approve"); code != http.StatusTooManyRequests {
			t.Errorf("after many wrong codes, a right one: %d", code)
		}
	})
}

// Low: user codes carry at least 40 bits from the whole alphabet.
func TestSecurityUserCodeEntropy(t *testing.T) {
	const alphabet = "BCDFGHJKLMNPQRSTVWXZ"
	format := regexp.MustCompile(`^[` + alphabet + `]{5}-[` + alphabet + `]{5}$`)
	seen := map[rune]bool{}
	for range 500 {
		c := newUserCode()
		if !format.MatchString(c) {
			t.Fatalf("user code %q is not XXXXX-XXXXX of the alphabet", c)
		}
		for _, r := range strings.ReplaceAll(c, "-", "") {
			seen[r] = true
		}
	}
	if len(seen) != len(alphabet) {
		t.Errorf("500 codes use %d of %d letters", len(seen), len(alphabet))
	}
	// 10 letters of 20: 10·log2(20) ≈ 43.2 bits.
	if got := normUserCode("bcdfghjklm"); got != "BCDFG-HJKLM" {
		t.Errorf("typed without the dash: %q", got)
	}
}

// Medium: two API processes on one database, each printing its own setup
// link; only the first used creates a first owner.
func TestSecuritySetupLinkOneWinner(t *testing.T) {
	onBothStores(t, func(t *testing.T, mods ...func(*Config)) {
		ctx := context.Background()
		var shared store.Store
		if len(mods) == 0 { // SQLite: both processes open the same file
			path := filepath.Join(t.TempDir(), "shared.db")
			a, err := store.OpenSQLite(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = a.Close() })
			b, err := store.OpenSQLite(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close() })
			mods = []func(*Config){func(c *Config) { c.Store = a }, func(c *Config) { c.Store = b }}
		} else {
			mods = []func(*Config){mods[0], mods[0]}
		}
		var links []string
		for _, mod := range mods {
			s, ts, _ := newServerWithBlobs(t, nil, mod)
			shared = s.cfg.Store
			link, ok, err := s.Bootstrap(ctx)
			if err != nil || !ok {
				t.Fatalf("bootstrap: %v %v", ok, err)
			}
			links = append(links, link)
			_ = ts
		}
		var wg sync.WaitGroup
		codes := make([]int, len(links))
		for i, link := range links {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u, _ := url.Parse(link)
				codes[i], _, _ = postForm(t, noRedirect, u.Scheme+"://"+u.Host+"/setup", url.Values{"token": {u.Query().Get("token")},
					"email": {"owner" + string(rune('a'+i)) + "@example.com"}, "password": {"correct horse"}, "org": {"acme"}}, nil)
			}()
		}
		wg.Wait()
		won := 0
		for _, c := range codes {
			if c == http.StatusSeeOther {
				won++
			}
		}
		if n, _ := shared.CountUsers(ctx); won != 1 || n != 1 {
			t.Errorf("setup answers %v, %d users: one first owner per database", codes, n)
		}
	})
}

// Low: a number past int32/int64 in a URL is the client's mistake, 400.
func TestSecurityHugeNumbersInURLs(t *testing.T) {
	tm := newTeam(t)
	ws := tm.ts + "/api/v1/workspaces/" + tm.analytics
	for _, n := range []string{"9223372036854775807", "9223372036854775808", "99999999999999999999", "2147483648"} {
		code, out := call(t, http.MethodGet, ws+"/deployments/"+n+"/files", tm.tokens["owner"], "")
		if code != http.StatusBadRequest {
			t.Errorf("version %s: %d %v", n, code, out)
		}
		for _, u := range []string{ws + "/runs/" + n, ws + "/runs/" + n + "/logs", ws + "/runs?limit=" + n, ws + "/runs/x/logs?after=" + n,
			ws + "/deployments?cursor=" + base64.RawURLEncoding.EncodeToString([]byte(n))} {
			if code, out := call(t, http.MethodGet, u, tm.tokens["owner"], ""); code >= 500 {
				t.Errorf("%s: %d %v", u, code, out)
			}
		}
	}
}

// Low: logs?follow=true streams lines while the run is running, to the raw
// HTTP client and through the CLI's follower alike.
func TestSecurityFollowedLogsAreLive(t *testing.T) {
	onBothStores(t, func(t *testing.T, mods ...func(*Config)) {
		tm := newTeam(t, mods...)
		st := tm.server.cfg.Store
		ctx := context.Background()
		run, err := st.CreateRun(ctx, store.Run{WorkspaceID: tm.analytics, JobRef: "jobs.slow", Trigger: "manual:jobs.slow", Profile: "prod",
			Status: store.RunRunning, DeploymentVersion: 1, CreatedAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		var seq int64
		appendLine := func(line string) {
			seq++
			if err := st.AppendRunLogs(ctx, run.ID, []store.LogLine{{Seq: seq, At: time.Now().UTC(), Stream: "stdout", Line: line}}); err != nil {
				t.Fatal(err)
			}
		}
		appendLine("backlog")

		// The raw stream: a line appended while connected arrives before the
		// run ends.
		req, _ := http.NewRequest(http.MethodGet, tm.ts+"/api/v1/workspaces/"+tm.analytics+"/runs/"+run.ID+"/logs?follow=true", nil)
		req.Header.Set("Authorization", "Bearer "+tm.tokens["viewer"])
		// Whatever happens, the run ends, so the server's follower does.
		defer func() { _ = st.FinishRun(ctx, run.ID, store.RunFailed, nil, "test over", time.Now().UTC()) }()
		hc := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 5 * time.Second}}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("no answer while the run runs: %v", err)
		}
		defer func() { _ = resp.Body.Close() }()
		lines := make(chan string, 10)
		go func() {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		next := func() string {
			select {
			case l := <-lines:
				return l
			case <-time.After(5 * time.Second):
				return ""
			}
		}
		if l := next(); !strings.Contains(l, `"backlog"`) {
			t.Fatalf("backlog line while the run runs: %q", l)
		}
		appendLine("live one")
		if l := next(); !strings.Contains(l, `"live one"`) {
			t.Fatalf("live line while the run runs: %q", l)
		}

		// The CLI's follower prints each line as it arrives.
		got := make(chan string, 10)
		c := platform.New(tm.ts, tm.tokens["viewer"])
		done := make(chan error, 1)
		go func() {
			_, err := c.FollowLogs(ctx, tm.analytics, run.ID, 2, true, func(l platform.LogLine) { got <- l.Line })
			done <- err
		}()
		time.Sleep(300 * time.Millisecond)
		appendLine("live two")
		select {
		case l := <-got:
			if l != "live two" {
				t.Errorf("follower got %q", l)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the CLI follower saw nothing while the run was running")
		}
		if l := next(); !strings.Contains(l, `"live two"`) {
			t.Errorf("raw stream: %q", l)
		}
		if err := st.FinishRun(ctx, run.ID, store.RunCompleted, nil, "", time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		if l := next(); !strings.Contains(l, `"end":true`) {
			t.Errorf("end of stream: %q", l)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("follower: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("the follower did not end with the run")
		}
	})
}

// rawTarGz packs empty files with the given names as tar.gz, as an attacker
// would, not as deploy does, followed by trailing zeros after the archive.
func rawTarGz(t *testing.T, names []string, trailing int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
	}
	_ = tw.Close()
	zeros := make([]byte, 1<<20)
	for trailing > 0 {
		n := min(trailing, len(zeros))
		_, _ = zw.Write(zeros[:n])
		trailing -= n
	}
	_ = zw.Close()
	return b.Bytes()
}

// activeVersion is the workspace's active deployment version, 0 for none.
func activeVersion(t *testing.T, tm team) float64 {
	t.Helper()
	_, out := call(t, http.MethodGet, tm.ts+"/api/v1/workspaces/"+tm.analytics+"/deployments?limit=1", tm.tokens["viewer"], "")
	list, _ := out["deployments"].([]any)
	if len(list) == 0 {
		return 0
	}
	v, _ := list[0].(map[string]any)["version"].(float64)
	return v
}

// Medium: a package of millions of empty files took 742 MB to check, and
// concurrent listings of its files took GBs. Packages have a file limit
// (the server's --max-package-files), and file listings are paged.
func TestSecurityPackageFileLimits(t *testing.T) {
	onBothStores(t, func(t *testing.T, mods ...func(*Config)) {
		tm := newTeam(t, append(mods, func(c *Config) { c.MaxFiles = 1500 })...)
		deployments := tm.ts + "/api/v1/workspaces/" + tm.analytics + "/deployments"
		dev := tm.tokens["developer"]
		files := map[string]string{}
		for i := range 1200 {
			files[fmt.Sprintf("gen/%04d.py", i)] = ""
		}
		body, hash := pack(t, files)
		if code, out := upload(t, deployments, dev, body, hash); code != http.StatusCreated {
			t.Fatalf("1,200 files under a limit of 1,500: %d %v", code, out)
		}
		var names []string
		for i := range 1501 {
			names = append(names, fmt.Sprintf("f%d", i))
		}
		code, out := upload(t, deployments, dev, rawTarGz(t, names, 0), "")
		if detail, _ := out["detail"].(string); code != http.StatusRequestEntityTooLarge || !strings.Contains(detail, "more than 1500 files") ||
			!strings.Contains(detail, "active deployment is unchanged") {
			t.Errorf("1,501 files: %d %v", code, out)
		}
		if v := activeVersion(t, tm); v != 1 {
			t.Errorf("active version after a refused upload: %v", v)
		}

		// The listing answers a bounded page; the cursor walks the rest in
		// path order.
		list := deployments + "/1/files"
		code, out = call(t, http.MethodGet, list, tm.tokens["viewer"], "")
		if got, _ := out["files"].([]any); code != http.StatusOK || len(got) != 1000 || out["next_cursor"] == nil {
			t.Fatalf("first page: %d, %d files, next %v", code, len(got), out["next_cursor"])
		}
		var seen []string
		next := ""
		for range 20 {
			u := list + "?limit=500"
			if next != "" {
				u += "&cursor=" + url.QueryEscape(next)
			}
			code, out := call(t, http.MethodGet, u, tm.tokens["viewer"], "")
			if code != http.StatusOK {
				t.Fatalf("%s: %d %v", u, code, out)
			}
			for _, f := range out["files"].([]any) {
				seen = append(seen, f.(map[string]any)["path"].(string))
			}
			if next, _ = out["next_cursor"].(string); next == "" {
				break
			}
		}
		if len(seen) != 1200 || seen[0] != "gen/0000.py" || seen[1199] != "gen/1199.py" || !sortedStrings(seen) {
			t.Errorf("paged listing: %d files", len(seen))
		}
		for _, q := range []string{"limit=0", "limit=-1", "limit=5001", "limit=9223372036854775808", "cursor=***"} {
			if code, out := call(t, http.MethodGet, list+"?"+q, tm.tokens["viewer"], ""); code != http.StatusBadRequest {
				t.Errorf("%s: %d %v", q, code, out["detail"])
			}
		}
	})
}

func sortedStrings(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
}

// Low: packages that cannot be checked out (a file and a directory of the
// same name, a name over 255 bytes) and packages with much data after the
// archive's end (GiBs of zeros, decompressed for nothing) are refused on
// upload, and the active deployment stays.
func TestSecurityBadArchivesRefused(t *testing.T) {
	tm := newTeam(t)
	deployments := tm.ts + "/api/v1/workspaces/" + tm.analytics + "/deployments"
	dev := tm.tokens["developer"]
	body, hash := pack(t, map[string]string{"dlthub.toml": ""})
	if code, out := upload(t, deployments, dev, body, hash); code != http.StatusCreated {
		t.Fatalf("first deploy: %d %v", code, out)
	}
	for name, archive := range map[string][]byte{
		"file and directory": rawTarGz(t, []string{"a", "a/b"}, 0),
		"directory and file": rawTarGz(t, []string{"x/y/z", "x/y"}, 0),
		"long name":          rawTarGz(t, []string{"d/" + strings.Repeat("n", 256)}, 0),
		"trailing data":      rawTarGz(t, []string{"main.py"}, 256<<20),
	} {
		start := time.Now()
		code, out := upload(t, deployments, dev, archive, "")
		if detail, _ := out["detail"].(string); code != http.StatusBadRequest || !strings.Contains(detail, "active deployment is unchanged") {
			t.Errorf("%s: %d %v", name, code, out)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: refused after %v", name, d)
		}
	}
	if v := activeVersion(t, tm); v != 1 {
		t.Errorf("active version: %v", v)
	}
}

// Low: uploads were buffered in $TMPDIR and left there after a crash. They
// are buffered in the server's own tmp dir (DATA_DIR/tmp), which a starting
// server clears of what dead server processes left.
func TestSecurityUploadsBufferedInDataDir(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(tmp, uploadPrefix+strconv.Itoa(dead.Process.Pid)+"-1.tar.gz")
	live := filepath.Join(tmp, uploadPrefix+strconv.Itoa(os.Getppid())+"-2.tar.gz")
	other := filepath.Join(tmp, "not-ours")
	for _, p := range []string{leftover, live, other} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tm := newTeam(t, func(c *Config) { c.TmpDir = tmp })
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dead server's upload is still there: %v", err)
	}
	for _, p := range []string{live, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	// While an upload is in flight its buffer is in tmp; after, it is gone.
	body, hash := pack(t, map[string]string{"dlthub.toml": "", "big.txt": strings.Repeat("some text\n", 100000)})
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, tm.ts+"/api/v1/workspaces/"+tm.analytics+"/deployments", pr)
	req.Header.Set("Authorization", "Bearer "+tm.tokens["developer"])
	req.Header.Set("X-Content-Hash", hash)
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		_ = resp.Body.Close()
		done <- resp.StatusCode
	}()
	_, _ = pw.Write(body[:len(body)/2])
	buffered := ""
	for range 100 {
		if m, _ := filepath.Glob(filepath.Join(tmp, uploadPrefix+strconv.Itoa(os.Getpid())+"-*")); len(m) == 1 {
			buffered = m[0]
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, _ = pw.Write(body[len(body)/2:])
	_ = pw.Close()
	if code := <-done; code != http.StatusCreated {
		t.Fatalf("upload: %d", code)
	}
	if buffered == "" {
		t.Fatal("the upload was not buffered in the server's tmp dir")
	}
	if _, err := os.Stat(buffered); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the buffer outlived its upload: %v", err)
	}
}

// Low: a NUL in a variable broke every later run (and PostgreSQL cannot
// store one). The API refuses a value with NUL, and names no environment
// can carry, with 400.
func TestSecurityVariablesWithNULRefused(t *testing.T) {
	onBothStores(t, func(t *testing.T, mods ...func(*Config)) {
		tm := newTeam(t, mods...)
		vars := tm.ts + "/api/v1/workspaces/" + tm.analytics + "/variables/"
		dev := tm.tokens["developer"]
		for name, body := range map[string]string{
			"API_KEY":   `{"value":"a\u0000b"}`,
			"SECRET_NU": `{"value":"\u0000","secret":true}`,
			"A%00B":     `{"value":"x"}`,
			"A%3DB":     `{"value":"x"}`,
			"1ABC":      `{"value":"x"}`,
		} {
			code, out := call(t, http.MethodPut, vars+name, dev, body)
			if code != http.StatusBadRequest {
				t.Errorf("%s %s: %d %v", name, body, code, out)
			}
		}
		if code, out := call(t, http.MethodPut, vars+"API_KEY", dev, `{"value":"a\u0000b"}`); !strings.Contains(fmt.Sprint(out["detail"]), "NUL") {
			t.Errorf("the answer does not say why: %d %v", code, out)
		}
		if code, out := call(t, http.MethodPut, vars+"API_KEY", dev, `{"value":"a\u00e9b"}`); code != http.StatusOK {
			t.Errorf("a plain value: %d %v", code, out)
		}
	})
}

// Low: a number past int64 gave 500. Every numeric parameter (list
// limits, cursors of numbered lists, log offsets, version numbers, key
// lifetimes) answers a number out of range, negative or past int64 with
// 400, never a server error.
func TestSecurityNumericParametersOutOfRange(t *testing.T) {
	onBothStores(t, func(t *testing.T, mods ...func(*Config)) {
		tm := newTeam(t, mods...)
		st := tm.server.cfg.Store
		ctx := context.Background()
		run, err := st.CreateRun(ctx, store.Run{WorkspaceID: tm.analytics, JobRef: "jobs.a.b", Trigger: "manual:jobs.a.b", Profile: "prod",
			Status: store.RunCompleted, DeploymentVersion: 1, CreatedAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		body, hash := pack(t, map[string]string{"dlthub.toml": ""})
		ws := tm.ts + "/api/v1/workspaces/" + tm.analytics
		if code, out := upload(t, ws+"/deployments", tm.tokens["developer"], body, hash); code != http.StatusCreated {
			t.Fatalf("deploy: %d %v", code, out)
		}
		cursor := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		for _, n := range []string{"9223372036854775808", "99999999999999999999", "-1", "-9223372036854775809", "0", "1e3", "0x10"} {
			urls := []string{
				ws + "/runs?limit=" + n, ws + "/deployments?limit=" + n, ws + "/configurations?limit=" + n,
				ws + "/jobs?limit=" + n, ws + "/variables?limit=" + n, ws + "/members?limit=" + n,
				tm.ts + "/api/v1/workspaces?limit=" + n, tm.ts + "/api/v1/api-keys?limit=" + n,
				tm.ts + "/api/v1/organizations/" + tm.acme + "/members?limit=" + n,
				ws + "/runs/" + run.ID + "/logs?after=" + n,
				ws + "/deployments/" + n + "/files",
				ws + "/deployments/1/files?limit=" + n,
				ws + "/deployments?cursor=" + cursor(n), ws + "/configurations?cursor=" + cursor(n),
			}
			if n == "0" {
				urls = urls[:len(urls)-2] // version 0 is below every version: an empty page
			}
			for _, u := range urls {
				if n == "0" && strings.Contains(u, "after=") {
					continue // after=0 is the whole log
				}
				if code, out := call(t, http.MethodGet, u, tm.tokens["owner"], ""); code != http.StatusBadRequest {
					t.Errorf("%s: %d %v", strings.TrimPrefix(u, tm.ts), code, out["detail"])
				}
			}
			code, out := call(t, http.MethodPost, tm.ts+"/api/v1/api-keys", tm.tokens["owner"], `{"name":"k","expires_in_days":`+n+`}`)
			if n != "0" && code != http.StatusBadRequest { // 0 (or none) is the default lifetime
				t.Errorf("api key for %s days: %d %v", n, code, out["detail"])
			}
		}
		for _, u := range []string{ws + "/runs/" + run.ID + "/logs?after=9223372036854775807", ws + "/deployments?cursor=" + cursor("9223372036854775807"),
			ws + "/configurations?cursor=" + cursor("2147483648")} {
			if code, out := call(t, http.MethodGet, u, tm.tokens["owner"], ""); code >= 500 {
				t.Errorf("%s: %d %v", strings.TrimPrefix(u, tm.ts), code, out["detail"])
			}
		}
	})
}
