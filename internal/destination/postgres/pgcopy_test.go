package postgres

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/jobfile"
	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/pgtest"
	"github.com/dlthub/dlthub/internal/schema"
)

// everyType is a table with a column of every type binary COPY writes.
func everyType(name string) *schema.Table {
	cols := []*schema.Column{
		{Name: "id", DataType: schema.Bigint},
		{Name: "txt", DataType: schema.Text, Nullable: true},
		{Name: "n", DataType: schema.Bigint, Nullable: true},
		{Name: "x", DataType: schema.Double, Nullable: true},
		{Name: "flag", DataType: schema.Bool, Nullable: true},
		{Name: "ts", DataType: schema.Timestamp, Nullable: true},
		{Name: "day", DataType: schema.Date, Nullable: true},
		{Name: "clock", DataType: schema.Time, Nullable: true},
		{Name: "data", DataType: schema.Binary, Nullable: true},
		{Name: "doc", DataType: schema.JSON, Nullable: true},
	}
	return &schema.Table{Name: name, WriteDisposition: schema.Append, Columns: cols}
}

// randomTimestamp is an ISO 8601 timestamp of one of the shapes dlt
// infers: seconds or not, 1 to 9 fraction digits, T or a space, no zone,
// Z, ±HH, ±HHMM or ±HH:MM.
func randomTimestamp(r *rand.Rand) string {
	y := 1 + r.IntN(9999)
	if r.IntN(2) == 0 {
		y = 1970 + r.IntN(80)
	}
	m := 1 + r.IntN(12)
	d := 1 + r.IntN(28)
	if m == 2 && r.IntN(4) == 0 && (y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		d = 29
	}
	sep := "T"
	if r.IntN(4) == 0 {
		sep = " "
	}
	s := fmt.Sprintf("%04d-%02d-%02d%s%02d:%02d", y, m, d, sep, r.IntN(24), r.IntN(60))
	if r.IntN(5) > 0 {
		s += fmt.Sprintf(":%02d", r.IntN(60))
		if n := r.IntN(10); n > 0 {
			frac := fmt.Sprintf("%09d", r.IntN(1_000_000_000))
			if r.IntN(3) == 0 {
				frac = frac[:6] + "500" // halfway cases
			}
			s += "." + frac[:n]
		}
	}
	switch r.IntN(6) {
	case 0:
	case 1:
		s += "Z"
	case 2:
		s += fmt.Sprintf("%+03d", r.IntN(29)-14)
	case 3:
		s += fmt.Sprintf("%+03d%02d", r.IntN(29)-14, r.IntN(60))
	default:
		s += fmt.Sprintf("%+03d:%02d", r.IntN(29)-14, r.IntN(60))
	}
	return s
}

// everyTypeRows are rows with the values CSV and binary COPY could read
// differently: quotes, newlines, NULL-like text, extreme numbers, every
// timestamp shape, and values of other types in a text column.
func everyTypeRows(n int) [][]any {
	r := rand.New(rand.NewPCG(1, 2))
	texts := []any{"", `a"b`, "line\nbreak", "null", "NULL", `\N`, ",", "ünïcödé 🚀", int64(7), true, map[string]any{"k": "v"}, 1.25}
	nums := []any{int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64), jsonx.Number("42")}
	doubles := []any{1.5, -2.25e-300, 1e308, float64(3), jsonx.Number("0.1"), int64(5)}
	docs := []any{map[string]any{"a": []any{int64(1), "x"}}, []any{}, "text", int64(3), true}
	var rows [][]any
	for i := range n {
		row := []any{int64(i), texts[i%len(texts)], nums[i%len(nums)], doubles[i%len(doubles)], i%3 == 0,
			randomTimestamp(r),
			fmt.Sprintf("%04d-%02d-%02d", 1+r.IntN(9999), 1+r.IntN(12), 1+r.IntN(28)),
			fmt.Sprintf("%02d:%02d:%02d.%06d", r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1_000_000))[:8+r.IntN(2)*(2+r.IntN(6))],
			base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("bytes %d \x00\xff", i))),
			docs[i%len(docs)],
		}
		if i%7 == 0 {
			row[1+i%9] = nil
		}
		rows = append(rows, row)
	}
	rows = append(rows, []any{int64(n), nil, nil, nil, nil, "2000-01-01T00:00:00", "2000-01-01", "24:00:00", "", nil})
	return rows
}

// writeJobs writes rows as job files of format into a new directory.
func writeJobs(t *testing.T, format jobfile.Format, tb *schema.Table, rows [][]any, maxRows int64) []string {
	t.Helper()
	dir := t.TempDir()
	w, err := jobfile.New(dir, format)
	if err != nil {
		t.Fatal(err)
	}
	w.MaxRows = maxRows
	for _, row := range rows {
		if err := w.WriteRow(tb, tb.Columns, row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(files, func(a, b string) int { return strings.Compare(a, b) })
	return files
}

// loadJobs loads files into the table, in one load transaction.
func loadJobs(t *testing.T, c *Client, tb *schema.Table, files []string) error {
	t.Helper()
	ctx := context.Background()
	tx, err := c.begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ensureTable(ctx, tx, tb); err != nil {
		t.Fatal(err)
	}
	if err := c.copyInto(ctx, tx, tb, c.table(tb.Name), files); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}

// dump is a table's rows as text, in id order.
func dump(t *testing.T, c *Client, table string) []string {
	t.Helper()
	rows, err := c.Conn().Query(context.Background(), `SELECT t::text FROM `+c.table(table)+` t ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func formats(files []string) map[jobfile.Format]int {
	out := map[jobfile.Format]int{}
	for _, f := range files {
		out[jobfile.FormatOf(f)]++
	}
	return out
}

// The same rows as binary COPY files and as CSV files make the same table,
// value for value, in a session whose time zone is not UTC: binary COPY
// stores what PostgreSQL's text input would have made of every value.
func TestPGCopyLoadsLikeCSV(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, pgtest.URL(t), "pgcopy_like_csv")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if _, err := c.Conn().Exec(ctx, `SET TimeZone = 'America/New_York'`); err != nil {
		t.Fatal(err)
	}
	rows := everyTypeRows(3000)
	bin := writeJobs(t, jobfile.PGCopy, everyType("bin"), rows, 1000)
	csv := writeJobs(t, jobfile.CSV, everyType("csv"), rows, 0)
	if got := formats(bin); got[jobfile.PGCopy] != 4 || got[jobfile.CSV] != 0 {
		t.Fatalf("binary COPY files: %v (every value should have been written in binary)", got)
	}
	if err := loadJobs(t, c, everyType("bin"), bin); err != nil {
		t.Fatal(err)
	}
	if err := loadJobs(t, c, everyType("csv"), csv); err != nil {
		t.Fatal(err)
	}
	a, b := dump(t, c, "bin"), dump(t, c, "csv")
	if len(a) != len(rows) || len(b) != len(rows) {
		t.Fatalf("rows: binary %d, CSV %d, written %d", len(a), len(b), len(rows))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("row %d:\nbinary COPY %s\nCSV         %s\nwritten     %v", i, a[i], b[i], rows[i])
		}
	}
	// A timestamp without a zone is UTC, whatever the session's zone.
	var epoch float64
	if err := c.Conn().QueryRow(ctx, `SELECT extract(epoch FROM ts) FROM `+c.table("bin")+` WHERE id = $1`, len(rows)-1).Scan(&epoch); err != nil {
		t.Fatal(err)
	}
	if epoch != 946684800 {
		t.Fatalf("2000-01-01T00:00:00 without a zone loaded as %v seconds since 1970, not UTC's 946684800", epoch)
	}
}

// A value binary COPY does not write as PostgreSQL would read its text
// (24:00 in a timestamp, a lower-case z, a base64 text with line breaks)
// turns the table's files to CSV from that row on; the table is the same
// as from CSV files only.
func TestPGCopyFallsBackToCSV(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, pgtest.URL(t), "pgcopy_fallback")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	rows := everyTypeRows(40)
	rows[10][5] = "2024-02-29T24:00:00Z"
	rows[20][5] = "2024-02-28T23:00:00.5z"
	rows[30][8] = "Ynl0\nZXM="
	bin := writeJobs(t, jobfile.PGCopy, everyType("bin"), rows, 0)
	csv := writeJobs(t, jobfile.CSV, everyType("csv"), rows, 0)
	if got := formats(bin); got[jobfile.PGCopy] != 1 || got[jobfile.CSV] != 1 {
		t.Fatalf("files %v: want one binary COPY file up to row 10, then CSV", got)
	}
	for _, tb := range []struct {
		name  string
		files []string
	}{{"bin", bin}, {"csv", csv}} {
		if err := loadJobs(t, c, everyType(tb.name), tb.files); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := dump(t, c, "bin"), dump(t, c, "csv"); !slices.Equal(a, b) || len(a) != len(rows) {
		t.Fatalf("tables differ:\nbinary COPY then CSV: %v\nCSV: %v", a, b)
	}
}

// Tables with numeric columns are written as CSV, and PostgreSQL reads
// their text.
func TestPGCopyNumericTablesAreCSV(t *testing.T) {
	tb := &schema.Table{Name: "amounts", Columns: []*schema.Column{
		{Name: "id", DataType: schema.Bigint}, {Name: "amount", DataType: schema.Decimal, Nullable: true}}}
	files := writeJobs(t, jobfile.PGCopy, tb, [][]any{{int64(1), "1.50"}}, 0)
	if got := formats(files); got[jobfile.CSV] != 1 || len(files) != 1 {
		t.Fatalf("files %v: want one CSV file", got)
	}
}

// NaN and infinities, which JSON cannot hold, load as NULL (as from the
// Parquet files of DuckDB), not as a failed COPY.
func TestPGCopyNaNIsNull(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, pgtest.URL(t), "pgcopy_nan")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	tb := &schema.Table{Name: "nan", Columns: []*schema.Column{
		{Name: "id", DataType: schema.Bigint}, {Name: "x", DataType: schema.Double, Nullable: true}}}
	files := writeJobs(t, jobfile.PGCopy, tb, [][]any{{int64(1), math.NaN()}, {int64(2), math.Inf(-1)}, {int64(3), 2.5}}, 0)
	if err := loadJobs(t, c, tb, files); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, c, "nan"); !slices.Equal(got, []string{"(1,)", "(2,)", "(3,2.5)"}) {
		t.Fatalf("rows %v", got)
	}
}

// A table whose columns have other types than the schema says (made by
// other tools, or altered) takes binary COPY files through a stage table
// and casts, as it takes CSV text through the columns' input functions.
func TestPGCopyIntoColumnsOfOtherTypes(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, pgtest.URL(t), "pgcopy_other_types")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	rows := [][]any{{int64(1), "a", int64(7), 1.5, true}, {int64(2), nil, int64(-3), 2.0, false}}
	for _, name := range []string{"bin", "csv"} {
		if _, err := c.Conn().Exec(ctx, `CREATE SCHEMA IF NOT EXISTS pgcopy_other_types; CREATE TABLE pgcopy_other_types.`+name+
			` (id integer, txt text, n numeric(10,2), x real, flag varchar)`); err != nil {
			t.Fatal(err)
		}
	}
	tb := func(name string) *schema.Table {
		return &schema.Table{Name: name, Columns: []*schema.Column{
			{Name: "id", DataType: schema.Bigint}, {Name: "txt", DataType: schema.Text, Nullable: true},
			{Name: "n", DataType: schema.Bigint, Nullable: true}, {Name: "x", DataType: schema.Double, Nullable: true},
			{Name: "flag", DataType: schema.Bool, Nullable: true}}}
	}
	if err := loadJobs(t, c, tb("bin"), writeJobs(t, jobfile.PGCopy, tb("bin"), rows, 0)); err != nil {
		t.Fatal(err)
	}
	if err := loadJobs(t, c, tb("csv"), writeJobs(t, jobfile.CSV, tb("csv"), rows, 0)); err != nil {
		t.Fatal(err)
	}
	if a, b := dump(t, c, "bin"), dump(t, c, "csv"); !slices.Equal(a, b) || len(a) != 2 {
		t.Fatalf("binary COPY %v, CSV %v", a, b)
	}
}

// A damaged pgcopy job file is refused with its path, and nothing of it is
// loaded.
func TestPGCopyDamagedFile(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, pgtest.URL(t), "pgcopy_damaged")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	tb := items()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"a.0.0.pgcopy": "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x05dlthu",
		"b.0.0.pgcopy": "not binary copy at all",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		err := loadJobs(t, c, tb, []string{path})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("%s: error %v, want one naming the file", name, err)
		}
	}
	if n := count(t, c, `SELECT count(*) FROM pgcopy_damaged.items`); n > 0 {
		t.Fatalf("%d rows loaded from damaged files", n)
	}
}

// FuzzPGTimeParsers holds the parsers that write timestamps, dates and
// times into binary COPY files to PostgreSQL's own reading of the same
// text in a UTC session: any text they accept must be read by PostgreSQL
// as the same instant, day or time of day (text they refuse goes to
// PostgreSQL as CSV, so refusing is always safe).
func FuzzPGTimeParsers(f *testing.F) {
	for _, s := range []string{
		"2024-01-01T00:00:00Z", "2024-01-01 10:00", "2024-01-01T10:00Z", "2024-01-01T10:00:00.1234565+05:30",
		"2024-01-01T10:00:00-0130", "2024-01-01T10:00:00+15:59", "2024-01-01T10:00:00+16", "2024-02-29T00:00:00+14",
		"2023-02-29T00:00:00", "0001-01-01T00:00:00-15", "9999-12-31T23:59:59.999999999+00", "2024-01-01T23:59:59.9999995",
		"2024-01-01", "0000-01-01", "24:00:00", "24:00", "23:59:59.999999", "23:59:59.9999999", "12:60", "00:00:00.5",
	} {
		f.Add(s)
	}
	ctx := context.Background()
	c, err := Open(ctx, pgtest.URL(f), "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = c.Close() })
	if _, err := c.Conn().Exec(ctx, `SET TimeZone = 'UTC'`); err != nil {
		f.Fatal(err)
	}
	read := func(q, s string) (int64, bool) {
		var n *int64
		// A savepoint-free probe: an error is PostgreSQL refusing the text.
		if err := c.Conn().QueryRow(ctx, q, s).Scan(&n); err != nil || n == nil {
			return 0, false
		}
		return *n, true
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return // PostgreSQL text cannot hold NUL; neither can the job's values
		}
		if us, ok := jobfile.PGTimestamp(s); ok {
			want, ok := read(`SELECT (extract(epoch FROM $1::text::timestamptz - timestamptz '2000-01-01 00:00:00+00') * 1000000)::bigint`, s)
			if !ok || want != us {
				t.Fatalf("timestamp %q: binary COPY would store %d µs, PostgreSQL reads %d (%v)", s, us, want, ok)
			}
		}
		if d, ok := jobfile.PGDate(s); ok {
			want, ok := read(`SELECT $1::text::date - date '2000-01-01'`, s)
			if !ok || want != int64(d) {
				t.Fatalf("date %q: binary COPY would store day %d, PostgreSQL reads %d (%v)", s, d, want, ok)
			}
		}
		if us, ok := jobfile.PGTime(s); ok {
			want, ok := read(`SELECT (extract(epoch FROM $1::text::time) * 1000000)::bigint`, s)
			if !ok || want != us {
				t.Fatalf("time %q: binary COPY would store %d µs, PostgreSQL reads %d (%v)", s, us, want, ok)
			}
		}
	})
}

// Binary values handed to the writers as bytes (not base64 text) load as
// the same bytes from CSV and from binary COPY files.
func TestRawBytesLoadAlike(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, pgtest.URL(t), "raw_bytes")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	tb := func(name string) *schema.Table {
		return &schema.Table{Name: name, Columns: []*schema.Column{
			{Name: "id", DataType: schema.Bigint}, {Name: "data", DataType: schema.Binary, Nullable: true}}}
	}
	rows := [][]any{{int64(1), []byte{0, 1, 0xff, '"', ','}}, {int64(2), []byte{}}, {int64(3), []byte("text")}}
	for _, f := range []jobfile.Format{jobfile.CSV, jobfile.PGCopy} {
		name := string(f)
		if err := loadJobs(t, c, tb(name), writeJobs(t, f, tb(name), rows, 0)); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{`(1,"\\x0001ff222c")`, `(2,"\\x")`, `(3,"\\x74657874")`}
	for _, name := range []string{"csv", "pgcopy"} {
		if got := dump(t, c, name); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}
