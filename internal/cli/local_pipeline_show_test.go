package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dlthub/dlthub/internal/cli"
	"github.com/dlthub/dlthub/internal/pgtest"
)

// The PostgreSQL server of these tests starts on first use (most tests of
// this package need none) and stops when they end.
var (
	pgOnce sync.Once
	pgStop func()
	pgErr  error
)

// stopPostgresAfter runs the tests, then stops the server if one started.
type stopPostgresAfter struct{ m *testing.M }

func (s stopPostgresAfter) Run() int {
	code := s.m.Run()
	if pgStop != nil {
		pgStop()
	}
	return code
}

// postgresURL is a fresh database on the tests' server (skipped, loudly,
// where no server can be had).
func postgresURL(t *testing.T) string {
	t.Helper()
	if os.Getenv(pgtest.EnvURL) == "" {
		pgOnce.Do(func() {
			var url string
			if pgStop, url, pgErr = pgtest.Start(); pgErr == nil {
				pgErr = os.Setenv(pgtest.EnvURL, url)
			}
		})
		if pgErr != nil {
			t.Skipf("SKIPPED: no PostgreSQL server: %v", pgErr)
		}
	}
	return pgtest.URL(t)
}

// eventsPipeline writes a workspace with pipelines/events.toml loading a
// JSONL file with a nested list into dest.
func eventsPipeline(t *testing.T, dest string) string {
	t.Helper()
	dir := t.TempDir()
	if code, _, errOut := runInProcess(t, dir, nil, false, "", "init", "--name", "acme_ws"); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	writeFile(t, dir, "pipelines/events.toml", "[pipeline]\ndestination = \""+dest+"\"\n[source]\ntype = \"filesystem\"\nbucket_url = \"data\"\nfile_glob = \"*.jsonl\"\n")
	var b strings.Builder
	for i := range 30 {
		b.WriteString(`{"id": ` + strconv.Itoa(i) + `, "kind": "click", "note": "` + strings.Repeat("long ", 20) + `", "tags": [{"name": "a"}, {"name": "b"}]}` + "\n")
	}
	writeFile(t, dir, "data/1.jsonl", b.String())
	return dir
}

// checkShowAndSQL runs show and sql on the events pipeline: listings,
// previews, JSON, an unknown table, and writes that are refused.
func checkShowAndSQL(t *testing.T, dir string, env map[string]string) {
	t.Helper()
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return runInProcess(t, dir, env, false, "", append([]string{"local", "pipeline"}, args...)...)
	}
	code, out, errOut := run("show", "events")
	if code != 0 {
		t.Fatalf("show: %d %s", code, errOut)
	}
	for _, want := range []string{"TABLE  ", "events  ", "events__tags", "_dlt_loads"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "TABLE") || !strings.HasPrefix(lines[1], "events ") || !strings.HasSuffix(lines[1], "events__tags") ||
		!strings.HasPrefix(lines[2], "events__tags ") || !strings.HasSuffix(lines[2], " events") || !strings.HasPrefix(lines[3], "_dlt_") {
		t.Errorf("show: want events with its child table, then the child naming its parent, then dlt's tables:\n%s", out)
	}
	if !strings.Contains(lines[1], " 30 ") || !strings.Contains(lines[2], " 60 ") {
		t.Errorf("row counts:\n%s", out)
	}
	code, out, errOut = run("show", "events", "--json")
	var tables []struct {
		Name     string   `json:"name"`
		Rows     int64    `json:"rows"`
		Parent   string   `json:"parent"`
		Children []string `json:"children"`
	}
	if err := json.Unmarshal([]byte(out), &tables); code != 0 || err != nil || len(tables) < 2 || tables[0].Name != "events" || tables[0].Children[0] != "events__tags" || tables[1].Parent != "events" {
		t.Errorf("show --json: %d %v %s %s", code, err, out, errOut)
	}

	// The first rows of a table; long values are cut; _dlt_ columns only
	// with --dlt-columns, last.
	code, out, errOut = run("show", "events", "events")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 21 || !strings.HasPrefix(lines[0], "id") || strings.Contains(out, "_dlt_") || !strings.Contains(out, "long long…") {
		t.Errorf("show events events: %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "20 of 30 rows of events") {
		t.Errorf("no note on the rows left out: %q", errOut)
	}
	code, out, _ = run("show", "events", "events__tags", "--limit", "2", "--dlt-columns")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if header := strings.Fields(lines[0]); code != 0 || len(lines) != 3 || header[0] != "name" || !strings.HasPrefix(header[1], "_dlt_") || !slices.Contains(header, "_dlt_parent_id") {
		t.Errorf("child table with dlt columns: %d\n%s", code, out)
	}
	code, out, _ = run("show", "events", "events", "-n", "2", "--json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 2 || rows[0]["kind"] != "click" || !strings.HasPrefix(rows[0]["note"].(string), "long long long") || len(rows[0]["note"].(string)) < 90 {
		t.Errorf("show --json rows: %d %v %s", code, err, out)
	}
	code, _, errOut = run("show", "events", "evnts")
	if code != cli.ExitUsage || !strings.Contains(errOut, `has no table "evnts" (did you mean "events"?)`) {
		t.Errorf("unknown table: %d %q", code, errOut)
	}

	// sql: a read, in the dataset's schema without naming it.
	code, out, errOut = run("sql", "events", "SELECT count(*) AS n FROM events__tags")
	if code != 0 || strings.TrimSpace(out) != "n\n60" {
		t.Errorf("sql count: %d %q %s", code, out, errOut)
	}
	code, out, errOut = run("sql", "events", "SELECT id, kind FROM events ORDER BY id", "--limit", "3", "--json")
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 3 || rows[2]["id"] != float64(2) || !strings.Contains(errOut, "First 3 rows") {
		t.Errorf("sql --json: %d %v %q %q", code, err, out, errOut)
	}
	// Writes are refused and change nothing.
	for _, q := range []string{"INSERT INTO events (id) VALUES (1000)", "CREATE TABLE sneaky (a int)", "DROP TABLE events__tags", "DELETE FROM events"} {
		code, _, errOut = run("sql", "events", q)
		if code != cli.ExitError || !strings.Contains(errOut, "is opened read-only, nothing was changed") {
			t.Errorf("%s: %d %q", q, code, errOut)
		}
	}
	code, out, _ = run("sql", "events", "SELECT (SELECT count(*) FROM events) AS e, (SELECT count(*) FROM events__tags) AS t, (SELECT count(*) FROM information_schema.tables WHERE table_name = 'sneaky') AS s")
	if code != 0 || strings.TrimSpace(strings.Split(strings.TrimSpace(out), "\n")[1]) != "30  60  0" {
		t.Errorf("after the refused writes: %d %q", code, out)
	}
}

func TestPipelineShowAndSQLDuckDB(t *testing.T) {
	t.Parallel()
	dir := eventsPipeline(t, "duckdb")
	if code, _, errOut := runInProcess(t, dir, nil, false, "", "local", "pipeline", "run", "events"); code != 0 {
		t.Fatalf("run: %s", errOut)
	}
	checkShowAndSQL(t, dir, nil)
	// DuckDB runs several statements; a write among them is refused too.
	code, _, errOut := runInProcess(t, dir, nil, false, "", "local", "pipeline", "sql", "events", "SELECT 1; DROP TABLE events")
	if code != cli.ExitError || !strings.Contains(errOut, "read-only") {
		t.Errorf("two statements: %d %q", code, errOut)
	}
}

func TestPipelineShowAndSQLFilesystem(t *testing.T) {
	t.Parallel()
	dir := eventsPipeline(t, "filesystem")
	if code, _, errOut := runInProcess(t, dir, nil, false, "", "local", "pipeline", "run", "events"); code != 0 {
		t.Fatalf("run: %s", errOut)
	}
	checkShowAndSQL(t, dir, nil)
}

func TestPipelineShowAndSQLPostgres(t *testing.T) {
	url := postgresURL(t)
	dir := eventsPipeline(t, "postgres")
	env := map[string]string{"DESTINATION__POSTGRES__CREDENTIALS": url}
	if code, _, errOut := runInProcess(t, dir, env, false, "", "local", "pipeline", "run", "events"); code != 0 {
		t.Fatalf("run: %s", errOut)
	}
	checkShowAndSQL(t, dir, env)
	// One statement at a time: a write behind a read is refused.
	code, _, errOut := runInProcess(t, dir, env, false, "", "local", "pipeline", "sql", "events", "SELECT 1; DROP TABLE events")
	if code != cli.ExitError || !strings.Contains(errOut, "multiple commands") {
		t.Errorf("two statements: %d %q", code, errOut)
	}
	// A query cut short by --limit still prints its rows.
	code, out, errOut := runInProcess(t, dir, env, false, "", "local", "pipeline", "sql", "events", "SELECT * FROM events__tags", "--limit", "2")
	if code != 0 || len(strings.Split(strings.TrimSpace(out), "\n")) != 3 || !strings.Contains(errOut, "First 2 rows") {
		t.Errorf("cut short: %d %q %q", code, out, errOut)
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM events_dataset.events`).Scan(&n); err != nil || n != 30 {
		t.Errorf("events after the refused writes: %d %v", n, err)
	}
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.tables WHERE table_name = 'sneaky'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("a table was created: %d %v", n, err)
	}
}

func TestPipelineShowErrors(t *testing.T) {
	t.Parallel()
	dir := eventsPipeline(t, "duckdb")
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"show", "nope"}, cli.ExitError, `no pipeline "nope"`},
		{[]string{"sql", "nope", "SELECT 1"}, cli.ExitError, `no pipeline "nope"`},
		{[]string{"show"}, cli.ExitUsage, "takes a pipeline NAME and optionally a TABLE"},
		{[]string{"sql", "events"}, cli.ExitUsage, "needs 2 argument(s)"},
		{[]string{"show", "events", "--limit", "-1"}, cli.ExitUsage, "--limit -1"},
		{[]string{"sql", "events", " "}, cli.ExitUsage, "the query is empty"},
	}
	for _, tc := range cases {
		code, _, errOut := runInProcess(t, dir, nil, false, "", append([]string{"local", "pipeline"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: %d %q, want %d %q", tc.args, code, errOut, tc.code, tc.msg)
		}
	}
}
