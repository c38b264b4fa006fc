package schema

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/jsonx"
)

func TestInferType(t *testing.T) {
	cases := []struct {
		v    any
		want DataType
	}{
		{"x", Text}, {"2024-01-02T03:04:05Z", Timestamp}, {"2024-01-02 03:04:05.123+02:00", Timestamp},
		{"2024-01-02", Text}, {"2024-13-02T03:04:05Z", Text}, {int64(1), Bigint}, {1.5, Double}, {true, Bool},
		{jsonx.Number("123456789012345678901234"), Wei}, {json.Number("12"), Bigint}, {time.Now(), Timestamp},
		{[]byte("x"), Binary}, {jsonx.BinaryMarker + "eA==", Binary}, {[]any{1}, JSON},
	}
	for _, tc := range cases {
		got, ok := InferType(tc.v)
		if !ok || got != tc.want {
			t.Errorf("InferType(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
	if _, ok := InferType(nil); ok {
		t.Error("nil has a type")
	}
}

func TestCoerce(t *testing.T) {
	cases := []struct {
		v        any
		from, to DataType
		want     any
		ok       bool
	}{
		{int64(5), Bigint, Text, "5", true},
		{true, Bool, Text, "True", true},
		{"42", Text, Bigint, int64(42), true},
		{"x", Text, Bigint, nil, false},
		{2.0, Double, Bigint, int64(2), true},
		{2.5, Double, Bigint, nil, false},
		{int64(3), Bigint, Double, 3.0, true},
		{"yes", Text, Bool, true, true},
		{"maybe", Text, Bool, nil, false},
		{int64(0), Bigint, Timestamp, "1970-01-01T00:00:00Z", true},
		{"2024-01-02", Text, Date, "2024-01-02", true},
		{"12:30", Text, Time, "12:30", true},
		{"1.25", Text, Decimal, "1.25", true},
		{int64(1), Bool, Bigint, nil, false},
		// What dlt keeps in a variant column, and destinations refused at
		// load (a pending package every later run stopped on).
		{"2024-02-29", Text, Date, "2024-02-29", true},
		{"2024-13-45", Text, Date, nil, false},
		{"2024-02-30", Text, Date, nil, false},
		{"2023-02-29", Text, Date, nil, false},
		{"0000-01-01", Text, Date, nil, false},
		{" 2024-05-06 ", Text, Date, nil, false},
		{"20240506", Text, Date, "2024-05-06", true},
		// dlt 1.31.0 reads what no date parser takes as seconds since the
		// epoch (Python's float()), so this is 20,241,350 s.
		{"20241350", Text, Date, "1970-08-23", true},
		{"2024/01/15", Text, Date, "2024-01-15", true},
		{"2024", Text, Date, "2024-01-01", true},
		{"2024-W01", Text, Date, "2024-01-01", true},
		{"1700000000", Text, Date, "2023-11-14", true},
		{"2024-05-06T23:00:00-05:00", Timestamp, Date, "2024-05-07", true},
		{"2024-05-06T01:00:00+05:00", Timestamp, Date, "2024-05-05", true},
		{"20240506T10Z", Timestamp, Date, "2024-05-06", true},
		{int64(1700000000), Bigint, Date, "2023-11-14", true},
		{-1.5, Double, Date, "1969-12-31", true},
		{"1_700_000_000", Text, Timestamp, "2023-11-14T22:13:20Z", true},
		{" 1e9 ", Text, Timestamp, "2001-09-09T01:46:40Z", true},
		{"2024-01-02", Text, Timestamp, "2024-01-02T00:00:00+00:00", true},
		{"2024/01/15 9:05", Text, Timestamp, "2024-01-15T09:05:00+00:00", true},
		// More than microseconds: cut, as dlt does (PostgreSQL would
		// round the text).
		{"2024-01-01T10:00:00.1234567Z", Timestamp, Timestamp, "2024-01-01T10:00:00.123456+00:00", true},
		{"2024-01-01T10:00:00.123456Z", Timestamp, Timestamp, "2024-01-01T10:00:00.123456Z", true},
		{"10:00:00.9999999", Text, Time, "10:00:00.999999", true},
		{"10:00:00.999999", Text, Time, "10:00:00.999999", true},
		{"nan", Text, Timestamp, nil, false},
		{"2024-13", Text, Timestamp, nil, false},
		{"10:00", Text, Timestamp, nil, false},
		{"1__0", Text, Timestamp, nil, false},
		{"_10", Text, Timestamp, nil, false},
		{"23:59:59", Text, Time, "23:59:59", true},
		{"25:99", Text, Time, nil, false},
		{"23:59:60", Text, Time, nil, false},
		{"24:00:00", Text, Time, nil, false},
		{int64(253402300799), Bigint, Timestamp, "9999-12-31T23:59:59Z", true},
		{int64(-62135596800), Bigint, Timestamp, "0001-01-01T00:00:00Z", true},
		{int64(253402300800), Bigint, Timestamp, nil, false},
		{int64(-62135596801), Bigint, Timestamp, nil, false},
		{int64(1e18), Bigint, Timestamp, nil, false},
		{1e300, Double, Timestamp, nil, false},
	}
	for _, tc := range cases {
		got, ok := Coerce(tc.v, tc.from, tc.to)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("Coerce(%#v, %s→%s) = %#v, %v; want %#v, %v", tc.v, tc.from, tc.to, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSchemaVersionsAndJSON(t *testing.T) {
	s := New("s")
	s.AddTable(&Table{Name: "t", Columns: []*Column{{Name: "b", DataType: Text}, {Name: "a", DataType: Bigint}}})
	if !s.Bump() || s.Version != 1 {
		t.Fatal("first bump")
	}
	if s.Bump() {
		t.Error("bump without change")
	}
	h1 := s.VersionHash
	s.Table("t").Columns = append(s.Table("t").Columns, &Column{Name: "c", DataType: Bool})
	if !s.Bump() || s.Version != 2 || s.PreviousHashes[0] != h1 {
		t.Errorf("second bump: %+v", s)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back := &Schema{}
	if err := json.Unmarshal(b, back); err != nil {
		t.Fatal(err)
	}
	cols := back.Table("t").Columns
	if len(cols) != 3 || cols[0].Name != "b" || cols[1].Name != "a" || back.ContentHash() != s.ContentHash() {
		t.Errorf("round trip lost order or content: %s", b)
	}
	if _, err := ParseContract("nope"); err == nil {
		t.Error("bad contract mode accepted")
	}
	c, err := ParseContract(map[string]any{"columns": "freeze"})
	if err != nil || c.ColumnsMode() != Freeze || c.TablesMode() != Evolve {
		t.Errorf("contract %+v %v", c, err)
	}
}
