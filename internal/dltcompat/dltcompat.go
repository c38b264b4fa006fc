// Package dltcompat is the differential harness of issue 12: the same
// cases (JSONL records with resource hints) run through Python dlt (the
// pinned version, by driver.py) and through this engine, both into DuckDB,
// and what they stored is compared: tables and parents, columns with
// their order, types, nullability and hints, the data (with _dlt_id and
// _dlt_load_id compared by the relations they make, not their random
// values), the system tables' columns, and the exported schema document
// (what `dlthub local pipeline schema` prints against dlt's own export,
// see export.go). Comparing with dlt itself on every change is what makes
// the engine converge on dlt's semantics; fixing reports one by one did
// not.
package dltcompat

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlthub/dlthub/internal/jsonx"
)

// Case is one input: the loads (each one pipeline run) of records into a
// table, with dlt's resource hints.
type Case struct {
	Name  string              `json:"name"`
	Table string              `json:"table,omitempty"`
	Loads [][]json.RawMessage `json:"loads"`
	// Hints are dlt.resource's arguments: write_disposition,
	// primary_key, merge_key, columns, max_table_nesting, schema_contract.
	Hints map[string]json.RawMessage `json:"hints,omitempty"`
	// Why documents what the case checks (dlt's test it comes from).
	Why string `json:"why,omitempty"`
	// KeepDB has the driver keep the case's DuckDB file (NAME.duckdb next
	// to its dump), for the engine to load on from where dlt stopped.
	KeepDB bool `json:"keep_db,omitempty"`
	// Pipeline names the pipeline (and so its schema) when it is not
	// c_NAME: a handover continues another case's pipeline.
	Pipeline string `json:"pipeline,omitempty"`
	// FromDB is a DuckDB file the driver copies into place before the
	// first load: dlt then continues from the dataset, schema and state
	// that another run (the engine's) stored there.
	FromDB string `json:"from_db,omitempty"`
	// Datetimes are top-level keys whose ISO 8601 text both sides'
	// resources yield as datetime values (Python datetimes, Go times), as
	// SQL sources do: their incremental cursors are stored as dlt's typed
	// datetimes.
	Datetimes []string `json:"datetimes,omitempty"`
}

// PipelineName is the pipeline the case runs as (driver.py names dlt's
// the same way).
func (c Case) PipelineName() string {
	if c.Pipeline != "" {
		return c.Pipeline
	}
	return "c_" + c.Name
}

// TableName is the case's table before normalization.
func (c Case) TableName() string {
	if c.Table != "" {
		return c.Table
	}
	return "items"
}

// LoadCases reads every *.json file of dir (each a list of cases), sorted
// by file and order within it; names must be unique.
func LoadCases(dir string) ([]Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	seen := map[string]string{}
	var out []Case
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var cs []Case
		if err := json.Unmarshal(b, &cs); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, c := range cs {
			if c.Name == "" || strings.ContainsAny(c.Name, "/\\ .") {
				return nil, fmt.Errorf("%s: case %q: a name of letters, digits, - and _ is required", f, c.Name)
			}
			if prev, ok := seen[c.Name]; ok {
				return nil, fmt.Errorf("%s: case %s is also in %s", f, c.Name, prev)
			}
			seen[c.Name] = f
			out = append(out, c)
		}
	}
	return out, nil
}

// Result is what one engine stored for a case.
type Result struct {
	Error  string            `json:"error,omitempty"`
	Schema *StoredSchema     `json:"schema"`
	Tables map[string]*Table `json:"tables"`
	// Export is the exported schema document (see export.go), keys in
	// document order; decodeResult reads it from the dump's "export".
	Export *jsonx.Object `json:"-"`
}

// Table is a table as stored: columns with their DuckDB types, and rows
// (values in canonical form, see Value) in column order.
type Table struct {
	Columns [][2]string `json:"columns"`
	Rows    [][]any     `json:"rows"`
}

// StoredSchema is the part of dlt's schema document (as stored in
// _dlt_version) the harness compares.
type StoredSchema struct {
	Tables map[string]StoredTable `json:"tables"`
}

// StoredTable is a table of the schema document. Columns keep their
// order (a JSON object's).
type StoredTable struct {
	Parent           string         `json:"parent"`
	WriteDisposition string         `json:"write_disposition"`
	MergeStrategy    string         `json:"x-merge-strategy"`
	Boundary         any            `json:"x-boundary-timestamp"`
	Columns          orderedColumns `json:"columns"`
}

// orderedColumns are a schema table's columns in document order.
type orderedColumns []map[string]any

// UnmarshalJSON keeps the object's key order.
func (o *orderedColumns) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("columns: want an object")
	}
	for dec.More() {
		if _, err := dec.Token(); err != nil { // the name; the column has it too
			return err
		}
		var col map[string]any
		if err := dec.Decode(&col); err != nil {
			return err
		}
		*o = append(*o, col)
	}
	_, err = dec.Token()
	return err
}
