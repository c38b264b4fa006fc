package pipeline

import (
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/jsonx"
)

// TestBoundaryHashIsDlts: the hashes a cursor keeps for records on its
// boundary are dlt's digest_dedup_value, computed by the pinned dlt:
// d({'b': 1, 'a': 'x', 't': 1.0, 'n': {'z': [1, 2.5e-7]}}) for a record
// without a key, d(5) for a one-column key, d([1, 'a']) for a compound
// one, d(datetime(2024, 1, 2, 3, 4, 5, 123456, timezone.utc)) for a time.
func TestBoundaryHashIsDlts(t *testing.T) {
	rec, err := jsonx.Parse([]byte(`{"b": 1, "a": "x", "t": 1.0, "n": {"z": [1, 2.5e-7]}}`))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)
	cases := []struct {
		pk   []string
		rec  any
		want string
	}{
		{nil, rec, "rJSys1D94D1i"},
		{[]string{"id"}, map[string]any{"id": int64(5), "v": "x"}, "tIXXf9wiHssy"},
		{[]string{"id", "k"}, map[string]any{"id": int64(1), "k": "a", "v": 2.5}, "ndvRJS8rm8iA"},
		{[]string{"at"}, map[string]any{"at": at}, "DI1cGeLBA0AZ"},
	}
	for _, c := range cases {
		cur := &Cursor{pk: c.pk}
		if got := cur.hash(c.rec); got != c.want {
			t.Errorf("key %v of %v: %s, dlt's %s", c.pk, c.rec, got, c.want)
		}
	}
}

// TestBoundaryHashesOfOldStatesStillMatch: a state stored before the
// cursor took dlt's hashes keeps the engine's older ones; a record on the
// boundary that one of them names is still not loaded again, and the new
// state keeps dlt's hash of it.
func TestBoundaryHashesOfOldStatesStillMatch(t *testing.T) {
	inc := &Incremental{CursorPath: "ts"}
	if err := inc.validate("items"); err != nil {
		t.Fatal(err)
	}
	on := map[string]any{"id": int64(1), "ts": int64(10)}
	other := map[string]any{"id": int64(2), "ts": int64(10)}
	old := (&Cursor{}).boundaryHashOld(on)
	if len(old) != 20 {
		t.Fatalf("old hash %q: want 20 characters", old)
	}
	rstate := map[string]any{"incremental": map[string]any{"ts": map[string]any{"last_value": int64(10), "unique_hashes": []any{old}}}}
	c, err := newCursor(inc, rstate, "items", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, keep, err := c.filter(on, 0); err != nil || keep {
		t.Fatalf("the record the old hash names: keep %v, %v; want it skipped", keep, err)
	}
	if _, keep, err := c.filter(other, 1); err != nil || !keep {
		t.Fatalf("another record on the boundary: keep %v, %v; want it loaded", keep, err)
	}
	if len(c.newHashes) != 1 || c.newHashes[0] != c.hash(other) || len(c.newHashes[0]) != 12 {
		t.Fatalf("new boundary hashes %v, want dlt's hash of the loaded record", c.newHashes)
	}
}

// TestBoundaryHashesOfOldDltStatesStillMatch: a state written by dlt
// before 1.29 holds 15-byte digests (digest_dedup_value(v, legacy=True) by
// the pinned dlt, of d(5) here); a record it names is not loaded again.
func TestBoundaryHashesOfOldDltStatesStillMatch(t *testing.T) {
	inc := &Incremental{CursorPath: "ts"}
	if err := inc.validate("items"); err != nil {
		t.Fatal(err)
	}
	rstate := map[string]any{"incremental": map[string]any{"ts": map[string]any{"last_value": int64(10), "unique_hashes": []any{"tIXXf9wiHssyAgHEzQnu"}}}}
	c, err := newCursor(inc, rstate, "items", []string{"id"})
	if err != nil {
		t.Fatal(err)
	}
	if _, keep, err := c.filter(map[string]any{"id": int64(5), "ts": int64(10)}, 0); err != nil || keep {
		t.Fatalf("the record dlt's old hash names: keep %v, %v; want it skipped", keep, err)
	}
	if _, keep, err := c.filter(map[string]any{"id": int64(6), "ts": int64(10)}, 1); err != nil || !keep {
		t.Fatalf("another record on the boundary: keep %v, %v; want it loaded", keep, err)
	}
}
