// Package schema holds dlt's schema model: tables with ordered, typed
// columns, type inference from values, coercion into existing columns (with
// variant columns where a value does not fit), additive evolution with
// versions and content hashes, and schema contracts.
package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
)

// DataType is one of dlt's data types.
type DataType string

// dlt's data types.
const (
	Text      DataType = "text"
	Double    DataType = "double"
	Bool      DataType = "bool"
	Timestamp DataType = "timestamp"
	Bigint    DataType = "bigint"
	Binary    DataType = "binary"
	JSON      DataType = "json"
	Decimal   DataType = "decimal"
	Date      DataType = "date"
	Time      DataType = "time"
	Wei       DataType = "wei"
)

// Valid reports whether t is a known data type.
func (t DataType) Valid() bool {
	switch t {
	case Text, Double, Bool, Timestamp, Bigint, Binary, JSON, Decimal, Date, Time, Wei:
		return true
	}
	return false
}

// System column names, as dlt names them.
const (
	ColLoadID     = "_dlt_load_id"
	ColID         = "_dlt_id"
	ColParentID   = "_dlt_parent_id"
	ColListIdx    = "_dlt_list_idx"
	ColRootID     = "_dlt_root_id"
	ColValidFrom  = "_dlt_valid_from"
	ColValidTo    = "_dlt_valid_to"
	ValueColumn   = "value"
	VersionTable  = "_dlt_version"
	LoadsTable    = "_dlt_loads"
	StateTable    = "_dlt_pipeline_state"
	EngineVersion = 11
)

// Write dispositions.
const (
	Append  = "append"
	Replace = "replace"
	Merge   = "merge"
)

// Merge strategies.
const (
	DeleteInsert = "delete-insert"
	Upsert       = "upsert"
	SCD2         = "scd2"
	// InsertOnly inserts the records whose primary key is not stored and
	// leaves stored ones as they are.
	InsertOnly = "insert-only"
)

// Column is one column of a table.
type Column struct {
	Name       string   `json:"name"`
	DataType   DataType `json:"data_type,omitempty"`
	Nullable   bool     `json:"nullable"`
	PrimaryKey bool     `json:"primary_key,omitempty"`
	Unique     bool     `json:"unique,omitempty"`
	MergeKey   bool     `json:"merge_key,omitempty"`
	RowKey     bool     `json:"row_key,omitempty"`
	ParentKey  bool     `json:"parent_key,omitempty"`
	RootKey    bool     `json:"root_key,omitempty"`
	Variant    bool     `json:"variant,omitempty"`
	// Precision is dlt's precision hint: digits of a decimal, characters
	// of a text, bits of a bigint, fractional digits of a timestamp or
	// time (nil: not said; 0 is a precision: whole seconds).
	Precision *int `json:"precision,omitempty"`
	Scale     int  `json:"scale,omitempty"`
	// Timezone is dlt's timezone hint of a timestamp or time column (nil:
	// not said, which for a timestamp is true): false makes it naive,
	// holding UTC wall times, as dlt's sql_database reflects a column
	// without time zone.
	Timezone   *bool `json:"timezone,omitempty"`
	HardDelete bool  `json:"hard_delete,omitempty"`
	// RowVersion marks the row key of an scd2 table (its record's
	// content hash), ValidFrom and ValidTo its validity columns: dlt's
	// x-row-version, x-valid-from and x-valid-to hints.
	RowVersion bool `json:"x-row-version,omitempty"`
	ValidFrom  bool `json:"x-valid-from,omitempty"`
	ValidTo    bool `json:"x-valid-to,omitempty"`
	// ActiveRecordTimestamp, on an scd2 table's valid-to column, is the
	// valid-to of its current versions (dlt's x-active-record-timestamp,
	// as the resource gave it; "" is NULL).
	ActiveRecordTimestamp TimeHint `json:"x-active-record-timestamp,omitempty"`
	DedupSort             string   `json:"dedup_sort,omitempty"`
	// Incremental marks an incremental's cursor column, as dlt does when
	// the cursor path is a plain field name.
	Incremental bool `json:"incremental,omitempty"`
	// Description is the column's documentation (a resource's column hint,
	// or dlt's text for the system tables' columns).
	Description string `json:"description,omitempty"`
	// NotNull, in a resource's column hints, declares nullable = false
	// (Nullable's zero value cannot tell "not said" from "false"; dlt's
	// default is nullable). Hints travel in the extract package's
	// metadata; a table's columns never keep it (Nullable says it there).
	NotNull bool `json:"x-not-null,omitempty"`
	// Extra are the column's keys the engine does not model, written
	// back as read.
	Extra Extra `json:"-"`
}

// PrecisionOr is c's precision hint, or def when it has none.
func PrecisionOr(c *Column, def int) int {
	if c.Precision == nil {
		return def
	}
	return *c.Precision
}

// Naive reports a timestamp or time column hinted timezone = false.
func Naive(c *Column) bool { return c.Timezone != nil && !*c.Timezone }

// Table is one table: columns in the order they were first seen.
type Table struct {
	Name             string `json:"name"`
	Parent           string `json:"parent,omitempty"`
	Resource         string `json:"resource,omitempty"`
	WriteDisposition string `json:"write_disposition,omitempty"`
	MergeStrategy    string `json:"x-merge-strategy,omitempty"`
	// BoundaryTimestamp is an scd2 table's x-boundary-timestamp, as the
	// resource gave it: the valid-from of new versions and valid-to of
	// retired ones ("" is the load's creation time).
	BoundaryTimestamp TimeHint  `json:"x-boundary-timestamp,omitempty"`
	Contract          *Contract `json:"schema_contract,omitempty"`
	// Description and FileFormat are dlt's table hints of the same names
	// (the system tables carry them in dlt's schema).
	Description string `json:"description,omitempty"`
	FileFormat  string `json:"file_format,omitempty"`
	// Normalizer is dlt's x-normalizer section: what the normalizer keeps
	// about the table between runs.
	Normalizer *TableNormalizer `json:"x-normalizer,omitempty"`
	Columns    []*Column        `json:"-"`
	// Extra are the table's keys the engine does not model (references,
	// table_format, …), written back as read.
	Extra Extra `json:"-"`
}

// TableNormalizer is a table's x-normalizer section, as dlt writes it.
type TableNormalizer struct {
	// MaxNesting is the resource's max_table_nesting, kept on its root
	// table as dlt keeps it.
	MaxNesting *int `json:"max_nesting,omitempty"`
	// SeenData is set once a load has written rows to the table; dlt
	// tells a table that only has a schema from one that holds data by it.
	SeenData bool `json:"seen-data,omitempty"`
	// Extra are dlt's other keys of the section (evolve-columns-once, …).
	Extra Extra `json:"-"`
}

// SetMaxNesting records the resource's max_table_nesting on the table.
func (t *Table) SetMaxNesting(n int) {
	if t.Normalizer == nil {
		t.Normalizer = &TableNormalizer{}
	}
	t.Normalizer.MaxNesting = &n
}

// MarkSeenData records that the table has received rows.
func (t *Table) MarkSeenData() {
	if t.Normalizer == nil {
		t.Normalizer = &TableNormalizer{}
	}
	t.Normalizer.SeenData = true
}

// HasSeenData reports whether a load has written rows to the table.
func (t *Table) HasSeenData() bool {
	return t.Normalizer != nil && t.Normalizer.SeenData
}

// HasMergeKeys reports whether a column is a primary or merge key, which
// turns a merge into an upsert/delete-insert instead of an append.
func (t *Table) HasMergeKeys() bool {
	for _, c := range t.Columns {
		if c.PrimaryKey || c.MergeKey {
			return true
		}
	}
	return false
}

// Stored is the columns that exist in the destination: those with a data
// type. A column hinted before any value arrived (a hard_delete flag that
// was never set) stays in the schema without one, as in dlt, and is
// created when its first value gives it a type.
func (t *Table) Stored() []*Column {
	for _, c := range t.Columns {
		if c.DataType == "" {
			cols := make([]*Column, 0, len(t.Columns))
			for _, c := range t.Columns {
				if c.DataType != "" {
					cols = append(cols, c)
				}
			}
			return cols
		}
	}
	return t.Columns
}

// Column returns the named column or nil.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// tableJSON writes columns as an object in column order, as dlt does.
type tableJSON struct {
	Name             string           `json:"name"`
	Parent           string           `json:"parent,omitempty"`
	Resource         string           `json:"resource,omitempty"`
	WriteDisposition string           `json:"write_disposition,omitempty"`
	MergeStrategy    string           `json:"x-merge-strategy,omitempty"`
	Boundary         TimeHint         `json:"x-boundary-timestamp,omitempty"`
	Contract         *Contract        `json:"schema_contract,omitempty"`
	Description      string           `json:"description,omitempty"`
	FileFormat       string           `json:"file_format,omitempty"`
	Normalizer       *TableNormalizer `json:"x-normalizer,omitempty"`
	Columns          json.RawMessage  `json:"columns"`
}

// MarshalJSON keeps column order.
func (t *Table) MarshalJSON() ([]byte, error) {
	cols, err := marshalOrdered(t.Columns, func(c *Column) string { return c.Name })
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(tableJSON{Name: t.Name, Parent: t.Parent, Resource: t.Resource, WriteDisposition: t.WriteDisposition, MergeStrategy: t.MergeStrategy, Boundary: t.BoundaryTimestamp, Contract: t.Contract,
		Description: t.Description, FileFormat: t.FileFormat, Normalizer: t.Normalizer, Columns: cols})
	if err != nil {
		return nil, err
	}
	return appendExtra(b, t.Extra)
}

// marshalOrdered writes items as a JSON object keyed by name, in order (dlt
// keeps tables and columns in objects; Go maps would lose the order).
func marshalOrdered[T any](items []T, name func(T) string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(name(it))
		v, err := json.Marshal(it)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// unmarshalOrdered reads a JSON object's values in document order.
func unmarshalOrdered[T any](raw json.RawMessage) ([]*T, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var out []*T
	for dec.More() {
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		v := new(T)
		if err := dec.Decode(v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// UnmarshalJSON reads a column as dlt writes it: one without "nullable"
// is nullable, dlt's default (its stored schemas leave the key out of
// columns made from hints, such as a hard_delete flag).
func (c *Column) UnmarshalJSON(data []byte) error {
	type plain Column // the same fields, without this method
	p := plain{Nullable: true}
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	extra, err := splitExtra(data, reflect.TypeFor[plain]())
	if err != nil {
		return err
	}
	*c = Column(p)
	c.Extra = extra
	return nil
}

// UnmarshalJSON reads columns in document order.
func (t *Table) UnmarshalJSON(data []byte) error {
	var tj tableJSON
	if err := json.Unmarshal(data, &tj); err != nil {
		return err
	}
	extra, err := splitExtra(data, reflect.TypeFor[tableJSON]())
	if err != nil {
		return err
	}
	*t = Table{Name: tj.Name, Parent: tj.Parent, Resource: tj.Resource, WriteDisposition: tj.WriteDisposition, MergeStrategy: tj.MergeStrategy, BoundaryTimestamp: tj.Boundary, Contract: tj.Contract,
		Description: tj.Description, FileFormat: tj.FileFormat, Normalizer: tj.Normalizer, Extra: extra}
	cols, err := unmarshalOrdered[Column](tj.Columns)
	t.Columns = cols
	return err
}

// Schema is a named set of tables with a version.
type Schema struct {
	Name           string   `json:"name"`
	Version        int      `json:"version"`
	VersionHash    string   `json:"version_hash"`
	PreviousHashes []string `json:"previous_hashes,omitempty"`
	EngineVersion  int      `json:"engine_version"`
	Tables         []*Table `json:"-"`
	// Naming and Detections are dlt's normalizers.names and
	// settings.detections as a stored schema holds them ("" and nil:
	// dlt's defaults, snake_case and iso_timestamp). The engine
	// implements only the defaults (Supported); others are kept, so that
	// a schema read and written back does not lose them.
	Naming     string   `json:"-"`
	Detections []string `json:"-"`
	// Contract is settings.schema_contract, a source's contract: it
	// governs the tables that have none of their own, as in dlt.
	Contract *Contract `json:"-"`
	// MaxNesting is normalizers.json.config.max_nesting, a source's
	// max_table_nesting: the nesting of root tables that have none of
	// their own (nil: dlt's 1000).
	MaxNesting *int `json:"-"`
	// extra are the keys of the document, its settings, normalizers and
	// the json normalizer's config that the engine does not model,
	// written back as read.
	extra, settingsExtra, normalizersExtra, configExtra Extra
	// defaultHints are settings.default_hints when they are not dlt's
	// defaults (Supported refuses those the engine would apply otherwise).
	defaultHints json.RawMessage
	// rootPropagation is normalizers.json.config.propagation.root: the
	// columns every root table's nested rows copy.
	rootPropagation map[string]string
}

// Supported refuses a schema that dlt names or types by rules the engine
// does not implement: loading on with snake_case and iso_timestamp
// detection would put the same data in other columns, or type it
// otherwise, next to what dlt stored.
func (s *Schema) Supported() error {
	switch s.Naming {
	case "", "snake_case", "dlt.common.normalizers.naming.snake_case":
	default:
		return fmt.Errorf("schema %q names tables and columns by dlt's %q convention (normalizers.names); the engine names them as snake_case does and would load the same data into other columns: run this pipeline with Python dlt", s.Name, s.Naming)
	}
	if s.Detections != nil && !slices.Equal(s.Detections, []string{"iso_timestamp"}) {
		return fmt.Errorf("schema %q detects %q (settings.detections); the engine detects only iso_timestamp and would type these values otherwise: run this pipeline with Python dlt, or set the schema's detections back to [\"iso_timestamp\"]", s.Name, s.Detections)
	}
	if raw, ok := s.settingsExtra["preferred_types"]; ok && !isNull(raw) && !sameJSON(raw, []byte("{}")) {
		return fmt.Errorf("schema %q sets preferred_types (settings.preferred_types: %s); the engine types new columns by their values only and would type these otherwise: run this pipeline with Python dlt, or give the columns data types as resource hints", s.Name, raw)
	}
	if s.defaultHints != nil {
		var hints map[string][]string
		if err := json.Unmarshal(s.defaultHints, &hints); err != nil {
			return fmt.Errorf("schema %q: settings.default_hints: %w", s.Name, err)
		}
		def, _ := json.Marshal(defaultSettings().DefaultHints)
		var defaults map[string][]string
		_ = json.Unmarshal(def, &defaults)
		for _, h := range []string{"not_null", "primary_key", "merge_key", "unique", "row_key", "parent_key", "root_key", "hard_delete", "dedup_sort", "variant"} {
			if !slices.Equal(hints[h], defaults[h]) {
				return fmt.Errorf("schema %q hints columns %s by name (settings.default_hints.%s: %q); the engine does not apply default hints to new columns and would load them otherwise: run this pipeline with Python dlt, or give the hint as a resource's column hint", s.Name, h, h, hints[h])
			}
		}
	}
	return nil
}

type schemaJSON struct {
	Name           string          `json:"name"`
	Version        int             `json:"version"`
	VersionHash    string          `json:"version_hash"`
	PreviousHashes []string        `json:"previous_hashes"` // dlt reads the key, also when empty
	EngineVersion  int             `json:"engine_version"`
	Tables         json.RawMessage `json:"tables"`
	Settings       settingsJSON    `json:"settings"`
	Normalizers    normalizersJSON `json:"normalizers"`
}

// knownSchemaKeys are the document's keys schemaJSON models.
type knownSchemaKeys struct {
	Name           any `json:"name"`
	Version        any `json:"version"`
	VersionHash    any `json:"version_hash"`
	PreviousHashes any `json:"previous_hashes"`
	EngineVersion  any `json:"engine_version"`
	Tables         any `json:"tables"`
	Settings       any `json:"settings"`
	Normalizers    any `json:"normalizers"`
}

// settingsJSON is dlt's settings section as a pipeline without schema
// settings of its own has it: timestamp detection, and the default hints
// the relational normalizer adds (it is what gives the system columns
// their not-null, key and unique hints).
type settingsJSON struct {
	Detections     []string         `json:"detections"`
	DefaultHints   defaultHintsJSON `json:"default_hints"`
	SchemaContract *Contract        `json:"schema_contract,omitempty"`
}

type defaultHintsJSON struct {
	NotNull   []string `json:"not_null"`
	ParentKey []string `json:"parent_key"`
	RootKey   []string `json:"root_key"`
	Unique    []string `json:"unique"`
	RowKey    []string `json:"row_key"`
}

func defaultSettings() settingsJSON {
	return settingsJSON{
		Detections: []string{"iso_timestamp"},
		DefaultHints: defaultHintsJSON{
			NotNull:   []string{ColID, ColRootID, ColParentID, ColListIdx, ColLoadID},
			ParentKey: []string{ColParentID},
			RootKey:   []string{ColRootID},
			Unique:    []string{ColID},
			RowKey:    []string{ColID},
		},
	}
}

// normalizersJSON is dlt's normalizers section: the naming convention and
// the relational JSON normalizer with its configuration.
type normalizersJSON struct {
	Names string             `json:"names"`
	JSON  jsonNormalizerJSON `json:"json"`
}

type jsonNormalizerJSON struct {
	Module string                `json:"module"`
	Config *normalizerConfigJSON `json:"config,omitempty"`
}

type normalizerConfigJSON struct {
	MaxNesting  *int             `json:"max_nesting,omitempty"`
	Propagation *propagationJSON `json:"propagation,omitempty"`
}

// propagationJSON maps a root table to the columns its nested rows copy
// (dlt copies the root's row key into _dlt_root_id). Root maps the
// columns every root table's nested rows copy (older dlt versions wrote
// {"_dlt_id": "_dlt_root_id"} there).
type propagationJSON struct {
	Root   map[string]string `json:"root,omitempty"`
	Tables json.RawMessage   `json:"tables,omitempty"`
}

// New returns an empty schema.
func New(name string) *Schema { return &Schema{Name: name, EngineVersion: EngineVersion} }

// Table returns the named table or nil.
func (s *Schema) Table(name string) *Table {
	for _, t := range s.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// AddTable appends a table (it must not exist).
func (s *Schema) AddTable(t *Table) { s.Tables = append(s.Tables, t) }

// DataTables are the tables that hold data (not dlt's system tables), parents
// before children.
func (s *Schema) DataTables() []*Table {
	var out []*Table
	for _, t := range s.Tables {
		if len(t.Name) < 5 || t.Name[:5] != "_dlt_" {
			out = append(out, t)
		}
	}
	return out
}

// Children returns the tables whose parent chain leads to root.
func (s *Schema) Children(root string) []*Table {
	var out []*Table
	for _, t := range s.Tables {
		// at most one step per table: a stored schema whose parents loop
		// (UnmarshalJSON refuses one) must not hang the walk
		for p, steps := t.Parent, 0; p != "" && steps <= len(s.Tables); steps++ {
			if p == root {
				out = append(out, t)
				break
			}
			pt := s.Table(p)
			if pt == nil {
				break
			}
			p = pt.Parent
		}
	}
	return out
}

// Root returns the top table of t's parent chain.
func (s *Schema) Root(t *Table) *Table {
	for steps := 0; t.Parent != "" && steps <= len(s.Tables); steps++ {
		p := s.Table(t.Parent)
		if p == nil {
			break
		}
		t = p
	}
	return t
}

// MarshalJSON writes tables as an object in order, with dlt's settings and
// normalizers sections.
func (s *Schema) MarshalJSON() ([]byte, error) {
	tables, err := marshalOrdered(s.Tables, func(t *Table) string { return t.Name })
	if err != nil {
		return nil, err
	}
	prev := s.PreviousHashes
	if prev == nil {
		prev = []string{}
	}
	settings, names := defaultSettings(), "snake_case"
	if s.Detections != nil {
		settings.Detections = s.Detections
	}
	settings.SchemaContract = s.Contract
	if s.Naming != "" {
		names = s.Naming
	}
	sj := schemaJSON{
		Name: s.Name, Version: s.Version, VersionHash: s.VersionHash, PreviousHashes: prev,
		EngineVersion: s.EngineVersion, Tables: tables,
		Settings:    settings,
		Normalizers: normalizersJSON{Names: names, JSON: jsonNormalizerJSON{Module: "dlt.common.normalizers.json.relational", Config: s.normalizerConfig()}},
	}
	// The sections' unmodelled keys go in the right object: encode each
	// section, add them, and put the document together.
	settingsB, err := json.Marshal(sj.Settings)
	if err != nil {
		return nil, err
	}
	if s.defaultHints != nil {
		settingsB, err = json.Marshal(struct {
			Detections     []string        `json:"detections"`
			DefaultHints   json.RawMessage `json:"default_hints"`
			SchemaContract *Contract       `json:"schema_contract,omitempty"`
		}{sj.Settings.Detections, s.defaultHints, sj.Settings.SchemaContract})
		if err != nil {
			return nil, err
		}
	}
	if settingsB, err = appendExtra(settingsB, s.settingsExtra); err != nil {
		return nil, err
	}
	var configB []byte
	if sj.Normalizers.JSON.Config != nil || len(s.configExtra) > 0 {
		cfg := sj.Normalizers.JSON.Config
		if cfg == nil {
			cfg = &normalizerConfigJSON{}
		}
		if configB, err = json.Marshal(cfg); err != nil {
			return nil, err
		}
		if configB, err = appendExtra(configB, s.configExtra); err != nil {
			return nil, err
		}
	}
	normB, err := json.Marshal(struct {
		Names string `json:"names"`
		JSON  struct {
			Module string          `json:"module"`
			Config json.RawMessage `json:"config,omitempty"`
		} `json:"json"`
	}{Names: names, JSON: struct {
		Module string          `json:"module"`
		Config json.RawMessage `json:"config,omitempty"`
	}{Module: sj.Normalizers.JSON.Module, Config: configB}})
	if err != nil {
		return nil, err
	}
	if normB, err = appendExtra(normB, s.normalizersExtra); err != nil {
		return nil, err
	}
	doc, err := json.Marshal(struct {
		Name           string          `json:"name"`
		Version        int             `json:"version"`
		VersionHash    string          `json:"version_hash"`
		PreviousHashes []string        `json:"previous_hashes"`
		EngineVersion  int             `json:"engine_version"`
		Tables         json.RawMessage `json:"tables"`
		Settings       json.RawMessage `json:"settings"`
		Normalizers    json.RawMessage `json:"normalizers"`
	}{sj.Name, sj.Version, sj.VersionHash, sj.PreviousHashes, sj.EngineVersion, sj.Tables, settingsB, normB})
	if err != nil {
		return nil, err
	}
	return appendExtra(doc, s.extra)
}

// normalizerConfig is the relational normalizer's configuration dlt keeps
// in the schema: root key propagation for every root table whose nested
// rows carry _dlt_root_id (dlt's requires_root_key: a merge by
// delete-insert or upsert, or a nested table that already has a root key).
// nil when no table needs it, as dlt then writes no config.
func (s *Schema) normalizerConfig() *normalizerConfigJSON {
	var b bytes.Buffer
	for _, t := range s.DataTables() {
		if t.Parent != "" || !s.ownRootKey(t) {
			continue
		}
		rowKey := ColID
		for _, c := range t.Columns {
			if c.RowKey {
				rowKey = c.Name
				break
			}
		}
		if b.Len() == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(t.Name)
		from, _ := json.Marshal(rowKey)
		b.Write(name)
		b.WriteString(":{")
		b.Write(from)
		b.WriteString(`:"` + ColRootID + `"}`)
	}
	cfg := &normalizerConfigJSON{MaxNesting: s.MaxNesting}
	if s.rootPropagation != nil {
		cfg.Propagation = &propagationJSON{Root: s.rootPropagation}
	}
	if b.Len() > 0 {
		b.WriteByte('}')
		if cfg.Propagation == nil {
			cfg.Propagation = &propagationJSON{}
		}
		cfg.Propagation.Tables = b.Bytes()
	}
	if cfg.MaxNesting == nil && cfg.Propagation == nil {
		return nil
	}
	return cfg
}

// RequiresRootKey reports whether root's nested rows carry the root's row
// key (_dlt_root_id), as dlt's requires_root_key decides it: merges by
// delete-insert or upsert (not scd2), and tables whose nested tables have
// the column already.
func (s *Schema) RequiresRootKey(root *Table) bool {
	if s.rootPropagation[ColID] == ColRootID {
		return true // dlt propagates the root key from every root table
	}
	return s.ownRootKey(root)
}

// ownRootKey is RequiresRootKey by the table's own disposition and nested
// tables: a root dlt lists in propagation.tables.
func (s *Schema) ownRootKey(root *Table) bool {
	if root.WriteDisposition == Merge {
		switch root.MergeStrategy {
		case "", DeleteInsert, Upsert, InsertOnly:
			return true
		}
	}
	for _, t := range s.Children(root.Name) {
		for _, c := range t.Columns {
			if c.RootKey {
				return true
			}
		}
	}
	return false
}

// UnmarshalJSON reads a schema written by MarshalJSON.
func (s *Schema) UnmarshalJSON(data []byte) error {
	var sj schemaJSON
	if err := json.Unmarshal(data, &sj); err != nil {
		return err
	}
	*s = Schema{Name: sj.Name, Version: sj.Version, VersionHash: sj.VersionHash, PreviousHashes: sj.PreviousHashes, EngineVersion: sj.EngineVersion,
		Naming: sj.Normalizers.Names, Detections: sj.Settings.Detections, Contract: sj.Settings.SchemaContract}
	if err := s.readExtra(data); err != nil {
		return err
	}
	tables, err := unmarshalOrdered[Table](sj.Tables)
	// dlt's system tables (in every schema dlt stores, and in those the
	// destinations store: StoredJSON) are not part of the model: each
	// destination makes them itself.
	s.Tables = slices.DeleteFunc(tables, func(t *Table) bool {
		return t.Name == VersionTable || t.Name == LoadsTable || t.Name == StateTable
	})
	if err != nil {
		return err
	}
	return s.checkParents()
}

// checkParents refuses tables whose parent chain comes back to them: the
// normalizer and the loaders walk the chains to the root.
func (s *Schema) checkParents() error {
	for _, t := range s.Tables {
		seen := map[string]bool{t.Name: true}
		for p := t.Parent; p != ""; {
			if seen[p] {
				return fmt.Errorf("schema %q: table %q: its parents lead back to %q; a table's parents must end at a root table", s.Name, t.Name, p)
			}
			seen[p] = true
			pt := s.Table(p)
			if pt == nil {
				break
			}
			p = pt.Parent
		}
	}
	return nil
}

// ContentHash hashes the tables (not the version fields): equal content,
// equal hash.
func (s *Schema) ContentHash() string {
	tables := s.Tables
	if tables == nil {
		tables = []*Table{} // no tables hashes the same however it was built
	}
	b, err := json.Marshal(struct {
		Name   string   `json:"name"`
		Tables []*Table `json:"tables"`
	}{s.Name, tables})
	if err != nil {
		panic(fmt.Sprintf("schema: hash: %v", err)) // only plain values: cannot fail
	}
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Bump sets a new version when the content changed since the last bump and
// reports whether it did.
func (s *Schema) Bump() bool {
	h := s.ContentHash()
	if h == s.VersionHash {
		return false
	}
	if s.VersionHash != "" && !slices.Contains(s.PreviousHashes, s.VersionHash) {
		s.PreviousHashes = append([]string{s.VersionHash}, s.PreviousHashes...)
		if len(s.PreviousHashes) > 10 {
			s.PreviousHashes = s.PreviousHashes[:10]
		}
	}
	s.Version++
	s.VersionHash = h
	return true
}

// Clone returns a deep copy.
func (s *Schema) Clone() *Schema {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	c := &Schema{}
	if err := json.Unmarshal(b, c); err != nil {
		panic(err)
	}
	return c
}
