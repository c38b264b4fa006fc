package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/loadpackage"
	"github.com/dlthub/dlthub/internal/schema"
)

// manifest is package.json: what a package holds and the state it commits.
type manifest struct {
	LoadID     string             `json:"load_id"`
	SchemaName string             `json:"schema_name"`
	CreatedAt  time.Time          `json:"created_at"`
	Resources  []resourceManifest `json:"resources"`
	// State is the pipeline state after this package; it is stored with
	// the load and saved locally once the load commits.
	State *State `json:"state"`
	// StateChanged: only a changed state is written to the destination.
	StateChanged bool `json:"state_changed"`
	// Replace and Rows are filled in by normalize.
	Replace []string         `json:"replace,omitempty"`
	Rows    map[string]int64 `json:"rows,omitempty"`
}

// records is how many records the package's resources extracted.
func (m *manifest) records() int64 {
	var n int64
	for _, r := range m.Resources {
		n += r.Records
	}
	return n
}

type resourceManifest struct {
	Name             string              `json:"name"`
	Table            string              `json:"table"`
	WriteDisposition string              `json:"write_disposition,omitempty"`
	MergeStrategy    string              `json:"merge_strategy,omitempty"`
	SCD2             *schema.SCD2Options `json:"scd2,omitempty"`
	PrimaryKey       []string            `json:"primary_key,omitempty"`
	MergeKey         []string            `json:"merge_key,omitempty"`
	Columns          []*schema.Column    `json:"columns,omitempty"`
	MaxNesting       *int                `json:"max_nesting,omitempty"`
	Contract         *schema.Contract    `json:"schema_contract,omitempty"`
	File             string              `json:"file"`
	Records          int64               `json:"records"`
}

// extract writes every resource's records, as JSON lines, into a new package
// and commits it to the extracted stage. Resource state changes are part of
// the package.
func (p *Pipeline) extract(ctx context.Context, state *State, resources []*Resource) (string, error) {
	loadID := loadpackage.NewLoadID(p.opts.Now())
	dir, err := p.store.Begin(loadpackage.ExtractingDir, loadID)
	if err != nil {
		return "", fmt.Errorf("extract: %w", err)
	}
	m := &manifest{LoadID: loadID, SchemaName: p.SchemaName(), CreatedAt: p.opts.Now().UTC()}
	seen := map[string]bool{}
	for i, r := range resources {
		if r.Name == "" {
			return "", fmt.Errorf("extract: resource %d has no name", i)
		}
		if seen[r.Name] {
			return "", fmt.Errorf("extract: two resources are named %q", r.Name)
		}
		seen[r.Name] = true
		rm, err := p.extractResource(ctx, dir, state, r, i)
		if err != nil {
			_ = p.store.Discard(loadpackage.ExtractingDir, loadID)
			return "", err
		}
		m.Resources = append(m.Resources, rm)
	}
	m.StateChanged = state.Bump()
	m.State = state
	if err := loadpackage.WriteJSON(filepath.Join(dir, loadpackage.ManifestFile), m); err != nil {
		return "", fmt.Errorf("extract: %w", err)
	}
	if err := p.store.Commit(loadpackage.ExtractingDir, loadpackage.ExtractedDir, loadID); err != nil {
		return "", fmt.Errorf("extract: %w", err)
	}
	if h := p.opts.Hooks; h != nil && h.AfterExtract != nil {
		h.AfterExtract(loadID)
	}
	return loadID, nil
}

func (p *Pipeline) extractResource(ctx context.Context, dir string, state *State, r *Resource, idx int) (resourceManifest, error) {
	table, err := p.naming.NormalizeTableIdentifier(r.TableName())
	if err != nil {
		return resourceManifest{}, fmt.Errorf("resource %q: table name: %w", r.Name, err)
	}
	rm := resourceManifest{
		Name: r.Name, Table: table, WriteDisposition: r.WriteDisposition, MergeStrategy: r.MergeStrategy,
		MaxNesting: r.MaxNesting, Contract: r.Contract,
		File: fmt.Sprintf("%s.%d.0.jsonl", table, idx),
	}
	for _, k := range r.PrimaryKey {
		rm.PrimaryKey = append(rm.PrimaryKey, p.normColumn(k))
	}
	for _, k := range r.MergeKey {
		rm.MergeKey = append(rm.MergeKey, p.normColumn(k))
	}
	for _, c := range r.Columns {
		cc := *c
		cc.Name = p.normColumn(c.Name)
		if cc.DataType != "" && !cc.DataType.Valid() {
			return rm, fmt.Errorf("resource %q: column %q: unknown data type %q", r.Name, c.Name, c.DataType)
		}
		rm.Columns = append(rm.Columns, &cc)
	}
	if r.Incremental != nil {
		// As dlt, hint the cursor column when the path is one field.
		if field, ok := simpleField(r.Incremental.CursorPath); ok {
			name := p.normColumn(field)
			i := slices.IndexFunc(rm.Columns, func(c *schema.Column) bool { return c.Name == name })
			if i < 0 {
				rm.Columns = append(rm.Columns, &schema.Column{Name: name, Nullable: true})
				i = len(rm.Columns) - 1
			}
			rm.Columns[i].Incremental = true
		}
	}
	switch r.WriteDisposition {
	case "", schema.Append, schema.Replace, schema.Merge:
	default:
		return rm, fmt.Errorf("resource %q: unknown write_disposition %q (append, replace, merge)", r.Name, r.WriteDisposition)
	}
	switch r.MergeStrategy {
	case "", schema.DeleteInsert, schema.SCD2:
	case schema.Upsert, schema.InsertOnly:
		if len(r.PrimaryKey) == 0 {
			return rm, fmt.Errorf("resource %q: merge strategy %s needs a primary_key", r.Name, r.MergeStrategy)
		}
	default:
		return rm, fmt.Errorf("resource %q: unknown merge strategy %q (delete-insert, upsert, scd2, insert-only)", r.Name, r.MergeStrategy)
	}
	if r.WriteDisposition == schema.Merge && p.dest.Type == "filesystem" {
		return rm, fmt.Errorf("resource %q: the filesystem destination supports append and replace, not merge", r.Name)
	}
	if r.MergeStrategy != "" && r.WriteDisposition != schema.Merge {
		return rm, fmt.Errorf("resource %q: merge strategy %q needs write_disposition merge", r.Name, r.MergeStrategy)
	}
	if r.SCD2 != nil {
		if r.MergeStrategy != schema.SCD2 {
			return rm, fmt.Errorf("resource %q: scd2 options (validity columns, active record and boundary timestamps) need merge strategy scd2, not %q", r.Name, r.MergeStrategy)
		}
		if err := r.SCD2.Check(); err != nil {
			return rm, fmt.Errorf("resource %q: %w", r.Name, err)
		}
		o := *r.SCD2
		if o.ValidFrom != "" {
			o.ValidFrom, o.ValidTo = p.normColumn(o.ValidFrom), p.normColumn(o.ValidTo)
			if o.ValidFrom == o.ValidTo {
				return rm, fmt.Errorf("resource %q: scd2 validity columns %q and %q are both named %q once normalized", r.Name, r.SCD2.ValidFrom, r.SCD2.ValidTo, o.ValidFrom)
			}
		}
		rm.SCD2 = &o
	}
	w, err := loadpackage.CreateDirect(filepath.Join(dir, rm.File))
	if err != nil {
		return rm, fmt.Errorf("extract %q: %w", r.Name, err)
	}
	if r.WriteDisposition == schema.Replace {
		// As dlt: a replace resource loads everything again, so it
		// starts from no state; an incremental one from its initial
		// value, not from where the table it replaces stopped.
		state.resetResourceState(p.SchemaName(), r.Name)
	}
	rstate := state.resourceState(p.SchemaName(), r.Name)
	rc := &ResourceContext{State: rstate}
	if r.Incremental != nil {
		if rc.Incremental, err = newCursor(r.Incremental, rstate, r.Name, r.PrimaryKey); err != nil {
			_ = w.Close()
			return rm, err
		}
	}
	var buf []byte
	var n, seen, lastPages int64
	p.progress(Progress{Stage: "extract", Resource: r.Name})
	for rec, err := range r.Records(ctx, rc) {
		if err != nil {
			_ = w.Close()
			return rm, fmt.Errorf("resource %q: %w", r.Name, err)
		}
		if ctx.Err() != nil {
			_ = w.Close()
			return rm, ctx.Err()
		}
		seen++
		if rc.Incremental != nil {
			var keep bool
			rec, keep, err = rc.Incremental.filter(rec, seen-1)
			if err != nil {
				_ = w.Close()
				return rm, fmt.Errorf("resource %q: %w", r.Name, err)
			}
			if !keep {
				continue
			}
		}
		if rc.OnKept != nil {
			rc.OnKept(rec)
		}
		line, isRaw := rec.(jsonx.Raw) // written as is, without a copy
		if !isRaw || bytes.IndexByte(line, '\n') >= 0 || bytes.IndexByte(line, '\r') >= 0 {
			buf, err = jsonx.Append(buf[:0], rec)
			if err != nil {
				_ = w.Close()
				return rm, fmt.Errorf("resource %q record %d: cannot encode as JSON: %w", r.Name, n, err)
			}
			line = buf
		}
		if err := w.WriteLine(line); err != nil {
			_ = w.Close()
			return rm, fmt.Errorf("extract %q: %w", r.Name, err)
		}
		n++
		if h := p.opts.Hooks; h != nil && h.ExtractRecord != nil {
			h.ExtractRecord(n)
		}
		if n%progressEvery == 0 || (rc.Pages > 0 && rc.Pages != lastPages) {
			lastPages = rc.Pages
			p.progress(Progress{Stage: "extract", Resource: r.Name, Records: n, Bytes: w.Bytes, Pages: rc.Pages})
		}
	}
	p.progress(Progress{Stage: "extract", Resource: r.Name, Records: n, Bytes: w.Bytes, Pages: rc.Pages, Done: true})
	rm.Records = n
	if err := w.Close(); err != nil {
		return rm, fmt.Errorf("extract %q: %w", r.Name, err)
	}
	if rc.Incremental != nil {
		rc.Incremental.save(rstate)
	}
	return rm, nil
}

// simpleField is the field a cursor path names when it is one top-level
// field ("updated_at", "$.updated_at"), as dlt's extract_simple_field_name.
func simpleField(path string) (string, bool) {
	path = strings.TrimPrefix(path, "$.")
	if path == "" || strings.ContainsAny(path, ".[]*$'\"") {
		return "", false
	}
	return path, true
}

func (p *Pipeline) normColumn(name string) string {
	n, err := p.naming.NormalizePath(name)
	if err != nil {
		return name
	}
	return n
}

// ErrNothingToLoad is returned by steps that found no package.
var ErrNothingToLoad = errors.New("nothing to load")
