package normalize

import (
	"slices"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
)

// Objects of changing shapes at one place of the key trie (the cached key
// list of the last shape) still take every key's own column: the same
// keys in another order, fewer keys, other keys, and a key list changed
// in place between records.
func TestShapeCacheFollowsKeys(t *testing.T) {
	n, h, out := itemsNormalizer(t)
	obj := func(kv ...any) *jsonx.Object {
		o := &jsonx.Object{}
		for i := 0; i < len(kv); i += 2 {
			o.Set(kv[i].(string), kv[i+1])
		}
		return o
	}
	shared := []string{"A", "B"}
	recs := []*jsonx.Object{
		obj("A", int64(1), "B", obj("C", int64(2))),
		obj("B", obj("C", int64(3)), "A", int64(4)),
		obj("A", int64(5)),
		obj("D", int64(6), "A", int64(7)),
		{Keys: shared, Values: []any{int64(8), int64(9)}},
	}
	want := []string{
		`items|a:bigint=1|b__c:bigint=2|`,
		`items|a:bigint=4|b__c:bigint=3|`, // nested objects after the scalars
		`items|a:bigint=5|`,
		`items|d:bigint=6|a:bigint=7|`,
		`items|a:bigint=8|b:bigint=9|`,
		`items|e:bigint=10|f:bigint=11|`,
	}
	for i, r := range recs {
		if err := n.Record(h, int64(i), r); err != nil {
			t.Fatal(err)
		}
	}
	// The same slice, its keys changed in place.
	shared[0], shared[1] = "E", "F"
	if err := n.Record(h, 5, &jsonx.Object{Keys: shared, Values: []any{int64(10), int64(11)}}); err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if got := out.rows[i]; len(got) < len(w) || got[:len(w)] != w {
			t.Errorf("row %d = %s, want it to start %s", i, got, w)
		}
	}
	var cols []string
	for _, c := range n.Schema.Table("items").Columns {
		cols = append(cols, c.Name)
	}
	for _, c := range []string{"a", "b__c", "d", "b", "e", "f"} {
		if !slices.Contains(cols, c) {
			t.Errorf("column %s missing: %v", c, cols)
		}
	}
}
