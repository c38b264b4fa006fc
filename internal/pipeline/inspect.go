package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlthub/dlthub/internal/loadpackage"
	"github.com/dlthub/dlthub/internal/schema"
)

// List returns the names of the pipelines with a working dir in dir.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && validName.MatchString(e.Name()) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// Attach opens an existing pipeline by name, taking its destination and
// dataset from its stored state.
func Attach(o Options) (*Pipeline, error) {
	dir := filepath.Join(o.PipelinesDir, o.Name)
	st := &State{}
	if err := loadpackage.ReadJSON(filepath.Join(dir, "state.json"), st); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			known, _ := List(o.PipelinesDir)
			hint := "none yet"
			if len(known) > 0 {
				hint = strings.Join(known, ", ")
			}
			return nil, fmt.Errorf("no pipeline %q in %s (pipelines there: %s)", o.Name, o.PipelinesDir, hint)
		}
		return nil, fmt.Errorf("pipeline %q: %w", o.Name, err)
	}
	if o.Destination == "" {
		o.Destination = st.Destination
	}
	if o.Dataset == "" {
		o.Dataset = st.DatasetName
	}
	return New(o)
}

// State reads the pipeline's local state (nil when none).
func (p *Pipeline) State() (*State, error) {
	st := &State{}
	err := loadpackage.ReadJSON(filepath.Join(p.store.Dir, "state.json"), st)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return st, err
}

// DestinationName is the destination the pipeline loads into, as named.
func (p *Pipeline) DestinationName() string { return p.dest.Name }

// DestinationType is the destination's type.
func (p *Pipeline) DestinationType() string { return p.dest.Type }

// PackageInfo describes one load package.
type PackageInfo struct {
	LoadID string           `json:"load_id"`
	Stage  string           `json:"stage"`
	Dir    string           `json:"dir"`
	Jobs   []JobInfo        `json:"jobs"`
	Rows   map[string]int64 `json:"rows,omitempty"`
	Error  string           `json:"error,omitempty"`
}

// JobInfo is one job file of a package.
type JobInfo struct {
	Table string `json:"table"`
	File  string `json:"file"`
	Bytes int64  `json:"bytes"`
	State string `json:"state"` // new, completed, failed
}

// Packages lists load packages in every stage, oldest first.
func (p *Pipeline) Packages() ([]PackageInfo, error) {
	var out []PackageInfo
	for _, st := range []struct{ dir, name string }{
		{loadpackage.ExtractedDir, "extracted"},
		{loadpackage.NormalizedDir, "normalized"},
		{loadpackage.LoadedDir, "loaded"},
	} {
		ids, err := p.store.List(st.dir)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			dir := p.store.PackageDir(st.dir, id)
			pi := PackageInfo{LoadID: id, Stage: st.name, Dir: dir}
			m := &manifest{}
			if err := loadpackage.ReadJSON(filepath.Join(dir, loadpackage.ManifestFile), m); err == nil {
				pi.Rows = m.Rows
			}
			if b, err := os.ReadFile(filepath.Join(dir, failedFile)); err == nil {
				pi.Error = string(b)
			}
			jobDir, state := filepath.Join(dir, loadpackage.NewJobs), "new"
			if st.name == "loaded" {
				state = "completed"
			}
			if st.name == "extracted" {
				jobDir = dir
			}
			jobs, _ := loadpackage.Jobs(jobDir)
			for _, j := range jobs {
				var size int64
				if fi, err := os.Stat(j.Path); err == nil {
					size = fi.Size()
				}
				js := state
				if pi.Error != "" {
					js = "failed"
				}
				pi.Jobs = append(pi.Jobs, JobInfo{Table: j.Table, File: j.Path, Bytes: size, State: js})
			}
			out = append(out, pi)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LoadID < out[j].LoadID })
	return out, nil
}

// failedFile holds the error of a package whose load failed.
const failedFile = "failed_jobs.exception"

// DropResources drops resources' tables (all tables without resources) and
// resets their state, and records the new state in the destination with an
// empty load, so a restore does not bring the dropped state back. It returns
// the tables it dropped.
func (p *Pipeline) DropResources(ctx context.Context, resources []string) ([]string, error) {
	unlock, err := p.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	client, err := p.OpenDestination()
	if err != nil {
		return nil, err
	}
	defer func() { _ = client.Close() }()
	state, err := p.loadState(ctx, client)
	if err != nil {
		return nil, err
	}
	s, err := p.loadSchema(ctx, client)
	if err != nil {
		return nil, err
	}
	for _, r := range resources {
		found := false
		for _, t := range s.DataTables() {
			if t.Resource == r {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("pipeline %q has no resource %q (resources: %s)", p.opts.Name, r, strings.Join(p.Resources(s), ", "))
		}
	}
	tables := p.DropTablesOf(s, resources)
	if err := p.Drop(ctx, client, state, resources, false); err != nil {
		return nil, err
	}
	loadID, err := p.extract(ctx, state, nil)
	if err != nil {
		return nil, err
	}
	info := &LoadInfo{Rows: map[string]int64{}}
	return tables, p.normalizeAndLoad(ctx, client, loadID, info)
}

// Resources lists the resources that have tables in the schema.
func (p *Pipeline) Resources(s *schema.Schema) []string {
	var out []string
	for _, t := range s.DataTables() {
		if t.Parent == "" && t.Resource != "" {
			out = append(out, t.Resource)
		}
	}
	return out
}

// DropPendingPackages deletes the load packages that were extracted or
// normalized but not loaded (a package whose load keeps failing among
// them), as dlt's `dlt pipeline NAME drop-pending-packages` does, and
// returns their load ids, oldest first. Their records are not loaded and
// the state they carry (incremental cursors) is not kept: the state moves
// only when a package loads. Columns they added stay in the local schema;
// the destination gets them when a later load has them.
func (p *Pipeline) DropPendingPackages() ([]string, error) {
	unlock, err := p.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var dropped []string
	for _, stage := range []string{loadpackage.ExtractedDir, loadpackage.NormalizedDir} {
		ids, err := p.store.List(stage)
		if err != nil {
			return dropped, err
		}
		for _, id := range ids {
			if err := p.store.Discard(stage, id); err != nil {
				return dropped, fmt.Errorf("drop package %s: %w", id, err)
			}
			dropped = append(dropped, id)
		}
	}
	return dropped, nil
}
