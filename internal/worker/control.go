package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"gocloud.dev/blob"

	"github.com/dlthub/dlthub/internal/artifact"
	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/keys"
	"github.com/dlthub/dlthub/internal/store"
)

// Control is what a worker asks of the control plane (DESIGN §6.5, §6.7a).
// Direct answers a worker in the control plane's process from the store;
// Remote answers a worker on another machine over HTTP, which then holds
// no database, no bucket and no master key. Every call about a run is
// refused (store.ErrNotFound) unless this worker claimed the run, and a
// run's configuration and secrets are released only while it is in
// progress: a worker gets the secrets of the runs it holds, never a key
// that opens a tenant.
type Control interface {
	// Claim hands the worker the next pending run (store.ErrNotFound: none).
	Claim(ctx context.Context) (store.Run, error)
	// Release is what a claimed run needs: its deployed job, its
	// configuration files and its variables, secret ones opened.
	Release(ctx context.Context, runID string) (Release, error)
	// Package is the run's code package (tar.gz).
	Package(ctx context.Context, runID string) (io.ReadCloser, error)
	// LastCompletedEnd is the latest interval end of the completed runs of
	// a job in the run's workspace (the run's own job or one it waits for).
	LastCompletedEnd(ctx context.Context, runID, jobRef string) (*time.Time, error)
	Start(ctx context.Context, runID string, start, end *time.Time) error
	// Watch reads the run's state and, with beat, says the worker still
	// has it (store.ErrNotFound once it is no longer in progress).
	Watch(ctx context.Context, runID string, beat bool) (store.Run, error)
	SetRunAddress(ctx context.Context, runID, address string) error
	SetRunTableRows(ctx context.Context, runID string, rows map[string]int64) error
	AppendRunLogs(ctx context.Context, runID string, lines []store.LogLine) error
	Finish(ctx context.Context, runID, status string, exitCode *int, reason string) error
	// Retry queues the next attempt of a failed run when its job opts in
	// with execute.retries, and says whether it did.
	Retry(ctx context.Context, runID string) (bool, error)
	// HandBack returns a started run to the queue (the worker is stopping).
	HandBack(ctx context.Context, runID string) error
}

// Release is what the control plane hands the worker that holds a run.
type Release struct {
	Job   store.Job             `json:"job"`
	Files []artifact.ConfigFile `json:"files"`
	// Variables of the workspace (every profile); secret values opened.
	Variables []store.Variable `json:"variables"`
}

// ErrNotHeld is a call about a run another worker (or none) holds.
var ErrNotHeld = fmt.Errorf("the run is not held by this worker: %w", store.ErrNotFound)

// Direct is Control over the store, the bucket and the key ring, for a
// worker named Name: in the control plane's process, and behind the API's
// worker endpoints for workers elsewhere.
type Direct struct {
	Store  store.Store
	Blob   *blob.Bucket
	Ring   *keys.Ring
	Name   string
	Now    func() time.Time
	Logger *slog.Logger
}

func (d *Direct) now() time.Time {
	if d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}

func (d *Direct) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

// held is the run when this worker holds it.
func (d *Direct) held(ctx context.Context, runID string) (store.Run, error) {
	r, err := d.Store.RunByID(ctx, runID)
	if err != nil {
		return r, err
	}
	if r.Worker != d.Name {
		return r, ErrNotHeld
	}
	return r, nil
}

// inProgress is the run when this worker holds it and it has not ended.
func (d *Direct) inProgress(ctx context.Context, runID string) (store.Run, error) {
	r, err := d.held(ctx, runID)
	if err != nil {
		return r, err
	}
	if r.Done() || r.Status == store.RunPending {
		return r, ErrNotHeld
	}
	return r, nil
}

// Claim implements Control.
func (d *Direct) Claim(ctx context.Context) (store.Run, error) {
	return d.Store.ClaimRun(ctx, d.Name, d.now())
}

// Release implements Control.
func (d *Direct) Release(ctx context.Context, runID string) (Release, error) {
	var rel Release
	r, err := d.inProgress(ctx, runID)
	if err != nil {
		return rel, err
	}
	rel.Job, err = d.Store.JobByRef(ctx, r.WorkspaceID, r.JobRef)
	if errors.Is(err, store.ErrNotFound) {
		return rel, fmt.Errorf("%s is not deployed to this workspace", r.JobRef)
	}
	if err != nil {
		return rel, fmt.Errorf("read the deployed jobs: %w", err)
	}
	if r.ConfigurationVersion > 0 {
		cs, err := d.Store.Configurations(ctx, r.WorkspaceID, store.Page{Limit: 1, After: strconv.Itoa(r.ConfigurationVersion + 1)})
		if err != nil {
			return rel, fmt.Errorf("configuration version %d: %w", r.ConfigurationVersion, err)
		}
		if len(cs) == 0 || cs[0].Version != r.ConfigurationVersion {
			return rel, fmt.Errorf("configuration version %d of the workspace is not there", r.ConfigurationVersion)
		}
		if rel.Files, err = artifact.ReadConfiguration(ctx, d.Blob, d.Ring, r.WorkspaceID, cs[0].BlobKey); err != nil {
			return rel, fmt.Errorf("configuration version %d: %w", r.ConfigurationVersion, err)
		}
	}
	vs, err := d.Store.Variables(ctx, r.WorkspaceID)
	if err != nil {
		return rel, fmt.Errorf("read the variables: %w", err)
	}
	for _, v := range vs {
		if v.Secret {
			if v.Value, err = d.Ring.OpenValue(ctx, r.WorkspaceID, v.Value); err != nil {
				return rel, fmt.Errorf("variable %s: %w", v.Name, err)
			}
		}
		rel.Variables = append(rel.Variables, v)
	}
	return rel, nil
}

// Package implements Control.
func (d *Direct) Package(ctx context.Context, runID string) (io.ReadCloser, error) {
	r, err := d.inProgress(ctx, runID)
	if err != nil {
		return nil, err
	}
	ds, err := d.Store.Deployments(ctx, r.WorkspaceID, store.Page{Limit: 1, After: strconv.Itoa(r.DeploymentVersion + 1)})
	if err != nil {
		return nil, fmt.Errorf("code version %d: %w", r.DeploymentVersion, err)
	}
	if len(ds) == 0 || ds[0].Version != r.DeploymentVersion {
		return nil, fmt.Errorf("code version %d of the workspace is not there", r.DeploymentVersion)
	}
	rd, err := d.Blob.NewReader(ctx, ds[0].BlobKey, nil)
	if err != nil {
		return nil, fmt.Errorf("read code version %d: %w", r.DeploymentVersion, err)
	}
	return rd, nil
}

// LastCompletedEnd implements Control.
func (d *Direct) LastCompletedEnd(ctx context.Context, runID, jobRef string) (*time.Time, error) {
	r, err := d.inProgress(ctx, runID)
	if err != nil {
		return nil, err
	}
	return d.Store.LastCompletedEnd(ctx, r.WorkspaceID, jobRef)
}

// Start implements Control.
func (d *Direct) Start(ctx context.Context, runID string, start, end *time.Time) error {
	if _, err := d.held(ctx, runID); err != nil {
		return err
	}
	return d.Store.StartRun(ctx, runID, start, end, d.now())
}

// Watch implements Control.
func (d *Direct) Watch(ctx context.Context, runID string, beat bool) (store.Run, error) {
	r, err := d.held(ctx, runID)
	if err != nil {
		return r, err
	}
	if beat {
		if err := d.Store.HeartbeatRun(ctx, runID, d.now()); err != nil {
			return r, err
		}
	}
	return r, nil
}

// SetRunAddress implements Control.
func (d *Direct) SetRunAddress(ctx context.Context, runID, address string) error {
	if _, err := d.held(ctx, runID); err != nil {
		return err
	}
	return d.Store.SetRunAddress(ctx, runID, address, d.now())
}

// SetRunTableRows implements Control.
func (d *Direct) SetRunTableRows(ctx context.Context, runID string, rows map[string]int64) error {
	if _, err := d.held(ctx, runID); err != nil {
		return err
	}
	return d.Store.SetRunTableRows(ctx, runID, rows)
}

// AppendRunLogs implements Control.
func (d *Direct) AppendRunLogs(ctx context.Context, runID string, lines []store.LogLine) error {
	if _, err := d.held(ctx, runID); err != nil {
		return err
	}
	return d.Store.AppendRunLogs(ctx, runID, lines)
}

// Finish implements Control.
func (d *Direct) Finish(ctx context.Context, runID, status string, exitCode *int, reason string) error {
	if _, err := d.held(ctx, runID); err != nil {
		return err
	}
	return d.Store.FinishRun(ctx, runID, status, exitCode, reason, d.now())
}

// Retry implements Control.
func (d *Direct) Retry(ctx context.Context, runID string) (bool, error) {
	r, err := d.held(ctx, runID)
	if err != nil {
		return false, err
	}
	if r.Status != store.RunFailed {
		return false, nil
	}
	row, err := d.Store.JobByRef(ctx, r.WorkspaceID, r.JobRef)
	if err != nil {
		return false, err
	}
	job, err := jobs.FromSpec(row.Spec)
	if err != nil {
		return false, err
	}
	return QueueRetry(ctx, d.Store, r, job, d.now(), d.logger()), nil
}

// HandBack implements Control.
func (d *Direct) HandBack(ctx context.Context, runID string) error {
	if _, err := d.held(ctx, runID); err != nil {
		return err
	}
	return d.Store.ReleaseRun(ctx, runID)
}
