// Package scheduler turns triggers into runs (DESIGN §5.2, §5.3): every
// tick it looks at each active job and queues what is due — one run per
// closed window of a schedule or every trigger (missed windows are filled
// from the last one scheduled, so an outage backfills by itself), a once
// trigger whose time has come, a run after each completed or failed run of
// an upstream job (job.success, job.fail), and one per deployment for a
// deployment: trigger. Every scheduled run carries a once-only key, so a
// run is never queued twice, even with several schedulers.
package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/store"
	"github.com/dlthub/dlthub/internal/worker"
)

// Config configures a scheduler.
type Config struct {
	Store store.Store
	// Tick is how often due runs are looked for (default 5s).
	Tick time.Duration
	// MaxWindows bounds the windows one job gets queued per tick (default
	// 50); a long backfill continues at the next tick.
	MaxWindows int
	// Queued is called after runs were queued (it wakes workers).
	Queued func()
	// KeepLogs is how long run logs are kept after their run ended (0:
	// forever); older ones are deleted hourly. The runs themselves stay.
	KeepLogs time.Duration
	// StaleAfter is how long a run in progress may go without a heartbeat
	// before the scheduler fails it (its worker died); the scheduler reaps
	// too, so runs are failed also when no worker is left (default
	// worker.DefaultStaleAfter).
	StaleAfter time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Scheduler queues due runs.
type Scheduler struct{ cfg Config }

// CreatedBy marks the runs the scheduler makes.
const CreatedBy = "scheduler"

// New builds a scheduler; Run starts it.
func New(cfg Config) *Scheduler {
	if cfg.Tick <= 0 {
		cfg.Tick = 5 * time.Second
	}
	if cfg.MaxWindows <= 0 {
		cfg.MaxWindows = 50
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = worker.DefaultStaleAfter
	}
	return &Scheduler{cfg: cfg}
}

// Run ticks until ctx is done.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	var lastCleanup time.Time
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("scheduler tick", "err", err)
		}
		s.Reap(ctx)
		if now := s.cfg.Now(); now.Sub(lastCleanup) >= time.Hour {
			lastCleanup = now
			if _, err := s.Cleanup(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Error("delete old run logs", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Reap fails the runs whose worker stopped beating, as workers do, so a
// run does not stay "running" when no worker is left; it returns how many
// retries it queued.
func (s *Scheduler) Reap(ctx context.Context) int {
	n := worker.Reap(ctx, s.cfg.Store, s.cfg.StaleAfter, s.cfg.Now(), s.cfg.Logger)
	if n > 0 && s.cfg.Queued != nil {
		s.cfg.Queued()
	}
	return n
}

// Cleanup deletes the logs of runs that ended more than KeepLogs ago and
// says how many lines went.
func (s *Scheduler) Cleanup(ctx context.Context) (int64, error) {
	if s.cfg.KeepLogs <= 0 {
		return 0, nil
	}
	n, err := s.cfg.Store.DeleteRunLogsBefore(ctx, s.cfg.Now().UTC().Add(-s.cfg.KeepLogs))
	if n > 0 {
		s.cfg.Logger.Info("deleted old run logs", "lines", n, "older_than", s.cfg.KeepLogs)
	}
	return n, err
}

// versions are a workspace's active code and configuration versions.
type versions struct{ code, config int }

// Tick queues the runs that are due now and returns how many it queued.
func (s *Scheduler) Tick(ctx context.Context) (int, error) {
	st := s.cfg.Store
	rows, err := st.AllActiveJobs(ctx)
	if err != nil {
		return 0, err
	}
	now := s.cfg.Now().UTC()
	active := map[string]*versions{}
	queued := 0
	for _, row := range rows {
		v, ok := active[row.WorkspaceID]
		if !ok {
			v = s.versions(ctx, row.WorkspaceID)
			active[row.WorkspaceID] = v
		}
		if v == nil {
			continue // nothing deployed
		}
		job, err := jobs.FromSpec(row.Spec)
		if err != nil || job.Type == "interactive" {
			continue
		}
		n, err := s.jobTick(ctx, row, job, *v, now)
		queued += n
		if err != nil {
			s.cfg.Logger.Error("schedule job", "workspace", row.WorkspaceID, "job", row.Ref, "err", err)
		}
	}
	if queued > 0 && s.cfg.Queued != nil {
		s.cfg.Queued()
	}
	return queued, nil
}

func (s *Scheduler) versions(ctx context.Context, workspaceID string) *versions {
	code, conf, err := s.cfg.Store.ActiveVersions(ctx, workspaceID)
	if err != nil || code == 0 {
		return nil
	}
	return &versions{code: code, config: conf}
}

// jobTick queues one job's due runs, trigger by trigger.
func (s *Scheduler) jobTick(ctx context.Context, row store.Job, job *jobs.Job, v versions, now time.Time) (int, error) {
	st := s.cfg.Store
	profile := job.Require.Profile
	if profile == "" {
		profile = "prod"
	}
	queued := 0
	queue := func(t jobs.Trigger, key string, win *jobs.Window, cause string) error {
		// refresh = "always": every run starts over from interval.start.
		r := store.Run{WorkspaceID: row.WorkspaceID, JobRef: row.Ref, Trigger: t.String(), Profile: profile, Refresh: job.Refresh == "always",
			DeploymentVersion: v.code, ConfigurationVersion: v.config, CreatedBy: CreatedBy, CreatedAt: now, CauseRunID: cause, DedupeKey: key,
			Concurrency: job.Execute.Concurrency}
		if win != nil {
			r.IntervalStart, r.IntervalEnd = &win.Start, &win.End
		}
		_, err := st.CreateRun(ctx, r)
		if errors.Is(err, store.ErrConflict) {
			return nil // queued already (by us earlier, or another scheduler)
		}
		if err == nil {
			queued++
			s.cfg.Logger.Info("run queued", "job", row.Ref, "trigger", r.Trigger, "key", key)
		}
		return err
	}
	for _, t := range job.Triggers {
		var err error
		switch t.Kind {
		case jobs.KindSchedule, jobs.KindEvery:
			var last *time.Time
			if last, err = st.LastScheduledEnd(ctx, row.WorkspaceID, row.Ref, t.String()); err != nil {
				return queued, err
			}
			due, derr := job.DueWindows(last, row.DeployedAt, now)
			if derr != nil {
				return queued, derr
			}
			for i := range due[:min(len(due), s.cfg.MaxWindows)] {
				if err = queue(t, "window:"+due[i].Start.Format(time.RFC3339), &due[i], ""); err != nil {
					break
				}
			}
		case jobs.KindOnce:
			if !now.Before(t.At) {
				err = queue(t, "once:"+t.At.UTC().Format(time.RFC3339), nil, "")
			}
		case jobs.KindJobSuccess, jobs.KindJobFail:
			status := store.RunCompleted
			if t.Kind == jobs.KindJobFail {
				status = store.RunFailed
			}
			var ups []store.Run
			if ups, err = st.FinishedRuns(ctx, row.WorkspaceID, t.Value, status, row.DeployedAt); err != nil {
				return queued, err
			}
			for _, u := range ups {
				var win *jobs.Window
				if u.IntervalStart != nil && u.IntervalEnd != nil {
					win = &jobs.Window{Start: *u.IntervalStart, End: *u.IntervalEnd}
				}
				if err = queue(t, "cause:"+u.ID, win, u.ID); err != nil {
					break
				}
			}
		case jobs.KindDeployment:
			err = queue(t, "deployment:"+strconv.Itoa(v.code), nil, "")
		}
		if err != nil {
			return queued, err
		}
	}
	return queued, nil
}
