package schema

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
)

// The export is dlt's layout without names under their keys, with the
// system tables, and round-trips what the stored document holds.
func TestExport(t *testing.T) {
	s := New("gh")
	n := 2
	issues := &Table{Name: "issues", Resource: "issues", WriteDisposition: Merge,
		Contract:   &Contract{Tables: Freeze, Columns: Freeze, DataType: Freeze, whole: true},
		Normalizer: &TableNormalizer{MaxNesting: &n, SeenData: true},
		Columns:    []*Column{{Name: "id", DataType: Bigint, PrimaryKey: true}, {Name: ColID, DataType: Text, RowKey: true, Unique: true}}}
	labels := &Table{Name: "issues__labels", Parent: "issues",
		Columns: []*Column{{Name: ColRootID, DataType: Text, RootKey: true}}}
	s.AddTable(issues)
	s.AddTable(labels)

	var out bytes.Buffer
	if err := s.WriteExport(&out, "json"); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Name   string                                `json:"name"`
		Tables map[string]map[string]json.RawMessage `json:"tables"`
		Norm   struct {
			JSON struct {
				Config struct {
					Propagation struct {
						Tables map[string]map[string]string `json:"tables"`
					} `json:"propagation"`
				} `json:"config"`
			} `json:"json"`
		} `json:"normalizers"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{VersionTable, LoadsTable, StateTable, "issues", "issues__labels"} {
		tb, ok := doc.Tables[name]
		if !ok {
			t.Errorf("table %s is not exported", name)
			continue
		}
		if _, ok := tb["name"]; ok {
			t.Errorf("table %s keeps its name (dlt's export leaves it to the key)", name)
		}
	}
	if got := string(doc.Tables["issues"]["schema_contract"]); got != `"freeze"` {
		t.Errorf("schema_contract = %s, want the shorthand it was given", got)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, doc.Tables["issues"]["x-normalizer"]); err != nil {
		t.Fatal(err)
	}
	if got := compact.String(); got != `{"max_nesting":2,"seen-data":true}` {
		t.Errorf("x-normalizer = %s", got)
	}
	if strings.Contains(string(doc.Tables["issues"]["columns"]), `"name"`) {
		t.Errorf("columns keep their names: %s", doc.Tables["issues"]["columns"])
	}
	if got := doc.Norm.JSON.Config.Propagation.Tables; len(got) != 1 || got["issues"][ColID] != ColRootID {
		t.Errorf("propagation = %v, want issues: {_dlt_id: _dlt_root_id}", got)
	}

	out.Reset()
	if err := s.WriteExport(&out, "yaml"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\n  issues:\n") || !strings.Contains(out.String(), "schema_contract: freeze\n") {
		t.Errorf("yaml export:\n%s", out.String())
	}
	if err := s.WriteExport(&out, "xml"); err == nil {
		t.Error("format xml was accepted")
	}
}

// A stored schema keeps a contract's shorthand and the x-normalizer
// section through a round trip (Clone marshals and unmarshals).
func TestStoredRoundTrip(t *testing.T) {
	s := New("gh")
	n := 0
	s.AddTable(&Table{Name: "a", Contract: &Contract{Tables: Evolve, Columns: Evolve, DataType: Evolve, whole: true},
		Normalizer: &TableNormalizer{MaxNesting: &n, SeenData: true}, Description: "d"})
	s.AddTable(&Table{Name: "b", Contract: &Contract{Columns: Freeze}})
	c := s.Clone()
	if c.ContentHash() != s.ContentHash() {
		a, _ := json.Marshal(s)
		b, _ := json.Marshal(c)
		t.Fatalf("round trip changed the schema:\n%s\n%s", a, b)
	}
	if got := c.Table("a").Normalizer; got == nil || got.MaxNesting == nil || *got.MaxNesting != 0 || !got.SeenData {
		t.Errorf("x-normalizer after round trip = %+v", got)
	}
	b, _ := json.Marshal(c.Table("b"))
	if !strings.Contains(string(b), `"schema_contract":{"columns":"freeze"}`) {
		t.Errorf("a table contract became %s", b)
	}
}

// The document a destination stores has what dlt's loader requires when it
// restores the schema (a pipeline moved from the engine to dlt): the
// system tables first (_dlt_pipeline_state last) and previous_hashes even
// when empty. Reading it back gives the same schema, without them.
func TestStoredJSONIsWhatDltReads(t *testing.T) {
	s := New("gh")
	s.AddTable(&Table{Name: "issues", Columns: []*Column{{Name: "id", DataType: Bigint}, {Name: "deleted", HardDelete: true, Nullable: true}}})
	s.Bump()
	b, err := s.StoredJSON()
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonx.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*jsonx.Object)
	if ph, ok := o.Get("previous_hashes"); !ok || ph == nil {
		t.Errorf("previous_hashes: %v (dlt raises KeyError without it)", ph)
	}
	tv, _ := o.Get("tables")
	tables := tv.(*jsonx.Object)
	if got := strings.Join(tables.Keys, ","); got != "_dlt_version,_dlt_loads,issues,_dlt_pipeline_state" {
		t.Errorf("tables %s", got)
	}
	cv, _ := tables.Get("issues")
	cols, _ := cv.(*jsonx.Object).Get("columns")
	del, _ := cols.(*jsonx.Object).Get("deleted")
	if _, typed := del.(*jsonx.Object).Get("data_type"); typed {
		t.Errorf("a column without a type is written with one: %v", del)
	}
	back := &Schema{}
	if err := json.Unmarshal(b, back); err != nil {
		t.Fatal(err)
	}
	if back.ContentHash() != s.ContentHash() || len(back.Tables) != 1 {
		t.Errorf("read back with %d tables, hash %s, want 1 and %s", len(back.Tables), back.ContentHash(), s.ContentHash())
	}
}
