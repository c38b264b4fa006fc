package server

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestKeysPage(t *testing.T) {
	tm := newTeam(t)
	// No session: sign in first, then come back.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, _ := noFollow.Get(tm.ts + "/api-keys"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fapi-keys" {
		t.Errorf("no session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	ann := browser(t, tm.ts, "ann@acme.test", "pw-ann-123")
	post := func(b *http.Client, path string, form url.Values) (int, string) {
		t.Helper()
		resp, err := b.PostForm(tm.ts+path, form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	resp, _ := ann.Get(tm.ts + "/api-keys")
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `<option value="`+tm.analytics+`">workspace acme/analytics</option>`) {
		t.Errorf("form lacks the workspace:\n%s", body)
	}
	// A developer key for analytics, shown once, works against the API.
	code, page := post(ann, "/api-keys", url.Values{"name": {"ci"}, "workspace_id": {tm.analytics}, "role": {"developer"}, "expires_in_days": {"30"}})
	tok := regexp.MustCompile(`<code>(dlt_[0-9a-f]+)</code>`).FindStringSubmatch(page)
	if code != http.StatusCreated || tok == nil || !strings.Contains(page, "<td>ci</td><td>acme/analytics (developer)</td>") {
		t.Fatalf("create: %d\n%s", code, page)
	}
	if code, out := call(t, http.MethodGet, tm.ts+"/api/v1/workspaces/"+tm.analytics, tok[1], ""); code != http.StatusOK || out["role"] != "developer" {
		t.Errorf("key use: %d %v", code, out)
	}
	if resp, _ := ann.Get(tm.ts + "/api-keys"); resp != nil {
		if b, _ := io.ReadAll(resp.Body); strings.Contains(string(b), tok[1]) {
			t.Error("the key is shown again")
		}
	}
	// A viewer cannot hand out developer keys; bad input is said plainly.
	viewer := browserAs(t, tm.ts, tm.tokens["viewer"])
	if code, page := post(viewer, "/api-keys", url.Values{"name": {"x"}, "workspace_id": {tm.analytics}, "role": {"developer"}}); code != http.StatusForbidden || !strings.Contains(page, "your role in this workspace is viewer") {
		t.Errorf("viewer: %d %s", code, page)
	}
	if code, page := post(ann, "/api-keys", url.Values{"name": {""}}); code != http.StatusBadRequest || !strings.Contains(page, "name is required") {
		t.Errorf("no name: %d", code)
	}
	if code, _ := post(ann, "/api-keys", url.Values{"name": {"x"}, "expires_in_days": {"999"}}); code != http.StatusBadRequest {
		t.Errorf("too long: %d", code)
	}
	// Revoke from the page: the key stops working.
	id := regexp.MustCompile(`action="/api-keys/([0-9a-f]+)/revoke"`).FindStringSubmatch(page)
	if code, _ := post(ann, "/api-keys/"+id[1]+"/revoke", nil); code != http.StatusOK {
		t.Errorf("revoke: %d", code)
	}
	if code, _ := call(t, http.MethodGet, tm.ts+"/api/v1/workspaces/"+tm.analytics, tok[1], ""); code != http.StatusUnauthorized {
		t.Errorf("revoked key: %d", code)
	}
	if code, _ := post(viewer, "/api-keys/"+id[1]+"/revoke", nil); code != http.StatusNotFound {
		t.Errorf("someone else's key: %d", code)
	}
	// A form sent from another site is refused.
	req, _ := http.NewRequest(http.MethodPost, tm.ts+"/api-keys", strings.NewReader("name=evil"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if resp, err := ann.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site: %v %v", resp, err)
	}
}

// browserAs is a browser whose session cookie is tok.
func browserAs(t *testing.T, base, tok string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(base)
	jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: tok, Path: "/"}})
	return &http.Client{Jar: jar}
}
