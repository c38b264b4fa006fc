// Package filesystem is the filesystem destination: each table is a folder
// of Parquet (default) or JSONL files laid out as dlt lays them out,
// <dataset>/<table>/<load_id>.<file_id>.<ext>, with dlt's system tables as
// files beside them. DuckDB (in memory) converts the load package's job files.
//
// A package is committed by writing its _dlt_loads file last; file names
// depend only on the load id, so a package reloaded after a crash overwrites
// its own files and nothing is loaded twice.
package filesystem

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/atomicfile"
	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/destination/duckdb"
	"github.com/dlthub/dlthub/internal/jobfile"
	"github.com/dlthub/dlthub/internal/schema"
)

// Layout is dlt's default layout setting, the one the destination writes:
// a folder per table below the dataset's.
const Layout = "{table_name}/{load_id}.{file_id}.{ext}"

// Formats the destination writes.
const (
	Parquet = "parquet"
	JSONL   = "jsonl"
)

// Client writes into <root>/<dataset>.
type Client struct {
	root    string
	dataset string
	format  string
	conv    *duckdb.Client
}

// Open prepares a filesystem destination at bucketURL (a local path or a
// file:// URL).
func Open(bucketURL, dataset, format string) (*Client, error) {
	root, err := localPath(bucketURL)
	if err != nil {
		return nil, err
	}
	switch format {
	case "":
		format = Parquet
	case Parquet, JSONL:
	default:
		return nil, fmt.Errorf("filesystem: unknown loader_file_format %q (parquet, jsonl)", format)
	}
	conv, err := duckdb.Open(":memory:", "main")
	if err != nil {
		return nil, err
	}
	return &Client{root: root, dataset: dataset, format: format, conv: conv}, nil
}

func localPath(u string) (string, error) {
	switch {
	case strings.HasPrefix(u, "file://"):
		return filepath.FromSlash(strings.TrimPrefix(u, "file://")), nil
	case strings.Contains(u, "://"):
		return "", fmt.Errorf("filesystem: bucket_url %q: only local paths and file:// URLs are supported in this build", u)
	case u == "":
		return "", errors.New("filesystem: bucket_url is empty")
	}
	return u, nil
}

// Capabilities implements destination.Client.
func (c *Client) Capabilities() destination.Capabilities {
	return destination.Capabilities{Transactions: false, JobFormats: []string{string(jobfile.Parquet), string(jobfile.CSV)}}
}

// Close implements destination.Client.
func (c *Client) Close() error { return c.conv.Close() }

func (c *Client) dir(table string) string { return filepath.Join(c.root, c.dataset, table) }

func (c *Client) loadsFile(schemaName, loadID string) string {
	return filepath.Join(c.dir(schema.LoadsTable), schemaName+"__"+loadID+".jsonl")
}

// IsLoaded implements destination.Client.
func (c *Client) IsLoaded(_ context.Context, loadID string) (bool, error) {
	matches, err := filepath.Glob(filepath.Join(c.dir(schema.LoadsTable), "*__"+loadID+".jsonl"))
	return len(matches) > 0, err
}

// loadedIDs are the load ids of the _dlt_loads files (loadsFile's
// <schema>__<load id>.jsonl), read in one listing.
func (c *Client) loadedIDs() (map[string]bool, error) {
	entries, err := os.ReadDir(c.dir(schema.LoadsTable))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	ids := make(map[string]bool, len(entries))
	for _, e := range entries {
		if i := strings.LastIndex(e.Name(), "__"); i >= 0 && strings.HasSuffix(e.Name(), ".jsonl") {
			ids[strings.TrimSuffix(e.Name()[i+2:], ".jsonl")] = true
		}
	}
	return ids, nil
}

// Load implements destination.Client.
func (c *Client) Load(ctx context.Context, p *destination.Package) error {
	if done, err := c.IsLoaded(ctx, p.LoadID); err != nil || done {
		return err
	}
	for _, t := range p.Schema.DataTables() {
		if len(p.Files[t.Name]) == 0 {
			continue
		}
		if root := p.Schema.Root(t); root.WriteDisposition == schema.Merge {
			return fmt.Errorf("filesystem: table %q: write disposition merge is not supported by the filesystem destination; use append or replace", root.Name)
		}
	}
	for _, root := range p.Replace {
		for _, t := range append([]*schema.Table{p.Schema.Table(root)}, p.Schema.Children(root)...) {
			if t == nil {
				continue
			}
			if err := removeOtherLoads(c.dir(t.Name), p.LoadID); err != nil {
				return err
			}
		}
	}
	ext := c.format
	for _, t := range p.Schema.DataTables() {
		files := p.Files[t.Name]
		if len(files) == 0 {
			continue
		}
		if err := os.MkdirAll(c.dir(t.Name), 0o755); err != nil {
			return fmt.Errorf("filesystem: %w", err)
		}
		src, err := duckdb.Source(files, t, false)
		if err != nil {
			return err
		}
		out := filepath.Join(c.dir(t.Name), p.LoadID+".0."+ext)
		if err := c.copyTo(ctx, `SELECT * FROM `+src, out); err != nil {
			return fmt.Errorf("filesystem: write %s: %w", out, err)
		}
	}
	now := time.Now().UTC()
	sj, err := p.Schema.StoredJSON()
	if err != nil {
		return err
	}
	versionFile := filepath.Join(c.dir(schema.VersionTable), p.Schema.Name+"__"+safe(p.Schema.VersionHash)+".jsonl")
	if _, err := os.Stat(versionFile); err != nil {
		if err := writeJSONL(versionFile, map[string]any{
			"version": p.Schema.Version, "engine_version": p.Schema.EngineVersion, "inserted_at": now,
			"schema_name": p.Schema.Name, "version_hash": p.Schema.VersionHash, "schema": string(sj),
		}); err != nil {
			return err
		}
	}
	if s := p.State; s != nil {
		f := filepath.Join(c.dir(schema.StateTable), s.PipelineName+"__"+p.LoadID+"__"+safe(s.VersionHash)+".jsonl")
		if err := writeJSONL(f, map[string]any{
			"version": s.Version, "engine_version": s.EngineVersion, "pipeline_name": s.PipelineName, "state": s.State,
			"created_at": s.CreatedAt, "version_hash": s.VersionHash, "_dlt_load_id": p.LoadID, "_dlt_id": destination.NewRowID(),
		}); err != nil {
			return err
		}
	}
	if p.BeforeCommit != nil {
		p.BeforeCommit()
	}
	// The _dlt_loads file commits the package.
	return writeJSONL(c.loadsFile(p.Schema.Name, p.LoadID), map[string]any{
		"load_id": p.LoadID, "schema_name": p.Schema.Name, "status": 0, "inserted_at": now, "schema_version_hash": p.Schema.VersionHash,
	})
}

// safe makes a hash usable in a file name.
func safe(s string) string {
	return strings.NewReplacer("/", "_", "+", "-", "=", "").Replace(s)
}

func (c *Client) copyTo(ctx context.Context, query, out string) error {
	format := "PARQUET"
	if c.format == JSONL {
		format = "JSON"
	}
	tmp := out + ".tmp"
	q := `COPY (` + query + `) TO ` + duckdb.Literal(tmp) + ` (FORMAT ` + format + `)`
	if _, err := c.conv.DB().ExecContext(ctx, q); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// removeOtherLoads deletes a table's files from earlier loads (replace).
func removeOtherLoads(dir, loadID string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), loadID+".") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("filesystem: replace: %w", err)
			}
		}
	}
	return nil
}

func writeJSONL(path string, row map[string]any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(row)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'), 0o644)
}

func readRows(dir string) ([]map[string]any, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".jsonl") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				return nil, fmt.Errorf("filesystem: %s: %w", e.Name(), err)
			}
			rows = append(rows, m)
		}
	}
	return rows, nil
}

// LatestState implements destination.Client.
// Only states of completed loads count (a _dlt_loads file names their
// load), as in dlt: the state file of a load that stopped before its
// _dlt_loads file was written is not one to continue from.
func (c *Client) LatestState(_ context.Context, pipelineName string) (*destination.StateRow, error) {
	rows, err := readRows(c.dir(schema.StateTable))
	if err != nil {
		return nil, err
	}
	loaded, err := c.loadedIDs()
	if err != nil {
		return nil, err
	}
	var best *destination.StateRow
	for _, r := range rows {
		if id, _ := r["_dlt_load_id"].(string); r["pipeline_name"] != pipelineName || !loaded[id] {
			continue
		}
		row := &destination.StateRow{PipelineName: pipelineName}
		row.State, _ = r["state"].(string)
		row.LoadID, _ = r["_dlt_load_id"].(string)
		row.VersionHash, _ = r["version_hash"].(string)
		if v, ok := r["version"].(float64); ok {
			row.Version = int64(v)
		}
		if best == nil || row.LoadID > best.LoadID {
			best = row
		}
	}
	return best, nil
}

// LatestSchema implements destination.Client.
func (c *Client) LatestSchema(_ context.Context, schemaName string) (*schema.Schema, error) {
	rows, err := readRows(c.dir(schema.VersionTable))
	if err != nil {
		return nil, err
	}
	sort.Slice(rows, func(i, j int) bool {
		vi, _ := rows[i]["version"].(float64)
		vj, _ := rows[j]["version"].(float64)
		return vi < vj
	})
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i]["schema_name"] != schemaName {
			continue
		}
		body, _ := rows[i]["schema"].(string)
		s := &schema.Schema{}
		if err := json.Unmarshal([]byte(body), s); err != nil {
			return nil, fmt.Errorf("filesystem: stored schema: %w", err)
		}
		return s, nil
	}
	return nil, nil
}

// DropTables implements destination.Client.
func (c *Client) DropTables(_ context.Context, tables []string) error {
	for _, t := range tables {
		if err := os.RemoveAll(c.dir(t)); err != nil {
			return fmt.Errorf("filesystem: drop %q: %w", t, err)
		}
	}
	return nil
}

// TruncateTables implements destination.Client.
func (c *Client) TruncateTables(ctx context.Context, tables []string) error {
	return c.DropTables(ctx, tables)
}

// Tables lists the table folders of the dataset (tests, inspection).
func (c *Client) Tables() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(c.root, c.dataset))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

// DB is the in-memory DuckDB used to convert files; it can query them.
func (c *Client) DB() *sql.DB { return c.conv.DB() }
