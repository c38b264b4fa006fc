package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/dlthub/dlthub/internal/store"
)

// API key lifetimes (DESIGN §6.2).
const (
	DefaultKeyTTL = 90 * 24 * time.Hour
	MaxKeyTTL     = 365 * 24 * time.Hour
)

// APIKeyJSON describes a key; Key is set only in the answer that creates it.
type APIKeyJSON struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	WorkspaceID string     `json:"workspace_id,omitempty"`
	Role        string     `json:"role"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	Key         string     `json:"key,omitempty"`
}

func keyJSON(k store.APIKey) APIKeyJSON {
	return APIKeyJSON{ID: k.ID, Name: k.Name, WorkspaceID: k.WorkspaceID, Role: k.Role, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt}
}

func (s *Server) apiKeyRoutes() {
	s.api("GET /api/v1/api-keys", s.listAPIKeys)
	s.api("POST /api/v1/api-keys", s.createAPIKey)
	s.api("DELETE /api/v1/api-keys/{id}", s.revokeAPIKey)
}

// personalOnly refuses workspace keys: keys are managed by people.
func personalOnly(w http.ResponseWriter, u caller) bool {
	if u.Key.WorkspaceID != "" {
		writeError(w, http.StatusForbidden, "a workspace API key cannot manage API keys; use a personal key or log in")
		return false
	}
	return true
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	u, ok := s.requireUser(w, r)
	if !ok || !personalOnly(w, u) {
		return
	}
	listPage(w, r, "api_keys", func(p store.Page) ([]store.APIKey, error) { return s.cfg.Store.APIKeysOfUser(r.Context(), u.ID, p) },
		func(k store.APIKey) string { return k.ID }, keyJSON)
}

// createAPIKey makes a personal key (acts as the user) or a workspace key
// (developer or viewer in one workspace). The key is in this answer only.
func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	u, ok := s.requireUser(w, r)
	if !ok || !personalOnly(w, u) {
		return
	}
	var req struct {
		Name          string `json:"name"`
		WorkspaceID   string `json:"workspace_id"`
		Role          string `json:"role"`
		ExpiresInDays int    `json:"expires_in_days"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Name == "" {
		writeError(w, http.StatusBadRequest, "name is required")
		return
	}
	ttl := DefaultKeyTTL
	if req.ExpiresInDays != 0 {
		ttl = time.Duration(req.ExpiresInDays) * 24 * time.Hour
	}
	if ttl <= 0 || ttl > MaxKeyTTL {
		writeJSON(w, http.StatusBadRequest, Error{StatusCode: http.StatusBadRequest, Detail: "expires_in_days must be between 1 and 365", Extra: map[string]any{"max": 365}})
		return
	}
	role := store.RoleOwner
	if req.WorkspaceID != "" {
		if req.Role != store.RoleDeveloper && req.Role != store.RoleViewer {
			writeError(w, http.StatusBadRequest, "role: a workspace key is developer or viewer")
			return
		}
		// Nobody hands out more than they have.
		if _, _, ok := s.requireRole(w, r, u, req.WorkspaceID, req.Role); !ok {
			return
		}
		role = req.Role
	} else if req.Role != "" {
		writeError(w, http.StatusBadRequest, "role: only workspace keys (with workspace_id) have a role; a personal key acts as you")
		return
	}
	tok := "dlt_" + randomToken(24)
	now := s.cfg.Now().UTC()
	k, err := s.cfg.Store.CreateAPIKey(r.Context(), store.APIKey{UserID: u.ID, WorkspaceID: req.WorkspaceID, Role: role, Name: req.Name,
		Hash: HashToken(tok), CreatedAt: now, ExpiresAt: now.Add(ttl)})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not create the API key")
		return
	}
	out := keyJSON(k)
	out.Key = tok
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	u, ok := s.requireUser(w, r)
	if !ok || !personalOnly(w, u) {
		return
	}
	id := r.PathValue("id")
	keys, err := s.cfg.Store.APIKeysOfUser(r.Context(), u.ID, store.Page{})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not read API keys")
		return
	}
	for _, k := range keys {
		if k.ID != id {
			continue
		}
		err := s.cfg.Store.RevokeAPIKey(r.Context(), id, s.cfg.Now().UTC())
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusInternalServerError, "could not revoke the API key")
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeError(w, http.StatusNotFound, "API key "+id+" not found")
}
