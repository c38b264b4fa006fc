package server

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

// staticFiles are the pages' scripts, served from the binary under
// /static/ (no build step, nothing to install next to the server). They
// are files of this origin, not inline scripts, so the pages' CSP can
// say script-src 'self'.
//
//go:embed static
var staticFiles embed.FS

// asset is one embedded file with the version that busts caches.
type asset struct {
	body    []byte
	version string // the first 12 hex digits of its SHA-256
}

// loadAssets reads the embedded files once, at New.
func loadAssets() (map[string]asset, error) {
	out := map[string]asset{}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read embedded %s: %w", p, err)
		}
		sum := sha256.Sum256(b)
		out[path.Base(p)] = asset{body: b, version: hex.EncodeToString(sum[:])[:12]}
		return nil
	})
	return out, err
}

// assetURL is where a page loads an embedded file: the version in the
// query makes a browser fetch a new binary's file, not its cached one.
func (s *Server) assetURL(name string) string {
	return "/static/" + name + "?v=" + s.assets[name].version
}

// staticFile serves an embedded file. The URL carries the file's version,
// so browsers may keep it as long as they like.
func (s *Server) staticFile(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	if r.URL.Query().Get("v") != a.version {
		h.Set("Cache-Control", "no-cache") // another version's URL: not for keeps
	}
	h.Set("ETag", `"`+a.version+`"`)
	http.ServeContent(w, r, r.PathValue("name"), time.Time{}, bytes.NewReader(a.body))
}
