package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/dlthub/dlthub/internal/jsonx"
)

// Export is the schema document as `dlt pipeline NAME schema` prints it
// (dlt's Schema.to_dict(remove_defaults=True)): the stored document
// without the table and column names its keys already say, and with dlt's
// system tables, which the engine's model leaves out because every
// destination creates them itself. `dlthub local pipeline schema` prints
// it, and the dlt differential harness (internal/dltcompat) compares it
// with dlt's own export.
func (s *Schema) Export() (*jsonx.Object, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("export schema %q: %w", s.Name, err)
	}
	v, err := jsonx.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("export schema %q: %w", s.Name, err)
	}
	doc, ok := v.(*jsonx.Object)
	if !ok {
		return nil, fmt.Errorf("export schema %q: not an object", s.Name)
	}
	sys := systemTables()
	tables := &jsonx.Object{}
	// dlt adds _dlt_version and _dlt_loads with the schema, and
	// _dlt_pipeline_state when the first run extracts state; the data
	// tables come in between.
	for _, t := range append(append(sys[:2:2], s.DataTables()...), sys[2]) {
		o, err := exportTable(t)
		if err != nil {
			return nil, fmt.Errorf("export schema %q: %w", s.Name, err)
		}
		tables.Set(t.Name, o)
	}
	doc.Set("tables", tables)
	return doc, nil
}

// StoredJSON is the schema document a destination stores in _dlt_version,
// as dlt stores it: with the system tables, in dlt's order, which dlt's
// loader requires when it reads the schema back (a pipeline moved from the
// engine to Python dlt restores it from there). Reading drops them again.
func (s *Schema) StoredJSON() ([]byte, error) {
	sys := systemTables()
	c := *s
	c.Tables = append(append(sys[:2:2], s.Tables...), sys[2])
	return json.Marshal(&c)
}

// exportTable is a table without its own name and its columns' names.
func exportTable(t *Table) (*jsonx.Object, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("table %q: %w", t.Name, err)
	}
	v, err := jsonx.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("table %q: %w", t.Name, err)
	}
	o := v.(*jsonx.Object)
	o = without(o, "name")
	if cols, ok := o.Get("columns"); ok {
		cs := cols.(*jsonx.Object)
		for i, c := range cs.Values {
			cs.Values[i] = without(c.(*jsonx.Object), "name")
		}
	}
	return o, nil
}

// without returns o without key.
func without(o *jsonx.Object, key string) *jsonx.Object {
	out := &jsonx.Object{}
	for i, k := range o.Keys {
		if k != key {
			out.Keys = append(out.Keys, k)
			out.Values = append(out.Values, o.Values[i])
		}
	}
	return out
}

// WriteExport prints Export as YAML or JSON (format "yaml" or "json"),
// indented by two as dlt's to_pretty_yaml and to_pretty_json do.
func (s *Schema) WriteExport(w io.Writer, format string) error {
	doc, err := s.Export()
	if err != nil {
		return err
	}
	switch format {
	case "yaml":
		return jsonx.WriteYAML(w, doc)
	case "json":
		b, err := jsonx.Append(nil, doc)
		if err != nil {
			return fmt.Errorf("export schema %q: %w", s.Name, err)
		}
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "  "); err != nil {
			return fmt.Errorf("export schema %q: %w", s.Name, err)
		}
		out.WriteByte('\n')
		_, err = w.Write(out.Bytes())
		return err
	}
	return fmt.Errorf("export schema %q: format %q: use yaml or json", s.Name, format)
}

// systemTables are dlt's _dlt_version, _dlt_loads and
// _dlt_pipeline_state as dlt's schema describes them (dlt 1.31.0's
// descriptions included), in that order. The destinations create the
// same columns.
func systemTables() []*Table {
	col := func(name string, typ DataType, nullable bool, desc string) *Column {
		return &Column{Name: name, DataType: typ, Nullable: nullable, Description: desc}
	}
	loadID := col("load_id", Text, false, "Unique identifier of the load operation")
	p64 := 64
	loadID.Precision = &p64
	stateLoadID := col(ColLoadID, Text, false, "Load identifier linking this row to its load operation")
	stateLoadID.Precision = &p64
	stateID := col(ColID, Text, false, "")
	stateID.Unique, stateID.RowKey = true, true
	return []*Table{
		{
			Name: VersionTable, Resource: VersionTable, WriteDisposition: "skip",
			Description: "Created by DLT. Tracks schema updates",
			Columns: []*Column{
				col("version", Bigint, false, "Numeric version of the schema, incremented on each schema change"),
				col("engine_version", Bigint, false, "Version of the dlt schema engine that created this schema"),
				col("inserted_at", Timestamp, false, "Timestamp when this schema version was stored"),
				col("schema_name", Text, false, "Name of the schema"),
				col("version_hash", Text, false, "Unique hash of the schema content, used to detect changes"),
				col("schema", Text, false, "JSON representation of the complete schema definition"),
			},
		},
		{
			Name: LoadsTable, Resource: LoadsTable, WriteDisposition: "skip",
			Description: "Created by DLT. Tracks completed loads",
			Columns: []*Column{
				loadID,
				col("schema_name", Text, true, "Name of the schema associated with this load"),
				col("status", Bigint, false, "Status of the load operation (0 = success)"),
				col("inserted_at", Timestamp, false, "Timestamp when the load was completed"),
				col("schema_version_hash", Text, true, "Hash of the schema version used during this load"),
			},
		},
		{
			Name: StateTable, Resource: StateTable, WriteDisposition: Append, FileFormat: "preferred",
			Normalizer: &TableNormalizer{SeenData: true},
			Columns: []*Column{
				col("version", Bigint, false, "Numeric version of the pipeline state"),
				col("engine_version", Bigint, false, "Version of the dlt state engine"),
				col("pipeline_name", Text, false, "Name of the pipeline this state belongs to"),
				col("state", Text, false, "Compressed JSON representation of the pipeline state"),
				col("created_at", Timestamp, false, "Timestamp when this state was created"),
				col("version_hash", Text, true, "Hash of the state content, used to detect changes"),
				stateLoadID,
				stateID,
			},
		},
	}
}
