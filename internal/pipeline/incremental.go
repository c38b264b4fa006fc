package pipeline

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/schema"
)

// Incremental is dlt's incremental hint: load only records whose cursor
// moved past the last run's.
type Incremental struct {
	// CursorPath names the cursor field: "updated_at", "meta.updated_at",
	// "$.items[0].ts".
	CursorPath string
	// InitialValue is the start when nothing is stored yet.
	InitialValue any
	// EndValue bounds a backfill window [start, end); with it the stored
	// cursor does not move.
	EndValue any
	// LastValueFunc is "max" (default) or "min".
	LastValueFunc string
	// PrimaryKey dedups records that sit exactly on the boundary value;
	// empty uses the resource's primary key, else the whole record.
	PrimaryKey []string
	// Lag re-reads this much before the last value: seconds for
	// timestamps, units for numbers.
	Lag float64
	// OnCursorValueMissing is "raise" (default), "include" or "exclude".
	OnCursorValueMissing string
	// RangeStart is "closed" (default: records at the start value load,
	// those already loaded told apart by their hashes) or "open" (records
	// at the start value are skipped, no hashes kept); RangeEnd is "open"
	// (default: records at EndValue are left out) or "closed". dlt's
	// range_start and range_end.
	RangeStart, RangeEnd string
}

// dedupDisabled is dlt's compute_deduplication_disabled: no boundary
// hashes are checked or kept with an open start, a backfill window or a
// lag (the destination has to deduplicate what a lag reads again).
func (inc *Incremental) dedupDisabled() bool {
	return inc.RangeStart == "open" || inc.EndValue != nil || inc.Lag != 0
}

// Cursor is an incremental's window for one run.
type Cursor struct {
	inc        *Incremental
	start      any
	last       any
	hashes     []string
	oldHashes  bool // some stored hashes have 20 characters (the engine's older ones, dlt's before 1.29)
	newHashes  []string
	pk         []string
	resource   string
	initialRaw any
	// stored is last_value as the state held it, written back unchanged
	// while no record moves the cursor (moved): a value of dlt's typed
	// JSON keeps its exact text (a naive datetime stays naive for dlt).
	stored any
	moved  bool
}

// StartValue is where this run starts: the stored last value (minus lag),
// or the initial value.
func (c *Cursor) StartValue() any { return c.start }

// Path is the cursor path.
func (c *Cursor) Path() string { return c.inc.CursorPath }

// EndValue is the end of a backfill window, or nil.
func (c *Cursor) EndValue() any { return c.inc.EndValue }

// LastValue is the largest (or smallest, for min) cursor seen so far.
func (c *Cursor) LastValue() any { return c.last }

func (inc *Incremental) validate(resource string) error {
	if strings.TrimSpace(inc.CursorPath) == "" {
		return fmt.Errorf("resource %q: incremental needs a cursor_path", resource)
	}
	switch inc.LastValueFunc {
	case "", "max", "min":
	default:
		return fmt.Errorf("resource %q: incremental last_value_func %q: use max or min", resource, inc.LastValueFunc)
	}
	switch inc.OnCursorValueMissing {
	case "", "raise", "include", "exclude":
	default:
		return fmt.Errorf("resource %q: incremental on_cursor_value_missing %q: use raise, include or exclude", resource, inc.OnCursorValueMissing)
	}
	for _, r := range [][2]string{{"range_start", inc.RangeStart}, {"range_end", inc.RangeEnd}} {
		switch r[1] {
		case "", "open", "closed":
		default:
			return fmt.Errorf("resource %q: incremental %s %q: use open or closed", resource, r[0], r[1])
		}
	}
	return nil
}

// newCursor reads the stored state of an incremental.
func newCursor(inc *Incremental, rstate map[string]any, resource string, pk []string) (*Cursor, error) {
	if err := inc.validate(resource); err != nil {
		return nil, err
	}
	c := &Cursor{inc: inc, resource: resource, pk: inc.PrimaryKey, initialRaw: inc.InitialValue}
	if len(c.pk) == 0 {
		c.pk = pk
	}
	// A backfill window (EndValue) runs from InitialValue and ignores, and
	// never changes, the stored cursor.
	stored := incState(rstate, inc.CursorPath, false)
	if stored != nil && inc.EndValue == nil {
		c.stored = stored["last_value"]
		c.last = fromDltState(c.stored)
		for _, h := range asList(stored["unique_hashes"]) {
			if s, ok := h.(string); ok {
				c.hashes = append(c.hashes, s)
				c.oldHashes = c.oldHashes || len(s) == 20
			}
		}
	}
	if c.last == nil {
		c.last = inc.InitialValue
	}
	c.start = c.last
	if inc.Lag != 0 && c.start != nil {
		c.start = applyLag(c.start, inc.Lag, inc.LastValueFunc == "min")
	}
	return c, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func incState(rstate map[string]any, path string, create bool) map[string]any {
	inc, _ := rstate["incremental"].(map[string]any)
	if inc == nil {
		if !create {
			return nil
		}
		inc = map[string]any{}
		rstate["incremental"] = inc
	}
	st, _ := inc[path].(map[string]any)
	if st == nil && create {
		st = map[string]any{}
		inc[path] = st
	}
	return st
}

// filter decides whether a record is in the window and tracks the last
// value. It returns the record (parsed if it was raw JSON).
func (c *Cursor) filter(rec any, index int64) (any, bool, error) {
	if raw, ok := rec.(jsonx.Raw); ok {
		v, err := jsonx.Parse(raw)
		if err != nil {
			return nil, false, fmt.Errorf("record %d: %w", index, err)
		}
		rec = v
	}
	val, found := jsonx.Select(rec, c.inc.CursorPath)
	if !found || val == nil {
		switch c.inc.OnCursorValueMissing {
		case "include":
			return rec, true, nil
		case "exclude":
			return rec, false, nil
		}
		return nil, false, fmt.Errorf("record %d has no value at cursor_path %q (set on_cursor_value_missing to include or exclude to allow that)", index, c.inc.CursorPath)
	}
	min := c.inc.LastValueFunc == "min"
	if c.inc.EndValue != nil {
		cmp, err := compareValues(val, c.inc.EndValue)
		if err != nil {
			return nil, false, fmt.Errorf("record %d: %w", index, err)
		}
		if (!min && cmp > 0) || (min && cmp < 0) || (cmp == 0 && c.inc.RangeEnd != "closed") {
			return rec, false, nil
		}
	}
	if c.start != nil {
		cmp, err := compareValues(val, c.start)
		if err != nil {
			return nil, false, fmt.Errorf("record %d: %w", index, err)
		}
		if (!min && cmp < 0) || (min && cmp > 0) {
			return rec, false, nil
		}
		if cmp == 0 && c.inc.RangeStart == "open" {
			return rec, false, nil
		}
		if cmp == 0 && !c.inc.dedupDisabled() && c.loaded(rec) {
			return rec, false, nil // already loaded at the boundary
		}
	}
	dedup := !c.inc.dedupDisabled()
	if c.last == nil {
		c.last, c.moved = val, true
		if dedup {
			c.newHashes = []string{c.hash(rec)}
		}
		return rec, true, nil
	}
	cmp, err := compareValues(val, c.last)
	if err != nil {
		return nil, false, fmt.Errorf("record %d: %w", index, err)
	}
	switch {
	case (!min && cmp > 0) || (min && cmp < 0):
		c.last, c.moved = val, true
		c.newHashes = c.newHashes[:0]
		if dedup {
			c.newHashes = append(c.newHashes, c.hash(rec))
		}
	case cmp == 0 && dedup:
		c.newHashes = append(c.newHashes, c.hash(rec))
	}
	return rec, true, nil
}

// save writes the new last value and boundary hashes into the resource
// state. A backfill window (EndValue) leaves the stored cursor alone.
func (c *Cursor) save(rstate map[string]any) {
	if c.inc.EndValue != nil {
		return
	}
	st := incState(rstate, c.inc.CursorPath, true)
	if c.initialRaw != nil {
		st["initial_value"] = jsonValue(c.initialRaw)
	}
	if c.last == nil {
		return
	}
	prev := fromDltState(st["last_value"])
	if c.moved || c.stored == nil {
		st["last_value"] = jsonValue(c.last)
	} else {
		st["last_value"] = c.stored
	}
	hashes := c.newHashes
	if c.inc.dedupDisabled() {
		st["unique_hashes"] = []any{}
		return
	}
	if prev != nil {
		if cmp, err := compareValues(c.last, prev); err == nil && cmp == 0 {
			hashes = append(append([]string{}, c.hashes...), c.newHashes...)
		}
	}
	slices.Sort(hashes)
	hashes = slices.Compact(hashes)
	list := make([]any, len(hashes))
	for i, h := range hashes {
		list[i] = h
	}
	st["unique_hashes"] = list
}

// jsonValue turns a value into what state JSON holds: a time as dlt
// stores a datetime, so that dlt restores a datetime cursor (with a text
// one it fails the next run: IncrementalCursorInvalidCoercion).
func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return dltDatetimeText(x)
	case jsonx.Number:
		return json.Number(x)
	}
	return v
}

// dlt's typed JSON (dlt.common.json, typed_dumps): a stored state's values
// that JSON has no type for are strings that start with a character of
// Unicode's private use area, then the value's text.
const (
	dltDecimal  = '\uF026'
	dltDatetime = '\uF027' // datetime.isoformat()
	dltDate     = '\uF028'
	dltUUID     = '\uF029'
	dltWei      = '\uF02C'
	dltTime     = '\uF02D'
)

// fromDltState reads a cursor value of a stored state: dlt's typed values
// become the engine's (a datetime a time, a decimal a number, a date, time
// or UUID their text); others are returned as they are. Read as text, a
// datetime cursor sorted after every record's timestamp, and every record
// was skipped as already loaded.
func fromDltState(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	r, size := utf8.DecodeRuneInString(s)
	rest := s[size:]
	switch r {
	case dltDatetime:
		if t, ok := schema.ParseISOTimestamp(rest); ok {
			return t
		}
	case dltDecimal, dltWei:
		if json.Valid([]byte(rest)) {
			if _, err := strconv.ParseFloat(rest, 64); err == nil {
				return json.Number(rest)
			}
		}
	case dltDate, dltUUID, dltTime:
		return rest
	}
	return v
}

// dltDatetimeText is t as dlt stores a datetime in state: its marker,
// then Python's isoformat() of the UTC time.
func dltDatetimeText(t time.Time) string {
	return string(dltDatetime) + schema.PyISOFormat(t, 'T')
}

// loaded reports whether rec is among the records stored on the boundary:
// by dlt's hash, or in a state with 20-character hashes by the engine's
// older one or dlt's before 1.29 (the same digest, 15 bytes long).
func (c *Cursor) loaded(rec any) bool {
	b := c.dedupBytes(rec)
	if slices.Contains(c.hashes, jsonx.Digest(b, 9)) {
		return true
	}
	return c.oldHashes && (slices.Contains(c.hashes, jsonx.Digest(b, 15)) || slices.Contains(c.hashes, c.boundaryHashOld(rec)))
}

// hash is dlt's digest_dedup_value of rec's primary key (the value of a
// one-column key, the list of a compound key's values) or, without one, of
// the whole record: SHAKE-128, 9 bytes, base64 (12 characters), so the
// boundary hashes kept in state are the ones dlt keeps and matches.
func (c *Cursor) hash(rec any) string {
	return jsonx.Digest(c.dedupBytes(rec), 9)
}

// dedupBytes is what dlt hashes for rec's boundary hash.
func (c *Cursor) dedupBytes(rec any) []byte {
	var v any
	switch len(c.pk) {
	case 0:
		v = rec
	case 1:
		v, _ = jsonx.Select(rec, c.pk[0])
	default:
		key := make([]any, len(c.pk))
		for i, k := range c.pk {
			key[i], _ = jsonx.Select(rec, k)
		}
		v = key
	}
	b, err := jsonx.AppendDedup(nil, v)
	if err != nil {
		b = fmt.Appendf(nil, "%#v", v)
	}
	return b
}

// boundaryHashOld is the engine's hash before it took dlt's: the SHA-256
// (15 bytes, base64: 20 characters) of the record's key as a JSON list.
// States stored before still hold it, and a record it finds there was
// loaded already. (A whole float in the key is written "1.0" now, "1"
// then, so such a record on the old boundary is loaded again once.)
func (c *Cursor) boundaryHashOld(rec any) string {
	var key []any
	if len(c.pk) > 0 {
		for _, k := range c.pk {
			v, _ := jsonx.Select(rec, k)
			key = append(key, v)
		}
	} else {
		key = []any{rec}
	}
	b, _ := jsonx.Append(nil, key)
	sum := sha256.Sum256(b)
	return base64.RawStdEncoding.EncodeToString(sum[:15])
}

// compareValues orders cursor values: numbers numerically, timestamps (time
// values or ISO strings) by instant, other strings lexically.
func compareValues(a, b any) (int, error) {
	if fa, ok := number(a); ok {
		if fb, ok := number(b); ok {
			switch {
			case fa < fb:
				return -1, nil
			case fa > fb:
				return 1, nil
			}
			return 0, nil
		}
	}
	if ta, ok := timestamp(a); ok {
		if tb, ok := timestamp(b); ok {
			return ta.Compare(tb), nil
		}
	}
	sa, ok1 := a.(string)
	sb, ok2 := b.(string)
	if ok1 && ok2 {
		return strings.Compare(sa, sb), nil
	}
	return 0, fmt.Errorf("cannot compare cursor values %v (%T) and %v (%T)", a, a, b, b)
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case jsonx.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	}
	return 0, false
}

func timestamp(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		// As dlt reads the text it detects as a timestamp.
		return schema.ParseISOTimestamp(x)
	}
	return time.Time{}, false
}

func applyLag(v any, lag float64, min bool) any {
	sign := -1.0
	if min {
		sign = 1
	}
	if t, ok := timestamp(v); ok {
		return t.Add(time.Duration(sign * lag * float64(time.Second))).UTC().Format(time.RFC3339Nano)
	}
	if f, ok := number(v); ok {
		r := f + sign*lag
		if _, isInt := v.(int64); isInt && r == math.Trunc(r) {
			return int64(r)
		}
		return r
	}
	return v
}
