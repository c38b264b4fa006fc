package dltcompat

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/python/pythontest"
)

// differences are the cases that differ from dlt on purpose (or not yet
// fixed), with the reason; a listed case that matches fails, so the list
// shrinks as the engine converges.
func loadDifferences(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "differences.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]string
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// driverProcs is how many dlt interpreters share the corpus (dlt's
// start-up and per-pipeline cost dominate the harness' time).
const driverProcs = 2

// runDlt runs every case through Python dlt, the corpus split over
// driverProcs interpreters, and returns the directory of its dumps.
func runDlt(t *testing.T, cases []Case) string {
	t.Helper()
	py := pythontest.Find(t)
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, driverProcs)
	outs := make([][]byte, driverProcs)
	for i := range driverProcs {
		var part []Case
		for j := i; j < len(cases); j += driverProcs {
			part = append(part, cases[j])
		}
		b, err := json.Marshal(part)
		if err != nil {
			t.Fatal(err)
		}
		in := filepath.Join(dir, fmt.Sprintf("cases-%d.json", i))
		if err := os.WriteFile(in, b, 0o644); err != nil {
			t.Fatal(err)
		}
		home := filepath.Join(dir, fmt.Sprintf("home-%d", i))
		if err := os.Mkdir(home, 0o700); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(py.Python, "driver.py", in, dir)
		cmd.Env = append(os.Environ(), "HOME="+home)
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("dlt driver: %v\n%s", err, outs[i])
		}
	}
	return dir
}

func readDump(t *testing.T, path string) *Result {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := decodeResult(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// TestMatchesDlt runs the corpus through dlt and the engine and compares
// what each stored.
func TestMatchesDlt(t *testing.T) {
	cases, err := LoadCases(filepath.Join("testdata", "cases"))
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, GenerateLoads(genSeed(t), generatedLoads())...)
	ctx := context.Background()
	handovers := handoverCases(cases)
	backs := handBackCases(ctx, t, cases)
	cases = append(cases, Generate(1, generated)...)
	diffs := loadDifferences(t)
	dltDir := runDlt(t, append(append(cases, handovers...), backs...))
	checkDltVersion(t, dltDir)
	for _, b := range backs {
		// The engine ran the first load; dlt ran the others into the
		// engine's DuckDB file and must store what it stores running
		// them all.
		name := strings.TrimSuffix(b.Name, handBackSuffix)
		t.Run(b.Name, func(t *testing.T) {
			want := readDump(t, filepath.Join(dltDir, name+".json"))
			got := readDump(t, filepath.Join(dltDir, b.Name+".json"))
			if want.Error != "" {
				t.Skip("dlt refused the case")
			}
			expectSame(t, Compare(want, got), diffs, b.Name, "dlt loading on from the engine's first load")
		})
	}
	for _, h := range handovers {
		// dlt ran the first load and kept its DuckDB file; the engine
		// runs the others into it and must store what dlt stored running
		// them all.
		name := strings.TrimSuffix(h.Name, handoverSuffix)
		t.Run(h.Name, func(t *testing.T) {
			want := readDump(t, filepath.Join(dltDir, name+".json"))
			first := readDump(t, filepath.Join(dltDir, h.Name+".json"))
			if want.Error != "" || first.Error != "" {
				t.Skip("dlt refused the case")
			}
			rest := h
			rest.Loads = casesByName(cases)[name].Loads[1:]
			got, err := ContinueEngine(ctx, rest, filepath.Join(dltDir, h.Name+".duckdb"), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			expectSame(t, Compare(want, got), diffs, h.Name, "loading on from dlt's first load")
		})
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			want := readDump(t, filepath.Join(dltDir, c.Name+".json"))
			got, err := RunEngine(ctx, c, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			d := Compare(want, got)
			why, listed := diffs[c.Name]
			var ed []string // the exported schema's share of d
			if want.Error == "" && got.Error == "" {
				ed = compareExports(want.Export, got.Export)
			}
			switch {
			case listed && len(d) == 0:
				t.Errorf("matches dlt now: remove it from testdata/differences.json (%s)", why)
			case !listed && len(d) > 0:
				t.Errorf("differs from dlt (%s):\n  %s", c.Why, strings.Join(d, "\n  "))
			case listed && len(ed) > 0 && len(d) > len(ed):
				// Listed for what it stores, the case must still export
				// dlt's schema: the listing would hide that regression.
				t.Errorf("listed for %q, but its exported schema differs too:\n  %s", why, strings.Join(ed, "\n  "))
			}
		})
	}
}

// expectSame fails a handed-over case whose differences d from dlt loading
// all its loads are not listed in testdata/differences.json, or that is
// listed and matches.
func expectSame(t *testing.T, d []string, diffs map[string]string, name, what string) {
	t.Helper()
	why, listed := diffs[name]
	switch {
	case listed && len(d) == 0:
		t.Errorf("matches dlt now: remove it from testdata/differences.json (%s)", why)
	case !listed && len(d) > 0:
		t.Errorf("%s differs from dlt loading all:\n  %s", what, strings.Join(d, "\n  "))
	}
}

// handoverSuffix names the cases whose first load dlt runs and the rest
// the engine, into dlt's DuckDB file.
const handoverSuffix = "__from_dlt"

// handoverCases are the hand-written cases of more than one load, cut to
// their first load for dlt to run and keep the database of: a user moving
// a pipeline from Python dlt to the engine keeps the dataset, its stored
// schema and state, and the engine must load on as dlt would.
func handoverCases(cases []Case) []Case {
	var out []Case
	for _, c := range cases {
		if len(c.Loads) < 2 {
			continue
		}
		h := c
		h.Name, h.Loads, h.KeepDB, h.Pipeline = c.Name+handoverSuffix, c.Loads[:1], true, c.PipelineName()
		out = append(out, h)
	}
	return out
}

// handBackSuffix names the cases whose first load the engine runs and
// the rest dlt, into the engine's DuckDB file.
const handBackSuffix = "__from_engine"

// handBackCases runs the first load of every hand-written case of more
// than one load through the engine and returns the cases for dlt to load
// the others on top: a dataset the engine made must be one that dlt
// continues as its own (schema, state, row keys). A first load the engine
// refuses has nothing to hand back.
func handBackCases(ctx context.Context, t *testing.T, cases []Case) []Case {
	t.Helper()
	var out []Case
	for _, c := range cases {
		if len(c.Loads) < 2 {
			continue
		}
		first := c
		first.Loads = c.Loads[:1]
		dir := t.TempDir()
		r, err := RunEngine(ctx, first, dir)
		if err != nil {
			t.Fatal(err)
		}
		if r.Error != "" {
			continue
		}
		b := c
		b.Name, b.Loads, b.Pipeline, b.FromDB = c.Name+handBackSuffix, c.Loads[1:], c.PipelineName(), filepath.Join(dir, c.PipelineName()+".duckdb")
		out = append(out, b)
	}
	return out
}

func casesByName(cases []Case) map[string]Case {
	m := make(map[string]Case, len(cases))
	for _, c := range cases {
		m[c.Name] = c
	}
	return m
}

// generated is how many random cases join the hand-written ones.
const generated = 100

// generatedLoads is how many random cases of several loads (GenerateLoads)
// join them, handed over both ways like the hand-written ones;
// DLTCOMPAT_LOADS=N explores more.
func generatedLoads() int {
	if n, err := strconv.Atoi(os.Getenv("DLTCOMPAT_LOADS")); err == nil {
		return n
	}
	return 30
}

// genSeed is GenerateLoads' seed: 1, or DLTCOMPAT_SEED to explore others.
func genSeed(t *testing.T) uint64 {
	s := os.Getenv("DLTCOMPAT_SEED")
	if s == "" {
		return 1
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("DLTCOMPAT_SEED=%s: want a number", s)
	}
	return n
}

// checkDltVersion fails when the dlt that ran is not the one the corpus and
// testdata/differences.json were last checked against: a new dlt may
// change what matches, and the differences must be looked at again.
func checkDltVersion(t *testing.T, dltDir string) {
	t.Helper()
	ran, err := os.ReadFile(filepath.Join(dltDir, "dlt-version"))
	if err != nil {
		t.Fatal(err)
	}
	checked, err := os.ReadFile(filepath.Join("testdata", "dlt-version"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(ran)) != strings.TrimSpace(string(checked)) {
		t.Fatalf("dlt %s ran, but the corpus was checked against dlt %s: run this test, review testdata/differences.json and docs/dlt-differences.md, then write %s into testdata/dlt-version",
			strings.TrimSpace(string(ran)), strings.TrimSpace(string(checked)), strings.TrimSpace(string(ran)))
	}
}

// The generator makes the same cases from the same seed, and others from
// another.
func TestGenerateIsDeterministic(t *testing.T) {
	a, _ := json.Marshal(Generate(7, 20))
	b, _ := json.Marshal(Generate(7, 20))
	c, _ := json.Marshal(Generate(8, 20))
	if string(a) != string(b) {
		t.Error("two runs of seed 7 differ")
	}
	if string(a) == string(c) {
		t.Error("seeds 7 and 8 made the same cases")
	}
	for _, gen := range []func(uint64, int) []Case{Generate, GenerateLoads} {
		a, _ := json.Marshal(gen(7, 20))
		b, _ := json.Marshal(gen(7, 20))
		if string(a) != string(b) {
			t.Error("two runs of seed 7 differ")
		}
	}
}

// GenerateLoads keeps out what dlt leaves unspecified: a primary key twice
// in a load of a deduplicating merge without dedup_sort, or of upsert and
// insert-only at all; and its loads are lists, never null.
func TestGenerateLoadsKeepsToWhatDltSpecifies(t *testing.T) {
	strategies := map[string]int{}
	for _, c := range GenerateLoads(11, 400) {
		var wd any
		if err := json.Unmarshal(c.Hints["write_disposition"], &wd); err != nil {
			t.Fatal(err)
		}
		st := strategy(wd)
		strategies[st]++
		_, sorted := c.Hints["columns"]
		sorted = sorted && strings.Contains(string(c.Hints["columns"]), "dedup_sort")
		for i, load := range c.Loads {
			if load == nil {
				t.Fatalf("%s: load %d is null", c.Name, i)
			}
			seen := map[float64]bool{}
			for _, raw := range load {
				var rec map[string]any
				if err := json.Unmarshal(raw, &rec); err != nil {
					t.Fatal(err)
				}
				var id float64
				for _, k := range []string{"id", "Item ID", "itemId"} {
					if v, ok := rec[k].(float64); ok {
						id = v
					}
				}
				if id == 0 {
					t.Fatalf("%s: a record without its key: %s", c.Name, raw)
				}
				dup := seen[id]
				seen[id] = true
				if dup && (st == "upsert" || st == "insert-only" || st == "delete-insert" && !sorted) {
					t.Errorf("%s: load %d has id %v twice under %s", c.Name, i, id, st)
				}
			}
		}
	}
	for _, st := range []string{"", "delete-insert", "upsert", "scd2", "insert-only"} {
		if strategies[st] == 0 {
			t.Errorf("no case of strategy %q in 400", st)
		}
	}
}

// TestHarnessCatchesABrokenRule breaks the engine's output the way a
// broken normalizer rule would (two columns swapped, a value changed, a
// hint dropped) and checks the harness reports each, readably. The engine
// runs twice on the case, so the comparison itself is exercised end to end
// on real DuckDB files.
func TestHarnessCatchesABrokenRule(t *testing.T) {
	ctx := context.Background()
	c := Case{Name: "broken", Loads: [][]json.RawMessage{{json.RawMessage(`{"id": 1, "name": "a", "tags": ["x", "y"]}`)}}}
	want, err := RunEngine(ctx, c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	same, err := RunEngine(ctx, c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if d := Compare(want, same); len(d) != 0 {
		t.Fatalf("two runs of one case differ:\n%s", strings.Join(d, "\n"))
	}
	got, _ := RunEngine(ctx, c, t.TempDir())
	// Swap id and name, in the schema, the table and its rows.
	st := got.Schema.Tables["items"]
	st.Columns[0], st.Columns[1] = st.Columns[1], st.Columns[0]
	got.Schema.Tables["items"] = st
	tb := got.Tables["items"]
	tb.Columns[0], tb.Columns[1] = tb.Columns[1], tb.Columns[0]
	for _, r := range tb.Rows {
		r[0], r[1] = r[1], r[0]
	}
	// A nested value changed, and the row key's unique hint dropped.
	got.Tables["items__tags"].Rows[1][0] = "z"
	delete(got.Schema.Tables["items"].Columns[3], "unique")
	d := strings.Join(Compare(want, got), "\n")
	for _, w := range []string{
		"schema: table items: columns:\n    dlt:    id, name, _dlt_load_id, _dlt_id\n    engine: name, id, _dlt_load_id, _dlt_id",
		"database: table items columns:\n    dlt:    id BIGINT, name VARCHAR",
		"data: table items__tags: 1 row(s) differ",
		`dlt:    {_dlt_list_idx=1, value="y"}`,
		`engine: {_dlt_list_idx=1, value="z"}`,
		"schema: items._dlt_id: unique: dlt true, engine -",
	} {
		if !strings.Contains(d, w) {
			t.Errorf("the diff does not say %q:\n%s", w, d)
		}
	}
}

// TestHarnessCatchesABrokenExport breaks the exported schema document the
// ways a broken export would, both in the schema it is printed from (a
// column hint dropped, columns swapped, a table's x-normalizer lost) and
// in the printed document (a system table missing, a default hint gone),
// and checks the comparison reports each, readably. The documents are the
// real ones: the engine's schema printed as YAML by the code behind
// `local pipeline schema` and parsed back.
func TestHarnessCatchesABrokenExport(t *testing.T) {
	ctx := context.Background()
	c := Case{Name: "broken_export", Hints: map[string]json.RawMessage{
		"write_disposition": json.RawMessage(`"merge"`), "primary_key": json.RawMessage(`"id"`),
	}, Loads: [][]json.RawMessage{{json.RawMessage(`{"id": 1, "name": "a", "tags": ["x", "y"]}`)}}}
	dir := t.TempDir()
	want, err := RunEngine(ctx, c, dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := openPipeline(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Schema()
	if err != nil {
		t.Fatal(err)
	}
	same, err := ExportYAML(s)
	if err != nil {
		t.Fatal(err)
	}
	if d := compareExports(want.Export, same); len(d) != 0 {
		t.Fatalf("two exports of one schema differ:\n%s", strings.Join(d, "\n"))
	}

	items := s.Table("items")
	items.Column("id").PrimaryKey = false
	items.Columns[0], items.Columns[1] = items.Columns[1], items.Columns[0]
	s.Table("items__tags").Normalizer = nil
	doc, err := ExportYAML(s)
	if err != nil {
		t.Fatal(err)
	}
	tables, _ := doc.Get("tables")
	removeKey(tables.(*jsonx.Object), "_dlt_loads")
	settings, _ := doc.Get("settings")
	hints, _ := settings.(*jsonx.Object).Get("default_hints")
	removeKey(hints.(*jsonx.Object), "unique")

	got := *want
	got.Export = doc
	d := strings.Join(Compare(want, &got), "\n")
	for _, w := range []string{
		"export: table items: columns:\n    dlt:    id, name, _dlt_load_id, _dlt_id\n    engine: name, id, _dlt_load_id, _dlt_id",
		"export: items.id: primary_key: dlt true, engine -",
		`export: table items__tags: x-normalizer: dlt {"seen-data":true}, engine -`,
		"export: table _dlt_loads is dlt's only",
		`export: settings.default_hints.unique: dlt ["_dlt_id"], engine -`,
	} {
		if !strings.Contains(d, w) {
			t.Errorf("the diff does not say %q:\n%s", w, d)
		}
	}
}

// removeKey deletes key from o.
func removeKey(o *jsonx.Object, key string) {
	for i, k := range o.Keys {
		if k == key {
			o.Keys = append(o.Keys[:i], o.Keys[i+1:]...)
			o.Values = append(o.Values[:i], o.Values[i+1:]...)
			return
		}
	}
}
