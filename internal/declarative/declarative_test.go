package declarative

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/pgtest"
	"github.com/dlthub/dlthub/internal/pipeline"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func writeSpec(t *testing.T, root, name, body string) {
	t.Helper()
	p := filepath.Join(root, Dir, name+".toml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSQLDatabasePipeline(t *testing.T) {
	url := pgtest.URL(t)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(context.Background(), `CREATE SCHEMA shop; CREATE TABLE shop.orders (id int PRIMARY KEY, total numeric(8,2), updated_at timestamptz NOT NULL);
INSERT INTO shop.orders VALUES (1, 9.99, '2024-01-01'), (2, 5, '2024-01-02'); CREATE TABLE shop.customers (id int PRIMARY KEY, name text); INSERT INTO shop.customers VALUES (1, 'a');`)
	_ = conn.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeSpec(t, root, "shop_db", `
[pipeline]
destination = "duckdb"
[source]
type = "sql_database"
schema = "shop"
table_names = ["orders"]
[source.tables.orders]
incremental = { cursor_path = "updated_at" }
write_disposition = "merge"
`)
	spec, err := Load(root, "shop_db")
	if err != nil {
		t.Fatal(err)
	}
	r := &config.Resolver{Providers: []config.Provider{&config.EnvProvider{LookupEnv: func(k string) (string, bool) {
		if k == "SOURCES__SHOP_DB__CREDENTIALS" {
			return url, true
		}
		return "", false
	}}}}
	res, err := spec.Resources(root, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Name != "orders" || res[0].Incremental == nil {
		t.Fatalf("resources %+v", res)
	}
	p, err := pipeline.New(pipeline.Options{Name: "shop_db", PipelinesDir: filepath.Join(root, "p"), LocalDir: root, Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	info, err := p.Run(context.Background(), res...)
	if err != nil || info.Rows["orders"] != 2 {
		t.Fatalf("run: %v %v", info, err)
	}
	// Credentials in the file are refused.
	writeSpec(t, root, "leak", "[source]\ntype = \"sql_database\"\ncredentials = \"postgresql://u:p@h/db\"\n")
	if _, err := Load(root, "leak"); err == nil || !strings.Contains(err.Error(), "source.credentials is a secret") {
		t.Errorf("leak: %v", err)
	}
	// Missing credentials name the keys tried.
	empty := &config.Resolver{Providers: []config.Provider{&config.EnvProvider{LookupEnv: func(string) (string, bool) { return "", false }}}}
	if _, err := spec.Resources(root, empty); err == nil || !strings.Contains(err.Error(), "sources.shop_db.credentials") {
		t.Errorf("missing credentials: %v", err)
	}
}
