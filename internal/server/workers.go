package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/store"
	"github.com/dlthub/dlthub/internal/worker"
)

// WorkerTokenPrefix starts a worker credential's token, so it is told
// apart from a person's API key at a glance (and in a leaked log).
const WorkerTokenPrefix = "dlw_"

// workerInstance is what a worker may call itself (host:pid and the like).
var workerInstance = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,100}$`)

// workerRoutes are the worker protocol (DESIGN §6.7a): what a worker on
// another machine asks of the control plane, with a worker credential
// rather than the database's URL, the bucket or the master key. It is not
// part of the public /api/v1 (a person's token is refused here, and a
// worker's there). Each call about a run goes through worker.Direct for
// the calling worker, which refuses runs it does not hold.
func (s *Server) workerRoutes() {
	s.mux.HandleFunc("GET /worker/v1/hello", s.workerHello)
	s.mux.HandleFunc("POST /worker/v1/claim", s.workerClaim)
	s.mux.HandleFunc("GET /worker/v1/runs/{id}/release", s.workerRelease)
	s.mux.HandleFunc("GET /worker/v1/runs/{id}/package", s.workerPackage)
	s.mux.HandleFunc("GET /worker/v1/runs/{id}/last-completed", s.workerLastCompleted)
	s.mux.HandleFunc("POST /worker/v1/runs/{id}/{op}", s.workerRunOp)
}

// workerControl authenticates a worker: a live worker credential as the
// bearer token and the instance's name in X-Dlthub-Worker. Its runs are
// claimed as CREDENTIAL/INSTANCE.
func (s *Server) workerControl(w http.ResponseWriter, r *http.Request) (*worker.Direct, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !strings.HasPrefix(token, WorkerTokenPrefix) {
		writeError(w, http.StatusUnauthorized, "a worker credential is required (dlthub server worker create NAME)")
		return nil, false
	}
	c, err := s.cfg.Store.WorkerCredentialByHash(r.Context(), HashToken(token))
	if err != nil || c.RevokedAt != nil {
		writeError(w, http.StatusUnauthorized, "unknown or revoked worker credential")
		return nil, false
	}
	inst := r.Header.Get("X-Dlthub-Worker")
	if !workerInstance.MatchString(inst) {
		writeError(w, http.StatusBadRequest, "X-Dlthub-Worker: the worker's instance name (letters, digits, . _ : -; at most 100)")
		return nil, false
	}
	now := s.cfg.Now().UTC()
	if c.LastSeenAt == nil || now.Sub(*c.LastSeenAt) > time.Minute {
		_ = s.cfg.Store.SeenWorkerCredential(r.Context(), c.ID, now)
	}
	return &worker.Direct{Store: s.cfg.Store, Blob: s.cfg.Blob, Ring: s.ring, Name: c.Name + "/" + inst, Now: s.cfg.Now, Logger: s.cfg.Logger}, true
}

// workerError answers a failed worker call: a run the worker does not
// hold (or that ended) is 404, which the worker takes as the run lost.
func (s *Server) workerError(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	s.cfg.Logger.Error("worker call", "err", err)
	writeError(w, http.StatusInternalServerError, err.Error())
}

// workerHello answers a worker checking its credential at start.
func (s *Server) workerHello(w http.ResponseWriter, r *http.Request) {
	d, ok := s.workerControl(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"name": d.Name})
}

func (s *Server) workerClaim(w http.ResponseWriter, r *http.Request) {
	d, ok := s.workerControl(w, r)
	if !ok {
		return
	}
	run, err := d.Claim(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err != nil {
		s.workerError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

func (s *Server) workerRelease(w http.ResponseWriter, r *http.Request) {
	d, ok := s.workerControl(w, r)
	if !ok {
		return
	}
	rel, err := d.Release(r.Context(), r.PathValue("id"))
	if err != nil {
		s.workerError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, rel)
}

func (s *Server) workerPackage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.workerControl(w, r)
	if !ok {
		return
	}
	rd, err := d.Package(r.Context(), r.PathValue("id"))
	if err != nil {
		s.workerError(w, err)
		return
	}
	defer func() { _ = rd.Close() }()
	w.Header().Set("Content-Type", "application/gzip")
	_, _ = io.Copy(w, rd)
}

func (s *Server) workerLastCompleted(w http.ResponseWriter, r *http.Request) {
	d, ok := s.workerControl(w, r)
	if !ok {
		return
	}
	end, err := d.LastCompletedEnd(r.Context(), r.PathValue("id"), r.URL.Query().Get("job"))
	if err != nil {
		s.workerError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"end": end})
}

// workerRunOp is every write a worker makes about a run it holds.
func (s *Server) workerRunOp(w http.ResponseWriter, r *http.Request) {
	d, ok := s.workerControl(w, r)
	if !ok {
		return
	}
	var req struct {
		Start    *time.Time       `json:"start"`
		End      *time.Time       `json:"end"`
		Beat     bool             `json:"beat"`
		Address  string           `json:"address"`
		Rows     map[string]int64 `json:"rows"`
		Lines    []store.LogLine  `json:"lines"`
		Status   string           `json:"status"`
		ExitCode *int             `json:"exit_code"`
		Reason   string           `json:"reason"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 48<<20))
	if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "request body: "+err.Error())
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	var err error
	var answer any = map[string]any{}
	switch r.PathValue("op") {
	case "start":
		err = d.Start(ctx, id, req.Start, req.End)
	case "watch":
		var run store.Run
		run, err = d.Watch(ctx, id, req.Beat)
		answer = run
	case "address":
		err = d.SetRunAddress(ctx, id, req.Address)
	case "rows":
		err = d.SetRunTableRows(ctx, id, req.Rows)
	case "logs":
		err = d.AppendRunLogs(ctx, id, req.Lines)
	case "finish":
		if !finishStatus(req.Status) {
			writeError(w, http.StatusBadRequest, "status: completed, failed, cancelled or skipped")
			return
		}
		err = d.Finish(ctx, id, req.Status, req.ExitCode, req.Reason)
	case "retry":
		var queued bool
		queued, err = d.Retry(ctx, id)
		answer = map[string]bool{"queued": queued}
	case "hand-back":
		err = d.HandBack(ctx, id)
	default:
		writeError(w, http.StatusNotFound, "no such worker call")
		return
	}
	if err != nil {
		s.workerError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, answer)
}

// finishStatus is a status a worker may end a run with.
func finishStatus(s string) bool {
	switch s {
	case store.RunCompleted, store.RunFailed, store.RunCancelled, store.RunSkipped:
		return true
	}
	return false
}

// CreateWorkerCredential makes a worker credential and returns its token,
// shown once (`dlthub server worker create`).
func CreateWorkerCredential(ctx context.Context, st store.Store, name string, now time.Time) (string, error) {
	token := WorkerTokenPrefix + randomToken(32)
	_, err := st.CreateWorkerCredential(ctx, store.WorkerCredential{Name: name, Hash: HashToken(token), CreatedAt: now.UTC()})
	return token, err
}
