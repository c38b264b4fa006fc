package server

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/deploy"
)

func pack(t *testing.T, files map[string]string) ([]byte, string) {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := deploy.Scan(root, deploy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.WriteTarGz(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), p.Hash
}

func upload(t *testing.T, url, token string, body []byte, hash string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/gzip")
	if hash != "" {
		req.Header.Set("X-Content-Hash", hash)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func version(out map[string]any) float64 {
	d, _ := out["deployment"].(map[string]any)
	v, _ := d["version"].(float64)
	return v
}

func TestDeployments(t *testing.T) {
	tm := newTeam(t)
	url := tm.ts + "/api/v1/workspaces/" + tm.analytics + "/deployments"
	dev := tm.tokens["developer"]
	v1, h1 := pack(t, map[string]string{"dlthub.toml": "[jobs.a.b]\n", "pipelines/gh.toml": "x = 1\n"})
	v2, h2 := pack(t, map[string]string{"dlthub.toml": "[jobs.a.b]\n", "pipelines/gh.toml": "x = 2\n"})

	if code, out := upload(t, url, dev, v1, h1); code != http.StatusCreated || version(out) != 1 || out["unchanged"] != false {
		t.Fatalf("first: %d %v", code, out)
	}
	if code, out := upload(t, url, dev, v1, h1); code != http.StatusOK || version(out) != 1 || out["unchanged"] != true {
		t.Errorf("same code: %d %v", code, out)
	}
	if code, out := upload(t, url, dev, v2, h2); code != http.StatusCreated || version(out) != 2 {
		t.Errorf("changed: %d %v", code, out)
	}
	// Refused uploads leave version 2 active.
	for name, tc := range map[string]struct {
		tok, hash string
		body      []byte
		code      int
	}{
		"viewer":    {tm.tokens["viewer"], h1, v1, http.StatusForbidden},
		"other org": {tm.tokens["other org"], h1, v1, http.StatusNotFound},
		"corrupt":   {dev, "", v1[:len(v1)/2], http.StatusBadRequest},
		"garbage":   {dev, "", []byte("zip?"), http.StatusBadRequest},
		"hash lies": {dev, h2, v1, http.StatusBadRequest},
	} {
		code, out := upload(t, url, tc.tok, tc.body, tc.hash)
		if code != tc.code {
			t.Errorf("%s: %d %v", name, code, out)
		}
		if code == http.StatusBadRequest && !bytes.Contains([]byte(out["detail"].(string)), []byte("active deployment is unchanged")) {
			t.Errorf("%s: %v", name, out)
		}
	}
	code, out := call(t, http.MethodGet, url, tm.tokens["viewer"], "")
	list, _ := out["deployments"].([]any)
	if code != 200 || len(list) != 2 || list[0].(map[string]any)["content_hash"] != h2 {
		t.Errorf("list: %d %v", code, out)
	}
}

func TestDeploymentOverUploadLimit(t *testing.T) {
	tm := newTeam(t)
	tm.server.cfg.MaxUpload = 2048
	url := tm.ts + "/api/v1/workspaces/" + tm.analytics + "/deployments"
	// Random bytes do not compress: the body itself is over the limit.
	noise := make([]byte, 2040)
	_, _ = rand.Read(noise)
	body, hash := pack(t, map[string]string{"blob.bin": string(noise)})
	code, out := upload(t, url, tm.tokens["developer"], body, hash)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(out["detail"].(string), "active deployment is unchanged") {
		t.Errorf("over the body limit (%d bytes): %d %v", len(body), code, out)
	}
	// Text compresses well: the body fits but the content does not.
	body, hash = pack(t, map[string]string{"data.txt": strings.Repeat("a long repeated line\n", 1000)})
	code, out = upload(t, url, tm.tokens["developer"], body, hash)
	if code != http.StatusBadRequest || !strings.Contains(out["detail"].(string), "limit") {
		t.Errorf("over the content limit (%d bytes): %d %v", len(body), code, out)
	}
	if code, out := call(t, http.MethodGet, url, tm.tokens["viewer"], ""); code != 200 || len(out["deployments"].([]any)) != 0 {
		t.Errorf("a refused upload made a deployment: %v", out)
	}
}
