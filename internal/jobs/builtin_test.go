package jobs

import (
	"strings"
	"testing"
)

// The built-in dashboard is an interactive job a person could have
// declared: declaring the same in dlthub.toml expands to the same job
// (same hash), so the control plane cannot tell them apart.
func TestDashboardIsADeclarableJob(t *testing.T) {
	m, err := Parse([]byte(`[jobs.ingest.github]
command = ["true"]
`), "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	m.AddDashboard()
	m.AddDashboard() // once is enough
	if len(m.Jobs) != 2 || m.Jobs[1].Ref != DashboardRef || !m.Jobs[1].Builtin {
		t.Fatalf("jobs: %+v", m.Jobs)
	}
	got := m.Expand().Jobs[1]
	if got.Type != "interactive" || got.DefaultTrigger != "http:" || strings.Join(got.Command, " ") != "dlthub local show --no-browser" ||
		got.Expose["interface"] != "gui" || got.Expose["category"] != "dashboard" || got.RequiredProfile() != "" {
		t.Errorf("dashboard: %+v", got)
	}
	declared, err := Parse([]byte(`[jobs.workspace.dashboard]
description = "Workspace dashboard: pipelines, tables, rows and sizes, recent loads"
type = "interactive"
command = ["dlthub", "local", "show", "--no-browser"]
trigger = ["http:"]
expose = { interface = "gui", category = "dashboard" }
`), "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	if want := declared.Expand().Jobs[0]; want.Hash != got.Hash {
		t.Errorf("the built-in dashboard hashes to %s, the same job declared to %s", got.Hash, want.Hash)
	}
}

// A workspace that declares jobs.workspace.dashboard keeps its own: in
// dlthub.toml of a Go workspace, and in dlthub.toml of a Python workspace
// over the one dlt synthesizes (whichever part comes first).
func TestDeclaredDashboardWins(t *testing.T) {
	own, err := Parse([]byte(`[jobs.workspace.dashboard]
type = "interactive"
command = ["./my-dashboard"]
`), "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	own.AddDashboard()
	if len(own.Jobs) != 1 || own.Jobs[0].Builtin || own.Jobs[0].Command[0] != "./my-dashboard" {
		t.Errorf("Go workspace: %+v", own.Jobs)
	}

	py, _, err := ParseWorkerOutput([]byte(workerOut), "__deployment__.py")
	if err != nil {
		t.Fatal(err)
	}
	for _, parts := range [][]*Manifest{{own, py}, {py, own}} {
		m, err := Combine(parts...)
		if err != nil {
			t.Fatalf("combine %s: %v", parts[0].Path, err)
		}
		var dash []*Job
		for _, j := range m.Jobs {
			if j.Ref == DashboardRef {
				dash = append(dash, j)
			}
		}
		if len(m.Jobs) != 4 || len(dash) != 1 || dash[0].EntryPoint != nil || dash[0].Command[0] != "./my-dashboard" {
			t.Errorf("%s first: %d jobs, dashboards %+v", parts[0].Path, len(m.Jobs), dash)
		}
	}

	// Any other job of the same ref in both is still a mistake.
	other, _ := Parse([]byte("[jobs.workspace.dashboard]\ntype = \"interactive\"\ncommand = [\"x\"]\n"), "other.toml")
	if _, err := Combine(own, other); err == nil || !strings.Contains(err.Error(), "declared in dlthub.toml and in other.toml") {
		t.Errorf("two declared dashboards: %v", err)
	}
}

func TestDefaultApp(t *testing.T) {
	for _, c := range []struct {
		refs      []string
		want, err string
	}{
		{refs: []string{DashboardRef}, want: DashboardRef},
		{refs: []string{"jobs.apps.notebook", DashboardRef}, want: "jobs.apps.notebook"},
		{refs: []string{"jobs.apps.notebook"}, want: "jobs.apps.notebook"},
		{refs: []string{DashboardRef, "jobs.apps.a", "jobs.apps.b"}, err: "2 interactive jobs: jobs.apps.a, jobs.apps.b; name one of them"},
		{refs: nil, err: "no interactive job"},
	} {
		got, err := DefaultApp(c.refs)
		if got != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("DefaultApp(%v) = %q, %v; want %q, %q", c.refs, got, err, c.want, c.err)
		}
	}
}

// A name a workspace gave its own job keeps naming it where one job is
// wanted, though the dashboard every workspace has matches it too; the
// dashboard is still reached by its ref.
func TestPickOneLetsTheDashboardYield(t *testing.T) {
	m, err := Parse([]byte("[jobs.apps.dashboard]\ntype = \"interactive\"\ncommand = [\"./app\"]\n\n[jobs.ops.dashboard]\ncommand = [\"true\"]\n"), "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	m.AddDashboard()
	if _, err := m.SelectOne("dashboard"); err == nil || !strings.Contains(err.Error(), `"dashboard" matches 3 jobs`) {
		t.Errorf("three jobs named dashboard: %v", err)
	}
	m.Jobs = append(m.Jobs[:1], m.Jobs[2:]...) // without jobs.ops.dashboard
	for sel, want := range map[string]string{"dashboard": "jobs.apps.dashboard", "interactive": "jobs.apps.dashboard", "apps.dashboard": "jobs.apps.dashboard",
		"workspace.dashboard": DashboardRef, DashboardRef: DashboardRef} {
		if j, err := m.SelectOne(sel); err != nil || j.Ref != want {
			t.Errorf("SelectOne(%q) = %v, %v; want %s", sel, j, err, want)
		}
	}
	if got := PickOne([]string{"jobs.a.x", "jobs.b.x"}); got != -1 {
		t.Errorf("two declared jobs: %d", got)
	}
}
