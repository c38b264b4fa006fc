package dltcompat

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/schema"
)

// The exported schema document is compared where its fields correspond:
// what `dlthub local pipeline schema --format yaml` prints against what
// `dlt pipeline NAME schema --format yaml` prints (dlt's
// Schema.to_dict(remove_defaults=True); driver.py dumps it as JSON).
//
// Schema level: name, engine_version, the set of tables (dlt's system
// tables included), settings and normalizers are compared; version,
// version_hash and previous_hashes are not: dlt bumps the version at every
// step that changes the schema (extract, normalize, each new table), and
// the hash digests dlt's own canonical form, so both are engine-specific
// (the stored-schema comparison already checks that the content agrees).
// The order of the tables is not compared either: dlt adds
// _dlt_pipeline_state when the first run extracts state, between the root
// tables it extracted and the nested ones normalize adds, and the engine
// keeps system tables out of its model and prints them around the data
// tables.
//
// Table level: every field (parent, write_disposition, resource,
// x-merge-strategy, schema_contract, x-normalizer with max_nesting and
// seen-data, description, file_format, and any field only one side has),
// and the columns in order. Column level: every field (data_type,
// nullable, primary_key, merge_key, unique, row_key, parent_key,
// root_key, precision, scale, timezone, variant, description, …).
// Key order inside a table or column is not compared: YAML readers do not
// see it. Two spellings of one meaning are alike: a boolean hint that is
// false or null and one that is absent (dlt's defaults for hints), and a
// missing nullable and nullable true (dlt keeps a column hint as the
// resource gave it, without nullable, and nullable is dlt's default).

// skippedSchemaFields are the schema-level fields not compared (see above).
func skippedSchemaFields() []string { return []string{"version", "version_hash", "previous_hashes"} }

// ExportYAML is the engine's exported schema document, made by the code
// behind `dlthub local pipeline schema --format yaml` and read back with a
// YAML parser, keys in document order.
func ExportYAML(s *schema.Schema) (*jsonx.Object, error) {
	var buf bytes.Buffer
	if err := s.WriteExport(&buf, "yaml"); err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(buf.Bytes(), &doc); err != nil {
		return nil, fmt.Errorf("read exported schema: %w\n%s", err, buf.Bytes())
	}
	v, err := fromYAML(&doc)
	if err != nil {
		return nil, fmt.Errorf("read exported schema: %w", err)
	}
	o, ok := v.(*jsonx.Object)
	if !ok {
		return nil, fmt.Errorf("read exported schema: want a mapping, got %T", v)
	}
	return o, nil
}

// fromYAML turns a YAML node into the values jsonx.Parse makes, so both
// sides' documents compare as the same Go types.
func fromYAML(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, fmt.Errorf("line %d: want one document", n.Line)
		}
		return fromYAML(n.Content[0])
	case yaml.AliasNode:
		return fromYAML(n.Alias)
	case yaml.MappingNode:
		o := &jsonx.Object{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := fromYAML(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			o.Set(n.Content[i].Value, v)
		}
		return o, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := fromYAML(e)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("line %d: %w", n.Line, err)
	}
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case uint64:
		return jsonx.Number(fmt.Sprint(x)), nil
	}
	return v, nil
}

// compareExports lists how the engine's exported schema document differs
// from dlt's, one readable line per difference.
func compareExports(want, got *jsonx.Object) []string {
	if want == nil || got == nil {
		if (want == nil) != (got == nil) {
			return []string{fmt.Sprintf("export: dlt has one: %v, the engine: %v", want != nil, got != nil)}
		}
		return nil
	}
	var d []string
	for _, k := range keyUnion(want, got) {
		if slices.Contains(skippedSchemaFields(), k) {
			continue
		}
		wv, _ := want.Get(k)
		gv, _ := got.Get(k)
		if k != "tables" {
			d = diffValue(d, "export: "+k, wv, gv)
			continue
		}
		wt, _ := wv.(*jsonx.Object)
		gt, _ := gv.(*jsonx.Object)
		d = append(d, compareExportTables(wt, gt)...)
	}
	return d
}

func compareExportTables(want, got *jsonx.Object) []string {
	if want == nil || got == nil {
		return []string{fmt.Sprintf("export: tables: dlt has them: %v, the engine: %v", want != nil, got != nil)}
	}
	var d []string
	for _, n := range keyUnion(want, got) {
		wv, wok := want.Get(n)
		gv, gok := got.Get(n)
		switch {
		case !gok:
			d = append(d, "export: table "+n+" is dlt's only")
			continue
		case !wok:
			d = append(d, "export: table "+n+" is the engine's only")
			continue
		}
		wt, _ := wv.(*jsonx.Object)
		gt, _ := gv.(*jsonx.Object)
		if wt == nil || gt == nil {
			d = diffValue(d, "export: table "+n, wv, gv)
			continue
		}
		for _, k := range keyUnion(wt, gt) {
			wv, _ := wt.Get(k)
			gv, _ := gt.Get(k)
			if k == "columns" {
				d = append(d, compareExportColumns(n, wv, gv)...)
				continue
			}
			d = diffValue(d, "export: table "+n+": "+k, wv, gv)
		}
	}
	return d
}

func compareExportColumns(table string, wv, gv any) []string {
	wc, _ := wv.(*jsonx.Object)
	gc, _ := gv.(*jsonx.Object)
	if wc == nil || gc == nil {
		return diffValue(nil, "export: table "+table+": columns", wv, gv)
	}
	var d []string
	if strings.Join(wc.Keys, ",") != strings.Join(gc.Keys, ",") {
		d = append(d, fmt.Sprintf("export: table %s: columns:\n    dlt:    %s\n    engine: %s", table, strings.Join(wc.Keys, ", "), strings.Join(gc.Keys, ", ")))
	}
	for i, name := range wc.Keys {
		g, ok := gc.Get(name)
		if !ok {
			continue
		}
		w, _ := wc.Values[i].(*jsonx.Object)
		gcol, _ := g.(*jsonx.Object)
		if w == nil || gcol == nil {
			d = diffValue(d, "export: "+table+"."+name, wc.Values[i], g)
			continue
		}
		for _, k := range keyUnion(w, gcol) {
			wv, wok := w.Get(k)
			gv, gok := gcol.Get(k)
			if k == "nullable" {
				// A column as a resource hinted it has no nullable in
				// dlt's schema; nullable is dlt's default.
				if !wok {
					wv = true
				}
				if !gok {
					gv = true
				}
			}
			d = diffValue(d, "export: "+table+"."+name+": "+k, wv, gv)
		}
	}
	return d
}

// keyUnion is a's keys in order, then b's that a lacks.
func keyUnion(a, b *jsonx.Object) []string {
	out := slices.Clone(a.Keys)
	for _, k := range b.Keys {
		if _, ok := a.Get(k); !ok {
			out = append(out, k)
		}
	}
	return out
}

// diffValue appends a line when want and got differ, descending into
// objects so the line names the field that differs (x-normalizer.seen-data,
// settings.default_hints.unique). Absent, null and false are alike.
func diffValue(d []string, path string, want, got any) []string {
	wo, wok := want.(*jsonx.Object)
	gobj, gok := got.(*jsonx.Object)
	if wok && gok {
		for _, k := range keyUnion(wo, gobj) {
			wv, _ := wo.Get(k)
			gv, _ := gobj.Get(k)
			d = diffValue(d, path+"."+k, wv, gv)
		}
		return d
	}
	ws, gs := exportValue(want), exportValue(got)
	if ws != gs {
		d = append(d, fmt.Sprintf("%s: dlt %s, engine %s", path, ws, gs))
	}
	return d
}

// exportValue prints a document value as compared: "-" for absent, null
// and false, compact JSON (object keys sorted) for the rest.
func exportValue(v any) string {
	if v == nil || v == false {
		return "-"
	}
	b, err := jsonx.Append(nil, plainObjects(v))
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// plainObjects turns ordered objects into Go maps, which print with sorted
// keys: inside a field, dlt's key order is not part of the comparison.
func plainObjects(v any) any {
	switch x := v.(type) {
	case *jsonx.Object:
		m := make(map[string]any, len(x.Keys))
		for i, k := range x.Keys {
			m[k] = plainObjects(x.Values[i])
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainObjects(e)
		}
		return out
	}
	return v
}
