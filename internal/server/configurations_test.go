package server

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigurations(t *testing.T) {
	tm := newTeam(t)
	url := tm.ts + "/api/v1/workspaces/" + tm.analytics + "/configurations"
	dev := tm.tokens["developer"]
	secret := "hunter2-" + strings.Repeat("9", 16)
	files := func(extra ...string) string {
		fs := []map[string]string{
			{"name": "config.toml", "content": "[runtime]\nlog_level = \"INFO\"\n"},
			{"name": "prod.secrets.toml", "content": "[destination.warehouse.credentials]\npassword = \"" + secret + "\"\n"},
		}
		for i := 0; i+1 < len(extra); i += 2 {
			fs = append(fs, map[string]string{"name": extra[i], "content": extra[i+1]})
		}
		b, _ := json.Marshal(map[string]any{"files": fs})
		return string(b)
	}
	code, out := call(t, http.MethodPost, url, dev, files())
	if code != http.StatusCreated || out["unchanged"] != false {
		t.Fatalf("first: %d %v", code, out)
	}
	if code, out := call(t, http.MethodPost, url, dev, files()); code != http.StatusOK || out["unchanged"] != true {
		t.Errorf("same: %d %v", code, out)
	}
	for name, tc := range map[string]struct {
		body, want string
		code       int
	}{
		"not TOML":      {files("access.config.toml", "[broken\n"), "access.config.toml is not valid TOML: line 1", 400},
		"dev profile":   {files("dev.secrets.toml", "a = 1\n"), "dev.secrets.toml: only", 400},
		"odd name":      {files("../x.toml", "a = 1\n"), "only config.toml", 400},
		"twice":         {files("config.toml", "a = 1\n"), "appears twice", 400},
		"viewer writes": {files(), "needs developer", 403},
	} {
		tok := dev
		if name == "viewer writes" {
			tok = tm.tokens["viewer"]
		}
		code, out := call(t, http.MethodPost, url, tok, tc.body)
		if code != tc.code || !strings.Contains(out["detail"].(string), tc.want) {
			t.Errorf("%s: %d %v", name, code, out)
		}
	}
	// Lists show names only; the secret is in no answer and no blob.
	code, out = call(t, http.MethodGet, url, tm.tokens["viewer"], "")
	b, _ := json.Marshal(out)
	if code != 200 || strings.Count(string(b), `"version"`) != 1 || !strings.Contains(string(b), "prod.secrets.toml") || strings.Contains(string(b), secret) {
		t.Errorf("list: %d %s", code, b)
	}
	_ = filepath.WalkDir(tm.blobDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, _ := os.ReadFile(p); strings.Contains(string(data), secret) || strings.Contains(string(data), "warehouse") {
				t.Errorf("%s holds configuration in clear text", p)
			}
		}
		return err
	})
}
