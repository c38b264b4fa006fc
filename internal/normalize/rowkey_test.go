package normalize

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"hash/fnv"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/naming"
	"github.com/dlthub/dlthub/internal/schema"
)

var rowIDField = regexp.MustCompile(`\|_dlt_id:text="([^"]*)"`)

// TestSCD2RowKeyIsDlts: the row key of an scd2 record is the one dlt's
// get_row_hash gives it. The documents and dlt's hashes of them come from
// the pinned dlt (../jsonx/testdata/sorted_vectors.py); every object among
// them is loaded as a record, and again with a "_dlt…" field added, which
// dlt leaves out of the hash.
func TestSCD2RowKeyIsDlts(t *testing.T) {
	f, err := os.Open("../jsonx/testdata/sorted_vectors.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	checked := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var v struct{ In, Hash string }
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		doc, err := jsonx.Parse([]byte(v.In))
		if err != nil {
			t.Fatalf("vector %d: %v", line, err)
		}
		obj, isObject := doc.(*jsonx.Object)
		if !isObject || obj.Len() == 0 {
			continue
		}
		withDlt := &jsonx.Object{Keys: append([]string{"_dlt_extra"}, obj.Keys...), Values: append([]any{"x"}, obj.Values...)}
		for _, rec := range []*jsonx.Object{obj, withDlt} {
			h := &Hints{Table: "items", Resource: "items", WriteDisposition: schema.Merge, MergeStrategy: schema.SCD2}
			out := &rowLog{}
			n := New(schema.New("items"), naming.NewSnakeCase(63), "1700000000.1", out)
			if err := n.Record(h, 0, rec); err != nil {
				// Keys that collide once normalized; not what this checks.
				continue
			}
			m := rowIDField.FindStringSubmatch(out.rows[0])
			if m == nil {
				t.Fatalf("vector %d: no _dlt_id in %s", line, out.rows[0])
			}
			if m[1] != v.Hash {
				t.Errorf("vector %d: %s: row key %s, dlt's %s", line, v.In, m[1], v.Hash)
			}
			checked++
		}
	}
	if checked < 100 {
		t.Fatalf("only %d records checked", checked)
	}
}

// TestUpsertKeyHashIsDlts: an upsert record's row key is dlt's hash of
// {key column: value}, whatever the record's other fields (the value was
// computed by the pinned dlt: digest128b(json.dumpb({"k1": "ä\"b", "k2":
// 2.0}, sort_keys=True), 10)).
func TestUpsertKeyHashIsDlts(t *testing.T) {
	h := &Hints{Table: "items", Resource: "items", WriteDisposition: schema.Merge, MergeStrategy: schema.Upsert, PrimaryKey: []string{"k2", "k1"}}
	for _, extra := range []any{int64(1), "other"} {
		out := &rowLog{}
		n := New(schema.New("items"), naming.NewSnakeCase(63), "1700000000.1", out)
		rec := &jsonx.Object{Keys: []string{"v", "k1", "k2"}, Values: []any{extra, "ä\"b", 2.0}}
		if err := n.Record(h, 0, rec); err != nil {
			t.Fatal(err)
		}
		m := rowIDField.FindStringSubmatch(out.rows[0])
		if m == nil || m[1] != upsertKeyHash {
			t.Fatalf("row %s: want _dlt_id %s", out.rows[0], upsertKeyHash)
		}
	}
}

const upsertKeyHash = "+Y6p76Jz/xLmcA"

// An upsert record without its primary key fails, naming resource,
// record and key, before any row is written: dlt fails the run (KeyError
// hashing the key); the engine loaded the first such record of a table
// (the required-value check needs the key's column, which did not exist
// yet). A null key is a value (the destination's NOT NULL decides).
func TestUpsertRecordWithoutKey(t *testing.T) {
	h := &Hints{Table: "items", Resource: "items", WriteDisposition: schema.Merge, MergeStrategy: schema.Upsert, PrimaryKey: []string{"id"}}
	out := &rowLog{}
	n := New(schema.New("items"), naming.NewSnakeCase(63), "1700000000.1", out)
	err := n.Record(h, 3, &jsonx.Object{Keys: []string{"v"}, Values: []any{"a"}})
	if err == nil || err.Error() != `resource "items" record 3: the record has no "id", its primary key, which upsert needs to find its row: give every record its key` {
		t.Fatalf("err = %v", err)
	}
	if len(out.rows) != 0 {
		t.Fatalf("rows written: %v", out.rows)
	}
	if err := n.Record(h, 4, &jsonx.Object{Keys: []string{"id", "v"}, Values: []any{int64(1), "a"}}); err != nil || len(out.rows) != 1 {
		t.Fatalf("a record with its key: %v, %d rows", err, len(out.rows))
	}
}

// TestSCD2NestedRowKeysAreDlts: nested rows of an scd2 record get dlt's
// get_nested_row_hash keys, derived from the record's row hash (values
// from the pinned dlt: get_nested_row_hash("NHnQHeG+Vv7NIw", "items__c",
// 0 and 1), the parent being the record of the disp_scd2_nested case),
// and nested rows of other tables keep theirs.
func TestSCD2NestedRowKeysAreDlts(t *testing.T) {
	rec, err := jsonx.Parse([]byte(`{"b": 1.5, "a": "é\n\"😀\u0001", "n": {"z": 1e-6, "y": [1, 2], "x": 1e16}, "c": [{"k": 1}, {"k": 2}], "big": 12345678.25}`))
	if err != nil {
		t.Fatal(err)
	}
	keys := func(strategy string) []string {
		h := &Hints{Table: "items", Resource: "items", WriteDisposition: schema.Merge, MergeStrategy: strategy}
		out := &rowLog{}
		n := New(schema.New("items"), naming.NewSnakeCase(63), "1700000000.1", out)
		if err := n.Record(h, 0, rec); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range out.rows {
			if strings.HasPrefix(r, "items__c|") {
				ids = append(ids, rowIDField.FindStringSubmatch(r)[1])
			}
		}
		return ids
	}
	want := []string{"59Xq6vAARS9N9w", "JT84c0N9Tqo5jw"}
	if got := keys(schema.SCD2); !slices.Equal(got, want) {
		t.Errorf("scd2 nested row keys %v, dlt's %v", got, want)
	}
	if got := keys(schema.DeleteInsert); len(got) != 2 || slices.Equal(got, want) {
		t.Errorf("delete-insert nested row keys %v: want two keys of childID's", got)
	}
}

// TestChildIDIsFNV128a: childID's own FNV-128a loop gives hash/fnv's
// digest of "<parent id>_<table>_<index>".
func TestChildIDIsFNV128a(t *testing.T) {
	for i, parent := range []string{"", "aB3dE5gH7jK9lM", "é😀\x00\xff"} {
		for _, idx := range []int{0, 7, 12345678} {
			h := fnv.New128a()
			_, _ = h.Write([]byte(parent + "_items__c_" + strconv.Itoa(idx)))
			want := base64.RawStdEncoding.EncodeToString(h.Sum(nil)[:10])
			if got := childID(parent, "items__c", idx); got != want {
				t.Errorf("parent %d, index %d: %s, want %s", i, idx, got, want)
			}
		}
	}
}
