package dltcompat

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// Generate makes n cases of random nested documents from a seed (the same
// seed, the same cases), so the harness explores what nobody wrote down:
// keys in odd spellings, nesting, lists of lists, nulls and mixed types.
func Generate(seed uint64, n int) []Case {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	keys := []string{"id", "name", "Camel Case", "small__love__potion", "with-dash", "x", "Value", "nested", "list", "ümlaut", "a b", "_private", "2nd", "HTTPCode"}
	var doc func(depth int) any
	scalar := func() any {
		switch rng.IntN(9) {
		case 0:
			return nil
		case 1:
			return rng.IntN(1000) - 500
		case 2:
			return float64(rng.IntN(10000)) / 8
		case 3:
			return rng.IntN(2) == 0
		case 4:
			return fmt.Sprintf("2024-0%d-1%dT0%d:00:00Z", 1+rng.IntN(9), rng.IntN(10), rng.IntN(10))
		case 5:
			return ""
		default:
			return keys[rng.IntN(len(keys))] + "!"
		}
	}
	doc = func(depth int) any {
		if depth > 3 {
			return scalar()
		}
		switch rng.IntN(6) {
		case 0:
			l := make([]any, rng.IntN(3))
			for i := range l {
				l[i] = doc(depth + 1)
			}
			return l
		case 1:
			m := map[string]any{}
			for range rng.IntN(4) {
				m[keys[rng.IntN(len(keys))]] = doc(depth + 1)
			}
			return m
		default:
			return scalar()
		}
	}
	out := make([]Case, 0, n)
	for i := range n {
		var recs []json.RawMessage
		for range 1 + rng.IntN(4) {
			m := map[string]any{}
			for range 1 + rng.IntN(5) {
				m[keys[rng.IntN(len(keys))]] = doc(1)
			}
			b, _ := json.Marshal(m)
			recs = append(recs, b)
		}
		out = append(out, Case{Name: fmt.Sprintf("gen_%d_%03d", seed, i), Loads: [][]json.RawMessage{recs}, Why: "generated"})
	}
	return out
}

// GenerateLoads makes n cases of several loads each under a random write
// disposition and merge strategy (append, replace, delete-insert, upsert,
// scd2 with or without options, insert-only), with the hints those read
// (primary keys, compound and spelled as records spell them, merge keys,
// hard_delete, dedup_sort, typed columns, nesting, cursors, contracts),
// records whose keys recur across loads and whose values change type
// between them. Where dlt leaves the outcome unspecified it is kept out: a
// deduplicating merge load has a key once unless a dedup_sort column
// orders its copies by distinct values, and upsert and insert-only loads
// have each key once.
func GenerateLoads(seed uint64, n int) []Case {
	rng := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	type disp struct {
		hint  any
		keyed bool // records have a primary key
		// dedups: dlt deduplicates a load's copies of a key, keeping
		// an unspecified one unless dedup_sort orders them; unique: the
		// strategy requires a key once per load (dlt's upsert does not
		// deduplicate, and insert-only's copies' nested rows cannot be
		// told apart by the root they belong to).
		dedups, unique bool
	}
	disps := []disp{
		{"append", false, false, false},
		{"replace", false, false, false},
		{map[string]any{"disposition": "merge", "strategy": "delete-insert"}, true, true, false},
		{map[string]any{"disposition": "merge", "strategy": "upsert"}, true, false, true},
		{map[string]any{"disposition": "merge", "strategy": "scd2"}, false, false, false},
		{map[string]any{"disposition": "merge", "strategy": "insert-only"}, true, false, true},
		{"merge", true, true, false},
	}
	value := func() any {
		switch rng.IntN(8) {
		case 0:
			return nil
		case 1:
			return rng.IntN(100)
		case 2:
			return float64(rng.IntN(100)) / 4
		case 3:
			return rng.IntN(2) == 0
		case 4:
			return fmt.Sprintf("2024-01-0%dT00:00:00Z", 1+rng.IntN(9))
		default:
			return fmt.Sprintf("s%d", rng.IntN(5))
		}
	}
	out := make([]Case, 0, n)
	for i := range n {
		d := disps[rng.IntN(len(disps))]
		hints := map[string]any{"write_disposition": d.hint}
		cols := map[string]any{}
		// The key as a record spells it: hints name it so too, and
		// both sides normalize it (item_id).
		idName := []string{"id", "id", "id", "Item ID", "itemId"}[rng.IntN(5)]
		if d.keyed || rng.IntN(3) == 0 {
			hints["primary_key"] = idName
			if rng.IntN(5) == 0 {
				hints["primary_key"] = []string{idName, "k2"} // compound
			}
		}
		_, keyed := hints["primary_key"]
		hardDelete := keyed && rng.IntN(3) == 0
		if hardDelete {
			cols["deleted"] = map[string]any{"hard_delete": true, "data_type": "bool"}
		}
		dedupSort := d.dedups && rng.IntN(3) == 0
		if dedupSort {
			cols["seq"] = map[string]any{"dedup_sort": []string{"asc", "desc"}[rng.IntN(2)], "data_type": "bigint"}
		}
		if rng.IntN(6) == 0 {
			cols["w"] = map[string]any{"data_type": []string{"text", "bigint", "timestamp"}[rng.IntN(3)]}
		}
		if strategy(d.hint) == "scd2" && rng.IntN(3) == 0 {
			wd := map[string]any{"disposition": "merge", "strategy": "scd2"}
			if rng.IntN(2) == 0 {
				wd["validity_column_names"] = []string{"from_", "to_"}
			}
			if rng.IntN(2) == 0 {
				wd["active_record_timestamp"] = "9999-12-31T00:00:00Z"
			}
			hints["write_disposition"] = wd
		}
		if len(cols) > 0 {
			hints["columns"] = cols
		}
		if rng.IntN(4) == 0 {
			hints["max_table_nesting"] = rng.IntN(2)
		}
		if strategy(d.hint) == "delete-insert" || strategy(d.hint) == "scd2" {
			if rng.IntN(4) == 0 {
				hints["merge_key"] = "w" // missing in some records
			}
		}
		cursor := rng.IntN(5) == 0
		if cursor {
			inc := map[string]any{"cursor_path": "n"}
			if rng.IntN(2) == 0 {
				inc["initial_value"] = 2
			}
			if rng.IntN(3) == 0 {
				inc["last_value_func"] = "min"
			}
			hints["incremental"] = inc
		}
		// Not with max_table_nesting: dlt forgets a new table's nesting
		// when a contract is set (a deliberate difference, see
		// TestNestingWithContractOnFirstLoad).
		if _, nests := hints["max_table_nesting"]; !nests && rng.IntN(8) == 0 {
			hints["schema_contract"] = []any{"evolve", "freeze", map[string]any{"columns": "discard_value"},
				map[string]any{"data_type": "discard_row"}, map[string]any{"columns": "freeze"}}[rng.IntN(5)]
		}
		nested := rng.IntN(2) == 0
		var loads [][]json.RawMessage
		for range 1 + rng.IntN(3) {
			recs := []json.RawMessage{} // a load of no records is [], not null
			used := map[int]bool{}
			for j := range rng.IntN(5) {
				id := 1 + rng.IntN(4)
				if (d.unique || d.dedups && !dedupSort) && used[id] {
					continue
				}
				used[id] = true
				m := map[string]any{idName: id, "v": value(), "k2": id % 2}
				if rng.IntN(3) > 0 {
					m["w"] = fmt.Sprintf("w%d", rng.IntN(3))
				}
				if dedupSort {
					m["seq"] = j
				}
				if cursor {
					m["n"] = rng.IntN(6)
				}
				if hardDelete && rng.IntN(2) == 0 {
					m["deleted"] = []any{true, false, nil}[rng.IntN(3)]
				}
				if nested && rng.IntN(4) > 0 {
					tags := make([]any, rng.IntN(3))
					for k := range tags {
						if rng.IntN(2) == 0 {
							tags[k] = map[string]any{"t": value(), "k": k}
						} else {
							tags[k] = fmt.Sprintf("t%d", rng.IntN(3))
						}
					}
					m["tags"] = tags
					if rng.IntN(8) == 0 {
						// the same key as a record or a list of lists
						m["tags"] = []any{map[string]any{"k": value()}, []any{[]any{value()}}}[rng.IntN(2)]
					}
					if rng.IntN(2) == 0 {
						m["child"] = map[string]any{"a": value(), "b": []any{rng.IntN(3)}}
					}
				}
				b, _ := json.Marshal(m)
				recs = append(recs, b)
			}
			loads = append(loads, recs)
		}
		raw := map[string]json.RawMessage{}
		for k, v := range hints {
			b, _ := json.Marshal(v)
			raw[k] = b
		}
		out = append(out, Case{Name: fmt.Sprintf("genloads_%d_%03d", seed, i), Loads: loads, Hints: raw, Why: "generated loads"})
	}
	return out
}

// strategy is a write_disposition hint's merge strategy: "delete-insert"
// for a plain "merge", "" for other dispositions.
func strategy(hint any) string {
	switch h := hint.(type) {
	case string:
		if h == "merge" {
			return "delete-insert"
		}
	case map[string]any:
		s, _ := h["strategy"].(string)
		return s
	}
	return ""
}
