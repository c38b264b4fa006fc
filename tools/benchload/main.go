// Command benchload measures the load engine against DuckDB's own loader on
// the same JSONL file, in the same run: the engine extracts, normalizes
// (flattening, child tables for labels and assignees) and loads into DuckDB;
// the baseline is DuckDB's read_ndjson_auto into a table plus unnesting
// labels and assignees into child tables. Each side runs as its own child
// process so its peak RSS is its own. It prints one BENCH line per size.
//
// With -dlt-rows it also loads that many records with the pinned Python
// dlt (build/py from `make setup`) and prints jsonl_vs_dlt: the engine's
// rows/s next to dlt's on the same file.
//
//	go run ./tools/benchload -rows 1000000 -sizes 1,4
//	go run ./tools/benchload -file issues_1m.jsonl
//	go run ./tools/benchload -sizes 0 -dlt-rows 200000
//
// To profile the engine alone (docs/performance.md):
//
//	go build -o bin/benchload ./tools/benchload
//	./bin/benchload -mode generate -rows 1000000 -file /tmp/issues_1m.jsonl
//	./bin/benchload -mode engine -file /tmp/issues_1m.jsonl -dir /tmp/bench-engine -cpuprofile cpu.prof
//	go tool pprof -top -cum bin/benchload cpu.prof
package main

import (
	"bufio"
	"context"
	"database/sql"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"syscall"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/dlthub/dlthub/internal/benchdata"
	"github.com/dlthub/dlthub/internal/directio"
	"github.com/dlthub/dlthub/internal/pipeline"
)

func main() {
	mode := flag.String("mode", "", "engine or native: run one side and exit; generate: write -rows records to -file")
	file := flag.String("file", os.Getenv("BENCH_FILE"), "JSONL file to load (default: generate)")
	rows := flag.Int("rows", envInt("BENCH_ROWS", 1_000_000), "records per size step when generating")
	sizes := flag.String("sizes", "1,4", "multiples of -rows to run (memory must not grow with size); 0 runs none")
	dltRows := flag.Int("dlt-rows", envInt("BENCH_DLT_ROWS", 0), "records for jsonl_vs_dlt (0: skip)")
	dltPython := flag.String("dlt-python", "build/py/bin/python", "the Python with the pinned dlt (make setup)")
	work := flag.String("dir", "", "working directory (default: a temp dir)")
	cpuProfile := flag.String("cpuprofile", "", "with -mode engine: write a CPU profile here (go tool pprof)")
	traceFile := flag.String("trace", "", "with -mode engine: write an execution trace here (go tool trace; -pprof=sync shows where goroutines wait)")
	workers := flag.Int("normalize-workers", 0, "with -mode engine: goroutines normalizing the file in pieces (normalize.workers; 0: every core)")
	fileMaxItems := flag.Int64("file-max-items", 0, "with -mode engine: rows per job file (normalize.data_writer.file_max_items); finished files load while the rest is normalized")
	flag.Parse()
	if *cpuProfile != "" {
		startInto(*cpuProfile, pprof.StartCPUProfile)
		defer pprof.StopCPUProfile()
	}
	if *traceFile != "" {
		startInto(*traceFile, trace.Start)
		defer trace.Stop()
	}
	var err error
	switch *mode {
	case "engine":
		err = runEngine(*file, *work, *fileMaxItems, *workers)
	case "native":
		err = runNative(*file, *work)
	case "dlt":
		err = runDlt(*dltPython, *file, *work)
	case "generate":
		if *file == "" {
			err = fmt.Errorf("-mode generate needs -file")
		} else {
			err = generate(*file, *rows)
		}
	default:
		err = bench(*file, *rows, *sizes, *work)
		if err == nil && *dltRows > 0 {
			err = benchDlt(*dltPython, *dltRows, *work)
		}
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "benchload:", err)
		os.Exit(1)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func bench(file string, rows int, sizes, work string) error {
	if work == "" {
		d, err := os.MkdirTemp("", "dlthub-bench-")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(d) }()
		work = d
	}
	type run struct {
		file string
		rows int
	}
	var runs []run
	if file != "" {
		n, err := countLines(file)
		if err != nil {
			return err
		}
		runs = append(runs, run{file, n})
	} else {
		for _, s := range strings.Split(sizes, ",") {
			k, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || k < 0 {
				return fmt.Errorf("bad -sizes %q", sizes)
			}
			if k == 0 {
				continue
			}
			runs = append(runs, run{"", rows * k})
		}
	}
	for _, r := range runs {
		if r.file == "" {
			// Generate each size just before its run and flush it to disk,
			// so write-back of the data set does not compete with the load.
			r.file = filepath.Join(work, fmt.Sprintf("issues_%d.jsonl", r.rows))
			fmt.Fprintf(os.Stderr, "generating %d records into %s\n", r.rows, r.file)
			if err := generate(r.file, r.rows); err != nil {
				return err
			}
		}
		eng, err := child("engine", r.file, filepath.Join(work, "engine"))
		if err != nil {
			return err
		}
		nat, err := child("native", r.file, filepath.Join(work, "native"))
		if err != nil {
			return err
		}
		ers := float64(r.rows) / eng.Wall.Seconds()
		nrs := float64(r.rows) / nat.Wall.Seconds()
		fmt.Printf("BENCH name=jsonl_to_duckdb rows=%d rows_per_s=%.0f baseline_rows_per_s=%.0f ratio=%.3f peak_rss_mb=%.0f baseline_peak_rss_mb=%.0f seconds=%.2f baseline_seconds=%.2f\n",
			r.rows, ers, nrs, ers/nrs, eng.RSSMB, nat.RSSMB, eng.Wall.Seconds(), nat.Wall.Seconds())
		if file == "" {
			_ = os.Remove(r.file)
		}
	}
	return nil
}

// dltScript is the Python peer: dlt loading the same file into DuckDB.
//
//go:embed dlt_load.py
var dltScript string

// benchDlt loads rows records with the engine and with the pinned Python
// dlt, each as its own process, and prints their throughputs.
func benchDlt(python string, rows int, work string) error {
	if work == "" {
		d, err := os.MkdirTemp("", "dlthub-bench-")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(d) }()
		work = d
	}
	if _, err := os.Stat(python); err != nil {
		return fmt.Errorf("jsonl_vs_dlt needs the pinned dlt: %w (run make setup)", err)
	}
	file := filepath.Join(work, fmt.Sprintf("issues_dlt_%d.jsonl", rows))
	if err := generate(file, rows); err != nil {
		return err
	}
	defer func() { _ = os.Remove(file) }()
	eng, err := child("engine", file, filepath.Join(work, "engine"))
	if err != nil {
		return err
	}
	peer, err := child("dlt", file, filepath.Join(work, "dlt"), "-dlt-python", python)
	if err != nil {
		return err
	}
	ers := float64(rows) / eng.Wall.Seconds()
	drs := float64(rows) / peer.Wall.Seconds()
	fmt.Printf("BENCH name=jsonl_vs_dlt rows=%d rows_per_s=%.0f dlt_rows_per_s=%.0f ratio=%.2f peak_rss_mb=%.0f dlt_peak_rss_mb=%.0f seconds=%.2f dlt_seconds=%.2f\n",
		rows, ers, drs, ers/drs, eng.RSSMB, peer.RSSMB, eng.Wall.Seconds(), peer.Wall.Seconds())
	return nil
}

// runDlt runs the Python peer in the foreground; its process is this
// child's, so the peak RSS measured is Python's (the largest child).
func runDlt(python, file, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	script := filepath.Join(dir, "dlt_load.py")
	if err := os.WriteFile(script, []byte(dltScript), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(python, script, file, dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), "RUNTIME__LOG_LEVEL=WARNING", "RUNTIME__DLTHUB_TELEMETRY=false")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("python dlt: %w", err)
	}
	return nil
}

// child runs one side of a benchmark in a process of its own, with its
// input out of the page cache (directio.Drop): each side reads the file
// from the disk, whichever ran before it. Without it the side that ran
// second read what the first had just brought into the cache, and on this
// project's VM, whose host takes back cold page cache within seconds, the
// first side's state was whatever the host had left.
func child(mode, file, dir string, extra ...string) (benchdata.Child, error) {
	_ = os.RemoveAll(dir)
	if err := directio.Drop(file); err != nil {
		return benchdata.Child{}, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	return benchdata.RunSelf(append([]string{"-mode", mode, "-file", file, "-dir", dir}, extra...)...)
}

func generate(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := benchdata.WriteIssues(f, n, 42); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

func runEngine(file, dir string, fileMaxItems int64, workers int) error {
	// CPU time (this process's, DuckDB's threads included) at the stage
	// boundaries: the end of extract and the first load event.
	var marks []time.Duration
	mark := func() { marks = append(marks, cpuTime()) }
	loading := false
	mark()
	p, err := pipeline.New(pipeline.Options{Name: "bench", PipelinesDir: filepath.Join(dir, "pipelines"), LocalDir: dir, FileMaxRows: fileMaxItems,
		NormalizeWorkers: workers,
		Hooks:            &pipeline.Hooks{AfterExtract: func(string) { mark() }},
		OnProgress: func(ev pipeline.Progress) {
			if ev.Stage == "load" && !loading {
				loading = true
				mark()
			}
		}})
	if err != nil {
		return err
	}
	info, err := p.Run(context.Background(), benchdata.JSONLResource("issues", file))
	if err != nil {
		return err
	}
	mark()
	fmt.Fprintf(os.Stderr, "engine: rows %v extract %s normalize %s load %s\n", info.Rows, info.Extract.Round(time.Millisecond), info.Normal.Round(time.Millisecond), info.Load.Round(time.Millisecond))
	if len(marks) == 4 {
		stage := func(i int, wall time.Duration) string {
			cpu := marks[i+1] - marks[i]
			return fmt.Sprintf("%.2fs (%.2f cores)", cpu.Seconds(), cpu.Seconds()/wall.Seconds())
		}
		fmt.Fprintf(os.Stderr, "engine: cpu extract %s normalize %s load %s\n", stage(0, info.Extract), stage(1, info.Normal), stage(2, info.Load))
	}
	return nil
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runNative(file, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	c, err := duckdb.NewConnector(filepath.Join(dir, "native.duckdb"), nil)
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer func() { _ = db.Close() }()
	q := strings.ReplaceAll(`
CREATE TABLE raw AS SELECT * FROM read_ndjson_auto('FILE');
CREATE TABLE issues AS SELECT raw.* EXCLUDE ("user", reactions, labels, assignees), unnest("user", recursive := true), unnest(reactions, recursive := true) FROM raw;
CREATE TABLE issues__labels AS SELECT id AS _parent_id, unnest(labels, recursive := true) FROM raw;
CREATE TABLE issues__assignees AS SELECT id AS _parent_id, unnest(assignees) AS value FROM raw;
DROP TABLE raw;`, "FILE", strings.ReplaceAll(file, "'", "''"))
	if _, err := db.Exec(q); err != nil {
		return fmt.Errorf("native load: %w", err)
	}
	return nil
}

// startInto creates path and starts a CPU profile or an execution trace
// writing into it, or exits.
func startInto(path string, start func(io.Writer) error) {
	f, err := os.Create(path)
	if err == nil {
		err = start(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchload:", err)
		os.Exit(1)
	}
}
