// Package dlt is the Go SDK of dlthub: define resources as Go iterators with
// dlt's hints, and run them through the same engine the CLI and the
// declarative pipelines use. Pipelines land data exactly where and how Python
// dlt would: the same tables, child tables, system columns and state.
//
//	p, err := dlt.NewPipeline(dlt.Options{Name: "github", Destination: "warehouse"})
//	info, err := p.Run(ctx, &dlt.Resource{
//		Name:             "issues",
//		WriteDisposition: dlt.Merge,
//		PrimaryKey:       []string{"id"},
//		Records:          dlt.Static(issues...),
//	})
package dlt

import (
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/schema"
	"github.com/dlthub/dlthub/internal/workspace"
)

// Resource is a named stream of records with loading hints.
type Resource = pipeline.Resource

// ResourceContext is what a resource sees while it runs: its state and its
// incremental window.
type ResourceContext = pipeline.ResourceContext

// Incremental loads only records past the last run's cursor.
type Incremental = pipeline.Incremental

// Cursor is an incremental's window for one run.
type Cursor = pipeline.Cursor

// Column declares a column's type and hints.
type Column = schema.Column

// Contract sets schema contract modes for tables, columns and data types.
type Contract = schema.Contract

// SCD2Options are the scd2 merge strategy's options (dlt's
// validity_column_names, active_record_timestamp, boundary_timestamp).
type SCD2Options = schema.SCD2Options

// LoadInfo summarises a run.
type LoadInfo = pipeline.LoadInfo

// Raw is a record given as JSON text (line breaks between tokens are fine:
// it is written to the extract file on one line).
type Raw = jsonx.Raw

// Object is a JSON object that keeps its key order (and so column order).
type Object = jsonx.Object

// Write dispositions.
const (
	Append  = schema.Append
	Replace = schema.Replace
	Merge   = schema.Merge
)

// Merge strategies.
const (
	DeleteInsert = schema.DeleteInsert
	Upsert       = schema.Upsert
	SCD2         = schema.SCD2
	InsertOnly   = schema.InsertOnly
)

// Schema contract modes.
const (
	Evolve       = schema.Evolve
	Freeze       = schema.Freeze
	DiscardRow   = schema.DiscardRow
	DiscardValue = schema.DiscardValue
)

// Data types.
const (
	Text      = schema.Text
	Double    = schema.Double
	Bool      = schema.Bool
	Timestamp = schema.Timestamp
	Bigint    = schema.Bigint
	Binary    = schema.Binary
	JSON      = schema.JSON
	Decimal   = schema.Decimal
	Date      = schema.Date
	Time      = schema.Time
)

// Options configure a pipeline.
type Options struct {
	// Name of the pipeline: letters, digits, "-" and "_".
	Name string
	// Destination is a type ("duckdb") or a named destination
	// ("warehouse") from the workspace configuration. Default: duckdb.
	Destination string
	// Dataset defaults to <name>_dataset.
	Dataset string
	// Profile overrides the active profile.
	Profile string
	// Dir is where to look for the workspace (default: the current
	// directory, searching upward). Outside a workspace, pipelines live in
	// ~/.dlt/pipelines and DuckDB files in the current directory.
	Dir string
}

// Pipeline runs resources.
type Pipeline struct {
	p *pipeline.Pipeline
}

// NewPipeline opens a pipeline in the workspace's active profile.
func NewPipeline(o Options) (*Pipeline, error) {
	cwd := o.Dir
	if cwd == "" {
		var err error
		if cwd, err = os.Getwd(); err != nil {
			return nil, err
		}
	}
	home, _ := os.UserHomeDir()
	env := workspace.Env{LookupEnv: os.LookupEnv, Cwd: cwd, Home: home}
	popts := pipeline.Options{Name: o.Name, Destination: o.Destination, Dataset: o.Dataset}
	ws, err := workspace.Find(env)
	if err == nil {
		prof, err := workspace.ActiveProfile(ws, env, o.Profile)
		if err != nil {
			return nil, err
		}
		r, err := ws.Resolver(env, prof, func(msg string) { fmt.Fprintln(os.Stderr, "Warning: "+msg) })
		if err != nil {
			return nil, err
		}
		dirs := ws.Dirs(env, r, prof.Name)
		popts.Resolver = r
		popts.PipelinesDir = filepath.Join(dirs.Data, "pipelines")
		popts.LocalDir = dirs.Local
	} else {
		r, err := config.New(config.Options{GlobalDir: env.GlobalDir(), Profile: workspace.ProfileDev, LookupEnv: os.LookupEnv, SecretsDir: config.DefaultSecretsDir})
		if err != nil {
			return nil, err
		}
		popts.Resolver = r
		popts.PipelinesDir = filepath.Join(env.GlobalDir(), "pipelines")
		popts.LocalDir = cwd
	}
	p, err := pipeline.New(popts)
	if err != nil {
		return nil, err
	}
	return &Pipeline{p: p}, nil
}

// Run finishes any pending load packages, then extracts, normalizes and
// loads the resources.
func (p *Pipeline) Run(ctx context.Context, resources ...*Resource) (*LoadInfo, error) {
	return p.p.Run(ctx, resources...)
}

// Name is the pipeline's name.
func (p *Pipeline) Name() string { return p.p.Name() }

// Dataset is the dataset the pipeline loads into.
func (p *Pipeline) Dataset() string { return p.p.Dataset() }

// DatabasePath is the DuckDB file the pipeline loads into.
func (p *Pipeline) DatabasePath() (string, error) { return p.p.DatabasePath() }

// Static yields the given records, for resources whose data is at hand.
func Static(records ...any) func(context.Context, *ResourceContext) iter.Seq2[any, error] {
	return func(context.Context, *ResourceContext) iter.Seq2[any, error] {
		return func(yield func(any, error) bool) {
			for _, r := range records {
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}

// FromSeq adapts any Go iterator of records.
func FromSeq[T any](seq iter.Seq[T]) func(context.Context, *ResourceContext) iter.Seq2[any, error] {
	return func(context.Context, *ResourceContext) iter.Seq2[any, error] {
		return func(yield func(any, error) bool) {
			for r := range seq {
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}

// MaxNesting returns a pointer for Resource.MaxNesting.
func MaxNesting(n int) *int { return &n }
