package datasets

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
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
