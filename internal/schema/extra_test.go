package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

// dltDoc is a schema as dlt stores it, with keys the engine does not
// model at every level.
const dltDoc = `{
 "version": 3, "version_hash": "h", "engine_version": 11, "name": "src", "description": "my source",
 "tables": {"items": {"name": "items", "write_disposition": "append", "resource": "items",
   "references": [{"referenced_table": "other", "columns": ["id"], "referenced_columns": ["id"]}],
   "table_format": "iceberg",
   "x-normalizer": {"seen-data": true, "evolve-columns-once": true},
   "columns": {"v": {"name": "v", "data_type": "text", "nullable": true, "partition": true, "x-custom": {"k": [1, 2]}}}}},
 "settings": {"detections": ["iso_timestamp"], "default_hints": {"not_null": ["_dlt_id", "_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_load_id"], "parent_key": ["_dlt_parent_id"], "root_key": ["_dlt_root_id"], "unique": ["_dlt_id"], "row_key": ["_dlt_id"], "partition": ["re:^day$"]},
   "schema_contract": {"columns": "freeze"}, "preferred_types": {}},
 "normalizers": {"names": "snake_case", "json": {"module": "dlt.common.normalizers.json.relational",
   "config": {"max_nesting": 2, "propagation": {"root": {"_dlt_id": "_dlt_root_id"}}, "custom": 1}}, "x-extra": true}
}`

func TestExtraKeysRoundTrip(t *testing.T) {
	var s Schema
	if err := json.Unmarshal([]byte(dltDoc), &s); err != nil {
		t.Fatal(err)
	}
	if s.Contract == nil || s.Contract.Columns != Freeze {
		t.Errorf("schema contract %+v", s.Contract)
	}
	if s.MaxNesting == nil || *s.MaxNesting != 2 {
		t.Errorf("max nesting %v", s.MaxNesting)
	}
	if !s.RequiresRootKey(s.Table("items")) {
		t.Error("root propagation of every table not read")
	}
	if err := s.Supported(); err != nil {
		t.Errorf("a partition default hint and empty preferred types: %v", err)
	}
	out, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(dltDoc), &want)
	// What the engine writes itself: previous_hashes, the root
	// propagation's table entries. Everything dlt wrote comes back.
	var missing []string
	var walk func(path string, w, g any)
	walk = func(path string, w, g any) {
		wm, ok := w.(map[string]any)
		if !ok {
			wj, _ := json.Marshal(w)
			gj, _ := json.Marshal(g)
			if string(wj) != string(gj) {
				missing = append(missing, path+": "+string(wj)+" became "+string(gj))
			}
			return
		}
		gm, _ := g.(map[string]any)
		for k, v := range wm {
			walk(path+"."+k, v, gm[k])
		}
	}
	walk("", want, got)
	if len(missing) > 0 {
		t.Errorf("written back differently:\n  %s\n%s", strings.Join(missing, "\n  "), out)
	}
	// and again: the second round trip is the first's
	var again Schema
	if err := json.Unmarshal(out, &again); err != nil {
		t.Fatal(err)
	}
	out2, _ := json.Marshal(&again)
	if string(out2) != string(out) {
		t.Errorf("second round trip differs:\n%s\n%s", out, out2)
	}
}

func TestSupportedRefusesTypingSettings(t *testing.T) {
	for want, edit := range map[string]func(doc string) string{
		"sets preferred_types": func(d string) string {
			return strings.Replace(d, `"preferred_types": {}`, `"preferred_types": {"re:^amount$": "decimal"}`, 1)
		},
		"settings.default_hints.not_null": func(d string) string {
			return strings.Replace(d, `"not_null": ["_dlt_id",`, `"not_null": ["re:^id$", "_dlt_id",`, 1)
		},
		"settings.default_hints.primary_key": func(d string) string {
			return strings.Replace(d, `"partition": ["re:^day$"]`, `"primary_key": ["id"]`, 1)
		},
	} {
		var s Schema
		if err := json.Unmarshal([]byte(edit(dltDoc)), &s); err != nil {
			t.Fatal(err)
		}
		if err := s.Supported(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}

// An extra key never replaces one the engine writes.
func TestExtraKeysDoNotShadow(t *testing.T) {
	c := &Column{Name: "a", DataType: Text, Nullable: true}
	var back Column
	b, _ := json.Marshal(c)
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Extra != nil {
		t.Errorf("a column's own keys read as extra: %v", back.Extra)
	}
	var tb Table
	if err := json.Unmarshal([]byte(`{"name": "t", "columns": {}, "x-normalizer": {"seen-data": true}}`), &tb); err != nil {
		t.Fatal(err)
	}
	if tb.Extra != nil || tb.Normalizer.Extra != nil {
		t.Errorf("a table's own keys read as extra: %v %v", tb.Extra, tb.Normalizer.Extra)
	}
}

// FuzzSchemaJSON: any document the schema reads (a stored schema comes
// from the destination, written by whatever wrote it) is written without
// error, and reading that back writes the same bytes: nothing read is
// lost or changed by a second round trip.
func FuzzSchemaJSON(f *testing.F) {
	f.Add([]byte(dltDoc))
	f.Add([]byte(`{"name": "s", "tables": {}}`))
	f.Add([]byte(`{"name": "s", "tables": {"t": {"name": "t", "columns": {"a": {"name": "a", "x-active-record-timestamp": 1.5e9}}}}, "settings": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Schema
		if json.Unmarshal(data, &s) != nil {
			return
		}
		out, err := json.Marshal(&s)
		if err != nil {
			t.Fatalf("read %s, cannot write it: %v", data, err)
		}
		var again Schema
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("cannot read what was written: %v\n%s", err, out)
		}
		out2, err := json.Marshal(&again)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(out2) {
			t.Fatalf("second round trip differs:\n%s\n%s", out, out2)
		}
	})
}

// A stored schema whose tables are each other's parents is refused when
// read: the walks to a root would never end.
func TestParentLoopRefused(t *testing.T) {
	var s Schema
	err := json.Unmarshal([]byte(`{"name": "s", "tables": {"a": {"name": "a", "parent": "b", "columns": {}}, "b": {"name": "b", "parent": "a", "columns": {}}}}`), &s)
	if err == nil || !strings.Contains(err.Error(), `its parents lead back to`) {
		t.Errorf("err = %v", err)
	}
	s = Schema{Tables: []*Table{{Name: "a", Parent: "b"}, {Name: "b", Parent: "a"}}}
	if r := s.Root(s.Tables[0]); r == nil || len(s.Children("x")) != 0 {
		t.Error("walks of a loop")
	}
}
