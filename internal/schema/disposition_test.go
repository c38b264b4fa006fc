package schema

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
)

func TestParseWriteDisposition(t *testing.T) {
	ok := []struct {
		in   string // JSON
		want WriteDisposition
	}{
		{`"append"`, WriteDisposition{Disposition: Append}},
		{`{"disposition": "replace"}`, WriteDisposition{Disposition: Replace}},
		{`{"disposition": "merge", "strategy": "upsert"}`, WriteDisposition{Disposition: Merge, Strategy: Upsert}},
		{`{"disposition": "merge", "strategy": "delete-insert", "deduplicated": true}`, WriteDisposition{Disposition: Merge, Strategy: DeleteInsert, Deduplicated: true}},
		{`{"disposition": "merge", "strategy": "scd2"}`, WriteDisposition{Disposition: Merge, Strategy: SCD2}},
		// None is dlt's default for every option, and falsy options are
		// not given
		{`{"disposition": "merge", "strategy": "scd2", "active_record_timestamp": null, "boundary_timestamp": null}`, WriteDisposition{Disposition: Merge, Strategy: SCD2}},
		{`{"disposition": "merge", "strategy": null, "skip_unchanged_rows": false, "source_filter": ""}`, WriteDisposition{Disposition: Merge}},
		{`{"disposition": "merge", "strategy": "scd2", "validity_column_names": ["a", "b"], "active_record_timestamp": "9999-12-31", "boundary_timestamp": 1700000000}`,
			WriteDisposition{Disposition: Merge, Strategy: SCD2, SCD2: &SCD2Options{ValidFrom: "a", ValidTo: "b", ActiveRecordTimestamp: "9999-12-31", BoundaryTimestamp: "1700000000"}}},
	}
	for _, c := range ok {
		var v any
		if err := json.Unmarshal([]byte(c.in), &v); err != nil {
			t.Fatal(err)
		}
		got, err := ParseWriteDisposition(v)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(c.want)
		if string(g) != string(w) {
			t.Errorf("%s: got %s, want %s", c.in, g, w)
		}
	}
	bad := []struct{ in, want string }{
		{`"upsert"`, `unknown write_disposition "upsert"`},
		{`42`, `must be append, replace or merge`},
		{`{"strategy": "scd2"}`, `needs disposition`},
		{`{"disposition": "append", "strategy": "scd2"}`, `write_disposition.strategy applies to merge, not append`},
		{`{"disposition": "merge", "strategy": "cdc"}`, `not implemented by this engine`},
		{`{"disposition": "merge", "strategy": "scd3"}`, `unknown write_disposition.strategy "scd3"`},
		{`{"disposition": "merge", "strategy": "scd2", "row_version_column_name": "h"}`, `row_version_column_name is not implemented`},
		{`{"disposition": "merge", "source_filter": "id > 1"}`, `source_filter is not implemented`},
		{`{"disposition": "merge", "strategy": "scd2", "validity": ["a", "b"]}`, `unknown key write_disposition.validity`},
		{`{"disposition": "merge", "validity_column_names": ["a", "b"]}`, `applies to the scd2 strategy`},
		{`{"disposition": "merge", "strategy": "upsert", "boundary_timestamp": "2024-01-01"}`, `applies to the scd2 strategy`},
		{`{"disposition": "merge", "strategy": "scd2", "validity_column_names": ["a"]}`, `two column names`},
		{`{"disposition": "merge", "strategy": "scd2", "validity_column_names": ["a", "a"]}`, `name "a" twice`},
		{`{"disposition": "merge", "strategy": "scd2", "validity_column_names": ["a", " "]}`, `two column names`},
		{`{"disposition": "merge", "strategy": "scd2", "active_record_timestamp": "someday"}`, `"someday" is not a date or timestamp`},
		{`{"disposition": "merge", "strategy": "scd2", "boundary_timestamp": true}`, `must be a date or timestamp`},
		{`{"disposition": "merge", "strategy": "upsert", "deduplicated": true}`, `applies to the delete-insert strategy`},
		{`{"disposition": "merge", "deduplicated": "yes"}`, `must be true or false`},
	}
	for _, c := range bad {
		var v any
		if err := json.Unmarshal([]byte(c.in), &v); err != nil {
			t.Fatal(err)
		}
		_, err := ParseWriteDisposition(v)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.in, err, c.want)
		}
	}
}

// TOML gives dates and datetimes as values of their own, which dlt's
// config reads as datetimes too.
func TestParseWriteDispositionTOMLDates(t *testing.T) {
	var doc map[string]any
	src := `wd = { disposition = "merge", strategy = "scd2", active_record_timestamp = 9999-12-31, boundary_timestamp = 2024-01-02T03:04:05+01:00 }`
	if err := toml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	wd, err := ParseWriteDisposition(doc["wd"])
	if err != nil {
		t.Fatal(err)
	}
	a, _ := EnsureDatetime(wd.SCD2.ActiveRecordTimestamp)
	b, _ := EnsureDatetime(wd.SCD2.BoundaryTimestamp)
	if !a.Equal(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)) || !b.Equal(time.Date(2024, 1, 2, 2, 4, 5, 0, time.UTC)) {
		t.Errorf("got %v and %v from %+v", a, b, wd.SCD2)
	}
}

func TestEnsureDatetime(t *testing.T) {
	for in, want := range map[string]string{
		"2024-01-02":                "2024-01-02T00:00:00Z",
		"2024-01-02T03:04:05+01:00": "2024-01-02T02:04:05Z",
		"2024-01-02 03:04:05.25":    "2024-01-02T03:04:05.25Z",
		"1700000000":                "2023-11-14T22:13:20Z",
		"9999-12-31T00:00:00":       "9999-12-31T00:00:00Z",
	} {
		got, ok := EnsureDatetime(in)
		if !ok || got.Format(time.RFC3339Nano) != want {
			t.Errorf("EnsureDatetime(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "soon", "12:00:00", "2024-13-01"} {
		if got, ok := EnsureDatetime(in); ok {
			t.Errorf("EnsureDatetime(%q) = %v, want no datetime", in, got)
		}
	}
}

// A stored dlt schema's scd2 markers are read and written back as dlt
// wrote them: an epoch number stays a number.
func TestSCD2HintsRoundTrip(t *testing.T) {
	src := `{"name": "items", "write_disposition": "merge", "x-merge-strategy": "scd2", "x-boundary-timestamp": "2024-01-02T03:04:05+01:00", "columns": {
		"vf": {"name": "vf", "data_type": "timestamp", "nullable": true, "x-valid-from": true},
		"vt": {"name": "vt", "data_type": "timestamp", "nullable": true, "x-valid-to": true, "x-active-record-timestamp": 4102444800},
		"id": {"name": "id", "data_type": "bigint", "nullable": true}}}`
	var tb Table
	if err := json.Unmarshal([]byte(src), &tb); err != nil {
		t.Fatal(err)
	}
	if from, to := tb.ValidityNames(); from != "vf" || to != "vt" {
		t.Errorf("validity %s, %s", from, to)
	}
	if a, ok := tb.ActiveRecord(); !ok || a.Year() != 2100 {
		t.Errorf("active record %v %v", a, ok)
	}
	if b, ok := tb.Boundary(); !ok || b.Hour() != 2 {
		t.Errorf("boundary %v %v", b, ok)
	}
	out, err := json.Marshal(&tb)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"x-active-record-timestamp":4102444800`, `"x-boundary-timestamp":"2024-01-02T03:04:05+01:00"`, `"x-valid-from":true`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("written back without %s: %s", want, out)
		}
	}
	var plain Table
	if err := json.Unmarshal([]byte(`{"name": "t", "columns": {"a": {"name": "a", "x-active-record-timestamp": null}}}`), &plain); err != nil {
		t.Fatal(err)
	}
	if _, ok := plain.ActiveRecord(); ok {
		t.Error("a null active record timestamp reads as a timestamp")
	}
	if from, to := plain.ValidityNames(); from != ColValidFrom || to != ColValidTo {
		t.Errorf("unmarked validity: %s, %s", from, to)
	}
	if err := json.Unmarshal([]byte(`{"name": "t", "columns": {"a": {"name": "a", "x-active-record-timestamp": [1]}}}`), &plain); err == nil {
		t.Error("a list as an active record timestamp was read")
	}
}
