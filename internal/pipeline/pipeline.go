// Package pipeline runs dlt pipelines: extract records from resources into a
// load package, normalize it into typed relational rows, and load it into a
// destination, with packages on disk so an interrupted run is completed by
// the next one before anything new is extracted.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/destination/duckdb"
	"github.com/dlthub/dlthub/internal/destination/filesystem"
	"github.com/dlthub/dlthub/internal/destination/postgres"
	"github.com/dlthub/dlthub/internal/loadpackage"
	"github.com/dlthub/dlthub/internal/naming"
	"github.com/dlthub/dlthub/internal/schema"
)

// Options configure a pipeline.
type Options struct {
	// Name: letters, digits, "-" and "_".
	Name string
	// Destination is a destination type ("duckdb") or a named destination
	// ("warehouse") resolved through configuration.
	Destination string
	// Dataset defaults to <name>_dataset.
	Dataset string
	// PipelinesDir holds the working dirs: <PipelinesDir>/<name>.
	PipelinesDir string
	// LocalDir holds locally loaded data (the DuckDB file).
	LocalDir string
	// Resolver reads destination settings; nil uses defaults only.
	Resolver *config.Resolver
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// Hooks stop a run at exact points; crash-safety tests kill the
	// process from them.
	Hooks *Hooks
	// Refresh, for the next run: drop_sources, drop_resources or drop_data.
	Refresh string
	// FileMaxRows is how many rows a job file holds before its table's
	// next file starts (dlt's normalize.data_writer.file_max_items, which
	// is read when this is 0); a destination that can (DuckDB, PostgreSQL)
	// then loads finished files of appended tables while later rows are
	// still being normalized. Below 0: one file per table.
	FileMaxRows int64
	// NormalizeWorkers is how many goroutines normalize a large extracted
	// file, in pieces (dlt's normalize.workers, which is read when this is
	// 0; its default here is one per two cores). 1 normalizes on one
	// goroutine (with parsing and encoding on others).
	NormalizeWorkers int
	// NormalizeChunkBytes is the size of the pieces a file is normalized
	// in by several workers (0: 32 MiB; a file of less than two pieces is
	// normalized by one). Tests make it small to cut every file.
	NormalizeChunkBytes int64
	// OnProgress, when set, hears about the run as it goes: each stage as
	// it starts and ends, and every 1,000 records extracted or normalized
	// (and every page fetched). It is called on the run's goroutine and
	// must return quickly; showing progress (and throttling that) is the
	// caller's business.
	OnProgress func(Progress)
}

// Progress is a progress event. A stage's events end with one that has
// Done set, unless the stage failed.
type Progress struct {
	Stage    string // extract, normalize, load
	Resource string // during extract
	LoadID   string
	// Records: extract: records extracted so far; normalize: records
	// normalized so far; load: rows loaded (when Done).
	Records int64
	// Rows: normalize: rows written so far, child tables' rows included.
	Rows int64
	// Bytes: extract: bytes extracted so far; normalize: bytes of the
	// normalized files written so far; load: bytes of the package's files.
	Bytes int64
	// Total is what the stage works through when known (0: unknown):
	// normalize: the records to normalize; load: the rows to load.
	Total int64
	Pages int64 // pages fetched so far, for sources that page
	Done  bool
}

// progressEvery is how many records pass between progress events.
const progressEvery = 1000

func (p *Pipeline) progress(ev Progress) {
	if p.opts.OnProgress != nil {
		p.opts.OnProgress(ev)
	}
}

// Hooks are called at the points where a crash is most interesting.
type Hooks struct {
	// ExtractRecord is called after each extracted record.
	ExtractRecord func(n int64)
	// AfterExtract is called once a package is committed as extracted.
	AfterExtract func(loadID string)
	// NormalizeRecord is called after each normalized record.
	NormalizeRecord func(n int64)
	// EarlyLoad is called, on the loader's goroutine, after a finished job
	// file went into the open load transaction while normalizing goes on.
	EarlyLoad func(table, path string)
	// BeforeLoadCommit is called inside the load transaction, after all
	// data is written and before it commits.
	BeforeLoadCommit func(loadID string)
	// AfterLoadCommit is called after the load committed and before the
	// package moves to loaded.
	AfterLoadCommit func(loadID string)
}

// Pipeline is an opened pipeline.
type Pipeline struct {
	opts    Options
	store   *loadpackage.Store
	dest    config.Destination
	naming  *naming.SnakeCase
	dataset string
	// schemaName is the default schema its state names, once read.
	schemaName string
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// New validates options and prepares the working dir.
func New(o Options) (*Pipeline, error) {
	p, err := Configured(o)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(p.store.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("pipeline %s: create working dir: %w", o.Name, err)
	}
	return p, nil
}

// Configured is the pipeline its options and configuration describe,
// without touching its working dir: to read back the dataset of a
// pipeline that never ran here (a declared pipeline in a worker's fresh
// checkout, whose runs loaded elsewhere), creating nothing.
func Configured(o Options) (*Pipeline, error) {
	if !validName.MatchString(o.Name) {
		return nil, fmt.Errorf("invalid pipeline name %q: use letters, digits, '-' and '_'", o.Name)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Destination == "" {
		o.Destination = "duckdb"
	}
	r := o.Resolver
	if r == nil {
		r = &config.Resolver{}
	}
	dest, err := r.ResolveDestination(o.Name, o.Destination)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(config.DestinationTypes(), dest.Type) {
		return nil, fmt.Errorf("destination %q has type %s, which this build cannot load into yet (available: %s)", o.Destination, dest.Type, strings.Join(config.DestinationTypes(), ", "))
	}
	maxLen := 0
	if dest.Type == "postgres" {
		maxLen = postgres.MaxIdentifierLength
	}
	n := naming.NewSnakeCase(maxLen)
	dataset := o.Dataset
	if dataset == "" {
		dataset = o.Name + "_dataset"
	}
	ds, err := n.NormalizeIdentifier(dataset)
	if err != nil {
		return nil, fmt.Errorf("dataset name: %w", err)
	}
	dir := filepath.Join(o.PipelinesDir, o.Name)
	return &Pipeline{opts: o, store: &loadpackage.Store{Dir: dir}, dest: dest, naming: n, dataset: ds}, nil
}

// Name is the pipeline's name.
func (p *Pipeline) Name() string { return p.opts.Name }

// Dataset is the normalized dataset name.
func (p *Pipeline) Dataset() string { return p.dataset }

// WorkDir is the pipeline's working directory.
func (p *Pipeline) WorkDir() string { return p.store.Dir }

// SchemaName is the pipeline's default schema: the one its state names,
// else its normalized name. dlt names a source's schema after the source
// (a pipeline running @dlt.source def github() stores schema "github"),
// so a pipeline dlt ran keeps its schema, and the resources' state under
// it, when the engine loads on.
func (p *Pipeline) SchemaName() string {
	if p.schemaName != "" {
		return p.schemaName
	}
	var st struct {
		Default string `json:"default_schema_name"`
	}
	if loadpackage.ReadJSON(filepath.Join(p.store.Dir, "state.json"), &st) == nil && st.Default != "" {
		p.schemaName = st.Default
		return st.Default
	}
	s, _ := p.naming.NormalizeIdentifier(p.opts.Name)
	return s
}

// DatabasePath is where the DuckDB file lives: credentials from
// destination.<name>.credentials (a path, or a table with database), else
// <local_dir>/<pipeline>.duckdb.
func (p *Pipeline) DatabasePath() (string, error) {
	r := p.opts.Resolver
	if r != nil {
		k := config.Key{Pipeline: p.opts.Name, Fixed: []string{"destination", p.dest.Name}, Name: "credentials", Secret: true}
		res, err := r.Lookup(k)
		if err != nil {
			return "", err
		}
		if res.Found {
			switch v := res.Value.(type) {
			case string:
				return p.localPath(strings.TrimPrefix(v, "duckdb:///")), nil
			case map[string]any:
				if db, ok := v["database"].(string); ok {
					return p.localPath(db), nil
				}
			}
			return "", fmt.Errorf("%s: credentials for duckdb must be a file path or a table with database", res.Winner.Origin)
		}
	}
	return filepath.Join(p.opts.LocalDir, p.opts.Name+".duckdb"), nil
}

// Location says where the pipeline's data lives, for people to read: the
// DuckDB file, the MotherDuck database, the PostgreSQL server and database
// or the filesystem bucket, never with a password or token (a connection
// string in the credentials is taken apart, not printed).
func (p *Pipeline) Location() string {
	switch p.dest.Type {
	case "postgres":
		var cfg struct {
			Credentials postgres.Credentials `config:"credentials"`
		}
		cfg.Credentials.Port = 5432
		if p.opts.Resolver == nil || p.opts.Resolver.Decode(p.opts.Name, p.dest.Sections, &cfg) != nil {
			return "(credentials not configured)"
		}
		c := cfg.Credentials
		return fmt.Sprintf("postgresql://%s@%s:%d/%s", c.Username, c.Host, c.Port, c.Database)
	case "filesystem":
		url, err := p.setting("bucket_url", p.opts.LocalDir)
		if err != nil {
			return "(bucket_url not configured)"
		}
		return redactURL(url)
	}
	path, err := p.DatabasePath()
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return redactURL(path)
}

// redactURL drops what may carry a secret from a path or URL: user
// information and the query (motherduck_token=…).
func redactURL(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		if at := strings.LastIndexByte(rest, '@'); at >= 0 && (strings.IndexByte(rest, '/') < 0 || at < strings.IndexByte(rest, '/')) {
			rest = rest[at+1:]
		}
		return scheme + "://" + rest
	}
	return s
}

func (p *Pipeline) localPath(db string) string {
	if db == ":memory:" || filepath.IsAbs(db) || strings.HasPrefix(db, "md:") {
		return db
	}
	return filepath.Join(p.opts.LocalDir, db)
}

// OpenDestination opens the destination client.
func (p *Pipeline) OpenDestination() (destination.Client, error) {
	if p.dest.Type == "postgres" {
		dsn, err := p.postgresDSN()
		if err != nil {
			return nil, err
		}
		return postgres.Open(context.Background(), dsn, p.dataset)
	}
	if p.dest.Type == "motherduck" {
		var cfg struct {
			Credentials duckdb.MotherDuckCredentials `config:"credentials"`
		}
		if p.opts.Resolver != nil {
			if err := p.opts.Resolver.Decode(p.opts.Name, p.dest.Sections, &cfg); err != nil {
				return nil, fmt.Errorf("destination %q: %w", p.dest.Name, err)
			}
		}
		return duckdb.OpenMotherDuck(cfg.Credentials, p.dataset)
	}
	if p.dest.Type == "filesystem" {
		url, err := p.bucketURL()
		if err != nil {
			return nil, err
		}
		format, err := p.setting("loader_file_format", filesystem.Parquet)
		if err != nil {
			return nil, err
		}
		// dlt's layout setting moves every file; written at the default
		// paths instead, a dataset would split between two layouts.
		if layout, err := p.setting("layout", filesystem.Layout); err != nil {
			return nil, err
		} else if layout != filesystem.Layout {
			return nil, fmt.Errorf("destination %q: layout = %q: the engine writes dlt's default layout %s only, and would put these files elsewhere than dlt: remove the setting, or run this pipeline with Python dlt", p.dest.Name, layout, filesystem.Layout)
		}
		return filesystem.Open(url, p.dataset, format)
	}
	path, err := p.DatabasePath()
	if err != nil {
		return nil, err
	}
	return duckdb.Open(path, p.dataset)
}

// postgresDSN is a postgres destination's connection string, password
// included: hand it to a driver, never print it.
func (p *Pipeline) postgresDSN() (string, error) {
	if p.opts.Resolver == nil {
		return "", fmt.Errorf("destination %q: postgres needs credentials from configuration", p.dest.Name)
	}
	var cfg struct {
		Credentials postgres.Credentials `config:"credentials"`
	}
	cfg.Credentials.Port = 5432
	if err := p.opts.Resolver.Decode(p.opts.Name, p.dest.Sections, &cfg); err != nil {
		return "", fmt.Errorf("destination %q: %w", p.dest.Name, err)
	}
	return cfg.Credentials.DSN(), nil
}

// bucketURL is a filesystem destination's bucket_url, a relative path
// taken from the local dir.
func (p *Pipeline) bucketURL() (string, error) {
	url, err := p.setting("bucket_url", p.opts.LocalDir)
	if err != nil {
		return "", err
	}
	if !strings.Contains(url, "://") {
		url = p.localPath(url)
	}
	return url, nil
}

// setting reads destination.<name>.<key> (pipeline-scoped first).
func (p *Pipeline) setting(key, def string) (string, error) {
	if p.opts.Resolver == nil {
		return def, nil
	}
	res, err := p.opts.Resolver.Lookup(config.Key{Pipeline: p.opts.Name, Fixed: []string{"destination", p.dest.Name}, Name: key})
	if err != nil || !res.Found {
		return def, err
	}
	v, ok := res.Value.(string)
	if !ok {
		return "", fmt.Errorf("%s: destination.%s.%s must be a string", res.Winner.Origin, p.dest.Name, key)
	}
	return v, nil
}

// LoadInfo summarises one run.
type LoadInfo struct {
	Pipeline string `json:"pipeline"`
	Dataset  string `json:"dataset"`
	// LoadIDs are the packages loaded by this run, pending ones first.
	LoadIDs []string `json:"load_ids"`
	// Rows per table over all packages of this run.
	Rows    map[string]int64 `json:"rows"`
	Extract time.Duration    `json:"extract_ns"`
	Normal  time.Duration    `json:"normalize_ns"`
	Load    time.Duration    `json:"load_ns"`
}

// LoadID is the id of the package this run extracted ("" when it only
// finished pending packages or had nothing to extract).
func (i *LoadInfo) LoadID() string {
	if len(i.LoadIDs) == 0 {
		return ""
	}
	return i.LoadIDs[len(i.LoadIDs)-1]
}

// Run finishes pending packages, then extracts, normalizes and loads the
// resources.
func (p *Pipeline) Run(ctx context.Context, resources ...*Resource) (info *LoadInfo, err error) {
	started := p.opts.Now()
	defer func() { p.writeTrace(started, info, err) }()
	info = &LoadInfo{Pipeline: p.opts.Name, Dataset: p.dataset, Rows: map[string]int64{}}
	unlock, err := p.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := p.store.Recover(); err != nil {
		return nil, err
	}
	client, err := p.OpenDestination()
	if err != nil {
		return nil, err
	}
	defer func() { _ = client.Close() }()
	if err := p.finishPending(ctx, client, info); err != nil {
		return info, err
	}
	if len(resources) == 0 {
		return info, nil
	}
	// The state first: a state restored from the destination names the
	// schema the rest of the run reads.
	state, err := p.loadState(ctx, client)
	if err != nil {
		return info, err
	}
	if err := p.checkNaming(ctx, client); err != nil {
		return info, err
	}
	if p.opts.Refresh != "" {
		if err := p.refresh(ctx, client, state, resources); err != nil {
			return info, err
		}
	}
	t0 := time.Now()
	loadID, err := p.extract(ctx, state, resources)
	info.Extract += time.Since(t0)
	if err != nil {
		return info, err
	}
	if err := p.normalizeAndLoad(ctx, client, loadID, info); err != nil {
		return info, err
	}
	return info, nil
}

func (p *Pipeline) finishPending(ctx context.Context, client destination.Client, info *LoadInfo) error {
	extracted, err := p.store.List(loadpackage.ExtractedDir)
	if err != nil {
		return err
	}
	for _, id := range extracted {
		if err := p.normalizeAndLoad(ctx, client, id, info); err != nil {
			return p.pendingError(id, err)
		}
	}
	normalized, err := p.store.List(loadpackage.NormalizedDir)
	if err != nil {
		return err
	}
	for _, id := range normalized {
		t0 := time.Now()
		err := p.load(ctx, client, id, nil, info)
		info.Load += time.Since(t0)
		if err != nil {
			return p.pendingError(id, err)
		}
	}
	return nil
}

// pendingError is the error of a pending package that did not load: every
// run tries it first, so the user is told how to drop it.
func (p *Pipeline) pendingError(id string, err error) error {
	var de *DataError
	if errors.As(err, &de) || ctxErr(err) {
		return fmt.Errorf("finish pending package %s: %w", id, err)
	}
	return fmt.Errorf("finish pending package %s: %w (every run retries it first; if the destination will never take it, `dlthub local pipeline drop-pending-packages %s` drops it and its state)", id, err, p.opts.Name)
}

// ctxErr reports a cancelled or timed-out run.
func ctxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (p *Pipeline) normalizeAndLoad(ctx context.Context, client destination.Client, loadID string, info *LoadInfo) error {
	t0 := time.Now()
	held, err := p.normalize(ctx, client, loadID)
	info.Normal += time.Since(t0)
	if err != nil {
		return err
	}
	t0 = time.Now()
	err = p.load(ctx, client, loadID, held, info)
	info.Load += time.Since(t0)
	return err
}

// loadState reads local state, or the destination's when the working dir
// was lost.
func (p *Pipeline) loadState(ctx context.Context, client destination.Client) (*State, error) {
	path := filepath.Join(p.store.Dir, "state.json")
	st := &State{}
	err := loadpackage.ReadJSON(path, st)
	if err == nil {
		return st, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read pipeline state: %w", err)
	}
	row, err := client.LatestState(ctx, p.opts.Name)
	if err != nil {
		return nil, err
	}
	if row != nil {
		st, err := DecompressState(row.State)
		if err != nil {
			return nil, err
		}
		if st.DefaultSchemaName != "" {
			p.schemaName = st.DefaultSchemaName
		}
		return st, nil
	}
	return &State{PipelineName: p.opts.Name, DatasetName: p.dataset, DefaultSchemaName: p.SchemaName(), SchemaNames: []string{p.SchemaName()},
		Destination: p.dest.Name, DestinationType: p.dest.Type, EngineVersion: StateEngineVersion, Sources: map[string]any{}}, nil
}

// checkNaming refuses, before anything is extracted, a run whose tables
// dlt would name or type by rules the engine does not implement: dlt's
// schema.naming set to another convention than snake_case, or a stored
// schema (this pipeline's, or the one dlt left in the destination) made
// with one (schema.Supported).
func (p *Pipeline) checkNaming(ctx context.Context, client destination.Client) error {
	if p.opts.Resolver != nil {
		res, err := p.opts.Resolver.Lookup(config.Key{Pipeline: p.opts.Name, Sections: []string{"schema"}, Name: "naming"})
		if err != nil {
			return err
		}
		if res.Found {
			switch v := res.Value.(type) {
			case string:
				if v == "snake_case" || v == "dlt.common.normalizers.naming.snake_case" {
					break
				}
				return fmt.Errorf("%s: schema.naming = %q: the engine names tables and columns as dlt's snake_case does, and would name these otherwise than dlt: remove the setting, or run this pipeline with Python dlt", res.Winner.Origin, v)
			default:
				return fmt.Errorf("%s: schema.naming must be the name of a naming convention (the engine implements snake_case), not %v", res.Winner.Origin, v)
			}
		}
	}
	s, err := p.loadSchema(ctx, client)
	if err != nil {
		return err
	}
	return s.Supported()
}

// loadSchema reads the local schema, or the destination's, or starts one.
func (p *Pipeline) loadSchema(ctx context.Context, client destination.Client) (*schema.Schema, error) {
	path := p.schemaPath()
	s := &schema.Schema{}
	err := loadpackage.ReadJSON(path, s)
	if err == nil {
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	stored, err := client.LatestSchema(ctx, p.SchemaName())
	if err != nil {
		return nil, err
	}
	if stored != nil {
		return stored, nil
	}
	return schema.New(p.SchemaName()), nil
}

func (p *Pipeline) saveSchema(s *schema.Schema) error {
	if err := os.MkdirAll(filepath.Dir(p.schemaPath()), 0o755); err != nil {
		return err
	}
	return loadpackage.WriteJSON(p.schemaPath(), s)
}

func (p *Pipeline) schemaPath() string {
	return filepath.Join(p.store.Dir, "schemas", p.SchemaName()+".schema.json")
}

// Schema returns the pipeline's current local schema (nil if none yet).
func (p *Pipeline) Schema() (*schema.Schema, error) {
	s := &schema.Schema{}
	err := loadpackage.ReadJSON(p.schemaPath(), s)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return s, err
}
