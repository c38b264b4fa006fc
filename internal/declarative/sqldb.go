package declarative

import (
	"context"
	"fmt"
	"sort"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/destination/postgres"
	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/source/sqldb"
)

// sqlResources builds a sql_database source; its credentials come from
// sources.<name>.credentials (a connection string or fields).
func (s *Spec) sqlResources(r *config.Resolver) ([]*pipeline.Resource, error) {
	if r == nil {
		return nil, fmt.Errorf("%s: sql_database needs sources.%s.credentials from configuration", s.Path, s.Name)
	}
	var creds struct {
		Credentials postgres.Credentials `config:"credentials"`
	}
	creds.Credentials.Port = 5432
	if err := r.Decode("", []string{"sources", s.Name}, &creds); err != nil {
		return nil, err
	}
	cfg := sqldb.Config{DSN: creds.Credentials.DSN(), PerTable: map[string]sqldb.TableHints{}}
	cfg.Schema, _ = s.source["schema"].(string)
	for _, t := range asList(s.source["table_names"]) {
		cfg.Tables = append(cfg.Tables, fmt.Sprint(t))
	}
	tables, _ := s.source["tables"].(map[string]any)
	names := make([]string, 0, len(tables))
	for k := range tables {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		m, ok := tables[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: source.tables.%s must be a table of hints", s.Path, name)
		}
		where := "source.tables." + name
		if err := checkKeys(s.Path, where+".", m, map[string]any{"write_disposition": nil, "primary_key": nil, "incremental": nil}); err != nil {
			return nil, err
		}
		tmp := &pipeline.Resource{}
		if err := s.applyHints(tmp, map[string]any{"write_disposition": m["write_disposition"], "primary_key": m["primary_key"]}); err != nil {
			return nil, err
		}
		h := sqldb.TableHints{WriteDisposition: tmp.WriteDisposition, MergeStrategy: tmp.MergeStrategy, SCD2: tmp.SCD2, PrimaryKey: tmp.PrimaryKey}
		if inc, ok := m["incremental"].(map[string]any); ok {
			ic, err := s.incremental(where+".incremental", inc)
			if err != nil {
				return nil, err
			}
			h.Incremental = ic
		}
		cfg.PerTable[name] = h
	}
	res, err := sqldb.Resources(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Path, err)
	}
	return res, nil
}
