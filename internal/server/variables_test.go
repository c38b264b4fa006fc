package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestVariables(t *testing.T) {
	tm := newTeam(t)
	dev := tm.tokens["developer"]
	url := tm.ts + "/api/v1/workspaces/" + tm.analytics + "/variables"
	const secret = "pw-0123456789-abcdef"
	for name, body := range map[string]string{
		"LOG_LEVEL":      `{"value":"INFO"}`,
		"LOG_LEVEL?prod": `{"value":"WARN","profile":"prod"}`,
		"SOURCES__TOKEN": `{"value":"` + secret + `","secret":true}`,
	} {
		n, _, _ := strings.Cut(name, "?")
		if code, out := call(t, http.MethodPut, url+"/"+n, dev, body); code != http.StatusOK {
			t.Fatalf("%s: %d %v", name, code, out)
		}
	}
	code, out := call(t, http.MethodGet, url, tm.tokens["viewer"], "")
	got := jsonString(out)
	if code != http.StatusOK || strings.Contains(got, secret) || !strings.Contains(got, `"name":"SOURCES__TOKEN","secret":true`) ||
		!strings.Contains(got, `"name":"LOG_LEVEL","profile":"prod","secret":false,"updated_at"`) || !strings.Contains(got, `"value":"WARN"`) {
		t.Errorf("list: %d %s", code, got)
	}
	// Stored sealed: the clear value is nowhere in the database.
	vs, _ := tm.server.cfg.Store.Variables(context.Background(), tm.analytics)
	for _, v := range vs {
		if strings.Contains(v.Value, secret) {
			t.Errorf("%s stored in clear", v.Name)
		}
	}
	for name, want := range map[string]string{
		"DLTHUB_RUN_ID":      "launch contract",
		"WORKSPACE__PROFILE": "set by the platform",
		"9LIVES":             "environment variable name",
	} {
		if code, out := call(t, http.MethodPut, url+"/"+name, dev, `{"value":"x"}`); code != http.StatusBadRequest || !strings.Contains(out["detail"].(string), want) {
			t.Errorf("%s: %d %v", name, code, out)
		}
	}
	if code, _ := call(t, http.MethodPut, url+"/X", dev, `{"value":"x","profile":"Prod!"}`); code != http.StatusBadRequest {
		t.Errorf("bad profile: %d", code)
	}
	if code, _ := call(t, http.MethodPut, url+"/X", dev, `{}`); code != http.StatusBadRequest {
		t.Errorf("no value: %d", code)
	}
	if code, _ := call(t, http.MethodDelete, url+"/LOG_LEVEL?profile=prod", dev, ""); code != http.StatusNoContent {
		t.Errorf("delete prod: %d", code)
	}
	if code, out := call(t, http.MethodDelete, url+"/LOG_LEVEL?profile=prod", dev, ""); code != http.StatusNotFound || !strings.Contains(out["detail"].(string), "for profile prod") {
		t.Errorf("delete again: %d %v", code, out)
	}
	if code, out := call(t, http.MethodGet, url+"?limit=1", dev, ""); code != http.StatusOK || out["next_cursor"] == nil {
		t.Errorf("paged: %d %v", code, out)
	}
}
