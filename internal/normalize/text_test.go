package normalize

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/naming"
	"github.com/dlthub/dlthub/internal/schema"
)

// A text column takes every later string as Coerce would, whatever the
// string infers as on its own (emit skips the inference for them): an ISO
// timestamp stays the same text, base64 bytes lose the binary marker, and
// neither makes a variant column.
func TestTextColumnTakesStrings(t *testing.T) {
	n, h, out := itemsNormalizer(t)
	values := []string{"plain", "2024-05-06T07:08:09Z", "2024-05-06", jsonx.BinaryMarker + "AAEC", ""}
	for i, v := range values {
		rec := &jsonx.Object{Keys: []string{"name"}, Values: []any{v}}
		if err := n.Record(h, int64(i), rec); err != nil {
			t.Fatalf("record %d (%q): %v", i, v, err)
		}
	}
	tbl := n.Schema.Table("items")
	if c := tbl.Column("name"); c == nil || c.DataType != schema.Text {
		t.Fatalf("column name: %+v, want text", c)
	}
	for _, c := range tbl.Columns {
		if c.Variant {
			t.Errorf("variant column %q made", c.Name)
		}
	}
	if len(out.rows) != len(values) {
		t.Fatalf("%d rows, want %d", len(out.rows), len(values))
	}
	want := []string{"plain", "2024-05-06T07:08:09Z", "2024-05-06", "AAEC", ""}
	for i, v := range values {
		typ, _ := schema.InferType(v)
		if c, ok := schema.Coerce(v, typ, schema.Text); !ok || c != want[i] {
			t.Fatalf("Coerce(%q, %s, text) = %q, %v; the test expects %q", v, typ, c, ok, want[i])
		}
		if got := out.rows[i]; !strings.Contains(got, fmt.Sprintf("|name:text=%#v|", want[i])) {
			t.Errorf("row %d = %s, want name %q", i, got, want[i])
		}
	}
}

// itemsNormalizer is a normalizer of a new schema, prepared for records of
// the resource and table "items", that logs the rows it writes.
func itemsNormalizer(t *testing.T) (*Normalizer, *Hints, *rowLog) {
	t.Helper()
	h := &Hints{Table: "items", Resource: "items"}
	out := &rowLog{}
	n := New(schema.New("items"), naming.NewSnakeCase(63), "1700000000.1", out)
	if _, err := n.Prepare(h); err != nil {
		t.Fatal(err)
	}
	return n, h, out
}
