package datasets

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/dlthub/dlthub/internal/pipeline"
)

// TestOpenSetsTheSchemaOnEveryConnection: the dataset's tables are found
// by their bare names on every connection of the pool, not only on the one
// the pool happened to open first.
func TestOpenSetsTheSchemaOnEveryConnection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.duckdb")
	c, err := duckdb.NewConnector(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := sql.OpenDB(c)
	if _, err := w.Exec(`CREATE SCHEMA shop; CREATE TABLE shop.orders AS SELECT 7 AS id`); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()

	db, err := Open(Dataset{Name: "shop", Destination: "duckdb", Database: path})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	ctx := context.Background()
	var conns []*sql.Conn
	for i := 0; i < 4; i++ { // held at once: four distinct connections
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		conns = append(conns, conn)
	}
	for i, conn := range conns {
		var id int
		if err := conn.QueryRowContext(ctx, `SELECT id FROM orders`).Scan(&id); err != nil || id != 7 {
			t.Fatalf("connection %d: id %d, %v", i, id, err)
		}
	}
	if _, err := db.Exec(`CREATE TABLE more (x int)`); err == nil {
		t.Fatal("a dataset opened for reading accepted a write")
	}
}

// TestOpenRefusesWhatItCannotRead names the destination.
func TestOpenRefusesWhatItCannotRead(t *testing.T) {
	if _, err := Open(Dataset{Name: "d", Destination: "postgres"}); err == nil {
		t.Fatal("opened a postgres dataset as DuckDB")
	}
	if _, err := Open(Dataset{Name: "d", Destination: "duckdb", Database: filepath.Join(t.TempDir(), "missing.duckdb")}); err == nil {
		t.Fatal("opened a missing database file")
	}
}

// TestReaderSizesAndLoads: a filesystem dataset's table sizes are its
// files' bytes; DuckDB tells none; recent loads come newest first, and a
// dataset without _dlt_loads has none. (PostgreSQL's sizes are read on the
// control plane in internal/cli's TestDashboardJobOfAGoWorkspace.)
func TestReaderSizesAndLoads(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	c, err := duckdb.NewConnector(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := sql.OpenDB(c)
	if _, err := w.Exec(`CREATE SCHEMA shop; CREATE TABLE shop.orders AS SELECT range AS id FROM range(3);
CREATE TABLE shop._dlt_loads (load_id VARCHAR, schema_name VARCHAR, status BIGINT, inserted_at TIMESTAMPTZ);
INSERT INTO shop._dlt_loads VALUES ('1.1', 'shop', 0, '2026-01-01 10:00:00+00'), ('2.2', 'shop', 0, '2026-01-02 10:00:00+00')`); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	r, err := OpenReader(ctx, pipeline.DatasetAccess{Type: "duckdb", Dataset: "shop", DuckDBPath: path, Location: path})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	if sizes, err := r.Sizes(ctx); err != nil || sizes != nil {
		t.Errorf("DuckDB sizes: %v %v", sizes, err)
	}
	loads, err := r.RecentLoads(ctx, 10)
	if err != nil || len(loads) != 2 || loads[0].LoadID != "2.2" || loads[0].SchemaName != "shop" || loads[0].InsertedAt.Day() != 2 {
		t.Errorf("recent loads: %+v %v", loads, err)
	}

	dir := t.TempDir()
	writeFile := func(rel, content string) {
		p := filepath.Join(dir, "shop", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeFile("orders/1.jsonl", "{\"id\": 1}\n{\"id\": 2}\n") // 20 bytes
	writeFile("orders/2.jsonl", "{\"id\": 3}\n")              // 10 bytes
	writeFile("customers/1.jsonl", "{\"name\": \"ann\"}\n")   // 16 bytes
	fr, err := OpenReader(ctx, pipeline.DatasetAccess{Type: "filesystem", Dataset: "shop", Dir: filepath.Join(dir, "shop"), Location: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fr.Close() }()
	if sizes, err := fr.Sizes(ctx); err != nil || len(sizes) != 2 || sizes["orders"] != 30 || sizes["customers"] != 16 {
		t.Errorf("filesystem sizes: %v %v", sizes, err)
	}
	if loads, err := fr.RecentLoads(ctx, 10); err != nil || loads != nil {
		t.Errorf("loads of a dataset without _dlt_loads: %v %v", loads, err)
	}
}
