package tomledit

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fuzzDocs are the documents of this package's tests: the commented
// workspace file and its golden edits.
func fuzzDocs(f *testing.F) []string {
	docs := []string{commented, "[a]\nb = 1", "[a]", "auth = { type = \"bearer\" }\n", "[[resources]]\nname = \"x\"\n",
		"[\"my table\"]\n\"odd key\" = 1\n", "x = 1\nruntime.auth_token = \"t\"", "a = [\n  1,\n  2, # two\n]\nb = \"\"\"\nx\n\"\"\"\n"}
	golden, _ := filepath.Glob(filepath.Join("testdata", "*.toml"))
	for _, g := range golden {
		b, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	return docs
}

// fuzzPath turns a fuzzed dotted key into a path, or nil when a part is
// empty.
func fuzzPath(key string) []string {
	path := strings.Split(key, ".")
	for _, p := range path {
		if p == "" {
			return nil
		}
	}
	return path
}

// flatLeaves maps every non-table value of a parsed document by its path.
func flatLeaves(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := tomlUnmarshal(doc, &m); err != nil {
		t.Fatalf("does not parse: %v\n%s", err, doc)
	}
	out := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			p := prefix + "\x00" + k
			if sub, ok := v.(map[string]any); ok {
				walk(p, sub)
				continue
			}
			out[p] = v
		}
	}
	walk("", m)
	return out
}

// valueAt reads the value at path of a document that parses.
func valueAt(doc []byte, path []string) (any, bool) {
	var m map[string]any
	if err := tomlUnmarshal(doc, &m); err != nil {
		return nil, false
	}
	var cur any = m
	for _, k := range path {
		t, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = t[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func sameTOML(a, b any) bool {
	ea, err1 := EncodeValue(a)
	eb, err2 := EncodeValue(b)
	return (err1 == nil && err2 == nil && ea == eb) || reflect.DeepEqual(a, b)
}

// keptLines checks that every line of before outside [from, to) appears in
// after, in order.
func keptLines(t *testing.T, before, after []byte, from, to int) {
	t.Helper()
	a := strings.SplitAfter(string(after), "\n")
	j, off := 0, 0
	for _, line := range strings.SplitAfter(string(before), "\n") {
		start := off
		off += len(line)
		if line == "" || (start < to && off > from) {
			continue
		}
		line = strings.TrimSuffix(line, "\n")
		for j < len(a) && strings.TrimSuffix(a[j], "\n") != line {
			j++
		}
		if j == len(a) {
			t.Fatalf("line %q lost or reordered:\n--- before\n%s\n--- after\n%s", line, before, after)
		}
		j++
	}
}

// FuzzSet holds for any document, key and command-line value: Set either
// refuses, leaving nothing to write, or returns a document that parses, has
// the value at the key, has every other value unchanged, keeps every line
// other than the edited key's in order (comments included), and does not
// change when the same value is set again.
func FuzzSet(f *testing.F) {
	docs := fuzzDocs(f)
	keys := []string{"runtime.log_level", "destination.warehouse.destination_type", "runtime.workspace_id", "destination.prod.destination_type",
		"description", "sources.github.client.retries", "sources.github.client.timeout", "sources.github.labels", "auth.token", "a.c", "my table.odd key"}
	values := []string{"INFO", "5432", "true", "[\"bug\", \"help wanted\"]", "{ a = 1 }", "1.5", "2024-01-01", "\"quoted\"", "", "nan", "line\nbreak"}
	for i, d := range docs {
		f.Add(d, keys[i%len(keys)], values[i%len(values)])
	}
	f.Fuzz(func(t *testing.T, doc, key, raw string) {
		path := fuzzPath(key)
		if path == nil {
			return
		}
		value := ParseValue(raw)
		out, err := Set([]byte(doc), path, value)
		if err != nil {
			if out != nil {
				t.Fatalf("refused (%v) but returned a document", err)
			}
			return
		}
		after := flatLeaves(t, out)
		target := "\x00" + strings.Join(path, "\x00")
		if got, ok := valueAt(out, path); !ok || !sameTOML(got, value) {
			t.Fatalf("%q reads back as %#v, want %#v:\n%s", key, got, value, out)
		}
		// Every other value is unchanged. A value at the key (or under it,
		// when it was an empty table) is the one that was replaced.
		for k, v := range flatLeaves(t, []byte(doc)) {
			if k == target || strings.HasPrefix(k, target+"\x00") {
				continue
			}
			if got, ok := after[k]; !ok || !sameTOML(got, v) {
				t.Fatalf("%q changed from %#v to %#v:\n%s", k, v, got, out)
			}
		}
		// Every line outside the replaced key-value survives in order.
		from, to := 0, 0
		if idx, err := index([]byte(doc)); err == nil {
			for _, kv := range idx.keyvals {
				if equal(kv.full, path) && !kv.inArray {
					from, to = lineStartOf([]byte(doc), kv.keyStart), lineEndOf([]byte(doc), kv.end)
				}
			}
		}
		keptLines(t, []byte(doc), out, from, to)
		again, err := Set(out, path, value)
		if err != nil || string(again) != string(out) {
			t.Fatalf("setting %q again: %v\n--- first\n%s\n--- second\n%s", key, err, out, again)
		}
	})
}

// FuzzDelete holds for any document and key: Delete refuses, or reports
// the key absent and returns the document as it was, or removes exactly
// that key: the result parses, lacks it, keeps every other value and every
// other line, and a second delete finds nothing.
func FuzzDelete(f *testing.F) {
	docs := fuzzDocs(f)
	keys := []string{"runtime.log_level", "runtime.auth_token", "sources.github.client.timeout", "a.b", "x", "auth.type", "my table.odd key"}
	for i, d := range docs {
		f.Add(d, keys[i%len(keys)])
	}
	f.Fuzz(func(t *testing.T, doc, key string) {
		path := fuzzPath(key)
		if path == nil {
			return
		}
		out, found, err := Delete([]byte(doc), path)
		if err != nil {
			return
		}
		if !found {
			if string(out) != doc {
				t.Fatalf("nothing deleted but the document changed:\n%s", out)
			}
			return
		}
		after := flatLeaves(t, out)
		target := "\x00" + strings.Join(path, "\x00")
		if _, ok := valueAt(out, path); ok {
			t.Fatalf("%q still there:\n%s", key, out)
		}
		for k, v := range flatLeaves(t, []byte(doc)) {
			if k == target || strings.HasPrefix(k, target+"\x00") {
				continue
			}
			if got, ok := after[k]; !ok || !sameTOML(got, v) {
				t.Fatalf("%q changed from %#v to %#v:\n%s", k, v, got, out)
			}
		}
		idx, _ := index([]byte(doc))
		for _, kv := range idx.keyvals {
			if equal(kv.full, path) && !kv.inArray {
				keptLines(t, []byte(doc), out, lineStartOf([]byte(doc), kv.keyStart), lineEndOf([]byte(doc), kv.end))
			}
		}
		if again, found, err := Delete(out, path); err != nil || found || string(again) != string(out) {
			t.Fatalf("second delete of %q: found %v, %v", key, found, err)
		}
	})
}
