package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/store"
)

// Reap fails the in-progress runs whose worker has not beaten for
// staleAfter (it died, or lost the database) and queues their next attempt
// where their job opts in to retries. Every worker runs it, and so does the
// scheduler, so a run is reaped also when no worker is left alive. It
// returns how many retries it queued.
func Reap(ctx context.Context, st store.Store, staleAfter time.Duration, now time.Time, log *slog.Logger) int {
	now = now.UTC()
	stale, err := st.FailStaleRuns(ctx, now.Add(-staleAfter), now,
		fmt.Sprintf("its worker stopped sending heartbeats for %s (it died or lost the database)", staleAfter))
	if err != nil {
		if ctx.Err() == nil {
			log.Error("reap stale runs", "err", err)
		}
		return 0
	}
	queued := 0
	for _, r := range stale {
		log.Warn("run failed: worker lost", "run", r.ID, "job", r.JobRef, "worker", r.Worker)
		row, err := st.JobByRef(ctx, r.WorkspaceID, r.JobRef)
		if err != nil {
			continue
		}
		if job, err := jobs.FromSpec(row.Spec); err == nil && QueueRetry(ctx, st, r, job, now, log) {
			queued++
		}
	}
	return queued
}

// QueueRetry queues the next attempt of a failed run when its job opts in
// with execute.retries: same trigger, window and versions. The attempt's
// once-only key makes a second call for the same run (a worker and the
// scheduler both reaping) a no-op. It reports whether it queued one.
func QueueRetry(ctx context.Context, st store.Store, r store.Run, job *jobs.Job, now time.Time, log *slog.Logger) bool {
	if job == nil || r.Attempt > job.Execute.Retries {
		return false
	}
	next := store.Run{WorkspaceID: r.WorkspaceID, JobRef: r.JobRef, Trigger: r.Trigger, Profile: r.Profile, Refresh: r.Refresh,
		DeploymentVersion: r.DeploymentVersion, ConfigurationVersion: r.ConfigurationVersion, IntervalStart: r.IntervalStart, IntervalEnd: r.IntervalEnd,
		CreatedBy: "retry", CreatedAt: now.UTC(), CauseRunID: r.ID, DedupeKey: "retry:" + r.ID, Attempt: r.Attempt + 1, Concurrency: r.Concurrency}
	n, err := st.CreateRun(context.WithoutCancel(ctx), next)
	if err != nil {
		if !errors.Is(err, store.ErrConflict) {
			log.Error("queue retry", "run", r.ID, "err", err)
		}
		return false
	}
	log.Info("retry queued", "job", r.JobRef, "failed", r.Number, "run", n.Number, "attempt", n.Attempt)
	return true
}
