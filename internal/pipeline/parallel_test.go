package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/loadpackage"
	"github.com/dlthub/dlthub/internal/normalize"
	"github.com/dlthub/dlthub/internal/schema"
)

// piecesPipeline normalizes with workers goroutines in pieces of
// chunkBytes (workers 1: on one goroutine, as without pieces).
func piecesPipeline(t *testing.T, name string, workers int, chunkBytes int64) *Pipeline {
	t.Helper()
	dir := t.TempDir()
	p, err := New(Options{Name: name, PipelinesDir: filepath.Join(dir, "p"), LocalDir: filepath.Join(dir, "d"),
		NormalizeWorkers: workers, NormalizeChunkBytes: chunkBytes})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// evolvingDocs are records whose schema keeps changing all through: new
// columns every 97 records, a variant from record 1,500, a child table
// from record 2,000 and a nested list in a list near the end.
func evolvingDocs(n int) []string {
	var docs []string
	for i := range n {
		d := fmt.Sprintf(`{"id": %d, "title": "issue %d", "score": %d, "labels": [{"name": "l%d"}]`, i%700, i, i, i%5)
		if i%97 == 96 {
			d += fmt.Sprintf(`, "late_%d": %d`, i/97, i)
		}
		if i >= 1500 && i%3 == 0 {
			d = strings.Replace(d, fmt.Sprintf(`"score": %d`, i), fmt.Sprintf(`"score": "s%d"`, i), 1)
		}
		if i >= 2000 {
			d += fmt.Sprintf(`, "tags": ["t%d", "u"], "user": {"login": "u%d", "admin": %v}`, i%3, i%11, i%2 == 0)
		}
		if i >= 2900 {
			d += `, "grid": [[1, 2], [3]]`
		}
		docs = append(docs, d+"}")
	}
	return docs
}

// jobFiles counts the job files of a pipeline's loaded packages.
func jobFiles(t *testing.T, p *Pipeline) int {
	t.Helper()
	ids, err := p.store.List(loadpackage.LoadedDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, id := range ids {
		jobs, err := loadpackage.Jobs(filepath.Join(p.store.PackageDir(loadpackage.LoadedDir, id), loadpackage.NewJobs))
		if err != nil {
			t.Fatal(err)
		}
		n += len(jobs)
	}
	return n
}

// Normalizing an extracted file in pieces on several goroutines makes the
// tables one goroutine makes: the same columns in the same order with the
// same types (variants included), the same rows, for append and for merge
// (whose last record per key wins across pieces).
func TestNormalizeInPiecesMakesTheSameTables(t *testing.T) {
	docs := evolvingDocs(3000)
	for _, disposition := range []string{schema.Append, schema.Merge} {
		t.Run(disposition, func(t *testing.T) {
			res := func() *Resource {
				r := &Resource{Name: "issues", WriteDisposition: disposition, Records: records(jsonRecords(t, docs...)...)}
				if disposition == schema.Merge {
					r.PrimaryKey = []string{"id"}
				}
				return r
			}
			pieces := piecesPipeline(t, "pieces", 3, 4096)
			one := piecesPipeline(t, "pieces", 1, 0)
			for range 2 { // the second package meets the first one's schema
				run(t, pieces, res())
				run(t, one, res())
			}
			if n, m := jobFiles(t, pieces), jobFiles(t, one); n < 4*m {
				t.Fatalf("%d job files in pieces, %d on one goroutine: the file was not normalized in pieces", n, m)
			}
			a, b := openDB(t, pieces), openDB(t, one)
			for _, table := range []string{"issues", "issues__labels", "issues__tags", "issues__grid", "issues__grid__list"} {
				got, want := dump(t, a, "pieces_dataset", table), dump(t, b, "pieces_dataset", table)
				if got != want {
					t.Errorf("%s in pieces:\n%.2000s\non one goroutine:\n%.2000s", table, got, want)
				}
			}
			sa, err := pieces.Schema()
			if err != nil {
				t.Fatal(err)
			}
			sb, err := one.Schema()
			if err != nil {
				t.Fatal(err)
			}
			for _, tb := range sb.Tables {
				ta := sa.Table(tb.Name)
				if ta == nil || fmt.Sprint(columnNames(ta)) != fmt.Sprint(columnNames(tb)) {
					t.Errorf("schema table %s: in pieces %v, on one goroutine %v", tb.Name, columnNames(ta), columnNames(tb))
				}
			}
		})
	}
}

func columnNames(t *schema.Table) []string {
	if t == nil {
		return nil
	}
	var out []string
	for _, c := range t.Columns {
		out = append(out, c.Name+" "+string(c.DataType))
	}
	return out
}

// A bad record in a later piece fails the package as it fails on one
// goroutine: a data error naming the same record, nothing loaded.
func TestNormalizeInPiecesBadRecord(t *testing.T) {
	var b strings.Builder
	for i := range 2000 {
		if i == 1733 {
			b.WriteString(`{"id": 1733, "title": ,}` + "\n")
			continue
		}
		fmt.Fprintf(&b, `{"id": %d, "title": "t"}`+"\n", i)
	}
	errs := map[int]error{}
	for _, workers := range []int{1, 3} {
		p := piecesPipeline(t, "bad", workers, 2048)
		// The extracted copy holds what the resource gave; feed it raw lines.
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		recs := make([]any, len(lines))
		for i, l := range lines {
			recs[i] = jsonx.Raw(l)
		}
		_, err := p.Run(context.Background(), &Resource{Name: "issues", Records: records(recs...)})
		errs[workers] = err
	}
	var re1, re3 *normalize.RecordError
	if !errors.As(errs[1], &re1) || !errors.As(errs[3], &re3) || re1.Index != re3.Index || re1.Msg != re3.Msg {
		t.Fatalf("one goroutine: %v; in pieces: %v", errs[1], errs[3])
	}
}

// dlt's normalize.workers sets the workers; a value that is not a whole
// number from 1 to 1024 is refused by name, and nothing is loaded.
func TestNormalizeWorkersSetting(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    int
		wantErr string
	}{
		{"", max(1, runtime.GOMAXPROCS(0)/2), ""},
		{"3", 3, ""},
		{"0", 0, "normalize.workers must be a whole number from 1 to 1024, not 0"},
		{"many", 0, "normalize.workers must be a whole number from 1 to 1024, not many"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			env := map[string]string{}
			if tc.value != "" {
				env["NORMALIZE__WORKERS"] = tc.value
			}
			r := &config.Resolver{Providers: []config.Provider{&config.EnvProvider{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}}
			dir := t.TempDir()
			p, err := New(Options{Name: "nw", PipelinesDir: filepath.Join(dir, "p"), LocalDir: filepath.Join(dir, "d"), Resolver: r})
			if err != nil {
				t.Fatal(err)
			}
			n, err := p.normalizeWorkers()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				_, err = p.Run(context.Background(), &Resource{Name: "items", Records: records(jsonRecords(t, `{"id": 1}`)...)})
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("run: err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || n != tc.want {
				t.Fatalf("workers = %d (%v), want %d", n, err, tc.want)
			}
		})
	}
}
