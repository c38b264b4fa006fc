package pipeline

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/jsonx"
)

// A cursor stored by dlt as a datetime (its typed JSON: U+F027 and the
// isoformat) is read as that instant. Read as text, it sorted after every
// record's timestamp and the run skipped all of them as already loaded.
func TestCursorReadsDltTypedState(t *testing.T) {
	rec := func(ts string) any {
		v, err := jsonx.Parse([]byte(`{"id": 1, "updated_at": "` + ts + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	state := func(last any) map[string]any {
		return map[string]any{"incremental": map[string]any{"updated_at": map[string]any{"last_value": last, "unique_hashes": []any{}}}}
	}
	stored := "\uF0272024-05-01T03:00:00+00:00"
	rstate := state(stored)
	c, err := newCursor(&Incremental{CursorPath: "updated_at"}, rstate, "items", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.StartValue(), time.Date(2024, 5, 1, 3, 0, 0, 0, time.UTC); got != want {
		t.Fatalf("start value %v (%T), want %v", got, got, want)
	}
	for _, tc := range []struct {
		ts   string
		keep bool
	}{{"2024-05-01T02:00:00Z", false}, {"2024-05-01T04:00:00+02:00", false}, {"2024-05-01T03:00:00Z", true}, {"2024-05-01T04:00:00Z", true}} {
		_, keep, err := c.filter(rec(tc.ts), 0)
		if err != nil {
			t.Fatal(err)
		}
		if keep != tc.keep {
			t.Errorf("record at %s: kept %v, want %v", tc.ts, keep, tc.keep)
		}
	}
	c.save(rstate)
	if got := rstate["incremental"].(map[string]any)["updated_at"].(map[string]any)["last_value"]; got != "2024-05-01T04:00:00Z" {
		t.Errorf("saved last_value %q, want the record's text (dlt keeps a text cursor as text)", got)
	}

	// A time cursor (a SQL source's) is saved as dlt saves a datetime, so
	// dlt restores it as one.
	rstate = state(stored)
	c, err = newCursor(&Incremental{CursorPath: "updated_at"}, rstate, "items", nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 5, 1, 4, 0, 0, 123456789, time.FixedZone("", 3600))
	if _, keep, err := c.filter(map[string]any{"id": int64(1), "updated_at": at}, 0); err != nil || !keep {
		t.Fatalf("time record: kept %v, %v", keep, err)
	}
	c.save(rstate)
	if got := rstate["incremental"].(map[string]any)["updated_at"].(map[string]any)["last_value"]; got != "\uF0272024-05-01T03:00:00.123456+00:00" {
		t.Errorf("saved last_value %q, want dlt's typed datetime", got)
	}

	// No record moves the cursor: dlt's value is written back as it was
	// (a naive datetime stays naive for dlt).
	naive := "\uF0272024-05-01T03:00:00"
	rstate = state(naive)
	c, err = newCursor(&Incremental{CursorPath: "updated_at"}, rstate, "items", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, keep, err := c.filter(rec("2024-05-01T01:00:00Z"), 0); err != nil || keep {
		t.Fatalf("older record: kept %v, %v", keep, err)
	}
	c.save(rstate)
	if got := rstate["incremental"].(map[string]any)["updated_at"].(map[string]any)["last_value"]; got != naive {
		t.Errorf("saved last_value %q, want dlt's %q unchanged", got, naive)
	}
}

// dlt's other typed values: decimals and wei compare as numbers, dates,
// times and UUIDs as their text; anything else is left as it is.
func TestFromDltState(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want any
	}{
		{"\uF02612.50", json.Number("12.50")},
		{"\uF02C123456789012345678901234567890", json.Number("123456789012345678901234567890")},
		{"\uF026NaN", "\uF026NaN"},
		{"\uF0282024-05-01", "2024-05-01"},
		{"\uF02D10:00:00", "10:00:00"},
		{"\uF029c1a2b3c4-0000-4000-8000-000000000000", "c1a2b3c4-0000-4000-8000-000000000000"},
		{"\uF027not a date", "\uF027not a date"},
		{"\uF02Aabcd", "\uF02Aabcd"},
		{"plain", "plain"},
		{"", ""},
		{int64(3), int64(3)},
	} {
		if got := fromDltState(tc.in); got != tc.want {
			t.Errorf("fromDltState(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
	rstate := map[string]any{"incremental": map[string]any{"n": map[string]any{"last_value": "\uF02612.50"}}}
	c, err := newCursor(&Incremental{CursorPath: "n"}, rstate, "items", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n    string
		keep bool
	}{{"12.4", false}, {"12.5", true}, {"13", true}} {
		v, err := jsonx.Parse([]byte(`{"n": ` + tc.n + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, keep, err := c.filter(v, 0); err != nil || keep != tc.keep {
			t.Errorf("n=%s: kept %v (%v), want %v", tc.n, keep, err, tc.keep)
		}
	}
}
