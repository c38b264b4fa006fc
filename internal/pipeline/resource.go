package pipeline

import (
	"context"
	"iter"

	"github.com/dlthub/dlthub/internal/schema"
)

// Resource is a named stream of records with hints on how to load them.
type Resource struct {
	// Name identifies the resource; the table is named after it unless
	// Table is set.
	Name  string
	Table string
	// WriteDisposition is append (default), replace or merge.
	WriteDisposition string
	// MergeStrategy for merge: delete-insert (default), upsert, scd2 or
	// insert-only.
	MergeStrategy string
	// SCD2 are the scd2 strategy's options (dlt's validity_column_names,
	// active_record_timestamp, boundary_timestamp); nil keeps what the
	// table's schema holds, dlt's defaults for a new table.
	SCD2       *schema.SCD2Options
	PrimaryKey []string
	MergeKey   []string
	// Columns declares column types and hints (names as in the data).
	Columns []*schema.Column
	// MaxNesting limits nested tables; nil is dlt's default (1000), 0 keeps
	// every nested value as json in the root table.
	MaxNesting *int
	Contract   *schema.Contract
	// Incremental loads only records past the cursor of the last run.
	Incremental *Incremental
	// Records yields the records: maps, *jsonx.Object or jsonx.Raw JSON.
	Records func(ctx context.Context, rc *ResourceContext) iter.Seq2[any, error]
}

// ResourceContext is what a resource sees while it yields records.
type ResourceContext struct {
	// State is the resource's persisted state; changes are saved with the
	// load that carries them.
	State map[string]any
	// Incremental is the cursor window of this run (nil without an
	// incremental hint). Sources use its StartValue to ask only for new
	// records; the engine filters whatever they yield anyway.
	Incremental *Cursor
	// OnKept, when a resource sets it, hears about every record the engine
	// keeps (after incremental filtering); parents use it to hand exactly
	// the loaded records to their children.
	OnKept func(rec any)
	// Pages counts the pages a paging source has fetched (progress).
	Pages int64
}

// TableName is the resource's table before normalization.
func (r *Resource) TableName() string {
	if r.Table != "" {
		return r.Table
	}
	return r.Name
}
