package platform

import (
	"os"
	"path/filepath"
	"testing"
)

func TestNormalizeRepository(t *testing.T) {
	want := "github.com/acme/pipelines"
	for _, in := range []string{
		"git@github.com:Acme/pipelines.git",
		"https://github.com/acme/pipelines",
		"https://user:secret@github.com/acme/pipelines.git/",
		"ssh://git@github.com:22/acme/pipelines.git",
		"github.com:acme/pipelines",
	} {
		if got := NormalizeRepository(in); got != want {
			t.Errorf("%s → %s", in, got)
		}
	}
	if got := NormalizeRepository("/srv/git/Repo.git"); got != "srv/git/repo" {
		t.Errorf("path: %s", got)
	}
}

func TestOriginURL(t *testing.T) {
	dir := t.TempDir()
	if OriginURL(dir) != "" {
		t.Error("origin outside a checkout")
	}
	_ = os.MkdirAll(filepath.Join(dir, ".git"), 0o755)
	cfg := "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://x/up\n[remote \"origin\"]\n\turl = git@github.com:acme/p.git\n\tfetch = +refs/heads/*\n"
	_ = os.WriteFile(filepath.Join(dir, ".git", "config"), []byte(cfg), 0o644)
	if got := OriginURL(dir); got != "git@github.com:acme/p.git" {
		t.Errorf("origin: %q", got)
	}
}
