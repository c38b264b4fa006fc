// Package dashboard is the workspace dashboard (DESIGN §6.7): one page of
// the active profile's pipelines with their last run, the tables they
// loaded with row counts and columns, and recent loads. It reads
// read-only through internal/datasets and serves under a base path, so the
// control plane can proxy it as an interactive job.
package dashboard

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

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
	Loads  []datasets.Load
	Error  string
}

type tableView struct {
	datasets.Table
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
	for _, d := range ds {
		dv := datasetView{Dataset: d}
		db, err := datasets.Open(d)
		if err != nil {
			dv.Error = err.Error()
			v.Datasets = append(v.Datasets, dv)
			continue
		}
		ts, err := datasets.Tables(ctx, db, d.Name)
		if err != nil {
			dv.Error = err.Error()
		}
		for _, t := range ts {
			cols, _ := datasets.Columns(ctx, db, d.Name, t.Name)
			dv.Tables = append(dv.Tables, tableView{Table: t, System: strings.HasPrefix(t.Name, "_dlt_"), Columns: cols})
		}
		if dv.Loads, err = datasets.RecentLoads(ctx, db, d.Name, 10); err != nil && dv.Error == "" {
			dv.Error = err.Error()
		}
		_ = db.Close()
		v.Datasets = append(v.Datasets, dv)
	}
	return v
}

// pageTemplate is the dashboard page.
func pageTemplate() *template.Template {
	return template.Must(template.New("dashboard").Funcs(template.FuncMap{
		"ts": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
		"num": func(n int64) string {
			s := fmt.Sprint(n)
			for i := len(s) - 3; i > 0; i -= 3 {
				s = s[:i] + "," + s[i:]
			}
			return s
		},
	}).Parse(`<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Workspace}} · dlthub dashboard</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}main{max-width:60rem;margin:2rem auto;padding:0 1rem}
section{background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002;padding:1rem 1.5rem;margin:1rem 0}table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e3e6ea}.sys{color:#888}.err{color:#b00}code{background:#eef0f3;padding:0 .3rem;border-radius:3px}</style>
</head><body><main>
<h1>{{.Workspace}}</h1><p>Profile <b>{{.Profile}}</b> · read at {{ts .At}}</p>
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
{{if not .Datasets}}<section><p>No pipelines have run in this profile yet: <code>dlthub local pipeline run NAME</code>.</p></section>{{end}}
{{range .Datasets}}<section>
<h2>{{.Pipeline}}</h2>
<p>Dataset <b>{{.Name}}</b> on {{.Destination}}{{if .LastRun}} · last run {{ts .LastRun}}{{end}}</p>
{{if .LastError}}<p class="err">Last run failed: {{.LastError}}</p>{{end}}
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
{{if .Tables}}<table><tr><th>Table</th><th>Rows</th><th>Columns</th></tr>
{{range .Tables}}<tr{{if .System}} class="sys"{{end}}><td>{{.Name}}</td><td>{{num .Rows}}</td><td><details><summary>{{len .Columns}}</summary>{{range .Columns}}<div><code>{{.Name}}</code> {{.Type}}{{if not .Nullable}} not null{{end}}</div>{{end}}</details></td></tr>
{{end}}</table>{{end}}
{{if .Loads}}<h3>Recent loads</h3><table><tr><th>Load</th><th>Schema</th><th>Loaded</th></tr>
{{range .Loads}}<tr><td><code>{{.LoadID}}</code></td><td>{{.SchemaName}}</td><td>{{ts .InsertedAt}}</td></tr>{{end}}</table>{{end}}
</section>{{end}}
</main></body></html>`))
}
