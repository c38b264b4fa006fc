package normalize

import (
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/naming"
	"github.com/dlthub/dlthub/internal/schema"
)

// rowLog records every row written, as text.
type rowLog struct{ rows []string }

func (l *rowLog) WriteRow(t *schema.Table, cols []*schema.Column, vals []any) error {
	if len(cols) != len(vals) {
		return fmt.Errorf("%s: %d columns, %d values", t.Name, len(cols), len(vals))
	}
	var b strings.Builder
	b.WriteString(t.Name)
	for i, c := range cols {
		fmt.Fprintf(&b, "|%s:%s=%#v", c.Name, c.DataType, vals[i])
	}
	l.rows = append(l.rows, b.String())
	return nil
}

// elements counts the list elements anywhere in a value: each can become
// at most one child row.
func elements(v any) int {
	n := 0
	switch x := v.(type) {
	case *jsonx.Object:
		for _, e := range x.Values {
			n += elements(e)
		}
	case []any:
		n += len(x)
		for _, e := range x {
			n += elements(e)
		}
	}
	return n
}

// normalizeAll runs records through a fresh normalizer whose row keys come
// from a fixed seed, and returns the rows and the schema as text.
func normalizeAll(recs []any, h Hints) ([]string, string, error) {
	s := schema.New("fuzz")
	out := &rowLog{}
	n := New(s, naming.NewSnakeCase(63), "1700000000.1", out)
	n.ValidFrom = "2024-01-01T00:00:00Z"
	n.rng = mrand.NewChaCha8([32]byte{1})
	var err error
	for i, r := range recs {
		if err = n.Record(&h, int64(i), r); err != nil {
			break
		}
	}
	var b strings.Builder
	for _, t := range s.Tables {
		fmt.Fprintf(&b, "%s<%s:", t.Name, t.Parent)
		for _, c := range t.Columns {
			fmt.Fprintf(&b, " %s %s %v", c.Name, c.DataType, c.Nullable)
		}
		b.WriteString("\n")
	}
	return out.rows, b.String(), err
}

// FuzzRecord holds for any JSON document, as a batch of records (an array)
// or one record, under each write disposition and nesting limit: the
// normalizer does not panic, refuses a record only with a *RecordError or a
// *schema.ContractError, writes rows with a value for each column (keys
// that normalize alike, "A" and "a ", give one column twice: the writer keeps
// the last, as dlt does), writes no more rows than the records and their list
// elements, and gives the same rows and schema when run again.
func FuzzRecord(f *testing.F) {
	for _, s := range []string{
		`{"id": 1, "updated_at": "2024-01-01T01:00:00Z"}`,
		`[{"id": 1, "user": {"login": "a", "site_admin": false}, "labels": [{"name": "bug"}, {"name": "x", "tags": [1, 2]}]}, {"id": "2", "labels": []}]`,
		`{"z": 1, "a": [true, null, -2.5e1, "x\u00e9\n\ud83d\ude00"], "m": {"k": 12345678901234567890}, "n": -0}`,
		`[{"a": 1}, {"a": "x"}, {"a": 1.5}, {"a": {"b": [[1], [2, [3]]]}}, {"A": 2, "a ": 3}]`,
		`[{"CamelCase": 1, "camel_case": 2, "": 3, "___": 4, "_dlt_id": "mine"}]`,
		`{"d": "2024-01-01", "t": "2024-01-01T00:00:00+02:00", "b": "\uF02BAAEC"}`,
		`[1, "x", null]`,
		`{"a":{"a":{"a":{"a":{"a":{"a":[{"a":[{"a":1}]}]}}}}}}`,
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Add([]byte(`[{"id": 1, "v": [1]}, {"id": 1, "v": [2]}]`), uint8(1))
	f.Add([]byte(`[{"id": 1, "v": [1]}, {"id": 1, "v": "x"}]`), uint8(2|8))
	f.Fuzz(func(t *testing.T, b []byte, mode uint8) {
		doc, err := jsonx.Parse(b)
		if err != nil {
			return
		}
		recs := []any{doc}
		if l, ok := doc.([]any); ok {
			recs = l
		}
		h := Hints{Table: "items", Resource: "items"}
		switch mode % 4 {
		case 1:
			h.WriteDisposition, h.MergeStrategy = schema.Merge, schema.SCD2
		case 2:
			h.WriteDisposition, h.MergeStrategy, h.PrimaryKey = schema.Merge, schema.Upsert, []string{"id"}
		case 3:
			h.WriteDisposition = schema.Replace
		}
		if mode&4 != 0 {
			depth := int(mode>>5) % 3
			h.MaxNesting = &depth
		}
		if mode&8 != 0 {
			h.Contract = &schema.Contract{Columns: schema.Freeze, DataType: schema.Freeze}
		}
		rows, sch, err := normalizeAll(recs, h)
		if err != nil {
			var re *RecordError
			var ce *schema.ContractError
			if !errors.As(err, &re) && !errors.As(err, &ce) {
				t.Fatalf("unexpected error %T: %v", err, err)
			}
		}
		limit := len(recs)
		for _, r := range recs {
			limit += elements(r)
		}
		if len(rows) > limit {
			t.Fatalf("%d rows from %d records with %d list elements in all", len(rows), len(recs), limit-len(recs))
		}
		rows2, sch2, err2 := normalizeAll(recs, h)
		if fmt.Sprint(err) != fmt.Sprint(err2) || sch != sch2 || strings.Join(rows, "\n") != strings.Join(rows2, "\n") {
			t.Fatalf("not deterministic:\n%v\n%s\n%s\n---\n%v\n%s\n%s", err, sch, strings.Join(rows, "\n"), err2, sch2, strings.Join(rows2, "\n"))
		}
	})
}
