package dltcompat

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/schema"
)

// RunEngine runs a case through this engine into a DuckDB file under dir
// and returns what it stored, in the form driver.py dumps dlt's.
func RunEngine(ctx context.Context, c Case, dir string) (*Result, error) {
	return runEngine(ctx, c, dir, "")
}

// ContinueEngine runs a case's loads through this engine into a copy of
// the DuckDB file another run left (dlt's, of the case's first loads):
// the engine finds its schema and state there, as a user moving a
// pipeline from Python dlt to the engine has them, and loads on.
func ContinueEngine(ctx context.Context, c Case, from, dir string) (*Result, error) {
	return runEngine(ctx, c, dir, from)
}

func runEngine(ctx context.Context, c Case, dir, from string) (*Result, error) {
	res, err := resource(c)
	if err != nil {
		return nil, fmt.Errorf("case %s: hints: %w", c.Name, err)
	}
	p, err := openPipeline(c, dir)
	if err != nil {
		return nil, err
	}
	if from != "" {
		db, err := p.DatabasePath()
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(from)
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Name, err)
		}
		if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(db, b, 0o644); err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Name, err)
		}
	}
	for _, load := range c.Loads {
		recs := make([]any, len(load))
		for i, r := range load {
			recs[i] = jsonx.Raw(r)
			if len(c.Datetimes) > 0 {
				rec, err := withDatetimes(r, c.Datetimes)
				if err != nil {
					return nil, fmt.Errorf("case %s: %w", c.Name, err)
				}
				recs[i] = rec
			}
		}
		r := *res
		r.Records = func(context.Context, *pipeline.ResourceContext) iter.Seq2[any, error] {
			return func(yield func(any, error) bool) {
				for _, rec := range recs {
					if !yield(rec, nil) {
						return
					}
				}
			}
		}
		if _, err := p.Run(ctx, &r); err != nil {
			return &Result{Error: err.Error()}, nil
		}
	}
	path, err := p.DatabasePath()
	if err != nil {
		return nil, err
	}
	r, err := Dump(ctx, path)
	if err != nil {
		return nil, err
	}
	s, err := p.Schema()
	if err != nil {
		return nil, fmt.Errorf("case %s: read schema: %w", c.Name, err)
	}
	if s != nil {
		if r.Export, err = ExportYAML(s); err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Name, err)
		}
	}
	return r, nil
}

// withDatetimes parses a record and turns the ISO 8601 text at keys into
// times, as driver.py turns it into datetimes.
func withDatetimes(raw json.RawMessage, keys []string) (any, error) {
	v, err := jsonx.Parse(raw)
	if err != nil {
		return nil, err
	}
	o, ok := v.(*jsonx.Object)
	if !ok {
		return v, nil
	}
	for i, k := range o.Keys {
		s, isText := o.Values[i].(string)
		if !isText || !slices.Contains(keys, k) {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("datetimes: %q at %q: %w", s, k, err)
		}
		o.Values[i] = t
	}
	return o, nil
}

// openPipeline opens the case's pipeline under dir, as RunEngine runs it
// (driver.py names dlt's the same way: pipeline c_NAME, dataset data).
func openPipeline(c Case, dir string) (*pipeline.Pipeline, error) {
	p, err := pipeline.New(pipeline.Options{Name: c.PipelineName(), Destination: "duckdb", Dataset: "data",
		PipelinesDir: filepath.Join(dir, "pipelines"), LocalDir: dir})
	if err != nil {
		return nil, fmt.Errorf("case %s: open pipeline: %w", c.Name, err)
	}
	return p, nil
}

// resource turns dlt.resource's hints into the engine's resource.
func resource(c Case) (*pipeline.Resource, error) {
	r := &pipeline.Resource{Name: c.TableName()}
	for key, raw := range c.Hints {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		switch key {
		case "write_disposition":
			wd, err := schema.ParseWriteDisposition(v)
			if err != nil {
				return nil, err
			}
			r.WriteDisposition, r.MergeStrategy, r.SCD2 = wd.Disposition, wd.Strategy, wd.SCD2
		case "primary_key":
			r.PrimaryKey = names(v)
		case "merge_key":
			r.MergeKey = names(v)
		case "max_table_nesting":
			n, ok := v.(float64)
			if !ok {
				return nil, fmt.Errorf("max_table_nesting: want a number")
			}
			m := int(n)
			r.MaxNesting = &m
		case "schema_contract":
			ct, err := schema.ParseContract(v)
			if err != nil {
				return nil, err
			}
			r.Contract = ct
		case "columns":
			cols, err := columns(raw)
			if err != nil {
				return nil, err
			}
			r.Columns = cols
		case "incremental":
			inc, err := incremental(raw)
			if err != nil {
				return nil, fmt.Errorf("incremental: %w", err)
			}
			r.Incremental = inc
		default:
			return nil, fmt.Errorf("unknown hint %s", key)
		}
	}
	return r, nil
}

// incremental reads dlt.resource's incremental argument in its dict form
// (dlt's TIncrementalConfig).
func incremental(raw json.RawMessage) (*pipeline.Incremental, error) {
	var cfg struct {
		CursorPath           string          `json:"cursor_path"`
		InitialValue         json.RawMessage `json:"initial_value"`
		EndValue             json.RawMessage `json:"end_value"`
		LastValueFunc        string          `json:"last_value_func"`
		PrimaryKey           any             `json:"primary_key"`
		Lag                  float64         `json:"lag"`
		OnCursorValueMissing string          `json:"on_cursor_value_missing"`
		RangeStart           string          `json:"range_start"`
		RangeEnd             string          `json:"range_end"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, err
	}
	inc := &pipeline.Incremental{CursorPath: cfg.CursorPath, LastValueFunc: cfg.LastValueFunc, PrimaryKey: names(cfg.PrimaryKey),
		Lag: cfg.Lag, OnCursorValueMissing: cfg.OnCursorValueMissing, RangeStart: cfg.RangeStart, RangeEnd: cfg.RangeEnd}
	for _, v := range []struct {
		raw json.RawMessage
		to  *any
	}{{cfg.InitialValue, &inc.InitialValue}, {cfg.EndValue, &inc.EndValue}} {
		if len(v.raw) == 0 {
			continue
		}
		x, err := jsonx.Parse(v.raw)
		if err != nil {
			return nil, err
		}
		*v.to = x
	}
	return inc, nil
}

func names(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// columns reads a columns hint (an object of column schemas, in order).
func columns(raw json.RawMessage) ([]*schema.Column, error) {
	var ordered orderedColumns
	if err := json.Unmarshal(raw, &ordered); err != nil {
		return nil, err
	}
	var names []string
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	out := make([]*schema.Column, 0, len(ordered))
	for i, m := range ordered {
		b, _ := json.Marshal(m)
		col := &schema.Column{Nullable: true}
		if err := json.Unmarshal(b, col); err != nil {
			return nil, fmt.Errorf("column %s: %w", names[i], err)
		}
		if nb, ok := m["nullable"].(bool); ok && !nb {
			col.NotNull = true
		}
		if col.Name == "" {
			col.Name = names[i]
		}
		out = append(out, col)
	}
	return out, nil
}

// Dump reads what a DuckDB file holds in dataset "data", as driver.py's
// dump() does, through a JSON round trip so both sides compare the same
// Go types.
func Dump(ctx context.Context, path string) (*Result, error) {
	db, err := sql.Open("duckdb", path+"?access_mode=READ_ONLY")
	if err != nil {
		return nil, err
	}
	defer func() { _ = db.Close() }()
	out := map[string]any{}
	tables := map[string]*Table{}
	var doc string
	if err := db.QueryRowContext(ctx, `SELECT schema FROM data._dlt_version ORDER BY inserted_at DESC, version DESC LIMIT 1`).Scan(&doc); err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("read _dlt_version: %w", err)
	}
	out["schema"] = json.RawMessage(doc)
	if doc == "" {
		out["schema"] = nil
	}
	rows, err := db.QueryContext(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'data' ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t, c, typ string
		if err := rows.Scan(&t, &c, &typ); err != nil {
			_ = rows.Close()
			return nil, err
		}
		if tables[t] == nil {
			tables[t] = &Table{Rows: [][]any{}}
		}
		tables[t].Columns = append(tables[t].Columns, [2]string{c, typ})
	}
	_ = rows.Close()
	for name, t := range tables {
		if strings.HasPrefix(name, "_dlt_") {
			continue
		}
		quoted := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			quoted[i] = `"` + strings.ReplaceAll(c[0], `"`, `""`) + `"`
		}
		rs, err := db.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM data."`+name+`"`)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		for rs.Next() {
			vals := make([]any, len(t.Columns))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				_ = rs.Close()
				return nil, err
			}
			row := make([]any, len(vals))
			for i, v := range vals {
				row[i] = Value(v, t.Columns[i][1])
			}
			t.Rows = append(t.Rows, row)
		}
		_ = rs.Close()
	}
	out["tables"] = tables
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return decodeResult(b)
}

// decodeResult decodes a dump, numbers as json.Number, and its exported
// schema document (if any) with its keys in order.
func decodeResult(b []byte) (*Result, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var r Result
	if err := dec.Decode(&r); err != nil {
		return nil, err
	}
	var export struct {
		Export json.RawMessage `json:"export"`
	}
	if err := json.Unmarshal(b, &export); err != nil {
		return nil, err
	}
	if len(export.Export) > 0 && string(export.Export) != "null" {
		v, err := jsonx.Parse(export.Export)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		o, ok := v.(*jsonx.Object)
		if !ok {
			return nil, fmt.Errorf("export: want an object, got %T", v)
		}
		r.Export = o
	}
	return &r, nil
}

// Value is a scanned DuckDB value in the harness' canonical form, the
// same as driver.py's value(): JSON scalars as they are, others tagged.
func Value(v any, dbType string) any {
	switch x := v.(type) {
	case nil, bool, string, int64, int32, int16, int8, uint64, uint32, uint16, uint8:
		if s, ok := x.(string); ok && dbType == "JSON" {
			return map[string]string{"json": s}
		}
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return map[string]string{"float": map[bool]string{true: "nan", false: map[bool]string{true: "inf", false: "-inf"}[x > 0]}[math.IsNaN(x)]}
		}
		return x
	case float32:
		return Value(float64(x), dbType)
	case *big.Int:
		return json.Number(x.String())
	case duckdb.Decimal:
		return map[string]string{"decimal": formatDecimal(x)}
	case []byte:
		return map[string]string{"binary": base64.StdEncoding.EncodeToString(x)}
	case time.Time:
		switch {
		case strings.HasPrefix(dbType, "TIMESTAMP WITH TIME ZONE"):
			return map[string]string{"timestamptz": x.UTC().Format("2006-01-02T15:04:05.000000")}
		case dbType == "DATE":
			return map[string]string{"date": x.Format("2006-01-02")}
		case strings.HasPrefix(dbType, "TIME") && !strings.HasPrefix(dbType, "TIMESTAMP"):
			return map[string]string{"time": x.Format("15:04:05.000000")}
		}
		return map[string]string{"timestamp": x.Format("2006-01-02T15:04:05.000000")}
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return map[string]string{"json": string(b)}
	}
	return map[string]string{"other": fmt.Sprint(v)}
}

// formatDecimal prints a decimal with its scale's digits, as Python's
// str(Decimal) does for DuckDB's decimals.
func formatDecimal(d duckdb.Decimal) string {
	s := new(big.Int).Abs(d.Value).String()
	sign := ""
	if d.Value.Sign() < 0 {
		sign = "-"
	}
	if d.Scale == 0 {
		return sign + s
	}
	sc := int(d.Scale)
	for len(s) <= sc {
		s = "0" + s
	}
	return sign + s[:len(s)-sc] + "." + s[len(s)-sc:]
}
