package jobs

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, src string) *Manifest {
	t.Helper()
	m, err := Parse([]byte(src), "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func windows(ws []Window) string {
	var out []string
	for _, w := range ws {
		out = append(out, w.String())
	}
	return strings.Join(out, " ")
}

// A daily job at 03:00 Berlin: windows are local days, so the days of the
// DST switches are 23 and 25 hours long in UTC.
func TestCronWindowsAcrossDST(t *testing.T) {
	m := mustParse(t, `[jobs.etl.daily]
pipeline = "p"
trigger = ["0 3 * * *"]
require = { timezone = "Europe/Berlin" }
interval = { start = "2024-03-29T00:00:00Z" }
`)
	j := m.Jobs[0]
	deployed := ts("2024-03-28T12:00:00Z")
	ws, err := j.DueWindows(nil, deployed, ts("2024-04-01T12:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	want := "2024-03-29T02:00:00Z/2024-03-30T02:00:00Z 2024-03-30T02:00:00Z/2024-03-31T01:00:00Z 2024-03-31T01:00:00Z/2024-04-01T01:00:00Z"
	if windows(ws) != want {
		t.Errorf("spring:\n got %s\nwant %s", windows(ws), want)
	}
	if d := ws[1].End.Sub(ws[1].Start); d != 23*time.Hour {
		t.Errorf("spring-forward day is %s", d)
	}
	last := ts("2024-10-26T01:00:00Z")
	ws, _ = j.DueWindows(&last, deployed, ts("2024-10-28T12:00:00Z"))
	want = "2024-10-26T01:00:00Z/2024-10-27T02:00:00Z 2024-10-27T02:00:00Z/2024-10-28T02:00:00Z"
	if windows(ws) != want {
		t.Errorf("autumn:\n got %s\nwant %s", windows(ws), want)
	}
	if d := ws[0].End.Sub(ws[0].Start); d != 25*time.Hour {
		t.Errorf("fall-back day is %s", d)
	}
	if next, _ := j.NextFire(ts("2024-10-27T02:30:00Z"), deployed); !next.Equal(ts("2024-10-28T02:00:00Z")) {
		t.Errorf("next fire %s", next)
	}
}

func TestEveryFirstRunAfterOnePeriod(t *testing.T) {
	m := mustParse(t, "[jobs.a.b]\npipeline = \"p\"\ntrigger = [\"every:15m\"]\n")
	j := m.Jobs[0]
	deployed := ts("2024-05-01T10:07:00Z")
	if next, ok := j.NextFire(deployed, deployed); !ok || !next.Equal(ts("2024-05-01T10:22:00Z")) {
		t.Errorf("first fire %s", next)
	}
	ws, _ := j.DueWindows(nil, deployed, ts("2024-05-01T10:21:59Z"))
	if len(ws) != 0 {
		t.Errorf("due before the first period: %s", windows(ws))
	}
	ws, _ = j.DueWindows(nil, deployed, ts("2024-05-01T10:40:00Z"))
	if windows(ws) != "2024-05-01T10:07:00Z/2024-05-01T10:22:00Z 2024-05-01T10:22:00Z/2024-05-01T10:37:00Z" {
		t.Errorf("windows %s", windows(ws))
	}
}

func TestManualWindowAndGapFilling(t *testing.T) {
	m := mustParse(t, "[jobs.a.b]\npipeline = \"p\"\ntrigger = [\"0 * * * *\"]\n")
	j := m.Jobs[0]
	deployed := ts("2024-05-01T09:30:00Z")
	last := ts("2024-05-01T12:00:00Z")
	// Between ticks, with the last window done: an empty manual window.
	w, ok := j.ManualWindow(&last, deployed, ts("2024-05-01T12:40:00Z"))
	if !ok || !w.Empty() || !w.Start.Equal(last) {
		t.Errorf("manual %s", w)
	}
	// After missed ticks a manual run covers them all.
	w, _ = j.ManualWindow(&last, deployed, ts("2024-05-01T15:10:00Z"))
	if w.String() != "2024-05-01T12:00:00Z/2024-05-01T15:00:00Z" {
		t.Errorf("manual %s", w)
	}
	// A worker outage: each missed hour is due, oldest first.
	ws, _ := j.DueWindows(&last, deployed, ts("2024-05-01T15:10:00Z"))
	if windows(ws) != "2024-05-01T12:00:00Z/2024-05-01T13:00:00Z 2024-05-01T13:00:00Z/2024-05-01T14:00:00Z 2024-05-01T14:00:00Z/2024-05-01T15:00:00Z" {
		t.Errorf("gap %s", windows(ws))
	}
	// No history: the first window is the one that closes first after the
	// deploy.
	ws, _ = j.DueWindows(nil, deployed, ts("2024-05-01T10:05:00Z"))
	if windows(ws) != "2024-05-01T09:00:00Z/2024-05-01T10:00:00Z" {
		t.Errorf("first %s", windows(ws))
	}
}

func TestRefreshRestartsAtIntervalStart(t *testing.T) {
	m := mustParse(t, "[jobs.a.b]\npipeline = \"p\"\ntrigger = [\"0 0 * * *\"]\ninterval = { start = \"2024-01-01T12:00:00Z\", end = \"2024-01-05T06:00:00Z\" }\n")
	j := m.Jobs[0]
	deployed := ts("2024-06-01T00:00:00Z")
	start, _ := j.InitialStart(deployed)
	if !start.Equal(ts("2024-01-02T00:00:00Z")) {
		t.Errorf("start snapped to %s", start)
	}
	// A refresh forgets the last end: windows start over at interval.start
	// and stop at interval.end, snapped to ticks.
	ws, _ := j.DueWindows(nil, deployed, deployed)
	if windows(ws) != "2024-01-02T00:00:00Z/2024-01-03T00:00:00Z 2024-01-03T00:00:00Z/2024-01-04T00:00:00Z 2024-01-04T00:00:00Z/2024-01-05T00:00:00Z" {
		t.Errorf("windows %s", windows(ws))
	}
	if _, ok := j.NextFire(deployed, deployed); ok {
		t.Error("fires after interval.end")
	}
}

func TestFreshnessAndCascade(t *testing.T) {
	m := mustParse(t, `
[jobs.a.up]
pipeline = "p"
trigger = ["0 * * * *"]
[jobs.a.mid]
pipeline = "p"
trigger = ["0 * * * *"]
freshness = ["job.is_fresh:jobs.a.up"]
[jobs.a.guard]
pipeline = "p"
trigger = ["0 * * * *"]
freshness = ["job.is_fresh:jobs.a.mid"]
refresh = "block"
[jobs.a.after_guard]
pipeline = "p"
trigger = ["0 * * * *"]
freshness = ["job.is_fresh:jobs.a.guard"]
[jobs.a.leaf]
pipeline = "p"
trigger = ["0 * * * *"]
freshness = ["job.is_fresh:jobs.a.mid"]
`)
	w := Window{Start: ts("2024-05-01T10:00:00Z"), End: ts("2024-05-01T11:00:00Z")}
	if ok, why := IsFresh("jobs.a.up", nil, w); ok || !strings.Contains(why, "has not completed") {
		t.Errorf("no upstream run: %v %s", ok, why)
	}
	done := ts("2024-05-01T10:00:00Z")
	if ok, why := IsFresh("jobs.a.up", &done, w); ok || why != "waiting for jobs.a.up: it has completed up to 2024-05-01T10:00:00Z, this window ends 2024-05-01T11:00:00Z" {
		t.Errorf("stale upstream: %v %s", ok, why)
	}
	done = ts("2024-05-01T11:00:00Z")
	if ok, _ := IsFresh("jobs.a.up", &done, w); !ok {
		t.Error("fresh upstream skipped")
	}
	got := fmt.Sprint(m.RefreshCascade("jobs.a.up"))
	if got != "[jobs.a.up jobs.a.mid jobs.a.leaf]" {
		t.Errorf("cascade %s (guard blocks and stops it)", got)
	}
}

func TestWindowForEachTrigger(t *testing.T) {
	m := mustParse(t, `
[jobs.a.up]
pipeline = "p"
trigger = ["0 * * * *", "tag:x"]
[jobs.a.down]
pipeline = "p"
trigger = ["job.success:jobs.a.up"]
[jobs.a.once]
pipeline = "p"
trigger = ["once:2024-05-01T12:30:00Z"]
`)
	up, down, once := m.Jobs[2], m.Jobs[0], m.Jobs[1]
	if up.Ref != "jobs.a.up" || down.Ref != "jobs.a.down" || once.Ref != "jobs.a.once" {
		t.Fatal(up.Ref, down.Ref, once.Ref)
	}
	deployed := ts("2024-05-01T09:30:00Z")
	last := ts("2024-05-01T10:00:00Z")
	now := ts("2024-05-01T12:10:00Z")
	w, ok := up.WindowFor(up.Triggers[0], &last, deployed, now, nil)
	if !ok || w.String() != "2024-05-01T10:00:00Z/2024-05-01T11:00:00Z" {
		t.Errorf("schedule: %s", w)
	}
	w, ok = up.WindowFor(up.Triggers[1], &last, deployed, now, nil)
	if !ok || w.String() != "2024-05-01T10:00:00Z/2024-05-01T12:00:00Z" {
		t.Errorf("tag (manual window): %s", w)
	}
	upWin := Window{Start: ts("2024-05-01T10:00:00Z"), End: ts("2024-05-01T11:00:00Z")}
	w, ok = down.WindowFor(down.Triggers[0], nil, deployed, now, &upWin)
	if !ok || w != upWin {
		t.Errorf("follow-up: %s", w)
	}
	if _, ok := once.WindowFor(once.Triggers[0], nil, deployed, now, nil); ok {
		t.Error("once job without a timed trigger got a window")
	}
	if next, ok := once.NextFire(now, deployed); !ok || !next.Equal(ts("2024-05-01T12:30:00Z")) {
		t.Errorf("once next fire %s", next)
	}
	if _, ok := once.NextFire(ts("2024-05-01T13:00:00Z"), deployed); ok {
		t.Error("once fires again")
	}
}
