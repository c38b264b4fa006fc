package cli

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/dlthub/dlthub/internal/datasets"
	"github.com/dlthub/dlthub/internal/declarative"
	"github.com/dlthub/dlthub/internal/pipeline"
)

// datasetCatalog lists the datasets of the workspace's pipelines in the
// active profile, fresh on each call: those that ran here, from their
// working dirs (with the last run and the schema), and the declared ones
// (pipelines/*.toml) that did not, from configuration alone. The second
// kind is what the dashboard finds on a worker: each run there has a
// fresh checkout without working dirs, and the data of the workspace's
// pipeline jobs is where their destination put it (PostgreSQL, say).
func (f *Factory) datasetCatalog(c *wsContext) datasets.Catalog {
	return func() ([]datasets.Dataset, error) {
		dir := filepath.Join(c.ws.Dirs(f.Env, c.resolver, c.profile.Name).Data, "pipelines")
		names, err := pipeline.List(dir)
		if err != nil {
			return nil, fmt.Errorf("list the pipelines in %s: %w", dir, err)
		}
		var out []datasets.Dataset
		ran := map[string]bool{}
		for _, name := range names {
			p, err := pipeline.Attach(c.pipelineOptions(f, name))
			if err != nil {
				continue // nothing ran yet
			}
			d, err := catalogEntry(p)
			if err != nil {
				return nil, err
			}
			if sc, err := p.Schema(); err == nil && sc != nil {
				d.Tables = len(sc.DataTables())
			}
			if tr, err := p.LastTrace(); err == nil && tr != nil {
				at := tr.FinishedAt
				d.LastRun, d.LastError = &at, tr.Error
			}
			ran[name] = true
			out = append(out, d)
		}
		declared, err := declarative.List(c.ws.Root)
		if err != nil {
			return nil, fmt.Errorf("list the declared pipelines: %w", err)
		}
		for _, name := range declared {
			if ran[name] {
				continue
			}
			d := datasets.Dataset{Pipeline: name}
			spec, err := declarative.Load(c.ws.Root, name)
			if err != nil {
				d.AccessErr = err
				out = append(out, d)
				continue
			}
			po := c.pipelineOptions(f, name)
			po.Destination, po.Dataset = spec.Destination, spec.Dataset
			p, err := pipeline.Configured(po)
			if err != nil {
				d.AccessErr = fmt.Errorf("pipeline %s: %w", name, err)
				out = append(out, d)
				continue
			}
			// A DuckDB path that cannot be worked out is the entry's
			// problem, not the catalog's.
			if d, err = catalogEntry(p); err != nil {
				d.AccessErr = err
			}
			out = append(out, d)
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Pipeline < out[j].Pipeline })
		return out, nil
	}
}

// catalogEntry is a pipeline's dataset: its name, destination, the DuckDB
// file for the readers that open only those, and how to read it back.
func catalogEntry(p *pipeline.Pipeline) (datasets.Dataset, error) {
	d := datasets.Dataset{Pipeline: p.Name(), Name: p.Dataset(), Destination: p.DestinationType()}
	if p.DestinationType() == "duckdb" {
		db, err := p.DatabasePath()
		if err != nil {
			return d, fmt.Errorf("pipeline %s: %w", p.Name(), err)
		}
		d.Database = db
	}
	d.Access, d.AccessErr = p.DatasetAccess()
	return d, nil
}
