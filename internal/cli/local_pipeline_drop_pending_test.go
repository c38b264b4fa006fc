package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/cli"
	"github.com/dlthub/dlthub/internal/destination/duckdb"
)

// A package the destination keeps refusing (here: someone else's table of
// the same name, with another type) is retried before every run, and the
// error says how to get past it; drop-pending-packages deletes it (asking
// first, -y elsewhere), after which runs load again.
func TestDropPendingPackages(t *testing.T) {
	t.Parallel()
	dir := eventsPipeline(t, "duckdb")
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return runInProcess(t, dir, nil, false, "", append([]string{"local", "pipeline"}, args...)...)
	}
	if code, _, errOut := run("run", "events"); code != 0 {
		t.Fatalf("run: %s", errOut)
	}
	code, _, errOut := run("drop-pending-packages", "events")
	if code != cli.ExitOK || !strings.Contains(errOut, `no pending packages`) {
		t.Fatalf("nothing pending: %d %q", code, errOut)
	}
	query := func(q string) int64 {
		t.Helper()
		c, err := duckdb.Open(filepath.Join(dir, ".dlt", "data", "dev", "events.duckdb"), "events_dataset")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		var n int64
		if strings.HasPrefix(q, "SELECT") {
			err = c.DB().QueryRow(q).Scan(&n)
		} else {
			_, err = c.DB().Exec(q)
		}
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	exec := func(q string) { t.Helper(); query(q) }
	exec(`DROP TABLE events_dataset.events; CREATE TABLE events_dataset.events (id DATE)`)
	writeFile(t, dir, "data/2.jsonl", `{"id": 100, "kind": "view", "tags": []}`+"\n")
	if code, _, errOut := run("run", "events"); code != cli.ExitError || !strings.Contains(errOut, `load table "events"`) {
		t.Fatalf("load into the other table: %d %q", code, errOut)
	}
	code, _, errOut = run("run", "events")
	if code != cli.ExitError || !strings.Contains(errOut, "finish pending package") || !strings.Contains(errOut, "dlthub local pipeline drop-pending-packages events") {
		t.Fatalf("the next run: %d %q", code, errOut)
	}
	code, out, _ := run("failed-jobs", "events", "--json")
	var failed []struct {
		LoadID string `json:"load_id"`
	}
	if err := json.Unmarshal([]byte(out), &failed); code != 0 || err != nil || len(failed) != 1 {
		t.Fatalf("failed-jobs: %d %q %v", code, out, err)
	}
	if code, _, errOut := run("drop-pending-packages", "events"); code != cli.ExitUsage || !strings.Contains(errOut, "pass -y") {
		t.Fatalf("without -y off a terminal: %d %q", code, errOut)
	}
	code, out, errOut = run("drop-pending-packages", "events", "-y", "--json")
	var dropped []string
	if err := json.Unmarshal([]byte(out), &dropped); code != 0 || err != nil || len(dropped) != 1 || dropped[0] != failed[0].LoadID {
		t.Fatalf("drop: %d %q %q, want [%s]", code, out, errOut, failed[0].LoadID)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, ".dlt", "state", "dev", "pipelines", "events", "load", "normalized")); len(entries) != 0 {
		t.Errorf("packages left: %v", entries)
	}
	exec(`DROP TABLE events_dataset.events`)
	if code, _, errOut := run("run", "events"); code != 0 {
		t.Fatalf("run after the drop: %s", errOut)
	}
	if n := query(`SELECT count(*) FROM events_dataset.events WHERE id = 100`); n != 1 {
		t.Errorf("the record of the dropped package's file: %d rows after the next run", n)
	}
}
