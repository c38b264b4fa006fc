package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/store"
)

// WorkspaceJSON is a workspace as the API shows it, with the caller's role.
type WorkspaceJSON struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	OrganizationID string    `json:"organization_id"`
	Organization   string    `json:"organization_name"`
	Role           string    `json:"role"`
	Repository     string    `json:"repository,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

func (s *Server) workspaceRoutes() {
	s.api("GET /api/v1/workspaces", s.listWorkspaces)
	s.api("POST /api/v1/workspaces", s.createWorkspace)
	s.api("GET /api/v1/workspaces/{id}", s.getWorkspace)
	s.api("PUT /api/v1/workspaces/{id}/repository", s.bindRepository)
}

// requireUser answers 401 unless the request carries a valid token.
func (s *Server) requireUser(w http.ResponseWriter, r *http.Request) (caller, bool) {
	u, ok := s.caller(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "log in with `dlthub login` or send an API key")
	}
	return u, ok
}

// requireRole answers 404 when the caller has no role in the workspace (a
// user of one organization learns nothing of another's) and 403 when the
// role is below need.
func (s *Server) requireRole(w http.ResponseWriter, r *http.Request, u caller, id, need string) (store.Workspace, string, bool) {
	role, err := s.roleIn(r.Context(), u, id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "workspace "+id+" not found")
		return store.Workspace{}, "", false
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not read the workspace role")
		return store.Workspace{}, "", false
	}
	if store.RoleRank(role) < store.RoleRank(need) {
		writeJSON(w, http.StatusForbidden, Error{StatusCode: http.StatusForbidden,
			Detail: "your role in this workspace is " + role + "; this needs " + need, Extra: map[string]any{"role": role, "required": need}})
		return store.Workspace{}, "", false
	}
	ws, err := s.cfg.Store.WorkspaceByID(r.Context(), id)
	if err != nil {
		writeError(w, http.StatusNotFound, "workspace "+id+" not found")
		return store.Workspace{}, "", false
	}
	return ws, role, true
}

// roleIn is the caller's role in a workspace, capped by their key;
// store.ErrNotFound when they have none.
func (s *Server) roleIn(ctx context.Context, u caller, workspaceID string) (string, error) {
	role, err := s.cfg.Store.WorkspaceRole(ctx, workspaceID, u.ID)
	if err != nil {
		return "", err
	}
	return u.limit(workspaceID, role)
}

// workspaceAccess authenticates the request and checks the caller's role
// in the workspace named by the {id} path value; it has answered already
// when ok is false.
func (s *Server) workspaceAccess(w http.ResponseWriter, r *http.Request, need string) (u caller, ws store.Workspace, role string, ok bool) {
	if u, ok = s.requireUser(w, r); !ok {
		return u, ws, "", false
	}
	ws, role, ok = s.requireRole(w, r, u, r.PathValue("id"), need)
	return u, ws, role, ok
}

// limit caps a role by the caller's key: a workspace key acts only in its
// workspace and with at most its own role.
func (u caller) limit(workspaceID, role string) (string, error) {
	if u.Key.WorkspaceID == "" {
		return role, nil
	}
	if u.Key.WorkspaceID != workspaceID {
		return "", store.ErrNotFound
	}
	if store.RoleRank(u.Key.Role) < store.RoleRank(role) {
		return u.Key.Role, nil
	}
	return role, nil
}

// orgNames maps the caller's organizations by id.
func (s *Server) orgNames(r *http.Request, u caller) map[string]store.OrgMembership {
	orgs, _ := s.cfg.Store.OrgsOfUser(r.Context(), u.ID)
	out := make(map[string]store.OrgMembership, len(orgs))
	for _, o := range orgs {
		out[o.Org.ID] = o
	}
	return out
}

func workspaceJSON(ws store.Workspace, role string, orgs map[string]store.OrgMembership) WorkspaceJSON {
	return WorkspaceJSON{ID: ws.ID, Name: ws.Name, OrganizationID: ws.OrgID, Organization: orgs[ws.OrgID].Org.Name,
		Role: role, Repository: ws.Repository, CreatedAt: ws.CreatedAt}
}

func (s *Server) listWorkspaces(w http.ResponseWriter, r *http.Request) {
	u, ok := s.requireUser(w, r)
	if !ok {
		return
	}
	p, limit, ok := pageRequest(w, r)
	if !ok {
		return
	}
	list, err := s.cfg.Store.WorkspacesOfUser(r.Context(), u.ID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not list workspaces")
		return
	}
	// A person's workspaces are few (those of their organizations), so this
	// list is paged here, over the store's whole answer, with the
	// workspace id as the key.
	orgs := s.orgNames(r, u)
	out := make([]WorkspaceJSON, 0, len(list))
	seen := p.After == ""
	for _, a := range list {
		if !seen {
			seen = a.Workspace.ID == p.After
			continue
		}
		if role, err := u.limit(a.Workspace.ID, a.Role); err == nil && len(out) < p.Limit {
			out = append(out, workspaceJSON(a.Workspace, role, orgs))
		}
	}
	if !seen {
		writeError(w, http.StatusBadRequest, badCursor)
		return
	}
	out, next := paged(out, limit, func(ws WorkspaceJSON) string { return ws.ID })
	writeJSON(w, http.StatusOK, pageBody(map[string]any{"workspaces": out}, next))
}

func (s *Server) getWorkspace(w http.ResponseWriter, r *http.Request) {
	u, ws, role, ok := s.workspaceAccess(w, r, store.RoleViewer)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, workspaceJSON(ws, role, s.orgNames(r, u)))
}

// decodeBody reads a JSON request body into v, answering 400 on failure.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "request body: "+err.Error())
		return false
	}
	return true
}

// validWorkspaceName allows what a workspace folder name allows.
func validWorkspaceName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for _, c := range n {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

func (s *Server) createWorkspace(w http.ResponseWriter, r *http.Request) {
	u, ok := s.requireUser(w, r)
	if !ok {
		return
	}
	if u.Key.WorkspaceID != "" {
		writeError(w, http.StatusForbidden, "a workspace API key acts only inside its workspace; use a personal key or log in")
		return
	}
	var req struct {
		OrganizationID string `json:"organization_id"`
		Name           string `json:"name"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if !validWorkspaceName(req.Name) {
		writeError(w, http.StatusBadRequest, "name: use 1-64 letters, digits, - or _")
		return
	}
	orgs := s.orgNames(r, u)
	m, member := orgs[req.OrganizationID]
	if !member {
		writeError(w, http.StatusNotFound, "organization "+req.OrganizationID+" not found")
		return
	}
	ws, err := s.cfg.Store.CreateWorkspace(r.Context(), req.OrganizationID, req.Name)
	if errors.Is(err, store.ErrConflict) {
		writeError(w, http.StatusConflict, "organization "+m.Org.Name+" already has a workspace named "+req.Name)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not create the workspace")
		return
	}
	// Members who create a workspace own it; org owners own it anyway.
	if m.Role != store.RoleOwner {
		if err := s.cfg.Store.SetWorkspaceRole(r.Context(), ws.ID, u.ID, store.RoleOwner); err != nil {
			writeError(w, http.StatusInternalServerError, "could not grant the workspace role")
			return
		}
	}
	writeJSON(w, http.StatusCreated, workspaceJSON(ws, store.RoleOwner, orgs))
}

// bindRepository binds the caller's repository to the workspace (DESIGN
// §6.3): developers and owners only.
func (s *Server) bindRepository(w http.ResponseWriter, r *http.Request) {
	_, ws, _, ok := s.workspaceAccess(w, r, store.RoleDeveloper)
	if !ok {
		return
	}
	var req struct {
		Repository string `json:"repository"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	req.Repository = strings.TrimSpace(req.Repository)
	if req.Repository == "" {
		writeError(w, http.StatusBadRequest, "repository is required")
		return
	}
	prev, err := s.cfg.Store.BindRepository(r.Context(), ws.ID, req.Repository)
	if errors.Is(err, store.ErrConflict) {
		writeJSON(w, http.StatusConflict, Error{StatusCode: http.StatusConflict,
			Detail: "workspace " + ws.Name + " is bound to another repository (" + ws.Repository + "); connect this one to a different workspace",
			Extra:  map[string]any{"repository": ws.Repository}})
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not bind the repository")
		return
	}
	// The repository left prev: its jobs there stop triggering (history kept).
	deactivated := 0
	if prev != "" {
		if deactivated, err = s.cfg.Store.DeactivateJobs(r.Context(), prev, s.cfg.Now().UTC()); err != nil {
			writeError(w, http.StatusInternalServerError, "bound, but could not deactivate the previous workspace's jobs; connect again")
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"workspace_id": ws.ID, "repository": req.Repository, "previous_workspace_id": prev, "deactivated_jobs": deactivated})
}
