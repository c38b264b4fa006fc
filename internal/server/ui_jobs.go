package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/store"
)

// JobPagePath is where the browser view of a job lives.
func JobPagePath(workspaceID, ref string) string {
	return WorkspacePagePath(workspaceID) + "/jobs/" + url.PathEscape(ref)
}

// jobPageRuns is how many of a job's runs its page draws and lists; the
// API and `dlthub job runs` page through the rest.
const jobPageRuns = 30

// jobPage is the browser view of one job (viewer and up): what its spec
// says it runs and when, the jobs it follows and that follow it, then
// pictures of its recent runs (how long they took and how they ended; the
// rows each loaded per table) before the table of those runs. Archived
// jobs keep their page: their history stays.
func (s *Server) jobPage(w http.ResponseWriter, r *http.Request) {
	u, ok := s.pageUser(w, r)
	if !ok {
		return
	}
	ctx, wsID, ref := r.Context(), r.PathValue("id"), r.PathValue("ref")
	_, rerr := s.cfg.Store.WorkspaceRole(ctx, wsID, u.ID)
	ws, werr := s.cfg.Store.WorkspaceByID(ctx, wsID)
	job, jerr := s.cfg.Store.JobByRef(ctx, wsID, ref)
	if rerr != nil || werr != nil || jerr != nil {
		page(w, http.StatusNotFound, "Not found", `<p>No such job that you can see. <a href="/">Your workspaces</a></p>`)
		return
	}
	all, err := s.cfg.Store.Jobs(ctx, wsID, store.Page{})
	if err != nil {
		s.pageFailed(w, "list the jobs of the workspace", err)
		return
	}
	runs, err := s.cfg.Store.Runs(ctx, wsID, ref, store.Page{Limit: jobPageRuns})
	if err != nil {
		s.pageFailed(w, "list the job's runs", err)
		return
	}
	edges, _ := jobEdges(all)
	var b strings.Builder
	b.WriteString(s.jobSummary(ws.ID, job, edges))

	now := s.cfg.Now()
	pics := make([]chartRun, len(runs))
	for i, run := range runs { // oldest first, left to right
		pics[len(runs)-1-i] = chartRunOf(run, now)
	}
	b.WriteString(`<section id="durations"><h2>Runs over time</h2>`)
	if len(runs) == 0 {
		fmt.Fprintf(&b, `<p>No runs yet: <code>dlthub job trigger %s</code>.</p>`, html(ref))
	} else {
		fmt.Fprintf(&b, `<figure><figcaption>How long each of the last %d runs took, oldest on the left; the marker above a bar says how it ended.</figcaption>%s%s</figure>`,
			len(runs), durationChart("durations-chart", pics), outcomeLegend(pics))
	}
	b.WriteString(`</section><section id="rows"><h2>Rows loaded</h2>`)
	if chart := rowsChart("rows-chart", pics); chart != "" {
		b.WriteString(`<figure><figcaption>Rows each run loaded, one strip per table (the largest tables), each strip on its own scale.</figcaption>` + chart + `</figure>`)
		b.WriteString(rowsTable(runs, now))
	} else if len(runs) > 0 {
		b.WriteString(`<p>None of these runs recorded rows loaded: runs of a dlt pipeline do.</p>`)
	}
	b.WriteString(`</section><section id="runs"><h2>Recent runs</h2>`)
	if len(runs) > 0 {
		b.WriteString(`<div class="scroll"><table><thead><tr><th>Run</th><th>Status</th><th>Trigger</th><th>Started (UTC)</th><th>Took</th><th>Rows</th></tr></thead><tbody>`)
		for _, run := range runs {
			c := chartRunOf(run, now)
			started, took, rows := "queued "+run.CreatedAt.UTC().Format("2006-01-02 15:04"), "—", "—"
			if c.Timed {
				started = c.At.UTC().Format("2006-01-02 15:04:05")
				took = humanDuration(c.Took)
				if !run.Done() {
					took += " so far"
				}
			}
			if len(run.TableRows) > 0 {
				var n int64
				for _, v := range run.TableRows {
					n += v
				}
				rows = humanize.Comma(n)
			}
			fmt.Fprintf(&b, `<tr><td><a href="%s">#%d</a></td><td><span class="status status-%s">%s</span></td><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td></tr>`,
				html(RunPagePath(wsID, run.ID)), run.Number, html(run.Status), html(run.Status), html(run.Trigger), started, took, rows)
		}
		b.WriteString(`</tbody></table></div>`)
		if len(runs) == jobPageRuns {
			fmt.Fprintf(&b, `<p class="hint">The last %d runs; all of them: <code>dlthub job runs list %s</code>.</p>`, jobPageRuns, html(ref))
		}
	}
	b.WriteString(`</section>`)
	pageIn(w, http.StatusOK, ref, []crumb{homeCrumb(), {text: ws.Name, href: WorkspacePagePath(ws.ID)}}, b.String())
}

// pageFailed answers a page whose data could not be read, and logs why.
func (s *Server) pageFailed(w http.ResponseWriter, what string, err error) {
	s.cfg.Logger.Error("page: "+what, "err", err)
	page(w, http.StatusInternalServerError, "Error", `<p>Could not `+html(what)+`. Try again in a moment.</p>`)
}

// jobSummary is what a job's spec says, as a definition list: its state
// and type, what it runs, its triggers (follow-ups linked to the jobs
// they follow), the jobs it waits for and the jobs that follow it.
func (s *Server) jobSummary(wsID string, job store.Job, edges []graphEdge) string {
	var b strings.Builder
	var x jobs.ExpandedJob
	specErr := json.Unmarshal([]byte(job.Spec), &x)
	state := `<span class="status status-active">active</span>`
	if !job.Active {
		state = `<span class="status">archived</span> (no longer deployed: it keeps its runs and triggers nothing)`
	}
	jobLink := func(ref string) string {
		return `<a href="` + html(JobPagePath(wsID, ref)) + `">` + html(ref) + `</a>`
	}
	b.WriteString(`<dl class="spec">`)
	fmt.Fprintf(&b, `<dt>State</dt><dd>%s</dd>`, state)
	if specErr != nil {
		b.WriteString(`<dt>Spec</dt><dd>unreadable: deploy the job again</dd></dl>`)
		return b.String()
	}
	if x.Description != "" {
		fmt.Fprintf(&b, `<dt>Description</dt><dd>%s</dd>`, html(x.Description))
	}
	typ := html(x.Type)
	if x.Type == "interactive" && job.Active {
		typ += ` (an app) · <a href="` + html(s.appsBase()+AppURLPath(wsID, job.Ref)) + `" rel="noopener noreferrer">open app</a>`
	}
	fmt.Fprintf(&b, `<dt>Type</dt><dd>%s</dd>`, typ)
	switch {
	case len(x.Command) > 0:
		fmt.Fprintf(&b, `<dt>Runs</dt><dd><code>%s</code></dd>`, html(strings.Join(x.Command, " ")))
	case x.Pipeline != "":
		fmt.Fprintf(&b, `<dt>Runs</dt><dd>the pipeline <code>%s</code></dd>`, html(x.Pipeline))
	case x.EntryPoint != nil:
		entry := x.EntryPoint.Module
		if x.EntryPoint.Function != nil {
			entry += ":" + *x.EntryPoint.Function
		}
		fmt.Fprintf(&b, `<dt>Runs</dt><dd><code>%s</code></dd>`, html(entry))
	}
	if p := x.Deliver["pipeline_name"]; p != "" {
		fmt.Fprintf(&b, `<dt>Loads</dt><dd>the dlt pipeline <code>%s</code></dd>`, html(p))
	}
	b.WriteString(`<dt>Triggers</dt><dd><ul>`)
	for _, t := range x.Triggers {
		words := html(x.Describe[t])
		if pt, err := jobs.ParseTrigger(t); err == nil && (pt.Kind == jobs.KindJobSuccess || pt.Kind == jobs.KindJobFail) {
			words = strings.Replace(words, html(pt.Value), jobLink(pt.Value), 1)
		}
		fmt.Fprintf(&b, `<li><code>%s</code>`, html(t))
		if words != "" {
			b.WriteString(` · ` + words)
		}
		b.WriteString(`</li>`)
	}
	b.WriteString(`</ul></dd>`)
	if len(x.Freshness) > 0 {
		links := make([]string, len(x.Freshness))
		for i, f := range x.Freshness {
			links[i] = jobLink(f)
		}
		fmt.Fprintf(&b, `<dt>Waits until fresh</dt><dd>%s</dd>`, strings.Join(links, ", "))
	}
	var next []string
	for _, e := range edges {
		if e.From == job.Ref {
			next = append(next, `<li>`+jobLink(e.To)+` · `+map[string]string{edgeSuccess: "runs after this job succeeds", edgeFail: "runs after this job fails", edgeFresh: "waits until this job is fresh"}[e.Kind]+`</li>`)
		}
	}
	if len(next) > 0 {
		fmt.Fprintf(&b, `<dt>Followed by</dt><dd><ul>%s</ul></dd>`, strings.Join(next, ""))
	}
	if start, ok := x.Interval["start"]; ok {
		end := "open"
		if e, ok := x.Interval["end"]; ok {
			end = e
		}
		fmt.Fprintf(&b, `<dt>Interval</dt><dd>%s → %s</dd>`, html(start), html(end))
	}
	if p := x.RequiredProfile(); p != "" {
		fmt.Fprintf(&b, `<dt>Profile</dt><dd>%s</dd>`, html(p))
	}
	var limits []string
	if v, ok := x.Execute["timeout"].(string); ok {
		if d, err := time.ParseDuration(v); err == nil {
			v = humanDuration(d)
		}
		limits = append(limits, "a timeout of "+html(v))
	}
	limits = append(limits, "at most "+strconv.Itoa(x.Concurrency())+" at once")
	if n, ok := x.Execute["retries"].(float64); ok && n > 0 {
		limits = append(limits, fmt.Sprintf("%d retries", int(n)))
	}
	fmt.Fprintf(&b, `<dt>Runs are limited to</dt><dd>%s</dd>`, strings.Join(limits, ", "))
	fmt.Fprintf(&b, `<dt>Deployed</dt><dd>%s UTC</dd>`, job.DeployedAt.UTC().Format("2006-01-02 15:04"))
	b.WriteString(`</dl>`)
	return b.String()
}

// rowsTable is the rows picture's data as a table, folded away: runs,
// newest first, by table.
func rowsTable(runs []store.Run, now time.Time) string {
	pics := make([]chartRun, len(runs))
	for i, r := range runs {
		pics[i] = chartRunOf(r, now)
	}
	tables, _ := tablesByRows(pics)
	var b strings.Builder
	b.WriteString(`<details><summary>The rows as a table</summary><div class="scroll"><table><thead><tr><th>Run</th>`)
	for _, t := range tables {
		fmt.Fprintf(&b, `<th>%s</th>`, html(t))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for _, r := range runs {
		if len(r.TableRows) == 0 {
			continue
		}
		fmt.Fprintf(&b, `<tr><td>#%d</td>`, r.Number)
		for _, t := range tables {
			if n, ok := r.TableRows[t]; ok {
				fmt.Fprintf(&b, `<td>%s</td>`, humanize.Comma(n))
			} else {
				b.WriteString(`<td>—</td>`)
			}
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table></div></details>`)
	return b.String()
}

// jobEdges are the edges of a workspace's jobs graph, read from the
// deployed specs of its active jobs (archived ones trigger nothing): a
// follow-up trigger (job.success, job.fail) or a freshness gate on
// another job of the workspace. archived names the jobs the edges come
// from that are archived (a job may still name one until its next
// deploy). Edges to jobs the workspace does not have are left out.
func jobEdges(list []store.Job) (edges []graphEdge, archived map[string]bool) {
	known := map[string]bool{}
	archived = map[string]bool{}
	for _, j := range list {
		known[j.Ref] = true
		if !j.Active {
			archived[j.Ref] = true
		}
	}
	for _, j := range list {
		if !j.Active {
			continue
		}
		var x jobs.ExpandedJob
		if json.Unmarshal([]byte(j.Spec), &x) != nil {
			continue
		}
		for _, t := range x.Triggers {
			pt, err := jobs.ParseTrigger(t)
			if err != nil || !known[pt.Value] {
				continue
			}
			switch pt.Kind {
			case jobs.KindJobSuccess:
				edges = append(edges, graphEdge{From: pt.Value, To: j.Ref, Kind: edgeSuccess})
			case jobs.KindJobFail:
				edges = append(edges, graphEdge{From: pt.Value, To: j.Ref, Kind: edgeFail})
			}
		}
		for _, f := range x.Freshness {
			if known[f] {
				edges = append(edges, graphEdge{From: f, To: j.Ref, Kind: edgeFresh})
			}
		}
	}
	sort.SliceStable(edges, func(i, k int) bool {
		if edges[i].From != edges[k].From {
			return edges[i].From < edges[k].From
		}
		return edges[i].To < edges[k].To
	})
	return edges, archived
}
