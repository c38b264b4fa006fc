package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"time"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/dlthub/dlthub/internal/artifact"
	"github.com/dlthub/dlthub/internal/store"
)

// ConfigurationJSON describes a synced configuration: file names only,
// never contents.
type ConfigurationJSON struct {
	ID        string    `json:"id"`
	Version   int       `json:"version"`
	Files     []string  `json:"files"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func configurationJSON(c store.Configuration) ConfigurationJSON {
	files := c.Files
	if files == nil {
		files = []string{}
	}
	return ConfigurationJSON{ID: c.ID, Version: c.Version, Files: files, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt}
}

// ConfigFile is one synced file.
type ConfigFile = artifact.ConfigFile

// syncedName is what may be synced: the shared files and those of profiles
// other than dev and tests (DESIGN §6.4).
var syncedName = regexp.MustCompile(`^(?:([a-z][a-z0-9_-]*)\.)?(config|secrets)\.toml$`)

func (s *Server) configurationRoutes() {
	s.api("GET /api/v1/workspaces/{id}/configurations", s.listConfigurations)
	s.api("POST /api/v1/workspaces/{id}/configurations", s.createConfiguration)
}

func (s *Server) listConfigurations(w http.ResponseWriter, r *http.Request) {
	_, ws, _, ok := s.workspaceAccess(w, r, store.RoleViewer)
	if !ok {
		return
	}
	listPage(w, r, "configurations", func(p store.Page) ([]store.Configuration, error) {
		return s.cfg.Store.Configurations(r.Context(), ws.ID, p)
	},
		func(c store.Configuration) string { return strconv.Itoa(c.Version) }, configurationJSON)
}

// createConfiguration checks every file parses as TOML, then stores the
// bundle encrypted with the workspace's data key. Answers never echo contents.
func (s *Server) createConfiguration(w http.ResponseWriter, r *http.Request) {
	u, ws, _, ok := s.workspaceAccess(w, r, store.RoleDeveloper)
	if !ok {
		return
	}
	if s.cfg.Keeper == nil || s.cfg.Blob == nil {
		writeError(w, http.StatusServiceUnavailable, "this server has no secrets keeper or blob store for configuration")
		return
	}
	var req struct {
		Files  []ConfigFile `json:"files"`
		DryRun bool         `json:"dry_run"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	sort.Slice(req.Files, func(i, j int) bool { return req.Files[i].Name < req.Files[j].Name })
	names := make([]string, 0, len(req.Files))
	for i, f := range req.Files {
		m := syncedName.FindStringSubmatch(f.Name)
		if m == nil || m[1] == "dev" || m[1] == "tests" {
			writeError(w, http.StatusBadRequest, f.Name+": only config.toml, secrets.toml and <profile>.config/secrets.toml of profiles other than dev and tests are synced; the active configuration is unchanged")
			return
		}
		if i > 0 && req.Files[i-1].Name == f.Name {
			writeError(w, http.StatusBadRequest, f.Name+" appears twice; the active configuration is unchanged")
			return
		}
		var v map[string]any
		if err := toml.Unmarshal([]byte(f.Content), &v); err != nil {
			detail := f.Name + " is not valid TOML"
			var de *toml.DecodeError
			if errors.As(err, &de) {
				row, col := de.Position()
				detail += ": line " + strconv.Itoa(row) + ", column " + strconv.Itoa(col) + ": " + de.Error()
			}
			writeError(w, http.StatusBadRequest, detail+"; the active configuration is unchanged")
			return
		}
		names = append(names, f.Name)
	}
	if req.DryRun {
		s.configurationDiff(w, r, ws.ID, req.Files)
		return
	}
	mac := hmac.New(sha256.New, s.cfg.HashKey)
	mac.Write(artifact.Bundle(req.Files))
	hash := hex.EncodeToString(mac.Sum(nil))
	if list, err := s.cfg.Store.Configurations(r.Context(), ws.ID, store.Page{Limit: 1}); err == nil && len(list) > 0 && list[0].ContentHash == hash {
		writeJSON(w, http.StatusOK, map[string]any{"configuration": configurationJSON(list[0]), "unchanged": true})
		return
	}
	id := store.NewID()
	key := artifact.ConfigurationKey(ws.ID, id)
	if err := artifact.WriteConfiguration(r.Context(), s.cfg.Blob, s.ring, ws.ID, key, req.Files); err != nil {
		s.cfg.Logger.Error("store configuration", "key", key, "err", err)
		writeError(w, http.StatusInternalServerError, "could not store the configuration")
		return
	}
	c, err := s.cfg.Store.CreateConfiguration(r.Context(), store.Configuration{ID: id, WorkspaceID: ws.ID, ContentHash: hash, BlobKey: key,
		Files: names, CreatedBy: u.ID, CreatedAt: s.cfg.Now().UTC()})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not record the configuration")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"configuration": configurationJSON(c), "unchanged": false})
}

// ConfigDiff is what a sync would change in one file, by key name only.
type ConfigDiff struct {
	Name    string   `json:"name"`
	State   string   `json:"state"` // added, removed, changed, unchanged
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	Changed []string `json:"changed,omitempty"`
}

// configurationDiff compares files with the active version without storing
// anything; the answer names keys, never values.
func (s *Server) configurationDiff(w http.ResponseWriter, r *http.Request, workspaceID string, files []ConfigFile) {
	active := map[string]string{}
	if list, err := s.cfg.Store.Configurations(r.Context(), workspaceID, store.Page{Limit: 1}); err == nil && len(list) > 0 {
		old, err := artifact.ReadConfiguration(r.Context(), s.cfg.Blob, s.ring, workspaceID, list[0].BlobKey)
		if err != nil {
			s.cfg.Logger.Error("read configuration", "key", list[0].BlobKey, "err", err)
			writeError(w, http.StatusInternalServerError, "could not read the active configuration: "+err.Error())
			return
		}
		for _, f := range old {
			active[f.Name] = f.Content
		}
	}
	var out []ConfigDiff
	for _, f := range files {
		old, ok := active[f.Name]
		delete(active, f.Name)
		d := ConfigDiff{Name: f.Name, State: "added"}
		if ok {
			d = diffKeys(f.Name, flatten(old), flatten(f.Content))
		} else {
			for k := range flatten(f.Content) {
				d.Added = append(d.Added, k)
			}
			sort.Strings(d.Added)
		}
		out = append(out, d)
	}
	for name := range active {
		out = append(out, ConfigDiff{Name: name, State: "removed"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	writeJSON(w, http.StatusOK, map[string]any{"files": out})
}

func diffKeys(name string, old, cur map[string]string) ConfigDiff {
	d := ConfigDiff{Name: name, State: "unchanged"}
	for k, v := range cur {
		ov, ok := old[k]
		switch {
		case !ok:
			d.Added = append(d.Added, k)
		case ov != v:
			d.Changed = append(d.Changed, k)
		}
	}
	for k := range old {
		if _, ok := cur[k]; !ok {
			d.Removed = append(d.Removed, k)
		}
	}
	sort.Strings(d.Added)
	sort.Strings(d.Removed)
	sort.Strings(d.Changed)
	if len(d.Added)+len(d.Removed)+len(d.Changed) > 0 {
		d.State = "changed"
	}
	return d
}

// flatten maps dotted key paths to their values' JSON, for comparison.
func flatten(doc string) map[string]string {
	var m map[string]any
	_ = toml.Unmarshal([]byte(doc), &m) // validated before
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if t, ok := v.(map[string]any); ok && len(t) > 0 {
			for k, x := range t {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, x)
			}
			return
		}
		b, _ := json.Marshal(v)
		out[prefix] = string(b)
	}
	walk("", m)
	delete(out, "")
	return out
}
