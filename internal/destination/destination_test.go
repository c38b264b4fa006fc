package destination

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/dlthub/dlthub/internal/schema"
)

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// memDB is an in-memory DuckDB with the rows given, in table t (columns
// id, flag bool, deleted_at timestamptz, valid_to timestamptz).
func memDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	for _, q := range []string{
		`CREATE TABLE t (id BIGINT, flag BOOLEAN, deleted_at TIMESTAMPTZ, valid_to TIMESTAMPTZ)`,
		`INSERT INTO t VALUES (1, NULL, NULL, NULL), (2, false, NULL, '9999-12-31 00:00:00+00'), (3, true, '2024-01-01 00:00:00+00', '2024-01-01 00:00:00+00')`,
		`CREATE TABLE s AS SELECT * FROM t WHERE id > 1 UNION ALL SELECT 4, true, NULL, NULL`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// The conditions the merges use, run on DuckDB: a bool hard_delete column
// deletes on true, one of another type on any value, an untyped one on
// none; current scd2 versions are NULL or the active record timestamp.
func TestMergeConditionsOnDuckDB(t *testing.T) {
	db := memDB(t)
	ref := func(c string) string { return "t." + quote(c) }
	boolTable := &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "id", DataType: schema.Bigint, PrimaryKey: true}, {Name: "flag", DataType: schema.Bool, HardDelete: true}}}
	if n := count(t, db, `SELECT count(*) FROM t WHERE `+NotDeleted(boolTable, ref)); n != 2 {
		t.Errorf("bool hard_delete keeps %d rows, want 2 (NULL and false)", n)
	}
	tsTable := &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "deleted_at", DataType: schema.Timestamp, HardDelete: true}, {Name: "flag", DataType: schema.Bool, HardDelete: true}}}
	if n := count(t, db, `SELECT count(*) FROM t WHERE `+NotDeleted(tsTable, ref)); n != 2 {
		t.Errorf("the first hard_delete column (a timestamp) keeps %d rows, want 2", n)
	}
	if c := NotDeleted(&schema.Table{Columns: []*schema.Column{{Name: "x", HardDelete: true}}}, ref); c != "" {
		t.Errorf("an untyped hard_delete column: %q, want none", c)
	}

	// upsert: flagged staged keys the target lacks (id 4 only)
	boolTable.MergeStrategy = schema.Upsert
	q := NewFlaggedKeys(boolTable, quote, []string{"id"}, "s", "t")
	if n := count(t, db, `SELECT count(*) FROM (`+q+`)`); n != 1 {
		t.Errorf("new flagged keys: %d, want 1", n)
	}
	boolTable.MergeStrategy = schema.DeleteInsert
	if q := NewFlaggedKeys(boolTable, quote, []string{"id"}, "s", "t"); q != "" {
		t.Errorf("delete-insert has no new flagged keys: %q", q)
	}
	nested, root := HardDeleteFilters(boolTable, func(c string) string { return "s." + quote(c) }, []string{"id"}, "")
	if nested != root || count(t, db, `SELECT count(*) FROM s`+nested) != 1 {
		t.Errorf("filters %q %q", nested, root)
	}

	for name, tc := range map[string]struct {
		active string
		want   int
	}{"NULL": {"", 1}, "active record timestamp": {"9999-12-31", 1}} {
		tb := &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "valid_to", DataType: schema.Timestamp, ValidTo: true, ActiveRecordTimestamp: schema.TimeHint(tc.active)}}}
		v := NewSCD2(tb, quote)
		if v.To != `"valid_to"` || v.From != `"_dlt_valid_from"` {
			t.Errorf("%s: columns %s, %s", name, v.From, v.To)
		}
		got := count(t, db, `SELECT count(*) FROM t d WHERE `+v.Active("d"))
		var id int
		if err := db.QueryRow(`SELECT id FROM t WHERE ` + v.Active("")).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if got != tc.want || (tc.active == "" && id != 1) || (tc.active != "" && id != 2) {
			t.Errorf("%s: %d current rows (id %d)", name, got, id)
		}
	}
}

func TestKeyMatchAndQuoteAll(t *testing.T) {
	if got := KeyMatch(quote, []string{"a", `b"c`}, "s", "d"); got != `s."a" = d."a" AND s."b""c" = d."b""c"` {
		t.Errorf("KeyMatch: %s", got)
	}
	if got := QuoteAll(quote, []string{"a", "b"}); got != `"a", "b"` {
		t.Errorf("QuoteAll: %s", got)
	}
	if DedupSort(&schema.Table{Columns: []*schema.Column{{Name: "a", DedupSort: "desc"}}}) != nil {
		t.Error("an untyped dedup_sort column picks the record kept")
	}
}

// A failed statement's error keeps the cause and shows at most 400 bytes
// of the statement.
func TestQueryError(t *testing.T) {
	cause := errors.New("boom")
	err := QueryError(cause, strings.Repeat("x", 1000))
	if !errors.Is(err, cause) || len(err.Error()) > 420 || !strings.HasSuffix(err.Error(), "…") {
		t.Errorf("%d bytes: %v", len(err.Error()), err)
	}
	if id := NewRowID(); len(id) != 14 || id == NewRowID() {
		t.Errorf("row id %q", id)
	}
}
