package jobs

import (
	"fmt"
	"strings"
)

// DashboardRef is the workspace dashboard's job ref (DESIGN §6.7). dlt's
// manifest worker synthesizes a job of this ref for every Python
// workspace; Go workspaces get dlthub's (Dashboard), so every deployed
// workspace has one and `dlthub serve dashboard` works in both.
const DashboardRef = "jobs.workspace.dashboard"

// dltDashboardModule is the module of the dashboard dlt synthesizes
// (dlt._workspace.deployment.manifest.default_dashboard_job).
const dltDashboardModule = "dlt._workspace.helpers.dashboard.dlt_dashboard"

// Dashboard is the dashboard job of a Go workspace, which nobody declares:
// `dlthub local show` of the run's profile (access on the control plane)
// under the app's base path. It mirrors dlt's synthesized one (interactive,
// an http: trigger, exposed as a gui of category dashboard, one run at a
// time), so the control plane and the CLI treat both alike. A command that
// starts with dlthub runs the worker's own dlthub.
func Dashboard() *Job {
	section, name, _ := SplitRef(DashboardRef)
	return &Job{Ref: DashboardRef, Section: section, Name: name, Builtin: true,
		Description: "Workspace dashboard: pipelines, tables, rows and sizes, recent loads",
		Type:        "interactive", Command: []string{"dlthub", "local", "show", "--no-browser"},
		Triggers: []Trigger{{Kind: KindHTTP}}, Refresh: "auto",
		Execute: Execute{Timeout: DefaultTimeout, GracePeriod: DefaultGracePeriod, Concurrency: 1},
		Expose:  Expose{Manual: true, Interface: "gui", Category: "dashboard"},
	}
}

// AddDashboard gives a Go workspace's jobs the built-in dashboard, unless
// they declare a job of that ref themselves: the declared one wins, as a
// job of that ref in __deployment__.py wins over dlt's synthesized one.
func (m *Manifest) AddDashboard() {
	for _, j := range m.Jobs {
		if j.Ref == DashboardRef {
			return
		}
	}
	m.Jobs = append(m.Jobs, Dashboard())
}

// synthesized reports whether j is a dashboard the workspace did not
// declare (dlthub's built-in one or dlt's): a declared job of its ref
// replaces it.
func (j *Job) synthesized() bool {
	return j.Builtin || (j.Ref == DashboardRef && j.EntryPoint != nil && j.EntryPoint.Module == dltDashboardModule && j.EntryPoint.Launcher == LauncherDashboard)
}

// PickOne is which of refs, the jobs a selector matched, it names where
// one job is wanted; -1 when it stays ambiguous. Of the dashboard every
// workspace has and one other job, it is the other: the name a workspace
// gave its own job ("dashboard" for jobs.apps.dashboard) keeps naming it,
// and the dashboard is still reached by its ref (or workspace.dashboard).
func PickOne(refs []string) int {
	switch {
	case len(refs) == 1:
		return 0
	case len(refs) == 2 && refs[0] == DashboardRef:
		return 1
	case len(refs) == 2 && refs[1] == DashboardRef:
		return 0
	}
	return -1
}

// DefaultApp is the interactive job served when none is named, of refs
// (the workspace's interactive jobs): the only one besides the dashboard
// every workspace has, else the dashboard. Several others are an error
// that names them.
func DefaultApp(refs []string) (string, error) {
	var apps []string
	dashboard := false
	for _, r := range refs {
		if r == DashboardRef {
			dashboard = true
			continue
		}
		apps = append(apps, r)
	}
	switch {
	case len(apps) == 1:
		return apps[0], nil
	case len(apps) > 1:
		return "", fmt.Errorf("%d interactive jobs: %s; name one of them", len(apps), strings.Join(apps, ", "))
	case dashboard:
		return DashboardRef, nil
	}
	return "", fmt.Errorf("no interactive job: declare one with type = \"interactive\"")
}
