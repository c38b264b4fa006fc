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
	b.WriteString(`<section id="code"><h2>Code</h2>`)
	if ds, err := s.cfg.Store.Deployments(ctx, ws.ID, recent); err == nil && len(ds) > 0 {
		b.WriteString(`<div class="scroll"><table><tr><th>Version</th><th>Deployed</th><th>Files</th><th>Size</th><th>Hash</th></tr>`)
		for i, d := range ds {
			active := ""
			if i == 0 {
				active = " (active)"
			}
			fmt.Fprintf(&b, `<tr><td>%d%s</td><td>%s</td><td>%d</td><td>%s</td><td><code>%s</code></td></tr>`,
				d.Version, active, d.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), d.Files, humanize.IBytes(uint64(d.Size)), html(short(d.ContentHash)))
		}
		b.WriteString(`</table></div>`)
	} else {
		b.WriteString(`<p>Nothing deployed yet: run <code>dlthub deploy</code>.</p>`)
	}
	b.WriteString(`</section><section id="configuration"><h2>Configuration</h2>`)
	if cs, err := s.cfg.Store.Configurations(ctx, ws.ID, recent); err == nil && len(cs) > 0 {
		b.WriteString(`<div class="scroll"><table><tr><th>Version</th><th>Synced</th><th>Files</th></tr>`)
		for _, c := range cs {
			fmt.Fprintf(&b, `<tr><td>%d</td><td>%s</td><td>%s</td></tr>`, c.Version, c.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), html(strings.Join(c.Files, ", ")))
		}
		b.WriteString(`</table></div>`)
	} else {
		b.WriteString(`<p>No configuration synced yet.</p>`)
	}
	b.WriteString(`</section><section id="jobs"><h2>Jobs</h2>`)
	if js, err := s.cfg.Store.Jobs(ctx, ws.ID, store.Page{}); err == nil && len(js) > 0 {
		edges, archived := jobEdges(js)
		if len(edges) > 0 {
			b.WriteString(`<figure><figcaption>Which job follows which, left to right: a job runs after the one its arrow comes from succeeds or fails, or waits until it is fresh.</figcaption>`)
			b.WriteString(jobGraph("jobs-graph", edges, archived) + edgeLegend(edges) + `</figure>`)
		}
		b.WriteString(`<div class="scroll"><table><thead><tr><th>Job</th><th>Status</th><th>Updated</th></tr></thead><tbody>`)
		for _, j := range js {
			status := "active"
			if !j.Active {
				status = "archived"
			}
			name := `<a href="` + html(JobPagePath(ws.ID, j.Ref)) + `">` + html(j.Ref) + `</a>`
			var spec struct {
				Type string `json:"type"`
			}
			if j.Active && json.Unmarshal([]byte(j.Spec), &spec) == nil && spec.Type == "interactive" {
				// Apps open on their own origin (apps_origin.go).
				name += ` · <a href="` + html(s.appsBase()+AppURLPath(ws.ID, j.Ref)) + `" rel="noopener noreferrer">open app</a>`
			}
			fmt.Fprintf(&b, `<tr><td>%s</td><td>%s</td><td>%s</td></tr>`, name, status, j.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		b.WriteString(`</tbody></table></div>`)
	} else {
		b.WriteString(`<p>No jobs deployed yet.</p>`)
	}
	b.WriteString(`</section><section id="runs"><h2>Runs</h2>`)
	if rs, err := s.cfg.Store.Runs(ctx, ws.ID, "", recent); err == nil && len(rs) > 0 {
		b.WriteString(`<div class="scroll"><table><tr><th>Job</th><th>Run</th><th>Status</th><th>Trigger</th><th>Queued</th><th>Reason</th></tr>`)
		for _, r := range rs {
			fmt.Fprintf(&b, `<tr><td><a href="%s">%s</a></td><td><a href="%s">#%d</a></td><td><span class="status status-%s">%s</span></td><td>%s</td><td>%s</td><td>%s</td></tr>`,
				html(JobPagePath(ws.ID, r.JobRef)), html(r.JobRef), RunPagePath(ws.ID, r.ID), r.Number, html(r.Status), html(r.Status), html(r.Trigger), r.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC"), html(r.Reason))
		}
		b.WriteString(`</table></div>`)
	} else {
		b.WriteString(`<p>No runs yet: <code>dlthub run JOB</code>.</p>`)
	}
	b.WriteString(`</section><section id="variables"><h2>Variables</h2>`)
	if vs, err := s.cfg.Store.Variables(ctx, ws.ID); err == nil && len(vs) > 0 {
		b.WriteString(`<div class="scroll"><table><tr><th>Name</th><th>For</th><th>Value</th></tr>`)
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
		b.WriteString(`</table></div>`)
	} else {
		b.WriteString(`<p>No variables: <code>dlthub variable set NAME VALUE</code>.</p>`)
	}
	b.WriteString(`</section><section id="members"><h2>Members</h2>`)
	if ms, err := s.cfg.Store.WorkspaceMembers(ctx, ws.ID, store.Page{Limit: 100}); err == nil {
		b.WriteString(`<div class="scroll"><table><tr><th>Email</th><th>Role</th></tr>`)
		for _, m := range ms {
			via := ""
			if m.Inherited {
				via = " (organization owner)"
			}
			fmt.Fprintf(&b, `<tr><td>%s</td><td>%s%s</td></tr>`, html(m.User.Email), html(m.Role), via)
		}
		b.WriteString(`</table></div>`)
	}
	b.WriteString(`</section><p><a href="/">All workspaces</a></p>`)
	pageIn(w, http.StatusOK, ws.Name, []crumb{homeCrumb()}, b.String())
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

// runPage shows one run and its log (viewer and up). The page carries the
// lines stored so far; while the run is in progress, static/runlog.js
// appends the rest from the API's log stream as the job prints them and
// shows the final state when the run ends. Without JavaScript the page
// reloads itself every few seconds instead, so the log is live either way.
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
	wsName := wsID
	if ws, err := s.cfg.Store.WorkspaceByID(ctx, wsID); err == nil {
		wsName = ws.Name
	}
	var b strings.Builder
	if !run.Done() {
		b.WriteString(`<noscript><meta http-equiv="refresh" content="5"></noscript>`)
	}
	fmt.Fprintf(&b, `<p>Status <span id="run-status" class="status status-%s">%s</span> · trigger <code>%s</code> · profile %s · code v%d`,
		html(run.Status), html(run.Status), html(run.Trigger), html(run.Profile), run.DeploymentVersion)
	if run.IntervalStart != nil && run.IntervalEnd != nil {
		fmt.Fprintf(&b, ` · interval %s → %s`, run.IntervalStart.UTC().Format(time.RFC3339), run.IntervalEnd.UTC().Format(time.RFC3339))
	}
	b.WriteString(`</p>`)
	fmt.Fprintf(&b, `<p>Queued %s UTC`, run.CreatedAt.UTC().Format("2006-01-02 15:04:05"))
	if run.StartedAt != nil {
		fmt.Fprintf(&b, ` · started %s UTC`, run.StartedAt.UTC().Format(logClock))
	}
	finished := ""
	if run.FinishedAt != nil {
		finished = "finished " + run.FinishedAt.UTC().Format(logClock) + " UTC"
		if run.StartedAt != nil {
			finished += fmt.Sprintf(" (took %d s)", int(run.FinishedAt.Sub(*run.StartedAt).Round(time.Second).Seconds()))
		}
	}
	fmt.Fprintf(&b, ` · <span id="run-finished"%s>%s</span></p>`, hiddenIf(finished == ""), html(finished))
	fmt.Fprintf(&b, `<p id="run-reason"%s>%s</p>`, hiddenIf(run.Reason == ""), html(run.Reason))
	tables := make([]string, 0, len(run.TableRows))
	for t := range run.TableRows {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	fmt.Fprintf(&b, `<table id="run-tables"%s><thead><tr><th>Table</th><th>Rows loaded</th></tr></thead><tbody>`, hiddenIf(len(tables) == 0))
	for _, t := range tables {
		fmt.Fprintf(&b, `<tr><td>%s</td><td>%d</td></tr>`, html(t), run.TableRows[t])
	}
	b.WriteString(`</tbody></table>`)
	lines, _ := s.cfg.Store.RunLogs(ctx, run.ID, 0, runPageLines)
	var after int64
	if len(lines) > 0 {
		after = lines[len(lines)-1].Seq
	}
	api := "/api/v1/workspaces/" + wsID + "/runs/" + run.ID
	b.WriteString(`<h2>Log</h2><p class="hint">Times in UTC; <span class="mark">stderr</span> marks what the job wrote to standard error.</p>`)
	fmt.Fprintf(&b, `<div id="run-log" class="log" role="log" tabindex="0" aria-label="Log of the run" data-logs="%s" data-run="%s" data-after="%d" data-follow="%t">`,
		html(api+"/logs"), html(api), after, !run.Done())
	if len(lines) == 0 {
		b.WriteString(`<div id="run-log-empty" class="line"><span class="text">No lines yet.</span></div>`)
	}
	for _, l := range lines {
		b.WriteString(logLineHTML(l))
	}
	b.WriteString(`</div>`)
	if len(lines) == runPageLines {
		fmt.Fprintf(&b, `<p>The first %d lines; all of them: <code>dlthub job logs %s %d</code>.</p>`, runPageLines, html(run.JobRef), run.Number)
	}
	if !run.Done() {
		b.WriteString(`<p id="run-live" class="hint" role="status"><noscript>This page reloads every 5 s while the run is in progress.</noscript></p>`)
		fmt.Fprintf(&b, `<script src="%s" defer></script>`, html(s.assetURL("runlog.js")))
	}
	fmt.Fprintf(&b, `<p><a href="%s">Back to the workspace</a></p>`, WorkspacePagePath(wsID))
	trail := []crumb{homeCrumb(), {text: wsName, href: WorkspacePagePath(wsID)}, {text: run.JobRef, href: JobPagePath(wsID, run.JobRef)}}
	pageIn(w, http.StatusOK, fmt.Sprintf("%s #%d", run.JobRef, run.Number), trail, b.String())
}

// logClock is how the run page shows a time of day (UTC); runlog.js
// renders appended lines the same way.
const logClock = "15:04:05"

// logLineHTML is one log line of the run page, in the markup runlog.js
// makes for the lines it appends: the time, a visible stderr marker (not
// colour alone) and the text.
func logLineHTML(l store.LogLine) string {
	at := l.At.UTC().Format(time.RFC3339Nano)
	class, mark := "line", ""
	if l.Stream == "stderr" {
		class, mark = "line stderr", `<span class="mark">stderr</span>`
	}
	return fmt.Sprintf(`<div class="%s" data-seq="%d"><time datetime="%s" title="%s">%s</time>%s<span class="text">%s</span></div>`,
		class, l.Seq, at, at, l.At.UTC().Format(logClock), mark, html(l.Line))
}

// hiddenIf is the hidden attribute when cond holds: elements runlog.js
// fills in when the run ends are on the page from the start.
func hiddenIf(cond bool) string {
	if cond {
		return " hidden"
	}
	return ""
}
