package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/dlthub/dlthub/internal/store"
)

// WorkspacePagePath is where the browser view of a workspace lives.
func WorkspacePagePath(id string) string { return "/workspaces/" + id }

// uiRows bounds each table of the workspace page; the API pages the rest.
const uiRows = 20

// workspacePage is the browser view of one workspace (viewer and up):
// the deployed code versions, configuration versions (file names only),
// jobs, recent runs, variables (never a secret's value) and members. `dlthub workspace show` opens it.
func (s *Server) workspacePage(w http.ResponseWriter, r *http.Request) {
	u, ok := s.pageUser(w, r)
	if !ok {
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	role, err := s.cfg.Store.WorkspaceRole(ctx, id, u.ID)
	ws, werr := s.cfg.Store.WorkspaceByID(ctx, id)
	if err != nil || werr != nil {
		page(w, http.StatusNotFound, "Not found", `<p>No workspace `+html(id)+` that you can see. <a href="/">Your workspaces</a></p>`)
		return
	}
	org := ""
	if orgs, err := s.cfg.Store.OrgsOfUser(ctx, u.ID); err == nil {
		for _, o := range orgs {
			if o.Org.ID == ws.OrgID {
				org = o.Org.Name
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<p>Organization <b>%s</b> · your role <b>%s</b>`, html(org), html(role))
	if ws.Repository != "" {
		fmt.Fprintf(&b, ` · repository <code>%s</code>`, html(ws.Repository))
	}
	b.WriteString(`</p>`)

	recent := store.Page{Limit: uiRows}
	b.WriteString(`<h2>Code</h2>`)
	if ds, err := s.cfg.Store.Deployments(ctx, ws.ID, recent); err == nil && len(ds) > 0 {
		b.WriteString(`<table><tr><th>Version</th><th>Deployed</th><th>Files</th><th>Size</th><th>Hash</th></tr>`)
		for i, d := range ds {
			active := ""
			if i == 0 {
				active = " (active)"
			}
			fmt.Fprintf(&b, `<tr><td>%d%s</td><td>%s</td><td>%d</td><td>%s</td><td><code>%s</code></td></tr>`,
				d.Version, active, d.CreatedAt.Format("2006-01-02 15:04 MST"), d.Files, humanize.IBytes(uint64(d.Size)), html(short(d.ContentHash)))
		}
		b.WriteString(`</table>`)
	} else {
		b.WriteString(`<p>Nothing deployed yet: run <code>dlthub deploy</code>.</p>`)
	}
	b.WriteString(`<h2>Configuration</h2>`)
	if cs, err := s.cfg.Store.Configurations(ctx, ws.ID, recent); err == nil && len(cs) > 0 {
		b.WriteString(`<table><tr><th>Version</th><th>Synced</th><th>Files</th></tr>`)
		for _, c := range cs {
			fmt.Fprintf(&b, `<tr><td>%d</td><td>%s</td><td>%s</td></tr>`, c.Version, c.CreatedAt.Format("2006-01-02 15:04 MST"), html(strings.Join(c.Files, ", ")))
		}
		b.WriteString(`</table>`)
	} else {
		b.WriteString(`<p>No configuration synced yet.</p>`)
	}
	b.WriteString(`<h2>Jobs</h2>`)
	if js, err := s.cfg.Store.Jobs(ctx, ws.ID, store.Page{}); err == nil && len(js) > 0 {
		b.WriteString(`<table><tr><th>Job</th><th>Status</th><th>Updated</th></tr>`)
		for _, j := range js {
			status := "active"
			if !j.Active {
				status = "archived"
			}
			name := html(j.Ref)
			var spec struct {
				Type string `json:"type"`
			}
			if j.Active && json.Unmarshal([]byte(j.Spec), &spec) == nil && spec.Type == "interactive" {
				// Apps open on their own origin (apps_origin.go).
				name += ` · <a href="` + html(s.appsBase()+AppURLPath(ws.ID, j.Ref)) + `" rel="noopener noreferrer">open app</a>`
			}
			fmt.Fprintf(&b, `<tr><td>%s</td><td>%s</td><td>%s</td></tr>`, name, status, j.UpdatedAt.Format("2006-01-02 15:04 MST"))
		}
		b.WriteString(`</table>`)
	} else {
		b.WriteString(`<p>No jobs deployed yet.</p>`)
	}
	b.WriteString(`<h2>Runs</h2>`)
	if rs, err := s.cfg.Store.Runs(ctx, ws.ID, "", recent); err == nil && len(rs) > 0 {
		b.WriteString(`<table><tr><th>Job</th><th>Run</th><th>Status</th><th>Trigger</th><th>Queued</th><th>Reason</th></tr>`)
		for _, r := range rs {
			fmt.Fprintf(&b, `<tr><td>%s</td><td><a href="%s">#%d</a></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>`,
				html(r.JobRef), RunPagePath(ws.ID, r.ID), r.Number, html(r.Status), html(r.Trigger), r.CreatedAt.Format("2006-01-02 15:04:05 MST"), html(r.Reason))
		}
		b.WriteString(`</table>`)
	} else {
		b.WriteString(`<p>No runs yet: <code>dlthub run JOB</code>.</p>`)
	}
	b.WriteString(`<h2>Variables</h2>`)
	if vs, err := s.cfg.Store.Variables(ctx, ws.ID); err == nil && len(vs) > 0 {
		b.WriteString(`<table><tr><th>Name</th><th>For</th><th>Value</th></tr>`)
		for _, v := range vs {
			scope, value := "workspace", html(v.Value)
			if v.Profile != "" {
				scope = "profile " + html(v.Profile)
			}
			if v.Secret {
				value = "<i>secret</i>"
			}
			fmt.Fprintf(&b, `<tr><td><code>%s</code></td><td>%s</td><td>%s</td></tr>`, html(v.Name), scope, value)
		}
		b.WriteString(`</table>`)
	} else {
		b.WriteString(`<p>No variables: <code>dlthub variable set NAME VALUE</code>.</p>`)
	}
	b.WriteString(`<h2>Members</h2>`)
	if ms, err := s.cfg.Store.WorkspaceMembers(ctx, ws.ID, store.Page{Limit: 100}); err == nil {
		b.WriteString(`<table><tr><th>Email</th><th>Role</th></tr>`)
		for _, m := range ms {
			via := ""
			if m.Inherited {
				via = " (organization owner)"
			}
			fmt.Fprintf(&b, `<tr><td>%s</td><td>%s%s</td></tr>`, html(m.User.Email), html(m.Role), via)
		}
		b.WriteString(`</table>`)
	}
	b.WriteString(`<p><a href="/">All workspaces</a></p>`)
	page(w, http.StatusOK, ws.Name, b.String())
}

// short is the first 12 characters of a hash.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// RunPagePath is where the browser view of a run lives.
func RunPagePath(workspaceID, runID string) string {
	return WorkspacePagePath(workspaceID) + "/runs/" + runID
}

// runPageLines is how much of a log the run page shows (the API has all).
const runPageLines = 2000

// runPage shows one run and its log (viewer and up); while the run is in
// progress the page reloads itself every two seconds, so the log is live.
func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	u, ok := s.pageUser(w, r)
	if !ok {
		return
	}
	ctx, wsID := r.Context(), r.PathValue("id")
	run, err := s.cfg.Store.RunByID(ctx, r.PathValue("run"))
	if _, rerr := s.cfg.Store.WorkspaceRole(ctx, wsID, u.ID); rerr != nil || err != nil || run.WorkspaceID != wsID {
		page(w, http.StatusNotFound, "Not found", `<p>No such run that you can see. <a href="/">Your workspaces</a></p>`)
		return
	}
	var b strings.Builder
	if !run.Done() {
		b.WriteString(`<meta http-equiv="refresh" content="2">`)
	}
	fmt.Fprintf(&b, `<p>Status <b>%s</b> · trigger <code>%s</code> · profile %s · code v%d`, html(run.Status), html(run.Trigger), html(run.Profile), run.DeploymentVersion)
	if run.IntervalStart != nil && run.IntervalEnd != nil {
		fmt.Fprintf(&b, ` · interval %s → %s`, run.IntervalStart.Format(time.RFC3339), run.IntervalEnd.Format(time.RFC3339))
	}
	b.WriteString(`</p>`)
	if run.Reason != "" {
		fmt.Fprintf(&b, `<p>%s</p>`, html(run.Reason))
	}
	if len(run.TableRows) > 0 {
		tables := make([]string, 0, len(run.TableRows))
		for t := range run.TableRows {
			tables = append(tables, t)
		}
		sort.Strings(tables)
		b.WriteString(`<table><tr><th>Table</th><th>Rows loaded</th></tr>`)
		for _, t := range tables {
			fmt.Fprintf(&b, `<tr><td>%s</td><td>%d</td></tr>`, html(t), run.TableRows[t])
		}
		b.WriteString(`</table>`)
	}
	lines, _ := s.cfg.Store.RunLogs(ctx, run.ID, 0, runPageLines)
	b.WriteString(`<pre style="background:#111;color:#eee;padding:1rem;overflow:auto;max-height:70vh">`)
	for _, l := range lines {
		if l.Stream == "stderr" {
			fmt.Fprintf(&b, `<span style="color:#f99">%s</span>`+"\n", html(l.Line))
		} else {
			b.WriteString(html(l.Line) + "\n")
		}
	}
	b.WriteString(`</pre>`)
	if len(lines) == runPageLines {
		fmt.Fprintf(&b, `<p>The first %d lines; all of them: <code>dlthub job logs %s %d</code>.</p>`, runPageLines, html(run.JobRef), run.Number)
	}
	fmt.Fprintf(&b, `<p><a href="%s">Back to the workspace</a></p>`, WorkspacePagePath(wsID))
	page(w, http.StatusOK, fmt.Sprintf("%s #%d", run.JobRef, run.Number), b.String())
}
