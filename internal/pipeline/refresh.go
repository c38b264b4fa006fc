package pipeline

import (
	"context"
	"fmt"
	"slices"

	"github.com/dlthub/dlthub/internal/destination"
	"github.com/dlthub/dlthub/internal/schema"
)

// Refresh modes.
const (
	// RefreshDropSources drops every table of the pipeline's schema and all
	// source state: the run starts from scratch.
	RefreshDropSources = "drop_sources"
	// RefreshDropResources drops the tables and state of the resources
	// being run.
	RefreshDropResources = "drop_resources"
	// RefreshDropData deletes the rows (keeping the tables) and resets the
	// state of the resources being run.
	RefreshDropData = "drop_data"
)

// refresh applies the refresh mode before extracting.
func (p *Pipeline) refresh(ctx context.Context, client destination.Client, state *State, resources []*Resource) error {
	var names []string
	for _, r := range resources {
		names = append(names, r.Name)
	}
	switch p.opts.Refresh {
	case RefreshDropSources:
		return p.Drop(ctx, client, state, nil, false)
	case RefreshDropResources:
		return p.Drop(ctx, client, state, names, false)
	case RefreshDropData:
		return p.Drop(ctx, client, state, names, true)
	}
	return fmt.Errorf("unknown refresh mode %q (drop_sources, drop_resources, drop_data)", p.opts.Refresh)
}

// Drop removes resources' tables (root and child tables) from the destination
// and the schema, and resets their state; with no resources it drops every
// table and all source state. With dataOnly the tables stay and only their
// rows go. It returns the tables it dropped or emptied.
func (p *Pipeline) Drop(ctx context.Context, client destination.Client, state *State, resources []string, dataOnly bool) error {
	s, err := p.loadSchema(ctx, client)
	if err != nil {
		return err
	}
	var tables []string
	for _, t := range s.DataTables() {
		root := s.Root(t)
		if len(resources) == 0 || slices.Contains(resources, root.Resource) {
			tables = append(tables, t.Name)
		}
	}
	if dataOnly {
		if err := client.TruncateTables(ctx, tables); err != nil {
			return err
		}
	} else {
		// Children before parents.
		rev := slices.Clone(tables)
		slices.Reverse(rev)
		if err := client.DropTables(ctx, rev); err != nil {
			return err
		}
		kept := s.Tables[:0]
		for _, t := range s.Tables {
			if !slices.Contains(tables, t.Name) {
				kept = append(kept, t)
			}
		}
		s.Tables = kept
		s.Bump()
		if err := p.saveSchema(s); err != nil {
			return err
		}
	}
	src, _ := state.Sources[p.SchemaName()].(map[string]any)
	if len(resources) == 0 {
		delete(state.Sources, p.SchemaName())
	} else if src != nil {
		if res, ok := src["resources"].(map[string]any); ok {
			for _, r := range resources {
				delete(res, r)
			}
		}
	}
	return nil
}

// DropTablesOf is what Drop would drop, for showing before asking.
func (p *Pipeline) DropTablesOf(s *schema.Schema, resources []string) []string {
	var tables []string
	for _, t := range s.DataTables() {
		if len(resources) == 0 || slices.Contains(resources, s.Root(t).Resource) {
			tables = append(tables, t.Name)
		}
	}
	return tables
}
