package server

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/store"
)

// VariableJSON is a variable as the API shows it: a secret's value never.
type VariableJSON struct {
	Name      string    `json:"name"`
	Profile   string    `json:"profile,omitempty"` // "" for the whole workspace
	Secret    bool      `json:"secret"`
	Value     string    `json:"value,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func variableJSON(v store.Variable) VariableJSON {
	out := VariableJSON{Name: v.Name, Profile: v.Profile, Secret: v.Secret, UpdatedAt: v.UpdatedAt}
	if !v.Secret {
		out.Value = v.Value
	}
	return out
}

var (
	variableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	profileName  = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
)

// maxVariable bounds a variable's value.
const maxVariable = 64 << 10

// reservedVariable says why a name cannot be a variable: the launch
// contract and the process basics are the platform's.
func reservedVariable(name string) string {
	upper := strings.ToUpper(name)
	switch {
	case upper == "WORKSPACE__PROFILE", upper == "PORT", upper == "HOME", upper == "PATH", upper == "TMPDIR":
		return name + " is set by the platform for every run"
	case strings.HasPrefix(upper, "DLTHUB_"), strings.HasPrefix(upper, "DLT_INTERVAL_"):
		return name + " is part of the launch contract the platform sets"
	}
	return ""
}

func (s *Server) variableRoutes() {
	s.api("GET /api/v1/workspaces/{id}/variables", s.listVariables)
	s.api("PUT /api/v1/workspaces/{id}/variables/{name}", s.setVariable)
	s.api("DELETE /api/v1/workspaces/{id}/variables/{name}", s.deleteVariable)
}

func (s *Server) listVariables(w http.ResponseWriter, r *http.Request) {
	_, ws, _, ok := s.workspaceAccess(w, r, store.RoleViewer)
	if !ok {
		return
	}
	key := func(v store.Variable) string { return v.Profile + "/" + v.Name }
	listPage(w, r, "variables", func(p store.Page) ([]store.Variable, error) {
		// A workspace has few variables: paged here, over all of them.
		all, err := s.cfg.Store.Variables(r.Context(), ws.ID)
		if err != nil || p.After == "" {
			return limitSlice(all, p.Limit), err
		}
		for i, v := range all {
			if key(v) == p.After {
				return limitSlice(all[i+1:], p.Limit), nil
			}
		}
		return nil, store.ErrBadPage
	}, key, variableJSON)
}

func limitSlice[T any](s []T, n int) []T {
	if n > 0 && len(s) > n {
		return s[:n]
	}
	return s
}

// setVariable creates or replaces a variable (developer and up). Secret
// values are sealed with the server's keeper before they are stored.
func (s *Server) setVariable(w http.ResponseWriter, r *http.Request) {
	u, ws, _, ok := s.workspaceAccess(w, r, store.RoleDeveloper)
	if !ok {
		return
	}
	name := r.PathValue("name")
	var req struct {
		Value   *string `json:"value"`
		Secret  bool    `json:"secret"`
		Profile string  `json:"profile"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	switch {
	case !variableName.MatchString(name):
		writeError(w, http.StatusBadRequest, "name: an environment variable name (letters, digits, _), like DESTINATION__WAREHOUSE__CREDENTIALS__PASSWORD")
		return
	case reservedVariable(name) != "":
		writeError(w, http.StatusBadRequest, reservedVariable(name))
		return
	case req.Profile != "" && !profileName.MatchString(req.Profile):
		writeError(w, http.StatusBadRequest, "profile: a profile name like prod, or none for the whole workspace")
		return
	case req.Value == nil:
		writeError(w, http.StatusBadRequest, "value is required")
		return
	case len(*req.Value) > maxVariable:
		writeError(w, http.StatusRequestEntityTooLarge, "value: at most 64 KiB")
		return
	case strings.ContainsRune(*req.Value, 0):
		writeError(w, http.StatusBadRequest, "value: must not contain a NUL character (\\u0000): an environment variable cannot hold one")
		return
	}
	value := *req.Value
	if req.Secret {
		if s.cfg.Keeper == nil {
			writeError(w, http.StatusServiceUnavailable, "this server has no secrets keeper")
			return
		}
		sealed, err := s.ring.SealValue(r.Context(), ws.ID, value)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "could not encrypt the value")
			return
		}
		value = sealed
	}
	v := store.Variable{WorkspaceID: ws.ID, Profile: req.Profile, Name: name, Secret: req.Secret, Value: value, UpdatedBy: u.ID, UpdatedAt: s.cfg.Now().UTC()}
	if err := s.cfg.Store.SetVariable(r.Context(), v); err != nil {
		writeError(w, http.StatusInternalServerError, "could not store the variable")
		return
	}
	writeJSON(w, http.StatusOK, variableJSON(v))
}

func (s *Server) deleteVariable(w http.ResponseWriter, r *http.Request) {
	_, ws, _, ok := s.workspaceAccess(w, r, store.RoleDeveloper)
	if !ok {
		return
	}
	name, profile := r.PathValue("name"), r.URL.Query().Get("profile")
	err := s.cfg.Store.DeleteVariable(r.Context(), ws.ID, profile, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		scope := "the workspace"
		if profile != "" {
			scope = "profile " + profile
		}
		writeError(w, http.StatusNotFound, "no variable "+name+" for "+scope)
	case err != nil:
		writeError(w, http.StatusInternalServerError, "could not delete the variable")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
