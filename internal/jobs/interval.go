package jobs

import (
	"fmt"
	"time"
)

// Window is a half-open run window [Start, End) in UTC.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Empty reports a window with nothing in it.
func (w Window) Empty() bool { return !w.End.After(w.Start) }

func (w Window) String() string {
	return w.Start.UTC().Format(time.RFC3339) + "/" + w.End.UTC().Format(time.RFC3339)
}

// Location is the job's time zone (require.timezone, default UTC).
func (j *Job) Location() *time.Location {
	if j.Require.Timezone != "" {
		if loc, err := time.LoadLocation(j.Require.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// timed is the job's schedule or every trigger.
func (j *Job) timed() (Trigger, bool) {
	for _, t := range j.Triggers {
		if t.IsTimed() {
			return t, true
		}
	}
	return Trigger{}, false
}

// nextTick is the first tick strictly after t. anchor fixes every-ticks
// (anchor + k·period).
func (j *Job) nextTick(t, anchor time.Time) (time.Time, bool) {
	tr, ok := j.timed()
	if !ok {
		return time.Time{}, false
	}
	if tr.Kind == KindEvery {
		if t.Before(anchor) {
			return anchor, true
		}
		k := t.Sub(anchor)/tr.Every + 1
		return anchor.Add(k * tr.Every).UTC(), true
	}
	return tr.Schedule.Next(t.In(j.Location())).UTC(), true
}

// prevTick is the last tick at or before t.
func (j *Job) prevTick(t, anchor time.Time) (time.Time, bool) {
	tr, ok := j.timed()
	if !ok {
		return time.Time{}, false
	}
	if tr.Kind == KindEvery {
		if t.Before(anchor) {
			return time.Time{}, false
		}
		k := t.Sub(anchor) / tr.Every
		return anchor.Add(k * tr.Every).UTC(), true
	}
	for _, back := range []time.Duration{time.Hour, 25 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 367 * 24 * time.Hour} {
		cur, ok := j.nextTick(t.Add(-back), anchor)
		if !ok || cur.After(t) {
			continue
		}
		for {
			n, _ := j.nextTick(cur, anchor)
			if n.After(t) {
				return cur, true
			}
			cur = n
		}
	}
	return time.Time{}, false
}

// NextFire is when the job's timed trigger fires next after now, or false
// for jobs without one (once triggers fire at their instant).
func (j *Job) NextFire(now, deployedAt time.Time) (time.Time, bool) {
	for _, t := range j.Triggers {
		if t.Kind == KindOnce {
			if t.At.After(now) {
				return t.At, true
			}
			return time.Time{}, false
		}
	}
	anchor := j.anchor(deployedAt)
	n, ok := j.nextTick(now, anchor)
	if !ok {
		return time.Time{}, false
	}
	if end := j.intervalEnd(anchor); end != nil && n.After(*end) {
		return time.Time{}, false
	}
	return n, true
}

// anchor is where every-ticks count from: interval.start, else the deploy.
func (j *Job) anchor(deployedAt time.Time) time.Time {
	if j.Interval != nil {
		return j.Interval.Start.UTC()
	}
	return deployedAt.UTC()
}

// InitialStart is where windows begin when nothing has completed yet:
// interval.start snapped to the first tick at or after it, else (cron) the
// last tick before the deploy or (every) the deploy itself. It is also
// where a refresh restarts.
func (j *Job) InitialStart(deployedAt time.Time) (time.Time, bool) {
	anchor := j.anchor(deployedAt)
	if j.Interval != nil {
		t, ok := j.prevTick(j.Interval.Start, anchor)
		if ok && t.Equal(j.Interval.Start) {
			return t, true
		}
		return j.nextTick(j.Interval.Start, anchor)
	}
	tr, ok := j.timed()
	if !ok {
		return time.Time{}, false
	}
	if tr.Kind == KindEvery {
		return deployedAt.UTC(), true
	}
	return j.prevTick(deployedAt, anchor)
}

// intervalEnd is interval.end snapped to the last tick at or before it.
func (j *Job) intervalEnd(anchor time.Time) *time.Time {
	if j.Interval == nil || j.Interval.End == nil {
		return nil
	}
	t, ok := j.prevTick(*j.Interval.End, anchor)
	if !ok {
		return j.Interval.End
	}
	return &t
}

// DueWindows are the closed windows not yet completed at now, oldest first:
// from the last completed end (or the initial start) tick by tick up to the
// latest tick at or before now. A worker that was down fills its gap this
// way.
func (j *Job) DueWindows(lastEnd *time.Time, deployedAt, now time.Time) ([]Window, error) {
	start, ok := j.startFrom(lastEnd, deployedAt)
	if !ok {
		return nil, fmt.Errorf("%s has no schedule or every trigger: it has no windows", j.Ref)
	}
	anchor := j.anchor(deployedAt)
	end := j.intervalEnd(anchor)
	var out []Window
	for cur := start; ; {
		n, _ := j.nextTick(cur, anchor)
		if n.After(now) || (end != nil && n.After(*end)) {
			return out, nil
		}
		out = append(out, Window{Start: cur, End: n})
		cur = n
		if len(out) > 100000 {
			return nil, fmt.Errorf("%s: more than 100000 windows due; check interval.start", j.Ref)
		}
	}
}

func (j *Job) startFrom(lastEnd *time.Time, deployedAt time.Time) (time.Time, bool) {
	if lastEnd != nil {
		return lastEnd.UTC(), true
	}
	return j.InitialStart(deployedAt)
}

// ManualWindow is the window of a manual run: from the last completed end
// (or the initial start) to the latest tick at or before now. It is often
// empty: a manual run between ticks has nothing new to cover. Jobs without
// a timed trigger get no window (false).
func (j *Job) ManualWindow(lastEnd *time.Time, deployedAt, now time.Time) (Window, bool) {
	start, ok := j.startFrom(lastEnd, deployedAt)
	if !ok {
		return Window{}, false
	}
	anchor := j.anchor(deployedAt)
	latest, ok := j.prevTick(now, anchor)
	if !ok || latest.Before(start) {
		latest = start
	}
	if end := j.intervalEnd(anchor); end != nil && latest.After(*end) {
		latest = *end
	}
	return Window{Start: start, End: latest}, true
}

// IsFresh reports whether a run for window w may go ahead under a
// freshness gate on an upstream job: the upstream must have completed up to
// the end of w. The reason explains a skip.
func IsFresh(upstream string, upstreamLastEnd *time.Time, w Window) (bool, string) {
	if upstreamLastEnd == nil {
		return false, fmt.Sprintf("waiting for %s: it has not completed a window yet", upstream)
	}
	if upstreamLastEnd.Before(w.End) {
		return false, fmt.Sprintf("waiting for %s: it has completed up to %s, this window ends %s", upstream, upstreamLastEnd.UTC().Format(time.RFC3339), w.End.UTC().Format(time.RFC3339))
	}
	return true, ""
}

// RefreshCascade lists the jobs a refresh of ref restarts: ref itself and,
// transitively, the jobs with a freshness gate on a refreshed job, except
// those with refresh = "block", which stop the cascade.
func (m *Manifest) RefreshCascade(ref string) []string {
	out := []string{ref}
	seen := map[string]bool{ref: true}
	for i := 0; i < len(out); i++ {
		for _, j := range m.Jobs {
			if seen[j.Ref] {
				continue
			}
			for _, f := range j.Freshness {
				if f == out[i] {
					seen[j.Ref] = true
					if j.Refresh != "block" {
						out = append(out, j.Ref)
					}
					break
				}
			}
		}
	}
	return out
}

// WindowFor is the window a run started by trigger t gets:
//
//	schedule, every       the window that just closed (the oldest due one)
//	job.success/job.fail  the upstream run's window (upstream), as is
//	manual, tag, once,    the manual window: last completed end to the
//	http, deployment      latest tick (none for jobs without a timed trigger)
//
// ok is false when the run has no window.
func (j *Job) WindowFor(t Trigger, lastEnd *time.Time, deployedAt, now time.Time, upstream *Window) (Window, bool) {
	switch t.Kind {
	case KindSchedule, KindEvery:
		ws, err := j.DueWindows(lastEnd, deployedAt, now)
		if err != nil || len(ws) == 0 {
			return Window{}, false
		}
		return ws[0], true
	case KindJobSuccess, KindJobFail:
		if upstream != nil {
			return *upstream, true
		}
	}
	return j.ManualWindow(lastEnd, deployedAt, now)
}
