package mcpserver_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/dlthub/dlthub/internal/mcpserver"
)

func connect(t *testing.T, catalog mcpserver.Catalog) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	if _, err := mcpserver.New("test", catalog).Connect(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// call calls a tool; it returns the structured answer, or the error text
// of a tool error.
func call(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) (map[string]any, string) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	if res.IsError {
		var msg []string
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				msg = append(msg, tc.Text)
			}
		}
		return nil, strings.Join(msg, " ")
	}
	b, _ := json.Marshal(res.StructuredContent)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out, ""
}

func TestToolsOverADuckDBDataset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "github.duckdb")
	c, err := duckdb.NewConnector(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	for _, q := range []string{
		`CREATE SCHEMA github_data`,
		`CREATE TABLE github_data.issues (id BIGINT NOT NULL, title VARCHAR, created_at TIMESTAMPTZ)`,
		`INSERT INTO github_data.issues VALUES (1, 'first', '2026-12-01 10:00:00+00'), (2, 'second', NULL), (3, 'third', NULL)`,
		`CREATE TABLE github_data._dlt_loads (load_id VARCHAR)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.Close()
	cs := connect(t, func() ([]mcpserver.Dataset, error) {
		return []mcpserver.Dataset{
			{Pipeline: "github", Name: "github_data", Destination: "duckdb", Database: path, Tables: 1},
			{Pipeline: "shop", Name: "shop_data", Destination: "postgres"},
		}, nil
	})
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil || len(tools.Tools) != 5 {
		t.Fatalf("tools: %v %v", tools, err)
	}
	out, _ := call(t, cs, "list_datasets", nil)
	if b, _ := json.Marshal(out); !strings.Contains(string(b), `"dataset":"github_data"`) || !strings.Contains(string(b), `"destination":"postgres"`) {
		t.Errorf("datasets: %s", b)
	}
	out, _ = call(t, cs, "list_tables", map[string]any{"dataset": "github"}) // the pipeline's name works too
	if b, _ := json.Marshal(out); string(b) != `{"tables":[{"name":"_dlt_loads","rows":0},{"name":"issues","rows":3}]}` {
		t.Errorf("tables: %s", b)
	}
	out, _ = call(t, cs, "describe_table", map[string]any{"dataset": "github_data", "table": "issues"})
	if b, _ := json.Marshal(out); !strings.Contains(string(b), `{"name":"id","nullable":false,"type":"BIGINT"}`) || !strings.Contains(string(b), `"TIMESTAMP WITH TIME ZONE"`) {
		t.Errorf("describe: %s", b)
	}
	out, _ = call(t, cs, "preview_table", map[string]any{"dataset": "github_data", "table": "issues", "limit": 2})
	if b, _ := json.Marshal(out); !strings.Contains(string(b), `"title":"first"`) || !strings.Contains(string(b), `"created_at":"2026-12-01T10:00:00Z"`) || strings.Contains(string(b), "third") {
		t.Errorf("preview: %s", b)
	}
	out, _ = call(t, cs, "query", map[string]any{"dataset": "github_data", "sql": "SELECT count(*) AS n FROM issues WHERE title LIKE '%ir%'"})
	if b, _ := json.Marshal(out); string(b) != `{"columns":["n"],"rows":[{"n":2}]}` {
		t.Errorf("query: %s", b)
	}
	// Read-only, and clear errors.
	if _, msg := call(t, cs, "query", map[string]any{"dataset": "github_data", "sql": "DELETE FROM issues"}); !strings.Contains(msg, "read-only") {
		t.Errorf("write: %q", msg)
	}
	if _, msg := call(t, cs, "list_tables", map[string]any{"dataset": "shop_data"}); !strings.Contains(msg, "on postgres, which cannot be read here yet") {
		t.Errorf("postgres: %q", msg)
	}
	if _, msg := call(t, cs, "list_tables", map[string]any{"dataset": "nope"}); !strings.Contains(msg, `no dataset "nope" (datasets: github_data, shop_data)`) {
		t.Errorf("unknown: %q", msg)
	}
	if _, msg := call(t, cs, "describe_table", map[string]any{"dataset": "github_data", "table": "nope"}); !strings.Contains(msg, `has no table "nope"`) {
		t.Errorf("unknown table: %q", msg)
	}
	// The data is as it was.
	c2, _ := duckdb.NewConnector(path, nil)
	db2 := sql.OpenDB(c2)
	defer func() { _ = db2.Close() }()
	var n int
	if err := db2.QueryRow(`SELECT count(*) FROM github_data.issues`).Scan(&n); err != nil || n != 3 {
		t.Errorf("rows after: %d %v", n, err)
	}
}
