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
