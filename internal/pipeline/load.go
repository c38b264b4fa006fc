package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/loadpackage"
	"github.com/dlthub/dlthub/internal/schema"
)

// load loads a normalized package, moves it to the loaded stage and saves
// the state it carries.
func (p *Pipeline) load(ctx context.Context, client destination.Client, loadID string, held *heldLoad, info *LoadInfo) error {
	if held != nil {
		// Until client.Load takes it over, a failure rolls it back.
		defer func() {
			if held != nil {
				_ = held.early.Rollback()
			}
		}()
	}
	dir := p.store.PackageDir(loadpackage.NormalizedDir, loadID)
	m := &manifest{}
	if err := loadpackage.ReadJSON(filepath.Join(dir, loadpackage.ManifestFile), m); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	s := &schema.Schema{}
	if err := loadpackage.ReadJSON(filepath.Join(dir, loadpackage.SchemaFile), s); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	jobs, err := loadpackage.Jobs(filepath.Join(dir, loadpackage.NewJobs))
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	pkg := &destination.Package{LoadID: loadID, Schema: s, Files: map[string][]string{}, Replace: m.Replace}
	var size int64
	for _, j := range jobs {
		pkg.Files[j.Table] = append(pkg.Files[j.Table], j.Path)
		if fi, err := os.Stat(j.Path); err == nil {
			size += fi.Size()
		}
	}
	var rows int64
	for _, n := range m.Rows {
		rows += n
	}
	p.progress(Progress{Stage: "load", LoadID: loadID, Bytes: size, Total: rows})
	if m.State != nil && m.StateChanged {
		compressed, err := m.State.Compress()
		if err != nil {
			return err
		}
		pkg.State = &destination.StateRow{
			Version: m.State.StateVersion, EngineVersion: StateEngineVersion, PipelineName: p.opts.Name,
			State: compressed, CreatedAt: m.CreatedAt, VersionHash: m.State.VersionHash, LoadID: loadID,
		}
	}
	if h := p.opts.Hooks; h != nil && h.BeforeLoadCommit != nil {
		pkg.BeforeCommit = func() { h.BeforeLoadCommit(loadID) }
	}
	if held != nil {
		// Load finishes (or rolls back) the transaction on every path.
		pkg.Early, pkg.Loaded = held.early, held.loaded
		held = nil
	}
	if err := client.Load(ctx, pkg); err != nil {
		// Keep the package for the next run and say why it failed (shown
		// by `dlthub local pipeline failed-jobs`).
		_ = os.WriteFile(filepath.Join(dir, failedFile), []byte(err.Error()), 0o644)
		return fmt.Errorf("load package %s: %w", loadID, err)
	}
	_ = os.Remove(filepath.Join(dir, failedFile))
	if h := p.opts.Hooks; h != nil && h.AfterLoadCommit != nil {
		h.AfterLoadCommit(loadID)
	}
	if err := p.store.Commit(loadpackage.NormalizedDir, loadpackage.LoadedDir, loadID); err != nil {
		return err
	}
	if m.State != nil {
		if err := loadpackage.WriteJSON(filepath.Join(p.store.Dir, "state.json"), m.State); err != nil {
			return fmt.Errorf("save state: %w", err)
		}
	}
	info.LoadIDs = append(info.LoadIDs, loadID)
	for t, n := range m.Rows {
		info.Rows[t] += n
	}
	p.progress(Progress{Stage: "load", LoadID: loadID, Records: rows, Bytes: size, Total: rows, Done: true})
	return nil
}
