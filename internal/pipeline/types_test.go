package pipeline

import (
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/schema"
)

// TestDeclaredAndInferredTypes loads every data type, declared by column
// hints or inferred from Go values, and checks DuckDB's column types.
func TestDeclaredAndInferredTypes(t *testing.T) {
	p := newTestPipeline(t, "types")
	zero := 0
	_ = zero
	rec := map[string]any{
		"t":    "text",
		"d":    1.5,
		"b":    true,
		"ts":   time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC),
		"i":    int64(7),
		"bin":  []byte{0, 1, 2, 255},
		"day":  "2024-03-04",
		"at":   "12:30:00",
		"amt":  "12.345",
		"meta": map[string]any{"k": []any{1, 2}},
		"big":  uint64(1) << 63,
	}
	run(t, p, &Resource{Name: "all", Columns: []*schema.Column{
		{Name: "day", DataType: schema.Date},
		{Name: "at", DataType: schema.Time},
		{Name: "amt", DataType: schema.Decimal, Precision: new(10), Scale: 3},
		{Name: "meta", DataType: schema.JSON},
	}, Records: records(rec)})
	db := openDB(t, p)
	want := map[string]string{
		"t": "VARCHAR", "d": "DOUBLE", "b": "BOOLEAN", "ts": "TIMESTAMP WITH TIME ZONE", "i": "BIGINT",
		"bin": "BLOB", "day": "DATE", "at": "TIME", "amt": "DECIMAL(10,3)", "meta": "JSON", "big": "DECIMAL(38,0)",
	}
	for col, typ := range want {
		var got string
		if err := db.QueryRow(`SELECT data_type FROM information_schema.columns WHERE table_schema = 'types_dataset' AND table_name = 'all' AND column_name = ?`, col).Scan(&got); err != nil || got != typ {
			t.Errorf("%s: %q %v, want %s", col, got, err, typ)
		}
	}
	var bin []byte
	var day, meta string
	var amt float64
	if err := db.QueryRow(`SELECT bin, day::VARCHAR, amt::DOUBLE, meta::VARCHAR FROM types_dataset."all"`).Scan(&bin, &day, &amt, &meta); err != nil {
		t.Fatal(err)
	}
	if string(bin) != string([]byte{0, 1, 2, 255}) || day != "2024-03-04" || amt != 12.345 || meta != `{"k":[1,2]}` {
		t.Errorf("values: %v %q %v %q", bin, day, amt, meta)
	}
}

func TestMaxNesting(t *testing.T) {
	p := newTestPipeline(t, "nest")
	zero, one := 0, 1
	rec := `{"id": 1, "user": {"login": "a", "org": {"name": "o"}}, "labels": [{"name": "x", "tags": ["t"]}]}`
	run(t, p, &Resource{Name: "flat", MaxNesting: &zero, Records: records(jsonRecords(t, rec)...)})
	run(t, p, &Resource{Name: "one", MaxNesting: &one, Records: records(jsonRecords(t, rec)...)})
	run(t, p, &Resource{Name: "all", Records: records(jsonRecords(t, rec)...)})
	s, _ := p.Schema()
	check := func(table string, cols ...string) {
		t.Helper()
		tb := s.Table(table)
		if tb == nil {
			t.Fatalf("no table %s", table)
		}
		for _, c := range cols {
			name, typ, _ := cut(c)
			col := tb.Column(name)
			if col == nil || string(col.DataType) != typ {
				t.Errorf("%s.%s: %+v, want %s", table, name, col, typ)
			}
		}
	}
	check("flat", "user:json", "labels:json")
	check("one", "user__login:text", "user__org:json")
	check("one__labels", "name:text", "tags:json")
	check("all", "user__org__name:text")
	check("all__labels__tags", "value:text")
	if s.Table("flat__labels") != nil || s.Table("one__labels__tags") != nil {
		t.Error("child tables past max nesting")
	}
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
