package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAPIKeys(t *testing.T) {
	tm := newTeam(t)
	owner, viewer := tm.tokens["owner"], tm.tokens["viewer"]
	keys := tm.ts + "/api/v1/api-keys"

	code, out := call(t, http.MethodPost, keys, owner, `{"name":"laptop"}`)
	personal, _ := out["key"].(string)
	if code != http.StatusCreated || !strings.HasPrefix(personal, "dlt_") || out["role"] != "owner" {
		t.Fatalf("personal key: %d %v", code, out)
	}
	created, _ := time.Parse(time.RFC3339, out["created_at"].(string))
	expires, _ := time.Parse(time.RFC3339, out["expires_at"].(string))
	if d := expires.Sub(created); d < DefaultKeyTTL-time.Second || d > DefaultKeyTTL+time.Second {
		t.Errorf("default expiry %v", d)
	}
	if code, _ := call(t, http.MethodGet, tm.ts+"/api/v1/workspaces/"+tm.analytics, personal, ""); code != 200 {
		t.Errorf("personal key: %d", code)
	}

	// A workspace viewer key reads its workspace only and cannot change it.
	code, out = call(t, http.MethodPost, keys, owner, `{"name":"dash","workspace_id":"`+tm.analytics+`","role":"viewer","expires_in_days":30}`)
	wsKey, _ := out["key"].(string)
	if code != http.StatusCreated || wsKey == "" {
		t.Fatalf("workspace key: %d %v", code, out)
	}
	if code, _ := call(t, http.MethodGet, tm.ts+"/api/v1/workspaces/"+tm.analytics, wsKey, ""); code != 200 {
		t.Errorf("workspace key reads: %d", code)
	}
	if code, _ := call(t, http.MethodPut, tm.ts+"/api/v1/workspaces/"+tm.analytics+"/repository", wsKey, `{"repository":"x"}`); code != http.StatusForbidden {
		t.Errorf("viewer key binds: %d", code)
	}
	_, out = call(t, http.MethodGet, tm.ts+"/api/v1/workspaces", wsKey, "")
	if b, _ := json.Marshal(out); strings.Count(string(b), `"id"`) != 1 || !strings.Contains(string(b), `"role":"viewer"`) {
		t.Errorf("workspace key list: %s", b)
	}
	for _, tc := range []struct{ method, url, body string }{
		{http.MethodPost, tm.ts + "/api/v1/workspaces", `{"organization_id":"` + tm.acme + `","name":"x"}`},
		{http.MethodGet, keys, ""},
		{http.MethodPost, keys, `{"name":"escalate"}`},
	} {
		if code, _ := call(t, tc.method, tc.url, wsKey, tc.body); code != http.StatusForbidden {
			t.Errorf("workspace key %s %s: %d", tc.method, tc.url, code)
		}
	}

	// Nobody hands out more than they have; bad input is named.
	for _, tc := range []struct {
		tok, body, want string
		code            int
	}{
		{viewer, `{"name":"x","workspace_id":"` + tm.analytics + `","role":"developer"}`, "needs developer", 403},
		{owner, `{"name":"x","workspace_id":"` + tm.globexWorkspace + `","role":"viewer"}`, "not found", 404},
		{owner, `{"name":"x","expires_in_days":400}`, "between 1 and 365", 400},
		{owner, `{"name":"x","workspace_id":"` + tm.analytics + `","role":"owner"}`, "developer or viewer", 400},
		{owner, `{"name":""}`, "name is required", 400},
	} {
		code, out := call(t, http.MethodPost, keys, tc.tok, tc.body)
		if code != tc.code || !strings.Contains(out["detail"].(string), tc.want) {
			t.Errorf("%s: %d %v", tc.body, code, out)
		}
	}

	// The list shows no secrets; revoking ends the key at once.
	code, out = call(t, http.MethodGet, keys, owner, "")
	b, _ := json.Marshal(out)
	if code != 200 || strings.Contains(string(b), personal) || strings.Contains(string(b), "hash") || strings.Contains(string(b), `"key"`) {
		t.Errorf("list: %d %s", code, b)
	}
	var id string
	for _, k := range out["api_keys"].([]any) {
		if m := k.(map[string]any); m["name"] == "dash" {
			id = m["id"].(string)
		}
	}
	if code, _ := call(t, http.MethodDelete, keys+"/"+id, tm.tokens["other org"], ""); code != http.StatusNotFound {
		t.Errorf("revoke someone else's key: %d", code)
	}
	if code, _ := call(t, http.MethodDelete, keys+"/"+id, owner, ""); code != http.StatusNoContent {
		t.Errorf("revoke: %d", code)
	}
	if code, _ := call(t, http.MethodGet, tm.ts+"/api/v1/workspaces/"+tm.analytics, wsKey, ""); code != http.StatusUnauthorized {
		t.Errorf("revoked key still works: %d", code)
	}
}

func TestAPIKeyExpires(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, ts := newServer(t, clk.Now)
	u, err := s.CreateAccount(context.Background(), "ann@example.com", "Ann", "pw-123456", "acme")
	if err != nil {
		t.Fatal(err)
	}
	login, _ := s.IssueToken(context.Background(), u.ID, "login", time.Hour)
	_, out := call(t, http.MethodPost, ts.URL+"/api/v1/api-keys", login, `{"name":"ci","expires_in_days":1}`)
	key := out["key"].(string)
	clk.Add(23 * time.Hour)
	if code, _ := call(t, http.MethodGet, ts.URL+"/api/v1/workspaces", key, ""); code != 200 {
		t.Errorf("before expiry: %d", code)
	}
	clk.Add(time.Hour)
	if code, out := call(t, http.MethodGet, ts.URL+"/api/v1/workspaces", key, ""); code != http.StatusUnauthorized {
		t.Errorf("after expiry: %d %v", code, out)
	}
}
