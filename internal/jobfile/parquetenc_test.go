package jobfile_test

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/dlthub/dlthub/internal/schema"
)

// The job files' own Parquet writer, read by a second reader (parquet-go's,
// DuckDB's is the other tests'): values, nulls, booleans packed into bits,
// several pages per column, pages left uncompressed, and statistics.
func TestParquetReadsBackInParquetGo(t *testing.T) {
	t.Parallel()
	tbl := &schema.Table{Name: "t", Columns: []*schema.Column{
		{Name: "n", DataType: schema.Bigint, Nullable: true},
		{Name: "s", DataType: schema.Text, Nullable: true},
		{Name: "flag", DataType: schema.Bool, Nullable: true},
		{Name: "x", DataType: schema.Double, Nullable: true},
		{Name: "d", DataType: schema.Date, Nullable: true},
		{Name: "rnd", DataType: schema.Text, Nullable: true},
	}}
	const rows = 5000
	r := rand.New(rand.NewPCG(7, 8))
	type want struct {
		n    *int64
		s    string
		flag *bool
		x    float64
		rnd  string
	}
	var wants []want
	w, dir := parquetWriter(t)
	for i := range rows {
		var wt want
		var cols []*schema.Column
		var vals []any
		if i%3 != 0 {
			n := int64(i) - 1000
			wt.n = &n
			cols, vals = append(cols, tbl.Columns[0]), append(vals, n)
		}
		// ~100 bytes a row: the text column takes two pages.
		wt.s = fmt.Sprintf("row %d %s", i, strings.Repeat("abc", i%60))
		cols, vals = append(cols, tbl.Columns[1]), append(vals, wt.s)
		if i%5 != 0 {
			b := i%2 == 0
			wt.flag = &b
			cols, vals = append(cols, tbl.Columns[2]), append(vals, b)
		}
		wt.x = float64(i) / 4
		cols, vals = append(cols, tbl.Columns[3]), append(vals, wt.x)
		cols, vals = append(cols, tbl.Columns[4]), append(vals, "2024-02-29")
		raw := make([]byte, 48)
		for k := range raw {
			raw[k] = byte(r.Uint32())
		}
		wt.rnd = hex.EncodeToString(raw) // random: Snappy saves nothing
		cols, vals = append(cols, tbl.Columns[5]), append(vals, wt.rnd)
		if err := w.WriteRow(tbl, cols, vals); err != nil {
			t.Fatal(err)
		}
		wants = append(wants, wt)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "t.0.0.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]int{}
	for i, fl := range pf.Schema().Fields() {
		idx[fl.Name()] = i
	}
	rd := parquet.NewReader(pf)
	buf := make([]parquet.Row, 100)
	i := 0
	for {
		n, err := rd.ReadRows(buf)
		for _, row := range buf[:n] {
			wt := wants[i]
			get := func(name string) parquet.Value { return row[idx[name]] }
			if v := get("n"); (wt.n == nil) != v.IsNull() || (wt.n != nil && v.Int64() != *wt.n) {
				t.Fatalf("row %d: n = %v, want %v", i, v, wt.n)
			}
			if v := get("s"); string(v.ByteArray()) != wt.s {
				t.Fatalf("row %d: s = %q, want %q", i, v.ByteArray(), wt.s)
			}
			if v := get("flag"); (wt.flag == nil) != v.IsNull() || (wt.flag != nil && v.Boolean() != *wt.flag) {
				t.Fatalf("row %d: flag = %v, want %v", i, v, wt.flag)
			}
			if v := get("x"); v.Double() != wt.x {
				t.Fatalf("row %d: x = %v, want %v", i, v, wt.x)
			}
			if v := get("d"); v.Int32() != 19782 {
				t.Fatalf("row %d: d = %v, want 19782 (2024-02-29)", i, v)
			}
			if v := get("rnd"); string(v.ByteArray()) != wt.rnd {
				t.Fatalf("row %d: rnd = %q, want %q", i, v.ByteArray(), wt.rnd)
			}
			i++
		}
		if err != nil {
			break
		}
	}
	if i != rows {
		t.Fatalf("read %d rows, want %d", i, rows)
	}
	md := pf.Metadata()
	if len(md.RowGroups) != 1 {
		t.Fatalf("%d row groups, want 1", len(md.RowGroups))
	}
	for _, c := range md.RowGroups[0].Columns {
		m := c.MetaData
		switch m.PathInSchema[0] {
		case "n":
			if m.Statistics.NullCount != rows/3+1 {
				t.Errorf("n: null count %d, want %d", m.Statistics.NullCount, rows/3+1)
			}
			if len(m.Statistics.MinValue) != 8 || len(m.Statistics.MaxValue) != 8 {
				t.Errorf("n: min %x max %x, want 8 bytes each", m.Statistics.MinValue, m.Statistics.MaxValue)
			} else if mn, mx := int64(leUint64(m.Statistics.MinValue)), int64(leUint64(m.Statistics.MaxValue)); mn != -999 || mx != rows-1-1000 {
				t.Errorf("n: min %d max %d, want -999 %d", mn, mx, rows-1-1000)
			}
		case "flag":
			if m.Statistics.NullCount != rows/5 {
				t.Errorf("flag: null count %d, want %d", m.Statistics.NullCount, rows/5)
			}
		case "s":
			if m.Statistics.MinValue != nil || m.Statistics.MaxValue != nil || m.Statistics.NullCount != 0 {
				t.Errorf("s: min %q max %q null count %d: want only a null count of 0", m.Statistics.MinValue, m.Statistics.MaxValue, m.Statistics.NullCount)
			}
			if m.TotalCompressedSize*2 > m.TotalUncompressedSize {
				t.Errorf("s: %d bytes of %d: want its repetitive text compressed", m.TotalCompressedSize, m.TotalUncompressedSize)
			}
		case "rnd":
			if m.TotalCompressedSize != m.TotalUncompressedSize {
				t.Errorf("rnd: %d bytes stored of %d: want random text stored as it is", m.TotalCompressedSize, m.TotalUncompressedSize)
			}
		}
	}
	// DuckDB skips row groups by these statistics: wrong ones would lose
	// the rows at either end (strings have none, so are always read).
	db := openDB(t)
	lo, hi := wants[0].s, wants[0].s
	for _, wt := range wants {
		lo, hi = min(lo, wt.s), max(hi, wt.s)
	}
	for _, q := range []struct {
		where string
		arg   any
	}{{"s = ?", lo}, {"s = ?", hi}, {"n = ?", -999}, {"n = ?", rows - 1 - 1000}, {"x = ?", 0.0}, {"x = ?", float64(rows-1) / 4}} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM read_parquet(?) WHERE `+q.where, filepath.Join(dir, "t.0.0.parquet"), q.arg).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("DuckDB finds %d rows WHERE %s (%v), want 1", n, q.where, q.arg)
		}
	}
	// The text column spans pages: 5,000 rows of ~100 bytes each.
	pages := pf.RowGroups()[0].ColumnChunks()[idx["s"]].Pages()
	defer func() { _ = pages.Close() }()
	np := 0
	for {
		p, err := pages.ReadPage()
		if err != nil {
			break
		}
		np++
		parquet.Release(p)
	}
	if np < 2 {
		t.Fatalf("text column in %d page(s), want at least 2", np)
	}
}

func leUint64(b []byte) uint64 {
	var x uint64
	for i := 7; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return x
}

// Rows of large values go to the encoder in batches cut by size, not by
// count; they read back whole and in order.
func TestParquetLargeValues(t *testing.T) {
	t.Parallel()
	tbl := &schema.Table{Name: "big", Columns: []*schema.Column{
		{Name: "i", DataType: schema.Bigint, Nullable: true},
		{Name: "s", DataType: schema.Text, Nullable: true},
	}}
	w, dir := parquetWriter(t)
	const rows = 300
	for i := range rows {
		s := strings.Repeat(fmt.Sprintf("%04d", i), 5000) // 20 KB
		if err := w.WriteRow(tbl, tbl.Columns, []any{int64(i), s}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var n, bad int
	err := openDB(t).QueryRow(`SELECT count(*), count(*) FILTER (WHERE s <> repeat(lpad(CAST(i AS VARCHAR), 4, '0'), 5000) OR i <> file_row_number)
		FROM read_parquet(?, file_row_number = true)`, filepath.Join(dir, "big.0.0.parquet")).Scan(&n, &bad)
	if err != nil {
		t.Fatal(err)
	}
	if n != rows || bad != 0 {
		t.Fatalf("%d rows (%d wrong or out of order), want %d", n, bad, rows)
	}
}
