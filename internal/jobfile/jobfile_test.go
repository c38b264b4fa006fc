package jobfile_test

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/destination/duckdb"
	"github.com/dlthub/dlthub/internal/jobfile"
	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/naming"
	"github.com/dlthub/dlthub/internal/normalize"
	"github.com/dlthub/dlthub/internal/schema"
)

// openDB is an in-memory DuckDB, read through the destination's own Source.
func openDB(t testing.TB) *sql.DB {
	t.Helper()
	c, err := duckdb.Open(":memory:", "main")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.DB()
}

// readBack reads a table's job files as DuckDB loads them, every value as
// text ("NULL" for null), rows sorted.
func readBack(db *sql.DB, tbl *schema.Table, files []string) ([]string, error) {
	src, err := duckdb.Source(files, tbl, false)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(`SELECT CAST(COLUMNS(*) AS VARCHAR) FROM ` + src)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		parts := make([]string, len(names))
		for i, v := range vals {
			s := "NULL"
			if v.Valid {
				s = fmt.Sprintf("%q", v.String)
			}
			parts[i] = names[i] + "=" + s
		}
		out = append(out, strings.Join(parts, " "))
	}
	sort.Strings(out)
	return out, rows.Err()
}

// files lists a directory's job files per table.
func files(t testing.TB, dir string) map[string][]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, e := range entries {
		table := e.Name()[:strings.Index(e.Name(), ".")]
		out[table] = append(out[table], filepath.Join(dir, e.Name()))
	}
	for _, fs := range out {
		sort.Strings(fs)
	}
	return out
}

// everyType is a table with a column of each dlt type, and a variant.
func everyType() *schema.Table {
	cols := []*schema.Column{
		{Name: "txt", DataType: schema.Text},
		{Name: "dbl", DataType: schema.Double},
		{Name: "flag", DataType: schema.Bool},
		{Name: "n", DataType: schema.Bigint},
		{Name: "ts", DataType: schema.Timestamp},
		{Name: "d", DataType: schema.Date},
		{Name: "tm", DataType: schema.Time},
		{Name: "bin", DataType: schema.Binary},
		{Name: "j", DataType: schema.JSON},
		{Name: "dec", DataType: schema.Decimal},
		{Name: "dec2", DataType: schema.Decimal, Precision: new(10), Scale: 2},
		{Name: "wei", DataType: schema.Wei},
		{Name: "n__v_text", DataType: schema.Text, Variant: true},
	}
	for _, c := range cols {
		c.Nullable = true
	}
	return &schema.Table{Name: "every", Columns: cols}
}

// writeBoth writes the same rows as Parquet and as CSV.
func writeBoth(t *testing.T, tbl *schema.Table, rows [][]any) (pq, csv map[string][]string) {
	t.Helper()
	dirs := map[jobfile.Format]string{}
	for _, f := range []jobfile.Format{jobfile.Parquet, jobfile.CSV} {
		dir := t.TempDir()
		w, err := jobfile.New(dir, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			var cols []*schema.Column
			var vals []any
			for i, v := range r {
				if v != nil {
					cols, vals = append(cols, tbl.Columns[i]), append(vals, v)
				}
			}
			if err := w.WriteRow(tbl, cols, vals); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		dirs[f] = dir
	}
	return files(t, dirs[jobfile.Parquet]), files(t, dirs[jobfile.CSV])
}

func TestParquetReadsLikeCSV(t *testing.T) {
	t.Parallel()
	tbl := everyType()
	obj, err := jsonx.Parse([]byte(`{"b": [1, {"c": null}], "a": "x\"y"}`))
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"plain", 1.5, true, int64(42), "2024-01-01T00:00:00Z", "2024-02-29", "12:30:00", "AAEC/w==", schema.Canonical(obj, schema.JSON), "1.123456789", "12345678.125", "123456789012345678901234567890", "not a number"},
		{"", math.Copysign(0, -1), false, int64(-9223372036854775808), "2024-01-01 10:00:00.1234567+05:30", "0001-01-01", "24:00:00", "", []any{int64(1), "two"}, "-1e3", "0.005", "0", ""},
		{"x\ny,\"z\"é😀", 1e300, nil, int64(0), "1999-12-31T23:59", "9999-12-31", "00:00:00.000001", nil, "a string in json", " 7 ", "-0.005", "-1", nil},
		{nil, nil, nil, nil, "2024-06-01T12:00:00-02", nil, nil, nil, nil, nil, nil, nil, nil},
		// A zone after HH:MM, which DuckDB reads since 2.0. (A day its
		// month does not have never gets here: schema.IsISOTimestamp
		// leaves such text as text, as dlt does.)
		{"zone without seconds", nil, nil, nil, "2024-01-01T10:00Z", nil, nil, nil, nil, nil, nil, nil, nil},
	}
	pq, csv := writeBoth(t, tbl, rows)
	db := openDB(t)
	got, err := readBack(db, tbl, pq["every"])
	if err != nil {
		t.Fatal(err)
	}
	want, err := readBack(db, tbl, csv["every"])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Parquet reads\n%s\nCSV reads\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	all := strings.Join(got, "\n")
	for _, s := range []string{
		`ts="2024-01-01 04:30:00.123456+00"`, // offset applied, fraction truncated
		`txt=""`,                             // empty string, not null
		`bin="\\x00\\x01\\x02\\xFF"`,         // decoded bytes
		`j="{\"b\":[1,{\"c\":null}],\"a\":\"x\\\"y\"}"`,
		`dec2="12345678.13"`, // DuckDB's rounding
		`tm="24:00:00"`,
		`n=NULL`,
		`txt="zone without seconds" dbl=NULL flag=NULL n=NULL ts="2024-01-01 10:00:00+00"`,
	} {
		if !strings.Contains(all, s) {
			t.Errorf("want %s in\n%s", s, all)
		}
	}
}

// TestParquetRotatesOnNewColumn: a row with a column the open file lacks
// starts the table's next file; the files read back as one relation.
func TestParquetRotatesOnNewColumn(t *testing.T) {
	t.Parallel()
	tbl := &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "a", DataType: schema.Bigint, Nullable: true}}}
	w, dir := parquetWriter(t)
	var closed []string
	w.OnClose = func(table, path string) { closed = append(closed, table+":"+filepath.Base(path)) }
	if err := w.WriteRow(tbl, tbl.Columns, []any{int64(1)}); err != nil {
		t.Fatal(err)
	}
	b := &schema.Column{Name: "b", DataType: schema.Text, Nullable: true}
	tbl.Columns = append(tbl.Columns, b)
	if err := w.WriteRow(tbl, []*schema.Column{b, tbl.Columns[0]}, []any{"x", int64(2)}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRow(tbl, tbl.Columns[:1], []any{int64(3)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(closed, ",") != "t:t.0.0.parquet,t:t.1.0.parquet" {
		t.Fatalf("closed %v", closed)
	}
	got, err := readBack(openDB(t), tbl, files(t, dir)["t"])
	if err != nil {
		t.Fatal(err)
	}
	want := `a="1" b=NULL,a="2" b="x",a="3" b=NULL`
	if strings.Join(got, ",") != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	if w.Rows() != 3 || w.Bytes() == 0 {
		t.Fatalf("rows %d bytes %d", w.Rows(), w.Bytes())
	}
}

// TestParquetRowGroups: files hold row groups of DuckDB's size, so DuckDB
// reads them on every core.
func TestParquetRowGroups(t *testing.T) {
	t.Parallel()
	tbl := &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "a", DataType: schema.Bigint, Nullable: true}}}
	w, dir := parquetWriter(t)
	n := jobfile.RowGroupRows*2 + 7
	for i := range n {
		if err := w.WriteRow(tbl, tbl.Columns, []any{int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var groups, rows int64
	err := openDB(t).QueryRow(`SELECT count(DISTINCT row_group_id), sum(row_group_num_rows) FILTER (WHERE path_in_schema = 'a') FROM parquet_metadata(?)`,
		filepath.Join(dir, "t.0.0.parquet")).Scan(&groups, &rows)
	if err != nil {
		t.Fatal(err)
	}
	if groups != 3 || rows != int64(n) {
		t.Fatalf("%d row groups, %d rows; want 3, %d", groups, rows, n)
	}
}

func TestWriterErrors(t *testing.T) {
	t.Parallel()
	if _, err := jobfile.New(t.TempDir(), "insert_values"); err == nil {
		t.Fatal("want an error for a format the engine does not write")
	}
	tbl := everyType()
	for _, tc := range []struct {
		col  int
		val  any
		want string
	}{
		{5, "2023-02-29", `column "d"`},
		{6, "12:60", `column "tm"`},
		{7, "not base64!", `column "bin": binary value is not base64`},
		{3, "12", `column "n": 12 (string) is not a bigint`},
	} {
		w, err := jobfile.New(t.TempDir(), jobfile.Parquet)
		if err != nil {
			t.Fatal(err)
		}
		err = w.WriteRow(tbl, []*schema.Column{tbl.Columns[tc.col]}, []any{tc.val})
		_ = w.Close()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `table "every"`) {
			t.Errorf("%v: got %v, want %s", tc.val, err, tc.want)
		}
	}
}

// tee hands every row to several writers.
type tee []normalize.RowWriter

func (t tee) WriteRow(tbl *schema.Table, cols []*schema.Column, vals []any) error {
	for _, w := range t {
		if err := w.WriteRow(tbl, cols, vals); err != nil {
			return err
		}
	}
	return nil
}

// declared are column hints that make the normalizer coerce values into
// the types JSON alone never infers.
var declared = []*schema.Column{
	{Name: "dec", DataType: schema.Decimal}, {Name: "wei", DataType: schema.Wei},
	{Name: "d", DataType: schema.Date}, {Name: "tm", DataType: schema.Time},
	{Name: "bin", DataType: schema.Binary}, {Name: "j", DataType: schema.JSON},
	{Name: "ts", DataType: schema.Timestamp}, {Name: "f", DataType: schema.Double},
	{Name: "b", DataType: schema.Bool}, {Name: "n", DataType: schema.Bigint},
}

// FuzzParquetMatchesCSV holds the Parquet job files to the CSV ones: any
// JSON records, normalized once (with columns declared as every dlt type,
// so values are coerced, and variants made, as in real loads) and written
// in both formats, read back through DuckDB as the destination reads them
// give the same rows in every table; a value the Parquet writer refuses is
// one DuckDB refuses to read from the CSV file as well.
func FuzzParquetMatchesCSV(f *testing.F) {
	for _, s := range []string{
		`{"id": 1, "title": "a", "created_at": "2024-01-01T01:00:00Z", "user": {"login": "x", "id": 2}, "labels": [{"name": "bug"}], "tags": ["a", "b"], "score": 1.5}`,
		`[{"a": 1}, {"a": "x"}, {"a": 1.5}, {"a": true}, {"a": {"b": [[1], [2, [3]]]}}, {"a": null}]`,
		`{"dec": "1.123456789012", "wei": 123456789012345678901234567890, "d": "2024-02-29", "tm": "23:59:59.9999999", "bin": "AAEC", "j": {"x": [1, "y"]}}`,
		`[{"ts": "2024-01-01 10:00+05:30"}, {"ts": "2024-01-01T10:00:00.123-0130"}, {"ts": 1700000000.5}, {"ts": "x"}]`,
		`[{"f": "1e3", "b": "yes", "n": "12", "dec": 1e21, "d": "2024-01-01T10:00:00Z"}, {"f": 2, "b": 0, "n": 3.0}]`,
		`{"j": "text", "txt": "", "e": "\u00e9\ud83d\ude00\n\"q\",", "bin": "\uF02BAAEC"}`,
		`[{"ts": "2024-02-30T00:00:00Z"}]`,
		`[{"dec": "inf"}]`,
	} {
		f.Add([]byte(s))
	}
	db := openDB(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := jsonx.Parse(b)
		if err != nil {
			return
		}
		recs := []any{doc}
		if l, ok := doc.([]any); ok {
			recs = l
		}
		s := schema.New("fuzz")
		pqDir, csvDir := t.TempDir(), t.TempDir()
		pw, err := jobfile.New(pqDir, jobfile.Parquet)
		if err != nil {
			t.Fatal(err)
		}
		cw, err := jobfile.New(csvDir, jobfile.CSV)
		if err != nil {
			t.Fatal(err)
		}
		n := normalize.New(s, naming.NewSnakeCase(0), "1700000000.1", tee{cw, pw})
		h := &normalize.Hints{Table: "items", Resource: "items", Columns: declared}
		var nerr error
		for i, r := range recs {
			if nerr = n.Record(h, int64(i), r); nerr != nil {
				break
			}
		}
		cerr := cw.Close()
		perr := pw.Close()
		if cerr != nil {
			t.Fatalf("CSV writer: %v", cerr)
		}
		var re *normalize.RecordError
		var ce *schema.ContractError
		if nerr != nil && (errors.As(nerr, &re) || errors.As(nerr, &ce)) {
			return // bad data for the normalizer, before any writer
		}
		refused := nerr
		if refused == nil {
			refused = perr
		}
		pqFiles, csvFiles := files(t, pqDir), files(t, csvDir)
		csvFailed := false
		for _, tbl := range s.Tables {
			if len(csvFiles[tbl.Name]) == 0 {
				continue
			}
			want, werr := readBack(db, tbl, csvFiles[tbl.Name])
			if werr != nil {
				csvFailed = true
				continue
			}
			if refused != nil {
				continue
			}
			got, gerr := readBack(db, tbl, pqFiles[tbl.Name])
			if gerr != nil {
				t.Fatalf("table %s: DuckDB reads the CSV file but not the Parquet one: %v", tbl.Name, gerr)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("table %s: Parquet reads\n%s\nCSV reads\n%s", tbl.Name, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		if refused != nil && !csvFailed {
			t.Fatalf("the Parquet writer refused a row DuckDB reads from CSV: %v", refused)
		}
	})
}

// A row that fails on one of its values is not written, not even the
// values before it: the rows around it keep their columns aligned.
func TestFailedRowLeavesNoValues(t *testing.T) {
	t.Parallel()
	tbl := everyType()
	w, dir := parquetWriter(t)
	cols := []*schema.Column{tbl.Columns[0], tbl.Columns[3], tbl.Columns[5]} // txt, n, d
	if err := w.WriteRow(tbl, cols, []any{"first", int64(1), "2024-01-02"}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRow(tbl, cols, []any{"bad", int64(2), "2023-02-29"}); err == nil {
		t.Fatal("want the date's error")
	}
	if err := w.WriteRow(tbl, cols[:2], []any{"last", int64(3)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := parquetRows(t, filepath.Join(dir, "every.0.0.parquet"), `txt || ' ' || n || ' ' || coalesce(CAST(d AS VARCHAR), '')`)
	if want := []string{"first 1 2024-01-02", "last 3 "}; !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
}

// Keys that normalize to one column give a row that names it twice: the
// last value wins, as in dlt, and the rows around it stay aligned.
func TestRepeatedColumnLastWins(t *testing.T) {
	t.Parallel()
	tbl := everyType()
	w, dir := parquetWriter(t)
	txt, n := tbl.Columns[0], tbl.Columns[3]
	rows := []struct {
		cols []*schema.Column
		vals []any
	}{
		{[]*schema.Column{txt, n}, []any{"a", int64(1)}},
		{[]*schema.Column{txt, n, n}, []any{"b", int64(2), int64(3)}},
		{[]*schema.Column{n, txt, txt}, []any{int64(4), "c", "d"}},
		{[]*schema.Column{txt, n}, []any{"e", int64(5)}},
	}
	for _, r := range rows {
		if err := w.WriteRow(tbl, r.cols, r.vals); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := parquetRows(t, filepath.Join(dir, "every.0.0.parquet"), `txt || ' ' || n`)
	if want := []string{"a 1", "b 3", "d 4", "e 5"}; !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
}

// parquetWriter is a writer of Parquet job files into a new directory.
func parquetWriter(t *testing.T) (*jobfile.Writer, string) {
	t.Helper()
	dir := t.TempDir()
	w, err := jobfile.New(dir, jobfile.Parquet)
	if err != nil {
		t.Fatal(err)
	}
	return w, dir
}

// parquetRows reads expr of every row of a Parquet job file, in order of
// the column n.
func parquetRows(t *testing.T, file, expr string) []string {
	t.Helper()
	rows, err := openDB(t).Query(`SELECT `+expr+` FROM read_parquet(?) ORDER BY n`, file)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}
