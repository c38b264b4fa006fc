package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dlthub/dlthub/internal/destination/duckdb"
	"github.com/dlthub/dlthub/internal/pgtest"
	"github.com/dlthub/dlthub/internal/pipeline"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

const ddl = `
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  amount numeric(12,2),
  price double precision,
  paid boolean,
  qty integer,
  created_at timestamptz,
  day date,
  note text,
  data jsonb,
  tags text[],
  nums int[],
  raw bytea,
  updated_at timestamptz NOT NULL,
  local_at timestamp
);
CREATE TABLE events (seq bigint, kind varchar(20));
INSERT INTO orders VALUES
 (1, 12345.67, 1.5, true, 3, '2024-03-04 05:06:07.123456+00', '2024-03-04', 'first', '{"a": 1, "b": [true, null, "x"]}', '{red,green}', '{1,2,3}', '\x00ff10', '2024-01-01 00:00:00+00', '2024-03-04 05:06:07.5'),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2024-01-02 00:00:00+00', NULL),
 (3, -0.01, -2e10, false, -7, '1999-12-31 23:59:59+02', '1970-01-01', 'quote '' and "double" and ✓', '[1, {"k": "v"}]', '{}', '{}', '', '2024-01-03 00:00:00+00', '1999-12-31 23:59:59');
INSERT INTO events SELECT g, 'k' || (g % 3) FROM generate_series(1, 1000) g;
`

func setup(t *testing.T) string {
	t.Helper()
	url := pgtest.URL(t)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(context.Background(), ddl); err != nil {
		t.Fatal(err)
	}
	return url
}

func TestRoundTripPostgresToDuckDB(t *testing.T) {
	url := setup(t)
	res, err := Resources(context.Background(), Config{DSN: url})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Name != "events" || res[1].Name != "orders" {
		t.Fatalf("resources %v", res)
	}
	if res[1].WriteDisposition != "merge" || !reflect.DeepEqual(res[1].PrimaryKey, []string{"id"}) || res[0].WriteDisposition != "append" {
		t.Errorf("hints from keys: %+v / %+v", res[1], res[0])
	}
	dir := t.TempDir()
	p, err := pipeline.New(pipeline.Options{Name: "pg", PipelinesDir: filepath.Join(dir, "p"), LocalDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	info, err := p.Run(context.Background(), res...)
	if err != nil {
		t.Fatal(err)
	}
	if info.Rows["orders"] != 3 || info.Rows["events"] != 1000 {
		t.Fatalf("rows %v", info.Rows)
	}
	path, _ := p.DatabasePath()
	c, err := duckdb.Open(path, p.Dataset())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	// Column types.
	want := map[string]string{"id": "BIGINT", "amount": "DECIMAL(12,2)", "price": "DOUBLE", "paid": "BOOLEAN", "qty": "BIGINT",
		"created_at": "TIMESTAMP WITH TIME ZONE", "day": "DATE", "note": "VARCHAR", "data": "JSON", "tags": "JSON", "nums": "JSON", "raw": "BLOB",
		"local_at": "TIMESTAMP"} // without time zone: naive, as dlt's sql_database reflects it
	for col, typ := range want {
		var got string
		if err := c.DB().QueryRow(`SELECT data_type FROM information_schema.columns WHERE table_schema = 'pg_dataset' AND table_name = 'orders' AND column_name = ?`, col).Scan(&got); err != nil || got != typ {
			t.Errorf("%s: %s %v, want %s", col, got, err, typ)
		}
	}
	// Values, row for row, against PostgreSQL's own.
	pgc, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pgc.Close(context.Background()) }()
	const pgq = `SELECT id, amount::text, price, paid, qty, extract(epoch from created_at)::float8, day::text, note, data::text, to_jsonb(tags)::text, to_jsonb(nums)::text, encode(raw, 'hex'), extract(epoch from local_at)::float8 FROM orders ORDER BY id`
	const dq = `SELECT id, amount::VARCHAR, price, paid, qty, epoch(created_at), day::VARCHAR, note, data::VARCHAR, tags::VARCHAR, nums::VARCHAR, hex(raw), epoch(local_at) FROM pg_dataset.orders ORDER BY id`
	prows, err := pgc.Query(context.Background(), pgq)
	if err != nil {
		t.Fatal(err)
	}
	var pv [][]any
	for prows.Next() {
		vals, _ := prows.Values()
		pv = append(pv, vals)
	}
	prows.Close()
	drows, err := c.DB().Query(dq)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for drows.Next() {
		vals := make([]any, 13)
		ptrs := make([]any, 13)
		for j := range vals {
			ptrs[j] = &vals[j]
		}
		if err := drows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for j := range vals {
			if !same(pv[i][j], vals[j]) {
				t.Errorf("row %d column %d: postgres %#v, duckdb %#v", i, j, pv[i][j], vals[j])
			}
		}
		i++
	}
	_ = drows.Close()
	if i != 3 {
		t.Errorf("%d rows compared", i)
	}
}

// same compares a PostgreSQL value with DuckDB's: numbers by value, JSON
// by meaning, hex case-insensitively, NULL with NULL.
func same(pg, dk any) bool {
	if pg == nil || dk == nil {
		return pg == nil && dk == nil || pg == "" && dk == ""
	}
	ps, dks := fmt.Sprint(pg), fmt.Sprint(dk)
	if ps == dks {
		return true
	}
	var pj, dj any
	if json.Unmarshal([]byte(ps), &pj) == nil && json.Unmarshal([]byte(dks), &dj) == nil && reflect.DeepEqual(pj, dj) {
		return true
	}
	if pf, ok := toFloat(pg); ok {
		if df, ok := toFloat(dk); ok {
			return pf == df
		}
	}
	return equalFold(ps, dks)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	}
	return 0, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		ca, cb := a[i], b[i]
		if 'a' <= ca && ca <= 'z' {
			ca -= 32
		}
		if 'a' <= cb && cb <= 'z' {
			cb -= 32
		}
		if ca != cb {
			return false
		}
	}
	return true
}

func TestIncrementalAndSelection(t *testing.T) {
	url := setup(t)
	dir := t.TempDir()
	p, err := pipeline.New(pipeline.Options{Name: "inc", PipelinesDir: filepath.Join(dir, "p"), LocalDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{DSN: url, Tables: []string{"orders"}, PerTable: map[string]TableHints{"orders": {Incremental: &pipeline.Incremental{CursorPath: "updated_at"}}}}
	res, err := Resources(context.Background(), cfg)
	if err != nil || len(res) != 1 {
		t.Fatalf("%v %v", res, err)
	}
	if info, err := p.Run(context.Background(), res...); err != nil || info.Rows["orders"] != 3 {
		t.Fatalf("first: %v %v", info, err)
	}
	conn, _ := pgx.Connect(context.Background(), url)
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(context.Background(), `INSERT INTO orders (id, updated_at) VALUES (4, $1)`, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	res, _ = Resources(context.Background(), cfg)
	if info, err := p.Run(context.Background(), res...); err != nil || info.Rows["orders"] != 1 {
		t.Fatalf("second: %v %v", info, err)
	}
	if _, err := Resources(context.Background(), Config{DSN: url, Tables: []string{"nope"}}); err == nil {
		t.Error("unknown table accepted")
	}
}
