package dltcompat

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// maxRowDiffs bounds the rows a diff lists per table.
const maxRowDiffs = 5

// comparedHints are the column hints dlt stores that must match.
func comparedHints() []string {
	return []string{"primary_key", "merge_key", "unique", "row_key", "parent_key", "root_key", "precision", "scale", "timezone", "variant", "hard_delete", "dedup_sort", "x-valid-from", "x-valid-to", "x-active-record-timestamp", "x-row-version"}
}

// Compare lists how got (this engine's) differs from want (dlt's), one
// readable line per difference; none when they match.
func Compare(want, got *Result) []string {
	var d []string
	switch {
	case want.Error != "" && got.Error == "":
		return []string{"dlt refused the case (" + want.Error + ") but the engine loaded it"}
	case want.Error == "" && got.Error != "":
		return []string{"the engine failed (" + got.Error + ") where dlt loaded the case"}
	case want.Error != "":
		return nil // both refused; messages differ by design
	}
	d = append(d, compareSchemas(want.Schema, got.Schema)...)
	d = append(d, compareColumns(want.Tables, got.Tables)...)
	d = append(d, compareData(want, got)...)
	d = append(d, compareExports(want.Export, got.Export)...)
	return d
}

func tableNames[T any](m map[string]T, system bool) []string {
	var out []string
	for n := range m {
		if strings.HasPrefix(n, "_dlt_") == system {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// missing lists the names in a and not in b.
func missing(a, b []string) []string {
	in := map[string]bool{}
	for _, n := range b {
		in[n] = true
	}
	var out []string
	for _, n := range a {
		if !in[n] {
			out = append(out, n)
		}
	}
	return out
}

func compareSchemas(want, got *StoredSchema) []string {
	if want == nil || got == nil {
		if (want == nil) != (got == nil) {
			return []string{fmt.Sprintf("stored schema: dlt has one: %v, the engine: %v", want != nil, got != nil)}
		}
		return nil
	}
	var d []string
	wn, gn := tableNames(want.Tables, false), tableNames(got.Tables, false)
	for _, n := range missing(wn, gn) {
		d = append(d, "schema: table "+n+" is dlt's only")
	}
	for _, n := range missing(gn, wn) {
		d = append(d, "schema: table "+n+" is the engine's only")
	}
	for _, n := range wn {
		g, ok := got.Tables[n]
		if !ok {
			continue
		}
		w := want.Tables[n]
		if w.Parent != g.Parent {
			d = append(d, fmt.Sprintf("schema: table %s: parent: dlt %q, engine %q", n, w.Parent, g.Parent))
		}
		if w.WriteDisposition != g.WriteDisposition && w.Parent == "" {
			d = append(d, fmt.Sprintf("schema: table %s: write_disposition: dlt %q, engine %q", n, w.WriteDisposition, g.WriteDisposition))
		}
		if fmt.Sprint(w.Boundary) != fmt.Sprint(g.Boundary) {
			d = append(d, fmt.Sprintf("schema: table %s: x-boundary-timestamp: dlt %v, engine %v", n, w.Boundary, g.Boundary))
		}
		wc, gc := colNames(w.Columns), colNames(g.Columns)
		if strings.Join(wc, ",") != strings.Join(gc, ",") {
			d = append(d, fmt.Sprintf("schema: table %s: columns:\n    dlt:    %s\n    engine: %s", n, strings.Join(wc, ", "), strings.Join(gc, ", ")))
		}
		gcols := map[string]map[string]any{}
		for _, c := range g.Columns {
			gcols[fmt.Sprint(c["name"])] = c
		}
		for _, wcol := range w.Columns {
			name := fmt.Sprint(wcol["name"])
			gcol, ok := gcols[name]
			if !ok {
				continue
			}
			for _, k := range append([]string{"data_type", "nullable"}, comparedHints()...) {
				wv, gv := hint(wcol, k), hint(gcol, k)
				if wv != gv {
					d = append(d, fmt.Sprintf("schema: %s.%s: %s: dlt %s, engine %s", n, name, k, wv, gv))
				}
			}
		}
	}
	return d
}

// hint is a column property as compared: absent and false are alike.
func hint(c map[string]any, k string) string {
	v, ok := c[k]
	if !ok || v == nil || v == false {
		if k == "nullable" && !ok {
			return "true"
		}
		return "-"
	}
	return fmt.Sprint(v)
}

func colNames(cs orderedColumns) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprint(c["name"])
	}
	return out
}

// compareColumns compares every table's columns as DuckDB has them.
func compareColumns(want, got map[string]*Table) []string {
	var d []string
	for _, system := range []bool{false, true} {
		wn, gn := tableNames(want, system), tableNames(got, system)
		for _, n := range missing(wn, gn) {
			d = append(d, "database: table "+n+" is dlt's only")
		}
		for _, n := range missing(gn, wn) {
			d = append(d, "database: table "+n+" is the engine's only")
		}
		for _, n := range wn {
			g, ok := got[n]
			if !ok {
				continue
			}
			ws, gs := columnText(want[n].Columns), columnText(g.Columns)
			if ws != gs {
				d = append(d, fmt.Sprintf("database: table %s columns:\n    dlt:    %s\n    engine: %s", n, ws, gs))
			}
		}
	}
	return d
}

func columnText(cs [][2]string) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c[0] + " " + c[1]
	}
	return strings.Join(parts, ", ")
}

// compareData compares the rows of the tables both have, each row known
// by where it sits (its values for a root row, its parent's key and list
// index for a nested one) rather than by its random _dlt_id.
func compareData(want, got *Result) []string {
	wk, gk := keyRows(want), keyRows(got)
	var d []string
	for _, n := range tableNames(want.Tables, false) {
		g, ok := gk[n]
		if !ok {
			continue
		}
		w := wk[n]
		var onlyW, onlyG []string
		for k, row := range w {
			if grow, ok := g[k]; !ok {
				onlyW = append(onlyW, row)
			} else if grow != row {
				onlyW = append(onlyW, row)
				onlyG = append(onlyG, grow)
			}
		}
		for k, row := range g {
			if _, ok := w[k]; !ok {
				onlyG = append(onlyG, row)
			}
		}
		if len(onlyW)+len(onlyG) == 0 {
			continue
		}
		sort.Strings(onlyW)
		sort.Strings(onlyG)
		msg := fmt.Sprintf("data: table %s: %d row(s) differ (dlt %d rows, engine %d)", n, max(len(onlyW), len(onlyG)), len(w), len(g))
		for i, r := range onlyW {
			if i == maxRowDiffs {
				break
			}
			msg += "\n    dlt:    " + r
		}
		for i, r := range onlyG {
			if i == maxRowDiffs {
				break
			}
			msg += "\n    engine: " + r
		}
		d = append(d, msg)
	}
	return d
}

// keyRows is, per table, each row's position key → its values (sorted by
// column name; _dlt_id and _dlt_parent_id left out, _dlt_root_id as its
// root's key, _dlt_load_id as the load's number, an scd2 validity as its
// number among the run's validity times). The _dlt_id of a root row of an
// scd2 or upsert table and of a nested row of an scd2 table is kept: dlt
// derives it from the record (row hash, key hash) and loads match it
// against stored rows, so it must be dlt's.
func keyRows(r *Result) map[string]map[string]string {
	parent := map[string]string{}
	hashedID := map[string]bool{}
	if r.Schema != nil {
		for n, t := range r.Schema.Tables {
			parent[n] = t.Parent
		}
		for n, t := range r.Schema.Tables {
			root := n
			for k := 0; parent[root] != "" && k < 100; k++ {
				root = parent[root]
			}
			switch r.Schema.Tables[root].MergeStrategy {
			case "scd2", "insert-only":
				hashedID[n] = true
			case "upsert":
				hashedID[n] = t.Parent == ""
			}
		}
	}
	loads := ordinals(r, "_dlt_load_id")
	// Validity columns are those the schema marks (dlt's names, or the
	// resource's validity_column_names). A table with a boundary
	// timestamp has the same validity times in both runs: compared as
	// they are, not by their order.
	validCols := map[string]map[string]bool{}
	exact := map[string]bool{}
	names := []string{"_dlt_valid_from", "_dlt_valid_to"}
	if r.Schema != nil {
		for n, t := range r.Schema.Tables {
			for _, c := range t.Columns {
				if c["x-valid-from"] == true || c["x-valid-to"] == true {
					name, _ := c["name"].(string)
					if validCols[n] == nil {
						validCols[n] = map[string]bool{}
					}
					validCols[n][name] = true
					names = append(names, name)
				}
			}
			exact[n] = t.Boundary != nil
		}
	}
	validity := ordinals(r, names...)
	depth := func(n string) int {
		k := 0
		for p := parent[n]; p != "" && k < 100; p = parent[p] {
			k++
		}
		return k
	}
	names = tableNames(r.Tables, false)
	sort.SliceStable(names, func(i, j int) bool { return depth(names[i]) < depth(names[j]) })
	sig := subtrees(r, names, parent)
	keyOf := map[string]string{} // _dlt_id → position key
	out := map[string]map[string]string{}
	for _, n := range names {
		t := r.Tables[n]
		col := map[string]int{}
		for i, c := range t.Columns {
			col[c[0]] = i
		}
		rows := map[string]string{}
		seen := map[string]int{}
		type entry struct{ key, values, id, sig string }
		var entries []entry
		for _, row := range t.Rows {
			get := func(name string) any {
				if i, ok := col[name]; ok {
					return row[i]
				}
				return nil
			}
			var parts []string
			for i, c := range t.Columns {
				if validCols[n][c[0]] || (validCols[n] == nil && (c[0] == "_dlt_valid_from" || c[0] == "_dlt_valid_to")) {
					switch {
					case row[i] == nil:
						parts = append(parts, c[0]+"=NULL")
					case exact[n]:
						parts = append(parts, c[0]+"="+canonical(row[i]))
					default:
						parts = append(parts, fmt.Sprintf("%s=time#%d", c[0], validity[fmt.Sprint(row[i])]))
					}
					continue
				}
				switch c[0] {
				case "_dlt_id":
					if hashedID[n] {
						parts = append(parts, c[0]+"="+canonical(row[i]))
					}
					continue
				case "_dlt_parent_id":
					continue
				case "_dlt_root_id":
					parts = append(parts, c[0]+"=root:"+keyOf[fmt.Sprint(row[i])])
				case "_dlt_load_id":
					parts = append(parts, fmt.Sprintf("%s=load#%d", c[0], loads[fmt.Sprint(row[i])]))
				default:
					parts = append(parts, c[0]+"="+canonical(row[i]))
				}
			}
			sort.Strings(parts)
			values := "{" + strings.Join(parts, ", ") + "}"
			var key string
			if p, ok := col["_dlt_parent_id"]; ok && parent[n] != "" {
				key = keyOf[fmt.Sprint(row[p])] + "/" + n + "[" + canonical(get("_dlt_list_idx")) + "]"
			} else {
				key = n + values
			}
			id, _ := get("_dlt_id").(string)
			entries = append(entries, entry{key, values, id, sig[id]})
		}
		// Rows with the same key (root rows of equal values) are told
		// apart by number in the order of their nested rows' content,
		// not the order a SELECT returned them in, which need not be
		// the records' order.
		sort.SliceStable(entries, func(i, j int) bool {
			if entries[i].key != entries[j].key {
				return entries[i].key < entries[j].key
			}
			return entries[i].sig < entries[j].sig
		})
		for _, e := range entries {
			key := e.key
			seen[key]++
			if seen[key] > 1 {
				key += "#" + strconv.Itoa(seen[key])
			}
			if e.id != "" {
				keyOf[e.id] = key
			}
			rows[key] = e.values
		}
		out[n] = rows
	}
	return out
}

// subtrees is, per _dlt_id, the content of its nested rows (their tables,
// list positions and values, recursively, ids and load ids left out), to
// order rows that are otherwise equal.
func subtrees(r *Result, names []string, parent map[string]string) map[string]string {
	sig := map[string]string{}
	for i := len(names) - 1; i >= 0; i-- { // the deepest tables first
		n := names[i]
		t := r.Tables[n]
		if parent[n] == "" {
			continue
		}
		pi, ii := -1, -1
		for j, c := range t.Columns {
			switch c[0] {
			case "_dlt_parent_id":
				pi = j
			case "_dlt_id":
				ii = j
			}
		}
		if pi < 0 {
			continue
		}
		children := map[string][]string{}
		for _, row := range t.Rows {
			var parts []string
			for j, c := range t.Columns {
				switch c[0] {
				case "_dlt_id", "_dlt_parent_id", "_dlt_root_id", "_dlt_load_id":
					continue
				}
				parts = append(parts, c[0]+"="+canonical(row[j]))
			}
			id := ""
			if ii >= 0 {
				id = fmt.Sprint(row[ii])
			}
			p := fmt.Sprint(row[pi])
			children[p] = append(children[p], n+"{"+strings.Join(parts, ",")+"}"+sig[id])
		}
		for p, list := range children {
			sort.Strings(list)
			sig[p] += "[" + strings.Join(list, ";") + "]"
		}
	}
	return sig
}

// ordinals numbers the distinct values of the named columns across all
// tables (1 for the smallest): load ids and scd2 validity times differ
// from run to run, their order does not.
func ordinals(r *Result, columns ...string) map[string]int {
	want := map[string]bool{}
	for _, c := range columns {
		want[c] = true
	}
	out := map[string]int{}
	var values []string
	for _, n := range tableNames(r.Tables, false) {
		t := r.Tables[n]
		for i, c := range t.Columns {
			if !want[c[0]] {
				continue
			}
			for _, row := range t.Rows {
				if row[i] == nil {
					continue
				}
				s := fmt.Sprint(row[i])
				if _, seen := out[s]; !seen {
					out[s] = 0
					values = append(values, s)
				}
			}
		}
	}
	sort.Strings(values)
	for i, v := range values {
		out[v] = i + 1
	}
	return out
}

// canonical prints a dumped value so equal values print alike whichever
// side made them: numbers by value, JSON documents with sorted keys.
func canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return number(string(x))
	case string:
		return strconv.Quote(x)
	case map[string]any:
		for k, inner := range x {
			if k == "json" {
				if s, ok := inner.(string); ok {
					return "json:" + normalJSON(s)
				}
			}
			return k + ":" + fmt.Sprint(inner)
		}
	}
	return fmt.Sprintf("%v", v)
}

// number prints a JSON number by its value (1.0 and 1 alike; integers
// past float64's precision exactly).
func number(s string) string {
	if !strings.ContainsAny(s, ".eE") {
		return strings.TrimPrefix(s, "+")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		// A whole double prints as digits, as one side's dumper may
		// already have printed it (1e+16 and 10000000000000000 alike).
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// normalJSON re-prints a JSON document with sorted keys and numbers by
// value.
func normalJSON(s string) string {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return strconv.Quote(s)
	}
	var walk func(any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case json.Number:
			return json.Number(number(string(t)))
		case map[string]any:
			for k, e := range t {
				t[k] = walk(e)
			}
		case []any:
			for i, e := range t {
				t[i] = walk(e)
			}
		}
		return x
	}
	b, _ := json.Marshal(walk(v))
	return string(b)
}
