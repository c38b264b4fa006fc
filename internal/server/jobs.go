package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/dlthub/dlthub/internal/store"
)

// JobJSON is a deployed job; Spec is the expanded manifest entry.
type JobJSON struct {
	Ref       string          `json:"job_ref"`
	Hash      string          `json:"hash"`
	Active    bool            `json:"active"`
	Spec      json.RawMessage `json:"spec"`
	UpdatedAt time.Time       `json:"updated_at"`
	// DeployedAt is when the job last became active: its windows count
	// from there.
	DeployedAt time.Time `json:"deployed_at"`
}

func (s *Server) jobRoutes() {
	s.api("GET /api/v1/workspaces/{id}/jobs", s.listJobs)
	s.api("PUT /api/v1/workspaces/{id}/jobs", s.reconcileJobs)
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	_, ws, _, ok := s.workspaceAccess(w, r, store.RoleViewer)
	if !ok {
		return
	}
	listPage(w, r, "jobs", func(p store.Page) ([]store.Job, error) { return s.cfg.Store.Jobs(r.Context(), ws.ID, p) },
		func(j store.Job) string { return j.Ref },
		func(j store.Job) JobJSON {
			return JobJSON{Ref: j.Ref, Hash: j.Hash, Active: j.Active, Spec: json.RawMessage(j.Spec), UpdatedAt: j.UpdatedAt, DeployedAt: j.DeployedAt}
		})
}

// reconcileJobs makes the listed jobs the workspace's active ones and
// reports what happened to each (developer and up).
func (s *Server) reconcileJobs(w http.ResponseWriter, r *http.Request) {
	_, ws, _, ok := s.workspaceAccess(w, r, store.RoleDeveloper)
	if !ok {
		return
	}
	var req struct {
		Jobs []struct {
			Ref  string          `json:"job_ref"`
			Hash string          `json:"hash"`
			Spec json.RawMessage `json:"spec"`
		} `json:"jobs"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	jobs := make([]store.Job, 0, len(req.Jobs))
	seen := map[string]bool{}
	for _, j := range req.Jobs {
		if j.Ref == "" || j.Hash == "" || !json.Valid(j.Spec) {
			writeError(w, http.StatusBadRequest, "every job needs job_ref, hash and a JSON spec; the active jobs are unchanged")
			return
		}
		if seen[j.Ref] {
			writeError(w, http.StatusBadRequest, j.Ref+" appears twice; the active jobs are unchanged")
			return
		}
		seen[j.Ref] = true
		jobs = append(jobs, store.Job{Ref: j.Ref, Hash: j.Hash, Spec: string(j.Spec)})
	}
	changes, err := s.cfg.Store.ReconcileJobs(r.Context(), ws.ID, jobs, s.cfg.Now().UTC())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not reconcile jobs")
		return
	}
	out := make([]map[string]string, 0, len(changes))
	for _, c := range changes {
		out = append(out, map[string]string{"job_ref": c.Ref, "action": c.Action})
	}
	writeJSON(w, http.StatusOK, map[string]any{"changes": out})
}
