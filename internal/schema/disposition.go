package schema

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SCD2Options are the scd2 strategy's settings in dlt's write_disposition
// dict. dlt keeps them in the schema (x-valid-from and x-valid-to on the
// validity columns, x-active-record-timestamp on the valid-to column,
// x-boundary-timestamp on the table), so a dataset dlt built with them is
// continued with the same columns and markers.
type SCD2Options struct {
	// ValidFrom and ValidTo name the validity columns (dlt's
	// validity_column_names; "": _dlt_valid_from and _dlt_valid_to).
	ValidFrom string `json:"valid_from,omitempty"`
	ValidTo   string `json:"valid_to,omitempty"`
	// ActiveRecordTimestamp is the valid-to of current versions, as dlt
	// reads a datetime (ensure_datetime); "" marks them with NULL.
	ActiveRecordTimestamp string `json:"active_record_timestamp,omitempty"`
	// BoundaryTimestamp is the valid-from of new versions and the valid-to
	// of retired ones; "" is the load's creation time.
	BoundaryTimestamp string `json:"boundary_timestamp,omitempty"`
}

// WriteDisposition is dlt's write_disposition argument read: a string, or
// its dict form {disposition, strategy, ...strategy options}.
type WriteDisposition struct {
	Disposition string
	Strategy    string
	SCD2        *SCD2Options
	// Deduplicated is delete-insert's "deduplicated": the caller promises
	// that a load holds one record per key. The engine deduplicates
	// anyway, which gives the same table when the promise holds.
	Deduplicated bool
}

// ParseWriteDisposition reads dlt's write_disposition: "append", or
// {"disposition": "merge", "strategy": "scd2", "validity_column_names":
// [...], ...}. Options the engine does not implement (SQL conditions,
// row versions) are refused by name rather than ignored: ignoring them
// would load other rows than dlt does.
func ParseWriteDisposition(v any) (WriteDisposition, error) {
	var wd WriteDisposition
	switch x := v.(type) {
	case nil:
		return wd, nil
	case string:
		wd.Disposition = x
		return wd, checkDisposition(x)
	case map[string]any:
		return parseDispositionDict(x)
	}
	return wd, fmt.Errorf("write_disposition must be append, replace or merge, or a table such as {disposition = \"merge\", strategy = \"scd2\"}, not %v", v)
}

func checkDisposition(d string) error {
	switch d {
	case Append, Replace, Merge:
		return nil
	}
	return fmt.Errorf("unknown write_disposition %q (append, replace, merge)", d)
}

func parseDispositionDict(m map[string]any) (WriteDisposition, error) {
	var wd WriteDisposition
	d, ok := m["disposition"].(string)
	if !ok {
		return wd, fmt.Errorf("write_disposition needs disposition (append, replace or merge) as text, as in {disposition = \"merge\", strategy = \"scd2\"}")
	}
	if err := checkDisposition(d); err != nil {
		return wd, err
	}
	wd.Disposition = d
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	str := func(k string) (string, error) {
		s, ok := m[k].(string)
		if !ok {
			return "", fmt.Errorf("write_disposition.%s must be text, not %v", k, m[k])
		}
		return s, nil
	}
	for _, k := range keys {
		if k == "disposition" || m[k] == nil || m[k] == false || m[k] == "" {
			continue // dlt reads None, False and "" as not given
		}
		if d != Merge {
			return wd, fmt.Errorf("write_disposition.%s applies to merge, not %s", k, d)
		}
		switch k {
		case "strategy":
			s, err := str(k)
			if err != nil {
				return wd, err
			}
			switch s {
			case DeleteInsert, Upsert, SCD2, InsertOnly:
			case "cdc":
				return wd, fmt.Errorf("write_disposition.strategy %q is not implemented by this engine (delete-insert, upsert, scd2, insert-only): run this resource with Python dlt", s)
			default:
				return wd, fmt.Errorf("unknown write_disposition.strategy %q (delete-insert, upsert, scd2, insert-only)", s)
			}
			wd.Strategy = s
		case "validity_column_names", "active_record_timestamp", "boundary_timestamp":
			// read below, once the strategy is known
		case "deduplicated":
			b, ok := m[k].(bool)
			if !ok {
				return wd, fmt.Errorf("write_disposition.deduplicated must be true or false, not %v", m[k])
			}
			wd.Deduplicated = b
		case "row_version_column_name", "source_filter", "destination_scope", "skip_unchanged_rows":
			return wd, fmt.Errorf("write_disposition.%s is not implemented by this engine, which would load other rows than dlt does: remove it, or run this resource with Python dlt", k)
		default:
			return wd, fmt.Errorf("unknown key write_disposition.%s (disposition, strategy, validity_column_names, active_record_timestamp, boundary_timestamp, deduplicated)", k)
		}
	}
	if wd.Deduplicated && wd.Strategy != "" && wd.Strategy != DeleteInsert {
		return wd, fmt.Errorf("write_disposition.deduplicated applies to the delete-insert strategy, not %s", wd.Strategy)
	}
	var o SCD2Options
	var err error
	set := false
	for _, k := range []string{"validity_column_names", "active_record_timestamp", "boundary_timestamp"} {
		v, ok := m[k]
		if !ok || v == nil {
			continue // dlt: None is the default
		}
		if wd.Strategy != SCD2 {
			return wd, fmt.Errorf("write_disposition.%s applies to the scd2 strategy; set strategy = \"scd2\" or remove it", k)
		}
		set = true
		switch k {
		case "validity_column_names":
			names, ok := v.([]any)
			if !ok || len(names) != 2 {
				return wd, fmt.Errorf("write_disposition.validity_column_names must be two column names, valid from and valid to, not %v", v)
			}
			from, ok1 := names[0].(string)
			to, ok2 := names[1].(string)
			if !ok1 || !ok2 || strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" {
				return wd, fmt.Errorf("write_disposition.validity_column_names must be two column names, not %v", v)
			}
			o.ValidFrom, o.ValidTo = from, to
		case "active_record_timestamp":
			if o.ActiveRecordTimestamp, err = timeText(k, v); err != nil {
				return wd, err
			}
		case "boundary_timestamp":
			if o.BoundaryTimestamp, err = timeText(k, v); err != nil {
				return wd, err
			}
		}
	}
	if err := o.Check(); err != nil {
		return wd, fmt.Errorf("write_disposition: %w", err)
	}
	if set {
		wd.SCD2 = &o
	}
	return wd, nil
}

// timeText is a datetime option as text: TOML and JSON give text, TOML
// also its own datetimes, and dlt takes seconds since the epoch.
func timeText(key string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case fmt.Stringer: // TOML's local dates and datetimes print as ISO 8601
		return x.String(), nil
	}
	return "", fmt.Errorf("write_disposition.%s must be a date or timestamp, not %v", key, v)
}

// EnsureDatetime reads s as dlt's ensure_datetime does: an ISO 8601
// timestamp (naive text is UTC), a date (its midnight) or seconds since
// the epoch.
func EnsureDatetime(s string) (time.Time, bool) {
	p, k, us, ok := pendulumDatetime(s)
	if !ok {
		return time.Time{}, false
	}
	if k != kindNone {
		us = p.micros()
	}
	return time.UnixMicro(us).UTC(), true
}

// Validity names an scd2 table's validity columns: those dlt marks
// x-valid-from and x-valid-to (the first of each, as dlt picks), else
// dlt's default names.
func (t *Table) Validity() (from, to *Column) {
	for _, c := range t.Columns {
		if c.ValidFrom && from == nil {
			from = c
		}
		if c.ValidTo && to == nil {
			to = c
		}
	}
	return from, to
}

// ValidityNames are the names of Validity's columns, dlt's defaults for
// those the table does not mark.
func (t *Table) ValidityNames() (from, to string) {
	f, tt := t.Validity()
	from, to = ColValidFrom, ColValidTo
	if f != nil {
		from = f.Name
	}
	if tt != nil {
		to = tt.Name
	}
	return from, to
}

// ActiveRecord is the valid-to value of an scd2 table's current versions
// (its valid-to column's x-active-record-timestamp), ok false when they
// are marked with NULL.
func (t *Table) ActiveRecord() (time.Time, bool) {
	_, to := t.Validity()
	if to == nil || to.ActiveRecordTimestamp == "" {
		return time.Time{}, false
	}
	return EnsureDatetime(string(to.ActiveRecordTimestamp))
}

// Boundary is an scd2 table's x-boundary-timestamp, ok false when the
// load's time is the boundary.
func (t *Table) Boundary() (time.Time, bool) {
	if t.BoundaryTimestamp == "" {
		return time.Time{}, false
	}
	return EnsureDatetime(string(t.BoundaryTimestamp))
}

// TimeHint is a datetime hint as dlt stores it in a schema: text, or a
// number of seconds since the epoch (dlt takes any datetime form). A
// number is kept as its JSON text and written back as a number.
type TimeHint string

// UnmarshalJSON reads text, a number, or null ("").
func (h *TimeHint) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case nil:
		*h = ""
	case string:
		*h = TimeHint(x)
	case float64:
		*h = TimeHint(strings.TrimSpace(string(b)))
	default:
		return fmt.Errorf("a datetime hint must be text or a number, not %s", b)
	}
	return nil
}

// MarshalJSON writes a number back as a number, text as text.
func (h TimeHint) MarshalJSON() ([]byte, error) {
	if json.Valid([]byte(h)) {
		var f float64
		if json.Unmarshal([]byte(h), &f) == nil {
			return []byte(h), nil
		}
	}
	return json.Marshal(string(h))
}

// Check refuses options dlt would refuse or that cannot name two columns.
func (o *SCD2Options) Check() error {
	if (o.ValidFrom == "") != (o.ValidTo == "") {
		return fmt.Errorf("scd2 validity columns: name both, valid from and valid to (got %q and %q)", o.ValidFrom, o.ValidTo)
	}
	if o.ValidFrom != "" && o.ValidFrom == o.ValidTo {
		return fmt.Errorf("scd2 validity columns name %q twice; valid from and valid to need a column each", o.ValidFrom)
	}
	for _, ts := range [][2]string{{"active_record_timestamp", o.ActiveRecordTimestamp}, {"boundary_timestamp", o.BoundaryTimestamp}} {
		if ts[1] == "" {
			continue
		}
		if _, ok := EnsureDatetime(ts[1]); !ok {
			return fmt.Errorf("scd2 %s %q is not a date or timestamp (as 2024-01-01 or 2024-01-01T00:00:00Z)", ts[0], ts[1])
		}
	}
	return nil
}
