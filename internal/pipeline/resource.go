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
	PrimaryKey       []string
	MergeKey         []string
	// Columns declares column types and hints (names as in the data).
	Columns []*schema.Column
	// MaxNesting limits nested tables; nil is dlt's default (1000), 0 keeps
	// every nested value as json in the root table.
	MaxNesting *int
	Contract   *schema.Contract
	// Records yields the records: maps, *jsonx.Object or jsonx.Raw JSON.
	// state is the resource's persisted state; changes to it are saved with
	// the load.
	Records func(ctx context.Context, state map[string]any) iter.Seq2[any, error]
}

// TableName is the resource's table before normalization.
func (r *Resource) TableName() string {
	if r.Table != "" {
		return r.Table
	}
	return r.Name
}
