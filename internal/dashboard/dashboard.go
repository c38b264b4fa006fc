// Package dashboard is the workspace dashboard (DESIGN §6.7): one page of
// the active profile's pipelines with their last run, the tables they
// loaded with row counts, sizes where the destination tells and columns,
// a picture of the table sizes, and recent loads. It reads read-only
// through internal/datasets (DuckDB, PostgreSQL, local filesystem
// datasets) and serves under a base path, so the control plane can proxy
// it as an interactive job: jobs.workspace.dashboard, which every Go
// workspace gets without declaring it.
package dashboard

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/dlthub/dlthub/internal/datasets"
)

// Handler serves the dashboard at basePath ("/" locally).
func Handler(workspace, profile, basePath string, catalog datasets.Catalog) http.Handler {
	if !strings.HasSuffix(basePath, "/") {
		basePath += "/"
	}
	page := pageTemplate()
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+basePath+"{$}", func(w http.ResponseWriter, r *http.Request) {
		v := build(r.Context(), workspace, profile, catalog)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := page.Execute(w, v); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	return mux
}

type view struct {
	Workspace, Profile string
	Datasets           []datasetView
	Error              string
	At                 time.Time
}

type datasetView struct {
	datasets.Dataset
	Tables []tableView
	// Sized: the destination told the tables' bytes.
	Sized bool
	Chart template.HTML
	Loads []datasets.Load
	Error string
}

type tableView struct {
	datasets.Table
	Bytes   int64 // -1: not known
	System  bool
	Columns []datasets.Column
}

func build(ctx context.Context, workspace, profile string, catalog datasets.Catalog) view {
	v := view{Workspace: workspace, Profile: profile, At: time.Now().UTC()}
	ds, err := catalog()
	if err != nil {
		v.Error = err.Error()
		return v
	}
	for i, d := range ds {
		v.Datasets = append(v.Datasets, readDataset(ctx, fmt.Sprintf("sizes-%d", i+1), d))
	}
	return v
}

// readDataset reads one dataset for the page; what goes wrong is said in
// its section, and the other datasets still show.
func readDataset(ctx context.Context, chartID string, d datasets.Dataset) datasetView {
	dv := datasetView{Dataset: d}
	if d.AccessErr != nil {
		dv.Error = d.AccessErr.Error()
		return dv
	}
	r, err := datasets.OpenReader(ctx, d.Access)
	if err != nil {
		dv.Error = err.Error()
		return dv
	}
	defer func() { _ = r.Close() }()
	ts, err := r.Tables(ctx)
	if err != nil {
		dv.Error = fmt.Sprintf("tables of %s: %v", d.Name, err)
	}
	sizes, err := r.Sizes(ctx)
	if err != nil && dv.Error == "" {
		dv.Error = err.Error()
	}
	var pic []tableSize
	for _, t := range ts {
		cols, _ := r.Columns(ctx, t.Name)
		b, ok := sizes[t.Name]
		if !ok {
			b = -1
		}
		dv.Sized = dv.Sized || ok
		dv.Tables = append(dv.Tables, tableView{Table: t, Bytes: b, System: strings.HasPrefix(t.Name, "_dlt_"), Columns: cols})
		pic = append(pic, tableSize{Name: t.Name, Rows: t.Rows, Bytes: b})
	}
	dv.Chart = sizesChart(chartID, d.Name, pic)
	if dv.Loads, err = r.RecentLoads(ctx, 10); err != nil && dv.Error == "" {
		dv.Error = err.Error()
	}
	return dv
}

// pageTemplate is the dashboard page.
func pageTemplate() *template.Template {
	return template.Must(template.New("dashboard").Funcs(template.FuncMap{
		"ts":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
		"num":   humanize.Comma,
		"bytes": func(n int64) string { return humanize.IBytes(uint64(n)) },
	}).Parse(`<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Workspace}} · dlthub dashboard</title><link rel="icon" href="data:,">
<style>body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}main{max-width:60rem;margin:2rem auto;padding:0 1rem}
section{background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002;padding:1rem 1.5rem;margin:1rem 0}table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e3e6ea}.sys{color:#5f6672}.err{color:#b00020}code{background:#eef0f3;padding:0 .3rem;border-radius:3px}
.chart{display:block;max-width:100%;height:auto;margin:.5rem 0 1rem}.chart text{fill:#4a5363;font:12px system-ui,sans-serif}.chart .axis{stroke:#767f8c;stroke-width:1}.chart .bar{fill:#1f5fbf}</style>
</head><body><main>
<h1>{{.Workspace}}</h1><p>Profile <b>{{.Profile}}</b> · read at {{ts .At}}</p>
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
{{if not .Datasets}}<section><p>No pipelines in this profile yet: declare one with <code>dlthub pipeline init SOURCE DESTINATION</code>, run it with <code>dlthub local pipeline run NAME</code>.</p></section>{{end}}
{{range .Datasets}}{{$sized := .Sized}}<section>
<h2>{{.Pipeline}}</h2>
{{if .Name}}<p>Dataset <b>{{.Name}}</b> on {{.Destination}}{{if .LastRun}} · last run {{ts .LastRun}}{{end}}</p>{{end}}
{{if .LastError}}<p class="err">Last run failed: {{.LastError}}</p>{{end}}
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
{{if .Chart}}<h3>Table sizes</h3>{{.Chart}}{{end}}
{{if .Tables}}<table><tr><th>Table</th><th>Rows</th>{{if .Sized}}<th>Size</th>{{end}}<th>Columns</th></tr>
{{range .Tables}}<tr{{if .System}} class="sys"{{end}}><td>{{.Name}}</td><td>{{num .Rows}}</td>{{if $sized}}<td>{{if ge .Bytes 0}}{{bytes .Bytes}}{{end}}</td>{{end}}<td><details><summary>{{len .Columns}}</summary>{{range .Columns}}<div><code>{{.Name}}</code> {{.Type}}{{if not .Nullable}} not null{{end}}</div>{{end}}</details></td></tr>
{{end}}</table>{{end}}
{{if .Loads}}<h3>Recent loads</h3><table><tr><th>Load</th><th>Schema</th><th>Loaded</th></tr>
{{range .Loads}}<tr><td><code>{{.LoadID}}</code></td><td>{{.SchemaName}}</td><td>{{ts .InsertedAt}}</td></tr>{{end}}</table>{{end}}
</section>{{end}}
</main></body></html>`))
}
