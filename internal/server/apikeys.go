package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
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

// keyRequest is what a new API key is asked for with.
type keyRequest struct {
	Name          string `json:"name"`
	WorkspaceID   string `json:"workspace_id"`
	Role          string `json:"role"`
	ExpiresInDays int    `json:"expires_in_days"`
}

// issueAPIKey checks a key request and creates the key: a personal key
// (acts as the user) or a workspace key (developer or viewer in one
// workspace, never more than the caller has there). The token is returned
// once; only its hash is stored. A refused request is an *Error.
func (s *Server) issueAPIKey(ctx context.Context, u caller, req keyRequest) (store.APIKey, string, *Error) {
	bad := func(status int, detail string, extra map[string]any) (store.APIKey, string, *Error) {
		return store.APIKey{}, "", &Error{StatusCode: status, Detail: detail, Extra: extra}
	}
	if strings.TrimSpace(req.Name) == "" {
		return bad(http.StatusBadRequest, "name is required", nil)
	}
	ttl := DefaultKeyTTL
	if req.ExpiresInDays != 0 {
		ttl = time.Duration(req.ExpiresInDays) * 24 * time.Hour
	}
	if ttl <= 0 || ttl > MaxKeyTTL {
		return bad(http.StatusBadRequest, "expires_in_days must be between 1 and 365", map[string]any{"max": 365})
	}
	role := store.RoleOwner
	if req.WorkspaceID != "" {
		if req.Role != store.RoleDeveloper && req.Role != store.RoleViewer {
			return bad(http.StatusBadRequest, "role: a workspace key is developer or viewer", nil)
		}
		// Nobody hands out more than they have.
		have, err := s.roleIn(ctx, u, req.WorkspaceID)
		if errors.Is(err, store.ErrNotFound) {
			return bad(http.StatusNotFound, "workspace "+req.WorkspaceID+" not found", nil)
		} else if err != nil {
			return bad(http.StatusInternalServerError, "could not read the workspace role", nil)
		}
		if store.RoleRank(have) < store.RoleRank(req.Role) {
			return bad(http.StatusForbidden, "your role in this workspace is "+have+"; this needs "+req.Role, map[string]any{"role": have, "required": req.Role})
		}
		role = req.Role
	} else if req.Role != "" {
		return bad(http.StatusBadRequest, "role: only workspace keys (with workspace_id) have a role; a personal key acts as you", nil)
	}
	tok := "dlt_" + randomToken(24)
	now := s.cfg.Now().UTC()
	k, err := s.cfg.Store.CreateAPIKey(ctx, store.APIKey{UserID: u.ID, WorkspaceID: req.WorkspaceID, Role: role, Name: strings.TrimSpace(req.Name),
		Hash: HashToken(tok), CreatedAt: now, ExpiresAt: now.Add(ttl)})
	if err != nil {
		return bad(http.StatusInternalServerError, "could not create the API key", nil)
	}
	return k, tok, nil
}

// createAPIKey answers POST /api/v1/api-keys; the key is in this answer
// only.
func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	u, ok := s.requireUser(w, r)
	if !ok || !personalOnly(w, u) {
		return
	}
	var req keyRequest
	if !decodeBody(w, r, &req) {
		return
	}
	k, tok, e := s.issueAPIKey(r.Context(), u, req)
	if e != nil {
		writeJSON(w, e.StatusCode, e)
		return
	}
	out := keyJSON(k)
	out.Key = tok
	writeJSON(w, http.StatusCreated, out)
}

// revokeOwnKey revokes one of the user's keys; false when it is not theirs.
func (s *Server) revokeOwnKey(ctx context.Context, userID, id string) (bool, error) {
	keys, err := s.cfg.Store.APIKeysOfUser(ctx, userID, store.Page{})
	if err != nil {
		return false, err
	}
	for _, k := range keys {
		if k.ID != id {
			continue
		}
		if err := s.cfg.Store.RevokeAPIKey(ctx, id, s.cfg.Now().UTC()); err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
		return true, nil
	}
	return false, nil
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	u, ok := s.requireUser(w, r)
	if !ok || !personalOnly(w, u) {
		return
	}
	id := r.PathValue("id")
	found, err := s.revokeOwnKey(r.Context(), u.ID, id)
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, "could not revoke the API key")
	case !found:
		writeError(w, http.StatusNotFound, "API key "+id+" not found")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
