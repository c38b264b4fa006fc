package normalize

import (
	"errors"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/naming"
	"github.com/dlthub/dlthub/internal/schema"
)

func intp(n int) *int { return &n }

// Nesting resolves as dlt's get_table_nesting_level: the resource's, else
// the table's stored one, else the schema's (a source's), else 1000.
func TestNestingResolvesAsDlts(t *testing.T) {
	rec := func() any {
		v, err := jsonx.Parse([]byte(`{"id": 1, "l": [{"x": [1, 2]}]}`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for name, tc := range map[string]struct {
		resource, table, schemaLevel *int
		want                         string
	}{
		"default":              {want: "items,items__l,items__l__x"},
		"schema":               {schemaLevel: intp(1), want: "items,items__l"},
		"table over schema":    {table: intp(0), schemaLevel: intp(2), want: "items"},
		"resource over table":  {resource: intp(1), table: intp(0), want: "items,items__l"},
		"resource over schema": {resource: intp(2), schemaLevel: intp(0), want: "items,items__l,items__l__x"},
	} {
		t.Run(name, func(t *testing.T) {
			s := schema.New("items")
			s.MaxNesting = tc.schemaLevel
			if tc.table != nil {
				tbl := &schema.Table{Name: "items", WriteDisposition: schema.Append}
				tbl.SetMaxNesting(*tc.table)
				s.AddTable(tbl)
			}
			n := New(s, naming.NewSnakeCase(63), "1700000000.1", &rowLog{})
			h := &Hints{Table: "items", Resource: "items", MaxNesting: tc.resource}
			if _, err := n.Prepare(h); err != nil {
				t.Fatal(err)
			}
			if err := n.Record(h, 0, rec()); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tb := range s.Tables {
				names = append(names, tb.Name)
			}
			if got := strings.Join(names, ","); got != tc.want {
				t.Errorf("tables %s, want %s", got, tc.want)
			}
		})
	}
}

// A schema's contract (a source's schema_contract) governs tables without
// their own, new ones included; a table's own contract wins.
func TestSchemaContractIsTheDefault(t *testing.T) {
	frozen := &schema.Contract{Tables: schema.Freeze, Columns: schema.Freeze}
	s := schema.New("items")
	s.Contract = frozen
	n := New(s, naming.NewSnakeCase(63), "1700000000.1", &rowLog{})
	var ce *schema.ContractError
	if _, err := n.Prepare(&Hints{Table: "items", Resource: "items"}); !errors.As(err, &ce) || ce.Entity != "tables" {
		t.Fatalf("a new table under the schema's frozen tables: %v", err)
	}
	h := &Hints{Table: "items", Resource: "items", Contract: &schema.Contract{Columns: schema.Freeze}}
	if _, err := n.Prepare(h); err != nil {
		t.Fatalf("the resource's own contract evolves tables: %v", err)
	}
	rec := &jsonx.Object{Keys: []string{"id"}, Values: []any{int64(1)}}
	if err := n.Record(h, 0, rec); err != nil {
		t.Fatal(err)
	}
	n.existed["items"] = true
	more := &jsonx.Object{Keys: []string{"id", "new"}, Values: []any{int64(2), "x"}}
	if err := n.Record(h, 1, more); !errors.As(err, &ce) || ce.Column != "new" {
		t.Errorf("a new column under the table's frozen columns: %v", err)
	}
}

// New scd2 versions carry the boundary (or the load's time) in the valid-from
// column the options name, and the active record timestamp in valid-to.
func TestSCD2ValidityValues(t *testing.T) {
	out := &rowLog{}
	n := New(schema.New("items"), naming.NewSnakeCase(63), "1700000000.1", out)
	n.ValidFrom = "2024-06-01T00:00:00Z"
	h := &Hints{Table: "items", Resource: "items", WriteDisposition: schema.Merge, MergeStrategy: schema.SCD2,
		SCD2: &schema.SCD2Options{ValidFrom: "vf", ValidTo: "vt", ActiveRecordTimestamp: "9999-12-31", BoundaryTimestamp: "2024-01-02T03:04:05+01:00"}}
	tbl, err := n.Prepare(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Record(h, 0, &jsonx.Object{Keys: []string{"id"}, Values: []any{int64(1)}}); err != nil {
		t.Fatal(err)
	}
	if len(out.rows) != 1 || !strings.Contains(out.rows[0], `vf:timestamp="2024-01-02T02:04:05Z"`) || !strings.Contains(out.rows[0], `vt:timestamp="9999-12-31T00:00:00Z"`) {
		t.Errorf("row %v", out.rows)
	}
	if from, to := tbl.Validity(); from == nil || to == nil || from.Name != "vf" || to.ActiveRecordTimestamp != "9999-12-31" || tbl.BoundaryTimestamp == "" {
		t.Errorf("validity columns %+v %+v, boundary %q", from, to, tbl.BoundaryTimestamp)
	}
	// Without options, the next load keeps the table's settings.
	h2 := &Hints{Table: "items", Resource: "items", WriteDisposition: schema.Merge, MergeStrategy: schema.SCD2}
	if _, err := n.Prepare(h2); err != nil {
		t.Fatal(err)
	}
	if from, to := tbl.ValidityNames(); from != "vf" || to != "vt" || tbl.Column(schema.ColValidFrom) != nil {
		t.Errorf("validity after a load without options: %s, %s; columns %s", from, to, columnNames(tbl))
	}
	var he *HintError
	h3 := &Hints{Table: "items", Resource: "items", WriteDisposition: schema.Merge, MergeStrategy: schema.SCD2, SCD2: &schema.SCD2Options{ValidFrom: "a", ValidTo: "b"}}
	if _, err := n.Prepare(h3); !errors.As(err, &he) {
		t.Errorf("renamed validity columns: %v", err)
	}
}

// As dlt, a nested table that a load makes is new for the row that makes
// it only: a later row's new column goes by the columns contract, while the
// new root table evolves for the whole load.
func TestNewNestedTableContract(t *testing.T) {
	for mode, want := range map[string]string{
		schema.DiscardValue: "items__tags|k,_dlt_parent_id,_dlt_list_idx,_dlt_id;items__tags|_dlt_parent_id,_dlt_list_idx,_dlt_id;items__tags|k,_dlt_parent_id,_dlt_list_idx,_dlt_id",
		schema.DiscardRow:   "items__tags|k,_dlt_parent_id,_dlt_list_idx,_dlt_id;items__tags|k,_dlt_parent_id,_dlt_list_idx,_dlt_id",
	} {
		t.Run(mode, func(t *testing.T) {
			s := schema.New("items")
			out := &rowLog{}
			n := New(s, naming.NewSnakeCase(63), "1700000000.1", out)
			h := &Hints{Table: "items", Resource: "items", Contract: &schema.Contract{Columns: mode}}
			if _, err := n.Prepare(h); err != nil {
				t.Fatal(err)
			}
			for i, doc := range []string{`{"id": 1, "tags": [{"k": 0}, {"t": "x"}, {"k": 2}]}`, `{"id": 2, "w": "new root column"}`} {
				rec, err := jsonx.Parse([]byte(doc))
				if err != nil {
					t.Fatal(err)
				}
				if err := n.Record(h, int64(i), rec); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for _, r := range out.rows {
				if !strings.HasPrefix(r, "items__tags|") {
					continue
				}
				var cols []string
				for _, f := range strings.Split(r, "|")[1:] {
					cols = append(cols, f[:strings.IndexByte(f, ':')])
				}
				got = append(got, "items__tags|"+strings.Join(cols, ","))
			}
			if strings.Join(got, ";") != want {
				t.Errorf("nested rows\n got %s\nwant %s", strings.Join(got, ";"), want)
			}
			if s.Table("items__tags").Column("t") != nil {
				t.Error("the later row's column t was added")
			}
			if s.Table("items").Column("w") == nil {
				t.Error("the new root table did not evolve for the whole load")
			}
		})
	}
}

// A load whose records give no value to a key column fails as dlt's
// (UnboundColumnException); one record with the key is enough, and a load
// without rows for the table is not checked.
func TestUnboundKeys(t *testing.T) {
	for name, tc := range map[string]struct {
		docs    []string
		h       Hints
		wantErr string
	}{
		"merge key":          {docs: []string{`{"id": 1}`}, h: Hints{MergeKey: []string{"w"}, WriteDisposition: schema.Merge}, wantErr: `"w" (merge key)`},
		"primary key":        {docs: []string{`{"id": 1}`, `{"id": 2, "x": null}`}, h: Hints{PrimaryKey: []string{"x"}}, wantErr: `"x" (primary key)`},
		"both":               {docs: []string{`{"id": 1}`}, h: Hints{PrimaryKey: []string{"x"}, MergeKey: []string{"w"}}, wantErr: `"x" (primary key), "w" (merge key)`},
		"one record has it":  {docs: []string{`{"id": 1, "w": "a"}`}, h: Hints{MergeKey: []string{"w"}}},
		"no rows":            {h: Hints{PrimaryKey: []string{"x"}}},
		"the key is present": {docs: []string{`{"x": 1}`, `{"x": 2}`}, h: Hints{PrimaryKey: []string{"x"}}},
	} {
		t.Run(name, func(t *testing.T) {
			s := schema.New("items")
			n := New(s, naming.NewSnakeCase(63), "1700000000.1", &rowLog{})
			h := tc.h
			h.Table, h.Resource = "items", "items"
			if _, err := n.Prepare(&h); err != nil {
				t.Fatal(err)
			}
			for i, doc := range tc.docs {
				rec, err := jsonx.Parse([]byte(doc))
				if err != nil {
					t.Fatal(err)
				}
				if err := n.Record(&h, int64(i), rec); err != nil {
					t.Fatal(err)
				}
			}
			err := n.Unbound(&h)
			var he *HintError
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (!errors.As(err, &he) || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want a HintError naming %s", err, tc.wantErr)
			}
		})
	}
}

// A resource's max_table_nesting holds from a new table's first load, with
// a columns contract too (dlt's extract drops it for that load: a listed
// difference in docs/dlt-differences.md).
func TestNestingWithContractOnFirstLoad(t *testing.T) {
	s := schema.New("items")
	n := New(s, naming.NewSnakeCase(63), "1700000000.1", &rowLog{})
	h := &Hints{Table: "items", Resource: "items", MaxNesting: intp(0), Contract: &schema.Contract{Columns: schema.DiscardValue}}
	if _, err := n.Prepare(h); err != nil {
		t.Fatal(err)
	}
	rec, err := jsonx.Parse([]byte(`{"id": 2, "tags": ["t1"], "child": {"a": "s4", "b": [0]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Record(h, 0, rec); err != nil {
		t.Fatal(err)
	}
	if len(s.Tables) != 1 {
		t.Errorf("%d tables, want items only", len(s.Tables))
	}
	for _, c := range []string{"tags", "child"} {
		if col := s.Table("items").Column(c); col == nil || col.DataType != schema.JSON {
			t.Errorf("column %s = %+v, want json", c, col)
		}
	}
}
