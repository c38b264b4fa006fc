package normalize

import (
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/naming"
	"github.com/dlthub/dlthub/internal/schema"
)

func columnNames(t *schema.Table) string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name + ":" + string(c.DataType)
	}
	return strings.Join(names, ",")
}

// A column hinted before any value arrives is kept with its hints and no
// type; the first value types it and moves it among the row's new
// columns, where dlt puts the complete column that replaces an incomplete
// one. A row that is discarded before that leaves it untyped.
func TestHintedColumnWithoutTypeWaitsForAValue(t *testing.T) {
	h := &Hints{Table: "items", Resource: "items", WriteDisposition: schema.Merge, PrimaryKey: []string{"id"},
		Columns: []*schema.Column{{Name: "deleted", HardDelete: true}, {Name: "seq", DedupSort: "desc"}}}
	n := New(schema.New("items"), naming.NewSnakeCase(63), "1700000000.1", &rowLog{})
	tbl, err := n.Prepare(h)
	if err != nil {
		t.Fatal(err)
	}
	if got := columnNames(tbl); got != "deleted:,seq:" {
		t.Fatalf("after Prepare: %s", got)
	}
	if c := tbl.Column("deleted"); !c.HardDelete || !c.Nullable {
		t.Errorf("deleted: %+v", c)
	}
	rec := &jsonx.Object{Keys: []string{"id", "seq", "v"}, Values: []any{int64(1), int64(2), "x"}}
	if err := n.Record(h, 0, rec); err != nil {
		t.Fatal(err)
	}
	if got, want := columnNames(tbl), "deleted:,id:bigint,seq:bigint,v:text,_dlt_load_id:text,_dlt_id:text"; got != want {
		t.Errorf("after a record: %s, want %s", got, want)
	}
	if c := tbl.Column("seq"); c.DedupSort != "desc" {
		t.Errorf("seq lost its hint: %+v", c)
	}
	if s := tbl.Stored(); len(s) != len(tbl.Columns)-1 || s[0].Name != "id" {
		t.Errorf("stored columns: %v", s)
	}
}

// A table takes one hard_delete and one dedup_sort column, as in dlt: two
// are refused with both names, also when the second comes in a later run.
func TestOneHardDeleteAndDedupSortColumn(t *testing.T) {
	n := New(schema.New("items"), naming.NewSnakeCase(63), "1700000000.1", &rowLog{})
	h := &Hints{Table: "items", Resource: "items", Columns: []*schema.Column{{Name: "a", DedupSort: "asc"}, {Name: "b", DedupSort: "desc"}}}
	if _, err := n.Prepare(h); err == nil || !strings.Contains(err.Error(), `columns a, b are all hinted dedup_sort`) {
		t.Errorf("two dedup_sort columns: %v", err)
	}
	n = New(schema.New("items"), naming.NewSnakeCase(63), "1700000000.1", &rowLog{})
	if _, err := n.Prepare(&Hints{Table: "items", Resource: "items", Columns: []*schema.Column{{Name: "a", HardDelete: true, DataType: schema.Bool}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Prepare(&Hints{Table: "items", Resource: "items", Columns: []*schema.Column{{Name: "b", HardDelete: true}}}); err == nil || !strings.Contains(err.Error(), `columns a, b are all hinted hard_delete`) {
		t.Errorf("a second hard_delete column in a later run: %v", err)
	}
}
