// Package declarative reads declarative pipelines, pipelines/<name>.toml:
// the source type with its settings, the destination (named or a type), the
// dataset, and per-resource hints, in the shape of dlt's own declarative
// configs written as TOML. Secrets never live in the file: missing source
// settings resolve through the configuration at sources.<name>.<key>.
package declarative

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/schema"
	fssource "github.com/dlthub/dlthub/internal/source/filesystem"
	"github.com/dlthub/dlthub/internal/suggest"
)

// Dir is where declarative pipelines live, relative to the workspace root.
const Dir = "pipelines"

// Spec is a parsed pipeline file.
type Spec struct {
	Name        string
	Path        string
	Destination string
	Dataset     string
	SourceType  string
	source      map[string]any
}

// SourceTypes are the source types this build can run.
func SourceTypes() []string { return []string{"filesystem", "rest_api", "sql_database"} }

// List returns the declarative pipelines of a workspace.
func List(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, Dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".toml"); ok && !e.IsDir() {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Load reads and checks pipelines/<name>.toml.
func Load(root, name string) (*Spec, error) {
	path := filepath.Join(root, Dir, name+".toml")
	rel := filepath.ToSlash(filepath.Join(Dir, name+".toml"))
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		known, _ := List(root)
		hint := "none yet; make one with `dlthub pipeline init <source> <destination>`"
		if len(known) > 0 {
			hint = strings.Join(known, ", ")
		}
		return nil, fmt.Errorf("no declarative pipeline %q: %s does not exist (pipelines: %s)", name, rel, hint)
	}
	if err != nil {
		return nil, err
	}
	doc, err := config.ParseTOML(rel, b)
	if err != nil {
		return nil, err
	}
	if err := checkKeys(rel, "", doc, map[string]any{"pipeline": nil, "source": nil}); err != nil {
		return nil, err
	}
	s := &Spec{Name: name, Path: rel}
	if p, ok := doc["pipeline"].(map[string]any); ok {
		if err := checkKeys(rel, "pipeline.", p, map[string]any{"destination": nil, "dataset_name": nil}); err != nil {
			return nil, err
		}
		s.Destination, _ = p["destination"].(string)
		s.Dataset, _ = p["dataset_name"].(string)
	}
	src, ok := doc["source"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: missing [source] table with a type (%s)", rel, strings.Join(SourceTypes(), ", "))
	}
	s.SourceType, _ = src["type"].(string)
	s.source = src
	switch s.SourceType {
	case "filesystem":
		if err := checkKeys(rel, "source.", src, filesystemKeys()); err != nil {
			return nil, err
		}
	case "rest_api":
		if err := checkKeys(rel, "source.", src, restKeys()); err != nil {
			return nil, err
		}
	case "sql_database":
		if err := checkKeys(rel, "source.", src, map[string]any{"type": nil, "schema": nil, "table_names": nil, "tables": nil, "credentials": nil}); err != nil {
			return nil, err
		}
		if _, ok := src["credentials"]; ok {
			return nil, fmt.Errorf("%s: source.credentials is a secret and must not be in the pipeline file; put it in .dlt/secrets.toml as [sources.%s] credentials = \"postgresql://…\"", rel, name)
		}
	case "":
		return nil, fmt.Errorf("%s: source.type is missing (%s)", rel, strings.Join(SourceTypes(), ", "))
	default:
		return nil, fmt.Errorf("%s: source type %q is not available in this build (available: %s)", rel, s.SourceType, strings.Join(SourceTypes(), ", "))
	}
	return s, nil
}

func filesystemKeys() map[string]any {
	keys := map[string]any{"type": nil, "bucket_url": nil, "file_glob": nil, "format": nil, "delimiter": nil, "table_name": nil, "incremental": nil}
	for k := range hintKeys() {
		keys[k] = nil
	}
	return keys
}

func hintKeys() map[string]any {
	return map[string]any{"write_disposition": nil, "merge_strategy": nil, "primary_key": nil, "merge_key": nil, "schema_contract": nil, "max_table_nesting": nil, "columns": nil}
}

// checkKeys refuses unknown keys, suggesting the closest known one.
func checkKeys(file, prefix string, m map[string]any, known map[string]any) error {
	for k := range m {
		if _, ok := known[k]; ok {
			continue
		}
		names := make([]string, 0, len(known))
		for cand := range known {
			names = append(names, cand)
		}
		msg := fmt.Sprintf("%s: unknown key %s%s", file, prefix, k)
		if best := suggest.Closest(k, names); best != "" {
			msg += fmt.Sprintf(" (did you mean %s%s?)", prefix, best)
		}
		return errors.New(msg)
	}
	return nil
}

// Resources builds the pipeline's resources. root resolves relative paths;
// r resolves settings missing from the file at sources.<name>.<key>.
func (s *Spec) Resources(root string, r *config.Resolver) ([]*pipeline.Resource, error) {
	get := func(key string) (any, error) {
		if v, ok := s.source[key]; ok {
			return v, nil
		}
		if r == nil {
			return nil, nil
		}
		res, err := r.Lookup(config.Key{Fixed: []string{"sources", s.Name}, Name: key, Secret: config.IsSecretKey(key)})
		if err != nil || !res.Found {
			return nil, err
		}
		return res.Value, nil
	}
	str := func(key string) (string, error) {
		v, err := get(key)
		if err != nil || v == nil {
			return "", err
		}
		sv, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s: source.%s must be a string", s.Path, key)
		}
		return sv, nil
	}
	switch s.SourceType {
	case "filesystem":
		var c fssource.Config
		var err error
		c.Root = root
		if c.BucketURL, err = str("bucket_url"); err != nil {
			return nil, err
		}
		if c.BucketURL == "" {
			return nil, fmt.Errorf("%s: source.bucket_url is missing (set it in the file or as sources.%s.bucket_url in config)", s.Path, s.Name)
		}
		if c.FileGlob, err = str("file_glob"); err != nil {
			return nil, err
		}
		if c.Format, err = str("format"); err != nil {
			return nil, err
		}
		if c.Delimiter, err = str("delimiter"); err != nil {
			return nil, err
		}
		var recordCursor *pipeline.Incremental
		switch v := s.source["incremental"].(type) {
		case nil:
		case bool:
			c.Incremental = v
		case map[string]any:
			var err error
			if recordCursor, err = s.incremental("source.incremental", v); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%s: source.incremental: true (files modified since the last run) or { cursor_path = \"...\" } (records past a cursor)", s.Path)
		}
		table, err := str("table_name")
		if err != nil {
			return nil, err
		}
		if table == "" {
			table = s.Name
		}
		res := &pipeline.Resource{Name: table, Records: c.Records(), Incremental: recordCursor}
		if err := s.applyHints(res, s.source); err != nil {
			return nil, err
		}
		return []*pipeline.Resource{res}, nil
	case "rest_api":
		return s.restResources(r)
	case "sql_database":
		return s.sqlResources(r)
	}
	return nil, fmt.Errorf("%s: source type %q is not available", s.Path, s.SourceType)
}

// applyHints copies resource hints from a table of settings.
func (s *Spec) applyHints(res *pipeline.Resource, m map[string]any) error {
	strList := func(key string) ([]string, error) {
		switch v := m[key].(type) {
		case nil:
			return nil, nil
		case string:
			return []string{v}, nil
		case []any:
			out := make([]string, len(v))
			for i, e := range v {
				sv, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("%s: %s must be a column name or a list of them", s.Path, key)
				}
				out[i] = sv
			}
			return out, nil
		}
		return nil, fmt.Errorf("%s: %s must be a column name or a list of them", s.Path, key)
	}
	var err error
	if v, ok := m["write_disposition"]; ok && v != nil {
		// dlt's form: a name, or {disposition = "merge", strategy = …}
		wd, err := schema.ParseWriteDisposition(v)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Path, err)
		}
		res.WriteDisposition, res.MergeStrategy, res.SCD2 = wd.Disposition, wd.Strategy, wd.SCD2
	}
	if v, ok := m["merge_strategy"]; ok && v != nil {
		ms, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: merge_strategy must be delete-insert, upsert, scd2 or insert-only, not %v", s.Path, v)
		}
		if res.MergeStrategy != "" && res.MergeStrategy != ms {
			return fmt.Errorf("%s: merge_strategy %q and write_disposition's strategy %q disagree; keep one", s.Path, ms, res.MergeStrategy)
		}
		res.MergeStrategy = ms
	}
	// Keys are set only where the table names them: hints are applied in
	// passes (defaults, then the resource), and a pass without a key must
	// not reset one set before (a merge would append duplicates).
	if _, ok := m["primary_key"]; ok {
		if res.PrimaryKey, err = strList("primary_key"); err != nil {
			return err
		}
	}
	if _, ok := m["merge_key"]; ok {
		if res.MergeKey, err = strList("merge_key"); err != nil {
			return err
		}
	}
	if v, ok := m["schema_contract"]; ok {
		c, err := schema.ParseContract(v)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Path, err)
		}
		res.Contract = c
	}
	if v, ok := m["max_table_nesting"]; ok {
		n, ok := v.(int64)
		if !ok || n < 0 {
			return fmt.Errorf("%s: max_table_nesting must be a whole number of levels", s.Path)
		}
		nn := int(n)
		res.MaxNesting = &nn
	}
	if cols, ok := m["columns"].(map[string]any); ok {
		names := make([]string, 0, len(cols))
		for k := range cols {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, name := range names {
			def, ok := cols[name].(map[string]any)
			if !ok {
				return fmt.Errorf("%s: columns.%s must be a table such as { data_type = \"bigint\" }", s.Path, name)
			}
			col, err := s.columnHints(name, def)
			if err != nil {
				return err
			}
			res.Columns = append(res.Columns, col)
		}
	}
	return nil
}

// columnHints reads one column's hints, in dlt's names. A hint the engine
// does not know is refused rather than dropped: a misspelt primary_key
// would load without its key.
func (s *Spec) columnHints(name string, def map[string]any) (*schema.Column, error) {
	where := "columns." + name
	if err := checkKeys(s.Path, where+".", def, map[string]any{"data_type": nil, "nullable": nil, "primary_key": nil, "merge_key": nil,
		"hard_delete": nil, "dedup_sort": nil, "unique": nil, "precision": nil, "scale": nil, "timezone": nil, "description": nil}); err != nil {
		return nil, err
	}
	col := &schema.Column{Name: name}
	flag := func(key string, dst *bool) error {
		v, ok := def[key]
		if !ok {
			return nil
		}
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%s: %s.%s must be true or false, not %v", s.Path, where, key, v)
		}
		*dst = b
		return nil
	}
	nullable := true
	for _, f := range []struct {
		key string
		dst *bool
	}{{"primary_key", &col.PrimaryKey}, {"merge_key", &col.MergeKey}, {"hard_delete", &col.HardDelete}, {"unique", &col.Unique}, {"nullable", &nullable}} {
		if err := flag(f.key, f.dst); err != nil {
			return nil, err
		}
	}
	col.NotNull = !nullable
	if v, ok := def["data_type"]; ok {
		t, ok := v.(string)
		if !ok || !schema.DataType(t).Valid() {
			return nil, fmt.Errorf("%s: %s.data_type %v is not one of dlt's data types (text, bigint, double, bool, timestamp, date, time, decimal, wei, json, binary)", s.Path, where, v)
		}
		col.DataType = schema.DataType(t)
	}
	if v, ok := def["dedup_sort"]; ok {
		if d, _ := v.(string); d != "asc" && d != "desc" {
			return nil, fmt.Errorf("%s: %s.dedup_sort must be \"asc\" or \"desc\", not %v", s.Path, where, v)
		}
		col.DedupSort = v.(string)
	}
	if v, ok := def["description"]; ok {
		d, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s: %s.description must be text", s.Path, where)
		}
		col.Description = d
	}
	for _, key := range []string{"precision", "scale"} {
		v, ok := def[key]
		if !ok {
			continue
		}
		n, ok := v.(int64)
		if !ok || n < 0 || n > 1<<20 {
			return nil, fmt.Errorf("%s: %s.%s must be a whole number, not %v", s.Path, where, key, v)
		}
		if key == "precision" {
			p := int(n)
			col.Precision = &p
		} else {
			col.Scale = int(n)
		}
	}
	if v, ok := def["timezone"]; ok {
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%s: %s.timezone must be true or false, not %v", s.Path, where, v)
		}
		col.Timezone = &b
	}
	return col, nil
}

// incremental reads a record cursor in dlt's incremental shape: a
// cursor_path and dlt's settings of dlt.sources.incremental.
func (s *Spec) incremental(where string, m map[string]any) (*pipeline.Incremental, error) {
	if err := checkKeys(s.Path, where+".", m, map[string]any{"cursor_path": nil, "initial_value": nil, "end_value": nil, "lag": nil,
		"last_value_func": nil, "on_cursor_value_missing": nil, "range_start": nil, "range_end": nil}); err != nil {
		return nil, err
	}
	inc := &pipeline.Incremental{InitialValue: m["initial_value"], EndValue: m["end_value"]}
	for key, dst := range map[string]*string{"cursor_path": &inc.CursorPath, "last_value_func": &inc.LastValueFunc,
		"on_cursor_value_missing": &inc.OnCursorValueMissing, "range_start": &inc.RangeStart, "range_end": &inc.RangeEnd} {
		v, ok := m[key]
		if !ok {
			continue
		}
		sv, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s: %s.%s must be text, not %v", s.Path, where, key, v)
		}
		*dst = sv
	}
	if inc.CursorPath == "" {
		return nil, fmt.Errorf("%s: %s needs cursor_path (a field or column)", s.Path, where)
	}
	switch v := m["lag"].(type) {
	case nil:
	case int64:
		inc.Lag = float64(v)
	case float64:
		inc.Lag = v
	default:
		return nil, fmt.Errorf("%s: %s.lag must be a number (seconds for timestamps, units for numbers), not %v", s.Path, where, v)
	}
	return inc, nil
}
