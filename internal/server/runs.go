package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/store"
)

// RunJSON is a run as the API shows it.
type RunJSON struct {
	ID                   string     `json:"id"`
	JobRef               string     `json:"job_ref"`
	Number               int        `json:"number"`
	Trigger              string     `json:"trigger"`
	Profile              string     `json:"profile"`
	Refresh              bool       `json:"refresh"`
	Status               string     `json:"status"`
	DeploymentVersion    int        `json:"deployment_version"`
	ConfigurationVersion int        `json:"configuration_version"`
	IntervalStart        *time.Time `json:"interval_start,omitempty"`
	IntervalEnd          *time.Time `json:"interval_end,omitempty"`
	CreatedAt            time.Time  `json:"created_at"`
	StartedAt            *time.Time `json:"started_at,omitempty"`
	FinishedAt           *time.Time `json:"finished_at,omitempty"`
	ExitCode             *int       `json:"exit_code,omitempty"`
	Reason               string     `json:"reason,omitempty"`
	Attempt              int        `json:"attempt"`
	// TableRows are the rows a pipeline run loaded, per table.
	TableRows map[string]int64 `json:"table_rows,omitempty"`
}

func runJSON(r store.Run) RunJSON {
	return RunJSON{ID: r.ID, JobRef: r.JobRef, Number: r.Number, Trigger: r.Trigger, Profile: r.Profile, Refresh: r.Refresh, Status: r.Status,
		DeploymentVersion: r.DeploymentVersion, ConfigurationVersion: r.ConfigurationVersion, IntervalStart: r.IntervalStart, IntervalEnd: r.IntervalEnd,
		CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, ExitCode: r.ExitCode, Reason: r.Reason, Attempt: r.Attempt, TableRows: r.TableRows}
}

// LogLineJSON is one line of a run's log stream; the stream ends with an
// object that has End set and the run's final state.
type LogLineJSON struct {
	Seq    int64     `json:"seq,omitempty"`
	At     time.Time `json:"at,omitzero"`
	Stream string    `json:"stream,omitempty"`
	Line   string    `json:"line,omitempty"`
	End    bool      `json:"end,omitempty"`
	Run    *RunJSON  `json:"run,omitempty"`
}

func (s *Server) runRoutes() {
	s.api("POST /api/v1/workspaces/{id}/jobs/{ref}/runs", s.triggerRun)
	s.api("GET /api/v1/workspaces/{id}/runs", s.listRuns)
	s.api("GET /api/v1/workspaces/{id}/runs/{run}", s.getRun)
	s.api("POST /api/v1/workspaces/{id}/runs/{run}/cancel", s.cancelRun)
	s.api("GET /api/v1/workspaces/{id}/runs/{run}/logs", s.runLogs)
}

// triggerRun queues a manual run of an active batch job with the active
// code and configuration (developer and up).
func (s *Server) triggerRun(w http.ResponseWriter, r *http.Request) {
	u, ws, _, ok := s.workspaceAccess(w, r, store.RoleDeveloper)
	if !ok {
		return
	}
	var req struct {
		Refresh bool `json:"refresh"`
	}
	if r.ContentLength != 0 && !decodeBody(w, r, &req) {
		return
	}
	ctx, ref := r.Context(), r.PathValue("ref")
	spec, err := s.activeSpec(ctx, ws.ID, ref)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, ref+" is not an active job of this workspace; deploy it first")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not read the jobs")
		return
	}
	if spec.Type == "interactive" {
		writeError(w, http.StatusBadRequest, ref+" is an interactive job: it is served, not run")
		return
	}
	profile := spec.RequiredProfile()
	if profile == "" {
		profile = "prod"
	}
	run, err := s.queueRun(ctx, store.Run{WorkspaceID: ws.ID, JobRef: ref, Trigger: jobs.KindManual + ":" + ref, Profile: profile,
		Refresh: req.Refresh || spec.Refresh == "always", CreatedBy: u.ID, Concurrency: spec.Concurrency()})
	if errors.Is(err, errNothingDeployed) {
		writeError(w, http.StatusConflict, "nothing is deployed to this workspace yet: run `dlthub deploy`")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not queue the run")
		return
	}
	writeJSON(w, http.StatusCreated, runJSON(run))
}

var errNothingDeployed = errors.New("nothing deployed")

// activeSpec is the deployed spec of an active job (store.ErrNotFound
// when the workspace has no such active job).
func (s *Server) activeSpec(ctx context.Context, wsID, ref string) (*jobs.ExpandedJob, error) {
	j, err := s.cfg.Store.JobByRef(ctx, wsID, ref)
	if err != nil {
		return nil, err
	}
	if !j.Active {
		return nil, fmt.Errorf("job %s is archived: %w", ref, store.ErrNotFound)
	}
	var spec jobs.ExpandedJob
	if err := json.Unmarshal([]byte(j.Spec), &spec); err != nil {
		return nil, fmt.Errorf("the deployed spec of %s: %w", ref, err)
	}
	return &spec, nil
}

// queueRun queues r with the workspace's active code and configuration
// versions and wakes the worker; errNothingDeployed without code.
func (s *Server) queueRun(ctx context.Context, r store.Run) (store.Run, error) {
	code, conf, err := s.cfg.Store.ActiveVersions(ctx, r.WorkspaceID)
	if err != nil {
		return store.Run{}, err
	}
	if code == 0 {
		return store.Run{}, errNothingDeployed
	}
	r.DeploymentVersion, r.ConfigurationVersion, r.CreatedAt = code, conf, s.cfg.Now().UTC()
	run, err := s.cfg.Store.CreateRun(ctx, r)
	if err == nil && s.cfg.RunQueued != nil {
		s.cfg.RunQueued()
	}
	return run, err
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	_, ws, _, ok := s.workspaceAccess(w, r, store.RoleViewer)
	if !ok {
		return
	}
	job := r.URL.Query().Get("job")
	listPage(w, r, "runs", func(p store.Page) ([]store.Run, error) { return s.cfg.Store.Runs(r.Context(), ws.ID, job, p) },
		func(x store.Run) string { return x.ID }, runJSON)
}

// workspaceRun is the {run} of the workspace: an id, or JOB_REF#NUMBER.
func (s *Server) workspaceRun(w http.ResponseWriter, r *http.Request, need string) (store.Run, bool) {
	_, ws, _, ok := s.workspaceAccess(w, r, need)
	if !ok {
		return store.Run{}, false
	}
	id := r.PathValue("run")
	run, err := s.cfg.Store.RunByID(r.Context(), id)
	if err == nil && run.WorkspaceID != ws.ID {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "run "+id+" not found in this workspace")
		return run, false
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not read the run")
		return run, false
	}
	return run, true
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	if run, ok := s.workspaceRun(w, r, store.RoleViewer); ok {
		writeJSON(w, http.StatusOK, runJSON(run))
	}
}

// cancelRun ends a pending run or asks its worker to stop a running one
// (developer and up).
func (s *Server) cancelRun(w http.ResponseWriter, r *http.Request) {
	run, ok := s.workspaceRun(w, r, store.RoleDeveloper)
	if !ok {
		return
	}
	if run.Done() {
		writeJSON(w, http.StatusConflict, Error{StatusCode: http.StatusConflict, Detail: "the run has ended already: " + run.Status, Extra: map[string]any{"status": run.Status}})
		return
	}
	status, err := s.cfg.Store.CancelRun(r.Context(), run.ID, s.cfg.Now().UTC())
	if err != nil {
		writeError(w, http.StatusConflict, "the run ended meanwhile")
		return
	}
	run.Status = status
	writeJSON(w, http.StatusOK, runJSON(run))
}

// logPoll is how often a followed log looks for new lines.
const logPoll = 200 * time.Millisecond

// runLogs streams a run's log as JSON lines: every line after ?after=SEQ,
// and with ?follow=true new lines as they are stored until the run ends.
// The last object has end: true and the run (DESIGN §6.6: backlog replay,
// no duplicates, ends with the run).
func (s *Server) runLogs(w http.ResponseWriter, r *http.Request) {
	run, ok := s.workspaceRun(w, r, store.RoleViewer)
	if !ok {
		return
	}
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "after must be a line number (seq) from an earlier answer")
			return
		}
		after = n
	}
	follow := r.URL.Query().Get("follow") == "true"
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	enc := json.NewEncoder(w)
	// Each batch goes to the client as it is read: a follower sees lines
	// while the run is still running (DESIGN §6.6), not when it ends.
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	ctx := r.Context()
	for {
		// Read the run's state before its lines: a run seen ended here has
		// stored all of them, so the lines read next are the last ones.
		cur, err := s.cfg.Store.RunByID(ctx, run.ID)
		if err != nil {
			return
		}
		for {
			lines, err := s.cfg.Store.RunLogs(ctx, run.ID, after, 1000)
			if err != nil {
				return
			}
			for _, l := range lines {
				_ = enc.Encode(LogLineJSON{Seq: l.Seq, At: l.At, Stream: l.Stream, Line: l.Line})
				after = l.Seq
			}
			if len(lines) < 1000 {
				break
			}
		}
		_ = rc.Flush()
		if cur.Done() || !follow {
			rj := runJSON(cur)
			_ = enc.Encode(LogLineJSON{End: cur.Done(), Run: &rj})
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(logPoll):
		}
	}
}
