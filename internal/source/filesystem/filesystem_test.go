package filesystem

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/dlthub/dlthub/internal/destination/duckdb"
	"github.com/dlthub/dlthub/internal/directio"
	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/pipeline"
)

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func collect(t *testing.T, c Config, rc *pipeline.ResourceContext) ([]string, error) {
	t.Helper()
	if rc == nil {
		rc = &pipeline.ResourceContext{State: map[string]any{}}
	}
	var out []string
	for rec, err := range c.Records()(context.Background(), rc) {
		if err != nil {
			return out, err
		}
		b, err := jsonx.Append(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out, nil
}

func TestMatch(t *testing.T) {
	cases := []struct {
		glob, name string
		want       bool
	}{
		{"*.jsonl", "a.jsonl", true},
		{"*.jsonl", "x/a.jsonl", false},
		{"**/*.jsonl", "a.jsonl", true},
		{"**/*.jsonl", "x/y/a.jsonl", true},
		{"x/**/a.*", "x/a.csv", true},
		{"x/**", "x/y/z", true},
		{"*.csv", "a.jsonl", false},
	}
	for _, tc := range cases {
		if got := Match(tc.glob, tc.name); got != tc.want {
			t.Errorf("Match(%q, %q) = %v", tc.glob, tc.name, got)
		}
	}
}

func TestReaders(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a/1.jsonl", "{\"id\":1}\r\n\n{\"id\":2}\n") // CRLF ends a line too
	write(t, dir, "b.json", `[{"id": 3, "n": {"x": 1}}, {"id": 4}]`)
	write(t, dir, "c.csv", "id,name,score,when\n5,\"Smith, J\",1.5,2024-01-01T00:00:00Z\n6,,007,\n")
	conv, err := duckdb.Open(":memory:", "main")
	if err != nil {
		t.Fatal(err)
	}
	pq := filepath.Join(dir, "d.parquet")
	if _, err := conv.DB().Exec(`COPY (SELECT 7::BIGINT AS id, 'p' AS s, [1, 2] AS l, {'k': 'v'} AS st) TO '` + pq + `' (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	_ = conv.Close()
	got, err := collect(t, Config{BucketURL: "file://" + dir, FileGlob: "**/*"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"id":1}`, `{"id":2}`,
		`{"id":3,"n":{"x":1}}`, `{"id":4}`,
		`{"id":5,"name":"Smith, J","score":1.5,"when":"2024-01-01T00:00:00Z"}`,
		`{"id":6,"name":null,"score":"007","when":null}`,
		`{"id":7,"s":"p","l":[1,2],"st":{"k":"v"}}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Relative bucket URLs resolve against the root; format forces a reader.
	got, err = collect(t, Config{BucketURL: "a", Root: dir, FileGlob: "*", Format: "jsonl"}, nil)
	if err != nil || len(got) != 2 {
		t.Errorf("relative: %v %v", got, err)
	}
}

func TestBadFiles(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"ragged.csv", "a,b\n1,2\n3\n", "ragged.csv: line 3: wrong number of fields (every row needs the 2 columns of the header)"},
		{"bad.json", `{"a": [1,}`, "bad.json: invalid JSON at byte"},
		{"scalars.json", `[1, 2]`, "scalars.json: item 0 of the array is not an object"},
		{"html.jsonl", "<html>oops</html>\n", "html.jsonl: line 1 is not a JSON object"},
		{"cut.parquet", "PAR1\x00\x01\x02", "cut.parquet: not a readable Parquet file"},
		{"what.txt", "x", "cannot tell the format from the extension"},
	}
	for _, tc := range cases {
		dir := t.TempDir()
		write(t, dir, tc.name, tc.body)
		_, err := collect(t, Config{BucketURL: dir, FileGlob: "*"}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := collect(t, Config{BucketURL: "s3://bucket/x"}, nil); err == nil || !strings.Contains(err.Error(), `no driver registered for "s3"`) || !strings.Contains(err.Error(), "need their gocloud.dev driver") {
		t.Errorf("s3: %v", err)
	}
	if _, err := collect(t, Config{BucketURL: filepath.Join(t.TempDir(), "missing")}, nil); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("missing dir: %v", err)
	}
}

func TestIncrementalByModificationTime(t *testing.T) {
	dir := t.TempDir()
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	a := write(t, dir, "a.jsonl", "{\"f\":\"a\"}\n")
	b := write(t, dir, "b.jsonl", "{\"f\":\"b\"}\n")
	_ = os.Chtimes(a, old, old)
	_ = os.Chtimes(b, old.Add(time.Hour), old.Add(time.Hour))
	c := Config{BucketURL: dir, FileGlob: "*.jsonl", Incremental: true}
	rc := &pipeline.ResourceContext{State: map[string]any{}}
	got, _ := collect(t, c, rc)
	if len(got) != 2 {
		t.Fatalf("first: %v", got)
	}
	got, _ = collect(t, c, rc)
	if len(got) != 0 {
		t.Errorf("nothing changed, got %v", got)
	}
	cc := write(t, dir, "c.jsonl", "{\"f\":\"c\"}\n")
	_ = os.Chtimes(cc, old.Add(2*time.Hour), old.Add(2*time.Hour))
	// A file with the same instant as the newest seen is new too.
	d := write(t, dir, "d.jsonl", "{\"f\":\"d\"}\n")
	_ = os.Chtimes(d, old.Add(2*time.Hour), old.Add(2*time.Hour))
	got, _ = collect(t, c, rc)
	if strings.Join(got, ",") != `{"f":"c"},{"f":"d"}` {
		t.Errorf("after new files: %v", got)
	}
	if got, _ = collect(t, c, rc); len(got) != 0 {
		t.Errorf("again: %v", got)
	}
}

// sharedBucket opens one in-memory bucket for every URL of its scheme, so a
// test can fill it and the source can read it back through gocloud.
type sharedBucket struct{ b *blob.Bucket }

func (s sharedBucket) OpenBucketURL(context.Context, *url.URL) (*blob.Bucket, error) {
	return blob.PrefixedBucket(s.b, ""), nil
}

// TestBucketURL reads through a gocloud.dev bucket that is not a local
// directory: listing with globs, streaming JSONL, and Parquet downloaded for
// DuckDB.
func TestBucketURL(t *testing.T) {
	ctx := context.Background()
	mem := memblob.OpenBucket(nil)
	defer func() { _ = mem.Close() }()
	blob.DefaultURLMux().RegisterBucket("dlthubtest", sharedBucket{mem})
	if err := mem.WriteAll(ctx, "exports/2024/a.jsonl", []byte("{\"id\":1}\n{\"id\":2}\n"), nil); err != nil {
		t.Fatal(err)
	}
	if err := mem.WriteAll(ctx, "exports/skip.csv", []byte("id\n9\n"), nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conv, err := duckdb.Open(":memory:", "main")
	if err != nil {
		t.Fatal(err)
	}
	pq := filepath.Join(dir, "x.parquet")
	if _, err := conv.DB().Exec(`COPY (SELECT 3::BIGINT AS id) TO '` + pq + `' (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	_ = conv.Close()
	b, _ := os.ReadFile(pq)
	if err := mem.WriteAll(ctx, "exports/2024/b.parquet", b, nil); err != nil {
		t.Fatal(err)
	}
	c := Config{BucketURL: "dlthubtest://any", FileGlob: "exports/**/*.*"}
	files, err := c.Files(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || files[0].Path != "dlthubtest://any/exports/2024/a.jsonl" {
		t.Fatalf("files %+v", files)
	}
	c.FileGlob = "exports/2024/*"
	got, err := collect(t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != `{"id":1},{"id":2},{"id":3}` {
		t.Errorf("records %v", got)
	}
}

// JSONL records share chunks of memory; each keeps its bytes after later
// records are read, across chunk boundaries, long lines included.
func TestJSONLRecordsKeepTheirBytes(t *testing.T) {
	dir := t.TempDir()
	var body strings.Builder
	var want []string
	for i := range 3000 {
		pad := strings.Repeat("x", (i*37)%700)
		if i == 1500 {
			pad = strings.Repeat("y", 600<<10) // longer than a chunk
		}
		line := `{"id":` + strconv.Itoa(i) + `,"pad":"` + pad + `"}`
		want = append(want, line)
		body.WriteString(line + "\n")
	}
	write(t, dir, "big.jsonl", body.String())
	var kept []jsonx.Raw
	c := Config{BucketURL: "file://" + dir, FileGlob: "*.jsonl"}
	for rec, err := range c.Records()(context.Background(), &pipeline.ResourceContext{State: map[string]any{}}) {
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, rec.(jsonx.Raw))
	}
	if len(kept) != len(want) {
		t.Fatalf("%d records, want %d", len(kept), len(want))
	}
	for i, r := range kept {
		if string(r) != want[i] {
			t.Fatalf("record %d changed after it was read: %.60q…", i, r)
		}
	}
}

// TestListOptions: a listing covers what the glob can match and no more,
// and files it leaves out are ones Match refuses anyway.
func TestListOptions(t *testing.T) {
	cases := []struct {
		glob, prefix, delimiter string
	}{
		{"*.jsonl", "", "/"},
		{"issues.jsonl", "issues.jsonl", "/"},
		{"issues_*.jsonl", "issues_", "/"},
		{"data/2024/*.csv", "data/2024/", "/"},
		{"data/x?.csv", "data/x", "/"},
		{"data/*/part.csv", "data/", ""},
		{"**/*.jsonl", "", ""},
		{"data/**", "data/", ""},
		{"data/**/a.jsonl", "data/", ""},
		{`a\*.jsonl`, "a", "/"},
		{"[ab].jsonl", "", "/"},
		{"/x.jsonl", "", ""},
	}
	for _, c := range cases {
		o := listOptions(c.glob)
		if o.Prefix != c.prefix || o.Delimiter != c.delimiter {
			t.Errorf("%q: prefix %q delimiter %q, want %q %q", c.glob, o.Prefix, o.Delimiter, c.prefix, c.delimiter)
		}
	}
	// The narrowed listing finds what the full one finds.
	dir := t.TempDir()
	for _, f := range []string{"a.jsonl", "issues_1.jsonl", "data/2024/x.csv", "data/xy.csv", "data/q/part.csv", "data/deep/er/a.jsonl", "b/c.jsonl"} {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{
		"*.jsonl": "a.jsonl issues_1.jsonl linked.jsonl", "issues_*.jsonl": "issues_1.jsonl", "data/2024/*.csv": "data/2024/x.csv",
		"data/x?.csv": "data/xy.csv", "data/*/part.csv": "data/q/part.csv", "**/*.jsonl": "a.jsonl b/c.jsonl data/deep/er/a.jsonl issues_1.jsonl linked.jsonl",
		"data/**/a.jsonl": "data/deep/er/a.jsonl",
		"data/**":         "data/2024/x.csv data/deep/er/a.jsonl data/q/part.csv data/xy.csv",
		"*/*/*.csv":       "data/2024/x.csv data/q/part.csv",
		"*":               "a.jsonl issues_1.jsonl linked.jsonl",
	}
	if err := os.Symlink(filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "linked.jsonl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "data"), filepath.Join(dir, "datalink")); err != nil {
		t.Fatal(err)
	}
	for glob, w := range want {
		files, err := Config{BucketURL: "file://" + dir, FileGlob: glob}.Files(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range files {
			got = append(got, f.Rel)
		}
		if strings.Join(got, " ") != w {
			t.Errorf("%q: %v, want %s", glob, got, w)
		}
	}
}

// Local files are read by their own path, whatever their names: fileblob,
// which opened them by key before, reads a key holding its escape
// sequences (`__0x41__`) or a backslash as another file's name. Large
// files out of the page cache take the direct reader and give the same
// records.
func TestLocalFilesReadByPath(t *testing.T) {
	dir := t.TempDir()
	names := []string{"x__0x41__.jsonl", `back\slash.jsonl`, "sp ace/é.jsonl", "a:b.jsonl"}
	for i, n := range names {
		write(t, dir, n, `{"id":`+strconv.Itoa(i)+"}\n")
	}
	var big strings.Builder
	for i := range 300_000 {
		big.WriteString(`{"id":` + strconv.Itoa(i) + `,"pad":"` + strings.Repeat("x", 40) + "\"}\n")
	}
	if err := directio.Drop(write(t, dir, "z/big.jsonl", big.String())); err != nil {
		t.Fatal(err)
	}
	got, err := collect(t, Config{BucketURL: dir, FileGlob: "**/*.jsonl"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(names)+300_000 {
		t.Fatalf("%d records, want %d", len(got), len(names)+300_000)
	}
	seen := map[string]bool{}
	for _, r := range got[:len(names)] {
		seen[r] = true
	}
	for i := range names {
		if r := `{"id":` + strconv.Itoa(i) + `}`; !seen[r] {
			t.Errorf("%s: record %s not read; got %v", names[i], r, got[:len(names)])
		}
	}
	for i, r := range got[len(names):] {
		if want := `{"id":` + strconv.Itoa(i) + `,"pad":"` + strings.Repeat("x", 40) + `"}`; r != want {
			t.Fatalf("big.jsonl record %d: %s, want %s", i, r, want)
		}
	}
}
